//! The LiveStream actor (seed 002): the one live stream, its viewers, likes, pinned
//! products and chat. Viewer counts and likes go out coalesced, a few times a second,
//! not once per join. It owns in-memory state; storage goes through DbWriter.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use crate::actors::chat_server::{ConnId, Deliver};
use crate::actors::db_sync::{Db, Requests, WriteDone, Writes};
use crate::actors::delivery::{deliver, Delivered, Evictions};
use crate::domain::message::{iso_timestamp, now_millis};
use crate::domain::stream::Stream;
use crate::domain::stream::{ChatLine, PinnedProduct, StreamView};
use crate::domain::writes;
use crate::domain::{text, Audience, Caller, Event, Outbound, RelayKind, Signal};
use crate::error::{AppError, ErrorKind};

/// Recent chat sent to each new viewer.
const HISTORY: usize = 50;
/// How often viewer counts and likes are broadcast, at most.
const UPDATE_EVERY: Duration = Duration::from_millis(250);
const MAX_CHAT_CHARS: usize = 500;
const MAX_USERNAME_CHARS: usize = 40;
const MAX_PINNED: usize = 20;

struct Viewer {
    recipient: Recipient<Deliver>,
    staff: bool,
}

struct Live {
    row: Stream,
    /// Likers in the order they liked (user ids, else session ids), once each.
    liked_by: Vec<String>,
    liked: HashSet<String>,
    peak_viewers: usize,
    pinned: Arc<Vec<PinnedProduct>>,
}

pub struct LiveStream {
    db: Db,
    viewers: HashMap<ConnId, Viewer>,
    live: Option<Live>,
    /// A start or stop is being committed.
    changing: bool,
    history: VecDeque<ChatLine>,
    /// Viewer count or likes changed since the last `stream_update`.
    dirty: bool,
    requests: Requests<LiveStream>,
    /// WebRTC peers by id, and the broadcasting (admin) peer if any.
    peers: HashMap<String, Peer>,
    broadcaster: Option<String>,
    moderation: Moderation,
    evictions: Arc<Evictions>,
}

/// Chat moderation state, reset with each stream.
#[derive(Default)]
struct Moderation {
    /// Who wrote each recent message (kept with the history), for mutes by message.
    authors: VecDeque<(String, String)>,
    muted: HashMap<String, std::time::Instant>,
    slow_mode: Option<Duration>,
    last_chat: HashMap<String, std::time::Instant>,
}

struct Peer {
    conn: ConnId,
    admin: bool,
}

fn no_stream() -> AppError {
    AppError::new(ErrorKind::Conflict, "No active stream")
}

fn staff_only(caller: &Caller) -> Result<(), AppError> {
    match caller {
        Caller::Staff(_) => Ok(()),
        Caller::Anonymous(_) => Err(AppError::new(
            ErrorKind::TokenRequired,
            "No token, authorization denied",
        )),
        _ => Err(AppError::insufficient_permissions()),
    }
}

impl LiveStream {
    pub fn new(db: Db, evictions: Arc<Evictions>) -> Self {
        LiveStream {
            db,
            viewers: HashMap::new(),
            live: None,
            changing: false,
            history: VecDeque::new(),
            dirty: false,
            requests: Requests::default(),
            peers: HashMap::new(),
            broadcaster: None,
            moderation: Moderation::default(),
            evictions,
        }
    }

    fn view(&self) -> Option<StreamView> {
        let live = self.live.as_ref()?;
        Some(StreamView {
            stream_id: live.row.id.clone(),
            title: live.row.title.clone(),
            description: live.row.description.clone(),
            start_time: iso_timestamp(live.row.started_at),
            viewer_count: self.viewers.len(),
            likes: live.liked_by.len(),
            liked_by: live.liked_by.clone(),
            stream_url: live.row.stream_url.clone(),
            quality: live.row.quality.clone(),
        })
    }

