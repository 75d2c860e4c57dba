//! Events the central actors route to connections. Each is encoded at most once per
//! (dialect, audience) on first use, and the bytes are shared by every such recipient.

use std::borrow::Cow;
use std::sync::OnceLock;

use bytestring::ByteString;

use super::conversation::ConversationView;
use super::Message;

/// What changed about a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChangeKind {
    Created,
    StatusChanged,
    /// Staff's labels (for staff only).
    Labels,
    /// The customer rated it.
    Rated,
    /// Staff snoozed it, or it woke (for staff only).
    Snoozed,
    /// What is known of its customer changed (for staff only).
    Customer,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Event {
    /// A committed message (customer, staff or system).
    MessagePosted {
        message: Message,
    },
    /// A conversation was created, or its status or assignee changed.
    ConversationChanged {
        conversation: Box<ConversationView>,
        change: ChangeKind,
        /// Who made a status change (participant id, name); `None` for the server's own.
        by: Option<(String, String)>,
    },
    /// Someone started or stopped typing; `expired` when the server timed it out.
    Typing {
        conversation_id: String,
        participant_id: String,
        name: String,
        typing: bool,
        expired: bool,
    },
    /// A participant's read cursor advanced to `up_to_seq`.
    Read {
        conversation_id: String,
        participant_id: String,
        up_to_seq: i64,
        message_ids: Option<Vec<String>>,
    },
    /// A participant joined or left a conversation's room.
    Presence {
        conversation_id: String,
        participant_id: String,
        role: Cow<'static, str>,
        name: String,
        joined: bool,
    },
    /// A staff member's first connection opened, or last one closed.
    StaffPresence {
        user_id: String,
        name: String,
        online: bool,
    },
    /// An agent's availability or capacity changed (for staff, on every node).
    AgentChanged {
        user_id: String,
        settings: super::agent::AgentSettings,
    },
    /// For one waiting customer's connection: their place in the queue (1 is next) and
    /// the expected wait in seconds; `position: None` once they are out of it.
    QueuePosition {
        conversation_id: String,
        position: Option<usize>,
        expected_wait: Option<i64>,
    },
    /// A live stream started (seed 002's `stream_started`).
    StreamStarted {
        stream: Box<super::stream::StreamView>,
    },
    StreamStopped {
        stream_id: String,
    },
    /// Viewer count and likes, coalesced.
    StreamUpdate {
        viewer_count: usize,
        likes: usize,
        liked_by: std::sync::Arc<Vec<String>>,
    },
    PinnedProducts {
        products: std::sync::Arc<Vec<super::stream::PinnedProduct>>,
    },
    StreamChat {
        line: super::stream::ChatLine,
    },
    /// Staff removed a chat message: every client drops it.
    StreamChatDeleted {
        message_id: String,
    },
    /// The line pinned above the live chat, or `None` when it was unpinned.
    PinnedMessage {
        message: Option<super::stream::PinnedMessage>,
    },
    /// Viewers' reactions over the last interval, coalesced: taps per reaction, only
    /// those tapped.
    StreamReactions {
        counts: super::stream::ReactionCounts,
    },
    /// Slow mode changed: one message per this many seconds per viewer (0: off).
    ChatSettings(super::stream::ChatSettings),
    /// For one viewer's connections: they are banned (`until: None`) or timed out
    /// until a time; they still watch.
    ChatBanned {
        until: Option<String>,
        reason: String,
    },
    ChatBanLifted,
    /// For one viewer's connections: they are (or are no longer) a moderator.
    ChatRole {
        moderator: bool,
    },
    /// For staff: the standing rules changed (whoever changed them).
    RulesChanged(super::moderation::RuleChange),
    /// The recent stream chat, for one newly arrived viewer.
    ChatHistory {
        lines: Vec<super::stream::ChatLine>,
    },
    /// WebRTC signalling (seed 002), for one connection.
    Signal(Signal),
    /// The connection no longer has access to a conversation (its owner was established)
    /// and has been taken out of its room.
    AccessRevoked {
        conversation_id: String,
    },
    /// Stream chat lines this connection's lane skipped (it read too slowly), said
    /// before the next line it gets. Never sent to another node.
    #[serde(skip)]
    ChatSkipped {
        count: u64,
    },
    /// The server drops this connection (its outbound queue overflowed). Not encoded,
    /// and never sent to another node.
    #[serde(skip)]
    Disconnect {
        reason: Cow<'static, str>,
    },
}

/// What a WebRTC signal relays between two peers (seed 002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RelayKind {
    Offer,
    Answer,
    IceCandidate,
}

impl RelayKind {
    /// As metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            RelayKind::Offer => "offer",
            RelayKind::Answer => "answer",
            RelayKind::IceCandidate => "ice_candidate",
        }
    }
}

/// Seed 002's WebRTC signalling frames.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Signal {
    Registered {
        peer_id: String,
        user_type: Cow<'static, str>,
    },
    /// An offer, answer or ICE candidate, relayed to `to`.
    Relay {
        kind: RelayKind,
        from: String,
        to: String,
        payload: serde_json::Value,
    },
    BroadcasterAvailable {
        broadcaster: String,
    },
    BroadcastStopped {
        broadcaster: String,
    },
    NewCustomer {
        customer_id: String,
    },
}

/// How a recipient relates to an event: the dialects may word it differently for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Audience {
    /// The connection whose command caused the event.
    pub sender: bool,
    /// A member of the conversation's room.
    pub in_room: bool,
    /// A staff connection.
    pub staff: bool,
}

impl Audience {
    fn index(self) -> usize {
        usize::from(self.sender) | usize::from(self.in_room) << 1 | usize::from(self.staff) << 2
    }
}

const AUDIENCES: usize = 8;

/// Wire encodings an event's frames are kept for: each dialect has its own slot
/// (`Encoding`), and the domain knows none of them.
pub const ENCODINGS: usize = 8;

/// A dialect's slot in an event's frame cache, below `ENCODINGS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding(pub u8);

/// An event on its way to many connections.
#[derive(Debug)]
pub struct Outbound {
    pub event: Event,
    encoded: [OnceLock<Option<ByteString>>; ENCODINGS * AUDIENCES],
}

impl Outbound {
    pub fn new(event: Event) -> Self {
        Outbound {
            event,
            encoded: std::array::from_fn(|_| OnceLock::new()),
        }
    }

    /// The frame in this encoding for this audience, encoded on first use; `None` if it
    /// has none.
    pub fn encoded(
        &self,
        encoding: Encoding,
        audience: Audience,
        encode: impl FnOnce(&Event, Audience) -> Option<ByteString>,
    ) -> Option<ByteString> {
        let slot = usize::from(encoding.0) % ENCODINGS * AUDIENCES + audience.index();
        self.encoded[slot]
            .get_or_init(|| encode(&self.event, audience))
            .clone()
    }
}
