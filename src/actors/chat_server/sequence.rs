//! Cluster mode: this node's connections get each conversation's messages in seq
//! order with no gaps, though several nodes write them and Redis may bring one node's
//! message before another's older one. A message past the next expected seq is held;
//! if the missing ones do not come within `HOLD`, they are read from the database
//! (every seq below a committed one is committed: seq is taken under the
//! conversation's row lock), and the held ones follow.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::actors::delivery::ConnId;
use crate::domain::Message;

/// How long a message waits for the ones before it.
pub(super) const HOLD: Duration = Duration::from_millis(300);
/// A conversation with no message for this long is forgotten.
const FORGET: Duration = Duration::from_secs(600);

/// A message to deliver, and the connection whose command wrote it (on this node).
pub(super) type Ready = (Message, Option<ConnId>);

#[derive(Default)]
pub(super) struct Sequencer {
    conversations: HashMap<String, Track>,
}

struct Track {
    /// The last seq delivered here.
    delivered: i64,
    held: BTreeMap<i64, Ready>,
    /// Since when the oldest held message has waited.
    waiting_since: Option<Instant>,
    touched: Instant,
}

/// Messages missing before held ones: read those after `after`, up to `until`.
#[derive(Debug, PartialEq)]
pub(super) struct Gap {
    pub conversation_id: String,
    pub after: i64,
    pub until: i64,
}

impl Sequencer {
    /// A committed message (from this node or another): what may be delivered now, in
    /// order. A conversation first seen here starts at its message (what came before
    /// is history, which clients read on joining).
    pub fn admit(&mut self, message: Message, origin: Option<ConnId>) -> Vec<Ready> {
        let now = Instant::now();
        let seq = message.seq;
        let track = self
            .conversations
            .entry(message.conversation_id.clone())
            .or_insert_with(|| Track {
                delivered: seq - 1,
                held: BTreeMap::new(),
                waiting_since: None,
                touched: now,
            });
        track.touched = now;
        if seq <= track.delivered {
            // Delivered already (a gap fill raced the message itself).
            return Vec::new();
        }
        track.held.insert(seq, (message, origin));
        let ready = track.release();
        if track.held.is_empty() {
            track.waiting_since = None;
        } else if track.waiting_since.is_none() || !ready.is_empty() {
            track.waiting_since = Some(now);
        }
        ready
    }

    /// Gaps that have waited longer than `HOLD`; conversations long quiet are forgotten.
    /// Each is reported again only after another `HOLD` (its fill is under way).
    pub fn overdue(&mut self) -> Vec<Gap> {
        let now = Instant::now();
        self.conversations
            .retain(|_, t| !t.held.is_empty() || now.duration_since(t.touched) < FORGET);
        self.conversations
            .iter_mut()
            .filter(|(_, t)| {
                t.waiting_since
                    .is_some_and(|w| now.duration_since(w) >= HOLD)
            })
            .filter_map(|(id, t)| {
                let first_held = *t.held.keys().next()?;
                t.waiting_since = Some(now);
                Some(Gap {
                    conversation_id: id.clone(),
                    after: t.delivered,
                    until: first_held - 1,
                })
            })
            .collect()
    }
}

impl Track {
    /// Take the held messages that continue the delivered ones.
    fn release(&mut self) -> Vec<Ready> {
        let mut ready = Vec::new();
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() != self.delivered + 1 {
                break;
            }
            self.delivered += 1;
            ready.push(entry.remove());
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Author, SenderKind};

    fn message(conversation: &str, seq: i64) -> Message {
        Message {
            id: format!("{conversation}-{seq}"),
            conversation_id: conversation.into(),
            seq,
            author: Author {
                id: "a".into(),
                kind: SenderKind::Customer,
                name: "A".into(),
            },
            content: String::new(),
            message_type: "text".into(),
            client_id: None,
            created_at: chrono::Utc::now().naive_utc(),
            read_by: Vec::new(),
            attachments: Vec::new(),
            private: false,
        }
    }

    fn seqs(ready: Vec<Ready>) -> Vec<i64> {
        ready.into_iter().map(|(m, _)| m.seq).collect()
    }

    #[test]
    fn messages_out_of_order_are_held_until_the_gap_closes() {
        let mut s = Sequencer::default();
        assert_eq!(seqs(s.admit(message("c", 5), None)), [5]);
        assert_eq!(seqs(s.admit(message("c", 7), None)), Vec::<i64>::new());
        assert_eq!(seqs(s.admit(message("c", 8), None)), Vec::<i64>::new());
        assert_eq!(seqs(s.admit(message("c", 6), None)), [6, 7, 8]);
        // A duplicate (a gap fill and the message itself) goes nowhere.
        assert_eq!(seqs(s.admit(message("c", 7), None)), Vec::<i64>::new());
        // Other conversations are apart.
        assert_eq!(seqs(s.admit(message("d", 1), None)), [1]);
        assert!(s.overdue().is_empty());
    }

    #[test]
    fn a_gap_that_stays_open_is_reported_for_filling() {
        let mut s = Sequencer::default();
        s.admit(message("c", 1), None);
        s.admit(message("c", 4), None);
        assert!(s.overdue().is_empty(), "not before HOLD");
        std::thread::sleep(HOLD + Duration::from_millis(20));
        assert_eq!(
            s.overdue(),
            [Gap {
                conversation_id: "c".into(),
                after: 1,
                until: 3
            }]
        );
        // The fill, from the database, in order: the held one follows.
        assert_eq!(seqs(s.admit(message("c", 2), None)), [2]);
        assert_eq!(seqs(s.admit(message("c", 3), None)), [3, 4]);
        assert!(s.overdue().is_empty());
    }
}
