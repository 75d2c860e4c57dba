//! Handing events to connections. Every connection's mailbox is bounded (its outbound
//! queue): a full one is a slow consumer, told to go (it reconnects and resumes by
//! seq), counted and logged, so it never holds up anyone else nor grows our memory.
//! ChatServer and LiveStream both deliver through here. Stream chat waits in a lane of
//! its own (`ChatLane`) instead, which the connection's writer empties: it may lose
//! lines, but should not lose viewers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Waker};

use actix::dev::SendError;
use actix::{Message, Recipient};
use prometheus_client::metrics::counter::Counter;

use crate::domain::{Audience, Event, Outbound};
use crate::metrics::Traffic;
use bytestring::ByteString;

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

/// Room a lane keeps once emptied.
const LANE_ROOM: usize = 8;

/// How a connection's dialect encodes a line (or a `ChatSkipped`) for its lane.
pub type LaneEncoder = fn(&Outbound, Audience) -> Option<ByteString>;

/// A viewer's stream chat not yet written. The LiveStream puts lines here, and the
/// connection's writer (`transport::ws_io`) takes them straight to the socket, woken
/// once for all that waits: no actor message per line, and lines that wait together
/// leave in one write. A viewer who reads slowly lets the lane fill; the oldest lines
/// go (counted), and the viewer hears how many it skipped before the newest. So a live
/// crowd's slow readers skip lines instead of being cut off all together (and
/// reconnecting all together); only a backlog of other frames still cuts a connection
/// off.
pub struct ChatLane {
    state: std::sync::Mutex<LaneState>,
    encode: LaneEncoder,
    /// The connection's transport counters (frames and bytes out).
    traffic: Traffic,
    /// Frames written from here, for the connection's access line.
    written: AtomicU64,
}

#[derive(Default)]
struct LaneState {
    lines: std::collections::VecDeque<(Arc<Outbound>, Audience)>,
    skipped: u64,
    /// The writer, waiting for a line.
    writer: Option<Waker>,
}

impl ChatLane {
    pub fn new(encode: LaneEncoder, traffic: Traffic) -> Self {
        ChatLane {
            state: Default::default(),
            encode,
            traffic,
            written: AtomicU64::new(0),
        }
    }

    /// Queue lines (several leave in one write), and wake the writer if it waits; how
    /// many chat lines were skipped to make room (the oldest go).
    pub fn push(&self, lines: impl IntoIterator<Item = (Arc<Outbound>, Audience)>) -> u64 {
        let Ok(mut s) = self.state.lock() else {
            return 0;
        };
        let before = s.skipped;
        let reactions = |out: &Outbound| matches!(out.event, Event::StreamReactions { .. });
        for line in lines {
            if s.lines.len() >= LANE_LINES {
                // A slow reader misses reactions before it misses a line for them, and
                // reactions it misses are not lines it missed.
                if reactions(&line.0) {
                    continue;
                }
                if let Some((old, _)) = s.lines.pop_front() {
                    if !reactions(&old) {
                        s.skipped += 1;
                    }
                }
            }
            s.lines.push_back(line);
        }
        let skipped = s.skipped - before;
        let writer = s.writer.take();
        drop(s);
        if let Some(w) = writer {
            w.wake();
        }
        skipped
    }

