//! What connections and HTTP handlers ask of the LiveStream actor.

use std::sync::Arc;

use actix::prelude::*;

use crate::actors::chat_server::{ConnId, Deliver};
use crate::domain::stream::{PinnedProduct, Stream, StreamView};
use crate::domain::{Caller, RelayKind};
use crate::error::AppError;

/// A registered connection watches: it gets the stream's state now if one is live.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Watch {
    pub conn: ConnId,
    pub staff: bool,
    pub recipient: Recipient<Deliver>,
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Unwatch {
    pub conn: ConnId,
}

/// Like or unlike the live stream, once per `liker` (user id, else session id).
#[derive(Message)]
#[rtype(result = "Result<bool, AppError>")]
pub struct ToggleLike {
    pub liker: String,
}

/// A viewer's reaction: counted, and sent on coalesced with the others'.
#[derive(Message)]
#[rtype(result = "Result<(), AppError>")]
pub struct React {
    pub emoji: String,
}

/// A viewer's chat line. The server sets `isAdmin` (from the role), the time, and the
/// name (from the token; a client-given name only for viewers without one).
#[derive(Message)]
#[rtype(result = "Result<(), AppError>")]
pub struct SendChat {
    pub caller: Caller,
    pub sender_id: String,
    pub username: Option<String>,
    pub text: String,
}

/// Staff moderation of the live chat.
#[derive(Debug, Clone)]
pub enum ModerateCmd {
    /// Remove a message for everyone.
    Delete { message_id: String },
    /// Silence the author of a message for a time.
    Mute { message_id: String, seconds: u64 },
    /// One message per `seconds` per viewer; 0 turns it off.
    SlowMode { seconds: u64 },
}

#[derive(Message)]
#[rtype(result = "Result<(), AppError>")]
pub struct Moderate {
    pub caller: Caller,
    pub cmd: ModerateCmd,
}

/// One connection's WebRTC signalling command (seed 002).
#[derive(Debug, Clone)]
pub enum SignalCmd {
    Register {
        peer_id: String,
        user_type: String,
    },
    Relay {
        kind: RelayKind,
        from: String,
        to: String,
        payload: serde_json::Value,
    },
    BroadcastStart {
        peer_id: String,
    },
    BroadcastStop {
        peer_id: String,
    },
}

#[derive(Message)]
#[rtype(result = "Result<(), AppError>")]
pub struct SignalCommand {
    pub conn: ConnId,
    pub staff: bool,
    pub cmd: SignalCmd,
}

/// Staff start a stream (one at a time).
#[derive(Message)]
#[rtype(result = "Result<StreamView, AppError>")]
pub struct StartStream {
    pub caller: Caller,
    pub title: String,
    pub description: String,
    pub stream_url: String,
    pub quality: String,
}

/// Staff stop the live stream; its final figures are stored.
#[derive(Message)]
#[rtype(result = "Result<Stream, AppError>")]
pub struct StopStream {
    pub caller: Caller,
    pub stream_id: String,
}

/// Staff set the pinned products of the live stream.
#[derive(Message)]
#[rtype(result = "Result<Arc<Vec<PinnedProduct>>, AppError>")]
pub struct PinProducts {
    pub caller: Caller,
    pub stream_id: String,
    pub products: Vec<PinnedProduct>,
}

/// The live stream's state and pinned products, if one is live.
#[derive(Message)]
#[rtype(result = "Option<(StreamView, Arc<Vec<PinnedProduct>>)>")]
pub struct GetCurrent;
