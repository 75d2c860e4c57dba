//! Seed 003 on namespace `/support`: handshake `auth: {token}` or `{guestId}`,
//! `connection:success`, `message:send`, `conversation:join`/`leave`, `typing:start`/
//! `stop`, `message:read`; `message:received` to the conversation's room and
//! `conversation:new_message` to every admin.

use serde_json::{json, Value};

use super::{credential, field, required, verify_token, ChatSocket, SocketIo};
use crate::actors::chat_server::{IssueGuest, PostAs, PostMessage, VerifyGuest};
use crate::db::reads;
use crate::dialects::support::{conversation_json, message_json};
use crate::domain::writes::ReadTarget;
use crate::domain::{Audience, Caller, Event};
use crate::error::AppError;
use crate::transport::socketio::{ConnectError, IncomingEvent};

/// The caller a handshake names, and whether we issued it a new guest id.
pub(super) async fn authenticate(
    state: &crate::state::AppState,
    auth: &Value,
    ip: Option<std::net::IpAddr>,
) -> Result<(Caller, bool), ConnectError> {
    if let Some(verified) = verify_token(state, auth) {
        return verified.map(|c| (c, false)).map_err(|e| super::refused(&e));
    }
    let refused = |e: AppError| super::refused(&e);
    match credential(auth, "guestId").transpose().map_err(refused)? {
        Some(guest) => {
            let caller = state
                .chat
                .send(VerifyGuest(guest.to_owned()))
                .await
                .map_err(|e| refused(e.into()))?
                .map_err(refused)?;
            Ok((caller, false))
        }
        // Seed 003: the server issues a guest id when none is given (a creation, so
        // it counts against the client's address, like a new connection).
        _ => {
            if ip.is_some_and(|ip| !state.allow_address(ip)) {
                return Err(refused(AppError::rate_limited()));
            }
            let id = state
                .chat
                .send(IssueGuest)
                .await
                .map_err(|e| refused(e.into()))?
                .map_err(refused)?;
            Ok((Caller::Guest(id), true))
        }
    }
}

pub(super) fn connected(s: &mut ChatSocket, io: &mut SocketIo) {
    let data = match &s.caller {
        Caller::Staff(i) => json!({"type": "admin", "adminId": i.user_id}),
        Caller::User(i) => json!({"type": "user", "userId": i.user_id}),
        Caller::Guest(g) => json!({"type": "guest", "guestId": g, "issued": s.issued_guest}),
        Caller::Anonymous(_) => return,
    };
    io.emit("connection:success", &data);
}

pub(super) fn on_event(s: &mut ChatSocket, io: &mut SocketIo, event: IncomingEvent) {
    let ack = event.ack;
    let result = (|| -> Result<(), AppError> {
        match event.name.as_str() {
            "message:send" => {
                let conversation_id = required(&event, "conversationId")?;
                let text = field(&event, "message").unwrap_or_default();
                let post = PostMessage {
                    origin: Some(s.id),
                    conversation_id,
                    caller: s.caller.clone(),
                    post_as: if s.caller.is_staff() {
                        PostAs::Staff
                    } else {
                        PostAs::Customer
                    },
                    text,
                    message_type: field(&event, "messageType"),
                    client_id: field(&event, "clientId"),
                    attachment_ids: Vec::new(),
                };
                s.ask(io, post, false, move |s, io, res| {
                    s.settle(io, ack, res, message_json)
                });
            }
            "conversation:join" => {
                let conversation_id = required(&event, "conversationId")?;
                s.join(io, conversation_id.clone(), move |s, io, res| match res {
                    Ok(_) => s.reply(
                        io,
                        ack,
                        "conversation:joined",
                        json!({"conversationId": conversation_id}),
                    ),
                    Err(e) => s.fail(io, ack, &e),
                });
            }
            "conversation:leave" => {
                let conversation_id = required(&event, "conversationId")?;
                let left = json!({"conversationId": conversation_id});
                s.leave(io, conversation_id, move |s, io| {
                    s.reply(io, ack, "conversation:left", left)
                });
            }
            "typing:start" | "typing:stop" => {
                let conversation_id = required(&event, "conversationId")?;
                s.typing(io, conversation_id, event.name == "typing:start", ack);
            }
            "message:read" => {
                let message_id = required(&event, "messageId")?;
                read(s, io, message_id, field(&event, "conversationId"), ack);
            }
            other => {
                return Err(
                    AppError::new(crate::error::ErrorKind::UnknownType, "Unknown event")
                        .with_detail(format!("no event named {other:?}")),
                )
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        s.fail(io, ack, &e);
    }
}

/// `message:read {messageId}`: everything up to that message is read.
fn read(
    s: &mut ChatSocket,
    io: &mut SocketIo,
    message_id: String,
    conversation_id: Option<String>,
    ack: Option<u64>,
) {
    let db = s.state.db.clone();
    let id = message_id.clone();
    let find = async move {
        match conversation_id {
            Some(c) => Ok(Some(c)),
            None => {
                db.query(move |c| reads::conversation_of_message(c, &id))
                    .await
            }
        }
    };
    io.spawn(find, move |s, io, found| {
        let conversation_id = match found {
            Ok(Some(c)) => c,
            Ok(None) => return s.fail(io, ack, &AppError::not_found("Message not found")),
            Err(e) => return s.fail(io, ack, &e),
        };
        s.mark_read(
            io,
            conversation_id,
            ReadTarget::Ids(vec![message_id]),
            ack,
            |r| json!({"conversationId": r.conversation_id, "upToSeq": r.up_to_seq}),
        );
    });
}

/// Seed 003's server events for a domain event.
pub(super) fn encode(event: &Event, to: Audience) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    match event {
        Event::MessagePosted { message } => {
            if to.in_room {
                out.push(("message:received", message_json(message)));
            }
            if to.staff {
                out.push((
                    "conversation:new_message",
                    json!({"conversationId": message.conversation_id, "message": message_json(message)}),
                ));
            }
        }
        Event::Typing {
            conversation_id,
            participant_id,
            typing,
            ..
        } if to.in_room => {
            let name = if *typing {
                "typing:start"
            } else {
                "typing:stop"
            };
            out.push((
                name,
                json!({"conversationId": conversation_id, "senderId": participant_id}),
            ));
        }
        Event::Read {
            conversation_id,
            participant_id,
            up_to_seq,
            message_ids,
        } if to.in_room => out.push((
            "message:read",
            json!({
                "conversationId": conversation_id,
                "readerId": participant_id,
                "upToSeq": up_to_seq,
                "messageIds": message_ids,
            }),
        )),
        Event::ConversationChanged { conversation, .. } if to.in_room || to.staff => {
            out.push(("conversation:updated", conversation_json(conversation)))
        }
        Event::AccessRevoked { conversation_id } => out.push((
            "conversation:left",
            json!({"conversationId": conversation_id}),
        )),
        _ => {}
    }
    out
}
