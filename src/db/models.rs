//! Rows as stored. Conversion to wire shapes lives in `domain`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    agents, api_keys, attachments, auth_codes, canned_responses, conversations, guests,
    live_streams, messages, read_cursors, stream_chat, webhook_deliveries, webhook_endpoints,
};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = conversations)]
pub struct ConversationRow {
    pub id: String,
    pub customer_user_id: Option<String>,
    pub customer_name: String,
    pub subject: Option<String>,
    pub category: Option<String>,
    pub priority: String,
    pub conversation_type: String,
    pub status: String,
    pub assigned_agent_id: Option<String>,
    pub last_seq: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub guest_id: Option<String>,
    /// An anonymous session's browser binding (`domain::anonymous`); never shown.
    pub anon_key: Option<String>,
    /// The first staff reply to a customer (for the first-response time).
    pub first_response_at: Option<NaiveDateTime>,
    /// `,a,b,` (see `convert::stored_labels`).
    pub labels: String,
    pub rating: Option<i32>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<NaiveDateTime>,
    pub snoozed_until: Option<NaiveDateTime>,
    pub contact_email: Option<String>,
    /// `domain::customer::CustomerContext` as JSON.
    pub customer_context: Option<String>,
    /// The token's attributes as a JSON object.
    pub customer_attributes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub sender_id: String,
    pub sender_kind: String,
    pub sender_name: String,
    pub content: String,
    pub message_type: String,
    pub client_id: Option<String>,
    pub created_at: NaiveDateTime,
    /// A staff note: never shown to the customer.
    pub private: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = guests)]
pub struct GuestRow {
    pub id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = read_cursors)]
pub struct ReadCursorRow {
    pub conversation_id: String,
    pub participant_id: String,
    pub last_read_seq: i64,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: String,
    pub message_id: Option<String>,
    pub conversation_id: Option<String>,
    pub uploader_id: String,
    pub sha256: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = auth_codes)]
pub struct AuthCodeRow {
    pub id: String,
    pub code_hash: String,
    pub conversation_id: Option<String>,
    pub user_id: Option<String>,
    pub guest_id: Option<String>,
    pub device_info: Option<String>,
    pub created_by: String,
    pub attempts: i32,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = live_streams)]
pub struct StreamRow {
    pub id: String,
    pub title: String,
    pub description: String,
    pub stream_url: String,
    pub quality: String,
    pub started_by: String,
    pub started_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub peak_viewers: i64,
    pub likes: i64,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = stream_chat)]
pub struct StreamChatRow {
    pub id: String,
    pub stream_id: String,
    pub sender_id: String,
    pub username: String,
    pub message: String,
    pub is_admin: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct WebhookEndpointRow {
    pub id: String,
    pub url: String,
    pub description: String,
    /// The events, as a JSON array of names.
    pub events: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<NaiveDateTime>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A new outbox row (its `pos` is the database's).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct NewDeliveryRow {
    pub event_id: String,
    pub endpoint_id: String,
    pub event_type: String,
    pub ordering_key: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub pos: i64,
    pub event_id: String,
    pub endpoint_id: String,
    pub event_type: String,
    pub ordering_key: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    /// Space-separated.
    pub scopes: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = canned_responses)]
pub struct CannedRow {
    pub id: String,
    pub shortcut: String,
    pub content: String,
    pub created_by: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = agents, treat_none_as_null = true)]
pub struct AgentRow {
    pub user_id: String,
    pub availability: String,
    pub capacity: Option<i64>,
    pub updated_at: NaiveDateTime,
}

/// A message that matched a search, with its marked snippet and its conversation's
/// customer.
#[derive(Debug, Clone, QueryableByName)]
pub struct SearchHit {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub conversation_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub seq: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub sender_kind: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub sender_name: String,
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    pub created_at: NaiveDateTime,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub private: bool,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub customer_name: String,
    /// The text around the matches, marked (`search::MATCH_START`/`MATCH_END`).
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub snippet: String,
}
