//! Database access: one connection type over SQLite and PostgreSQL, the r2d2 pool,
//! embedded migrations, and the queries the DbSync actor runs.

pub mod models;
pub mod queries;
pub mod schema;

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// One connection type for both backends, chosen at run time from `DATABASE_URL`.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

pub type DbPool = Pool<ConnectionManager<DbConnection>>;
pub type PooledDb = PooledConnection<ConnectionManager<DbConnection>>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any storage failure. The message is for logs; clients get a generic error.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("migrations: {0}")]
    Migration(String),
    #[error("database worker unavailable")]
    Unavailable,
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

/// Per-connection settings applied whenever the pool opens a connection.
#[derive(Debug)]
struct ConnectionSetup;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            // WAL lets readers run beside the one writer; FULL makes every commit
            // durable before we acknowledge it (group commit amortises the fsync).
            c.batch_execute(
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Build the pool. SQLite paths get their parent directory created.
pub fn build_pool(url: &str, size: u32) -> Result<DbPool, DbError> {
    if !is_postgres_url(url) {
        if let Some(parent) = Path::new(url).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| DbError::Migration(format!("create {}: {e}", parent.display())))?;
            }
        }
    }
    let manager = ConnectionManager::<DbConnection>::new(url);
    let pool = Pool::builder()
        .max_size(size.max(1))
        .connection_timeout(Duration::from_secs(10))
        .connection_customizer(Box::new(ConnectionSetup))
        .build(manager)?;
    Ok(pool)
}

/// Run the embedded migrations of the pool's backend.
pub fn run_migrations(pool: &DbPool) -> Result<(), DbError> {
    let mut conn = pool.get()?;
    let result = match &mut *conn {
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
