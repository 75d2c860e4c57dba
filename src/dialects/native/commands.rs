//! Client frames of the native protocol, parsed into typed commands. Errors say what
//! was wrong in the seeds' words.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{AppError, ErrorKind};

/// A client frame, parsed and typed. Its variant names (snake_case) are the frame
/// types the protocol knows.
#[derive(Debug, Clone, PartialEq, Deserialize, strum::VariantNames)]
#[strum(serialize_all = "snake_case")]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Command {
    Register {
        session_id: String,
        #[serde(default)]
        token: Option<String>,
        /// A guest id the server issued (seed 003's guests).
        #[serde(default)]
        guest_id: Option<String>,
        /// An anonymous session's secret (from an earlier `registered`), for clients
        /// that keep no cookies.
        #[serde(default)]
        session_secret: Option<String>,
    },
    RegisterAdmin {
        #[serde(default)]
        user_id: Option<String>,
        #[serde(default)]
        token: Option<String>,
    },
    CustomerMessage {
        #[serde(default)]
        message: String,
        #[serde(default)]
        client_id: Option<String>,
        /// Ids of the sender's uploads (`POST /api/v1/chat/upload`) to attach.
        #[serde(default)]
        attachments: Vec<String>,
    },
    StaffMessage {
        session_id: String,
        #[serde(default)]
        content: String,
        #[serde(default)]
        client_id: Option<String>,
        #[serde(default)]
        attachments: Vec<String>,
    },
    /// A private note in a conversation, for staff only.
    StaffNote {
        session_id: String,
        #[serde(default)]
        content: String,
        #[serde(default)]
        client_id: Option<String>,
    },
    History {
        session_id: String,
        #[serde(default)]
        after_seq: Option<i64>,
        #[serde(default)]
        before_seq: Option<i64>,
        #[serde(default)]
        limit: Option<i64>,
    },
    /// Enter a conversation's room (staff; customers are in their session's room).
    Join {
        session_id: String,
    },
    Leave {
        session_id: String,
    },
    Typing {
        session_id: String,
        is_typing: bool,
    },
    /// Read up to a seq, the given messages, or (neither) everything.
    Read {
        session_id: String,
        #[serde(default)]
        up_to_seq: Option<i64>,
        #[serde(default)]
        message_ids: Option<Vec<String>>,
    },
    Accept {
        session_id: String,
    },
    Assign {
        session_id: String,
        agent_id: String,
        #[serde(default)]
        agent_name: Option<String>,
    },
    SetStatus {
        session_id: String,
        status: String,
    },
    Participants {
        session_id: String,
    },
    OnlineStaff,
    /// The caller's conversations (staff: all) with unread counts, newest activity first.
    /// Seed 002's stream chat; `username` counts only for viewers without a token.
    ChatMessage {
        message: String,
        #[serde(default)]
        username: Option<String>,
    },
    /// Seed 002: like or unlike the live stream.
    ToggleLike,
    /// A reaction to the live stream, one of `domain::stream::REACTIONS`.
    Reaction {
        emoji: String,
    },
    /// Staff moderation of stream chat.
    ChatDelete {
        message_id: String,
    },
    ChatMute {
        message_id: String,
        duration_seconds: u64,
    },
    ChatSlowMode {
        seconds: u64,
    },
    /// Staff: the longest line and the lines a viewer may write a minute (0: no limit).
    ChatLimits {
        #[serde(default)]
        max_chars: Option<u32>,
        #[serde(default)]
        per_minute: Option<u32>,
    },
    /// Staff: pin a chat line (`messageId`) or an announcement (`message`) above the
    /// chat, for `durationSeconds` or until unpinned.
    ChatPin {
        #[serde(default)]
        message_id: Option<String>,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        duration_seconds: Option<u64>,
    },
    ChatUnpin,
    /// Staff or a moderator: no writing for a time, for the author of a line
    /// (`messageId`) or a viewer (`userId`: the id their lines are written as).
    ChatTimeout {
        #[serde(default)]
        message_id: Option<String>,
        #[serde(default)]
        user_id: Option<String>,
        duration_seconds: u64,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Staff or a moderator: no writing until lifted.
    ChatBan {
        #[serde(default)]
        message_id: Option<String>,
        #[serde(default)]
        user_id: Option<String>,
        #[serde(default)]
        reason: Option<String>,
    },
    ChatUnban {
        #[serde(default)]
        message_id: Option<String>,
        #[serde(default)]
        user_id: Option<String>,
    },
    /// Staff: make the author of a line, or a viewer, a moderator.
    ChatModeratorAdd {
        #[serde(default)]
        message_id: Option<String>,
        #[serde(default)]
        user_id: Option<String>,
        #[serde(default)]
        name: Option<String>,
    },
    ChatModeratorRemove {
        user_id: String,
    },
    WebrtcRegister {
        peer_id: String,
        user_type: String,
    },
    WebrtcOffer {
        from: String,
        to: String,
        offer: Value,
    },
    WebrtcAnswer {
        from: String,
        to: String,
        answer: Value,
    },
    WebrtcIceCandidate {
        from: String,
        to: String,
        candidate: Value,
    },
    WebrtcBroadcastStart {
        peer_id: String,
    },
    WebrtcBroadcastStop {
        peer_id: String,
    },
    Inbox {
        #[serde(default)]
        status: Option<String>,
        /// Staff: only conversations with this label.
        #[serde(default)]
        label: Option<String>,
        #[serde(default)]
        limit: Option<i64>,
        #[serde(default)]
        offset: Option<i64>,
    },
    /// Staff: out of the inbox until `until` (or until the customer writes); `null`
    /// wakes it.
    Snooze {
        session_id: String,
        #[serde(default)]
        until: Option<String>,
    },
    /// A customer rates their resolved conversation: 1 to 5, and a comment.
    Rate {
        rating: i64,
        #[serde(default)]
        comment: Option<String>,
    },
    /// A customer: the page and browser they write from (the widget sends it on each
    /// page), kept with their conversation for staff.
    CustomerContext {
        #[serde(default)]
        page_url: Option<String>,
        #[serde(default)]
        page_title: Option<String>,
        #[serde(default)]
        browser: Option<String>,
        #[serde(default)]
        time_zone: Option<String>,
    },
    /// Staff: say whether they take new conversations (`online`, `away`, `busy`); an
    /// admin may say it for another agent (`userId`).
    SetAvailability {
        availability: String,
        #[serde(default)]
        user_id: Option<String>,
    },
    /// Admins: an agent's capacity for auto-assignment (`null`: the server's default).
    SetCapacity {
        user_id: String,
        capacity: Option<i64>,
    },
    /// Staff: the queue, and the agents.
    Queue,
    /// Staff: search conversations by customer and messages by text.
    Search {
        q: String,
        #[serde(default)]
        limit: Option<i64>,
        #[serde(default)]
        offset: Option<i64>,
    },
    /// Staff: label a conversation, or take a label off.
    AddLabel {
        session_id: String,
        label: String,
    },
    RemoveLabel {
        session_id: String,
        label: String,
    },
    Ping,
}

