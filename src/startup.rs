//! Build pool → run migrations → start actors → bind listener → HTTP server.

use std::net::{SocketAddr, TcpListener};

use actix::Actor;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App};

use crate::actors::chat_server::{ChatLimits, ChatServer};
use crate::actors::db_sync::Db;
use crate::auth::{resolve_secret, JwtKeys, SecretSource};
use crate::config::Config;
use crate::db;
use crate::domain::anonymous::SessionSecrets;
use crate::state::AppState;
use crate::transport::browser_key::CookieSettings;
use crate::transport::origin::OriginPolicy;
use crate::transport::ConnSettings;
use actix_web::cookie::SameSite;

/// Writes gathered into one transaction at most.
const MAX_BATCH: usize = 512;

/// A bound, not yet running server. Await `server` (or spawn it) to serve.
pub struct Running {
    /// Drains and stops the server (on SIGTERM).
    pub shutdown: Shutdown,
    /// Where `GET /metrics` is served when `METRICS_LISTEN` moved it off the main port.
    pub metrics_addr: Option<SocketAddr>,
    /// Strong count 1 once the database workers have closed their connections.
    pub db_alive: std::sync::Arc<()>,
    pub addr: SocketAddr,
    pub server: Server,
    pub handle: ServerHandle,
    pub secret_source: SecretSource,
    pub keys: JwtKeys,
    /// On a local try-out (no `JWT_SECRET` configured): the agent console with a
    /// short-lived admin token, so a newcomer is in with one click.
    pub admin_link: Option<String>,
}

/// How long the first-run link's token lasts.
const ADMIN_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("bind {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("configuration: {0}")]
    Config(String),
}