    /// One shared event for every viewer. A viewer whose bounded queue is full is a slow
    /// consumer: it is told to go (it can reconnect and get the state again) and dropped,
    /// so it never holds up the others.
    fn broadcast(&mut self, event: Event) {
        let out = Arc::new(Outbound::new(event));
        let mut gone = Vec::new();
        for (&id, v) in &self.viewers {
            let audience = Audience {
                sender: false,
                in_room: true,
                staff: v.staff,
            };
            let msg = Deliver {
                to: id,
                out: out.clone(),
                audience,
            };
            match deliver(&v.recipient, msg, &self.evictions, "the live stream") {
                Delivered::Sent => {}
                Delivered::Evicted | Delivered::Gone => gone.push(id),
            }
        }
        for id in gone {
            self.viewers.remove(&id);
            self.dirty = true;
        }
    }

    fn send_to(&self, conn: ConnId, event: Event) {
        self.send_shared(conn, &Arc::new(Outbound::new(event)));
    }

    /// One event for some viewers: encoded once for all of them.
    fn send_shared(&self, conn: ConnId, out: &Arc<Outbound>) {
        if let Some(v) = self.viewers.get(&conn) {
            let audience = Audience {
                sender: true,
                in_room: true,
                staff: v.staff,
            };
            let _ = v.recipient.try_send(Deliver {
                to: conn,
                out: out.clone(),
                audience,
            });
        }
    }

    fn flush_update(&mut self) {
        if !std::mem::take(&mut self.dirty) {
            return;
        }
        let Some(live) = self.live.as_mut() else {
            return;
        };
        live.peak_viewers = live.peak_viewers.max(self.viewers.len());
        let event = Event::StreamUpdate {
            viewer_count: self.viewers.len(),
            likes: live.liked_by.len(),
            liked_by: Arc::new(live.liked_by.clone()),
        };
        self.broadcast(event);
    }
}

impl Writes for LiveStream {
    fn requests(&mut self) -> &mut Requests<Self> {
        &mut self.requests
    }

    fn writer(&self) -> Addr<crate::actors::db_sync::DbWriter> {
        self.db.writer.clone()
    }
}

impl Actor for LiveStream {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(4096);
        ctx.run_interval(UPDATE_EVERY, |act, _| act.flush_update());
    }
}

impl Handler<WriteDone> for LiveStream {
    type Result = ();
    fn handle(&mut self, msg: WriteDone, ctx: &mut Context<Self>) {
        self.written(msg, ctx);
    }
}

/// A registered connection watches: it gets the stream's state now if one is live.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Watch {
    pub conn: ConnId,
    pub staff: bool,
    pub recipient: Recipient<Deliver>,
}

