//! What HTTP handlers and connections share: actor addresses and settings. Built
//! per server in `startup`, handed out as `web::Data` (no globals).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Addr;

use crate::actors::chat_server::{ChatServer, ConnId};
use crate::actors::db_sync::Db;
use crate::auth::JwtKeys;

/// Per-connection limits, from the configuration.
#[derive(Debug, Clone)]
pub struct ConnSettings {
    pub heartbeat_interval: Duration,
    pub client_timeout: Duration,
    pub max_frame_bytes: usize,
    pub rate_per_sec: f64,
    pub rate_burst: f64,
    pub outbound_queue: usize,
    pub allowed_origins: Vec<String>,
}

pub struct AppState {
    pub chat: Addr<ChatServer>,
    pub db: Db,
    pub keys: JwtKeys,
    pub conn: ConnSettings,
    pub started: Instant,
    next_conn_id: AtomicU64,
}

impl AppState {
    pub fn new(chat: Addr<ChatServer>, db: Db, keys: JwtKeys, conn: ConnSettings) -> Arc<Self> {
        Arc::new(AppState {
            chat,
            db,
            keys,
            conn,
            started: Instant::now(),
            next_conn_id: AtomicU64::new(1),
        })
    }

    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }
}