/// Parse one text frame. Errors say what was wrong in the seeds' words.
pub fn parse(text: &str) -> Result<Command, AppError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| AppError::invalid_format(format!("malformed JSON: {e}")))?;
    let kind = match value.get("type") {
        None if value.is_object() => return Err(AppError::invalid_format("missing \"type\"")),
        None => return Err(AppError::invalid_format("expected a JSON object")),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(AppError::invalid_format("\"type\" must be a string")),
    };
    if !<Command as strum::VariantNames>::VARIANTS.contains(&kind.as_str()) {
        return Err(
            AppError::new(ErrorKind::UnknownType, "Unknown message type").with_detail(kind),
        );
    }
    serde_json::from_value(value).map_err(|e| AppError::invalid_format(format!("{kind}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_seed_frames() {
        assert_eq!(
            parse(r#"{"type":"register","sessionId":"s1","token":null}"#).unwrap(),
            Command::Register {
                session_id: "s1".into(),
                token: None,
                guest_id: None,
                session_secret: None,
            }
        );
        assert_eq!(
            parse(r#"{"type":"staff_message","sessionId":"s1","content":"hi"}"#).unwrap(),
            Command::StaffMessage {
                session_id: "s1".into(),
                content: "hi".into(),
                client_id: None,
                attachments: vec![]
            }
        );
        assert_eq!(parse(r#"{"type":"ping"}"#).unwrap(), Command::Ping);
        assert_eq!(
            parse(r#"{"type":"typing","sessionId":"s","isTyping":true}"#).unwrap(),
            Command::Typing {
                session_id: "s".into(),
                is_typing: true
            }
        );
    }

    #[test]
    fn rejects_bad_frames() {
        for (frame, kind) in [
            ("not json", ErrorKind::InvalidFormat),
            ("[1,2]", ErrorKind::InvalidFormat),
            (r#"{"sessionId":"x"}"#, ErrorKind::InvalidFormat),
            (r#"{"type":7}"#, ErrorKind::InvalidFormat),
            (r#"{"type":"launch_rockets"}"#, ErrorKind::UnknownType),
            (r#"{"type":"pong"}"#, ErrorKind::UnknownType),
            (
                r#"{"type":"register","sessionId":5}"#,
                ErrorKind::InvalidFormat,
            ),
        ] {
            let e = parse(frame).unwrap_err();
            assert_eq!(e.kind, kind, "{frame}");
        }
        assert_eq!(parse("{").unwrap_err().message, "Invalid message format");
    }
}
