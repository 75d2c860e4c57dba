//! The raw-WebSocket JSON protocol of seeds 000 and 002: `{type: ...}` frames.
//! Field names and strings follow the seeds exactly; we only add fields.

use bytestring::ByteString;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::domain::{Event, Message};
use crate::error::{AppError, ErrorKind};

/// A client frame, parsed and typed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
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
    },
    RegisterAdmin {
        #[serde(default)]
        user_id: Option<String>,
        #[serde(default)]
        token: Option<String>,
    },
    CustomerMessage {
        message: String,
        #[serde(default)]
        client_id: Option<String>,
    },
    StaffMessage {
        session_id: String,
        content: String,
        #[serde(default)]
        client_id: Option<String>,
    },
    History {
        session_id: String,
        #[serde(default)]
        after_seq: Option<i64>,
        #[serde(default)]
        limit: Option<i64>,
    },
    Ping,
}

const KNOWN_TYPES: [&str; 6] = [
    "register",
    "register_admin",
    "customer_message",
    "staff_message",
    "history",
    "ping",
];

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
    if !KNOWN_TYPES.contains(&kind.as_str()) {
        return Err(
            AppError::new(ErrorKind::UnknownType, "Unknown message type").with_detail(kind),
        );
    }
    serde_json::from_value(value).map_err(|e| AppError::invalid_format(format!("{kind}: {e}")))
}

/// Frames sent to one connection in answer to its own command.
pub enum Reply<'a> {
    Registered {
        session_id: &'a str,
    },
    AdminRegistered {
        user_id: &'a str,
    },
    /// Sent after the message is committed.
    MessageAck {
        message: &'a Message,
    },
    History {
        session_id: &'a str,
        messages: &'a [Message],
        has_more: bool,
    },
    Pong,
    Error(&'a AppError),
}

pub fn encode_reply(reply: &Reply) -> ByteString {
    let v = match reply {
        Reply::Registered { session_id } => {
            json!({"type": "registered", "sessionId": session_id, "status": "connected"})
        }
        Reply::AdminRegistered { user_id } => {
            json!({"type": "admin_registered", "userId": user_id, "status": "connected"})
        }
        Reply::MessageAck { message } => json!({
            "type": "message_ack",
            "clientId": message.client_id,
            "id": message.id,
            "seq": message.seq,
            "sessionId": message.session_id,
            "timestamp": message.timestamp,
        }),
        Reply::History {
            session_id,
            messages,
            has_more,
        } => json!({
            "type": "history",
            "sessionId": session_id,
            "messages": messages,
            "hasMore": has_more,
        }),
        Reply::Pong => {
            json!({"type": "pong", "timestamp": crate::domain::message::iso_timestamp(chrono::Utc::now().naive_utc())})
        }
        Reply::Error(e) => {
            let mut v = json!({"type": "error", "message": e.message, "code": e.kind.code()});
            if let Some(d) = &e.detail {
                v["detail"] = json!(d);
            }
            v
        }
    };
    ByteString::from(v.to_string())
}

/// Encode a routed event; `None` for events this dialect does not carry.
pub fn encode_event(event: &Event) -> Option<ByteString> {
    let v = match event {
        Event::CustomerMessage { message: m } => json!({
            "type": "customer_message",
            "sessionId": m.session_id,
            "message": m.message,
            "customerName": m.sender_name,
            "timestamp": m.timestamp,
            "id": m.id,
            "seq": m.seq,
            "senderId": m.sender_id,
            "senderType": m.sender_type,
        }),
        Event::StaffReply { message: m } => json!({
            "type": "staff_reply",
            "message": m.message,
            "timestamp": m.timestamp,
            "sessionId": m.session_id,
            "id": m.id,
            "seq": m.seq,
            "staffId": m.sender_id,
            "staffName": m.sender_name,
        }),
        Event::Disconnect { .. } => return None,
    };
    Some(ByteString::from(v.to_string()))
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
                token: None
            }
        );
        assert_eq!(
            parse(r#"{"type":"staff_message","sessionId":"s1","content":"hi"}"#).unwrap(),
            Command::StaffMessage {
                session_id: "s1".into(),
                content: "hi".into(),
                client_id: None
            }
        );
        assert_eq!(parse(r#"{"type":"ping"}"#).unwrap(), Command::Ping);
    }

    #[test]
    fn rejects_bad_frames() {
        for (frame, kind) in [
            ("not json", ErrorKind::InvalidFormat),
            ("[1,2]", ErrorKind::InvalidFormat),
            (r#"{"sessionId":"x"}"#, ErrorKind::InvalidFormat),
            (r#"{"type":7}"#, ErrorKind::InvalidFormat),
            (r#"{"type":"launch_rockets"}"#, ErrorKind::UnknownType),
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
