//! Handing events to connections. Every connection's mailbox is bounded (its outbound
//! queue): a full one is a slow consumer, told to go (it reconnects and resumes by
//! seq), counted and logged, so it never holds up anyone else nor grows our memory.
//! ChatServer and LiveStream both deliver through here.

use std::sync::Arc;

use actix::dev::SendError;
use actix::{Message, Recipient};
use prometheus_client::metrics::counter::Counter;

use crate::domain::{Audience, Event, Outbound};

/// Connection ids are unique per server.
pub type ConnId = u64;

/// An event for one connection, with how that connection relates to it.
/// Sessions of every transport accept this.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Deliver {
    /// The connection it is for (a session may multiplex several, as Socket.IO does).
    pub to: ConnId,
    pub out: Arc<Outbound>,
    pub audience: Audience,
}

/// Slow consumers cut off, over every actor that delivers (`/health`'s
/// `slowConsumersEvicted`, and the metric `switchboard_outbound_cutoffs_total`).
#[derive(Debug, Default)]
pub struct Evictions {
    count: Counter,
    /// Connections told to go and not yet gone: a stuck one may only notice when
    /// its socket breaks, and is then counted as cut off, not as lost.
    told: std::sync::Mutex<std::collections::HashSet<ConnId>>,
}

impl Evictions {
    pub fn new(count: Counter) -> Self {
        Evictions {
            count,
            told: Default::default(),
        }
    }

    pub fn count(&self) -> u64 {
        self.count.get()
    }

    /// Counted once per connection, however many actors find it full.
    fn evict(&self, conn: ConnId) {
        if self.told.lock().is_ok_and(|mut told| told.insert(conn)) {
            self.count.inc();
        }
    }

    /// A connection is ending: whether it had been cut off (and forget it).
    pub fn was_evicted(&self, conn: ConnId) -> bool {
        self.told.lock().is_ok_and(|mut told| told.remove(&conn))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    Sent,
    /// The mailbox was full: the connection has been told to go.
    Evicted,
    /// The connection is gone already.
    Gone,
}

/// Queue `msg` for its connection; `what` names the traffic for the log.
pub fn deliver(
    recipient: &Recipient<Deliver>,
    msg: Deliver,
    evictions: &Arc<Evictions>,
    what: &str,
) -> Delivered {
    match recipient.try_send(msg) {
        Ok(()) => Delivered::Sent,
        Err(SendError::Full(msg)) => {
            log::warn!(
                "connection {} is not keeping up with {what}; disconnecting it",
                msg.to
            );
            let bye = Outbound::new(Event::Disconnect {
                reason: "outbound queue full".into(),
            });
            // `do_send` goes past the bound: the one message that ends it all.
            recipient.do_send(Deliver {
                to: msg.to,
                out: Arc::new(bye),
                audience: msg.audience,
            });
            evictions.evict(msg.to);
            Delivered::Evicted
        }
        Err(SendError::Closed(_)) => Delivered::Gone,
    }
}
