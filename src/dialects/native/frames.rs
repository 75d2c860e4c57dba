//! Server frames of the native protocol: answers to a connection's own commands, and
//! routed domain events. Seed frames keep every field and string as written there; we
//! only add fields.

use bytestring::ByteString;
use serde_json::{json, Value};

use crate::actors::chat_server::Participant;
use crate::domain::conversation::ConversationView;
use crate::domain::customer::CustomerInfo;
use crate::domain::message::iso_timestamp;
use crate::domain::{Audience, ChangeKind, Event, Message, RelayKind, Signal};
use crate::error::AppError;

/// Frames sent to one connection in answer to its own command.
pub enum Reply<'a> {
    Registered {
        session_id: &'a str,
        /// Anonymous sessions only: what proves the session is this client's.
        session_secret: Option<&'a str>,
    },
    AdminRegistered {
        user_id: &'a str,
    },
    /// Sent after the message is committed.
    MessageAck {
        message: &'a Message,
    },
    History {
        session_id: &'a str,
        messages: &'a [Message],
        has_more: bool,
    },
    Joined {
        conversation: &'a ConversationView,
        participants: &'a [Participant],
        /// For staff: with labels.
        staff: bool,
    },
    Left {
        session_id: &'a str,
    },
    ReadAck {
        session_id: &'a str,
        up_to_seq: i64,
    },
    Participants {
        session_id: &'a str,
        participants: &'a [Participant],
    },
    OnlineStaff {
        staff: &'a [Participant],
    },
    Inbox {
        /// The filter asked for, echoed: answers may overtake each other.
        status: Option<&'a str>,
        label: Option<&'a str>,
        /// For staff: with labels.
        staff: bool,
        conversations: &'a [ConversationView],
        total: i64,
    },
    Pong,
    Agent {
        agent: &'a crate::actors::chat_server::AgentState,
    },
    Desk {
        desk: &'a crate::actors::chat_server::DeskState,
    },
    SearchResults {
        q: &'a str,
        offset: i64,
        results: &'a crate::actors::chat_server::SearchResults,
    },
    /// A moderation command was carried out.
    ChatModerated {
        change: &'a crate::domain::moderation::RuleChange,
        /// Whether to say whose the change was (staff only).
        ids: bool,
    },
    Error(&'a AppError),
}

pub fn encode_reply(reply: &Reply) -> ByteString {
    let v = match reply {
        Reply::Registered {
            session_id,
            session_secret,
        } => {
            let mut frame =
                json!({"type": "registered", "sessionId": session_id, "status": "connected"});
            if let Some(secret) = session_secret {
                frame["sessionSecret"] = json!(secret);
            }
            frame
        }
        Reply::AdminRegistered { user_id } => {
            json!({"type": "admin_registered", "userId": user_id, "status": "connected"})
        }
        Reply::MessageAck { message } => json!({
            "type": "message_ack",
            "clientId": message.client_id,
            "id": message.id,
            "seq": message.seq,
            "sessionId": message.conversation_id,
            "timestamp": iso_timestamp(message.created_at),
            "private": message.private,
        }),
        Reply::History {
            session_id,
            messages,
            has_more,
        } => json!({
            "type": "history",
            "sessionId": session_id,
            "messages": messages.iter().map(message_json).collect::<Vec<_>>(),
            "hasMore": has_more,
        }),
        Reply::Joined {
            conversation,
            participants,
            staff,
        } => json!({
            "type": "joined",
            "sessionId": conversation.conversation.id,
            "conversation": conversation_json(conversation, *staff),
            "participants": participants,
        }),
        Reply::Left { session_id } => json!({"type": "left", "sessionId": session_id}),
        Reply::ReadAck {
            session_id,
            up_to_seq,
        } => {
            json!({"type": "read_ack", "sessionId": session_id, "upToSeq": up_to_seq})
        }
        Reply::Participants {
            session_id,
            participants,
        } => {
            json!({"type": "participants", "sessionId": session_id, "participants": participants})
        }
        Reply::OnlineStaff { staff } => json!({"type": "online_staff", "staff": staff}),
        Reply::ChatModerated { change, ids } => moderated(change, *ids),
        Reply::Inbox {
            status,
            label,
            staff,
            conversations,
            total,
        } => json!({
            "type": "inbox",
            "status": status,
            "label": label,
            "conversations": conversations.iter().map(|c| conversation_json(c, *staff)).collect::<Vec<_>>(),
            "total": total,
        }),
        Reply::Agent { agent } => json!({"type": "agent", "agent": agent}),
        Reply::Desk { desk } => {
            json!({"type": "queue", "queue": desk.queue, "agents": desk.agents})
        }
        Reply::SearchResults { q, offset, results } => json!({
            "type": "search_results",
            "q": q,
            "offset": offset,
            "conversations": results.conversations.iter().map(|c| conversation_json(c, true)).collect::<Vec<_>>(),
            "messages": results.messages,
            "total": results.total,
            "hasMore": results.has_more,
        }),
        Reply::Pong => {
            json!({"type": "pong", "timestamp": iso_timestamp(chrono::Utc::now().naive_utc())})
        }
        Reply::Error(e) => {
            let mut v = json!({"type": "error", "message": e.message, "code": e.kind.code()});
            if let Some(d) = &e.detail {
                v["detail"] = json!(d);
            }
            v
        }
    };
    ByteString::from(v.to_string())
}

