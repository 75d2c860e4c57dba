//! Seeds 001, 003 and 004 over Socket.IO: the `SocketHandler` the Socket.IO layer runs
//! for namespaces `/` and `/support`. Each socket speaks one dialect: `/support` is
//! seed 003; on `/`, seed 001 (`authenticate`, tickets) and seed 004 (handshake token,
//! sessions) are told apart by what the client sends. Events become ChatServer
//! commands; domain events are encoded once per dialect and audience and shared.

mod chat_sessions;
mod recovery;
mod support;
mod ticket;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use actix::prelude::*;
use bytestring::ByteString;
use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use std::time::Duration;

use crate::actors::chat_server::{
    Attach, ChatServer, ConnId, Deliver, JoinConversation, Leave, LeaveConversation, MarkRead,
    SetTyping,
};
use crate::actors::cluster::{DropRecovery, KeepRecovery, TakeRecovery};
use crate::domain::conversation::participant_id;
use crate::domain::{Audience, Caller, ChangeKind, Event};
use crate::error::{AppError, ErrorKind};
use crate::rate_limit::TokenBucket;
use crate::state::AppState;
pub use recovery::Parked;

use crate::transport::socketio::{
    CloseReason, ConnectError, ConnectRequest, IncomingEvent, Io, SioSession, SocketHandler,
};

use super::DialectId;

/// Live messages held back while a conversation is replayed, at most.
const MAX_HELD: usize = 1000;

/// Message deliveries remembered per socket, to tell after a lost connection which of
/// them the client got (its last offset) and which it must be sent again.
const DELIVERY_LOG: usize = 256;

/// One Socket.IO socket on `/` or `/support`.
pub struct ChatSocket {
    state: Arc<AppState>,
    id: ConnId,
    caller: Caller,
    dialect: DialectId,
    /// Conversations joined, with the last seq delivered here.
    rooms: HashMap<String, i64>,
    /// The latest message deliveries in order: (conversation, seq).
    log: VecDeque<(String, i64)>,
    bucket: TokenBucket,
    /// Conversations to rejoin and replay once connected (connection state recovery).
    recovering: Option<HashMap<String, i64>>,
    /// Conversations being replayed, and their live messages held back meanwhile (they
    /// follow the replay, so the client gets everything once and in order).
    replaying: std::collections::HashSet<String>,
    held: Vec<Deliver>,
    /// The guest id issued at CONNECT, for `connection:success`.
    issued_guest: bool,
    /// Which expiry timer is current: a new identity (seed 001's `authenticate`)
    /// starts a new one, and the older timers do nothing when they fire.
    expiry_timer: u64,
    /// Cluster mode: the recovery state last stored in Redis (its fingerprint), when.
    shared: Option<(u64, std::time::Instant)>,
    /// The socket was recovered: its first store takes it over from the node that
    /// held it (which may not have noticed yet that its connection died).
    recovered: bool,
    /// Why this handler ended the socket (its token expired).
    ending: Option<crate::metrics::Ended>,
}

type SocketIo<'a> = Io<'a, ChatSocket>;

/// Who a handshake token says the caller is; `None` for no token (absent, null or
/// empty), `Err` for a bad one, a token that is not a string included.
fn verify_token(state: &AppState, auth: &Value) -> Option<Result<Caller, AppError>> {
    let token = match credential(auth, "token")? {
        Ok(token) => token,
        Err(e) => return Some(Err(e)),
    };
    Some(
        state
            .keys
            .verify(token.trim_start_matches("Bearer "))
            .map(|i| Caller::from_identity(Some(i))),
    )
}

/// A string credential of a handshake: `None` when absent, null or empty; a value of
/// another type is refused, never taken as "no credential".
fn credential<'a>(auth: &'a Value, name: &str) -> Option<Result<&'a str, AppError>> {
    match auth.get(name)? {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(Ok(s.trim())),
        _ => Some(Err(
            AppError::auth_failed().with_detail(format!("{name} must be a string"))
        )),
    }
}

fn refused(e: &AppError) -> ConnectError {
    ConnectError {
        message: e.message.to_string(),
        data: Some(json!({"code": e.kind.code(), "detail": e.detail})),
    }
}

