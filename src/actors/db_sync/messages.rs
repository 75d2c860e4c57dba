//! What other actors ask of the database.

use actix::prelude::*;

pub use crate::db::writes::AnyOutcome;
use crate::db::writes::AnyWrite;
use crate::db::{DbConnection, DbError};

/// Queue a write. The outcome arrives later as `WriteDone` at `reply_to`, in commit
/// order: an actor that sends its writes here sees their outcomes in the order it sent them.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Persist {
    pub tag: u64,
    pub write: Box<dyn AnyWrite>,
    pub reply_to: ReplyTo,
}

/// Where a write's outcome goes: an actor (in commit order, as `WriteDone`), or one
/// caller awaiting it (`Db::write`).
pub enum ReplyTo {
    Actor(Recipient<WriteDone>),
    Caller(tokio::sync::oneshot::Sender<AnyOutcome>),
}

impl ReplyTo {
    pub fn send(self, done: WriteDone) {
        match self {
            ReplyTo::Actor(actor) => actor.do_send(done),
            // A caller that went away needs no answer.
            ReplyTo::Caller(caller) => {
                let _ = caller.send(done.result);
            }
        }
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct WriteDone {
    pub tag: u64,
    pub result: AnyOutcome,
}

/// One group commit: every write in one transaction (run on a DbSync thread).
#[derive(Message)]
#[rtype(result = "Result<Vec<AnyOutcome>, DbError>")]
pub struct CommitBatch(pub Vec<Box<dyn AnyWrite>>);

/// Run a read on a DbSync thread (reads may run beside the writer).
pub struct Query<R>(pub QueryFn<R>);

pub type QueryFn<R> = Box<dyn FnOnce(&mut DbConnection) -> Result<R, DbError> + Send>;

impl<R: Send + 'static> Message for Query<R> {
    type Result = Result<R, DbError>;
}

/// Group-commit counters, for `/health` and the load generator.
#[derive(Message)]
#[rtype(result = "WriterStats")]
pub struct GetWriterStats;

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriterStats {
    pub batches: u64,
    pub writes: u64,
    pub largest_batch: usize,
    pub queued: usize,
    /// A batch is being committed now.
    pub in_flight: bool,
}
