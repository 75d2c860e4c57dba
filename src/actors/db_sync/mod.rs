//! The only place that touches Diesel at run time.
//!
//! `DbSync` runs on a `SyncArbiter` (blocking threads over the r2d2 pool) and executes
//! reads and committed batches. `DbWriter` sits in front of it for writes: it keeps at
//! most one batch in flight and gathers everything that queued meanwhile into the next
//! transaction (group commit). One batch at a time also makes per-conversation `seq`
//! assignment and the order of outcomes deterministic. The probe checks, on its own
//! connection, whether the database is up (`DbHealth`).

pub mod messages;
mod probe;
mod requests;

use std::sync::Arc;

use actix::prelude::*;

pub use messages::*;
pub use requests::{Requests, Writes};

use crate::db::health::{self, DbHealth};
use crate::db::writes::{self, AnyWrite};
use crate::db::{DbConnection, DbError, DbPool, DbSettings};
use crate::metrics::Metrics;

pub struct DbSync {
    pool: DbPool,
    health: Arc<DbHealth>,
    /// Dropped with the worker: lets the process wait for its connections to close.
    _alive: Arc<()>,
}

impl DbSync {
    pub fn new(pool: DbPool, health: Arc<DbHealth>, alive: Arc<()>) -> Self {
        DbSync {
            pool,
            health,
            _alive: alive,
        }
    }

    /// Run `f` on a pooled connection. During a known outage, fail at once rather than
    /// wait for the pool; an outage found here is reported, so it is logged once.
    fn run<R>(
        &self,
        writes: bool,
        f: impl FnOnce(&mut DbConnection) -> Result<R, DbError>,
    ) -> Result<R, DbError> {
        if self.health.refuses(writes) {
            return Err(DbError::Unavailable);
        }
        let result = self
            .pool
            .get()
            .map_err(DbError::from)
            .and_then(|mut conn| f(&mut conn));
        if let Err(e) = &result {
            if let Some((access, cause)) = health::outage(e) {
                self.health.report_down(access, &cause);
            }
        }
        result
    }
}

impl Actor for DbSync {
    type Context = SyncContext<Self>;
}

impl Handler<CommitBatch> for DbSync {
    type Result = <CommitBatch as Message>::Result;
    fn handle(&mut self, msg: CommitBatch, _: &mut Self::Context) -> Self::Result {
        self.run(true, |conn| writes::apply_batch(conn, &msg.0))
    }
}

impl<R: Send + 'static> Handler<Query<R>> for DbSync {
    type Result = Result<R, DbError>;
    fn handle(&mut self, msg: Query<R>, _: &mut Self::Context) -> Self::Result {
        self.run(false, msg.0)
    }
}

/// Where a write's outcome goes: its tag, and who waits for it.
type Reply = (u64, ReplyTo);

/// Group-commit front for writes.
pub struct DbWriter {
    sync: Addr<DbSync>,
    queue: Vec<Persist>,
    in_flight: bool,
    max_batch: usize,
    stats: WriterStats,
    metrics: Arc<Metrics>,
}

