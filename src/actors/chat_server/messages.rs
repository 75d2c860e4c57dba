//! What connections and HTTP handlers ask of the ChatServer.

use std::sync::Arc;

use actix::prelude::*;

use crate::domain::{Caller, Message as ChatMessage, Outbound};
use crate::error::AppError;

/// Connection ids are unique per server.
pub type ConnId = u64;

/// An event for one connection. Sessions of every transport accept this.
#[derive(Message, Clone)]
#[rtype(result = "()")]
pub struct Deliver(pub Arc<Outbound>);

/// Attach a connection to a customer session (seed 000's `register`).
#[derive(Message)]
#[rtype(result = "Result<(), AppError>")]
pub struct JoinAsCustomer {
    pub conn: ConnId,
    pub session_id: String,
    pub caller: Caller,
    pub recipient: Recipient<Deliver>,
}

/// Attach a staff connection (seed 000's `register_admin`); the caller must be staff.
#[derive(Message)]
#[rtype(result = "Result<(), AppError>")]
pub struct JoinAsStaff {
    pub conn: ConnId,
    pub caller: Caller,
    pub recipient: Recipient<Deliver>,
}

/// The connection closed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    pub conn: ConnId,
}

/// Which side of the conversation a post speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostAs {
    Customer,
    Staff,
}

/// Store a message, then deliver it. Answers with the committed message
/// (the original one when `client_id` was seen before).
#[derive(Message)]
#[rtype(result = "Result<ChatMessage, AppError>")]
pub struct PostMessage {
    /// The connection it came from (not echoed back to it), `None` for REST.
    pub origin: Option<ConnId>,
    pub session_id: String,
    pub caller: Caller,
    pub post_as: PostAs,
    pub text: String,
    pub client_id: Option<String>,
}

/// Messages after a seq, oldest first, for a caller allowed to read the conversation.
#[derive(Message)]
#[rtype(result = "Result<History, AppError>")]
pub struct FetchHistory {
    pub session_id: String,
    pub caller: Caller,
    pub after_seq: i64,
    pub limit: i64,
}

#[derive(Debug, Clone)]
pub struct History {
    pub messages: Vec<ChatMessage>,
    pub has_more: bool,
}

#[derive(Message)]
#[rtype(result = "Stats")]
pub struct GetStats;

#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub connections: usize,
    pub customer_connections: usize,
    pub staff_connections: usize,
    pub customer_sessions: usize,
    pub staff_online: usize,
    pub slow_consumers_evicted: u64,
}
