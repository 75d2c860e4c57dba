//! The native protocol's live stream (seed 002): stream chat, likes, moderation and
//! WebRTC signalling, all answered by the LiveStream actor.

use actix::prelude::*;

use super::{Command, Ctx, NativeSocket, Registration, Reply};
use crate::actors::live_stream::{
    ChangeRules, LiveStream, Moderate, ModerateCmd, Pin, PinMessage, RuleCmd, SendChat, SignalCmd,
    SignalCommand, Target, ToggleLike,
};
use crate::domain::conversation::participant_id;
use crate::domain::moderation::writer_id;
use crate::domain::RelayKind;
use crate::error::AppError;
use crate::transport::ws_connection;

impl NativeSocket {
    /// A stream command (only these reach here).
    pub(super) fn execute_live(&mut self, cmd: Command, ctx: &mut Ctx) {
        match cmd {
            Command::ChatMessage { message, username } => {
                let Some(sender_id) = self.writer() else {
                    return self.error(ctx, &AppError::not_registered());
                };
                self.tell_live(
                    SendChat {
                        caller: self.caller(),
                        sender_id,
                        username,
                        text: message,
                    },
                    ctx,
                );
            }
            Command::ChatDelete { message_id } => {
                self.moderate(ModerateCmd::Delete { message_id }, ctx)
            }
            // Seed 002's mute is a timeout of the line's author.
            Command::ChatMute {
                message_id,
                duration_seconds,
            } => self.change_rules(
                Ok(RuleCmd::Timeout {
                    target: Target::Line { message_id },
                    seconds: duration_seconds,
                    reason: String::new(),
                }),
                ctx,
            ),
            Command::ChatSlowMode { seconds } => self.moderate(
                ModerateCmd::Settings {
                    slow_mode_seconds: Some(seconds),
                    max_chars: None,
                    per_minute: None,
                },
                ctx,
            ),
            Command::ChatLimits {
                max_chars,
                per_minute,
            } => self.moderate(
                ModerateCmd::Settings {
                    slow_mode_seconds: None,
                    max_chars,
                    per_minute,
                },
                ctx,
            ),
            Command::ChatPin {
                message_id,
                message,
                duration_seconds,
            } => match Pin::from_fields(message_id, message) {
                Ok(pin) => self.pin(Some(pin), duration_seconds, ctx),
                Err(e) => self.error(ctx, &e),
            },
            Command::ChatUnpin => self.pin(None, None, ctx),
            Command::ChatTimeout {
                message_id,
                user_id,
                duration_seconds,
                reason,
            } => self.change_rules(
                Target::from_fields(message_id, user_id, None).map(|target| RuleCmd::Timeout {
                    target,
                    seconds: duration_seconds,
                    reason: reason.unwrap_or_default(),
                }),
                ctx,
            ),
            Command::ChatBan {
                message_id,
                user_id,
                reason,
            } => self.change_rules(
                Target::from_fields(message_id, user_id, None).map(|target| RuleCmd::Ban {
                    target,
                    reason: reason.unwrap_or_default(),
                }),
                ctx,
            ),
            Command::ChatUnban {
                message_id,
                user_id,
            } => self.change_rules(
                Target::from_fields(message_id, user_id, None)
                    .map(|target| RuleCmd::Lift { target }),
                ctx,
            ),
            Command::ChatModeratorAdd {
                message_id,
                user_id,
                name,
            } => self.change_rules(
                Target::from_fields(message_id, user_id, name)
                    .map(|target| RuleCmd::AddModerator { target }),
                ctx,
            ),
            Command::ChatModeratorRemove { user_id } => {
                self.change_rules(Ok(RuleCmd::RemoveModerator { user_id }), ctx)
            }
            Command::WebrtcRegister { peer_id, user_type } => {
                self.signal(SignalCmd::Register { peer_id, user_type }, ctx)
            }
            Command::WebrtcOffer { from, to, offer } => self.signal(
                SignalCmd::Relay {
                    kind: RelayKind::Offer,
                    from,
                    to,
                    payload: offer,
                },
                ctx,
            ),
            Command::WebrtcAnswer { from, to, answer } => self.signal(
                SignalCmd::Relay {
                    kind: RelayKind::Answer,
                    from,
                    to,
                    payload: answer,
                },
                ctx,
            ),
            Command::WebrtcIceCandidate {
                from,
                to,
                candidate,
            } => self.signal(
                SignalCmd::Relay {
                    kind: RelayKind::IceCandidate,
                    from,
                    to,
                    payload: candidate,
                },
                ctx,
            ),
            Command::WebrtcBroadcastStart { peer_id } => {
                self.signal(SignalCmd::BroadcastStart { peer_id }, ctx)
            }
            Command::WebrtcBroadcastStop { peer_id } => {
                self.signal(SignalCmd::BroadcastStop { peer_id }, ctx)
            }
            Command::Reaction { emoji } if self.registered(ctx) => {
                if let Err(e) = self.state.taps.tap(&emoji) {
                    self.error(ctx, &e);
                }
            }
            Command::ToggleLike => {
                let Some(liker) = self.liker() else {
                    return self.error(ctx, &AppError::not_registered());
                };
                self.tell_live(ToggleLike { liker }, ctx);
            }
            _ => {}
        }
    }

