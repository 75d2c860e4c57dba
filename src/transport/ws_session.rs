//! One actor per raw WebSocket (the native `/ws` protocol). It owns its socket and
//! nothing else: heartbeat, frame size limit, rate limit, a bounded outbound queue,
//! parsing frames into commands and encoding replies and events back.

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws::{self, CloseCode, CloseReason, ProtocolError};

use crate::actors::chat_server::{
    ChangeConversation, ChatServer, ConnId, Deliver, FetchHistory, GetOnlineStaff, GetParticipants,
    HistoryPage, JoinAsCustomer, JoinAsStaff, JoinConversation, Leave, LeaveConversation,
    ListConversations, MarkRead, PostAs, PostMessage, SetTyping, VerifyGuest,
};
use crate::actors::live_stream::{
    LiveStream, Moderate, ModerateCmd, SendChat, SignalCmd, SignalCommand, ToggleLike, Unwatch,
    Watch,
};
use crate::db::queries::ReadTarget;
use crate::dialects::native::{self, Command, Reply};
use crate::dialects::DialectId;
use crate::domain::conversation::{participant_id, Status, StatusChange};
use crate::domain::{Caller, Event};
use crate::error::{AppError, ErrorKind};
use crate::rate_limit::TokenBucket;
use crate::state::AppState;
use crate::transport::browser_key::BrowserKey;
use crate::transport::fragments::{self, FragmentError, Fragments};

const DEFAULT_HISTORY_PAGE: i64 = 50;

/// Registrations one connection may make. Each new anonymous session gets fresh rate
/// buckets, so without this one socket could open conversations without end (new
/// sockets are limited per IP).
const MAX_REGISTRATIONS: u32 = 20;

