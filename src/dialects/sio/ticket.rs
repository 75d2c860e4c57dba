//! Seed 001 on namespace `/`: `authenticate` → `authenticated`/`authentication_error`,
//! `join_ticket`/`joined_ticket`, `leave_ticket`, `get_messages`, `send_message` with
//! base64 (or binary) attachments, typing, online users and presence. A ticket is a
//! conversation; its customer and staff may use it.

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};

use super::{required, verify_token, ChatSocket, SocketIo};
use crate::actors::chat_server::{
    FetchHistory, GetParticipants, HistoryPage, Notes, PostAs, PostMessage,
};
use crate::domain::files::{self, Upload};
use crate::domain::message::iso_timestamp;
use crate::domain::{Audience, Caller, Event, Message};
use crate::error::{AppError, ErrorKind};
use crate::transport::socketio::packet::placeholder;
use crate::transport::socketio::IncomingEvent;
use crate::uploads;

/// Client events of seed 001 (besides `send_message`, which it shares with seed 004).
pub(super) const EVENTS: [&str; 7] = [
    "authenticate",
    "join_ticket",
    "leave_ticket",
    "get_messages",
    "typing_start",
    "typing_stop",
    "get_online_users",
];

const NOT_AUTHENTICATED: &str = "User not authenticated";
const ACCESS_DENIED: &str = "Access denied to this ticket";
const MAX_PAGE: i64 = 100;

pub(super) fn on_event(s: &mut ChatSocket, io: &mut SocketIo, event: IncomingEvent) {
    let ack = event.ack;
    if event.name == "authenticate" {
        return authenticate(s, io, &event);
    }
    if !s.signed_in() {
        return s.fail(
            io,
            ack,
            &AppError::new(ErrorKind::TokenRequired, NOT_AUTHENTICATED),
        );
    }
    let result = (|| -> Result<(), AppError> {
        let ticket_id = required(&event, "ticketId")?;
        match event.name.as_str() {
            "join_ticket" => {
                s.join(io, ticket_id.clone(), move |s, io, res| match res {
                    Ok(_) => s.reply(io, ack, "joined_ticket", json!({"ticketId": ticket_id})),
                    Err(e) => s.fail(io, ack, &denied(e)),
                });
            }
            "leave_ticket" => {
                let left = json!({"ticketId": ticket_id});
                s.leave(io, ticket_id, move |_, io| {
                    if let Some(id) = ack {
                        io.ack(id, vec![left]);
                    }
                });
            }
            "get_messages" => {
                let arg = |name| {
                    event
                        .args
                        .first()
                        .and_then(|a| a.get(name))
                        .and_then(Value::as_i64)
                };
                let limit = arg("limit").unwrap_or(50).clamp(1, MAX_PAGE);
                let offset = arg("offset").unwrap_or(0).max(0);
                let fetch = FetchHistory {
                    conversation_id: ticket_id.clone(),
                    caller: s.caller.clone(),
                    page: HistoryPage::Offset { offset, limit },
                    notes: Notes::Hidden,
                };
                s.ask(io, fetch, false, move |s, io, res| match res {
                    Ok(h) => {
                        let data = json!({
                            "ticketId": ticket_id,
                            "messages": h.messages.iter().map(message_json).collect::<Vec<_>>(),
                            "limit": limit,
                            "offset": offset,
                            "total": h.total,
                            "hasMore": h.has_more,
                        });
                        s.reply(io, ack, "messages", data)
                    }
                    Err(e) => s.fail(io, ack, &denied(e)),
                });
            }
            "send_message" => send(s, io, ticket_id, &event)?,
            "typing_start" | "typing_stop" => {
                s.typing(io, ticket_id, event.name == "typing_start", ack)
            }
            "get_online_users" => {
                let get = GetParticipants {
                    conversation_id: ticket_id.clone(),
                    caller: s.caller.clone(),
                };
                s.ask(io, get, false, move |s, io, res| match res {
                    Ok(users) => {
                        let users: Vec<Value> = users
                            .iter()
                            .map(|u| json!({"userId": u.id, "userName": u.name, "role": u.role}))
                            .collect();
                        s.reply(
                            io,
                            ack,
                            "online_users",
                            json!({"ticketId": ticket_id, "users": users}),
                        )
                    }
                    Err(e) => s.fail(io, ack, &denied(e)),
                });
            }
            _ => {}
        }
        Ok(())
    })();
    if let Err(e) = result {
        s.fail(io, ack, &e);
    }
}

/// Refusals of access read as seed 001 words them.
fn denied(e: AppError) -> AppError {
    match e.kind {
        ErrorKind::Forbidden | ErrorKind::NotFound => AppError::forbidden(ACCESS_DENIED),
        _ => e,
    }
}

fn authenticate(s: &mut ChatSocket, io: &mut SocketIo, event: &IncomingEvent) {
    let arg = event.args.first().unwrap_or(&Value::Null);
    let verified = verify_token(&s.state, arg).unwrap_or_else(|| Err(AppError::token_required()));
    match verified {
        Ok(caller) => {
            let user = match &caller {
                Caller::User(i) | Caller::Staff(i) => json!({
                    "id": i.user_id,
                    "name": caller.display_name(),
                    "role": i.role,
                }),
                _ => Value::Null,
            };
            s.authenticate(io, caller);
            s.reply(io, event.ack, "authenticated", json!({"user": user}));
        }
        Err(e) => s.reply(
            io,
            event.ack,
            "authentication_error",
            json!({"message": e.message, "code": e.kind.code()}),
        ),
    }
}

