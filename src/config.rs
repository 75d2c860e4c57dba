//! Settings from CLI flags with environment fallbacks. Built once and passed by value:
//! there is no global configuration, so tests can run many servers in one process.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

const DEFAULT_HOST: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 3000;
const DEFAULT_DATA_DIR: &str = "./data";
const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024;
const DEFAULT_MAX_MESSAGE_CHARS: usize = 5000;
const DEFAULT_SIO_MAX_PAYLOAD: usize = 14_000_000;
const DEFAULT_RATE_PER_SEC: f64 = 10.0;
const DEFAULT_RATE_BURST: f64 = 30.0;
const DEFAULT_IDENTITY_RATE_PER_SEC: f64 = 5.0;
const DEFAULT_IDENTITY_RATE_BURST: f64 = 20.0;
const DEFAULT_IP_RATE_PER_SEC: f64 = 5.0;
const DEFAULT_IP_RATE_BURST: f64 = 60.0;
const DEFAULT_OUTBOUND_QUEUE: usize = 256;
const DEFAULT_HEARTBEAT: &str = "30s";
const DEFAULT_TYPING_TIMEOUT: &str = "10s";
const DEFAULT_AUTH_CODE_TTL: &str = "10m";
const DEFAULT_CLIENT_TIMEOUT: &str = "75s";
const DEFAULT_MAX_CONNECTIONS: usize = 100_000;
const DEFAULT_DB_POOL_SIZE: u32 = 8;
const DEFAULT_DB_TIMEOUT: &str = "2s";
const DEFAULT_LOG: &str = "info";
const DEFAULT_REDIS_PREFIX: &str = "switchboard";

