//! What connections and HTTP handlers ask of the ChatServer: the typed commands
//! every dialect translates its frames into.

use actix::prelude::*;

use crate::domain::conversation::{ConversationView, StatusChange};
use crate::domain::writes::ReadTarget;
use crate::domain::{Caller, Message as ChatMessage};
use crate::error::AppError;

pub use crate::actors::delivery::{ConnId, Deliver};

/// Attach a connection as a customer of one session/conversation (seed 000's `register`).
/// Answered with whom the connection now acts as, and the session's secret.
#[derive(Message)]
#[rtype(result = "Result<Seated, AppError>")]
pub struct JoinAsCustomer {
    pub conn: ConnId,
    pub session_id: String,
    pub caller: Caller,
    pub recipient: Recipient<Deliver>,
    /// An anonymous session's secret, standing for the browser it is bound to.
    pub session_secret: Option<String>,
    /// The connection's browser (its key's binding), whoever signed in on it.
    pub browser: Option<String>,
}

/// A customer registered: as whom it acts there (a signed-in customer on its
/// browser's anonymous session acts as that browser), and for an anonymous session
/// its secret (`registered` hands it out, for clients that keep no cookies).
#[derive(Debug)]
pub struct Seated {
    pub caller: Caller,
    pub session_secret: Option<String>,
}

/// Attach a staff connection (seed 000's `register_admin`); the caller must be staff.
/// Staff connections receive every conversation's messages and inbox updates.
#[derive(Message)]
#[rtype(result = "Result<(), AppError>")]
pub struct JoinAsStaff {
    pub conn: ConnId,
    pub caller: Caller,
    pub recipient: Recipient<Deliver>,
}

/// Attach a connection with its identity, in no room yet (Socket.IO sockets, which
/// authenticate at CONNECT and join conversations later). Staff get the inbox.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Attach {
    pub conn: ConnId,
    pub caller: Caller,
    pub recipient: Recipient<Deliver>,
}

/// Enter a conversation's room (typing, read and presence events; seed 004's `join_session`).
#[derive(Message)]
#[rtype(result = "Result<Joined, AppError>")]
pub struct JoinConversation {
    pub conn: ConnId,
    pub conversation_id: String,
}

#[derive(Debug, Clone)]
pub struct Joined {
    pub conversation: ConversationView,
    pub participants: Vec<Participant>,
}

#[derive(Message)]
#[rtype(result = "Result<(), AppError>")]
pub struct LeaveConversation {
    pub conn: ConnId,
    pub conversation_id: String,
}

/// The connection closed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    pub conn: ConnId,
}

/// Someone present in a conversation, or a staff member online.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Participant {
    pub id: String,
    /// `customer`, `guest`, `agent` or `admin`.
    pub role: &'static str,
    pub name: String,
}

/// Which side of the conversation a post speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostAs {
    Customer,
    Staff,
    /// The shop's backend (the server API): a named bot, or `system`.
    Bot,
    System,
    /// Staff, as a private note only staff see.
    Note,
}

/// Store a message, then deliver it. Answers with the committed message
/// (the original one when `client_id` was seen before).
#[derive(Message)]
#[rtype(result = "Result<ChatMessage, AppError>")]
pub struct PostMessage {
    /// The connection it came from, `None` for REST.
    pub origin: Option<ConnId>,
    pub conversation_id: String,
    pub caller: Caller,
    pub post_as: PostAs,
    pub text: String,
    /// `text` unless the dialect says otherwise (`image`, `file`).
    pub message_type: Option<String>,
    pub client_id: Option<String>,
    /// The caller's uploaded files to attach (`RegisterUploads`).
    pub attachment_ids: Vec<String>,
}

/// `PostMessage`, answered with whether it was a repeat of a `client_id` seen before
/// (then the message is the original, and nothing was stored or sent).
#[derive(Message)]
#[rtype(result = "Result<(ChatMessage, bool), AppError>")]
pub struct PostOnce(pub PostMessage);

/// Record files already stored on disk as the caller's uploads, to attach to a message.
#[derive(Message)]
#[rtype(result = "Result<Vec<crate::domain::message::Attachment>, AppError>")]
pub struct RegisterUploads {
    pub caller: Caller,
    /// (sha256, file name, content type, size)
    pub files: Vec<(String, String, String, i64)>,
}

/// An attachment's stored details, if the caller may download it.
#[derive(Message)]
#[rtype(result = "Result<crate::domain::message::AttachmentFile, AppError>")]
pub struct GetAttachment {
    pub id: String,
    pub caller: Caller,
    /// The secret of the anonymous session it belongs to, from a client without cookies.
    pub session_secret: Option<String>,
}

