//! Handing events to connections. Every connection's mailbox is bounded (its outbound
//! queue): a full one is a slow consumer, told to go (it reconnects and resumes by
//! seq), counted and logged, so it never holds up anyone else nor grows our memory.
//! ChatServer and LiveStream both deliver through here. Stream chat waits in a lane of
//! its own (`ChatLane`) instead: it may lose lines, but should not lose viewers.

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

/// Stream chat lines a viewer may have waiting; past this the oldest are skipped. As
/// many as the default outbound queue, so that a burst a viewer keeps up with is not
/// cut short (the lines are shared: a full lane costs pointers, not copies).
pub const LANE_LINES: usize = 256;

/// A viewer's stream chat not yet written. Lines wait here rather than in the
/// connection's mailbox, and the connection is woken once to write all that waits:
/// a viewer who reads slowly lets the lane fill, the oldest lines go (counted), and
/// the viewer hears how many it skipped before the newest. So a live crowd's slow
/// readers skip lines instead of being cut off all together (and reconnecting all
/// together); only a backlog of other frames still cuts a connection off.
#[derive(Debug, Default)]
pub struct ChatLane(std::sync::Mutex<LaneState>);

#[derive(Debug, Default)]
struct LaneState {
    lines: std::collections::VecDeque<Arc<Outbound>>,
    skipped: u64,
    /// A wake-up is in the connection's mailbox already.
    woken: bool,
}

/// What queueing a line did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    /// The connection must be woken to write it (it was not waiting to already).
    pub wake: bool,
    /// The lane was full: its oldest line went.
    pub skipped_one: bool,
}

impl ChatLane {
    pub fn push(&self, line: Arc<Outbound>) -> Queued {
        let Ok(mut s) = self.0.lock() else {
            return Queued {
                wake: false,
                skipped_one: true,
            };
        };
        let skipped_one = s.lines.len() >= LANE_LINES;
        if skipped_one {
            s.lines.pop_front();
            s.skipped += 1;
        }
        s.lines.push_back(line);
        Queued {
            wake: !std::mem::replace(&mut s.woken, true),
            skipped_one,
        }
    }

    /// What waits, oldest first, and how many lines were skipped before it.
    pub fn take(&self) -> (u64, std::collections::VecDeque<Arc<Outbound>>) {
        let Ok(mut s) = self.0.lock() else {
            return (0, Default::default());
        };
        s.woken = false;
        (std::mem::take(&mut s.skipped), std::mem::take(&mut s.lines))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(i: usize) -> Arc<Outbound> {
        Arc::new(Outbound::new(Event::StreamChatDeleted {
            message_id: i.to_string(),
        }))
    }

    #[test]
    fn a_full_lane_skips_its_oldest_lines_and_wakes_once() {
        let lane = ChatLane::default();
        let first = lane.push(line(0));
        assert!(first.wake && !first.skipped_one);
        for i in 1..LANE_LINES + 10 {
            let q = lane.push(line(i));
            assert!(!q.wake, "woken once until taken");
            assert_eq!(q.skipped_one, i >= LANE_LINES);
        }
        let (skipped, lines) = lane.take();
        assert_eq!((skipped, lines.len()), (10, LANE_LINES));
        assert!(
            matches!(&lines[0].event, Event::StreamChatDeleted { message_id } if message_id == "10")
        );
        assert!(lane.push(line(99)).wake, "taken: the next line wakes again");
        assert_eq!(lane.take().0, 0);
    }
}