/// A message as history and frames show it.
pub fn message_json(m: &Message) -> Value {
    let mut v = json!({
        "id": m.id,
        "sessionId": m.conversation_id,
        "seq": m.seq,
        "senderId": m.author.id,
        "senderType": m.author.kind.as_str(),
        "senderName": m.author.name,
        "message": m.content,
        "type": m.message_type,
        "timestamp": iso_timestamp(m.created_at),
        "readBy": m.read_by,
        "isRead": m.is_read(),
        "attachments": attachments_json(m),
        "private": m.private,
    });
    if let Some(c) = &m.client_id {
        v["clientId"] = json!(c);
    }
    v
}

fn attachments_json(m: &Message) -> Value {
    m.attachments
        .iter()
        .map(|a| json!({"id": a.id, "fileName": a.file_name, "fileType": a.content_type, "fileSize": a.size, "fileUrl": a.url()}))
        .collect()
}

/// Who the customer is, as staff see it beside the conversation.
fn customer_json(c: &CustomerInfo) -> Value {
    let context = c.context.as_ref();
    json!({
        "email": c.email,
        "pageUrl": context.and_then(|x| x.page_url.as_deref()),
        "pageTitle": context.and_then(|x| x.page_title.as_deref()),
        "browser": context.and_then(|x| x.browser.as_deref()),
        "timeZone": context.and_then(|x| x.time_zone.as_deref()),
        "seenAt": context.map(|x| iso_timestamp(x.seen_at)),
        "attributes": c.attributes,
    })
}

/// A conversation in native frames; `staff` sees its labels and who the customer is.
pub fn conversation_json(c: &ConversationView, staff: bool) -> Value {
    let r = &c.conversation;
    let mut v = json!({
        "id": r.id,
        "status": r.status.as_str(),
        "type": r.kind,
        "subject": r.subject,
        "category": r.category,
        "priority": r.priority,
        "customerId": r.owner.user_id(),
        "guestId": r.owner.guest_id(),
        "customerName": r.customer_name,
        "assignedAgentId": r.assigned_agent_id,
        "lastSeq": r.last_seq,
        "createdAt": iso_timestamp(r.created_at),
        "updatedAt": iso_timestamp(r.updated_at),
    });
    if staff {
        v["labels"] = json!(r.labels);
        v["snoozedUntil"] = json!(r.snoozed_until.map(iso_timestamp));
        v["customer"] = customer_json(&r.customer);
    }
    v["rating"] = match &r.rating {
        Some(rating) => {
            json!({"score": rating.score, "comment": rating.comment, "ratedAt": iso_timestamp(rating.rated_at)})
        }
        None => Value::Null,
    };
    if let Some(n) = c.unread_count {
        v["unreadCount"] = json!(n);
    }
    if let Some(m) = &c.last_message {
        v["lastMessage"] = message_json(m);
    }
    v
}