/// Accept, assign, or change the status of a conversation.
#[derive(Message)]
#[rtype(result = "Result<ConversationView, AppError>")]
pub struct ChangeConversation {
    pub origin: Option<ConnId>,
    pub conversation_id: String,
    pub caller: Caller,
    pub change: StatusChange,
}

/// Add and remove labels on a conversation (staff); answered with the conversation.
#[derive(Message)]
#[rtype(result = "Result<ConversationView, AppError>")]
pub struct ChangeLabels {
    pub origin: Option<ConnId>,
    pub conversation_id: String,
    pub caller: Caller,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

/// Staff snooze a conversation until a time (`Date.toISOString()`), or wake it (`None`).
#[derive(Message)]
#[rtype(result = "Result<ConversationView, AppError>")]
pub struct SnoozeConversation {
    pub origin: Option<ConnId>,
    pub conversation_id: String,
    pub caller: Caller,
    pub until: Option<String>,
}

pub use crate::domain::conversation::Snoozed;

/// The customer rates their resolved conversation (1 to 5, and a comment).
#[derive(Message)]
#[rtype(result = "Result<ConversationView, AppError>")]
pub struct RateConversation {
    pub origin: Option<ConnId>,
    pub conversation_id: String,
    pub caller: Caller,
    pub score: i64,
    pub comment: Option<String>,
}

/// The customer tells who they are: an email left with a message while the desk was
/// closed, or the page and browser they write from. The attributes in a signed-in
/// customer's token come along. Staff on every node hear it.
#[derive(Message)]
#[rtype(result = "Result<ConversationView, AppError>")]
pub struct SetCustomerDetails {
    pub origin: Option<ConnId>,
    pub conversation_id: String,
    pub caller: Caller,
    pub email: Option<String>,
    pub context: Option<crate::domain::customer::CustomerContext>,
}

/// How many staff answer customers now (online, not away or busy), on every node.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct AgentsAvailable;

/// Advance the caller's read cursor.
#[derive(Message)]
#[rtype(result = "Result<ReadReceipt, AppError>")]
pub struct MarkRead {
    pub origin: Option<ConnId>,
    pub conversation_id: String,
    pub caller: Caller,
    pub target: ReadTarget,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadReceipt {
    pub conversation_id: String,
    pub participant_id: String,
    pub up_to_seq: i64,
}

/// Typing started or stopped in a room the connection has joined.
#[derive(Message)]
#[rtype(result = "Result<(), AppError>")]
pub struct SetTyping {
    pub conn: ConnId,
    pub conversation_id: String,
    pub typing: bool,
}

/// Start a conversation (REST), or with `reuse_open` return the caller's open one of that type.
#[derive(Message)]
#[rtype(result = "Result<Opened, AppError>")]
pub struct OpenConversation {
    pub caller: Caller,
    pub subject: Option<String>,
    pub category: Option<String>,
    pub priority: Option<String>,
    pub conversation_type: Option<String>,
    pub reuse_open: bool,
    pub initial_message: Option<String>,
    /// Who writes the initial message when not the customer (the server API's bot).
    pub initial_author: Option<(Caller, PostAs)>,
}

#[derive(Debug, Clone)]
pub struct Opened {
    pub conversation: ConversationView,
    pub created: bool,
}

/// Issue a new guest id.
#[derive(Message)]
#[rtype(result = "Result<String, AppError>")]
pub struct IssueGuest;

/// The caller for a guest id the server issued; unknown ids are refused.
#[derive(Message)]
#[rtype(result = "Result<Caller, AppError>")]
pub struct VerifyGuest(pub String);

pub use crate::domain::message::{HistoryPage, Notes};

#[derive(Message)]
#[rtype(result = "Result<History, AppError>")]
pub struct FetchHistory {
    pub conversation_id: String,
    pub caller: Caller,
    pub page: HistoryPage,
    /// `Shown` where the surface marks notes; they reach staff callers only.
    pub notes: Notes,
}

#[derive(Debug, Clone)]
pub struct History {
    pub messages: Vec<ChatMessage>,
    pub has_more: bool,
    /// All messages in the conversation the caller may read.
    pub total: i64,
}

/// One conversation as the caller sees it (unread count, last message).
#[derive(Message)]
#[rtype(result = "Result<ConversationView, AppError>")]
pub struct GetConversation {
    pub conversation_id: String,
    pub caller: Caller,
}

/// The caller's conversations (staff: all), most recently active first.
#[derive(Message)]
#[rtype(result = "Result<ConversationList, AppError>")]
pub struct ListConversations {
    pub caller: Caller,
    pub status: Option<String>,
    /// Staff only: those with this label.
    pub label: Option<String>,
    /// Staff only: by snooze.
    pub snoozed: Snoozed,
    /// Staff only: one customer's conversations (a user's or a guest's).
    pub customer: Option<crate::domain::conversation::Owner>,
    pub conversation_type: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Debug, Clone)]
pub struct ConversationList {
    pub items: Vec<ConversationView>,
    pub total: i64,
}

/// Search (staff): conversations by customer name or id, and messages by text.
#[derive(Message)]
#[rtype(result = "Result<SearchResults, AppError>")]
pub struct Search {
    pub caller: Caller,
    pub q: String,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Debug, Clone)]