/// When a token-based caller's token runs out (Unix seconds).
fn expires_at(caller: &Caller) -> Option<i64> {
    match caller {
        Caller::User(i) | Caller::Staff(i) => Some(i.expires_at),
        _ => None,
    }
}

/// A token-based caller whose token has run out may not act, nor be restored.
fn still_valid(caller: &Caller) -> bool {
    match caller {
        Caller::User(i) | Caller::Staff(i) => !i.expired(),
        _ => true,
    }
}

/// Cluster mode: keep a socket's recovery state in Redis (see `share_parked`);
/// `take_over` makes it this node's socket now.
fn share(app: &AppState, pid: &str, parked: &Parked, window: Duration, take_over: bool) {
    let Some(cluster) = &app.cluster else { return };
    match serde_json::to_string(parked) {
        Ok(state) => cluster.do_send(KeepRecovery {
            pid: pid.to_owned(),
            state,
            window,
            take_over,
        }),
        Err(e) => log::warn!("a socket's recovery state could not be encoded: {e}"),
    }
}

impl SocketHandler for ChatSocket {
    type App = Arc<AppState>;
    type Parked = Parked;

    fn serves(nsp: &str) -> bool {
        nsp == "/" || nsp == "/support"
    }

    fn admit(app: &Self::App, req: &actix_web::HttpRequest) -> bool {
        app.allow_ip(req).is_ok()
    }

    fn connect(
        app: &Self::App,
        req: ConnectRequest<Self>,
    ) -> LocalBoxFuture<'static, Result<(Self, bool), ConnectError>> {
        let state = app.clone();
        Box::pin(async move {
            let support = req.nsp == "/support";
            // Handshake credentials, if any, are checked even when recovering: a
            // recovered socket must be the same identity on the same namespace.
            let presented = if support {
                let credentials = credential(&req.auth, "token").is_some()
                    || credential(&req.auth, "guestId").is_some();
                match (credentials, &req.restored) {
                    (false, Some(_)) => None,
                    _ => Some(support::authenticate(&state, &req.auth, req.remote_ip).await?),
                }
            } else {
                match verify_token(&state, &req.auth) {
                    Some(Ok(caller)) => Some((caller, false)),
                    Some(Err(e)) => return Err(refused(&e)),
                    None => None,
                }
            };
            let restored = req.restored.filter(|p| {
                p.nsp == req.nsp
                    && still_valid(&p.caller)
                    && presented
                        .as_ref()
                        .is_none_or(|(c, _)| participant_id(c, "") == participant_id(&p.caller, ""))
            });
            let (caller, dialect, rooms, issued_guest) = match (restored, presented) {
                (Some(p), presented) => {
                    let points = p.resume_points(req.offset.as_deref());
                    // A fresh token (a later expiry) replaces the old one.
                    let caller = presented.map_or(p.caller, |(c, _)| c);
                    (caller, p.dialect, Some(points), false)
                }
                (None, Some((caller, issued))) if support => {
                    (caller, DialectId::Support, None, issued)
                }
                // Seed 004 authenticates in the handshake; seed 001 by event later.
                (None, Some((caller, _))) => (caller, DialectId::Session, None, false),
                (None, None) => (Caller::Anonymous(None), DialectId::Ticket, None, false),
            };
            let socket = ChatSocket {
                id: req.socket_id,
                bucket: state.frame_rate.clone(),
                state,
                caller,
                dialect,
                rooms: HashMap::new(),
                log: VecDeque::new(),
                recovering: rooms.clone(),
                replaying: Default::default(),
                held: Vec::new(),
                issued_guest,
                expiry_timer: 0,
                shared: None,
                recovered: rooms.is_some(),
                ending: None,
            };
            if !socket.caller.is_anonymous() {
                socket.attach(req.session.recipient());
            }
            Ok((socket, rooms.is_some()))
        })
    }

    fn on_connected(&mut self, io: &mut SocketIo) {
        let dialect = self.dialect.as_str();
        self.state.metrics.connected(io.carrier(), dialect);
        self.watch_expiry(io);
        self.share_while_alive(io);
        if !still_valid(&self.caller) {
            return;
        }
        if self.dialect == DialectId::Support {
            support::connected(self, io);
        }
        if let Some(rooms) = self.recovering.take() {
            self.recover(io, rooms);
        }
    }

    fn on_event(&mut self, io: &mut SocketIo, event: IncomingEvent) {
        // The timer ends the socket at `exp`; nothing that arrives after it is acted on,
        // even if it overtakes the timer.
        if !still_valid(&self.caller) {
            return self.expire(io);
        }
        if !self.bucket.try_take() {
            self.state.metrics.rate_limited("frames");
            let e = AppError::rate_limited();
            return self.fail(io, event.ack, &e);
        }
        if self.dialect == DialectId::Support {
            return support::on_event(self, io, event);
        }
        // Namespace `/`: seeds 001 and 004 share it, and the name `send_message`. A
        // socket speaks 004 if it connected with a token, 001 if not; an event only one
        // of them has settles it; `send_message` follows the socket's dialect.
        let name = event.name.as_str();
        if ticket::EVENTS.contains(&name) {
            self.set_dialect(DialectId::Ticket);
        } else if chat_sessions::EVENTS.contains(&name) {
            self.set_dialect(DialectId::Session);
        } else if name != "send_message" {
            let e = AppError::new(ErrorKind::UnknownType, "Unknown event")
                .with_detail(format!("no event named {name:?}"));
            return self.fail(io, event.ack, &e);
        }
        match self.dialect {
            DialectId::Ticket => ticket::on_event(self, io, event),
            _ => chat_sessions::on_event(self, io, event),
        }
    }

    fn on_close(self, io: &mut SocketIo, reason: CloseReason) -> Option<Parked> {
        use crate::metrics::Ended;
        let evicted = self.state.evictions.was_evicted(self.id);
        let why = self.ending.unwrap_or(match reason {
            _ if evicted => Ended::SlowConsumer,
            CloseReason::ClientDisconnect => Ended::ClientClosed,
            CloseReason::ServerDisconnect => Ended::ServerClosed,
            CloseReason::TransportLost => io.ended().unwrap_or(Ended::ConnectionLost),
        });
        let dialect = self.dialect.as_str();
        self.state.metrics.disconnected(io.carrier(), dialect, why);
        self.state.chat.do_send(Leave { conn: self.id });
        Some(self.parked(io.nsp()))
    }

    fn share_parked(app: &Self::App, pid: &str, parked: &Parked, window: Duration) {
        share(app, pid, parked, window, false);
    }

    fn take_shared(app: &Self::App, pid: &str) -> LocalBoxFuture<'static, Option<Parked>> {
        let Some(cluster) = app.cluster.clone() else {
            return Box::pin(async { None });
        };
        let take = cluster.send(TakeRecovery {
            pid: pid.to_owned(),
        });
        Box::pin(async move {
            let state = take.await.ok()??;
            serde_json::from_str(&state)
                .map_err(|e| log::warn!("a socket's recovery state is unreadable: {e}"))
                .ok()
        })
    }

    fn drop_shared(app: &Self::App, pid: &str) {
        if let Some(cluster) = &app.cluster {
            cluster.do_send(DropRecovery {
                pid: pid.to_owned(),
            });
        }
    }
}

