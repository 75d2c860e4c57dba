//! A stored message and who wrote it.

use chrono::{NaiveDateTime, Utc};

/// What kind of participant wrote a message (DESIGN.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SenderKind {
    Customer,
    Guest,
    Agent,
    Admin,
    System,
    /// The shop's backend, speaking as a named bot (the server API).
    Bot,
}

impl SenderKind {
    pub const ALL: [SenderKind; 6] = [
        SenderKind::Customer,
        SenderKind::Guest,
        SenderKind::Agent,
        SenderKind::Admin,
        SenderKind::System,
        SenderKind::Bot,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SenderKind::Customer => "customer",
            SenderKind::Guest => "guest",
            SenderKind::Agent => "agent",
            SenderKind::Admin => "admin",
            SenderKind::System => "system",
            SenderKind::Bot => "bot",
        }
    }

    pub fn parse(s: &str) -> Option<SenderKind> {
        SenderKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Written by the conversation's customer (signed in or not).
    pub fn is_customer(self) -> bool {
        matches!(self, SenderKind::Customer | SenderKind::Guest)
    }
}

/// Who writes a message: set by the server from the connection's identity, never by the client.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Author {
    pub id: String,
    pub kind: SenderKind,
    pub name: String,
}

/// A committed message, shared read-only between everyone it is delivered to.
/// Each dialect renders it in its own shape.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub author: Author,
    pub content: String,
    /// `text`, `image`, `file`, `system` or `auth_code`.
    pub message_type: String,
    /// The sender's idempotency key (`clientId`, `temp_id`).
    pub client_id: Option<String>,
    pub created_at: NaiveDateTime,
    /// Participants other than the sender whose read cursor has passed this message.
    pub read_by: Vec<String>,
    pub attachments: Vec<Attachment>,
    /// A staff note: delivered to and read by staff only, and only where the protocol
    /// has a word for it (the native one).
    pub private: bool,
}

/// Whether a read of a conversation's messages includes staff's private notes. Only a
/// staff caller on a surface that marks notes gets `Shown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notes {
    Shown,
    Hidden,
}

/// A file attached to a message; its bytes are served at `url()`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Attachment {
    pub id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
}

impl Attachment {
    pub fn url(&self) -> String {
        format!("/api/v1/chat/attachments/{}", self.id)
    }
}

/// A stored file and what decides who may have it: its message's conversation (none
/// until sent) and its uploader.
#[derive(Debug, Clone, PartialEq)]
pub struct AttachmentFile {
    pub attachment: Attachment,
    /// Where its bytes are kept (content-addressed).
    pub sha256: String,
    pub conversation_id: Option<String>,
    pub uploader_id: String,
}

/// How to page through a conversation's messages; every page is oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryPage {
    /// Resume: messages after a seq (ours).
    After { seq: i64, limit: i64 },
    /// Scroll back: messages before a seq (ours).
    Before { seq: i64, limit: i64 },
    /// `limit`/`offset` (seeds 001, 004) and `page`/`limit` (seed 003).
    Offset { offset: i64, limit: i64 },
}

impl Message {
    pub fn is_read(&self) -> bool {
        !self.read_by.is_empty()
    }

    /// Fill `read_by` from the conversation's read cursors.
    pub fn with_readers(mut self, cursors: &[(String, i64)]) -> Self {
        self.read_by = cursors
            .iter()
            .filter(|(who, seq)| *seq >= self.seq && *who != self.author.id)
            .map(|(who, _)| who.clone())
            .collect();
        self
    }
}

/// JavaScript's `Date.toISOString()` format, which every seed uses.
pub fn iso_timestamp(t: NaiveDateTime) -> String {
    t.format(ISO_FORMAT).to_string()
}

const ISO_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// A time `iso_timestamp` wrote.
pub fn parse_iso(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, ISO_FORMAT).ok()
}

/// Now, in UTC, truncated to milliseconds so it round-trips through both databases unchanged.
pub fn now_millis() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    chrono::DateTime::from_timestamp_millis(now.and_utc().timestamp_millis())
        .map(|d| d.naive_utc())
        .unwrap_or(now)
}
