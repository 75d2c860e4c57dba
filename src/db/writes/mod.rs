//! Every write, by area. Each domain write (`domain::writes`) is applied by its `Write`
//! impl here, which names its outcome, so the caller gets the type it asked for. The
//! writer commits them in batches: one transaction, each write in its own savepoint,
//! so one rejected write does not undo its neighbours. Domain rules come from
//! `domain`; these apply them atomically with the rows they depend on.

mod agents;
mod api_keys;
mod attachments;
mod canned;
mod conversations;
mod desk_settings;
mod identity;
mod moderation;
mod outbox;
mod read_state;
mod streams;
mod webhooks;

use std::any::Any;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;

use super::{DbConnection, DbError};
use crate::error::AppError;

/// One kind of write and what it yields.
pub trait Write: Send + 'static {
    type Outcome: Send + 'static;
    fn apply(&self, conn: &mut DbConnection) -> Result<Self::Outcome, WriteError>;
}

/// A write of any kind, as a batch holds it; its outcome comes back boxed and is
/// unboxed by whoever sent the typed `Write` (`actors::db_sync::Requests`).
pub trait AnyWrite: Send {
    fn apply_any(&self, conn: &mut DbConnection) -> Result<Box<dyn Any + Send>, WriteError>;
}

impl<W: Write> AnyWrite for W {
    fn apply_any(&self, conn: &mut DbConnection) -> Result<Box<dyn Any + Send>, WriteError> {
        Ok(Box::new(self.apply(conn)?))
    }
}

/// A write's outcome, boxed: whoever sent the typed `Write` unboxes it.
pub type AnyOutcome = Result<Box<dyn Any + Send>, AppError>;

/// A write refused by a domain rule, or a storage failure.
#[derive(Debug)]
pub enum WriteError {
    Rejected(AppError),
    Db(DbError),
}

impl From<diesel::result::Error> for WriteError {
    fn from(e: diesel::result::Error) -> Self {
        WriteError::Db(DbError::Query(e))
    }
}

impl From<AppError> for WriteError {
    fn from(e: AppError) -> Self {
        WriteError::Rejected(e)
    }
}

impl From<DbError> for WriteError {
    fn from(e: DbError) -> Self {
        WriteError::Db(e)
    }
}

/// Times a batch is tried when it loses a race with another node's transaction.
const CONFLICT_ATTEMPTS: u32 = 5;

/// Apply a batch in one transaction. The outer error means nothing was committed.
/// Several nodes' writers lock the rows they change (a conversation's row, for its
/// seq and status), so two batches may deadlock; PostgreSQL then aborts one, which is
/// rolled back whole and tried again.
pub fn apply_batch(
    conn: &mut DbConnection,
    writes: &[Box<dyn AnyWrite>],
) -> Result<Vec<AnyOutcome>, DbError> {
    let mut attempt = 1;
    loop {
        match write_transaction(conn, |conn| apply_all(conn, writes)) {
            Err(e) if attempt < CONFLICT_ATTEMPTS && super::health::conflict(&e) => {
                log::info!("a write batch lost a race with another node ({e}); trying again");
                attempt += 1;
            }
            result => return result,
        }
    }
}

fn apply_all(
    conn: &mut DbConnection,
    writes: &[Box<dyn AnyWrite>],
) -> Result<Vec<AnyOutcome>, DbError> {
    let mut results = Vec::with_capacity(writes.len());
    for write in writes {
        let r = conn.transaction::<_, WriteError, _>(|conn| write.apply_any(conn));
        // Each write's savepoint has rolled back on failure, so the others still
        // commit; but an outage (a full disk, a lost connection) or a lost race is the
        // batch's: it ends the transaction (DbSync reports an outage).
        match r {
            Ok(outcome) => results.push(Ok(outcome)),
            Err(WriteError::Rejected(e)) => results.push(Err(e)),
            Err(WriteError::Db(e))
                if super::health::outage(&e).is_some() || super::health::conflict(&e) =>
            {
                return Err(e)
            }
            Err(WriteError::Db(e)) => results.push(Err(e.into())),
        }
    }
    Ok(results)
}

/// One write transaction. On SQLite it takes the write lock at `BEGIN IMMEDIATE`: a
/// deferred transaction that reads first cannot become a writer once another
/// connection (the health probe, a maintenance script) has committed since, and
/// fails at once with "database is locked", without waiting.
fn write_transaction<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    type Manager = <DbConnection as Connection>::TransactionManager;
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(_) => Manager::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // A failed rollback leaves the connection broken: the pool drops it.
            if let Err(rollback) = Manager::rollback_transaction(conn) {
                log::debug!("rollback failed: {rollback}");
            }
            Err(e)
        }
    }
}
