//! The only place that touches Diesel at run time.
//!
//! `DbSync` runs on a `SyncArbiter` (blocking threads over the r2d2 pool) and executes
//! reads and committed batches. `DbWriter` sits in front of it for writes: it keeps at
//! most one batch in flight and gathers everything that queued meanwhile into the next
//! transaction (group commit). One batch at a time also makes per-conversation `seq`
//! assignment and the order of outcomes deterministic.

pub mod messages;

use actix::prelude::*;

pub use messages::*;

use crate::db::queries::{self, WriteOp};
use crate::db::{DbError, DbPool};

pub struct DbSync {
    pool: DbPool,
    /// Dropped with the worker: lets the process wait for its connections to close.
    _alive: std::sync::Arc<()>,
}

impl DbSync {
    pub fn new(pool: DbPool, alive: std::sync::Arc<()>) -> Self {
        DbSync {
            pool,
            _alive: alive,
        }
    }

    fn conn(&self) -> Result<crate::db::PooledDb, DbError> {
        Ok(self.pool.get()?)
    }
}

impl Actor for DbSync {
    type Context = SyncContext<Self>;
}

impl Handler<CommitBatch> for DbSync {
    type Result = <CommitBatch as Message>::Result;
    fn handle(&mut self, msg: CommitBatch, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.conn()?;
        queries::apply_batch(&mut conn, &msg.0)
    }
}

impl<R: Send + 'static> Handler<Query<R>> for DbSync {
    type Result = Result<R, DbError>;
    fn handle(&mut self, msg: Query<R>, _: &mut Self::Context) -> Self::Result {
        let mut conn = self.conn()?;
        (msg.0)(&mut conn)
    }
}

/// Group-commit front for writes.
pub struct DbWriter {
    sync: Addr<DbSync>,
    queue: Vec<Persist>,
    in_flight: bool,
    max_batch: usize,
    stats: WriterStats,
}

impl DbWriter {
    pub fn new(sync: Addr<DbSync>, max_batch: usize) -> Self {
        DbWriter {
            sync,
            queue: Vec::new(),
            in_flight: false,
            max_batch: max_batch.max(1),
            stats: WriterStats::default(),
        }
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight || self.queue.is_empty() {
            return;
        }
        let take = self.queue.len().min(self.max_batch);
        // Ops go to the worker; their reply addresses stay here, in the same order.
        let (ops, replies): (Vec<WriteOp>, Vec<(u64, Recipient<WriteDone>)>) = self
            .queue
            .drain(..take)
            .map(|p| (p.op, (p.tag, p.reply_to)))
            .unzip();
        self.in_flight = true;
        self.stats.batches += 1;
        self.stats.writes += replies.len() as u64;
        self.stats.largest_batch = self.stats.largest_batch.max(replies.len());
        self.sync
            .send(CommitBatch(ops))
            .into_actor(self)
            .map(move |res, act, ctx| {
                let results = match res {
                    Ok(Ok(results)) => results,
                    Ok(Err(e)) => {
                        log::error!("batch of {} writes failed: {e}", replies.len());
                        vec![Err(crate::error::AppError::internal()); replies.len()]
                    }
                    Err(e) => {
                        log::error!("database worker: {e}");
                        vec![Err(crate::error::AppError::internal()); replies.len()]
                    }
                };
                for ((tag, reply_to), result) in replies.into_iter().zip(results) {
                    reply_to.do_send(WriteDone { tag, result });
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
    }
}

impl Handler<GetWriterStats> for DbWriter {
    type Result = MessageResult<GetWriterStats>;
    fn handle(&mut self, _: GetWriterStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(WriterStats {
            queued: self.queue.len(),
            ..self.stats
        })
    }
}

/// Both database actors, as the rest of the server holds them.
#[derive(Clone)]
pub struct Db {
    pub sync: Addr<DbSync>,
    pub writer: Addr<DbWriter>,
}

impl Db {
    /// `alive` is shared by the worker threads; once only the caller's handle is left,
    /// every database connection has been closed.
    pub fn start(
        pool: DbPool,
        threads: usize,
        max_batch: usize,
        alive: std::sync::Arc<()>,
    ) -> Self {
        let sync = SyncArbiter::start(threads.max(1), move || {
            DbSync::new(pool.clone(), alive.clone())
        });
        let writer = DbWriter::new(sync.clone(), max_batch).start();
        Db { sync, writer }
    }

    /// Run `f` on a DbSync thread; storage and mailbox failures become `AppError::internal`.
    pub async fn query<R, F>(&self, f: F) -> Result<R, crate::error::AppError>
    where
        R: Send + 'static,
        F: FnOnce(&mut crate::db::DbConnection) -> Result<R, DbError> + Send + 'static,
    {
        Ok(self.sync.send(Query(Box::new(f))).await??)
    }
}
