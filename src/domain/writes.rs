//! The writes the central actors ask of storage, each a type with its own outcome
//! (`db::writes::Write` pairs them). Plain data: what to do, never how.

use chrono::NaiveDateTime;

use super::auth_code::Refusal;
use super::conversation::{Conversation, Owner, StatusChange};
use super::message::{Attachment, Author, Message};
use super::stream::Stream;
use super::Caller;

/// What a new conversation is about and whose it is.
#[derive(Debug, Clone)]
pub struct NewConversation {
    pub owner: Owner,
    pub customer_name: String,
    pub subject: Option<String>,
    pub category: Option<String>,
    pub priority: String,
    pub kind: String,
    /// The shop's attributes from the customer's token.
    pub attributes: crate::domain::customer::Attributes,
}

/// Store one message. A customer's first message on a native session creates it
/// (`create`).
#[derive(Debug, Clone)]
pub struct Post {
    pub conversation_id: String,
    pub author: Author,
    /// The identity the access rule is checked against.
    pub caller: Caller,
    pub content: String,
    /// `None`: text, or image/file when it carries attachments.
    pub message_type: Option<String>,
    pub client_id: Option<String>,
    pub create: Option<NewConversation>,
    /// Uploaded, unlinked attachments of this author to link to the message.
    pub attachment_ids: Vec<String>,
    /// A staff note (`PostAs::Note`).
    pub private: bool,
}

/// `messages`: what the post added, in seq order (a reopening note, then the message),
/// or the original message alone when `duplicate`. `created`: it started the
/// conversation.
#[derive(Debug, Clone)]
pub struct Posted {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
    pub duplicate: bool,
    pub created: bool,
    /// The post bound an anonymous session from before bindings to its browser.
    pub bound: bool,
    /// The first staff reply to a customer: the first-response time.
    pub timing: Option<Timing>,
    /// The customer's message woke the snoozed conversation.
    pub woke: bool,
}

/// A support figure a write completed, in seconds: observed once, by the node whose
/// write it was (`switchboard_queue_wait_seconds` and the like).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timing {
    /// From the conversation's start to its first agent.
    QueueWait(f64),
    /// From the first customer message to the first staff reply.
    FirstResponse(f64),
    /// From the conversation's start to resolved.
    Resolution(f64),
}

impl Timing {
    /// Seconds from `from` to `to`.
    pub fn between(from: chrono::NaiveDateTime, to: chrono::NaiveDateTime) -> f64 {
        ((to - from).num_milliseconds().max(0) as f64) / 1000.0
    }
}

/// Start a conversation, or with `reuse_open` find the owner's open one of that type.
#[derive(Debug, Clone)]
pub struct Open {
    pub id: String,
    pub conversation: NewConversation,
    pub reuse_open: bool,
    pub initial_message: Option<(Author, String)>,
}

#[derive(Debug, Clone)]
pub struct Opened {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
    pub created: bool,
}

/// Accept, assign, or change the status of a conversation.
#[derive(Debug, Clone)]
pub struct Change {
    pub conversation_id: String,
    pub caller: Caller,
    pub change: StatusChange,
}

/// The conversation after the change, and the system message recording it.
#[derive(Debug, Clone)]
pub struct Changed {
    pub conversation: Conversation,
    pub system: Message,
    /// A first agent (queue wait) or a resolution.
    pub timing: Option<Timing>,
}

/// What a read receipt covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadTarget {
    All,
    UpToSeq(i64),
    Ids(Vec<String>),
}

/// Advance the caller's read cursor.
#[derive(Debug, Clone)]
pub struct MarkRead {
    pub conversation_id: String,
    pub caller: Caller,
    pub target: ReadTarget,
}

/// Where the cursor stands; `changed` when it moved.
#[derive(Debug, Clone)]
pub struct ReadMarked {
    pub conversation: Conversation,
    pub participant_id: String,
    pub up_to_seq: i64,
    pub changed: bool,
}

/// Bind an anonymous session from before bindings to a browser, unless one was bound
/// first; the outcome is the conversation as it now is.
#[derive(Debug, Clone)]
pub struct BindAnonymous {
    pub conversation_id: String,
    pub binding: String,
}

/// Remember a guest id the server issued.
#[derive(Debug, Clone)]
pub struct IssueGuest {
    pub id: String,
}