pub struct SearchResults {
    /// Conversations whose customer matched (the first page only).
    pub conversations: Vec<ConversationView>,
    /// One page of matching messages, newest first.
    pub messages: Vec<crate::domain::search::Hit>,
    pub total: i64,
    pub has_more: bool,
}

/// Change an agent's availability (themself, or an admin) or capacity (an admin).
#[derive(Message)]
#[rtype(result = "Result<AgentState, AppError>")]
pub struct ChangeAgent {
    pub caller: Caller,
    pub user_id: String,
    pub availability: Option<crate::domain::agent::Availability>,
    /// `Some(None)`: back to the server's default.
    pub capacity: Option<Option<i64>>,
}

/// An agent as the desk shows them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentState {
    pub id: String,
    /// Their name while they are online.
    pub name: Option<String>,
    /// `agent` or `admin`, while they are online.
    pub role: Option<String>,
    /// Connected, on any node.
    pub online: bool,
    pub availability: crate::domain::agent::Availability,
    /// Active conversations auto-assignment gives them at most.
    pub capacity: i64,
    /// Whether an admin set `capacity` (else it is the server's default).
    pub capacity_set: bool,
    /// Active conversations assigned to them now.
    pub active: i64,
}

/// The queue and the agents (staff): who waits, in order, and who could take them.
#[derive(Message)]
#[rtype(result = "Result<DeskState, AppError>")]
pub struct GetDesk {
    pub caller: Caller,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeskState {
    pub queue: Vec<Queued>,
    /// Agents online, and any whose settings were ever changed.
    pub agents: Vec<AgentState>,
}

/// A customer in the queue.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Queued {
    /// 1 is next.
    pub position: usize,
    pub session_id: String,
    pub customer_name: String,
    pub waiting_since: String,
    pub expected_wait_seconds: Option<i64>,
}

/// Who is in a conversation's room right now.
#[derive(Message)]
#[rtype(result = "Result<Vec<Participant>, AppError>")]
pub struct GetParticipants {
    pub conversation_id: String,
    pub caller: Caller,
}

/// Staff members with at least one open connection.
#[derive(Message)]
#[rtype(result = "Vec<Participant>")]
pub struct GetOnlineStaff;

#[derive(Message)]
#[rtype(result = "Stats")]
pub struct GetStats;

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub connections: usize,
    pub customer_connections: usize,
    pub staff_connections: usize,
    pub rooms: usize,
    pub staff_online: usize,
    /// Staff online here or on another node.
    pub agents_online: usize,
    pub slow_consumers_evicted: u64,
}

/// Staff issue an onboarding code; it is also posted to the conversation as an
/// `auth_code` message.
#[derive(Message)]
#[rtype(result = "Result<IssuedCode, AppError>")]
pub struct IssueAuthCode {
    pub caller: Caller,
    pub conversation_id: String,
    pub user_id: Option<String>,
    pub guest_id: Option<String>,
    pub device_info: Option<String>,
}

#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub code: String,
    pub expires_at: String,
    pub conversation_id: String,
}

/// Check a code (public). Answers with the code's id and whom it was for.
#[derive(Message)]
#[rtype(result = "Result<VerifiedCode, AppError>")]
pub struct VerifyAuthCode {
    pub code: String,
    pub user_id: Option<String>,
    pub guest_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct VerifiedCode {
    pub auth_code_id: String,
    pub user_id: Option<String>,
}

/// Forget uploads no message took (refused with their message, or never sent).
/// Answers the sha256s of files nothing uses now.
#[derive(Message)]
#[rtype(result = "Result<Vec<String>, AppError>")]
pub struct DiscardUploads(pub crate::domain::writes::Unsent);
