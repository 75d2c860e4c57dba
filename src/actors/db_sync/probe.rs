//! The database health probe: a connection of its own on a thread of its own (so it
//! never waits behind the pool or the writer), asked every second, and four times a
//! second during an outage, so recovery is seen at once. Each check reads and commits
//! a write. Its answers keep `DbHealth`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use diesel::connection::SimpleConnection;

use crate::db::health::{first_line, Access, DbHealth};
use crate::db::{DbConnection, DbSettings};

const TICK: Duration = Duration::from_millis(250);
const EVERY: Duration = Duration::from_secs(1);
/// While up, every this many checks also commits a write (a full disk, a read-only
/// standby); during an outage every check does.
const WRITE_EVERY: u32 = 10;

/// How much longer than a request SQLite's probe waits for the write lock: when it
/// gives up, requests have been failing already, so a busy writer of our own never
/// looks like an outage.
const SQLITE_LOCK_MARGIN: Duration = Duration::from_secs(1);

pub fn start(settings: DbSettings, health: Arc<DbHealth>, alive: Arc<()>) {
    let probe_settings = settings.clone();
    let probe = SyncArbiter::start(1, move || Probe {
        settings: probe_settings.clone(),
        conn: None,
        _alive: alive.clone(),
    });
    Monitor {
        probe,
        health,
        // Longer than the probe itself may wait (libpq's connect timeout, SQLite's
        // lock wait): past this it is stuck, which counts as down.
        limit: settings.timeout * 2 + SQLITE_LOCK_MARGIN + Duration::from_secs(1),
        asked: None,
        last: None,
        checks: 0,
    }
    .start();
}

/// Holds the probe's own connection, opened again after any failure.
struct Probe {
    settings: DbSettings,
    conn: Option<DbConnection>,
    _alive: Arc<()>,
}

impl Actor for Probe {
    type Context = SyncContext<Self>;
}

/// One check. `fresh`: on a new connection (during an outage, so that "new connections
/// work" is what brings the database back, as the pool needs). `write`: commit a write.
#[derive(Message)]
#[rtype(result = "Result<(), (Access, String)>")]
struct Check {
    fresh: bool,
    write: bool,
}

/// A write that must commit: a full disk, a read-only standby or a lock held elsewhere
/// fail it.
const WRITE_CHECK: &str = "UPDATE health_probe SET checks = checks + 1 WHERE id = 1";

impl Handler<Check> for Probe {
    type Result = Result<(), (Access, String)>;

    fn handle(&mut self, check: Check, _: &mut Self::Context) -> Self::Result {
        if check.fresh {
            self.conn = None;
        }
        if self.conn.is_none() {
            let mut conn = self
                .settings
                .connect()
                .map_err(|e| (Access::All, first_line(&e)))?;
            if let DbConnection::Sqlite(c) = &mut conn {
                let wait = (self.settings.timeout + SQLITE_LOCK_MARGIN).as_millis();
                let wait = format!("PRAGMA busy_timeout = {wait};");
                c.batch_execute(&wait)
                    .map_err(|e| (Access::All, first_line(&e)))?;
            }
            self.conn = Some(conn);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err((Access::All, "no connection".into()));
        };
        let result = conn
            .batch_execute("SELECT 1")
            .map_err(|e| (Access::All, first_line(&e)))
            .and_then(|()| match check.write {
                true => conn
                    .batch_execute(WRITE_CHECK)
                    .map_err(|e| (Access::Writes, first_line(&e))),
                false => Ok(()),
            });
        if result.is_err() {
            self.conn = None;
        }
        result
    }
}

/// Asks the probe on a timer and keeps `DbHealth`; a probe that does not answer in
/// time counts as an outage too.
struct Monitor {
    probe: Addr<Probe>,
    health: Arc<DbHealth>,
    limit: Duration,
    /// When the question in flight was asked.
    asked: Option<Instant>,
    /// When the last answer came.
    last: Option<Instant>,
    checks: u32,
}

impl Monitor {
    fn tick(&mut self, ctx: &mut Context<Self>) {
        if let Some(asked) = self.asked {
            if asked.elapsed() > self.limit {
                let cause = format!("no answer within {:.1} s", self.limit.as_secs_f64());
                self.health.report_down(Access::All, &cause);
            }
            return;
        }
        let down = !self.health.snapshot().up();
        if !down && self.last.is_some_and(|t| t.elapsed() < EVERY) {
            return;
        }
        self.asked = Some(Instant::now());
        self.checks = self.checks.wrapping_add(1);
        let write = down || self.checks % WRITE_EVERY == 1;
        self.probe
            .send(Check { fresh: down, write })
            .into_actor(self)
            .map(|res, act, _| {
                act.asked = None;
                act.last = Some(Instant::now());
                match res {
                    Ok(result) => act.health.probed(result),
                    Err(e) => act.health.report_down(Access::All, &e.to_string()),
                }
            })
            .spawn(ctx);
    }
}

impl Actor for Monitor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.tick(ctx);
        ctx.run_interval(TICK, |act, ctx| act.tick(ctx));
    }
}