impl Handler<Watch> for LiveStream {
    type Result = ();
    fn handle(&mut self, msg: Watch, _: &mut Context<Self>) {
        let new = self
            .viewers
            .insert(
                msg.conn,
                Viewer {
                    recipient: msg.recipient,
                    staff: msg.staff,
                },
            )
            .is_none();
        self.dirty |= new;
        if let (true, Some(view)) = (new, self.view()) {
            let pinned = self
                .live
                .as_ref()
                .map(|l| l.pinned.clone())
                .unwrap_or_default();
            self.send_to(
                msg.conn,
                Event::StreamStarted {
                    stream: Box::new(view),
                },
            );
            self.send_to(msg.conn, Event::PinnedProducts { products: pinned });
            self.send_to(
                msg.conn,
                Event::ChatHistory {
                    lines: self.history.iter().cloned().collect(),
                },
            );
        }
    }
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Unwatch {
    pub conn: ConnId,
}

impl Handler<Unwatch> for LiveStream {
    type Result = ();
    fn handle(&mut self, msg: Unwatch, _: &mut Context<Self>) {
        self.dirty |= self.viewers.remove(&msg.conn).is_some();
        // A peer's registrations go away with its connection.
        let mine: Vec<String> = self
            .peers
            .iter()
            .filter(|(_, p)| p.conn == msg.conn)
            .map(|(id, _)| id.clone())
            .collect();
        for id in mine {
            self.peers.remove(&id);
            if self.broadcaster.as_deref() == Some(id.as_str()) {
                self.stop_broadcast(id);
            }
        }
    }
}

/// Like or unlike the live stream, once per `liker` (user id, else session id).
#[derive(Message)]
#[rtype(result = "Result<bool, AppError>")]
pub struct ToggleLike {
    pub liker: String,
}

impl Handler<ToggleLike> for LiveStream {
    type Result = Result<bool, AppError>;
    fn handle(&mut self, msg: ToggleLike, _: &mut Context<Self>) -> Self::Result {
        let live = self.live.as_mut().ok_or_else(no_stream)?;
        let liked = if live.liked.remove(&msg.liker) {
            live.liked_by.retain(|l| l != &msg.liker);
            false
        } else {
            live.liked.insert(msg.liker.clone());
            live.liked_by.push(msg.liker);
            true
        };
        self.dirty = true;
        Ok(liked)
    }
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

impl Handler<SendChat> for LiveStream {
    type Result = Result<(), AppError>;
    fn handle(&mut self, msg: SendChat, ctx: &mut Context<Self>) -> Self::Result {
        let stream_id = self
            .live
            .as_ref()
            .map(|l| l.row.id.clone())
            .ok_or_else(no_stream)?;
        let message = text::message_text(&msg.text, MAX_CHAT_CHARS)?;
        self.check_moderation(&msg.caller, &msg.sender_id)?;
        let username = match &msg.caller {
            Caller::Staff(_) | Caller::User(_) => msg.caller.display_name().to_owned(),
            _ => text::optional_field(
                "username",
                msg.username
                    .as_deref()
                    .map(|u| truncate(u, MAX_USERNAME_CHARS))
                    .as_deref(),
                MAX_USERNAME_CHARS,
            )?
            .unwrap_or_else(|| "Guest".to_owned()),
        };
        let now = now_millis();
        let line = ChatLine {
            id: uuid::Uuid::new_v4().to_string(),
            username,
            message,
            is_admin: msg.caller.is_staff(),
            timestamp: iso_timestamp(now),
        };
        // Stream chat is broadcast at once and stored behind it: it is ephemeral talk,
        // not support history, and a slow disk must not stall the stream.
        let author = (line.id.clone(), msg.sender_id.clone());
        let store = writes::StoreStreamChat {
            id: line.id.clone(),
            stream_id,
            sender_id: msg.sender_id,
            username: line.username.clone(),
            message: line.message.clone(),
            is_admin: line.is_admin,
            created_at: now,
        };
        self.write(ctx, store, |_, _, stored| {
            if let Err(e) = stored {
                log::warn!("a stream chat line was not stored: {e}");
            }
        });
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        if self.moderation.authors.len() == HISTORY {
            self.moderation.authors.pop_front();
        }
        self.moderation.authors.push_back(author);
        self.history.push_back(line.clone());
        self.broadcast(Event::StreamChat { line });
        Ok(())
    }
}

impl LiveStream {
    /// Muted viewers and slow mode; staff are exempt.
    fn check_moderation(&mut self, caller: &Caller, sender: &str) -> Result<(), AppError> {
        if caller.is_staff() {
            return Ok(());
        }
        let now = std::time::Instant::now();
        let m = &mut self.moderation;
        if let Some(until) = m.muted.get(sender).filter(|u| **u > now) {
            let left = until.duration_since(now).as_secs() + 1;
            return Err(AppError::forbidden("You are muted")
                .with_detail(format!("for {left} more seconds")));
        }
        if let (Some(every), Some(last)) = (m.slow_mode, m.last_chat.get(sender)) {
            let since = now.duration_since(*last);
            if since < every {
                let wait = (every - since).as_secs() + 1;
                return Err(AppError::new(ErrorKind::RateLimited, "Slow mode is on")
                    .with_detail(format!("wait {wait} seconds")));
            }
        }
        m.last_chat.insert(sender.to_owned(), now);
        Ok(())
    }
}

/// Staff moderation of the live chat.
#[derive(Debug, Clone)]
pub enum ModerateCmd {
    /// Remove a message for everyone.
    Delete { message_id: String },
    /// Silence the author of a message for a time.
    Mute { message_id: String, seconds: u64 },
    /// One message per `seconds` per viewer; 0 turns it off.
    SlowMode { seconds: u64 },
}

#[derive(Message)]
#[rtype(result = "Result<(), AppError>")]
pub struct Moderate {
    pub caller: Caller,
    pub cmd: ModerateCmd,
}

impl Handler<Moderate> for LiveStream {
    type Result = Result<(), AppError>;