/// `send_message`: attachments (base64 strings, or binary parts) are checked and
/// stored first; the message then carries them.
fn send(
    s: &mut ChatSocket,
    io: &mut SocketIo,
    ticket_id: String,
    event: &IncomingEvent,
) -> Result<(), AppError> {
    let ack = event.ack;
    let arg = event.args.first().cloned().unwrap_or(Value::Null);
    let text = arg
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let files = decode_attachments(arg.get("attachments"), &event.binaries)?;
    let post_as = if s.caller.is_staff() {
        PostAs::Staff
    } else {
        PostAs::Customer
    };
    let (state, caller, origin) = (s.state.clone(), s.caller.clone(), s.id);
    let client_id = arg
        .get("clientId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let posted = async move {
        let attachment_ids: Vec<String> = uploads::save(&state, &caller, files)
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect();
        let post = PostMessage {
            origin: Some(origin),
            conversation_id: ticket_id,
            caller,
            post_as,
            message_type: (!attachment_ids.is_empty()).then(|| "file".to_owned()),
            text,
            client_id,
            attachment_ids: attachment_ids.clone(),
        };
        let posted = state.chat.send(post).await?;
        if posted.is_err() && !attachment_ids.is_empty() {
            // The message was refused: its files must not stay behind.
            uploads::discard(&state, attachment_ids).await;
        }
        posted
    };
    // Detached from the session: if it closes mid-send, a refused message still
    // discards its files.
    let posted = actix_rt::spawn(posted);
    let posted = async move { posted.await.unwrap_or_else(|_| Err(AppError::internal())) };
    io.spawn(posted, move |s, io, res| match res {
        Ok(m) => {
            if let Some(id) = ack {
                io.ack(id, vec![json!({"data": message_json(&m)})]);
            }
        }
        Err(e) => s.fail(io, ack, &denied(e)),
    });
    Ok(())
}

/// Seed 001's `attachments: [{name, type, data}]`, `data` base64 or a binary part.
/// The declared type is a hint; the content decides (the upload allow-list).
fn decode_attachments(raw: Option<&Value>, parts: &[Bytes]) -> Result<Vec<Upload>, AppError> {
    let list = match raw {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(AppError::validation("attachments must be an array")),
    };
    if list.len() > files::MAX_FILES {
        return Err(AppError::validation(format!(
            "At most {} files per message",
            files::MAX_FILES
        )));
    }
    list.iter()
        .map(|a| {
            let name = a.get("name").and_then(Value::as_str).unwrap_or("file");
            let bytes = match a.get("data") {
                Some(Value::String(b64)) => {
                    // Bound the work before decoding: 4 base64 chars carry 3 bytes.
                    if b64.len() / 4 * 3 > files::MAX_FILE_BYTES + 3 {
                        return Err(too_large());
                    }
                    let b64 = b64.split_once(";base64,").map_or(b64.as_str(), |(_, d)| d);
                    base64::engine::general_purpose::STANDARD
                        .decode(b64.trim())
                        .map_err(|_| AppError::validation("attachment data must be base64"))?
                }
                Some(p) => placeholder(p, parts).map(|b| b.to_vec()).ok_or_else(|| {
                    AppError::validation("attachment data must be base64 or binary")
                })?,
                None => return Err(AppError::validation("attachment data is required")),
            };
            if bytes.len() > files::MAX_FILE_BYTES {
                return Err(too_large());
            }
            if bytes.is_empty() {
                return Err(AppError::validation("attachment is empty"));
            }
            let file_name = files::clean_file_name(name);
            let content_type = files::check_type(&file_name, &bytes)?;
            Ok(Upload {
                file_name,
                content_type,
                bytes,
            })
        })
        .collect()
}

fn too_large() -> AppError {
    AppError::new(ErrorKind::PayloadTooLarge, "File too large")
        .with_detail(format!("at most {} bytes per file", files::MAX_FILE_BYTES))
}

/// Seed 001's message (its document leaves the fields to us).
fn message_json(m: &Message) -> Value {
    json!({
        "id": m.id,
        "ticketId": m.conversation_id,
        "seq": m.seq,
        "senderId": m.author.id,
        "senderName": m.author.name,
        "senderRole": m.author.kind.as_str(),
        "message": m.content,
        "messageType": m.message_type,
        "attachments": m.attachments.iter().map(|a| json!({
            "id": a.id,
            "name": a.file_name,
            "type": a.content_type,
            "size": a.size,
            "url": a.url(),
        })).collect::<Vec<_>>(),
        "createdAt": iso_timestamp(m.created_at),
    })
}

/// Seed 001's server events for a domain event.
pub(super) fn encode(event: &Event, to: Audience) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    match event {
        Event::MessagePosted { message } if to.in_room => {
            out.push(("new_message", json!({"data": message_json(message)})))
        }
        Event::Typing {
            conversation_id,
            participant_id,
            name,
            typing,
            ..
        } if to.in_room => out.push((
            if *typing { "user_typing" } else { "user_stopped_typing" },
            json!({"ticketId": conversation_id, "userId": participant_id, "userName": name}),
        )),
        Event::Presence {
            conversation_id,
            participant_id,
            role,
            name,
            joined,
        } if to.in_room => out.push((
            if *joined { "user_joined_ticket" } else { "user_left_ticket" },
            json!({"ticketId": conversation_id, "userId": participant_id, "userName": name, "role": role}),
        )),
        Event::AccessRevoked { conversation_id } => out.push((
            "error",
            json!({"message": ACCESS_DENIED, "ticketId": conversation_id}),
        )),
        _ => {}
    }
    out
}
