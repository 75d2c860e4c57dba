//! Database access: one connection type over SQLite and PostgreSQL, the r2d2 pool,
//! embedded migrations, and the queries the DbSync actor runs.

pub mod convert;
pub mod health;
pub mod models;
pub mod reads;
pub mod schema;
pub mod writes;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{Pool, PooledConnection, R2D2Connection};
use diesel::{Connection, PgConnection, SqliteConnection};

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
pub use health::DbHealth;

/// One connection type for both backends, chosen at run time from `DATABASE_URL`.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

pub type DbPool = Pool<DbManager>;
pub type PooledDb = PooledConnection<DbManager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any storage failure. The message is for logs; clients get a generic error, or
/// `unavailable` for an outage (see `health::outage`).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("migrations: {0}")]
    Migration(String),
    #[error("database unavailable")]
    Unavailable,
}

/// An outage is `unavailable` (DbSync has logged it, once); anything else is a bug or
/// a broken invariant, logged here.
impl From<DbError> for crate::error::AppError {
    fn from(e: DbError) -> Self {
        if health::outage(&e).is_some() {
            return crate::error::AppError::unavailable();
        }
        log::error!("{e}");
        crate::error::AppError::internal()
    }
}

/// Where the database is and how long to wait for it.
#[derive(Debug, Clone)]
pub struct DbSettings {
    pub url: String,
    pub pool_size: u32,
    /// How long a request waits for a pooled connection (SQLite: for the write lock)
    /// before it fails with `unavailable`.
    pub timeout: Duration,
}

impl DbSettings {
    /// One connection and the default wait, for tools and tests.
    pub fn for_url(url: &str) -> Self {
        DbSettings {
            url: url.to_owned(),
            pool_size: 1,
            timeout: Duration::from_secs(2),
        }
    }

    fn postgres(&self) -> bool {
        is_postgres_url(&self.url)
    }

    /// libpq's connection settings, unless the URL sets them: wait `timeout` for a
    /// connection, and give up on one whose peer stops answering (a network that
    /// drops everything) within seconds rather than the kernel's quarter of an hour.
    fn postgres_url(&self) -> String {
        let secs = self.timeout.as_secs().max(1);
        let wanted = [
            ("connect_timeout", secs.to_string()),
            ("keepalives", "1".into()),
            ("keepalives_idle", "5".into()),
            ("keepalives_interval", "2".into()),
            ("keepalives_count", "2".into()),
            ("tcp_user_timeout", (secs * 1000 + 3000).to_string()),
        ];
        let mut url = self.url.clone();
        for (name, value) in wanted {
            if !url.contains(&format!("{name}=")) {
                let sep = if url.contains('?') { '&' } else { '?' };
                url = format!("{url}{sep}{name}={value}");
            }
        }
        url
    }

    /// Open one connection of the configured backend, with the real cause on failure.
    /// (`MultiConnection::establish` tries every backend in turn and keeps none of
    /// their errors: it reports "Invalid connection url" when PostgreSQL is down.)
    pub fn connect(&self) -> Result<DbConnection, diesel::ConnectionError> {
        if self.postgres() {
            return PgConnection::establish(&self.postgres_url()).map(DbConnection::Pg);
        }
        let mut conn = SqliteConnection::establish(&self.url)?;
        // WAL lets readers run beside the one writer; FULL makes every commit durable
        // before we acknowledge it (group commit amortises the fsync).
        let setup = format!(
            "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            self.timeout.as_millis()
        );
        conn.batch_execute(&setup)
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
        Ok(DbConnection::Sqlite(conn))
    }
}

/// r2d2's view of our connections: the configured backend only.
#[derive(Debug, Clone)]
pub struct DbManager {
    settings: DbSettings,
}

impl r2d2::ManageConnection for DbManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        self.settings
            .connect()
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        R2D2Connection::ping(conn).map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || R2D2Connection::is_broken(conn)
    }
}

/// r2d2 logs every failed connection attempt at error level; during an outage that
/// is many lines a second. They go to `DbHealth`, which logs an outage once.
#[derive(Debug)]
struct ReportToHealth(Arc<DbHealth>, Arc<crate::metrics::Metrics>);

impl r2d2::HandleError<diesel::r2d2::Error> for ReportToHealth {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        self.1.db_pool_errors.inc();
        self.0
            .report_down(health::Access::All, &health::first_line(&error));
    }
}

/// Which backend a `DATABASE_URL` selects.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The default database: a SQLite file inside the data directory.
pub fn default_sqlite_url(data_dir: &Path) -> String {
    data_dir
        .join("switchboard.sqlite3")
        .to_string_lossy()
        .into_owned()
}

/// Build the pool. SQLite paths get their parent directory created. Connections are
/// opened at once (the pool is full before it is used).
pub fn build_pool(
    settings: &DbSettings,
    health: Arc<DbHealth>,
    metrics: Arc<crate::metrics::Metrics>,
) -> Result<DbPool, DbError> {
    create_sqlite_dir(settings)?;
    let pool = Pool::builder()
        .max_size(settings.pool_size.max(1))
        .connection_timeout(settings.timeout)
        .error_handler(Box::new(ReportToHealth(health, metrics.clone())))
        .event_handler(Box::new(PoolMetrics(metrics)))
        .build(DbManager {
            settings: settings.clone(),
        })?;
    Ok(pool)
}

/// Waits for a pooled connection, and the waits that ended without one (failed
/// connects count as errors in `ReportToHealth`).
#[derive(Debug)]
struct PoolMetrics(Arc<crate::metrics::Metrics>);

impl r2d2::HandleEvent for PoolMetrics {
    fn handle_checkout(&self, event: r2d2::event::CheckoutEvent) {
        self.0.db_pool_wait.observe(event.duration().as_secs_f64());
    }

    fn handle_timeout(&self, _: r2d2::event::TimeoutEvent) {
        self.0.db_pool_errors.inc();
    }
}

fn create_sqlite_dir(settings: &DbSettings) -> Result<(), DbError> {
    if settings.postgres() {
        return Ok(());
    }
    match Path::new(&settings.url).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)
            .map_err(|e| DbError::Migration(format!("create {}: {e}", parent.display()))),
        _ => Ok(()),
    }
}

/// Run the embedded migrations of the backend, on a connection of their own, before
/// the pool exists: on SQLite, pool connections opening while a migration holds the
/// write lock would fail with "database is locked".
pub fn run_migrations(settings: &DbSettings) -> Result<(), DbError> {
    create_sqlite_dir(settings)?;
    let mut conn = settings
        .connect()
        .map_err(|e| DbError::Migration(format!("connect: {e}")))?;
    let result = match &mut conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        DbConnection::Pg(c) => {
            // Several instances may start at once against one database.
            c.batch_execute("SELECT pg_advisory_lock(7406319);")?;
            let r = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ());
            c.batch_execute("SELECT pg_advisory_unlock(7406319);")?;
            r
        }
    };
    result.map_err(|e| DbError::Migration(e.to_string()))
}
