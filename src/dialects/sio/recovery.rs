//! Connection state recovery, backed by seq resume: a lost socket is parked with its
//! identity, rooms and last deliveries; a client that comes back in time gets it
//! again, and every message after the last offset it confirms, from the database,
//! paced to the client, with live messages held behind the replay.

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{ChatSocket, SocketIo};
use crate::actors::chat_server::{Deliver, FetchHistory, HistoryPage, Notes};
use crate::dialects::DialectId;
use crate::domain::{Audience, Caller, Event};

/// Messages replayed to a recovered socket per request: two frames each for staff on
/// `/support`, well inside the outbound queue.
const REPLAY_PAGE: i64 = 50;

/// Cluster mode: how often a live socket's recovery state is stored, if it changed.
const SHARE_EVERY: Duration = Duration::from_millis(250);

/// A lost socket's state, for its client to recover (in cluster mode, on any node:
/// it is kept in Redis, see `actors::cluster::recovery`).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Parked {
    pub(super) nsp: String,
    pub(super) caller: Caller,
    pub(super) dialect: DialectId,
    pub(super) rooms: HashMap<String, i64>,
    pub(super) log: VecDeque<(String, i64)>,
}

impl Parked {
    /// Where to resume each conversation: after what the client last confirmed having
    /// (its offset, `conversation:seq`), never after what merely left the server.
    pub(super) fn resume_points(&self, offset: Option<&str>) -> HashMap<String, i64> {
        let last = offset
            .and_then(|o| o.rsplit_once(':'))
            .and_then(|(room, seq)| Some((room, seq.parse::<i64>().ok()?)));
        let received = last.and_then(|(r, s)| {
            self.log
                .iter()
                .rposition(|(room, seq)| room == r && *seq == s)
        });
        let mut points = self.rooms.clone();
        if let Some((room, seq)) = last {
            if self.rooms.get(room).is_some_and(|seen| seq > *seen) {
                // Kept before the client got its latest messages (a copy another node
                // stored while the socket lived): all that was logged was received.
                points.insert(room.to_owned(), seq);
                return points;
            }
        }
        // Deliveries after the last one the client confirms were not received. (If the
        // log no longer holds it, every logged delivery counts as not received.)
        for (room, seq) in self.log.iter().skip(received.map_or(0, |i| i + 1)) {
            if let Some(point) = points.get_mut(room) {
                *point = (*point).min(seq - 1);
            }
        }
        // The confirmed message's own conversation is known exactly.
        if let Some((room, seq)) = last {
            if let Some(point) = points.get_mut(room) {
                *point = (*point).min(seq);
            }
        }
        points
    }
}

impl ChatSocket {
    /// What recovering this socket needs.
    pub(super) fn parked(&self, nsp: &str) -> Parked {
        Parked {
            nsp: nsp.to_owned(),
            caller: self.caller.clone(),
            dialect: self.dialect,
            rooms: self.rooms.clone(),
            log: self.log.clone(),
        }
    }

    /// Cluster mode: keep this socket's state in Redis while it lives (when it changes,
    /// and before it expires), so that a node that dies leaves it for another node.
    pub(super) fn share_while_alive(&mut self, io: &mut SocketIo) {
        let Some((pid, window)) = io.recovery().filter(|_| self.state.cluster.is_some()) else {
            return;
        };
        let print = self.fingerprint();
        let stale = self
            .shared
            .is_none_or(|(p, at)| p != print || at.elapsed() > window / 2);
        if stale {
            let take_over = self.recovered && self.shared.is_none();
            super::share(&self.state, pid, &self.parked(io.nsp()), window, take_over);
            self.shared = Some((print, Instant::now()));
        }
        io.spawn(tokio::time::sleep(SHARE_EVERY), |s, io, ()| {
            s.share_while_alive(io)
        });
    }

    /// Changes when anything recovery keeps does.
    fn fingerprint(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let mut rooms: Vec<_> = self.rooms.iter().collect();
        rooms.sort();
        (rooms, self.log.back(), &self.caller, self.dialect).hash(&mut h);
        h.finish()
    }

