//! What HTTP handlers and connections share: actor addresses and settings. Built
//! per server in `startup`, handed out as `web::Data` (no globals).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use std::net::IpAddr;

use actix::Addr;

use crate::actors::chat_server::{ChatServer, ConnId};
use crate::actors::db_sync::Db;
use crate::auth::JwtKeys;
use crate::client_addr::TrustedProxies;
use crate::error::AppError;
use crate::rate_limit::{KeyedLimiter, TokenBucket};

pub struct AppState {
    pub chat: Addr<ChatServer>,
    pub live: Addr<crate::actors::live_stream::LiveStream>,
    /// Viewers' reaction taps, counted here for the LiveStream's next flush.
    pub taps: Arc<crate::actors::live_stream::Taps>,
    /// Cluster mode only.
    pub cluster: Option<Addr<crate::actors::cluster::Cluster>>,
    /// Anonymous creations (connections, guest ids, tokenless posts) per client IP.
    pub ip_limiter: Arc<KeyedLimiter<IpAddr>>,
    /// Whose word on the client's address is taken (per-IP limits use that address).
    pub proxies: TrustedProxies,
    pub db: Db,
    pub keys: JwtKeys,
    /// Anonymous sessions' secrets, for REST callers that present one.
    pub secrets: crate::domain::anonymous::SessionSecrets,
    /// Each connection's frame rate: a full bucket, copied for every new connection.
    pub frame_rate: TokenBucket,
    /// Where attachments' bytes live (`file_store`).
    pub attachments_dir: std::path::PathBuf,
    /// Multipart bodies are read into memory (≤ 52 MB each): this many at once at most.
    pub upload_slots: tokio::sync::Semaphore,
    pub started: Instant,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Open connections, told to reconnect when the server restarts.
    pub drain: Arc<crate::drain::Drain>,
    /// Slow consumers cut off (a connection asks at its end whether it was one).
    pub evictions: Arc<crate::actors::delivery::Evictions>,
    /// Connection ids, shared with the Socket.IO engine so they never collide.
    next_conn_id: Arc<AtomicU64>,
}

impl AppState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        chat: Addr<ChatServer>,
        live: Addr<crate::actors::live_stream::LiveStream>,
        taps: Arc<crate::actors::live_stream::Taps>,
        cluster: Option<Addr<crate::actors::cluster::Cluster>>,
        db: Db,
        keys: JwtKeys,
        secrets: crate::domain::anonymous::SessionSecrets,
        frame_rate: TokenBucket,
        ip_limiter: Arc<KeyedLimiter<IpAddr>>,
        proxies: TrustedProxies,
        attachments_dir: std::path::PathBuf,
        metrics: Arc<crate::metrics::Metrics>,
        evictions: Arc<crate::actors::delivery::Evictions>,
    ) -> Arc<Self> {
        Arc::new(AppState {
            chat,
            live,
            taps,
            cluster,
            ip_limiter,
            proxies,
            db,
            keys,
            secrets,
            frame_rate,
            attachments_dir,
            upload_slots: tokio::sync::Semaphore::new(8),
            started: Instant::now(),
            metrics,
            evictions,
            drain: Default::default(),
            next_conn_id: Arc::new(AtomicU64::new(1)),
        })
    }

    /// Count one anonymous creation against the client's IP.
    pub fn allow_ip(&self, req: &actix_web::HttpRequest) -> Result<(), AppError> {
        let peer = req.peer_addr().map(|a| a.ip());
        let Some(ip) = self.proxies.client_ip(peer, req.headers()) else {
            return Ok(());
        };
        if self.allow_address(ip) {
            Ok(())
        } else {
            Err(AppError::rate_limited()
                .with_detail("too many new connections or conversations from this address"))
        }
    }

    /// Count one anonymous creation against `ip`; false (and counted as refused) when
    /// it is over the limit.
    pub fn allow_address(&self, ip: IpAddr) -> bool {
        let allowed = self.ip_limiter.allow(ip);
        if !allowed {
            self.metrics.rate_limited("addresses");
        }
        allowed
    }

    pub fn conn_ids(&self) -> Arc<AtomicU64> {
        self.next_conn_id.clone()
    }

    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }
}
