//! The database health probe: a connection of its own on a thread of its own (so it
//! never waits behind the pool or the writer), asked every second, and four times a
//! second during an outage, so recovery is seen at once. Its answers keep `DbHealth`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use diesel::connection::SimpleConnection;

use crate::db::health::{Access, DbHealth};
use crate::db::{DbConnection, DbSettings};

const TICK: Duration = Duration::from_millis(250);
const EVERY: Duration = Duration::from_secs(1);

/// How long SQLite's probe waits for the write lock: a writer's batch takes
/// milliseconds; a lock held this long is somebody else's.
const SQLITE_LOCK_WAIT_MS: u64 = 1000;

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
        limit: settings.timeout
            + Duration::from_millis(SQLITE_LOCK_WAIT_MS)
            + Duration::from_secs(1),
        asked: None,
        last: None,
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

#[derive(Message)]
#[rtype(result = "Result<(), (Access, String)>")]
struct Check;

impl Handler<Check> for Probe {
    type Result = Result<(), (Access, String)>;

    fn handle(&mut self, _: Check, _: &mut Self::Context) -> Self::Result {
        let first_line = |e: &dyn std::fmt::Display| {
            let text = e.to_string();
            text.lines().next().unwrap_or_default().trim().to_owned()
        };
        if self.conn.is_none() {
            let mut conn = self
                .settings
                .connect()
                .map_err(|e| (Access::All, first_line(&e)))?;
            if let DbConnection::Sqlite(c) = &mut conn {
                let wait = format!("PRAGMA busy_timeout = {SQLITE_LOCK_WAIT_MS};");
                c.batch_execute(&wait)
                    .map_err(|e| (Access::All, first_line(&e)))?;
            }
            self.conn = Some(conn);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err((Access::All, "no connection".into()));
        };
        // SQLite can be read while another process holds its write lock: take the
        // lock for a moment to know that writes would go through.
        let check = match conn {
            DbConnection::Sqlite(c) => c
                .batch_execute("BEGIN IMMEDIATE; ROLLBACK;")
                .map_err(|e| (Access::Writes, first_line(&e))),
            DbConnection::Pg(c) => c
                .batch_execute("SELECT 1")
                .map_err(|e| (Access::All, first_line(&e))),
        };
        if check.is_err() {
            self.conn = None;
        }
        check
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
        let due = self.last.is_none_or(|t| t.elapsed() >= EVERY) || !self.health.snapshot().up();
        if !due {
            return;
        }
        self.asked = Some(Instant::now());
        self.probe
            .send(Check)
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
