//! A stored message and who wrote it.

use chrono::{NaiveDateTime, Utc};

use crate::db::models::{AttachmentRow, MessageRow};

/// What kind of participant wrote a message (DESIGN.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SenderKind {
    Customer,
    Guest,
    Agent,
    Admin,
    System,
}

impl SenderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SenderKind::Customer => "customer",
            SenderKind::Guest => "guest",
            SenderKind::Agent => "agent",
            SenderKind::Admin => "admin",
            SenderKind::System => "system",
        }
    }
}

/// Who writes a message: set by the server from the connection's identity, never by the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub id: String,
    pub kind: SenderKind,
    pub name: String,
}

/// A committed message, shared read-only between everyone it is delivered to.
/// Each dialect renders it in its own shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: String,
    pub session_id: String,
    pub seq: i64,
    pub sender_id: String,
    pub sender_type: String,
    pub sender_name: String,
    pub message: String,
    pub message_type: String,
    pub timestamp: String,
    pub client_id: Option<String>,
    /// Participants other than the sender whose read cursor has passed this message.
    pub read_by: Vec<String>,
    pub attachments: Vec<Attachment>,
}

/// A file attached to a message; its bytes are served at `url()`.
#[derive(Debug, Clone, PartialEq)]
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

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Attachment {
            id: r.id,
            file_name: r.file_name,
            content_type: r.content_type,
            size: r.size,
        }
    }
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        Message {
            id: r.id,
            session_id: r.conversation_id,
            seq: r.seq,
            sender_id: r.sender_id,
            sender_type: r.sender_kind,
            sender_name: r.sender_name,
            message: r.content,
            message_type: r.message_type,
            timestamp: iso_timestamp(r.created_at),
            client_id: r.client_id,
            read_by: Vec::new(),
            attachments: Vec::new(),
        }
    }
}

impl Message {
    pub fn is_read(&self) -> bool {
        !self.read_by.is_empty()
    }

    /// Attach the rows of `all` that belong to this message.
    pub fn with_attachments(mut self, all: &[AttachmentRow]) -> Self {
        self.attachments = all
            .iter()
            .filter(|a| a.message_id.as_deref() == Some(self.id.as_str()))
            .cloned()
            .map(Attachment::from)
            .collect();
        self
    }

    /// Fill `read_by` from the conversation's read cursors.
    pub fn with_readers(mut self, cursors: &[(String, i64)]) -> Self {
        self.read_by = cursors
            .iter()
            .filter(|(who, seq)| *seq >= self.seq && *who != self.sender_id)
            .map(|(who, _)| who.clone())
            .collect();
        self
    }
}

/// JavaScript's `Date.toISOString()` format, which every seed uses.
pub fn iso_timestamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Now, in UTC, truncated to milliseconds so it round-trips through both databases unchanged.
pub fn now_millis() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    chrono::DateTime::from_timestamp_millis(now.and_utc().timestamp_millis())
        .map(|d| d.naive_utc())
        .unwrap_or(now)
}
