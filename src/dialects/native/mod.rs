//! The native `/ws` protocol (seeds 000 and 002, plus the support desk): what one
//! raw WebSocket connection means. The connection itself (heartbeat, sizes, rate
//! bucket, bounded queue) is `transport::ws_connection`; this is its `FrameHandler`:
//! registration, token and role checks, and each command's way to ChatServer or
//! LiveStream (`commands` parses frames, `frames` encodes answers and events).

mod commands;
mod frames;
mod live;
mod registration;

pub use commands::{parse, Command};
pub use frames::{conversation_json, encode_event, encode_reply, message_json, Reply};

use std::sync::Arc;

use actix::prelude::*;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws::CloseCode;

use crate::actors::chat_server::{
    ChangeAgent, ChangeConversation, ChangeLabels, ChatServer, ConnId, Deliver, FetchHistory,
    GetDesk, GetOnlineStaff, GetParticipants, HistoryPage, JoinConversation, Leave,
    LeaveConversation, ListConversations, MarkRead, Notes, PostAs, PostMessage, RateConversation,
    Search, SetCustomerDetails, SetTyping, SnoozeConversation,
};
use crate::actors::delivery::ChatLane;
use crate::actors::live_stream::Unwatch;
use crate::dialects::DialectId;
use crate::domain::agent::Availability;
use crate::domain::conversation::{participant_id, Status, StatusChange};
use crate::domain::customer::CustomerContext;
use crate::domain::writes::ReadTarget;
use crate::domain::{Audience, Caller, Event, Outbound};
use crate::error::AppError;
use crate::state::AppState;
use crate::transport::browser_key::BrowserKey;
use crate::transport::ws_connection::{self, FrameHandler, WsConnection, WsContext};

const DEFAULT_HISTORY_PAGE: i64 = 50;

/// Registrations one connection may make. Each new anonymous session gets fresh rate
/// buckets, so without this one socket could open conversations without end (new
/// sockets are limited per IP).
const MAX_REGISTRATIONS: u32 = 20;

