//! Typed writes for an actor: send a `Write`, and have a continuation called on the
//! actor with that write's own outcome type, once it has committed. Outcomes come
//! back in commit order (as `WriteDone`), so the continuations run in that order too:
//! deliveries that follow them go out in seq order. An actor that writes keeps a
//! `Requests` and implements `Writes`.

use std::collections::HashMap;

use actix::prelude::*;

use tokio::sync::oneshot;

use super::{AnyOutcome, DbWriter, Persist, WriteDone};
use crate::db::writes::Write;
use crate::error::AppError;

type Continuation<A> = Box<dyn FnOnce(&mut A, &mut <A as Actor>::Context, AnyOutcome)>;

/// The writes an actor is waiting on.
pub struct Requests<A: Actor> {
    next_tag: u64,
    pending: HashMap<u64, Continuation<A>>,
}

impl<A: Actor> Default for Requests<A> {
    fn default() -> Self {
        Requests {
            next_tag: 0,
            pending: HashMap::new(),
        }
    }
}

impl<A> Requests<A>
where
    A: Actor + Handler<WriteDone>,
    A::Context: actix::dev::ToEnvelope<A, WriteDone>,
{
    /// Queue `write`; `then` gets its outcome once it has committed (or failed).
    pub fn send<W: Write>(
        &mut self,
        writer: &Addr<DbWriter>,
        reply_to: Recipient<WriteDone>,
        write: W,
        then: impl FnOnce(&mut A, &mut A::Context, Result<W::Outcome, AppError>) + 'static,
    ) {
        self.next_tag += 1;
        let tag = self.next_tag;
        let continuation: Continuation<A> = Box::new(move |actor, ctx, outcome| {
            // `send` boxed a `W`, whose `apply` made a `W::Outcome`: the cast holds.
            let typed = outcome.and_then(|boxed| {
                boxed.downcast::<W::Outcome>().map(|b| *b).map_err(|_| {
                    log::error!("a write's outcome is not of its type");
                    AppError::internal()
                })
            });
            then(actor, ctx, typed)
        });
        self.pending.insert(tag, continuation);
        writer.do_send(Persist {
            tag,
            write: Box::new(write),
            reply_to: super::ReplyTo::Actor(reply_to),
        });
    }

    /// The continuation waiting for this outcome, to be run on the actor.
    pub fn take(&mut self, done: &WriteDone) -> Option<Continuation<A>> {
        self.pending.remove(&done.tag)
    }
}

/// An actor that writes through the DbWriter.
pub trait Writes: Actor<Context = Context<Self>> + Handler<WriteDone> {
    fn requests(&mut self) -> &mut Requests<Self>;
    fn writer(&self) -> Addr<DbWriter>;

    /// Queue a write; `then` runs on the actor with its outcome once it has committed.
    fn write<W: Write>(
        &mut self,
        ctx: &mut Context<Self>,
        write: W,
        then: impl FnOnce(&mut Self, &mut Context<Self>, Result<W::Outcome, AppError>) + 'static,
    ) {
        let (writer, reply_to) = (self.writer(), ctx.address().recipient());
        self.requests().send(&writer, reply_to, write, then);
    }

    /// Queue a write and answer with what `then` makes of its outcome.
    fn request<W: Write, T: 'static>(
        &mut self,
        ctx: &mut Context<Self>,
        write: W,
        then: impl FnOnce(&mut Self, &mut Context<Self>, W::Outcome) -> T + 'static,
    ) -> ResponseFuture<Result<T, AppError>> {
        let (tx, rx) = oneshot::channel();
        self.write(ctx, write, move |act, ctx, outcome| {
            // A requester that went away needs no answer.
            let _ = tx.send(outcome.map(|o| then(act, ctx, o)));
        });
        Box::pin(async move { rx.await.unwrap_or_else(|_| Err(AppError::internal())) })
    }

    /// A write has committed: run what waited for it (from `Handler<WriteDone>`).
    fn written(&mut self, done: WriteDone, ctx: &mut Context<Self>) {
        if let Some(then) = self.requests().take(&done) {
            then(self, ctx, done.result);
        }
    }
}