    /// WebRTC signalling goes to the LiveStream actor; only registered connections take part.
    pub(super) fn signal(&mut self, cmd: SignalCmd, ctx: &mut Ctx) {
        if self.registered(ctx) {
            let msg = SignalCommand {
                conn: self.id,
                staff: self.caller().is_staff(),
                cmd,
            };
            self.tell_live(msg, ctx);
        }
    }

    fn pin(&mut self, pin: Option<Pin>, seconds: Option<u64>, ctx: &mut Ctx) {
        if self.registered(ctx) {
            let msg = PinMessage {
                caller: self.caller(),
                stream_id: None,
                pin,
                seconds,
            };
            self.tell_live(msg, ctx);
        }
    }

    /// A change to the standing rules; the one who made it is told it was made.
    fn change_rules(&mut self, cmd: Result<RuleCmd, AppError>, ctx: &mut Ctx) {
        let cmd = match cmd {
            Ok(cmd) => cmd,
            Err(e) => return self.error(ctx, &e),
        };
        if !self.registered(ctx) {
            return;
        }
        let staff = self.caller().is_staff();
        let sent = self.state.live.send(ChangeRules {
            caller: self.caller(),
            actor: self.writer(),
            cmd,
        });
        let fut = async move { sent.await.map_err(AppError::from).and_then(|r| r) };
        ws_connection::spawn(ctx, fut, move |s, ctx, res| match res {
            // A guest's or session's id is their secret: only staff hear whose it is.
            Ok(change) => s.reply(
                ctx,
                Reply::ChatModerated {
                    change: &change,
                    ids: staff,
                },
            ),
            Err(e) => s.error(ctx, &e),
        });
    }

    pub(super) fn moderate(&mut self, cmd: ModerateCmd, ctx: &mut Ctx) {
        if self.registered(ctx) {
            self.tell_live(
                Moderate {
                    caller: self.caller(),
                    actor: self.writer(),
                    stream_id: None,
                    cmd,
                },
                ctx,
            );
        }
    }

    /// Ask the LiveStream; its answers are broadcasts, so only failures come back here.
    pub(super) fn tell_live<M, T>(&mut self, msg: M, ctx: &mut Ctx)
    where
        M: actix::Message<Result = Result<T, AppError>> + Send + 'static,
        T: Send + 'static,
        LiveStream: Handler<M>,
    {
        let sent = self.state.live.send(msg);
        let fut = async move { sent.await.map_err(AppError::from).and_then(|r| r.map(drop)) };
        ws_connection::spawn(ctx, fut, |s, ctx, res| {
            if let Err(e) = res {
                s.error(ctx, &e)
            }
        });
    }

    /// Who writes in the live chat, as moderation knows them (`writer_id`).
    pub(super) fn writer(&self) -> Option<String> {
        match &self.registration {
            Registration::None => None,
            Registration::Customer { session_id, caller } => Some(writer_id(caller, session_id)),
            Registration::Staff { caller } => Some(writer_id(caller, "")),
        }
    }

    /// Who likes the stream: the user, else the guest, else the session (seed 002's
    /// `likedBy`) — the same id the connection's messages carry.
    pub(super) fn liker(&self) -> Option<String> {
        match &self.registration {
            Registration::None => None,
            Registration::Customer { session_id, caller } => {
                Some(participant_id(caller, session_id))
            }
            Registration::Staff { caller } => Some(participant_id(caller, "")),
        }
    }
}