    /// Connection state recovery: back into the rooms, and every message missed.
    pub(super) fn recover(&mut self, io: &mut SocketIo, rooms: HashMap<String, i64>) {
        for (room, seen) in rooms {
            // Live messages wait from the moment the room is joined until the replay
            // before them is done.
            self.rooms.insert(room.clone(), seen);
            self.replaying.insert(room.clone());
            self.join(io, room.clone(), move |s, io, res| match res {
                Ok(_) => s.replay(io, room, seen),
                Err(e) => {
                    log::info!("socket {}: not back into {room}: {e}", s.id);
                    s.rooms.remove(&room);
                    s.replayed(io, &room);
                }
            });
        }
    }

    /// Deliver a conversation's messages after `seq`, page by page, at the pace the
    /// client takes them; then the live messages held meanwhile.
    pub(super) fn replay(&self, io: &mut SocketIo, room: String, seq: i64) {
        let fetch = FetchHistory {
            conversation_id: room.clone(),
            caller: self.caller.clone(),
            page: HistoryPage::After {
                seq,
                limit: REPLAY_PAGE,
            },
            notes: Notes::Hidden,
        };
        self.ask(io, fetch, false, move |s, io, res| {
            let history = match res {
                Ok(h) => h,
                Err(e) => {
                    log::info!("socket {}: no replay of {room}: {e}", s.id);
                    return s.replayed(io, &room);
                }
            };
            let last = history.messages.last().map(|m| m.seq);
            s.replaying.remove(&room);
            for message in history.messages {
                let audience = Audience {
                    sender: false,
                    in_room: true,
                    staff: s.caller.is_staff(),
                };
                let out = crate::domain::Outbound::new(Event::MessagePosted { message });
                let deliver = Deliver {
                    to: s.id,
                    out: Arc::new(out),
                    audience,
                };
                s.deliver(io, &deliver);
            }
            match (history.has_more, last) {
                (true, Some(last)) => {
                    s.replaying.insert(room.clone());
                    s.replay_when_drained(io, room, last);
                }
                _ => s.replayed(io, &room),
            }
        });
    }

    /// The next page once the client has taken most of the last one.
    pub(super) fn replay_when_drained(&self, io: &mut SocketIo, room: String, seq: i64) {
        let (queued, limit) = io.queued();
        if queued <= limit / 2 {
            return self.replay(io, room, seq);
        }
        let pause = tokio::time::sleep(std::time::Duration::from_millis(20));
        io.spawn(pause, move |s, io, ()| s.replay_when_drained(io, room, seq));
    }

    /// A replay is over: the live messages held for it follow.
    pub(super) fn replayed(&mut self, io: &mut SocketIo, room: &str) {
        self.replaying.remove(room);
        let (mine, others): (Vec<Deliver>, Vec<Deliver>) =
            std::mem::take(&mut self.held).into_iter().partition(|d| {
                matches!(&d.out.event, Event::MessagePosted { message } if message.conversation_id == room)
            });
        self.held = others;
        for d in mine {
            self.deliver(io, &d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parked(rooms: &[(&str, i64)], log: &[(&str, i64)]) -> Parked {
        Parked {
            nsp: "/".into(),
            caller: Caller::Guest("g".into()),
            dialect: DialectId::Support,
            rooms: rooms.iter().map(|(r, s)| (r.to_string(), *s)).collect(),
            log: log.iter().map(|(r, s)| (r.to_string(), *s)).collect(),
        }
    }

    #[test]
    fn deliveries_after_the_confirmed_one_are_sent_again() {
        let p = parked(
            &[("a", 5), ("b", 9)],
            &[("a", 4), ("b", 8), ("a", 5), ("b", 9)],
        );
        let points = p.resume_points(Some("b:8"));
        assert_eq!((points["a"], points["b"]), (4, 8));
    }

    #[test]
    fn an_offset_past_a_copy_kept_earlier_means_all_of_it_was_received() {
        // Stored while the socket lived; the client then got a:7 from the dead node.
        let p = parked(&[("a", 5), ("b", 9)], &[("a", 5), ("b", 9)]);
        let points = p.resume_points(Some("a:7"));
        assert_eq!((points["a"], points["b"]), (7, 9));
    }
}
