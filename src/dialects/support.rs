//! Seed 003's "support" vocabulary (camelCase): the shapes of its REST API, reused by
//! its `/support` Socket.IO namespace later.

use serde_json::{json, Value};

use crate::domain::conversation::ConversationView;
use crate::domain::message::iso_timestamp;
use crate::domain::Message;

/// Seed 003's `senderType`: user, admin (all staff, and the shop's bots), guest, system.
pub fn sender_type(kind: &str) -> &str {
    match kind {
        "customer" => "user",
        "agent" | "admin" | "bot" => "admin",
        other => other,
    }
}

pub fn message_json(m: &Message) -> Value {
    let guest = m.author.kind.as_str() == "guest";
    let system = m.author.kind.as_str() == "system";
    json!({
        "id": m.id,
        "conversationId": m.conversation_id,
        "seq": m.seq,
        "senderId": if guest || system { Value::Null } else { json!(m.author.id) },
        "senderType": sender_type(m.author.kind.as_str()),
        "senderName": m.author.name,
        "guestId": if guest { json!(m.author.id) } else { Value::Null },
        "message": m.content,
        "messageType": m.message_type,
        "isRead": m.is_read(),
        "readBy": m.read_by,
        "attachments": m.attachments.iter().map(crate::dialects::chat_sessions::attachment_json).collect::<Vec<_>>(),
        "createdAt": iso_timestamp(m.created_at),
    })
}

pub fn conversation_json(c: &ConversationView) -> Value {
    let r = &c.conversation;
    let mut v = json!({
        "id": r.id,
        "userId": r.owner.user_id(),
        "guestId": r.owner.guest_id(),
        "adminId": r.assigned_agent_id,
        "type": r.kind,
        "subject": r.subject,
        "category": r.category,
        "priority": r.priority,
        "status": r.status.as_str(),
        "customerName": r.customer_name,
        "user": r.owner.user_id().map(|id| json!({"id": id, "name": r.customer_name})),
        "admin": r.assigned_agent_id.as_ref().map(|id| json!({"id": id})),
        "lastSeq": r.last_seq,
        "createdAt": iso_timestamp(r.created_at),
        "updatedAt": iso_timestamp(r.updated_at),
    });
    if let Some(n) = c.unread_count {
        v["unreadCount"] = json!(n);
        v["lastMessage"] = c
            .last_message
            .as_ref()
            .map(message_json)
            .unwrap_or(Value::Null);
    }
    v
}

/// Seed 003's pagination object.
pub fn pagination(page: i64, limit: i64, total: i64) -> Value {
    let total_pages = (total + limit - 1) / limit;
    json!({"page": page, "limit": limit, "total": total, "totalPages": total_pages, "hasMore": page < total_pages})
}