#[derive(Debug, Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Self-hosted real-time support-chat and live-stream-chat server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Mint a JWT signed with the server's secret, for operators and tests.
    Token(TokenArgs),
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// admin, staff, agent, support (staff roles) or any other role (a customer).
    #[arg(long, default_value = "admin")]
    pub role: String,
    #[arg(long)]
    pub user_id: String,
    /// Display name; defaults to the user id.
    #[arg(long)]
    pub name: Option<String>,
    /// Lifetime, e.g. 30m, 12h, 7d.
    #[arg(long, default_value = "12h", value_parser = humantime::parse_duration)]
    pub ttl: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = DEFAULT_HOST, global = true)]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = DEFAULT_PORT, global = true)]
    pub port: u16,
    /// Directory for the SQLite database, attachments and the generated JWT secret.
    #[arg(long, env = "DATA_DIR", default_value = DEFAULT_DATA_DIR, global = true)]
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL, else a SQLite file path [default: DATA_DIR/switchboard.sqlite3].
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// HS256 secret shared with the host application. Unset: generated and kept in DATA_DIR.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,
    /// Comma-separated Origins allowed to open WebSockets (`*` for any). Empty: the
    /// public address only.
    #[arg(long, env = "ALLOWED_ORIGINS", value_delimiter = ',', global = true)]
    pub allowed_origins: Vec<String>,
    /// Where attachments' bytes are kept (default `DATA_DIR/attachments`). In cluster
    /// mode, one directory every node shares (a shared volume).
    #[arg(long, env = "ATTACHMENTS_DIR", global = true)]
    pub attachments_dir: Option<PathBuf>,
    /// Comma-separated addresses and networks (`10.0.0.0/8`) of reverse proxies whose
    /// `Forwarded` / `X-Forwarded-For` name the client. Empty: nobody's are believed.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',', global = true)]
    pub trusted_proxies: Vec<String>,
    /// The address people use to reach the server, e.g. `https://chat.example.com`.
    /// WebSocket and Socket.IO requests must name it in `Host` (and, without
    /// ALLOWED_ORIGINS, come from it). Unset: the loopback names and the listen address.
    #[arg(long, env = "PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// SameSite of the browser-key cookie that anonymous sessions are bound to: `lax`,
    /// `strict`, or `none` (needed to embed the widget on another site; implies
    /// Secure, so it needs HTTPS). The cookie is Secure whenever PUBLIC_URL is https.
    #[arg(long, env = "COOKIE_SAME_SITE", default_value = "lax", value_parser = ["lax", "strict", "none"], global = true)]
    pub cookie_same_site: String,
    /// Largest WebSocket frame accepted, in bytes; bigger frames close the connection (1009).
    #[arg(long, env = "MAX_FRAME_BYTES", default_value_t = DEFAULT_MAX_FRAME_BYTES, global = true)]
    pub max_frame_bytes: usize,
    /// Longest chat message, in characters.
    #[arg(long, env = "MAX_MESSAGE_CHARS", default_value_t = DEFAULT_MAX_MESSAGE_CHARS, global = true)]
    pub max_message_chars: usize,
    /// Sustained frames per second allowed per connection.
    #[arg(long, env = "RATE_LIMIT_PER_SEC", default_value_t = DEFAULT_RATE_PER_SEC, global = true)]
    pub rate_limit_per_sec: f64,
    /// Burst of frames allowed per connection above the sustained rate.
    #[arg(long, env = "RATE_LIMIT_BURST", default_value_t = DEFAULT_RATE_BURST, global = true)]
    pub rate_limit_burst: f64,
    /// Sustained messages per second one identity (user, or anonymous session) may post,
    /// over all its connections and REST together.
    #[arg(long, env = "IDENTITY_RATE_LIMIT_PER_SEC", default_value_t = DEFAULT_IDENTITY_RATE_PER_SEC, global = true)]
    pub identity_rate_limit_per_sec: f64,
    /// Burst of messages one identity may post above the sustained rate.
    #[arg(long, env = "IDENTITY_RATE_LIMIT_BURST", default_value_t = DEFAULT_IDENTITY_RATE_BURST, global = true)]
    pub identity_rate_limit_burst: f64,
    /// Sustained anonymous creations per second per client IP: WebSocket connections,
    /// guest ids, and REST messages without a token.
    #[arg(long, env = "IP_RATE_LIMIT_PER_SEC", default_value_t = DEFAULT_IP_RATE_PER_SEC, global = true)]
    pub ip_rate_limit_per_sec: f64,
    /// Burst of such creations per client IP.
    #[arg(long, env = "IP_RATE_LIMIT_BURST", default_value_t = DEFAULT_IP_RATE_BURST, global = true)]
    pub ip_rate_limit_burst: f64,
    /// Frames queued for one connection before it counts as stuck and is disconnected.
    #[arg(long, env = "OUTBOUND_QUEUE", default_value_t = DEFAULT_OUTBOUND_QUEUE, global = true)]
    pub outbound_queue: usize,
    /// A typing indicator not refreshed for this long is cleared, and others are told.
    #[arg(long, env = "TYPING_TIMEOUT", default_value = DEFAULT_TYPING_TIMEOUT, value_parser = humantime::parse_duration, global = true)]
    pub typing_timeout: Duration,
    /// How long an onboarding code stays valid.
    #[arg(long, env = "AUTH_CODE_TTL", default_value = DEFAULT_AUTH_CODE_TTL, value_parser = humantime::parse_duration, global = true)]
    pub auth_code_ttl: Duration,
    /// The longest live-stream chat line, until staff set another for a stream.
    #[arg(long, env = "STREAM_CHAT_MAX_CHARS", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=2000), global = true)]
    pub stream_chat_max_chars: u32,
    /// Live-stream chat lines a viewer may write a minute (0: no limit), until staff set
    /// another for a stream.
    #[arg(long, env = "STREAM_CHAT_PER_MINUTE", default_value_t = 60, value_parser = clap::value_parser!(u32).range(0..=600), global = true)]
    pub stream_chat_per_minute: u32,
    /// Assign each new conversation round-robin to an online agent with fewer than this
    /// many active conversations; 0 turns auto-assignment off.
    #[arg(long, env = "AUTO_ASSIGN_CAPACITY", default_value_t = 0, global = true)]
    pub auto_assign_capacity: i64,
    /// Resolve an active conversation, with a system message, once its customer has not
    /// written for this many minutes; 0 turns it off.
    #[arg(long, env = "AUTO_RESOLVE_MINUTES", default_value_t = 0.0, value_parser = non_negative_minutes, global = true)]
    pub auto_resolve_minutes: f64,
    /// How often the server pings each WebSocket.
    #[arg(long, env = "HEARTBEAT_INTERVAL", default_value = DEFAULT_HEARTBEAT, value_parser = humantime::parse_duration, global = true)]
    pub heartbeat_interval: Duration,
    /// A WebSocket silent for this long (no frame, no pong) is closed.
    #[arg(long, env = "CLIENT_TIMEOUT", default_value = DEFAULT_CLIENT_TIMEOUT, value_parser = humantime::parse_duration, global = true)]
    pub client_timeout: Duration,
    /// Socket.IO: how often the server pings each session.
    #[arg(long, env = "SIO_PING_INTERVAL", default_value = "25s", value_parser = humantime::parse_duration, global = true)]
    pub sio_ping_interval: Duration,
    /// Socket.IO: a session that does not answer a ping within this is closed.
    #[arg(long, env = "SIO_PING_TIMEOUT", default_value = "20s", value_parser = humantime::parse_duration, global = true)]
    pub sio_ping_timeout: Duration,
    /// Socket.IO: largest message (and polling request body) in bytes. The default fits
    /// one 10 MB file sent as base64 (seed 001).
    #[arg(long, env = "SIO_MAX_PAYLOAD", default_value_t = DEFAULT_SIO_MAX_PAYLOAD, global = true)]
    pub sio_max_payload: usize,
    /// Socket.IO: a session that connects no namespace within this is closed.
    #[arg(long, env = "SIO_CONNECT_TIMEOUT", default_value = "45s", value_parser = humantime::parse_duration, global = true)]
    pub sio_connect_timeout: Duration,
    /// Connections per worker thread (actix's default of 25k is too low for chat).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS, global = true)]
    pub max_connections: usize,
    /// HTTP worker threads [default: one per core].
    #[arg(long, env = "WORKERS", global = true)]
    pub workers: Option<usize>,
    /// Database connections in the pool.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = DEFAULT_DB_POOL_SIZE, global = true)]
    pub db_pool_size: u32,
    /// How long a request waits for a database connection (SQLite: for the write lock)
    /// before it fails with 503 `unavailable`.
    #[arg(long, env = "DB_TIMEOUT", default_value = DEFAULT_DB_TIMEOUT, value_parser = humantime::parse_duration, global = true)]
    pub db_timeout: Duration,
    /// Cluster mode: several Switchboard processes share one PostgreSQL database and
    /// talk through this Redis (`redis://host:6379/0`). Unset: one node, no Redis.
    #[arg(long, env = "REDIS_URL", hide_env_values = true, global = true)]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and channel, so that several clusters can share
    /// one Redis.
    #[arg(long, env = "REDIS_PREFIX", default_value = DEFAULT_REDIS_PREFIX, global = true)]
    pub redis_prefix: String,
    /// Let webhook URLs resolve to loopback, private and link-local addresses (a
    /// receiver on the same host or network; tests).
    #[arg(long, env = "ALLOW_PRIVATE_WEBHOOKS", global = true)]
    pub allow_private_webhooks: bool,
    /// Webhook endpoints kept in line with the configuration at every start, as a JSON
    /// array of `{id, url, events, secret, description?, enabled?}`.
    #[arg(long, env = "WEBHOOK_ENDPOINTS", hide_env_values = true, global = true)]
    pub webhook_endpoints: Option<String>,
    /// When a webhook that failed is tried again: the wait before each attempt, the
    /// first included (comma-separated; as many attempts as entries).
    #[arg(long, env = "WEBHOOK_RETRY_SCHEDULE", value_delimiter = ',', value_parser = humantime::parse_duration, default_value = "0s,5s,5m,30m,2h,5h,10h,10h", global = true)]
    pub webhook_retry_schedule: Vec<Duration>,
    /// Uploaded files no message took within this are deleted.
    #[arg(long, env = "UPLOAD_RETENTION", default_value = "24h", value_parser = humantime::parse_duration, global = true)]
    pub upload_retention: Duration,
    /// On SIGTERM (or Ctrl-C): how long draining may take before the process exits.
    #[arg(long, env = "SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration, global = true)]
    pub shutdown_timeout: Duration,
    /// Serve HTTPS and WSS with this certificate chain (PEM); needs TLS_KEY. Read
    /// again on SIGHUP and when the file changes.
    #[arg(long, env = "TLS_CERT", global = true)]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "TLS_KEY", global = true)]
    pub tls_key: Option<PathBuf>,
    /// Serve `GET /metrics` (Prometheus) on this address only, e.g. `127.0.0.1:9100`,
    /// instead of on the main port.
    #[arg(long, env = "METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<String>,
    /// When set, `GET /metrics` needs `Authorization: Bearer <this>`.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,
    /// This process's name in the cluster [default: generated at start].
    #[arg(long, env = "NODE_ID", global = true)]
    pub node_id: Option<String>,
    /// `text` for people, `json` (one object per line) for log shippers.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: crate::logging::LogFormat,
    /// Log filter, e.g. `info` or `switchboard=debug`.
    #[arg(long = "log", env = "RUST_LOG", default_value = DEFAULT_LOG, global = true)]
    pub log: String,
}

