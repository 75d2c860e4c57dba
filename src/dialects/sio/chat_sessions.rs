//! Seed 004 on namespace `/`: handshake `auth: {token}`, `join_session` →
//! `session_joined`, `send_message` → `message_sent` + `new_message`, typing, reads,
//! `accept_chat`, `close_chat`, presence and status changes.

use serde_json::{json, Value};

use super::{field, required, ChatSocket, SocketIo};
use crate::actors::chat_server::{
    ChangeConversation, FetchHistory, HistoryPage, Notes, PostAs, PostMessage,
};
use crate::dialects::chat_sessions::{message_json, session_json};
use crate::domain::conversation::{Status, StatusChange};
use crate::domain::message::iso_timestamp;
use crate::domain::writes::ReadTarget;
use crate::domain::{Audience, ChangeKind, Event};
use crate::error::AppError;
use crate::transport::socketio::IncomingEvent;

/// Client events of seed 004 (besides `send_message`, which it shares with seed 001).
pub(super) const EVENTS: [&str; 7] = [
    "join_session",
    "typing",
    "stop_typing",
    "mark_as_read",
    "accept_chat",
    "close_chat",
    "leave_session",
];

const HISTORY: i64 = 50;

pub(super) fn on_event(s: &mut ChatSocket, io: &mut SocketIo, event: IncomingEvent) {
    let ack = event.ack;
    if !s.signed_in() {
        let e = AppError::new(
            crate::error::ErrorKind::TokenRequired,
            "Authentication required",
        );
        return s.fail(io, ack, &e);
    }
    let result = (|| -> Result<(), AppError> {
        let session_id = required(&event, "session_id")?;
        match event.name.as_str() {
            "join_session" => join(s, io, session_id, ack),
            "send_message" => {
                let temp_id = field(&event, "temp_id");
                let post = PostMessage {
                    origin: Some(s.id),
                    conversation_id: session_id,
                    caller: s.caller.clone(),
                    post_as: if s.caller.is_staff() {
                        PostAs::Staff
                    } else {
                        PostAs::Customer
                    },
                    text: field(&event, "content").unwrap_or_default(),
                    message_type: field(&event, "message_type"),
                    client_id: temp_id.clone(),
                    attachment_ids: Vec::new(),
                };
                s.ask(io, post, false, move |s, io, res| match res {
                    Ok(m) => s.reply(
                        io,
                        ack,
                        "message_sent",
                        json!({"message_id": m.id, "temp_id": temp_id, "sent_at": iso_timestamp(m.created_at), "seq": m.seq}),
                    ),
                    Err(e) => {
                        let data = json!({"message": e.message, "code": e.kind.code(), "temp_id": temp_id});
                        s.reply(io, ack, "error", data)
                    }
                });
            }
            "typing" | "stop_typing" => s.typing(io, session_id, event.name == "typing", ack),
            "mark_as_read" => {
                let ids = event.args.first().and_then(|a| a.get("message_ids"));
                let target = match ids {
                    None | Some(Value::Null) => ReadTarget::All,
                    Some(Value::Array(ids)) => ReadTarget::Ids(
                        ids.iter()
                            .map(|v| v.as_str().map(str::to_owned))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| AppError::validation("message_ids must be strings"))?,
                    ),
                    Some(_) => return Err(AppError::validation("message_ids must be an array")),
                };
                s.mark_read(
                    io,
                    session_id,
                    target,
                    ack,
                    |r| json!({"session_id": r.conversation_id, "up_to_seq": r.up_to_seq}),
                );
            }
            "accept_chat" => change(s, io, session_id, StatusChange::Accept, ack),
            "close_chat" => change(s, io, session_id, StatusChange::Set(Status::Closed), ack),
            "leave_session" => {
                let left = json!({"session_id": session_id});
                s.leave(io, session_id, move |_, io| {
                    if let Some(id) = ack {
                        io.ack(id, vec![left]);
                    }
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

/// `join_session`: the room, then `session_joined` with the latest history.
fn join(s: &mut ChatSocket, io: &mut SocketIo, session_id: String, ack: Option<u64>) {
    s.join(io, session_id.clone(), move |s, io, res| {
        let joined = match res {
            Ok(j) => j,
            Err(e) => return s.fail(io, ack, &e),
        };
        let fetch = FetchHistory {
            conversation_id: session_id,
            caller: s.caller.clone(),
            page: HistoryPage::Before {
                seq: i64::MAX,
                limit: HISTORY,
            },
            notes: Notes::Hidden,
        };
        s.ask(io, fetch, true, move |s, io, res| match res {
            Ok(history) => {
                let participants: Vec<Value> = joined
                    .participants
                    .iter()
                    .map(|p| json!({"user_id": p.id, "role": p.role, "name": p.name}))
                    .collect();
                let data = json!({
                    "session": session_json(&joined.conversation),
                    "messages": history.messages.iter().map(message_json).collect::<Vec<_>>(),
                    "participants": participants,
                    "has_more": history.has_more,
                });
                s.reply(io, ack, "session_joined", data)
            }
            Err(e) => s.fail(io, ack, &e),
        });
    });
}

fn change(
    s: &mut ChatSocket,
    io: &mut SocketIo,
    session_id: String,
    change: StatusChange,
    ack: Option<u64>,
) {
    let msg = ChangeConversation {
        origin: Some(s.id),
        conversation_id: session_id,
        caller: s.caller.clone(),
        change,
    };
    s.ask(io, msg, false, move |s, io, res| {
        s.settle(io, ack, res, |view| json!({"session": session_json(view)}))
    });
}

/// Seed 004's server events for a domain event.
pub(super) fn encode(event: &Event, to: Audience) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    match event {
        Event::MessagePosted { message } if to.in_room => {
            out.push(("new_message", json!({"message": message_json(message)})))
        }
        Event::Typing {
            conversation_id,
            participant_id,
            name,
            typing,
            ..
        } if to.in_room => {
            if *typing {
                out.push((
                    "user_typing",
                    json!({"session_id": conversation_id, "user_id": participant_id, "user_name": name}),
                ));
            } else {
                out.push((
                    "typing_stopped",
                    json!({"session_id": conversation_id, "user_id": participant_id}),
                ));
            }
        }
        Event::Read {
            conversation_id,
            participant_id,
            up_to_seq,
            message_ids,
        } if to.in_room => out.push((
            "messages_read",
            json!({
                "session_id": conversation_id,
                "user_id": participant_id,
                "message_ids": message_ids,
                "up_to_seq": up_to_seq,
            }),
        )),
        Event::Presence {
            conversation_id,
            participant_id,
            role,
            name,
            joined,
        } if to.in_room => {
            if *joined {
                out.push((
                    "user_joined",
                    json!({"session_id": conversation_id, "user_id": participant_id, "role": role, "name": name}),
                ));
            } else {
                out.push((
                    "user_left",
                    json!({"session_id": conversation_id, "user_id": participant_id, "role": role}),
                ));
            }
        }
        Event::ConversationChanged {
            conversation,
            change,
            by,
        } if to.in_room || to.staff => {
            let row = &conversation.conversation;
            let session = session_json(conversation);
            if to.in_room && *change == ChangeKind::StatusChanged {
                let by_agent = by
                    .as_ref()
                    .filter(|(id, _)| row.assigned_agent_id.as_ref() == Some(id));
                match (row.status, by_agent) {
                    (Status::Active, Some((agent_id, agent_name))) => out.push((
                        "chat_accepted",
                        json!({"session": session, "agent_id": agent_id, "agent_name": agent_name}),
                    )),
                    (Status::Closed, _) => out.push((
                        "chat_closed",
                        json!({"session": session, "closed_by": by.as_ref().map(|(id, _)| id)}),
                    )),
                    _ => {}
                }
            }
            out.push((
                "session_status_changed",
                json!({"session_id": row.id, "status": row.status.as_str(), "agent_id": row.assigned_agent_id}),
            ));
        }
        Event::AccessRevoked { conversation_id } => out.push((
            "error",
            json!({"message": "Access denied to this session", "session_id": conversation_id}),
        )),
        _ => {}
    }
    out
}
