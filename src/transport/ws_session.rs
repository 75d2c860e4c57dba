//! One actor per raw WebSocket (the native `/ws` protocol). It owns its socket and
//! nothing else: heartbeat, frame size limit, rate limit, a bounded outbound queue,
//! parsing frames into commands and encoding replies and events back.

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws::{self, CloseCode, CloseReason, ProtocolError};

use crate::actors::chat_server::{
    ChatServer, ConnId, Deliver, FetchHistory, JoinAsCustomer, JoinAsStaff, Leave, PostAs,
    PostMessage,
};
use crate::dialects::native::{self, Command, Reply};
use crate::dialects::DialectId;
use crate::domain::{Caller, Event};
use crate::error::{AppError, ErrorKind};
use crate::rate_limit::TokenBucket;
use crate::state::AppState;
use crate::transport::origin::origin_allowed;

const DEFAULT_HISTORY_PAGE: i64 = 50;

/// `GET /ws` (and `GET /` with an Upgrade header, where the seeds' frontends connect).
pub async fn upgrade(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, actix_web::Error> {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if !origin_allowed(
        header("origin"),
        header("host"),
        &state.conn.allowed_origins,
    ) {
        log::warn!("refused WebSocket from origin {:?}", header("origin"));
        return Ok(HttpResponse::Forbidden()
            .json(serde_json::json!({"success": false, "message": "Origin not allowed", "code": "forbidden"})));
    }
    let session = WsSession::new(state.get_ref().clone());
    ws::WsResponseBuilder::new(session, &req, stream)
        .frame_size(state.conn.max_frame_bytes)
        .start()
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
}

impl WsSession {
    fn new(state: Arc<AppState>) -> Self {
        WsSession {
            id: state.next_conn_id(),
            bucket: TokenBucket::new(state.conn.rate_per_sec, state.conn.rate_burst),
            state,
            last_seen: Instant::now(),
            registration: Registration::None,
        }
    }

    fn reply(&self, ctx: &mut ws::WebsocketContext<Self>, reply: Reply) {
        ctx.text(native::encode_reply(&reply));
    }

    fn error(&self, ctx: &mut ws::WebsocketContext<Self>, e: &AppError) {
        self.reply(ctx, Reply::Error(e));
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

    /// The identity behind this connection's requests.
    fn caller(&self) -> Caller {
        match &self.registration {
            Registration::None => Caller::Anonymous,
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
        match cmd {
            Command::Ping => self.reply(ctx, Reply::Pong),
            Command::Register { session_id, token } => {
                self.register_customer(session_id, token, ctx)
            }
            Command::RegisterAdmin { user_id, token } => self.register_staff(user_id, token, ctx),
            Command::CustomerMessage { message, client_id } => match &self.registration {
                Registration::Customer { session_id, caller } => {
                    let post = PostMessage {
                        origin: Some(self.id),
                        session_id: session_id.clone(),
                        caller: caller.clone(),
                        post_as: PostAs::Customer,
                        text: message,
                        client_id,
                    };
                    self.post(post, ctx);
                }
                Registration::Staff { .. } => self.error(
                    ctx,
                    &AppError::forbidden("Staff connections send staff_message"),
                ),
                Registration::None => self.error(ctx, &not_registered()),
            },
            Command::StaffMessage {
                session_id,
                content,
                client_id,
            } => match &self.registration {
                Registration::Staff { caller } => {
                    let post = PostMessage {
                        origin: Some(self.id),
                        session_id,
                        caller: caller.clone(),
                        post_as: PostAs::Staff,
                        text: content,
                        client_id,
                    };
                    self.post(post, ctx);
                }
                Registration::Customer { .. } => {
                    self.error(ctx, &AppError::forbidden("Insufficient permissions"))
                }
                Registration::None => self.error(ctx, &not_registered()),
            },
            Command::History {
                session_id,
                after_seq,
                limit,
            } => {
                let fetch = FetchHistory {
                    session_id: session_id.clone(),
                    caller: self.caller(),
                    after_seq: after_seq.unwrap_or(0),
                    limit: limit.unwrap_or(DEFAULT_HISTORY_PAGE),
                };
                self.ask(fetch, Order::Pipelined, ctx, move |act, ctx, h| {
                    let (messages, has_more) = (&h.messages, h.has_more);
                    act.reply(
                        ctx,
                        Reply::History {
                            session_id: &session_id,
                            messages,
                            has_more,
                        },
                    )
                });
            }
        }
    }

    fn register_customer(
        &mut self,
        session_id: String,
        token: Option<String>,
        ctx: &mut ws::WebsocketContext<Self>,
    ) {
        if let Err(e) = crate::domain::text::session_id(&session_id) {
            return self.error(ctx, &e);
        }
        // Seed 000: an invalid optional token falls back to anonymous.
        let caller = match self.verify(token.as_deref()) {
            Some(Ok(caller)) => caller,
            Some(Err(_)) => {
                log::info!(
                    "connection {}: invalid customer token, continuing anonymously",
                    self.id
                );
                Caller::Anonymous
            }
            None => Caller::Anonymous,
        };
        let join = JoinAsCustomer {
            conn: self.id,
            session_id: session_id.clone(),
            caller: caller.clone(),
            recipient: ctx.address().recipient(),
        };
        self.ask(join, Order::Wait, ctx, move |act, ctx, ()| {
            act.reply(
                ctx,
                Reply::Registered {
                    session_id: &session_id,
                },
            );
            act.registration = Registration::Customer { session_id, caller };
        });
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
            act.registration = Registration::Staff { caller };
        });
    }

    /// The ack follows the commit.
    fn post(&mut self, post: PostMessage, ctx: &mut ws::WebsocketContext<Self>) {
        self.ask(post, Order::Pipelined, ctx, |act, ctx, message| {
            act.reply(ctx, Reply::MessageAck { message: &message })
        });
    }
}

fn not_registered() -> AppError {
    AppError::new(ErrorKind::NotRegistered, "Not registered")
        .with_detail("send register or register_admin first")
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
    }
}