/// Start everything for one server. Must run inside an actix system.
pub fn start(config: Config) -> Result<Running, StartError> {
    let data_dir = config.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| StartError::DataDir(data_dir.display().to_string(), e))?;
    let (secret, secret_source) = resolve_secret(config.jwt_secret.as_deref(), &data_dir)
        .map_err(|e| StartError::DataDir(data_dir.display().to_string(), e))?;
    let keys = JwtKeys::new(secret.as_bytes());

    if config.redis_url().is_some() && !db::is_postgres_url(&config.database_url()) {
        return Err(StartError::Config(
            "REDIS_URL (cluster mode) needs PostgreSQL, shared by every node: set \
             DATABASE_URL to a postgres:// URL"
                .into(),
        ));
    }
    let tls = tls_config(&config)?;
    let db_settings = db::DbSettings {
        url: config.database_url(),
        pool_size: config.db_pool_size,
        timeout: config.db_timeout,
    };
    db::run_migrations(&db_settings)?;
    let health = std::sync::Arc::new(db::DbHealth::default());
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::new());
    let pool = db::build_pool(&db_settings, health.clone(), metrics.clone())?;
    log::info!(
        "database ready ({})",
        if db::is_postgres_url(&db_settings.url) {
            "postgres"
        } else {
            "sqlite"
        }
    );

    if let Some(json) = config
        .webhook_endpoints
        .as_deref()
        .filter(|j| !j.trim().is_empty())
    {
        let seeded = crate::domain::webhook::seeded(json).map_err(StartError::Config)?;
        let count = seeded.len();
        let write: Box<dyn crate::db::writes::AnyWrite> =
            Box::new(crate::domain::writes::SeedEndpoints(seeded));
        let mut conn = pool.get().map_err(db::DbError::from)?;
        let outcome = db::writes::apply_batch(&mut conn, &[write])?;
        if let Some(Err(e)) = outcome.into_iter().next() {
            return Err(StartError::Config(format!("WEBHOOK_ENDPOINTS: {e}")));
        }
        log::info!("{count} webhook endpoints from WEBHOOK_ENDPOINTS");
    }
    // A stream that was live when the server last stopped goes on from the first
    // request (read before the writers start).
    let (resumed, rules) = pool.get().map_err(db::DbError::from).and_then(|mut c| {
        let resumed =
            db::reads::running_stream(&mut c, crate::actors::live_stream::HISTORY as i64)?;
        Ok((resumed, db::reads::channel_rules(&mut c)?))
    })?;
    // Central actors start once, outside the HttpServer factory, and are shared.
    let db_threads = (config.db_pool_size as usize).clamp(1, 4);
    let db_alive = std::sync::Arc::new(());
    let db = Db::start(
        pool,
        db_settings,
        health,
        db_threads,
        MAX_BATCH,
        db_alive.clone(),
        metrics.clone(),
    );
    let limits = ChatLimits {
        max_message_chars: config.max_message_chars,
        max_history_page: 200,
        post_rate_per_sec: config.identity_rate_limit_per_sec,
        post_burst: config.identity_rate_limit_burst,
        typing_ttl: config.typing_timeout,
        auth_code_ttl: config.auth_code_ttl,
        auto_assign_capacity: config.auto_assign_capacity,
        auto_resolve_after: (config.auto_resolve_minutes > 0.0)
            .then(|| std::time::Duration::from_secs_f64(config.auto_resolve_minutes * 60.0)),
    };
    let code_pepper = crate::domain::auth_code::hash(&secret, "auth-code-pepper");
    let evictions = std::sync::Arc::new(crate::actors::delivery::Evictions::new(
        metrics.outbound_cutoffs.clone(),
    ));
    let secrets = SessionSecrets::new(&secret);
    let bind = format!("{}:{}", config.host, config.port);
    let listener = TcpListener::bind(&bind).map_err(|e| StartError::Bind(bind.clone(), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Bind(bind.clone(), e))?;

    let cluster = match config.redis_url() {
        Some(url) => Some(
            crate::actors::cluster::start(crate::actors::cluster::ClusterSettings {
                redis_url: url.to_owned(),
                prefix: config.redis_prefix.clone(),
                node_id: config.node_id.clone().unwrap_or_else(|| {
                    format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
                }),
                addr: addr.to_string(),
                metrics: metrics.clone(),
            })
            .map_err(StartError::Config)?,
        ),
        None => None,
    };

    let chat = ChatServer::new(
        db.clone(),
        limits,
        code_pepper,
        secrets.clone(),
        evictions.clone(),
        cluster.clone(),
        metrics.clone(),
    )
    .start();
    if let Some(cluster) = &cluster {
        cluster.do_send(crate::actors::cluster::ChatFromNodes {
            events: chat.clone().recipient(),
            staff: chat.clone().recipient(),
            gone: chat.clone().recipient(),
            missed: chat.clone().recipient(),
            owners: chat.clone().recipient(),
            share_members: chat.clone().recipient(),
            members: chat.clone().recipient(),
        });
    }
    let live = crate::actors::live_stream::LiveStream::new(
        db.clone(),
        evictions.clone(),
        cluster.clone(),
        metrics.clone(),
        resumed,
        crate::domain::stream::ChatSettings {
            slow_mode_seconds: 0,
            max_chars: config.stream_chat_max_chars,
            per_minute: config.stream_chat_per_minute,
        },
        rules,
    );
    let taps = live.taps();
    let live = live.start();
    if let Some(cluster) = &cluster {
        cluster.do_send(crate::actors::cluster::StreamFromNodes {
            events: live.clone().recipient(),
            remote: live.clone().recipient(),
            resync: live.clone().recipient(),
        });
    }

    let origins = OriginPolicy::new(&config.allowed_origins, config.public_url.as_deref(), addr)
        .map_err(StartError::Config)?;
    if config.public_url.is_none()
        && config.allowed_origins.is_empty()
        && addr.ip().is_unspecified()
    {
        log::warn!(
            "listening on {addr} without PUBLIC_URL: WebSockets are accepted only by loopback \
             names; set PUBLIC_URL to the address people use"
        );
    }
    let limits = crate::transport::ws_connection::Limits {
        heartbeat_interval: config.heartbeat_interval,
        client_timeout: config.client_timeout,
        max_message_bytes: config.max_frame_bytes,
        rate_per_sec: config.rate_limit_per_sec,
        rate_burst: config.rate_limit_burst,
        outbound_queue: config.outbound_queue.max(1),
    };
    let conn = ConnSettings {
        limits,
        origins,
        cookie: CookieSettings {
            same_site: match config.cookie_same_site.as_str() {
                "strict" => SameSite::Strict,
                "none" => SameSite::None,
                _ => SameSite::Lax,
            },
            secure: config
                .public_url
                .as_deref()
                .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://")),
            tls: tls.is_some(),
        },
    };
    let ip_limiter = std::sync::Arc::new(crate::rate_limit::KeyedLimiter::new(
        config.ip_rate_limit_per_sec,
        config.ip_rate_limit_burst,
    ));
    if let Some(cluster) = &cluster {
        cluster.do_send(crate::actors::cluster::ShareAllowance {
            name: "addresses",
            limiter: ip_limiter.clone(),
        });
    }
    let proxies = crate::client_addr::TrustedProxies::parse(&config.trusted_proxies)
        .map_err(StartError::Config)?;
    let state = AppState::new(
        chat,
        live,
        taps,
        cluster,
        db,
        keys.clone(),
        secrets,
        crate::rate_limit::TokenBucket::new(limits.rate_per_sec, limits.rate_burst),
        ip_limiter,
        proxies.clone(),
        attachments_dir(&config, &data_dir),
        metrics.clone(),
        evictions.clone(),
    );

    crate::actors::webhook_sender::WebhookSender::new(
        state.db.clone(),
        config.webhook_retry_schedule.clone(),
        config.allow_private_webhooks,
    )
    .start();
    crate::actors::housekeeping::Housekeeping {
        chat: state.chat.clone(),
        attachments_dir: state.attachments_dir.clone(),
        upload_retention: config.upload_retention,
    }
    .start();
    let sio = crate::transport::socketio::Engine::<crate::dialects::sio::ChatSocket>::new(
        crate::transport::socketio::Settings {
            ping_interval: config.sio_ping_interval,
            ping_timeout: config.sio_ping_timeout,
            max_payload: config.sio_max_payload,
            connect_timeout: config.sio_connect_timeout,
            outbound_queue: config.outbound_queue.max(1),
            recovery: Some(std::time::Duration::from_secs(120)),
            origins: conn.origins.clone(),
            proxies: proxies.clone(),
            metrics: metrics.clone(),
        },
        state.clone(),
        state.conn_ids(),
    );
    let state_origins = conn.origins.clone();
    let sio = web::Data::new(sio);
    let sio_engine = sio.clone();
    let data = web::Data::new(state);
    let app_data = data.clone();
    let conn = web::Data::new(conn);
    let access = web::Data::new(crate::api::metrics::MetricsAccess::new(
        config.metrics_token.as_deref(),
    ));
    let metrics_addr = match &config.metrics_listen {
        Some(listen) => Some(serve_metrics(listen, data.clone(), access.clone())?),
        None => None,
    };
    let metrics_here = metrics_addr.is_none();
    let webhooks = web::Data::new(crate::api::webhooks::WebhookSettings {
        allow_private: config.allow_private_webhooks,
    });
    let app = move || {
        App::new()
            .app_data(data.clone())
            .app_data(conn.clone())
            .app_data(sio.clone())
            .app_data(access.clone())
            .app_data(webhooks.clone())
            .wrap(actix_web::middleware::from_fn(crate::api::browser_key))
            .wrap(actix_web::middleware::from_fn(
                crate::api::access_log::access_log,
            ))
            .configure(|cfg| {
                if metrics_here {
                    cfg.route("/metrics", web::get().to(crate::api::metrics::metrics));
                }
            })
            .configure(crate::api::configure)
    };
    let settings = crate::transport::http_server::Settings {
        workers: config.workers,
        max_connections: config.max_connections,
        client_timeout: config.client_timeout,
        tls,
    };
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let server = crate::transport::http_server::serve(listener, settings, app)
        .map_err(|e| StartError::Bind(bind, e))?;
    let handle = server.handle();
    log::info!("listening on {scheme}://{addr}");
    let admin_link = (secret_source != SecretSource::Configured).then(|| {
        let token = keys.mint("local-admin", "admin", "Local admin", ADMIN_LINK_TTL);
        let base = state_origins.public_base(addr, scheme);
        format!("{base}/admin#token={token}")
    });
    let shutdown = Shutdown {
        state: app_data.get_ref().clone(),
        sio: sio_engine.get_ref().clone(),
        handle: handle.clone(),
        timeout: config.shutdown_timeout,
    };
    Ok(Running {
        shutdown,
        metrics_addr,
        admin_link,
        db_alive,
        addr,
        server,
        handle,
        secret_source,
        keys,
    })
}