impl DbWriter {
    pub fn new(sync: Addr<DbSync>, max_batch: usize, metrics: Arc<Metrics>) -> Self {
        DbWriter {
            sync,
            queue: Vec::new(),
            in_flight: false,
            max_batch: max_batch.max(1),
            stats: WriterStats::default(),
            metrics,
        }
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight || self.queue.is_empty() {
            return;
        }
        let take = self.queue.len().min(self.max_batch);
        // Ops go to the worker; their reply addresses stay here, in the same order.
        let (batch, replies): (Vec<Box<dyn AnyWrite>>, Vec<Reply>) = self
            .queue
            .drain(..take)
            .map(|p| (p.write, (p.tag, p.reply_to)))
            .unzip();
        self.in_flight = true;
        self.stats.batches += 1;
        self.stats.writes += replies.len() as u64;
        self.stats.largest_batch = self.stats.largest_batch.max(replies.len());
        self.metrics.db_batch_size.observe(replies.len() as f64);
        self.metrics.db_queue_depth.set(self.queue.len() as i64);
        let began = std::time::Instant::now();
        self.sync
            .send(CommitBatch(batch))
            .into_actor(self)
            .map(move |res, act, ctx| {
                // A failed batch committed nothing: every write in it fails alike
                // (`unavailable` in an outage, which DbSync has logged already).
                let failed = |e: crate::error::AppError| {
                    (0..replies.len()).map(|_| Err(e.clone())).collect()
                };
                let results = match res {
                    Ok(Ok(results)) => {
                        act.metrics.db_commit.observe(began.elapsed().as_secs_f64());
                        results
                    }
                    Ok(Err(e)) => failed(e.into()),
                    Err(e) => failed(e.into()),
                };
                for ((tag, reply_to), result) in replies.into_iter().zip(results) {
                    reply_to.send(WriteDone { tag, result });
                }
                act.in_flight = false;
                act.flush(ctx);
            })
            .spawn(ctx);
    }
}

impl Actor for DbWriter {
    type Context = Context<Self>;
}

impl Handler<Persist> for DbWriter {
    type Result = ();
    fn handle(&mut self, msg: Persist, ctx: &mut Context<Self>) {
        self.queue.push(msg);
        self.flush(ctx);
        self.metrics.db_queue_depth.set(self.queue.len() as i64);
    }
}

impl Handler<GetWriterStats> for DbWriter {
    type Result = MessageResult<GetWriterStats>;
    fn handle(&mut self, _: GetWriterStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(WriterStats {
            queued: self.queue.len(),
            in_flight: self.in_flight,
            ..self.stats
        })
    }
}

/// The database actors, as the rest of the server holds them, and the shared answer
/// to "is the database up?".
#[derive(Clone)]
pub struct Db {
    pub sync: Addr<DbSync>,
    pub writer: Addr<DbWriter>,
    pub health: Arc<DbHealth>,
}

impl Db {
    /// `alive` is shared by the worker threads; once only the caller's handle is left,
    /// every database connection has been closed.
    pub fn start(
        pool: DbPool,
        settings: DbSettings,
        health: Arc<DbHealth>,
        threads: usize,
        max_batch: usize,
        alive: Arc<()>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let workers = (pool, health.clone(), alive.clone());
        let sync = SyncArbiter::start(threads.max(1), move || {
            DbSync::new(workers.0.clone(), workers.1.clone(), workers.2.clone())
        });
        let writer = DbWriter::new(sync.clone(), max_batch, metrics).start();
        probe::start(settings, health.clone(), alive);
        Db {
            sync,
            writer,
            health,
        }
    }

    /// Commit one write through the writer (in a group commit, like every other) and
    /// answer its outcome: for callers that are not actors (REST handlers).
    pub async fn write<W: crate::db::writes::Write>(
        &self,
        write: W,
    ) -> Result<W::Outcome, crate::error::AppError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.writer.do_send(Persist {
            tag: 0,
            write: Box::new(write),
            reply_to: ReplyTo::Caller(tx),
        });
        let outcome = rx.await.map_err(|_| crate::error::AppError::internal())??;
        outcome.downcast::<W::Outcome>().map(|b| *b).map_err(|_| {
            log::error!("a write's outcome is not of its type");
            crate::error::AppError::internal()
        })
    }

    /// Run `f` on a DbSync thread; storage and mailbox failures become `AppError`s
    /// (`unavailable` for an outage, else `internal`).
    pub async fn query<R, F>(&self, f: F) -> Result<R, crate::error::AppError>
    where
        R: Send + 'static,
        F: FnOnce(&mut crate::db::DbConnection) -> Result<R, DbError> + Send + 'static,
    {
        Ok(self.sync.send(Query(Box::new(f))).await??)
    }
}
