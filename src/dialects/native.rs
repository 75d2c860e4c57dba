//! The raw-WebSocket JSON protocol of seeds 000 and 002 (`{type: ...}` frames), plus
//! our support-desk frames. Seed frames keep every field and string as written there;
//! we only add fields.

use bytestring::ByteString;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::actors::chat_server::Participant;
use crate::domain::conversation::ConversationView;
use crate::domain::message::iso_timestamp;
use crate::domain::{Audience, ChangeKind, Event, Message, Signal};
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
        #[serde(default)]
        limit: Option<i64>,
        #[serde(default)]
        offset: Option<i64>,
    },
    Ping,
}

const KNOWN_TYPES: [&str; 27] = [
    "register",
    "register_admin",
    "customer_message",
    "staff_message",
    "history",
    "join",
    "leave",
    "typing",
    "read",
    "accept",
    "assign",
    "set_status",
    "participants",
    "online_staff",
    "inbox",
    "chat_message",
    "toggle_like",
    "chat_delete",
    "chat_mute",
    "chat_slow_mode",
    "webrtc_register",
    "webrtc_offer",
    "webrtc_answer",
    "webrtc_ice_candidate",
    "webrtc_broadcast_start",
    "webrtc_broadcast_stop",
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
        /// Anonymous sessions only: what proves the session is this client's.
        session_secret: Option<&'a str>,
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
    Joined {
        conversation: &'a ConversationView,
        participants: &'a [Participant],
    },
    Left {
        session_id: &'a str,
    },
    ReadAck {
        session_id: &'a str,
        up_to_seq: i64,
    },
    Participants {
        session_id: &'a str,
        participants: &'a [Participant],
    },
    OnlineStaff {
        staff: &'a [Participant],
    },
    Inbox {
        conversations: &'a [ConversationView],
        total: i64,
    },
    Pong,
    Error(&'a AppError),
}

pub fn encode_reply(reply: &Reply) -> ByteString {
    let v = match reply {
        Reply::Registered {
            session_id,
            session_secret,
        } => {
            let mut frame =
                json!({"type": "registered", "sessionId": session_id, "status": "connected"});
            if let Some(secret) = session_secret {
                frame["sessionSecret"] = json!(secret);
            }
            frame
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
            "messages": messages.iter().map(message_json).collect::<Vec<_>>(),
            "hasMore": has_more,
        }),
        Reply::Joined {
            conversation,
            participants,
        } => json!({
            "type": "joined",
            "sessionId": conversation.row.id,
            "conversation": conversation_json(conversation),
            "participants": participants,
        }),
        Reply::Left { session_id } => json!({"type": "left", "sessionId": session_id}),
        Reply::ReadAck {
            session_id,
            up_to_seq,
        } => {
            json!({"type": "read_ack", "sessionId": session_id, "upToSeq": up_to_seq})
        }
        Reply::Participants {
            session_id,
            participants,
        } => {
            json!({"type": "participants", "sessionId": session_id, "participants": participants})
        }
        Reply::OnlineStaff { staff } => json!({"type": "online_staff", "staff": staff}),
        Reply::Inbox {
            conversations,
            total,
        } => json!({
            "type": "inbox",
            "conversations": conversations.iter().map(conversation_json).collect::<Vec<_>>(),
            "total": total,
        }),
        Reply::Pong => {
            json!({"type": "pong", "timestamp": iso_timestamp(chrono::Utc::now().naive_utc())})
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

/// A message as history and frames show it.
pub fn message_json(m: &Message) -> Value {
    let mut v = json!({
        "id": m.id,
        "sessionId": m.session_id,
        "seq": m.seq,
        "senderId": m.sender_id,
        "senderType": m.sender_type,
        "senderName": m.sender_name,
        "message": m.message,
        "type": m.message_type,
        "timestamp": m.timestamp,
                "readBy": m.read_by,
        "isRead": m.is_read(),
        "attachments": attachments_json(m),
    });
    if let Some(c) = &m.client_id {
        v["clientId"] = json!(c);
    }
    v
}

fn attachments_json(m: &Message) -> Value {
    m.attachments
        .iter()
        .map(|a| json!({"id": a.id, "fileName": a.file_name, "fileType": a.content_type, "fileSize": a.size, "fileUrl": a.url()}))
        .collect()
}

pub fn conversation_json(c: &ConversationView) -> Value {
    let r = &c.row;
    let mut v = json!({
        "id": r.id,
        "status": r.status,
        "type": r.conversation_type,
        "subject": r.subject,
        "category": r.category,
        "priority": r.priority,
        "customerId": r.customer_user_id,
        "guestId": r.guest_id,
        "customerName": r.customer_name,
        "assignedAgentId": r.assigned_agent_id,
        "lastSeq": r.last_seq,
        "createdAt": iso_timestamp(r.created_at),
        "updatedAt": iso_timestamp(r.updated_at),
    });
    if let Some(n) = c.unread_count {
        v["unreadCount"] = json!(n);
    }
    if let Some(m) = &c.last_message {
        v["lastMessage"] = message_json(m);
    }
    v
}

/// Encode a routed event for one audience; `None` when that audience gets no frame.
pub fn encode_event(event: &Event, audience: Audience) -> Option<ByteString> {
    let v = match event {
        // The sender has its `message_ack`.
        Event::MessagePosted { .. } if audience.sender => return None,
        Event::MessagePosted { message: m } => match m.sender_type.as_str() {
            "customer" | "guest" => json!({
                "type": "customer_message",
                "sessionId": m.session_id,
                "message": m.message,
                "customerName": m.sender_name,
                "timestamp": m.timestamp,
                "id": m.id,
                "seq": m.seq,
                "senderId": m.sender_id,
                "senderType": m.sender_type,
                "messageType": m.message_type,
                "attachments": attachments_json(m),
            }),
            "system" => json!({
                "type": "system_message",
                "sessionId": m.session_id,
                "message": m.message,
                "timestamp": m.timestamp,
                "id": m.id,
                "seq": m.seq,
            }),
            _ => json!({
                "type": "staff_reply",
                "message": m.message,
                "timestamp": m.timestamp,
                "sessionId": m.session_id,
                "id": m.id,
                "seq": m.seq,
                "staffId": m.sender_id,
                "staffName": m.sender_name,
                "messageType": m.message_type,
                "attachments": attachments_json(m),
            }),
        },
        Event::ConversationChanged {
            conversation,
            change,
            ..
        } => json!({
            "type": "conversation_updated",
            "change": match change { ChangeKind::Created => "created", ChangeKind::StatusChanged => "status" },
            "sessionId": conversation.row.id,
            "conversation": conversation_json(conversation),
        }),
        Event::Typing {
            conversation_id,
            participant_id,
            name,
            typing,
            expired,
        } => json!({
            "type": "typing",
            "sessionId": conversation_id,
            "userId": participant_id,
            "name": name,
            "isTyping": typing,
            "expired": expired,
        }),
        Event::Read {
            conversation_id,
            participant_id,
            up_to_seq,
            message_ids,
        } => json!({
            "type": "messages_read",
            "sessionId": conversation_id,
            "readerId": participant_id,
            "upToSeq": up_to_seq,
            "messageIds": message_ids,
        }),
        Event::Presence {
            conversation_id,
            participant_id,
            role,
            name,
            joined,
        } => json!({
            "type": if *joined { "participant_joined" } else { "participant_left" },
            "sessionId": conversation_id,
            "userId": participant_id,
            "role": role,
            "name": name,
        }),
        Event::StaffPresence {
            user_id,
            name,
            online,
        } => {
            json!({"type": "staff_presence", "userId": user_id, "name": name, "online": online})
        }
        Event::AccessRevoked { conversation_id } => json!({
            "type": "error",
            "message": "Access denied to this conversation",
            "code": "forbidden",
            "sessionId": conversation_id,
        }),
        Event::StreamStarted { stream } => json!({"type": "stream_started", "streamData": stream}),
        Event::StreamStopped { stream_id } => {
            json!({"type": "stream_stopped", "streamId": stream_id})
        }
        Event::StreamUpdate {
            viewer_count,
            likes,
            liked_by,
        } => {
            json!({"type": "stream_update", "viewerCount": viewer_count, "likes": likes, "likedBy": liked_by.as_slice()})
        }
        Event::PinnedProducts { products } => {
            json!({"type": "pinned_products_updated", "pinnedProducts": products.as_slice()})
        }
        Event::StreamChat { line } => {
            let mut v = json!(line);
            v["type"] = json!("chat_message");
            v
        }
        Event::StreamChatDeleted { message_id } => {
            json!({"type": "chat_message_deleted", "messageId": message_id})
        }
        Event::ChatSettings { slow_mode_seconds } => {
            json!({"type": "chat_settings", "slowModeSeconds": slow_mode_seconds})
        }
        Event::ChatHistory { lines } => json!({"type": "chat_history", "messages": lines}),
        Event::Signal(signal) => match signal {
            Signal::Registered { peer_id, user_type } => {
                json!({"type": "webrtc_registered", "peerId": peer_id, "userType": user_type})
            }
            Signal::Relay {
                kind,
                field,
                from,
                to,
                payload,
            } => {
                json!({"type": kind, "from": from, "to": to, *field: payload})
            }
            Signal::BroadcasterAvailable { broadcaster } => {
                json!({"type": "webrtc_broadcaster_available", "broadcaster": broadcaster})
            }
            Signal::BroadcastStopped { broadcaster } => {
                json!({"type": "webrtc_broadcast_stopped", "broadcaster": broadcaster})
            }
            Signal::NewCustomer { customer_id } => {
                json!({"type": "webrtc_new_customer", "customerId": customer_id})
            }
        },
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
