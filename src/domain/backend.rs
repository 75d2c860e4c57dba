//! What the shop's backend sees of conversations and messages: one shape for webhook
//! payloads and the server API alike.

use serde::Serialize;

use super::conversation::Conversation;
use super::message::{iso_timestamp, Message};

/// A conversation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationData {
    pub id: String,
    /// The signed-in customer's user id, if it is theirs.
    pub customer_id: Option<String>,
    /// The guest's id, if a guest's.
    pub guest_id: Option<String>,
    pub customer_name: String,
    pub subject: Option<String>,
    pub category: Option<String>,
    pub priority: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// waiting, active, resolved or closed.
    pub status: String,
    pub assigned_agent_id: Option<String>,
    /// The seq of its latest message.
    pub last_seq: i64,
    pub created_at: String,
    pub updated_at: String,
    /// Staff's labels.
    pub labels: Vec<String>,
    /// The customer's rating (1 to 5), once given.
    pub rating: Option<u8>,
    pub rating_comment: Option<String>,
}

impl From<&Conversation> for ConversationData {
    fn from(c: &Conversation) -> Self {
        ConversationData {
            id: c.id.clone(),
            customer_id: c.owner.user_id().map(str::to_owned),
            guest_id: c.owner.guest_id().map(str::to_owned),
            customer_name: c.customer_name.clone(),
            subject: c.subject.clone(),
            category: c.category.clone(),
            priority: c.priority.clone(),
            kind: c.kind.clone(),
            status: c.status.as_str().to_owned(),
            assigned_agent_id: c.assigned_agent_id.clone(),
            last_seq: c.last_seq,
            created_at: iso_timestamp(c.created_at),
            updated_at: iso_timestamp(c.updated_at),
            labels: c.labels.clone(),
            rating: c.rating.as_ref().map(|r| r.score),
            rating_comment: c.rating.as_ref().and_then(|r| r.comment.clone()),
        }
    }
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentData {
    pub id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    /// Where it is downloaded (with a token that may see the conversation).
    pub url: String,
}

/// A message; `senderKind` lets a backend keep only, say, customers' messages.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageData {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub sender_id: String,
    /// customer, guest, agent, admin, system or bot.
    pub sender_kind: String,
    pub sender_name: String,
    pub content: String,
    pub message_type: String,
    /// The sender's idempotency key (`Idempotency-Key` on the server API).
    pub client_id: Option<String>,
    pub created_at: String,
    pub attachments: Vec<AttachmentData>,
    /// A staff note the customer never sees.
    pub private: bool,
}

impl From<&Message> for MessageData {
    fn from(m: &Message) -> Self {
        MessageData {
            id: m.id.clone(),
            conversation_id: m.conversation_id.clone(),
            seq: m.seq,
            sender_id: m.author.id.clone(),
            sender_kind: m.author.kind.as_str().to_owned(),
            sender_name: m.author.name.clone(),
            content: m.content.clone(),
            message_type: m.message_type.clone(),
            client_id: m.client_id.clone(),
            created_at: iso_timestamp(m.created_at),
            attachments: m
                .attachments
                .iter()
                .map(|a| AttachmentData {
                    id: a.id.clone(),
                    file_name: a.file_name.clone(),
                    content_type: a.content_type.clone(),
                    size: a.size,
                    url: a.url(),
                })
                .collect(),
            private: m.private,
        }
    }
}