/// `GET /ws` (and `GET /` with an Upgrade header, where the seeds' frontends connect).
pub async fn upgrade(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, actix_web::Error> {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Err(why) = state.conn.origins.check(header("origin"), header("host")) {
        log::warn!("refused a WebSocket: {why}");
        let message = match why {
            crate::transport::origin::Refusal::Origin(_) => "Origin not allowed",
            crate::transport::origin::Refusal::Host(_) => "Host not allowed",
        };
        return Ok(HttpResponse::Forbidden()
            .json(serde_json::json!({"success": false, "message": message, "code": "forbidden"})));
    }
    if let Err(e) = state.allow_ip(&req) {
        return Ok(actix_web::ResponseError::error_response(&e));
    }
    let browser = BrowserKey::of(&req);
    let session = WsSession::new(state.get_ref().clone(), browser.binding());
    let mut res = ws::WsResponseBuilder::new(session, &req, stream)
        .frame_size(state.conn.max_frame_bytes)
        .start()?;
    if browser.issued {
        // Browsers keep cookies set on the upgrade's answer like any other.
        res.add_cookie(&browser.cookie(state.conn.cookie))?;
    }
    Ok(res)
}

/// How a request to the ChatServer is ordered with the connection's next frames.
enum Order {
    /// Registration: later frames wait until it has taken effect.
    Wait,
    /// Posts and reads: answered as they complete; acks carry `seq` for ordering.
    Pipelined,
}

/// What the connection has registered as.
enum Registration {
    None,
    Customer { session_id: String, caller: Caller },
    Staff { caller: Caller },
}

pub struct WsSession {
    id: ConnId,
    state: Arc<AppState>,
    last_seen: Instant,
    bucket: TokenBucket,
    registration: Registration,
    /// Closes the connection when the registered token expires.
    expiry: Option<SpawnHandle>,
    registrations: u32,
    /// A message arriving in fragments, bounded like one frame.
    fragments: Fragments,
    /// This browser's binding (its key's hash), which anonymous sessions belong to.
    binding: String,
}

impl WsSession {
    fn new(state: Arc<AppState>, binding: String) -> Self {
        WsSession {
            binding,
            fragments: Fragments::new(state.conn.max_frame_bytes),
            id: state.next_conn_id(),
            bucket: TokenBucket::new(state.conn.rate_per_sec, state.conn.rate_burst),
            state,
            last_seen: Instant::now(),
            registration: Registration::None,
            expiry: None,
            registrations: 0,
        }
    }

    fn reply(&self, ctx: &mut ws::WebsocketContext<Self>, reply: Reply) {
        ctx.text(native::encode_reply(&reply));
    }

    fn error(&self, ctx: &mut ws::WebsocketContext<Self>, e: &AppError) {
        self.reply(ctx, Reply::Error(e));
    }

    /// Registration with a token lasts until the token expires; then the connection ends.
    fn set_registration(
        &mut self,
        registration: Registration,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        if let Some(handle) = self.expiry.take() {
            ctx.cancel_future(handle);
        }
        self.registration = registration;
        let expires_at = self.identity().map(|i| i.expires_at);
        // Every registered connection watches the live stream (seed 002).
        let watch = Watch {
            conn: self.id,
            staff: self.caller().is_staff(),
            recipient: ctx.address().recipient(),
        };
        self.state.live.do_send(watch);
        if let Some(exp) = expires_at {
            let left_ms = (exp * 1000 - chrono::Utc::now().timestamp_millis()).max(0) as u64;
            let left = std::time::Duration::from_millis(left_ms);
            self.expiry = Some(ctx.run_later(left, |act, ctx| act.expire(ctx)));
        }
    }

    /// The token ran out: say so, and end the connection.
    fn expire(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        log::info!("connection {}: token expired; closing it", self.id);
        self.error(ctx, &AppError::token_expired());
        ctx.close(Some(CloseReason {
            code: CloseCode::Policy,
            description: Some("token expired".into()),
        }));
        ctx.stop();
    }

    /// The token behind the registration, if it was made with one.
    fn identity(&self) -> Option<&crate::auth::Identity> {
        match &self.registration {
            Registration::Customer {
                caller: Caller::User(i) | Caller::Staff(i),
                ..
            }
            | Registration::Staff {
                caller: Caller::Staff(i),
            } => Some(i),
            _ => None,
        }
    }

    /// Has the registered token run out (the timer may not have fired yet)?
    fn token_expired(&self) -> bool {
        self.identity().is_some_and(|i| i.expired())
    }

    /// Ask the ChatServer; on success run `done`, on any failure answer with an error frame.
    fn ask<M, T>(
        &mut self,
        msg: M,
        order: Order,
        ctx: &mut ws::WebsocketContext<Self>,
        done: impl FnOnce(&mut Self, &mut ws::WebsocketContext<Self>, T) + 'static,
    ) where
        M: actix::Message<Result = Result<T, AppError>> + Send + 'static,
        T: Send + 'static,
        ChatServer: Handler<M>,
    {
        let fut = self
            .state
            .chat
            .send(msg)
            .into_actor(self)
            .map(
                move |res, act, ctx| match res.map_err(AppError::from).and_then(|r| r) {
                    Ok(value) => done(act, ctx, value),
                    Err(e) => act.error(ctx, &e),
                },
            );
        match order {
            Order::Wait => ctx.wait(fut),
            Order::Pipelined => {
                ctx.spawn(fut);
            }
        }
    }

    /// WebRTC signalling goes to the LiveStream actor; only registered connections take part.
    fn signal(&mut self, cmd: SignalCmd, ctx: &mut ws::WebsocketContext<Self>) {
        if self.registered(ctx) {
            let msg = SignalCommand {
                conn: self.id,
                staff: self.caller().is_staff(),
                cmd,
            };
            self.tell_live(msg, ctx);
        }
    }

    fn moderate(&mut self, cmd: ModerateCmd, ctx: &mut ws::WebsocketContext<Self>) {
        if self.registered(ctx) {
            self.tell_live(
                Moderate {
                    caller: self.caller(),
                    cmd,
                },
                ctx,
            );
        }
    }

    /// Ask the LiveStream; its answers are broadcasts, so only failures come back here.
    fn tell_live<M, T>(&mut self, msg: M, ctx: &mut ws::WebsocketContext<Self>)
    where
        M: actix::Message<Result = Result<T, AppError>> + Send + 'static,
        T: Send + 'static,
        LiveStream: Handler<M>,
    {
        self.state
            .live
            .send(msg)
            .into_actor(self)
            .map(|res, act, ctx| {
                if let Err(e) = res.map_err(AppError::from).and_then(|r| r.map(drop)) {
                    act.error(ctx, &e)
                }
            })
            .spawn(ctx);
    }

    /// Who likes or chats on the stream: the user, else the guest, else the session
    /// (seed 002) — the same id the connection's messages carry.
    fn liker(&self) -> Option<String> {
        match &self.registration {
            Registration::None => None,
            Registration::Customer { session_id, caller } => {
                Some(participant_id(caller, session_id))
            }
            Registration::Staff { caller } => Some(participant_id(caller, "")),
        }
    }

    /// The identity behind this connection's requests.
    fn caller(&self) -> Caller {
        match &self.registration {
            // Not registered: this browser, which may read its own sessions.
            Registration::None => Caller::Anonymous(Some(self.binding.clone())),
            Registration::Customer { caller, .. } | Registration::Staff { caller } => {
                caller.clone()
            }
        }
    }

    /// Verify a token, if any: `None` for no token, `Err` for a bad one.
    fn verify(&self, token: Option<&str>) -> Option<Result<Caller, AppError>> {
        let token = token.map(str::trim).filter(|t| !t.is_empty())?;
        Some(
            self.state
                .keys
                .verify(token)
                .map(|i| Caller::from_identity(Some(i))),
        )
    }

    fn handle_text(&mut self, text: &str, ctx: &mut ws::WebsocketContext<Self>) {
        if self.token_expired() {
            return self.expire(ctx);
        }
        if !self.bucket.try_take() {
            self.error(
                ctx,
                &AppError::new(ErrorKind::RateLimited, "Rate limit exceeded"),
            );
            return;
        }
        match native::parse(text) {
            Ok(cmd) => self.execute(cmd, ctx),
            Err(e) => self.error(ctx, &e),
        }
    }

    fn execute(&mut self, cmd: Command, ctx: &mut ws::WebsocketContext<Self>) {
        use Order::{Pipelined, Wait};
        match cmd {
            Command::Ping => self.reply(ctx, Reply::Pong),
            Command::Register {
                session_id,
                token,
                guest_id,
                session_secret,
            } => self.register_customer(session_id, token, guest_id, session_secret, ctx),
            Command::RegisterAdmin { user_id, token } => self.register_staff(user_id, token, ctx),
            Command::CustomerMessage {
                message,
                client_id,
                attachments,
            } => {
                let Registration::Customer { session_id, caller } = &self.registration else {
                    return self.refuse_role(ctx, "Staff connections send staff_message");
                };
                let post = self.post_message(
                    session_id.clone(),
                    caller.clone(),
                    PostAs::Customer,
                    message,
                    client_id,
                    attachments,
                );
                self.ask(post, Pipelined, ctx, |act, ctx, m| {
                    act.reply(ctx, Reply::MessageAck { message: &m })
                });
            }
            Command::StaffMessage {
                session_id,
                content,
                client_id,
                attachments,
            } => {
                let Registration::Staff { caller } = &self.registration else {
                    return self.refuse_role(ctx, "Insufficient permissions");
                };
                let post = self.post_message(
                    session_id,
                    caller.clone(),
                    PostAs::Staff,
                    content,
                    client_id,
                    attachments,
                );
                self.ask(post, Pipelined, ctx, |act, ctx, m| {
                    act.reply(ctx, Reply::MessageAck { message: &m })
                });
            }
            Command::History {
                session_id,
                after_seq,
                before_seq,
                limit,
            } => {
                let limit = limit.unwrap_or(DEFAULT_HISTORY_PAGE);
                let page = match before_seq {
                    Some(seq) => HistoryPage::Before { seq, limit },
                    None => HistoryPage::After {
                        seq: after_seq.unwrap_or(0),
                        limit,
                    },
                };
                let fetch = FetchHistory {
                    conversation_id: session_id.clone(),
                    caller: self.caller(),
                    page,
                };
                self.ask(fetch, Pipelined, ctx, move |act, ctx, h| {
                    act.reply(
                        ctx,
                        Reply::History {
                            session_id: &session_id,
                            messages: &h.messages,
                            has_more: h.has_more,
                        },
                    )
                });
            }
            Command::Join { session_id } => {
                if !self.registered(ctx) {
                    return;
                }
                let join = JoinConversation {
                    conn: self.id,
                    conversation_id: session_id,
                };
                self.ask(join, Wait, ctx, |act, ctx, j| {
                    act.reply(
                        ctx,
                        Reply::Joined {
                            conversation: &j.conversation,
                            participants: &j.participants,
                        },
                    )
                });
            }
            Command::Leave { session_id } => {
                let leave = LeaveConversation {
                    conn: self.id,
                    conversation_id: session_id.clone(),
                };
                self.ask(leave, Pipelined, ctx, move |act, ctx, ()| {
                    act.reply(
                        ctx,
                        Reply::Left {
                            session_id: &session_id,
                        },
                    )
                });
            }
            Command::Typing {
                session_id,
                is_typing,
            } => {
                let typing = SetTyping {
                    conn: self.id,
                    conversation_id: session_id,
                    typing: is_typing,
                };
                self.ask(typing, Pipelined, ctx, |_, _, ()| {});
            }
            Command::Read {
                session_id,
                up_to_seq,
                message_ids,
            } => {
                let target = match (up_to_seq, message_ids) {
                    (Some(seq), _) => ReadTarget::UpToSeq(seq),
                    (None, Some(ids)) => ReadTarget::Ids(ids),
                    (None, None) => ReadTarget::All,
                };
                let read = MarkRead {
                    origin: Some(self.id),
                    conversation_id: session_id,
                    caller: self.caller(),
                    target,
                };
                self.ask(read, Pipelined, ctx, |act, ctx, r| {
                    act.reply(
                        ctx,
                        Reply::ReadAck {
                            session_id: &r.conversation_id,
                            up_to_seq: r.up_to_seq,
                        },
                    )
                });
            }
            Command::Accept { session_id } => self.change(session_id, StatusChange::Accept, ctx),
            Command::Assign {
                session_id,
                agent_id,
                agent_name,
            } => {
                let agent_name = agent_name.unwrap_or_else(|| agent_id.clone());
                self.change(
                    session_id,
                    StatusChange::Assign {
                        agent_id,
                        agent_name,
                    },
                    ctx,
                )
            }
            Command::SetStatus { session_id, status } => match Status::parse(&status) {
                Some(status) => self.change(session_id, StatusChange::Set(status), ctx),
                None => self.error(
                    ctx,
                    &AppError::validation(
                        "status must be one of: waiting, active, resolved, closed",
                    ),
                ),
            },
            Command::Participants { session_id } => {
                let get = GetParticipants {
                    conversation_id: session_id.clone(),
                    caller: self.caller(),
                };
                self.ask(get, Pipelined, ctx, move |act, ctx, ps| {
                    act.reply(
                        ctx,
                        Reply::Participants {
                            session_id: &session_id,
                            participants: &ps,
                        },
                    )
                });
            }
            Command::ChatMessage { message, username } => {
                let Some(sender_id) = self.liker() else {
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
            Command::ChatMute {
                message_id,
                duration_seconds,
            } => self.moderate(
                ModerateCmd::Mute {
                    message_id,
                    seconds: duration_seconds,
                },
                ctx,
            ),
            Command::ChatSlowMode { seconds } => {
                self.moderate(ModerateCmd::SlowMode { seconds }, ctx)
            }
            Command::WebrtcRegister { peer_id, user_type } => {
                self.signal(SignalCmd::Register { peer_id, user_type }, ctx)
            }
            Command::WebrtcOffer { from, to, offer } => self.signal(
                SignalCmd::Relay {
                    kind: "webrtc_offer",
                    field: "offer",
                    from,
                    to,
                    payload: offer,
                },
                ctx,
            ),
            Command::WebrtcAnswer { from, to, answer } => self.signal(
                SignalCmd::Relay {
                    kind: "webrtc_answer",
                    field: "answer",
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
                    kind: "webrtc_ice_candidate",
                    field: "candidate",
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
            Command::ToggleLike => {
                let Some(liker) = self.liker() else {
                    return self.error(ctx, &AppError::not_registered());
                };
                self.tell_live(ToggleLike { liker }, ctx);
            }
            Command::Inbox {
                status,
                limit,
                offset,
            } => {
                let list = ListConversations {
                    caller: self.caller(),
                    status,
                    conversation_type: None,
                    offset: offset.unwrap_or(0),
                    limit: limit.unwrap_or(DEFAULT_HISTORY_PAGE),
                };
                self.ask(list, Order::Pipelined, ctx, |act, ctx, l| {
                    act.reply(
                        ctx,
                        Reply::Inbox {
                            conversations: &l.items,
                            total: l.total,
                        },
                    )
                });
            }
            Command::OnlineStaff => {
                if !self.caller().is_staff() {
                    return self.error(ctx, &AppError::forbidden("Insufficient permissions"));
                }
                self.state
                    .chat
                    .send(GetOnlineStaff)
                    .into_actor(self)
                    .map(|res, act, ctx| match res {
                        Ok(staff) => act.reply(ctx, Reply::OnlineStaff { staff: &staff }),
                        Err(e) => act.error(ctx, &e.into()),
                    })
                    .spawn(ctx);
            }
        }
    }

    fn post_message(
        &self,
        conversation_id: String,
        caller: Caller,
        post_as: PostAs,
        text: String,
        client_id: Option<String>,
        attachment_ids: Vec<String>,
    ) -> PostMessage {
        PostMessage {
            origin: Some(self.id),
            conversation_id,
            caller,
            post_as,
            text,
            message_type: None,
            client_id,
            attachment_ids,
        }
    }

    /// Status changes answer with the `conversation_updated` every participant gets.
    fn change(
        &mut self,
        conversation_id: String,
        change: StatusChange,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        if !self.registered(ctx) {
            return;
        }
        let msg = ChangeConversation {
            origin: Some(self.id),
            conversation_id,
            caller: self.caller(),
            change,
        };
        self.ask(msg, Order::Pipelined, ctx, |_, _, _| {});
    }

    /// Is the connection registered? If not, say so.
    fn registered(&self, ctx: &mut ws::WebsocketContext<Self>) -> bool {
        let ok = !matches!(self.registration, Registration::None);
        if !ok {
            self.error(ctx, &AppError::not_registered());
        }
        ok
    }

    /// A command this registration may not send: not registered, or the wrong role.
    fn refuse_role(&self, ctx: &mut ws::WebsocketContext<Self>, wrong_role: &'static str) {
        if self.registered(ctx) {
            self.error(ctx, &AppError::forbidden(wrong_role));
        }
    }

    /// A customer registers on a session, signed in by token, as a guest by the id we
    /// issued it, or anonymously. Later frames wait until it has taken effect.
    fn register_customer(
        &mut self,
        session_id: String,
        token: Option<String>,
        guest_id: Option<String>,
        session_secret: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        if let Err(e) = crate::domain::text::session_id(&session_id) {
            return self.error(ctx, &e);
        }
        self.registrations += 1;
        if self.registrations > MAX_REGISTRATIONS {
            let e = AppError::new(ErrorKind::RateLimited, "Rate limit exceeded")
                .with_detail("too many registrations on this connection");
            return self.error(ctx, &e);
        }
        // Seed 000: an invalid optional token falls back to anonymous, which is this
        // browser (its key's binding) unless a guest id is given.
        let anonymous = Caller::Anonymous(Some(self.binding.clone()));
        let caller = match self.verify(token.as_deref()) {
            Some(Ok(caller)) => caller,
            Some(Err(_)) => {
                log::info!(
                    "connection {}: invalid customer token, continuing anonymously",
                    self.id
                );
                anonymous
            }
            None => anonymous,
        };
        let (chat, conn, recipient) = (self.state.chat.clone(), self.id, ctx.address().recipient());
        let room = session_id.clone();
        let browser = self.binding.clone();
        let join = async move {
            let caller = match (caller, guest_id) {
                (Caller::Anonymous(_), Some(g)) => chat.send(VerifyGuest(g)).await??,
                (caller, _) => caller,
            };
            let seated = chat
                .send(JoinAsCustomer {
                    conn,
                    session_id: room,
                    caller,
                    recipient,
                    session_secret,
                    browser: Some(browser),
                })
                .await??;
            Ok::<_, AppError>(seated)
        };
        join.into_actor(self)
            .map(move |res, act, ctx| match res {
                Ok(seated) => {
                    act.reply(
                        ctx,
                        Reply::Registered {
                            session_id: &session_id,
                            session_secret: seated.session_secret.as_deref(),
                        },
                    );
                    let caller = seated.caller;
                    act.set_registration(Registration::Customer { session_id, caller }, ctx);
                }
                Err(e) => act.error(ctx, &e),
            })
            .wait(ctx);
    }

    fn register_staff(
        &mut self,
        user_id: Option<String>,
        token: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        let caller = match self.verify(token.as_deref()) {
            None => return self.error(ctx, &AppError::token_required()),
            Some(Err(e)) => return self.error(ctx, &e),
            Some(Ok(c)) => c,
        };
        let Caller::Staff(identity) = &caller else {
            return self.error(ctx, &AppError::forbidden("Insufficient permissions"));
        };
        if user_id.as_deref().is_some_and(|u| u != identity.user_id) {
            return self.error(ctx, &AppError::forbidden("userId does not match the token"));
        }
        let user_id = identity.user_id.clone();
        let join = JoinAsStaff {
            conn: self.id,
            caller: caller.clone(),
            recipient: ctx.address().recipient(),
        };
        self.ask(join, Order::Wait, ctx, move |act, ctx, ()| {
            act.reply(ctx, Reply::AdminRegistered { user_id: &user_id });
            act.set_registration(Registration::Staff { caller }, ctx);
        });
    }
}

impl Actor for WsSession {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // The mailbox is the outbound queue: ChatServer's `try_send` fails once it is full.
        ctx.set_mailbox_capacity(self.state.conn.outbound_queue);
        // One timer per connection at a 30 s default interval is ~3k wakeups/s at 100k
        // connections: cheap for tokio's timer wheel, and it needs no shared state.
        ctx.run_interval(self.state.conn.heartbeat_interval, |act, ctx| {
            if act.last_seen.elapsed() > act.state.conn.client_timeout {
                log::info!("connection {}: heartbeat timed out", act.id);
                ctx.close(Some(CloseReason {
                    code: CloseCode::Away,
                    description: Some("heartbeat timeout".into()),
                }));
                ctx.stop();
            } else {
                ctx.ping(b"");
            }
        });
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.state.chat.do_send(Leave { conn: self.id });
        self.state.live.do_send(Unwatch { conn: self.id });
    }
}

impl Handler<Deliver> for WsSession {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        if let Event::Disconnect { reason } = &msg.out.event {
            ctx.close(Some(CloseReason {
                code: CloseCode::Again,
                description: Some((*reason).into()),
            }));
            ctx.stop();
            return;
        }
        if let Some(frame) = msg
            .out
            .encoded(DialectId::Native, msg.audience, native::encode_event)
        {
            ctx.text(frame);
        }
    }
}

impl StreamHandler<Result<ws::Message, ProtocolError>> for WsSession {
    fn handle(&mut self, item: Result<ws::Message, ProtocolError>, ctx: &mut Self::Context) {
        self.last_seen = Instant::now();
        match item {
            // Every data frame costs a token; over the limit, pings go unanswered.
            Ok(ws::Message::Ping(p)) => {
                if self.bucket.try_take() {
                    ctx.pong(&p);
                }
            }
            Ok(ws::Message::Pong(_)) => {}
            Ok(ws::Message::Text(_) | ws::Message::Binary(_)) if self.fragments.in_progress() => {
                self.protocol_error("a data frame inside a fragmented message", ctx)
            }
            Ok(ws::Message::Text(text)) => self.handle_text(&text, ctx),
            Ok(ws::Message::Binary(_)) => self.refuse_binary(ctx),
            Ok(ws::Message::Continuation(item)) => match self.fragments.push(item) {
                Ok(None) => {}
                Ok(Some(fragments::Message::Text(text))) => self.handle_text(&text, ctx),
                Ok(Some(fragments::Message::Binary(_))) => self.refuse_binary(ctx),
                Err(FragmentError::TooLarge) => self.too_large(ctx),
                Err(FragmentError::Protocol(why)) => self.protocol_error(why, ctx),
                Err(FragmentError::NotUtf8) => {
                    log::info!("connection {}: a message that is not UTF-8", self.id);
                    ctx.close(Some(CloseReason {
                        code: CloseCode::Invalid,
                        description: None,
                    }));
                    ctx.stop();
                }
            },
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Ok(ws::Message::Nop) => {}
            Err(ProtocolError::Overflow) => self.too_large(ctx),
            Err(e) => self.protocol_error(&e.to_string(), ctx),
        }
    }
}

impl WsSession {
    /// Messages are JSON text; a binary one costs a token and gets an error.
    fn refuse_binary(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        if self.bucket.try_take() {
            self.error(
                ctx,
                &AppError::invalid_format("messages must be JSON text, not binary"),
            )
        }
    }

    /// A frame, or a fragmented message, over the size limit: close 1009.
    fn too_large(&mut self, ctx: &mut ws::WebsocketContext<Self>) {
        log::info!(
            "connection {}: message over {} bytes",
            self.id,
            self.state.conn.max_frame_bytes
        );
        ctx.close(Some(CloseReason {
            code: CloseCode::Size,
            description: Some("message too large".into()),
        }));
        ctx.stop();
    }

    fn protocol_error(&mut self, why: &str, ctx: &mut ws::WebsocketContext<Self>) {
        log::info!("connection {}: protocol error: {why}", self.id);
        ctx.close(Some(CloseReason {
            code: CloseCode::Protocol,
            description: None,
        }));
        ctx.stop();
    }
}
