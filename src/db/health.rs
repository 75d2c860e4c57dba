//! Is the database up? One shared answer per server, kept by the health probe (its own
//! connection, every second) and by every request that fails for want of a database.
//! While it is down, requests fail at once with `unavailable` instead of each waiting
//! for the pool; the outage is logged once with its real cause, and again when it ends.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::DbError;

/// What part of the database is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reads and writes: no connection, or it broke.
    All,
    /// Writes only: SQLite's write lock is held elsewhere, the disk is full or read-only.
    Writes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub reachable: bool,
    pub writable: bool,
    /// The cause of the current outage, as the database or the OS said it.
    pub error: Option<String>,
    pub down_for: Option<Duration>,
    /// How long ago the probe last answered.
    pub last_check: Option<Duration>,
}

impl Snapshot {
    pub fn up(&self) -> bool {
        self.reachable && self.writable
    }
}

#[derive(Debug)]
struct State {
    down: Option<(Access, String, Instant)>,
    last_check: Option<Instant>,
}

#[derive(Debug)]
pub struct DbHealth {
    state: Mutex<State>,
}

impl Default for DbHealth {
    fn default() -> Self {
        DbHealth {
            state: Mutex::new(State {
                down: None,
                last_check: None,
            }),
        }
    }
}

impl DbHealth {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state)
    }

    /// Should a request of this kind fail at once? (`writes`: does it write?)
    pub fn refuses(&self, writes: bool) -> bool {
        self.with(|s| match &s.down {
            Some((Access::All, ..)) => true,
            Some((Access::Writes, ..)) => writes,
            None => false,
        })
    }

    /// Something failed for want of a database. The first report of an outage is
    /// logged with its cause; the rest are not (they are the same outage).
    pub fn report_down(&self, access: Access, cause: &str) {
        self.with(|s| match &mut s.down {
            None => {
                log::error!(
                    "database unavailable ({}): {cause}; requests get 503 `unavailable` until it is back",
                    match access {
                        Access::All => "no connection",
                        Access::Writes => "cannot write",
                    }
                );
                s.down = Some((access, cause.to_owned(), Instant::now()));
            }
            // A writes-only outage that turns out to be total.
            Some((known, known_cause, _)) if access == Access::All && *known == Access::Writes => {
                log::error!("database unavailable (no connection): {cause}");
                *known = Access::All;
                *known_cause = cause.to_owned();
            }
            // The same outage: /health shows its latest cause, the log has it once.
            Some((_, known_cause, _)) => {
                log::debug!("database still unavailable: {cause}");
                *known_cause = cause.to_owned();
            }
        })
    }

    /// The probe's answer: `Ok` when it could read and write.
    pub fn probed(&self, result: Result<(), (Access, String)>) {
        match result {
            Ok(()) => self.with(|s| {
                s.last_check = Some(Instant::now());
                if let Some((_, _, since)) = s.down.take() {
                    log::info!(
                        "database is back after {:.1} s",
                        since.elapsed().as_secs_f64()
                    );
                }
            }),
            Err((access, cause)) => {
                self.with(|s| s.last_check = Some(Instant::now()));
                self.report_down(access, &cause);
            }
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        self.with(|s| {
            let (access, error, since) = match &s.down {
                Some((a, e, t)) => (Some(*a), Some(e.clone()), Some(*t)),
                None => (None, None, None),
            };
            Snapshot {
                reachable: access != Some(Access::All),
                writable: access.is_none(),
                error,
                down_for: since.map(|t| t.elapsed()),
                last_check: s.last_check.map(|t| t.elapsed()),
            }
        })
    }
}

/// The first line of an error, as it is worth logging (libpq adds hints on more lines).
pub fn first_line(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// Messages SQLite and libpq use when the database, not the request, is at fault.
const OUTAGE_MESSAGES: [&str; 11] = [
    "database is locked",
    "database table is locked",
    "disk i/o error",
    "database or disk is full",
    "readonly database",
    "unable to open database",
    "server closed the connection",
    "terminating connection",
    "could not receive data",
    "no connection to the server",
    "connection refused",
];

/// Is this failure an outage (retry later), and of what? `None`: the request's own
/// fault or a bug, which retrying will not mend.
pub fn outage(e: &DbError) -> Option<(Access, String)> {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        DbError::Pool(e) => Some((Access::All, first_line(e))),
        DbError::Unavailable => Some((Access::All, "database worker unavailable".into())),
        DbError::Query(Error::BrokenTransactionManager) => {
            Some((Access::All, "the connection broke mid-transaction".into()))
        }
        DbError::Query(Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info)) => {
            Some((Access::All, first_line(&info.message())))
        }
        DbError::Query(Error::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, info)) => {
            Some((Access::Writes, first_line(&info.message())))
        }
        DbError::Query(Error::DatabaseError(_, info)) => {
            let message = info.message().to_ascii_lowercase();
            let hit = OUTAGE_MESSAGES.iter().find(|m| message.contains(*m))?;
            let access = if hit.contains("lock") || hit.contains("full") || hit.contains("readonly")
            {
                Access::Writes
            } else {
                Access::All
            };
            Some((access, first_line(&info.message())))
        }
        DbError::Query(_) | DbError::Migration(_) => None,
    }
}

/// Did this transaction lose a race with another node's (a deadlock between two
/// batches, a serialization failure)? Retrying the whole transaction mends it.
pub fn conflict(e: &DbError) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        DbError::Query(Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => true,
        // PostgreSQL's 40P01, which diesel does not name.
        DbError::Query(Error::DatabaseError(_, info)) => info
            .message()
            .to_ascii_lowercase()
            .contains("deadlock detected"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_is_refused_until_the_probe_succeeds() {
        let h = DbHealth::default();
        assert!(!h.refuses(true));
        h.report_down(Access::Writes, "database is locked");
        assert!(h.refuses(true));
        assert!(!h.refuses(false));
        let s = h.snapshot();
        assert!(s.reachable && !s.writable && !s.up());
        assert_eq!(s.error.as_deref(), Some("database is locked"));
        h.report_down(Access::All, "connection refused");
        assert!(h.refuses(false));
        h.probed(Ok(()));
        assert!(!h.refuses(true));
        assert!(h.snapshot().up());
        assert!(h.snapshot().last_check.is_some());
    }

    #[test]
    fn query_errors_are_outages_only_when_the_database_is_at_fault() {
        use diesel::result::{DatabaseErrorKind, Error};
        let locked = DbError::Query(Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("database is locked".to_owned()),
        ));
        assert_eq!(
            outage(&locked),
            Some((Access::Writes, "database is locked".into()))
        );
        let unique = DbError::Query(Error::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("UNIQUE constraint failed".to_owned()),
        ));
        assert_eq!(outage(&unique), None);
        assert_eq!(outage(&DbError::Query(Error::NotFound)), None);
        let broken = DbError::Query(Error::BrokenTransactionManager);
        assert_eq!(outage(&broken).map(|o| o.0), Some(Access::All));
    }
}
