//! Seed 004's "session" vocabulary (snake_case): the shapes of its REST API, reused by
//! its Socket.IO events later.

use serde_json::{json, Value};

use crate::domain::conversation::ConversationView;
use crate::domain::message::iso_timestamp;
use crate::domain::message::Attachment;
use crate::domain::Message;

/// Seed 004's `sender_role`: customer (guests too), agent, admin, system.
pub fn sender_role(sender_type: &str) -> &str {
    match sender_type {
        "guest" => "customer",
        // The shop's bots speak for the support side.
        "bot" => "agent",
        other => other,
    }
}

pub fn message_json(m: &Message) -> Value {
    json!({
        "id": m.id,
        "session_id": m.conversation_id,
        "seq": m.seq,
        "sender_id": m.author.id,
        "sender_role": sender_role(m.author.kind.as_str()),
        "sender_name": m.author.name,
        "content": m.content,
        "message_type": m.message_type,
        "created_at": iso_timestamp(m.created_at),
        "temp_id": m.client_id,
        "attachments": m.attachments.iter().map(attachment_json).collect::<Vec<_>>(),
        "read_by": m.read_by,
        "is_read": m.is_read(),
    })
}

/// Seed 004's attachment fields.
pub fn attachment_json(a: &Attachment) -> Value {
    json!({
        "id": a.id,
        "file_name": a.file_name,
        "file_url": a.url(),
        "file_size": a.size,
        "file_type": a.content_type,
    })
}

pub fn session_json(c: &ConversationView) -> Value {
    let r = &c.conversation;
    let mut v = json!({
        "id": r.id,
        "subject": r.subject,
        "category": r.category,
        "priority": r.priority,
        "status": r.status.as_str(),
        "type": r.kind,
        "customer_id": r.owner.user_id().or(r.owner.guest_id()),
        "customer_name": r.customer_name,
        "agent_id": r.assigned_agent_id,
        "last_seq": r.last_seq,
        "created_at": iso_timestamp(r.created_at),
        "updated_at": iso_timestamp(r.updated_at),
    });
    if let Some(n) = c.unread_count {
        v["unread_count"] = json!(n);
    }
    if c.unread_count.is_some() {
        v["last_message"] = c
            .last_message
            .as_ref()
            .map(message_json)
            .unwrap_or(Value::Null);
    }
    v
}
