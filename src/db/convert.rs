//! Rows to domain values: the one place that knows how each is stored.

use super::models::{AttachmentRow, ConversationRow, MessageRow, StreamRow};
use crate::domain::conversation::{Conversation, Owner, Status};
use crate::domain::customer::{Attributes, CustomerInfo};
use crate::domain::message::{Attachment, Author, Message, SenderKind};
use crate::domain::stream::Stream;

/// Who a stored conversation belongs to.
pub fn owner_of(row: &ConversationRow) -> Owner {
    match (&row.customer_user_id, &row.guest_id) {
        (Some(u), _) => Owner::User(u.clone()),
        (None, Some(g)) => Owner::Guest(g.clone()),
        (None, None) => Owner::Anonymous(row.anon_key.clone()),
    }
}

impl From<ConversationRow> for Conversation {
    fn from(row: ConversationRow) -> Self {
        Conversation {
            owner: owner_of(&row),
            // Only this server writes statuses; an unknown one reads as new.
            status: Status::parse(&row.status).unwrap_or(Status::Waiting),
            id: row.id,
            customer_name: row.customer_name,
            subject: row.subject,
            category: row.category,
            priority: row.priority,
            kind: row.conversation_type,
            assigned_agent_id: row.assigned_agent_id,
            last_seq: row.last_seq,
            created_at: row.created_at,
            updated_at: row.updated_at,
            labels: row
                .labels
                .split(',')
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            rating: match (row.rating, row.rated_at) {
                (Some(score), Some(at)) => Some(crate::domain::conversation::Rating {
                    score: score.clamp(1, 5) as u8,
                    comment: row.rating_comment,
                    rated_at: at,
                }),
                _ => None,
            },
            snoozed_until: row.snoozed_until,
            customer: CustomerInfo {
                email: row.contact_email,
                context: row.customer_context.as_deref().and_then(stored_json),
                attributes: row
                    .customer_attributes
                    .as_deref()
                    .and_then(stored_json)
                    .unwrap_or_default(),
            },
        }
    }
}

/// A JSON column as written by `db::writes`; unreadable (never expected) reads as none.
fn stored_json<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_str(text)
        .inspect_err(|e| log::warn!("a stored customer detail is unreadable: {e}"))
        .ok()
}

/// Attributes as stored: a JSON object, or NULL for none.
pub fn stored_attributes(attributes: &Attributes) -> Option<String> {
    (!attributes.is_empty()).then(|| serde_json::json!(attributes).to_string())
}

/// Labels as stored: each between commas (`,a,b,`), so `%,a,%` finds one; `` for none.
pub fn stored_labels(labels: &[String]) -> String {
    match labels {
        [] => String::new(),
        _ => format!(",{},", labels.join(",")),
    }
}