impl Config {
    /// The defaults, without reading flags or the environment (for embedding and tests).
    pub fn defaults() -> Self {
        Config {
            host: DEFAULT_HOST.into(),
            port: DEFAULT_PORT,
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            database_url: None,
            jwt_secret: None,
            allowed_origins: Vec::new(),
            attachments_dir: None,
            trusted_proxies: Vec::new(),
            public_url: None,
            cookie_same_site: "lax".into(),
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_message_chars: DEFAULT_MAX_MESSAGE_CHARS,
            rate_limit_per_sec: DEFAULT_RATE_PER_SEC,
            rate_limit_burst: DEFAULT_RATE_BURST,
            identity_rate_limit_per_sec: DEFAULT_IDENTITY_RATE_PER_SEC,
            identity_rate_limit_burst: DEFAULT_IDENTITY_RATE_BURST,
            ip_rate_limit_per_sec: DEFAULT_IP_RATE_PER_SEC,
            ip_rate_limit_burst: DEFAULT_IP_RATE_BURST,
            outbound_queue: DEFAULT_OUTBOUND_QUEUE,
            heartbeat_interval: parse_duration(DEFAULT_HEARTBEAT),
            typing_timeout: parse_duration(DEFAULT_TYPING_TIMEOUT),
            auth_code_ttl: parse_duration(DEFAULT_AUTH_CODE_TTL),
            auto_assign_capacity: 0,
            auto_resolve_minutes: 0.0,
            stream_chat_max_chars: 500,
            stream_chat_per_minute: 60,
            client_timeout: parse_duration(DEFAULT_CLIENT_TIMEOUT),
            sio_ping_interval: Duration::from_secs(25),
            sio_ping_timeout: Duration::from_secs(20),
            sio_max_payload: DEFAULT_SIO_MAX_PAYLOAD,
            sio_connect_timeout: Duration::from_secs(45),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            workers: None,
            db_pool_size: DEFAULT_DB_POOL_SIZE,
            db_timeout: parse_duration(DEFAULT_DB_TIMEOUT),
            redis_url: None,
            redis_prefix: DEFAULT_REDIS_PREFIX.into(),
            log_format: crate::logging::LogFormat::Text,
            allow_private_webhooks: false,
            webhook_endpoints: None,
            webhook_retry_schedule: [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
                .map(Duration::from_secs)
                .to_vec(),
            upload_retention: Duration::from_secs(24 * 3600),
            shutdown_timeout: Duration::from_secs(10),
            tls_cert: None,
            tls_key: None,
            metrics_listen: None,
            metrics_token: None,
            node_id: None,
            log: DEFAULT_LOG.into(),
        }
    }

    /// The Redis URL when cluster mode is on.
    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url.as_deref().filter(|u| !u.trim().is_empty())
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| crate::db::default_sqlite_url(&self.data_dir))
    }
}

fn parse_duration(s: &str) -> Duration {
    humantime::parse_duration(s).unwrap_or(Duration::from_secs(30))
}

/// A number of minutes, 0 or more (fractions allowed).
fn non_negative_minutes(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(m) if m.is_finite() && m >= 0.0 => Ok(m),
        _ => Err(format!("{s:?} is not a number of minutes (0 or more)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_match_clap() {
        let parsed = Cli::try_parse_from(["switchboard"]).unwrap().config;
        let d = Config::defaults();
        // The environment may override clap's defaults; compare where it does not.
        if std::env::var_os("HEARTBEAT_INTERVAL").is_none() {
            assert_eq!(parsed.heartbeat_interval, d.heartbeat_interval);
        }
        if std::env::var_os("CLIENT_TIMEOUT").is_none() {
            assert_eq!(parsed.client_timeout, d.client_timeout);
        }
        assert_eq!(d.heartbeat_interval, Duration::from_secs(30));
    }
}