impl Handler<Deliver> for SioSession<ChatSocket> {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        self.with_socket(msg.to, ctx, |socket, io| socket.deliver(io, &msg));
    }
}

/// The frames for an event in a dialect: Engine.IO messages joined by `\x1e`.
fn encode(dialect: DialectId, event: &Event, audience: Audience) -> Option<ByteString> {
    // The seeds have no word for private notes or labels: their clients never see them.
    match event {
        Event::MessagePosted { message } if message.private => return None,
        Event::ConversationChanged {
            change:
                ChangeKind::Labels | ChangeKind::Rated | ChangeKind::Snoozed | ChangeKind::Customer,
            ..
        } => return None,
        _ => {}
    }
    let packets = match dialect {
        DialectId::Support => support::encode(event, audience),
        DialectId::Session => chat_sessions::encode(event, audience),
        DialectId::Ticket => ticket::encode(event, audience),
        DialectId::Native => Vec::new(),
    };
    if packets.is_empty() {
        return None;
    }
    let nsp = if dialect == DialectId::Support {
        "/support"
    } else {
        "/"
    };
    // Messages carry their offset as a last argument, as the reference server's
    // connection state recovery does: the client sends back the last one it got.
    let offset = match event {
        Event::MessagePosted { message } if audience.in_room => Some(Value::String(format!(
            "{}:{}",
            message.conversation_id, message.seq
        ))),
        _ => None,
    };
    let frames: Vec<String> = packets
        .iter()
        .map(|(name, data)| {
            let args: Vec<&Value> = std::iter::once(data).chain(offset.as_ref()).collect();
            crate::transport::socketio::packet::encode_event(nsp, name, &args)
        })
        .collect();
    Some(frames.join("\x1e").into())
}