    fn handle(&mut self, msg: Moderate, _: &mut Context<Self>) -> Self::Result {
        staff_only(&msg.caller)?;
        if self.live.is_none() {
            return Err(no_stream());
        }
        let unknown = || AppError::not_found("Message not found");
        match msg.cmd {
            ModerateCmd::Delete { message_id } => {
                let before = self.history.len();
                self.history.retain(|l| l.id != message_id);
                if self.history.len() == before {
                    return Err(unknown());
                }
                self.broadcast(Event::StreamChatDeleted { message_id });
            }
            ModerateCmd::Mute {
                message_id,
                seconds,
            } => {
                if !(1..=86_400).contains(&seconds) {
                    return Err(AppError::validation(
                        "durationSeconds must be between 1 and 86400",
                    ));
                }
                let author = self
                    .moderation
                    .authors
                    .iter()
                    .find(|(id, _)| *id == message_id)
                    .map(|(_, a)| a.clone());
                let author = author.ok_or_else(unknown)?;
                self.moderation.muted.insert(
                    author,
                    std::time::Instant::now() + Duration::from_secs(seconds),
                );
            }
            ModerateCmd::SlowMode { seconds } => {
                if seconds > 3600 {
                    return Err(AppError::validation("seconds must be between 0 and 3600"));
                }
                self.moderation.slow_mode = (seconds > 0).then(|| Duration::from_secs(seconds));
                self.broadcast(Event::ChatSettings {
                    slow_mode_seconds: seconds,
                });
            }
        }
        Ok(())
    }
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

impl LiveStream {
    fn signal(&self, conn: ConnId, signal: Signal) {
        self.send_to(conn, Event::Signal(signal));
    }

    /// Customers (non-staff viewers) hear about the broadcaster.
    fn tell_customers(&self, signal: Signal) {
        let out = Arc::new(Outbound::new(Event::Signal(signal)));
        for (&c, _) in self.viewers.iter().filter(|(_, v)| !v.staff) {
            self.send_shared(c, &out);
        }
    }

    fn stop_broadcast(&mut self, broadcaster: String) {
        self.broadcaster = None;
        self.tell_customers(Signal::BroadcastStopped { broadcaster });
    }

    /// The peer, if `conn` registered it.
    fn own_peer(&self, conn: ConnId, peer_id: &str) -> Result<&Peer, AppError> {
        self.peers
            .get(peer_id)
            .filter(|p| p.conn == conn)
            .ok_or_else(|| AppError::forbidden("Not your peer").with_detail(peer_id.to_owned()))
    }
}

impl Handler<SignalCommand> for LiveStream {
    type Result = Result<(), AppError>;