    /// The texts waiting, encoded, oldest first (how many were skipped, first, if any
    /// were), each given to `each`; whether there were any. When none wait, the writer
    /// (`cx`) is woken by the next line.
    pub fn take_texts(&self, cx: &Context<'_>, mut each: impl FnMut(ByteString)) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return false;
        };
        if s.lines.is_empty() && s.skipped == 0 {
            if !s.writer.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                s.writer = Some(cx.waker().clone());
            }
            return false;
        }
        // Encoded under the lock (a line's encoding is shared, so this is mostly a
        // look-up): the lane keeps its room, and a push waits at most this long.
        let mut text = |out: &Outbound, audience| {
            if let Some(t) = (self.encode)(out, audience) {
                self.traffic.sent(t.len());
                self.written.fetch_add(1, Ordering::Relaxed);
                each(t);
            }
        };
        let skipped = std::mem::take(&mut s.skipped);
        if skipped > 0 {
            let notice = Outbound::new(Event::ChatSkipped { count: skipped });
            text(&notice, Audience::default());
        }
        for (line, audience) in s.lines.drain(..) {
            text(&line, audience);
        }
        // A lane that filled up does not keep its room for good.
        s.lines.shrink_to(LANE_ROOM);
        true
    }

    /// Frames written from the lane so far.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    fn line(i: usize) -> Arc<Outbound> {
        Arc::new(Outbound::new(Event::StreamChatDeleted {
            message_id: i.to_string(),
        }))
    }

    /// Lines as their ids, the skip notice as `skipped N`.
    fn encode(out: &Outbound, _: Audience) -> Option<ByteString> {
        match &out.event {
            Event::StreamChatDeleted { message_id } => Some(message_id.as_str().into()),
            Event::ChatSkipped { count } => Some(format!("skipped {count}").into()),
            Event::StreamReactions { .. } => Some("reactions".into()),
            _ => None,
        }
    }

    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_full_lane_skips_its_oldest_lines_and_wakes_its_writer_once() {
        let lane = ChatLane::new(encode, Traffic::default());
        let wakes = Arc::new(Wakes::default());
        let waker = Waker::from(wakes.clone());
        let cx = Context::from_waker(&waker);
        let take = || {
            let mut texts = Vec::new();
            let any = lane.take_texts(&cx, |t| texts.push(t.to_string()));
            (any, texts)
        };
        assert_eq!(take(), (false, vec![]), "nothing waits: the writer waits");
        let one = |l| [(l, Audience::default())];
        assert_eq!(lane.push(one(line(0))), 0);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        for i in 1..LANE_LINES + 10 {
            assert_eq!(lane.push(one(line(i))), u64::from(i >= LANE_LINES));
        }
        assert_eq!(
            wakes.0.load(Ordering::SeqCst),
            1,
            "woken once until it looks"
        );
        let (any, texts) = take();
        assert!(any);
        assert_eq!(texts.len(), 1 + LANE_LINES);
        assert_eq!(texts[0], "skipped 10", "the skip is told before the lines");
        assert_eq!(texts[1], "10", "the oldest lines went");
        assert_eq!(texts[LANE_LINES], (LANE_LINES + 9).to_string());
        assert_eq!(lane.written(), 1 + LANE_LINES as u64);
        assert_eq!(take(), (false, vec![]), "emptied, and waiting again");
        lane.push(one(line(99)));
        assert_eq!(wakes.0.load(Ordering::SeqCst), 2);
        assert_eq!(take(), (true, vec!["99".to_string()]), "no skip told again");

        // Reactions and a line pushed together wake it once and leave together; a
        // reactions frame pushed out of a full lane is not a skipped line.
        assert_eq!(take(), (false, vec![]));
        let reactions = Arc::new(Outbound::new(Event::StreamReactions {
            counts: Default::default(),
        }));
        let pair = [
            (reactions.clone(), Audience::default()),
            (line(1), Audience::default()),
        ];
        assert_eq!(lane.push(pair), 0);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 3);
        assert_eq!(take(), (true, vec!["reactions".into(), "1".into()]));
        lane.push(one(reactions.clone()));
        for i in 1..LANE_LINES {
            lane.push(one(line(i)));
        }
        assert_eq!(lane.push(one(line(0))), 0, "only the reactions went");
        assert_eq!(
            lane.push(one(reactions)),
            0,
            "a full lane takes no reactions"
        );
        assert_eq!(lane.push(one(line(0))), 1);
        let (_, texts) = take();
        assert_eq!(texts[0], "skipped 1");
        assert!(!texts.contains(&"reactions".to_string()));
    }
}