/// Encode a routed event for one audience; `None` when that audience gets no frame.
pub fn encode_event(event: &Event, audience: Audience) -> Option<ByteString> {
    let v = match event {
        // The sender has its `message_ack`.
        Event::MessagePosted { .. } if audience.sender => return None,
        // Notes go to staff only (the ChatServer sends them nowhere else either).
        Event::MessagePosted { message: m } if m.private && !audience.staff => return None,
        Event::MessagePosted { message: m } if m.private => json!({
            "type": "staff_note",
            "sessionId": m.conversation_id,
            "message": m.content,
            "timestamp": iso_timestamp(m.created_at),
            "id": m.id,
            "seq": m.seq,
            "staffId": m.author.id,
            "staffName": m.author.name,
            "senderType": m.author.kind.as_str(),
            "private": true,
        }),
        Event::MessagePosted { message: m } => match m.author.kind.as_str() {
            "customer" | "guest" => json!({
                "type": "customer_message",
                "sessionId": m.conversation_id,
                "message": m.content,
                "customerName": m.author.name,
                "timestamp": iso_timestamp(m.created_at),
                "id": m.id,
                "seq": m.seq,
                "senderId": m.author.id,
                "senderType": m.author.kind.as_str(),
                "messageType": m.message_type,
                "attachments": attachments_json(m),
            }),
            "system" => json!({
                "type": "system_message",
                "sessionId": m.conversation_id,
                "message": m.content,
                "timestamp": iso_timestamp(m.created_at),
                "id": m.id,
                "seq": m.seq,
            }),
            _ => json!({
                "type": "staff_reply",
                "message": m.content,
                "timestamp": iso_timestamp(m.created_at),
                "sessionId": m.conversation_id,
                "id": m.id,
                "seq": m.seq,
                "staffId": m.author.id,
                "staffName": m.author.name,
                // agent, admin or bot
                "senderType": m.author.kind.as_str(),
                "messageType": m.message_type,
                "attachments": attachments_json(m),
            }),
        },
        Event::ConversationChanged {
            conversation,
            change,
            ..
        } => json!({
            "type": "conversation_updated",
            "change": match change { ChangeKind::Created => "created", ChangeKind::StatusChanged => "status", ChangeKind::Labels => "labels", ChangeKind::Rated => "rated", ChangeKind::Snoozed => "snoozed", ChangeKind::Customer => "customer" },
            "sessionId": conversation.conversation.id,
            "conversation": conversation_json(conversation, audience.staff),
        }),
        Event::Typing {
            conversation_id,
            participant_id,
            name,
            typing,
            expired,
        } => json!({
            "type": "typing",
            "sessionId": conversation_id,
            "userId": participant_id,
            "name": name,
            "isTyping": typing,
            "expired": expired,
        }),
        Event::Read {
            conversation_id,
            participant_id,
            up_to_seq,
            message_ids,
        } => json!({
            "type": "messages_read",
            "sessionId": conversation_id,
            "readerId": participant_id,
            "upToSeq": up_to_seq,
            "messageIds": message_ids,
        }),
        Event::Presence {
            conversation_id,
            participant_id,
            role,
            name,
            joined,
        } => json!({
            "type": if *joined { "participant_joined" } else { "participant_left" },
            "sessionId": conversation_id,
            "userId": participant_id,
            "role": role,
            "name": name,
        }),
        Event::AgentChanged { .. } if !audience.staff => return None,
        Event::AgentChanged { user_id, settings } => json!({
            "type": "agent_updated",
            "userId": user_id,
            "availability": settings.availability,
            "capacity": settings.capacity,
        }),
        Event::QueuePosition {
            conversation_id,
            position,
            expected_wait,
        } => json!({
            "type": "queue_position",
            "sessionId": conversation_id,
            "position": position,
            "expectedWaitSeconds": expected_wait,
        }),
        Event::StaffPresence {
            user_id,
            name,
            online,
        } => {
            json!({"type": "staff_presence", "userId": user_id, "name": name, "online": online})
        }
        Event::AccessRevoked { conversation_id } => json!({
            "type": "error",
            "message": AppError::access_denied().message,
            "code": "forbidden",
            "sessionId": conversation_id,
        }),
        Event::StreamStarted { stream } => json!({"type": "stream_started", "streamData": stream}),
        Event::StreamStopped { stream_id } => {
            json!({"type": "stream_stopped", "streamId": stream_id})
        }
        Event::StreamUpdate {
            viewer_count,
            likes,
            liked_by,
        } => {
            json!({"type": "stream_update", "viewerCount": viewer_count, "likes": likes, "likedBy": liked_by.as_slice()})
        }
        Event::PinnedProducts { products } => {
            json!({"type": "pinned_products_updated", "pinnedProducts": products.as_slice()})
        }
        Event::StreamChat { line } => {
            let mut v = json!(line);
            v["type"] = json!("chat_message");
            v
        }
        Event::StreamChatDeleted { message_id } => {
            json!({"type": "chat_message_deleted", "messageId": message_id})
        }
        Event::PinnedMessage { message } => {
            json!({"type": "pinned_message", "message": message})
        }
        Event::StreamReactions { counts } => {
            let counts: serde_json::Map<String, Value> = crate::domain::stream::REACTIONS
                .iter()
                .zip(counts)
                .filter(|(_, n)| **n > 0)
                .map(|(emoji, n)| ((*emoji).to_owned(), json!(n)))
                .collect();
            json!({"type": "reactions", "counts": counts})
        }
        Event::ChatSettings(settings) => {
            let mut v = json!(settings);
            v["type"] = json!("chat_settings");
            v
        }
        Event::ChatBanned { until, reason } => {
            json!({"type": "chat_banned", "until": until, "reason": reason})
        }
        Event::ChatBanLifted => json!({"type": "chat_ban_lifted"}),
        Event::ChatRole { moderator } => json!({"type": "chat_role", "moderator": moderator}),
        Event::RulesChanged(change) => moderated(change, true),
        Event::ChatHistory { lines } => json!({"type": "chat_history", "messages": lines}),
        Event::Signal(signal) => match signal {
            Signal::Registered { peer_id, user_type } => {
                json!({"type": "webrtc_registered", "peerId": peer_id, "userType": user_type})
            }
            Signal::Relay {
                kind,
                from,
                to,
                payload,
            } => {
                let (kind, field) = relay_names(*kind);
                json!({"type": kind, "from": from, "to": to, field: payload})
            }
            Signal::BroadcasterAvailable { broadcaster } => {
                json!({"type": "webrtc_broadcaster_available", "broadcaster": broadcaster})
            }
            Signal::BroadcastStopped { broadcaster } => {
                json!({"type": "webrtc_broadcast_stopped", "broadcaster": broadcaster})
            }
            Signal::NewCustomer { customer_id } => {
                json!({"type": "webrtc_new_customer", "customerId": customer_id})
            }
        },
        Event::ChatSkipped { count } => json!({"type": "chat_skipped", "count": count}),
        Event::Disconnect { .. } => return None,
    };
    Some(ByteString::from(v.to_string()))
}