/// `GET /ws` (and `GET /` with an Upgrade header, where the seeds' frontends connect).
pub async fn upgrade(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    conn: web::Data<crate::transport::ConnSettings>,
) -> Result<HttpResponse, actix_web::Error> {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Err(why) = conn.origins.check(header("origin"), header("host")) {
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
    let socket = NativeSocket::new(state.get_ref().clone(), browser.binding());
    let mut res = ws_connection::start(socket, conn.limits, &req)?;
    if browser.issued {
        // Browsers keep cookies set on the upgrade's answer like any other.
        res.add_cookie(&browser.cookie(conn.cookie, &req, &state.proxies))?;
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

pub struct NativeSocket {
    id: ConnId,
    state: Arc<AppState>,
    registration: Registration,
    /// Closes the connection when the registered token expires.
    expiry: Option<SpawnHandle>,
    registrations: u32,
    /// This browser's binding (its key's hash), which anonymous sessions belong to.
    binding: String,
    /// Why this handler ended the connection (its token expired).
    ending: Option<crate::metrics::Ended>,
    /// Frames sent, for the session's access line.
    sent: std::cell::Cell<u64>,
    /// The stream chat waiting to be written (the LiveStream fills it).
    lane: Arc<ChatLane>,
}

type Ctx = WsContext<NativeSocket>;

/// A stream chat line as the native dialect writes it, encoded once for everyone.
fn encode_lane(out: &Outbound, audience: Audience) -> Option<bytestring::ByteString> {
    out.encoded(DialectId::Native.encoding(), audience, encode_event)
}

impl NativeSocket {
    fn new(state: Arc<AppState>, binding: String) -> Self {
        NativeSocket {
            id: state.next_conn_id(),
            registration: Registration::None,
            expiry: None,
            registrations: 0,
            binding,
            ending: None,
            sent: Default::default(),
            lane: Arc::new(ChatLane::new(encode_lane, state.metrics.websocket.clone())),
            state,
        }
    }

    fn reply(&self, ctx: &mut Ctx, reply: Reply) {
        self.send(ctx, encode_reply(&reply));
    }

    /// Every frame goes out here: counted, then written.
    fn send(&self, ctx: &mut Ctx, frame: bytestring::ByteString) {
        self.state.metrics.websocket.sent(frame.len());
        self.sent.set(self.sent.get() + 1);
        ctx.text(frame);
    }

    fn error(&self, ctx: &mut Ctx, e: &AppError) {
        self.reply(ctx, Reply::Error(e));
    }

    /// Ask the ChatServer; on success run `done`, on any failure answer with an error frame.
    fn ask<M, T>(
        &mut self,
        msg: M,
        order: Order,
        ctx: &mut Ctx,
        done: impl FnOnce(&mut Self, &mut Ctx, T) + 'static,
    ) where
        M: actix::Message<Result = Result<T, AppError>> + Send + 'static,
        T: Send + 'static,
        ChatServer: Handler<M>,
    {
        let sent = self.state.chat.send(msg);
        let fut = async move { sent.await.map_err(AppError::from).and_then(|r| r) };
        let then = move |s: &mut Self, ctx: &mut Ctx, res: Result<T, AppError>| match res {
            Ok(value) => done(s, ctx, value),
            Err(e) => s.error(ctx, &e),
        };
        match order {
            Order::Wait => ws_connection::wait(ctx, fut, then),
            Order::Pipelined => ws_connection::spawn(ctx, fut, then),
        }
    }

    fn handle_text(&mut self, text: &str, ctx: &mut Ctx) {
        if self.token_expired() {
            return self.expire(ctx);
        }
        match parse(text) {
            Ok(cmd) => self.execute(cmd, ctx),
            Err(e) => self.error(ctx, &e),
        }
    }

    fn execute(&mut self, cmd: Command, ctx: &mut Ctx) {
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
                    let e = AppError::forbidden("Staff connections send staff_message");
                    return self.refuse_role(ctx, e);
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
            } => self.post_as_staff(
                PostAs::Staff,
                session_id,
                content,
                client_id,
                attachments,
                ctx,
            ),
            Command::StaffNote {
                session_id,
                content,
                client_id,
            } => self.post_as_staff(
                PostAs::Note,
                session_id,
                content,
                client_id,
                Vec::new(),
                ctx,
            ),
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
                    notes: Notes::Shown,
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
                            staff: act.caller().is_staff(),
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
            Command::ChatMessage { .. }
            | Command::ToggleLike
            | Command::Reaction { .. }
            | Command::ChatDelete { .. }
            | Command::ChatMute { .. }
            | Command::ChatSlowMode { .. }
            | Command::ChatLimits { .. }
            | Command::ChatPin { .. }
            | Command::ChatUnpin
            | Command::ChatTimeout { .. }
            | Command::ChatBan { .. }
            | Command::ChatUnban { .. }
            | Command::ChatModeratorAdd { .. }
            | Command::ChatModeratorRemove { .. }
            | Command::WebrtcRegister { .. }
            | Command::WebrtcOffer { .. }
            | Command::WebrtcAnswer { .. }
            | Command::WebrtcIceCandidate { .. }
            | Command::WebrtcBroadcastStart { .. }
            | Command::WebrtcBroadcastStop { .. } => self.execute_live(cmd, ctx),
            Command::Snooze { session_id, until } => {
                if !self.registered(ctx) {
                    return;
                }
                let snooze = SnoozeConversation {
                    origin: Some(self.id),
                    conversation_id: session_id,
                    caller: self.caller(),
                    until,
                };
                // Answered by the `conversation_updated` (change `snoozed`) staff get.
                self.ask(snooze, Order::Pipelined, ctx, |_, _, _| {});
            }
            Command::Rate { rating, comment } => {
                let Registration::Customer { session_id, caller } = &self.registration else {
                    let e = AppError::forbidden("Only the customer rates a conversation");
                    return self.refuse_role(ctx, e);
                };
                let rate = RateConversation {
                    origin: Some(self.id),
                    conversation_id: session_id.clone(),
                    caller: caller.clone(),
                    score: rating,
                    comment,
                };
                // Answered by the `conversation_updated` (change `rated`) its room gets.
                self.ask(rate, Order::Pipelined, ctx, |_, _, _| {});
            }
            Command::CustomerContext {
                page_url,
                page_title,
                browser,
                time_zone,
            } => {
                let Registration::Customer { session_id, caller } = &self.registration else {
                    let e = AppError::forbidden("Only a registered customer tells their page");
                    return self.refuse_role(ctx, e);
                };
                let context = match CustomerContext::parse(
                    page_url.as_deref(),
                    page_title.as_deref(),
                    browser.as_deref(),
                    time_zone.as_deref(),
                    crate::domain::message::now_millis(),
                ) {
                    Ok(c) => c,
                    Err(e) => return self.error(ctx, &e),
                };
                let details = SetCustomerDetails {
                    origin: Some(self.id),
                    conversation_id: session_id.clone(),
                    caller: caller.clone(),
                    email: None,
                    context: Some(context),
                };
                // Staff hear it (`conversation_updated`, change `customer`); the
                // customer only of a refusal.
                self.ask(details, Order::Pipelined, ctx, |_, _, _| {});
            }
            Command::SetAvailability {
                availability,
                user_id,
            } => {
                let availability = match Availability::parse(&availability) {
                    Ok(a) => a,
                    Err(e) => return self.error(ctx, &e),
                };
                let caller = self.caller();
                let user_id = user_id.unwrap_or_else(|| participant_id(&caller, ""));
                self.change_agent(caller, user_id, Some(availability), None, ctx);
            }
            Command::SetCapacity { user_id, capacity } => {
                self.change_agent(self.caller(), user_id, None, Some(capacity), ctx)
            }
            Command::Queue => {
                let desk = GetDesk {
                    caller: self.caller(),
                };
                self.ask(desk, Order::Pipelined, ctx, |act, ctx, desk| {
                    act.reply(ctx, Reply::Desk { desk: &desk })
                });
            }
            Command::Search { q, limit, offset } => {
                let offset = offset.unwrap_or(0);
                let search = Search {
                    caller: self.caller(),
                    q: q.clone(),
                    offset,
                    limit: limit.unwrap_or(20),
                };
                self.ask(search, Order::Pipelined, ctx, move |act, ctx, results| {
                    let reply = Reply::SearchResults {
                        q: &q,
                        offset,
                        results: &results,
                    };
                    act.reply(ctx, reply)
                });
            }
            Command::AddLabel { session_id, label } => self.relabel(session_id, label, true, ctx),
            Command::RemoveLabel { session_id, label } => {
                self.relabel(session_id, label, false, ctx)
            }
            Command::Inbox {
                status,
                label,
                limit,
                offset,
            } => {
                let asked = status.clone();
                let asked_label = label.clone();
                let (status, snoozed) = crate::domain::conversation::desk_view(status);
                let list = ListConversations {
                    caller: self.caller(),
                    customer: None,
                    status,
                    label,
                    snoozed,
                    conversation_type: None,
                    offset: offset.unwrap_or(0),
                    limit: limit.unwrap_or(DEFAULT_HISTORY_PAGE),
                };
                self.ask(list, Order::Pipelined, ctx, move |act, ctx, l| {
                    act.reply(
                        ctx,
                        Reply::Inbox {
                            status: asked.as_deref(),
                            label: asked_label.as_deref(),
                            staff: act.caller().is_staff(),
                            conversations: &l.items,
                            total: l.total,
                        },
                    )
                });
            }
            Command::OnlineStaff => {
                if !self.caller().is_staff() {
                    return self.error(ctx, &AppError::insufficient_permissions());
                }
                let sent = self.state.chat.send(GetOnlineStaff);
                ws_connection::spawn(ctx, sent, |s, ctx, res| match res {
                    Ok(staff) => s.reply(ctx, Reply::OnlineStaff { staff: &staff }),
                    Err(e) => s.error(ctx, &e.into()),
                });
            }
        }
    }

    /// A staff connection's reply or note, acknowledged once committed.
    fn post_as_staff(
        &mut self,
        post_as: PostAs,
        session_id: String,
        content: String,
        client_id: Option<String>,
        attachments: Vec<String>,
        ctx: &mut Ctx,
    ) {
        let Registration::Staff { caller } = &self.registration else {
            return self.refuse_role(ctx, AppError::insufficient_permissions());
        };
        let post = self.post_message(
            session_id,
            caller.clone(),
            post_as,
            content,
            client_id,
            attachments,
        );
        self.ask(post, Order::Pipelined, ctx, |act, ctx, m| {
            act.reply(ctx, Reply::MessageAck { message: &m })
        });
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

    /// An agent's settings changed: answered with the agent; every staff connection
    /// gets `agent_updated`.
    fn change_agent(
        &mut self,
        caller: Caller,
        user_id: String,
        availability: Option<Availability>,
        capacity: Option<Option<i64>>,
        ctx: &mut Ctx,
    ) {
        if !self.registered(ctx) {
            return;
        }
        let msg = ChangeAgent {
            caller,
            user_id,
            availability,
            capacity,
        };
        self.ask(msg, Order::Pipelined, ctx, |act, ctx, agent| {
            act.reply(ctx, Reply::Agent { agent: &agent })
        });
    }

    /// Label changes answer with the `conversation_updated` every staff connection gets.
    fn relabel(&mut self, conversation_id: String, label: String, add: bool, ctx: &mut Ctx) {
        if !self.registered(ctx) {
            return;
        }
        let (add, remove) = if add {
            (vec![label], Vec::new())
        } else {
            (Vec::new(), vec![label])
        };
        let msg = ChangeLabels {
            origin: Some(self.id),
            conversation_id,
            caller: self.caller(),
            add,
            remove,
        };
        self.ask(msg, Order::Pipelined, ctx, |_, _, _| {});
    }

    /// Status changes answer with the `conversation_updated` every participant gets.
    fn change(&mut self, conversation_id: String, change: StatusChange, ctx: &mut Ctx) {
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
}

impl FrameHandler for NativeSocket {
    fn id(&self) -> u64 {
        self.id
    }

    fn on_text(&mut self, text: &str, ctx: &mut Ctx) {
        self.handle_text(text, ctx);
    }

    fn on_binary(&mut self, ctx: &mut Ctx) {
        self.error(
            ctx,
            &AppError::invalid_format("messages must be JSON text, not binary"),
        );
    }

    fn on_rate_limited(&mut self, ctx: &mut Ctx) {
        self.error(ctx, &AppError::rate_limited());
    }

    fn on_stop(&mut self) {
        self.state.chat.do_send(Leave { conn: self.id });
        self.state.live.do_send(Unwatch { conn: self.id });
    }

    fn metrics(&self) -> &crate::metrics::Metrics {
        &self.state.metrics
    }

    fn drain(&self) -> &crate::drain::Drain {
        &self.state.drain
    }

    fn dialect(&self) -> &'static str {
        "native"
    }

    fn frames_sent(&self) -> u64 {
        self.sent.get() + self.lane.written()
    }

    fn lane(&self) -> Option<Arc<ChatLane>> {
        Some(self.lane.clone())
    }

    fn ending(&self) -> Option<crate::metrics::Ended> {
        let evicted = self.state.evictions.was_evicted(self.id);
        self.ending
            .or(evicted.then_some(crate::metrics::Ended::SlowConsumer))
    }
}

impl Handler<Deliver> for WsConnection<NativeSocket> {
    type Result = ();

    fn handle(&mut self, msg: Deliver, ctx: &mut Self::Context) {
        if let Event::Disconnect { reason } = &msg.out.event {
            self.ending(crate::metrics::Ended::SlowConsumer);
            return ws_connection::close(ctx, CloseCode::Again, Some(reason.as_ref()));
        }
        if let Some(frame) =
            msg.out
                .encoded(DialectId::Native.encoding(), msg.audience, encode_event)
        {
            self.handler.send(ctx, frame);
        }
    }
}
