//! The seeds' answer shapes, as their documents fix them (`dialects/` writes them).
//! These types only describe: `tests/openapi/` checks every one against the real
//! server's answers, field by field, so a change on either side fails there.

use utoipa::ToSchema;

// ---- seed 000: the native protocol's REST ------------------------------------------

/// A message as `/ws` history and seed 000's REST show it.
#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct NativeMessage {
    pub id: String,
    pub sessionId: String,
    pub seq: i64,
    pub senderId: String,
    /// customer, guest, agent, admin, system or bot.
    pub senderType: String,
    pub senderName: String,
    pub message: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: String,
    pub readBy: Vec<String>,
    pub isRead: bool,
    pub attachments: Vec<NativeAttachment>,
    /// The sender's `clientId`, when it gave one.
    pub clientId: Option<String>,
    /// A staff note (staff only ever get these).
    pub private: bool,
}

/// A conversation in the native shape (staff see its `labels` too).
#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct NativeConversation {
    pub id: String,
    /// waiting, active, resolved or closed.
    pub status: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub subject: Option<String>,
    pub category: Option<String>,
    pub priority: String,
    pub customerId: Option<String>,
    pub guestId: Option<String>,
    pub customerName: String,
    pub assignedAgentId: Option<String>,
    pub lastSeq: i64,
    pub createdAt: String,
    pub updatedAt: String,
    /// Staff's labels: for staff only.
    pub labels: Option<Vec<String>>,
    /// Snoozed until then (staff only; `null`: not snoozed).
    pub snoozedUntil: Option<String>,
    /// Who the customer is (staff only).
    pub customer: Option<NativeCustomer>,
    pub rating: Option<NativeRating>,
    pub unreadCount: Option<i64>,
    pub lastMessage: Option<NativeMessage>,
}

/// Who the customer is, beside their conversation (staff only).
#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct NativeCustomer {
    /// Left with a message while the desk was closed.
    pub email: Option<String>,
    /// The page the widget last said they were on, and its title.
    pub pageUrl: Option<String>,
    pub pageTitle: Option<String>,
    pub browser: Option<String>,
    /// Their IANA time zone (their local time follows from it).
    pub timeZone: Option<String>,
    /// When the widget last said so.
    pub seenAt: Option<String>,
    /// The `attributes` claim of their token: names to texts.
    #[schema(value_type = Object)]
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// The customer's rating of a resolved conversation.
#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct NativeRating {
    /// 1 to 5.
    pub score: u8,
    pub comment: Option<String>,
    pub ratedAt: String,
}

/// A page of conversations.
#[derive(serde::Serialize, ToSchema)]
pub struct NativeConversations {
    pub success: bool,
    pub data: Vec<NativeConversation>,
    pub total: i64,
}

#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct NativeAttachment {
    pub id: String,
    pub fileName: String,
    pub fileType: String,
    pub fileSize: i64,
    pub fileUrl: String,
}

/// `POST /api/chat/send-to-staff`.
#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct SentToStaff {
    pub success: bool,
    /// "Message sent to staff".
    pub message: String,
    pub data: NativeMessage,
    /// An anonymous session's secret (for clients without the cookie).
    pub sessionSecret: Option<String>,
}

/// `GET /api/chat/sessions/{sessionId}/messages`.
#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct NativeHistory {
    pub success: bool,
    pub sessionId: String,
    pub messages: Vec<NativeMessage>,
    pub hasMore: bool,
}

// ---- seed 003: the support widget's REST -------------------------------------------

/// A message in seed 003's words.
#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct SupportMessage {
    pub id: String,
    pub conversationId: String,
    pub seq: i64,
    pub senderId: Option<String>,
    /// user, admin, guest or system.
    pub senderType: String,
    pub senderName: String,
    pub guestId: Option<String>,
    pub message: String,
    pub messageType: String,
    pub isRead: bool,
    pub readBy: Vec<String>,
    pub attachments: Vec<SessionAttachment>,
    pub createdAt: String,
}

#[derive(serde::Serialize, ToSchema)]
pub struct IdAndName {
    pub id: String,
    pub name: Option<String>,
}

/// A conversation in seed 003's words.
#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct SupportConversation {
    pub id: String,
    pub userId: Option<String>,
    pub guestId: Option<String>,
    pub adminId: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub subject: Option<String>,
    pub category: Option<String>,
    pub priority: String,
    pub status: String,
    pub customerName: String,
    pub user: Option<IdAndName>,
    pub admin: Option<IdAndName>,
    pub lastSeq: i64,
    pub createdAt: String,
    pub updatedAt: String,
    /// For the caller, where the answer is made for one.
    pub unreadCount: Option<i64>,
    pub lastMessage: Option<SupportMessage>,
}

/// Seed 003's conversation answer: the conversation's fields, and the same again
/// under `conversation`.
#[derive(serde::Serialize, ToSchema)]
pub struct SupportConversationAnswer {
    #[schema(inline)]
    #[serde(flatten)]
    pub fields: SupportConversation,
    pub conversation: SupportConversation,
    pub success: bool,
}