/// A relayed WebRTC signal's frame type and payload field (seed 002).
fn relay_names(kind: RelayKind) -> (&'static str, &'static str) {
    match kind {
        RelayKind::Offer => ("webrtc_offer", "offer"),
        RelayKind::Answer => ("webrtc_answer", "answer"),
        RelayKind::IceCandidate => ("webrtc_ice_candidate", "candidate"),
    }
}

/// `chat_moderated`: what a moderation command changed; with `ids`, whose it was (a
/// guest's or session's id is its secret: only staff hear it).
fn moderated(change: &crate::domain::moderation::RuleChange, ids: bool) -> Value {
    use crate::domain::moderation::RuleChange;
    let mut v = match change {
        RuleChange::Ban(b) => json!({"ban": b}),
        RuleChange::AddModerator(m) => json!({"moderator": m}),
        RuleChange::BlockedTerms(terms) => json!({"terms": terms}),
        RuleChange::Lift { .. } | RuleChange::RemoveModerator { .. } => json!({}),
    };
    v["type"] = json!("chat_moderated");
    v["action"] = json!(change.action());
    match change.user_id() {
        Some(user_id) if ids => v["userId"] = json!(user_id),
        _ => {
            for inner in ["ban", "moderator"] {
                if let Some(o) = v.get_mut(inner).and_then(Value::as_object_mut) {
                    o.remove("userId");
                }
            }
        }
    }
    v
}