impl ChatSocket {
    fn attach(&self, recipient: Recipient<Deliver>) {
        self.state.chat.do_send(Attach {
            conn: self.id,
            caller: self.caller.clone(),
            recipient,
        });
    }

    /// Become `caller` (seed 001's `authenticate`).
    fn authenticate(&mut self, io: &mut SocketIo, caller: Caller) {
        for room in std::mem::take(&mut self.rooms).into_keys() {
            self.state.chat.do_send(LeaveConversation {
                conn: self.id,
                conversation_id: room,
            });
        }
        self.caller = caller;
        self.attach(io.address().recipient());
        self.watch_expiry(io);
    }

    /// End this socket when its token expires (a token-based identity only).
    fn watch_expiry(&mut self, io: &mut SocketIo) {
        self.expiry_timer += 1;
        let Some(exp) = expires_at(&self.caller) else {
            return;
        };
        let timer = self.expiry_timer;
        let left_ms = (exp * 1000 - chrono::Utc::now().timestamp_millis()).max(0) as u64;
        let sleep = tokio::time::sleep(std::time::Duration::from_millis(left_ms));
        io.spawn(sleep, move |s, io, ()| {
            if s.expiry_timer != timer {
                return;
            }
            if still_valid(&s.caller) {
                // Early by a clock tick: look again.
                s.watch_expiry(io);
            } else {
                s.expire(io);
            }
        });
    }

    /// The token ran out: the dialect's error, then a server-side disconnect of the
    /// namespace, after which socket.io-client does not reconnect on its own.
    fn expire(&mut self, io: &mut SocketIo) {
        log::info!(
            "socket {} ({}): token expired; disconnecting",
            self.id,
            participant_id(&self.caller, "")
        );
        self.expiry_timer += 1;
        self.ending = Some(crate::metrics::Ended::TokenExpired);
        let e = AppError::token_expired();
        match self.dialect {
            // Seed 001 reports identity trouble as `authentication_error`.
            DialectId::Ticket => io.emit(
                "authentication_error",
                &json!({"message": e.message, "code": e.kind.code()}),
            ),
            _ => self.fail(io, None, &e),
        }
        io.disconnect();
    }

    /// Seeds 001 and 004 share `/`: what the client sends settles which it speaks.
    fn set_dialect(&mut self, dialect: DialectId) {
        self.state
            .metrics
            .redialect(self.dialect.as_str(), dialect.as_str());
        self.dialect = dialect;
    }

    fn signed_in(&self) -> bool {
        !self.caller.is_anonymous()
    }

    fn deliver(&mut self, io: &mut SocketIo, msg: &Deliver) {
        match &msg.out.event {
            Event::Disconnect { .. } => return io.close_session(),
            Event::MessagePosted { message } if msg.audience.in_room => {
                if self.replaying.contains(&message.conversation_id) {
                    if self.held.len() >= MAX_HELD {
                        return io.close_session();
                    }
                    self.held.push(msg.clone());
                    return;
                }
                // Recovery replays history, which live delivery may overlap.
                if let Some(last) = self.rooms.get_mut(&message.conversation_id) {
                    if message.seq <= *last {
                        return;
                    }
                    *last = message.seq;
                    if self.log.len() == DELIVERY_LOG {
                        self.log.pop_front();
                    }
                    self.log
                        .push_back((message.conversation_id.clone(), message.seq));
                }
            }
            Event::AccessRevoked { conversation_id } => {
                self.rooms.remove(conversation_id);
            }
            _ => {}
        }
        let dialect = self.dialect;
        if let Some(frames) = msg.out.encoded(dialect.encoding(), msg.audience, |e, a| {
            encode(dialect, e, a)
        }) {
            io.send_encoded(&frames);
        }
    }