/// A file on disk, not yet linked to a message.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub id: String,
    pub uploader_id: String,
    pub sha256: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub struct StoreUploads {
    pub uploads: Vec<NewUpload>,
}

/// Forget uploads no message took; the outcome is the stored files
/// (by sha256) that nothing uses any more.
#[derive(Debug, Clone)]
pub struct DiscardUploads {
    pub which: Unsent,
}

/// Which uploads not attached to any message are to go.
#[derive(Debug, Clone)]
pub enum Unsent {
    /// These (their message was refused).
    Ids(Vec<String>),
    /// Every one uploaded before this (never sent: housekeeping).
    Before(chrono::NaiveDateTime),
}

/// Store an onboarding code (hashed), and post its message to the conversation in the
/// same transaction.
#[derive(Debug, Clone)]
pub struct IssueCode {
    pub id: String,
    pub code_hash: String,
    pub conversation_id: String,
    pub user_id: Option<String>,
    pub guest_id: Option<String>,
    pub device_info: Option<String>,
    pub expires_at: NaiveDateTime,
    pub author: Author,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct CodeIssued {
    pub expires_at: NaiveDateTime,
    pub conversation: Conversation,
    pub message: Message,
}

/// Whom a code is checked for: exactly one of a user and a guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeHolder {
    User(String),
    Guest(String),
}

/// Check a code; attempts are counted even when it fails.
#[derive(Debug, Clone)]
pub struct VerifyCode {
    pub code_hash: String,
    pub holder: CodeHolder,
}

/// A code that was accepted: its id and the person it was for.
#[derive(Debug, Clone)]
pub struct CheckedCode {
    pub id: String,
    pub user_id: Option<String>,
    pub guest_id: Option<String>,
}

/// A refused code is still a successful write: its attempt was counted.
pub type CodeChecked = Result<CheckedCode, Refusal>;

/// A live stream started.
#[derive(Debug, Clone)]
pub struct StartStream {
    pub stream: Stream,
}

/// A live stream ended, with its final figures; the outcome is the stream as stored.
#[derive(Debug, Clone)]
pub struct StopStream {
    pub id: String,
    pub peak_viewers: i64,
    pub likes: i64,
}

/// A line of stream chat.
#[derive(Debug, Clone)]
pub struct StoreStreamChat {
    pub id: String,
    pub stream_id: String,
    pub sender_id: String,
    pub username: String,
    pub message: String,
    pub is_admin: bool,
    pub created_at: NaiveDateTime,
}

/// The stored attachments of a `StoreUploads`.
pub type UploadsStored = Vec<Attachment>;

/// Keep a running stream's state (figures, likers, pins), so a restart resumes it.
#[derive(Debug, Clone)]
pub struct CheckpointStream {
    pub id: String,
    pub peak_viewers: i64,
    pub liked_by: Vec<String>,
    pub pinned: Vec<crate::domain::stream::PinnedProduct>,
}

/// Store (or with `None` clear) the live stream's pinned message.
#[derive(Debug, Clone)]
pub struct SetPinnedMessage {
    pub stream_id: String,
    pub message: Option<crate::domain::stream::PinnedMessage>,
}

/// A moderation action, logged with who did it, and the change to the standing
/// rules it makes, if any, in one transaction.
#[derive(Debug, Clone)]
pub struct LogModeration {
    pub change: Option<crate::domain::moderation::RuleChange>,
    pub entry: crate::domain::moderation::LogEntry,
}

/// A new webhook endpoint.
#[derive(Debug, Clone)]
pub struct CreateEndpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub secret: String,
    pub enabled: bool,
}

/// Change an endpoint; `None` leaves a field as it is. The outcome is the endpoint, or
/// `None` when there is none with this id.
#[derive(Debug, Clone, Default)]
pub struct UpdateEndpoint {
    pub id: String,
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    /// A new secret; the current one stays valid until the time given.
    pub rotate: Option<(String, chrono::NaiveDateTime)>,
}

/// Delete an endpoint; the outcome says whether there was one.
#[derive(Debug, Clone)]
pub struct DeleteEndpoint {
    pub id: String,
}

/// Take (for `lease`) up to `limit` webhook deliveries that are due, each the oldest
/// undelivered of its endpoint and ordering key; with their endpoints.
#[derive(Debug, Clone)]
pub struct ClaimDeliveries {
    pub limit: i64,
    pub lease: std::time::Duration,
}