impl Handler<Deliver> for WsSession {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        if let Event::Disconnect { reason } = &msg.0.event {
            ctx.close(Some(CloseReason {
                code: CloseCode::Again,
                description: Some((*reason).into()),
            }));
            ctx.stop();
            return;
        }
        if let Some(frame) = msg.0.encoded(DialectId::Native, native::encode_event) {
            ctx.text(frame);
        }
    }
}

impl StreamHandler<Result<ws::Message, ProtocolError>> for WsSession {
    fn handle(&mut self, item: Result<ws::Message, ProtocolError>, ctx: &mut Self::Context) {
        self.last_seen = Instant::now();
        match item {
            Ok(ws::Message::Text(text)) => self.handle_text(&text, ctx),
            Ok(ws::Message::Ping(p)) => ctx.pong(&p),
            Ok(ws::Message::Pong(_)) => {}
            Ok(ws::Message::Binary(_)) | Ok(ws::Message::Continuation(_)) => self.error(
                ctx,
                &AppError::invalid_format("frames must be single JSON text frames"),
            ),
            Ok(ws::Message::Close(reason)) => {
                ctx.close(reason);
                ctx.stop();
            }
            Ok(ws::Message::Nop) => {}
            Err(ProtocolError::Overflow) => {
                log::info!(
                    "connection {}: frame over {} bytes",
                    self.id,
                    self.state.conn.max_frame_bytes
                );
                ctx.close(Some(CloseReason {
                    code: CloseCode::Size,
                    description: Some("frame too large".into()),
                }));
                ctx.stop();
            }
            Err(e) => {
                log::info!("connection {}: protocol error: {e}", self.id);
                ctx.close(Some(CloseReason {
                    code: CloseCode::Protocol,
                    description: None,
                }));
                ctx.stop();
            }
        }
    }
}