    /// Ask the ChatServer; `then` gets the answer. With `wait`, this socket's session
    /// handles nothing else until it is back (joins that later events depend on).
    fn ask<M, T>(
        &self,
        io: &mut SocketIo,
        msg: M,
        wait: bool,
        then: impl FnOnce(&mut Self, &mut SocketIo, Result<T, AppError>) + 'static,
    ) where
        M: actix::Message<Result = Result<T, AppError>> + Send + 'static,
        T: Send + 'static,
        ChatServer: Handler<M>,
    {
        let sent = self.state.chat.send(msg);
        let fut = async move { sent.await.map_err(AppError::from).and_then(|r| r) };
        if wait {
            io.wait(fut, then)
        } else {
            io.spawn(fut, then)
        }
    }

    /// The dialect's answer: the event, and the client's ack callback if it asked.
    fn reply(&self, io: &mut SocketIo, ack: Option<u64>, event: &str, data: Value) {
        io.emit(event, &data);
        if let Some(id) = ack {
            io.ack(id, vec![data]);
        }
    }

    /// The outcome of a command that has no event of its own: the answer goes to the
    /// client's ack callback if it asked for one; a refusal is reported either way.
    fn settle<T>(
        &self,
        io: &mut SocketIo,
        ack: Option<u64>,
        res: Result<T, AppError>,
        answer: impl FnOnce(&T) -> Value,
    ) {
        match res {
            Ok(value) => {
                if let Some(id) = ack {
                    io.ack(id, vec![answer(&value)]);
                }
            }
            Err(e) => self.fail(io, ack, &e),
        }
    }

    /// A refusal in the dialect's own error shape.
    fn fail(&self, io: &mut SocketIo, ack: Option<u64>, e: &AppError) {
        let (event, data) = match self.dialect {
            DialectId::Support => (
                "message:error",
                json!({"error": e.message, "code": e.kind.code()}),
            ),
            _ => (
                "error",
                json!({"message": e.message, "code": e.kind.code()}),
            ),
        };
        self.reply(io, ack, event, data);
    }

    /// Join a conversation's room; `then` gets the conversation and who is there.
    fn join(
        &self,
        io: &mut SocketIo,
        conversation_id: String,
        then: impl FnOnce(&mut Self, &mut SocketIo, Result<crate::actors::chat_server::Joined, AppError>)
            + 'static,
    ) {
        let join = JoinConversation {
            conn: self.id,
            conversation_id: conversation_id.clone(),
        };
        self.ask(io, join, true, move |s, io, res| {
            if let Ok(joined) = &res {
                // Messages from here on are this socket's to deliver (and to recover).
                s.rooms
                    .entry(conversation_id)
                    .or_insert(joined.conversation.conversation.last_seq);
            }
            then(s, io, res)
        });
    }

    fn leave(
        &mut self,
        io: &mut SocketIo,
        conversation_id: String,
        then: impl FnOnce(&mut Self, &mut SocketIo) + 'static,
    ) {
        self.rooms.remove(&conversation_id);
        let leave = LeaveConversation {
            conn: self.id,
            conversation_id,
        };
        self.ask(io, leave, false, move |s, io, _| then(s, io));
    }

    fn typing(&self, io: &mut SocketIo, conversation_id: String, typing: bool, ack: Option<u64>) {
        let msg = SetTyping {
            conn: self.id,
            conversation_id,
            typing,
        };
        self.ask(io, msg, false, move |s, io, res| {
            s.settle(io, ack, res, |_| json!({"success": true}))
        });
    }

    /// Advance this socket's read cursor; an ack, if asked for, gets `answer`.
    fn mark_read(
        &self,
        io: &mut SocketIo,
        conversation_id: String,
        target: crate::domain::writes::ReadTarget,
        ack: Option<u64>,
        answer: fn(&crate::actors::chat_server::ReadReceipt) -> Value,
    ) {
        let mark = MarkRead {
            origin: Some(self.id),
            conversation_id,
            caller: self.caller.clone(),
            target,
        };
        self.ask(io, mark, false, move |s, io, res| {
            s.settle(io, ack, res, answer)
        });
    }
}

/// The string field `name` of an event's first argument.
fn field(event: &IncomingEvent, name: &str) -> Option<String> {
    event.args.first()?.get(name)?.as_str().map(str::to_owned)
}

/// A required string field, or a validation error naming it.
fn required(event: &IncomingEvent, name: &str) -> Result<String, AppError> {
    field(event, name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| AppError::validation(format!("{name} is required")))
}