/// A graceful stop: stop accepting, tell every connection to reconnect (WebSockets
/// close with 1012, Socket.IO sessions close their transport), let the writes in
/// flight commit, then stop, all within `SHUTDOWN_TIMEOUT`.
#[derive(Clone)]
pub struct Shutdown {
    state: std::sync::Arc<AppState>,
    sio: std::sync::Arc<crate::transport::socketio::Engine<crate::dialects::sio::ChatSocket>>,
    handle: ServerHandle,
    timeout: std::time::Duration,
}

impl Shutdown {
    pub async fn run(&self) {
        use std::time::{Duration, Instant};
        let deadline = Instant::now() + self.timeout;
        self.handle.pause().await;
        let sockets = self.state.drain.begin();
        let sessions = self.sio.restart_all();
        log::info!(
            "shutting down: {sockets} WebSockets and {sessions} Socket.IO sessions told to \
             reconnect; waiting up to {:?}",
            self.timeout
        );
        // The live stream's state is stored, so the next process resumes it.
        if let Err(e) = self
            .state
            .live
            .send(crate::actors::live_stream::Checkpoint)
            .await
        {
            log::warn!("the live stream's state was not stored: {e}");
        }
        // Connections end as they are told; writes already queued commit.
        loop {
            let writer = self
                .state
                .db
                .writer
                .send(crate::actors::db_sync::GetWriterStats);
            let idle = matches!(
                tokio::time::timeout(Duration::from_millis(500), writer).await,
                Ok(Ok(w)) if w.queued == 0 && !w.in_flight
            );
            if idle && self.state.drain.open() == 0 && self.sio.open() == 0 {
                break;
            }
            if Instant::now() + Duration::from_millis(100) >= deadline {
                log::warn!(
                    "shutdown timeout: {} connections still open",
                    self.state.drain.open() + self.sio.open()
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, self.handle.stop(true))
            .await
            .is_err()
        {
            self.handle.stop(false).await;
        }
        log::info!("stopped");
    }
}

/// TLS from `TLS_CERT` and `TLS_KEY` (both or neither), reloaded as they change.
fn tls_config(config: &Config) -> Result<Option<rustls::ServerConfig>, StartError> {
    match (&config.tls_cert, &config.tls_key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => {
            let certificates =
                crate::transport::tls::Certificates::load(cert, key).map_err(StartError::Config)?;
            let server = certificates.server_config().map_err(StartError::Config)?;
            certificates.watch();
            Ok(Some(server))
        }
        _ => Err(StartError::Config(
            "TLS_CERT and TLS_KEY go together: set both, or neither".into(),
        )),
    }
}

/// `GET /metrics` on an address of its own (`METRICS_LISTEN`), away from the public
/// port: one worker, nothing else served. Runs beside the main server.
fn serve_metrics(
    listen: &str,
    data: web::Data<std::sync::Arc<AppState>>,
    access: web::Data<crate::api::metrics::MetricsAccess>,
) -> Result<SocketAddr, StartError> {
    let bind = |e| StartError::Bind(listen.to_owned(), e);
    let listener = TcpListener::bind(listen).map_err(bind)?;
    let addr = listener.local_addr().map_err(bind)?;
    let server = actix_web::HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(access.clone())
            .route("/metrics", web::get().to(crate::api::metrics::metrics))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .map_err(bind)?
    .run();
    actix_web::rt::spawn(server);
    log::info!("metrics on http://{addr}/metrics");
    Ok(addr)
}

/// Where attachments' bytes go. Several nodes with one each would not find each
/// other's files: in cluster mode the directory must be one they share.
fn attachments_dir(config: &Config, data_dir: &std::path::Path) -> std::path::PathBuf {
    match &config.attachments_dir {
        Some(dir) => dir.clone(),
        None => {
            if config.redis_url().is_some() {
                log::warn!(
                    "cluster mode with attachments in this node's DATA_DIR: files uploaded \
                     here are not found on the other nodes; set ATTACHMENTS_DIR to a \
                     directory every node shares"
                );
            }
            data_dir.join("attachments")
        }
    }
}