/// `POST /api/support/conversation/guest`.
#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct GuestConversation {
    pub success: bool,
    pub conversation: SupportConversation,
    pub guestId: String,
    /// It was started by this request.
    pub created: bool,
}

#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct Pagination {
    pub page: i64,
    pub limit: i64,
    pub total: i64,
    pub totalPages: i64,
    pub hasMore: bool,
}

#[derive(serde::Serialize, ToSchema)]
pub struct SupportMessages {
    pub success: bool,
    pub messages: Vec<SupportMessage>,
    pub pagination: Pagination,
}

/// `GET /api/support/availability`.
#[derive(serde::Serialize, ToSchema)]
pub struct AvailabilityAnswer {
    #[schema(inline)]
    #[serde(flatten)]
    pub fields: crate::domain::office_hours::DeskAvailability,
    pub success: bool,
}

/// `POST /api/support/offline-message`.
#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct OfflineMessageAnswer {
    pub success: bool,
    pub conversation: SupportConversation,
    pub message: SupportMessage,
    /// The office hours' automatic reply, when the desk is closed and one is set.
    pub autoReply: Option<SupportMessage>,
}

#[derive(serde::Serialize, ToSchema)]
pub struct SupportConversations {
    pub success: bool,
    pub conversations: Vec<SupportConversation>,
    pub pagination: Pagination,
}

/// `POST /api/support/onboarding/generate-code`.
#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct GeneratedCode {
    pub success: bool,
    /// Six digits.
    pub code: String,
    pub expiresAt: String,
    pub conversationId: String,
}

#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct VerifiedCodeData {
    pub authCodeId: String,
    pub userId: Option<String>,
}

/// `POST /api/support/onboarding/verify-code`.
#[derive(serde::Serialize, ToSchema)]
pub struct VerifiedCode {
    pub success: bool,
    pub data: VerifiedCodeData,
}

// ---- seed 004: the agent sessions' REST --------------------------------------------

/// An attachment in seed 004's words (seed 003 shows them the same way).
#[derive(serde::Serialize, ToSchema)]
pub struct SessionAttachment {
    pub id: String,
    pub file_name: String,
    pub file_url: String,
    pub file_size: i64,
    pub file_type: String,
}

/// A message in seed 004's words.
#[derive(serde::Serialize, ToSchema)]
pub struct SessionMessage {
    pub id: String,
    pub session_id: String,
    pub seq: i64,
    pub sender_id: String,
    /// customer, agent, admin or system.
    pub sender_role: String,
    pub sender_name: String,
    pub content: String,
    pub message_type: String,
    pub created_at: String,
    pub temp_id: Option<String>,
    pub attachments: Vec<SessionAttachment>,
    pub read_by: Vec<String>,
    pub is_read: bool,
}

/// A session (conversation) in seed 004's words.
#[derive(serde::Serialize, ToSchema)]
pub struct Session {
    pub id: String,
    pub subject: Option<String>,
    pub category: Option<String>,
    pub priority: String,
    pub status: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub customer_id: Option<String>,
    pub customer_name: String,
    pub agent_id: Option<String>,
    pub last_seq: i64,
    pub created_at: String,
    pub updated_at: String,
    /// For the caller, where the answer is made for one.
    pub unread_count: Option<i64>,
    pub last_message: Option<SessionMessage>,
}

#[derive(serde::Serialize, ToSchema)]
pub struct SessionList {
    pub success: bool,
    pub data: Vec<Session>,
    pub total: i64,
}

#[derive(serde::Serialize, ToSchema)]
pub struct SessionMessages {
    pub success: bool,
    pub data: Vec<SessionMessage>,
    pub total: i64,
    pub has_more: bool,
}

/// `POST /api/v1/chat/sessions/{id}/read`.
#[derive(serde::Serialize, ToSchema)]
pub struct MarkedRead {
    pub success: bool,
    pub message: String,
    pub up_to_seq: i64,
}

// ---- operations --------------------------------------------------------------------

/// `GET /health`.
#[derive(serde::Serialize, ToSchema)]
#[allow(non_snake_case)]
pub struct Health {
    /// ok, or degraded (the database down, or in cluster mode Redis).
    pub status: String,
    pub version: String,
    pub uptimeSeconds: u64,
    /// ok or down.
    pub database: String,
    #[schema(value_type = Object)]
    pub databaseStatus: (),
    /// Connection counts, by kind.
    #[schema(value_type = Option<Object>)]
    pub connections: (),
    /// The writer's batches and queue.
    #[schema(value_type = Option<Object>)]
    pub groupCommit: (),
    /// In cluster mode: the nodes seen, Redis and pub/sub.
    #[schema(value_type = Option<Object>)]
    pub cluster: (),
}

/// `GET /health/live`.
#[derive(serde::Serialize, ToSchema)]
pub struct Live {
    /// "live".
    pub status: String,
}

/// `GET /health/ready`.
#[derive(serde::Serialize, ToSchema)]
pub struct Ready {
    /// ready, not ready, or draining.
    pub status: String,
    /// ok or down.
    pub database: String,
    /// In cluster mode: ok or down.
    pub redis: Option<String>,
    /// In cluster mode: ok or down.
    pub pubsub: Option<String>,
}
