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
    /// Who writes from it (user id, else guest id, else session id): a moderator is
    /// told so, a banned viewer is told once.
    pub who: Option<String>,
    /// Where its stream chat waits to be written.
    pub lane: Arc<crate::actors::delivery::ChatLane>,
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

/// What staff pin above the live chat.
#[derive(Debug, Clone)]
pub enum Pin {
    /// A line of the recent chat, by id.
    Line { message_id: String },
    /// An announcement of their own.
    Announcement { text: String },
}

impl Pin {
    /// From a request's `messageId` or `message` (exactly one).
    pub fn from_fields(
        message_id: Option<String>,
        message: Option<String>,
    ) -> Result<Pin, AppError> {
        match (message_id, message) {
            (Some(message_id), None) => Ok(Pin::Line { message_id }),
            (None, Some(text)) => Ok(Pin::Announcement { text }),
            _ => Err(AppError::validation("Give messageId or message")),
        }
    }
}

/// Staff pin a line above the live chat (for `seconds`, or until unpinned), or with
/// `pin: None` unpin it. `stream_id`, when given, must be the live stream's.
#[derive(Message)]
#[rtype(result = "Result<Option<crate::domain::stream::PinnedMessage>, AppError>")]
pub struct PinMessage {
    pub caller: Caller,
    pub stream_id: Option<String>,
    pub pin: Option<Pin>,
    pub seconds: Option<u64>,
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
    /// One message per `seconds` per viewer; 0 turns it off.
    /// Slow mode (one line per `seconds` per viewer; 0 turns it off), the longest line
    /// and the lines a viewer may write a minute; `None` leaves one as it is.
    Settings {
        slow_mode_seconds: Option<u64>,
        max_chars: Option<u32>,
        per_minute: Option<u32>,
    },
}

/// Answers with the chat's settings after the command. Staff may give any; a
/// moderator deletes viewers' lines.
#[derive(Message)]
#[rtype(result = "Result<crate::domain::stream::ChatSettings, AppError>")]
pub struct Moderate {
    pub caller: Caller,
    /// Who acts (user id, else guest id, else session id), to know a moderator.
    pub actor: Option<String>,
    /// When given, it must be the live stream's.
    pub stream_id: Option<String>,
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
    /// When given, it must be the live stream's; `None`: whichever is live.
    pub stream_id: Option<String>,
    pub products: Vec<PinnedProduct>,
}

/// The live stream's state and pinned products, if one is live.
#[derive(Message)]
#[rtype(result = "Option<(StreamView, Arc<Vec<PinnedProduct>>)>")]
pub struct GetCurrent;

/// Whom a moderation command is about.
#[derive(Debug, Clone)]
pub enum Target {
    /// The author of a recent chat line.
    Line { message_id: String },
    /// A viewer by the id their lines are written as (user id, else guest id, else
    /// session id), and the name to list them under.
    Viewer {
        user_id: String,
        name: Option<String>,
    },
}

impl Target {
    /// From a request's `messageId` or `userId` (exactly one).
    pub fn from_fields(
        message_id: Option<String>,
        user_id: Option<String>,
        name: Option<String>,
    ) -> Result<Target, AppError> {
        match (message_id, user_id) {
            (Some(message_id), None) => Ok(Target::Line { message_id }),
            (None, Some(user_id)) if !user_id.trim().is_empty() => {
                Ok(Target::Viewer { user_id, name })
            }
            _ => Err(AppError::validation("Give messageId or userId")),
        }
    }
}

/// A change to the live chat's standing rules (they outlast the stream).
#[derive(Debug, Clone)]
pub enum RuleCmd {
    /// No writing for `seconds`.
    Timeout {
        target: Target,
        seconds: u64,
        reason: String,
    },
    /// No writing until lifted.
    Ban {
        target: Target,
        reason: String,
    },
    /// Lift a ban or timeout.
    Lift {
        target: Target,
    },
    /// Staff only.
    AddModerator {
        target: Target,
    },
    RemoveModerator {
        user_id: String,
    },
    /// The whole list (staff only).
    BlockedTerms {
        terms: Vec<String>,
    },
}

/// Staff or a moderator change the rules; answers with the change made.
#[derive(Message)]
#[rtype(result = "Result<crate::domain::moderation::RuleChange, AppError>")]
pub struct ChangeRules {
    pub caller: Caller,
    /// As `Moderate`'s.
    pub actor: Option<String>,
    pub cmd: RuleCmd,
}

/// The standing rules as they are now (staff).
#[derive(Message)]
#[rtype(result = "Result<RulesView, AppError>")]
pub struct GetRules {
    pub caller: Caller,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RulesView {
    pub moderators: Vec<crate::domain::moderation::Moderator>,
    /// Bans and timeouts in force, newest first.
    pub bans: Vec<crate::domain::moderation::Ban>,
    pub blocked_terms: Vec<String>,
}