/// How an attempt at a delivery went, and so what becomes of it.
#[derive(Debug, Clone)]
pub struct FinishDelivery {
    pub pos: i64,
    pub endpoint_id: String,
    /// Attempts made, this one included.
    pub attempts: i32,
    pub status: Option<u16>,
    pub error: Option<String>,
    /// `None`: delivered, or given up (see `give_up`).
    pub retry_in: Option<std::time::Duration>,
    pub give_up: bool,
    /// The receiver answered 410 Gone: the endpoint is disabled.
    pub gone: bool,
}

/// Send deliveries of an endpoint again: one (`pos`), or a range (`from`..=`to`,
/// those in `status` if given). They go back to pending, attempts from zero, due now.
#[derive(Debug, Clone, Default)]
pub struct ReplayDeliveries {
    pub endpoint_id: String,
    pub pos: Option<i64>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub status: Option<String>,
}

/// Make the endpoints the configuration names, or bring them in line with it.
#[derive(Debug, Clone)]
pub struct SeedEndpoints(pub Vec<crate::domain::webhook::Seeded>);

/// A new API key; only its hash is stored.
#[derive(Debug, Clone)]
pub struct CreateApiKey {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub hash: String,
    pub scopes: Vec<String>,
    pub created_by: String,
}

/// Revoke an API key for good; the outcome is the key, `None` when there is none.
#[derive(Debug, Clone)]
pub struct RevokeApiKey {
    pub id: String,
}

/// A new canned response, or (`id` of one) a change to it; refused when another one
/// has the shortcut. The outcome is the response as stored (`None`: no such id).
#[derive(Debug, Clone)]
pub struct SaveCanned {
    pub id: String,
    pub shortcut: Option<String>,
    pub content: Option<String>,
    pub by: String,
    /// Make it (else change the one with `id`).
    pub create: bool,
}

/// Delete a canned response; whether there was one.
#[derive(Debug, Clone)]
pub struct DeleteCanned {
    pub id: String,
}

/// Add and remove staff's labels on a conversation; the outcome is the conversation.
#[derive(Debug, Clone)]
pub struct Relabel {
    pub conversation_id: String,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

/// Change an agent's settings; the outcome is them as stored.
#[derive(Debug, Clone)]
pub struct SetAgent {
    pub user_id: String,
    pub availability: Option<super::agent::Availability>,
    /// `Some(None)`: back to the server's default.
    pub capacity: Option<Option<i64>>,
}

/// The customer rates their resolved conversation (once); the outcome is the
/// conversation with its rating.
#[derive(Debug, Clone)]
pub struct Rate {
    pub conversation_id: String,
    pub caller: Caller,
    pub score: u8,
    pub comment: Option<String>,
}

/// Resolve, each with a system message, up to `limit` active conversations whose
/// customer has not written since `quiet_since` (nor had it started by then): every
/// node may ask, since each is checked again under its row's lock.
#[derive(Debug, Clone)]
pub struct AutoResolve {
    pub quiet_since: NaiveDateTime,
    /// What the system message says.
    pub note: String,
    pub limit: i64,
}

/// Snooze a conversation until a time (`None`: wake it now); the outcome is the
/// conversation.
#[derive(Debug, Clone)]
pub struct Snooze {
    pub conversation_id: String,
    pub until: Option<NaiveDateTime>,
}

/// Wake the conversations whose snooze ran out by `now`; the outcome is them, awake.
#[derive(Debug, Clone)]
pub struct WakeSnoozed {
    pub now: NaiveDateTime,
}

/// Keep a desk setting (a JSON document by name, e.g. `office_hours`); `None` clears it.
#[derive(Debug, Clone)]
pub struct SaveSetting {
    pub name: String,
    pub value: Option<String>,
}

/// Keep what is known of a conversation's customer, told by the customer themself;
/// each part `None` stays as it is. The outcome is the conversation.
#[derive(Debug, Clone)]
pub struct SetCustomer {
    pub conversation_id: String,
    pub caller: Caller,
    pub email: Option<String>,
    pub context: Option<crate::domain::customer::CustomerContext>,
    pub attributes: Option<crate::domain::customer::Attributes>,
}