    fn handle(&mut self, msg: SignalCommand, _: &mut Context<Self>) -> Self::Result {
        match msg.cmd {
            SignalCmd::Register { peer_id, user_type } => {
                text::session_id(&peer_id).map_err(|_| {
                    AppError::validation("peerId must be 1 to 128 printable characters")
                })?;
                let admin = match user_type.as_str() {
                    "admin" if msg.staff => true,
                    "admin" => return Err(AppError::insufficient_permissions()),
                    "customer" => false,
                    _ => return Err(AppError::validation("userType must be admin or customer")),
                };
                if self.peers.get(&peer_id).is_some_and(|p| p.conn != msg.conn) {
                    return Err(AppError::new(
                        ErrorKind::Conflict,
                        "peerId already registered",
                    ));
                }
                self.peers.insert(
                    peer_id.clone(),
                    Peer {
                        conn: msg.conn,
                        admin,
                    },
                );
                let user_type = if admin { "admin" } else { "customer" };
                self.signal(
                    msg.conn,
                    Signal::Registered {
                        peer_id: peer_id.clone(),
                        user_type,
                    },
                );
                // A customer arriving while a broadcast runs is introduced to the broadcaster.
                if let (false, Some(b)) = (admin, self.broadcaster.clone()) {
                    if let Some(bc) = self.peers.get(&b).map(|p| p.conn) {
                        self.signal(
                            bc,
                            Signal::NewCustomer {
                                customer_id: peer_id,
                            },
                        );
                    }
                    self.signal(msg.conn, Signal::BroadcasterAvailable { broadcaster: b });
                }
                Ok(())
            }
            SignalCmd::Relay {
                kind,
                from,
                to,
                payload,
            } => {
                self.own_peer(msg.conn, &from)?;
                let target =
                    self.peers.get(&to).map(|p| p.conn).ok_or_else(|| {
                        AppError::not_found("Peer not found").with_detail(to.clone())
                    })?;
                self.signal(
                    target,
                    Signal::Relay {
                        kind,
                        from,
                        to,
                        payload,
                    },
                );
                Ok(())
            }
            SignalCmd::BroadcastStart { peer_id } => {
                if !self.own_peer(msg.conn, &peer_id)?.admin {
                    return Err(AppError::insufficient_permissions());
                }
                self.broadcaster = Some(peer_id.clone());
                self.tell_customers(Signal::BroadcasterAvailable {
                    broadcaster: peer_id.clone(),
                });
                // And the broadcaster meets the customers already there.
                let customers: Vec<String> = self
                    .peers
                    .iter()
                    .filter(|(_, p)| !p.admin)
                    .map(|(id, _)| id.clone())
                    .collect();
                for customer_id in customers {
                    self.signal(msg.conn, Signal::NewCustomer { customer_id });
                }
                Ok(())
            }
            SignalCmd::BroadcastStop { peer_id } => {
                self.own_peer(msg.conn, &peer_id)?;
                if self.broadcaster.as_deref() != Some(peer_id.as_str()) {
                    return Err(AppError::new(ErrorKind::Conflict, "Not broadcasting"));
                }
                self.stop_broadcast(peer_id);
                Ok(())
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
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

impl Handler<StartStream> for LiveStream {
    type Result = ResponseActFuture<Self, Result<StreamView, AppError>>;

    fn handle(&mut self, msg: StartStream, ctx: &mut Context<Self>) -> Self::Result {
        let checked = (|| {
            staff_only(&msg.caller)?;
            if self.live.is_some() || self.changing {
                return Err(AppError::new(
                    ErrorKind::Conflict,
                    "A stream is already live",
                ));
            }
            let field = |name, v: &str, max| text::optional_field(name, Some(v), max);
            let title = field("title", &msg.title, 200)?
                .ok_or_else(|| AppError::validation("title is required"))?;
            Ok(Stream {
                id: uuid::Uuid::new_v4().to_string(),
                title,
                description: field("description", &msg.description, 2000)?.unwrap_or_default(),
                stream_url: field("streamUrl", &msg.stream_url, 2000)?.unwrap_or_default(),
                quality: field("quality", &msg.quality, 20)?.unwrap_or_else(|| "720p".to_owned()),
                started_by: msg.caller.user_id().unwrap_or_default().to_owned(),
                started_at: now_millis(),
                ended_at: None,
                peak_viewers: 0,
                likes: 0,
            })
        })();
        let stream = match checked {
            Ok(stream) => stream,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        self.changing = true;
        let started = self.request(ctx, writes::StartStream { stream }, |act, _, stream| {
            act.live = Some(Live {
                row: stream,
                liked_by: Vec::new(),
                liked: HashSet::new(),
                peak_viewers: act.viewers.len(),
                pinned: Arc::new(Vec::new()),
            });
            act.history.clear();
            act.moderation = Moderation::default();
            let view = act.view().ok_or_else(AppError::internal)?;
            act.broadcast(Event::StreamStarted {
                stream: Box::new(view.clone()),
            });
            Ok(view)
        });
        Box::pin(started.into_actor(self).map(|res, act, _| {
            act.changing = false;
            res?
        }))
    }
}

/// Staff stop the live stream; its final figures are stored.
#[derive(Message)]
#[rtype(result = "Result<Stream, AppError>")]
pub struct StopStream {
    pub caller: Caller,
    pub stream_id: String,
}

impl Handler<StopStream> for LiveStream {
    type Result = ResponseActFuture<Self, Result<Stream, AppError>>;

    fn handle(&mut self, msg: StopStream, ctx: &mut Context<Self>) -> Self::Result {
        let checked = staff_only(&msg.caller).and_then(|()| match &self.live {
            Some(l) if l.row.id == msg.stream_id && !self.changing => Ok((
                l.peak_viewers.max(self.viewers.len()) as i64,
                l.liked_by.len() as i64,
            )),
            _ => Err(no_stream()),
        });
        let (peak_viewers, likes) = match checked {
            Ok(f) => f,
            Err(e) => return Box::pin(fut::ready(Err(e))),
        };
        self.changing = true;
        let stop = writes::StopStream {
            id: msg.stream_id.clone(),
            peak_viewers,
            likes,
        };
        let stopped = self.request(ctx, stop, move |act, _, stream| {
            act.live = None;
            act.broadcast(Event::StreamStopped {
                stream_id: msg.stream_id,
            });
            stream
        });
        Box::pin(stopped.into_actor(self).map(|res, act, _| {
            act.changing = false;
            res
        }))
    }
}

/// Staff set the pinned products of the live stream.
#[derive(Message)]
#[rtype(result = "Result<Arc<Vec<PinnedProduct>>, AppError>")]
pub struct PinProducts {
    pub caller: Caller,
    pub stream_id: String,
    pub products: Vec<PinnedProduct>,
}

impl Handler<PinProducts> for LiveStream {
    type Result = Result<Arc<Vec<PinnedProduct>>, AppError>;

    fn handle(&mut self, mut msg: PinProducts, _: &mut Context<Self>) -> Self::Result {
        staff_only(&msg.caller)?;
        let live = self
            .live
            .as_mut()
            .filter(|l| l.row.id == msg.stream_id)
            .ok_or_else(no_stream)?;
        if msg.products.len() > MAX_PINNED {
            return Err(AppError::validation(format!(
                "At most {MAX_PINNED} pinned products"
            )));
        }
        for p in &msg.products {
            if p.product_id.is_empty()
                || p.name.trim().is_empty()
                || p.name.len() > 200
                || p.image.len() > 2000
            {
                return Err(AppError::validation(
                    "Each product needs a productId and a name (max 200 characters)",
                ));
            }
            if !p.price.is_finite() || p.price < 0.0 {
                return Err(AppError::validation("price must be a non-negative number"));
            }
        }
        msg.products.sort_by_key(|p| p.display_order);
        live.pinned = Arc::new(msg.products);
        let pinned = live.pinned.clone();
        self.broadcast(Event::PinnedProducts {
            products: pinned.clone(),
        });
        Ok(pinned)
    }
}

/// The live stream's state and pinned products, if one is live.
#[derive(Message)]
#[rtype(result = "Option<(StreamView, Arc<Vec<PinnedProduct>>)>")]
pub struct GetCurrent;

impl Handler<GetCurrent> for LiveStream {
    type Result = MessageResult<GetCurrent>;
    fn handle(&mut self, _: GetCurrent, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.view().map(|v| {
            (
                v,
                self.live
                    .as_ref()
                    .map(|l| l.pinned.clone())
                    .unwrap_or_default(),
            )
        }))
    }
}