/// The stored form of one label, as a filter looks for it.
pub fn label_pattern(label: &str) -> String {
    format!("%,{label},%")
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

/// A stored message with the rows of `files` that belong to it.
pub fn message(r: MessageRow, files: &[AttachmentRow]) -> Message {
    let attachments = files
        .iter()
        .filter(|a| a.message_id.as_deref() == Some(r.id.as_str()))
        .cloned()
        .map(Attachment::from)
        .collect();
    Message {
        author: Author {
            kind: SenderKind::parse(&r.sender_kind).unwrap_or(SenderKind::Customer),
            id: r.sender_id,
            name: r.sender_name,
        },
        id: r.id,
        conversation_id: r.conversation_id,
        seq: r.seq,
        content: r.content,
        message_type: r.message_type,
        client_id: r.client_id,
        created_at: r.created_at,
        read_by: Vec::new(),
        attachments,
        private: r.private,
    }
}

impl From<MessageRow> for Message {
    fn from(r: MessageRow) -> Self {
        message(r, &[])
    }
}

impl From<StreamRow> for Stream {
    fn from(r: StreamRow) -> Self {
        Stream {
            id: r.id,
            title: r.title,
            description: r.description,
            stream_url: r.stream_url,
            quality: r.quality,
            started_by: r.started_by,
            started_at: r.started_at,
            ended_at: r.ended_at,
            peak_viewers: r.peak_viewers,
            likes: r.likes,
        }
    }
}

impl From<&Stream> for StreamRow {
    fn from(s: &Stream) -> Self {
        StreamRow {
            id: s.id.clone(),
            title: s.title.clone(),
            description: s.description.clone(),
            stream_url: s.stream_url.clone(),
            quality: s.quality.clone(),
            started_by: s.started_by.clone(),
            started_at: s.started_at,
            ended_at: s.ended_at,
            peak_viewers: s.peak_viewers,
            likes: s.likes,
        }
    }
}

/// A stored stream chat line, as broadcast, with its author.
pub fn chat_line(r: super::models::StreamChatRow) -> (crate::domain::stream::ChatLine, String) {
    let line = crate::domain::stream::ChatLine {
        id: r.id,
        username: r.username,
        message: r.message,
        is_admin: r.is_admin,
        timestamp: crate::domain::message::iso_timestamp(r.created_at),
    };
    (line, r.sender_id)
}

/// An endpoint as admins see it; the secrets still valid ride along, unserialized.
impl From<super::models::WebhookEndpointRow> for crate::domain::webhook::Endpoint {
    fn from(r: super::models::WebhookEndpointRow) -> Self {
        use crate::domain::message::iso_timestamp;
        let now = crate::domain::message::now_millis();
        let previous = r
            .previous_secret
            .zip(r.previous_until)
            .filter(|(_, until)| *until > now);
        let mut secrets = vec![r.secret];
        secrets.extend(previous.as_ref().map(|(s, _)| s.clone()));
        crate::domain::webhook::Endpoint {
            id: r.id,
            url: r.url,
            description: r.description,
            events: serde_json::from_str(&r.events).unwrap_or_default(),
            enabled: r.enabled,
            disabled_reason: r.disabled_reason,
            previous_secret_until: previous.map(|(_, until)| iso_timestamp(until)),
            created_at: iso_timestamp(r.created_at),
            updated_at: iso_timestamp(r.updated_at),
            secrets,
        }
    }
}

impl From<super::models::ApiKeyRow> for crate::domain::api_key::ApiKey {
    fn from(r: super::models::ApiKeyRow) -> Self {
        use crate::domain::message::iso_timestamp;
        crate::domain::api_key::ApiKey {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            scopes: r.scopes.split_whitespace().map(str::to_owned).collect(),
            created_by: r.created_by,
            created_at: iso_timestamp(r.created_at),
            revoked_at: r.revoked_at.map(iso_timestamp),
        }
    }
}

impl From<super::models::CannedRow> for crate::domain::canned::CannedResponse {
    fn from(r: super::models::CannedRow) -> Self {
        crate::domain::canned::CannedResponse {
            id: r.id,
            shortcut: r.shortcut,
            content: r.content,
            created_by: r.created_by,
            updated_at: crate::domain::message::iso_timestamp(r.updated_at),
        }
    }
}

impl From<super::models::SearchHit> for crate::domain::search::Hit {
    fn from(h: super::models::SearchHit) -> Self {
        crate::domain::search::Hit {
            message_id: h.id,
            session_id: h.conversation_id,
            seq: h.seq,
            sender_type: h.sender_kind,
            sender_name: h.sender_name,
            customer_name: h.customer_name,
            timestamp: crate::domain::message::iso_timestamp(h.created_at),
            private: h.private,
            parts: crate::domain::search::parts(&h.snippet),
        }
    }
}

impl From<&super::models::AgentRow> for crate::domain::agent::AgentSettings {
    fn from(r: &super::models::AgentRow) -> Self {
        use crate::domain::agent::Availability;
        crate::domain::agent::AgentSettings {
            // Only this server writes them; an unknown one reads as the default.
            availability: Availability::parse(&r.availability).unwrap_or_default(),
            capacity: r.capacity,
        }
    }
}
