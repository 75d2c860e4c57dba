//! The ChatServer actor: who is connected (customers, guests, staff), conversation
//! rooms, presence, typing, and the routing of every support-chat event to the right
//! connections. It owns in-memory state only; storage goes through DbSync, and it
//! holds `Recipient`s, so any transport can register.

mod agents;
mod conversations;
mod identity;
pub mod messages;
mod reads;
mod remote_rooms;
mod rooms;
mod sequence;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;

use crate::actors::db_sync::{Requests, WriteDone, Writes};
pub use messages::*;

use crate::actors::cluster::{
    ChatEvent, Cluster, LocalStaff, Member, Missed, NodesGone, PublishChat, RemoteStaff,
    RoomMembers, RoomOwner, ShareAllowance, ShareMembers, StaffMember,
};
use crate::actors::db_sync::Db;
use crate::actors::delivery::{deliver, Delivered, Evictions};
use crate::domain::anonymous::SessionSecrets;
use crate::domain::conversation::{participant_id, ConversationView, Owner};
use crate::domain::{
    Audience, Author, Caller, Event, Message as ChatMessage, Outbound, SenderKind,
};
use crate::error::{AppError, ErrorKind};
use crate::metrics::Metrics;
use crate::rate_limit::KeyedLimiter;

/// Limits the ChatServer enforces on every dialect's input.
#[derive(Debug, Clone, Copy)]
pub struct ChatLimits {
    pub max_message_chars: usize,
    pub max_history_page: i64,
    /// Posts per second, and burst, per author over all connections and REST.
    pub post_rate_per_sec: f64,
    pub post_burst: f64,
    /// Typing states expire after this long without a refresh (seed 004: 10 s).
    pub typing_ttl: Duration,
    /// How long an onboarding code stays valid.
    pub auth_code_ttl: Duration,
    /// Auto-assign new conversations to agents with fewer active ones than this (0: off).
    pub auto_assign_capacity: i64,
    /// Resolve active conversations whose customer is quiet for this long (`None`: off).
    pub auto_resolve_after: Option<Duration>,
}

struct Conn {
    recipient: Recipient<Deliver>,
    caller: Caller,
    rooms: HashSet<String>,
}

struct Typing {
    conn: ConnId,
    name: String,
    expires: Instant,
}

pub struct ChatServer {
    db: Db,
    /// Cluster mode: where events for the other nodes go.
    cluster: Option<Addr<Cluster>>,
    /// Cluster mode: messages delivered in seq order, gaps filled.
    sequence: sequence::Sequencer,
    /// Cluster mode: the staff online on other nodes, by id.
    remote_staff: BTreeMap<String, StaffMember>,
    /// Cluster mode: the members of rooms, and typing, on other nodes.
    remote_rooms: remote_rooms::RemoteRooms,
    limits: ChatLimits,
    /// Mixed into stored code hashes; derived from the server's secret.
    code_pepper: String,
    /// Anonymous sessions' secrets (`registered`'s `sessionSecret`).
    secrets: SessionSecrets,
    conns: HashMap<ConnId, Conn>,
    /// Connections in each conversation's room.
    rooms: HashMap<String, HashSet<ConnId>>,
    /// Staff connections by user id (several tabs each); every one gets the inbox.
    staff: HashMap<String, HashSet<ConnId>>,
    /// Owners of rooms whose conversation has no row yet: a signed-in customer who
    /// registers on a new session claims it, so nobody else can listen in before its
    /// first message makes the claim durable.
    claims: HashMap<String, Owner>,
    /// Who is typing where: (conversation, participant).
    typing: HashMap<(String, String), Typing>,
    /// Writes waiting for their commit.
    requests: Requests<ChatServer>,
    /// Post rate per author; full buckets are dropped periodically.
    post_limiter: Arc<KeyedLimiter<String>>,
    evictions: Arc<Evictions>,
    metrics: Arc<Metrics>,
    /// Where the auto-assignment round-robin continues.
    next_agent: usize,
    /// Agents' stored settings (a cache: every change comes through here, or from
    /// another node as `AgentChanged`).
    agents: HashMap<String, crate::domain::agent::AgentSettings>,
    /// The queue may have moved: waiting customers here get their place again.
    queue: agents::QueueWatch,
    /// An auto-resolve sweep is being written.
    resolving: bool,
    /// Snoozes that ran out are being woken.
    waking: bool,
}

/// How often snoozes that ran out are looked for (a conversation comes back at most
/// this late).
const SNOOZE_TICK: Duration = Duration::from_secs(2);

/// After a Redis outage, at most this many messages per conversation are read back
/// (a client missing more reads them with `history`).
const CATCH_UP_PAGE: i64 = 200;

/// The role a caller has in a conversation, as presence events name it.
pub fn role_of(caller: &Caller) -> &'static str {
    match caller {
        Caller::Staff(i) if i.is_admin() => "admin",
        Caller::Staff(_) => "agent",
        Caller::Guest(_) => "guest",
        Caller::User(_) | Caller::Anonymous(_) => "customer",
    }
}

impl ChatServer {
    pub fn new(
        db: Db,
        limits: ChatLimits,
        code_pepper: String,
        secrets: SessionSecrets,
        evictions: Arc<Evictions>,
        cluster: Option<Addr<Cluster>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        ChatServer {
            cluster,
            sequence: sequence::Sequencer::default(),
            remote_staff: BTreeMap::new(),
            remote_rooms: remote_rooms::RemoteRooms::default(),
            db,
            limits,
            code_pepper,
            secrets,
            conns: HashMap::new(),
            rooms: HashMap::new(),
            staff: HashMap::new(),
            claims: HashMap::new(),
            typing: HashMap::new(),
            requests: Requests::default(),
            post_limiter: Arc::new(KeyedLimiter::new(
                limits.post_rate_per_sec,
                limits.post_burst,
            )),
            evictions,
            metrics,
            next_agent: 0,
            agents: HashMap::new(),
            queue: agents::QueueWatch::default(),
            resolving: false,
            waking: false,
        }
    }

    /// Register a connection's identity (replacing any earlier one).
    fn attach(&mut self, conn: ConnId, recipient: Recipient<Deliver>, caller: Caller) {
        self.detach(conn);
        let first_tab = match &caller {
            Caller::Staff(i) => {
                let tabs = self.staff.entry(i.user_id.clone()).or_default();
                tabs.insert(conn);
                (tabs.len() == 1).then(|| (i.user_id.clone(), caller.display_name().to_owned()))
            }
            _ => None,
        };
        self.conns.insert(
            conn,
            Conn {
                recipient,
                caller,
                rooms: HashSet::new(),
            },
        );
        if let Some((user_id, name)) = first_tab {
            self.share_staff();
            // Online already, on another node: nobody needs telling.
            if !self.remote_staff.contains_key(&user_id) {
                let online = Event::StaffPresence {
                    user_id,
                    name,
                    online: true,
                };
                self.deliver(online, None, true, Some(conn), false);
            }
        }
    }

    /// The staff with a connection here, one entry each.
    fn local_staff(&self) -> Vec<StaffMember> {
        self.staff
            .values()
            .filter_map(|tabs| tabs.iter().next())
            .filter_map(|conn| self.conns.get(conn))
            .filter_map(|c| match &c.caller {
                Caller::Staff(i) => Some(StaffMember {
                    id: i.user_id.clone(),
                    name: c.caller.display_name().to_owned(),
                    role: role_of(&c.caller).to_owned(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Cluster mode: the other nodes learn who of the staff is online here.
    fn share_staff(&self) {
        if let Some(cluster) = &self.cluster {
            cluster.do_send(LocalStaff(self.local_staff()));
        }
    }

    /// Forget a connection: it leaves its rooms, and staff presence is updated.
    fn detach(&mut self, conn: ConnId) {
        let Some(rooms) = self
            .conns
            .get_mut(&conn)
            .map(|c| std::mem::take(&mut c.rooms))
        else {
            return;
        };
        for room in rooms {
            self.leave_room(conn, &room);
        }
        let Some(old) = self.conns.remove(&conn) else {
            return;
        };
        if let Caller::Staff(i) = &old.caller {
            if let Some(tabs) = self.staff.get_mut(&i.user_id) {
                tabs.remove(&conn);
                if tabs.is_empty() {
                    self.staff.remove(&i.user_id);
                    self.share_staff();
                    if !self.remote_staff.contains_key(&i.user_id) {
                        let offline = Event::StaffPresence {
                            user_id: i.user_id.clone(),
                            name: old.caller.display_name().to_owned(),
                            online: false,
                        };
                        self.deliver(offline, None, true, None, false);
                    }
                }
            }
        }
    }

    fn participant(&self, conn: ConnId, room: &str) -> Option<Participant> {
        let c = self.conns.get(&conn)?;
        Some(Participant {
            id: participant_id(&c.caller, room),
            role: role_of(&c.caller),
            name: c.caller.display_name().to_owned(),
        })
    }

    fn join_room(&mut self, conn: ConnId, room: &str) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if !c.rooms.insert(room.to_owned()) {
            return;
        }
        // A customer arrived: they may be waiting, and get told their place.
        if !c.caller.is_staff() {
            self.queue.moved();
        }
        self.rooms.entry(room.to_owned()).or_default().insert(conn);
        if let Some(p) = self.participant(conn, room) {
            let joined = Event::Presence {
                conversation_id: room.to_owned(),
                participant_id: p.id,
                role: p.role.into(),
                name: p.name,
                joined: true,
            };
            self.deliver_except_origin(joined, room, conn);
        }
    }

    fn leave_room(&mut self, conn: ConnId, room: &str) {
        let participant = self.participant(conn, room);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.rooms.remove(room);
        }
        let Some(members) = self.rooms.get_mut(room) else {
            return;
        };
        if !members.remove(&conn) {
            return;
        }
        if members.is_empty() {
            self.rooms.remove(room);
            self.claims.remove(room);
        }
        if let Some(p) = participant {
            if let Some(t) = self.typing.remove(&(room.to_owned(), p.id.clone())) {
                let stop = Event::Typing {
                    conversation_id: room.to_owned(),
                    participant_id: p.id.clone(),
                    name: t.name,
                    typing: false,
                    expired: false,
                };
                self.deliver_except_origin(stop, room, conn);
            }
            // Still present through another connection here (another tab)? The
            // other nodes hear when the last one here goes (they keep who is where);
            // clients hear `left` only when it was the last one anywhere.
            if !self.local_participants(room).any(|q| q.id == p.id) {
                let present_elsewhere = self.remote_rooms.in_room(room).any(|q| q.id == p.id);
                let left = Arc::new(Outbound::new(Event::Presence {
                    conversation_id: room.to_owned(),
                    participant_id: p.id,
                    role: p.role.into(),
                    name: p.name,
                    joined: false,
                }));
                self.publish(&left, Some(room), false);
                if !present_elsewhere {
                    self.deliver_here(left, Some(room), false, Some(conn), false);
                }
            }
        }
    }

    /// The conversation is stored, as `owner`'s: a claim on its room gives way, and
    /// listeners here who may not see it go.
    fn stored_as(&mut self, room: &str, owner: &Owner) {
        self.claims.remove(room);
        self.enforce_access(room, owner);
    }

    /// Now that `owner` owns `room` (decided here), take out every connection that may
    /// not see it, here and on the other nodes.
    fn decide_owner(&mut self, room: &str, owner: &Owner) {
        if let Some(cluster) = &self.cluster {
            cluster.do_send(RoomOwner {
                room: room.to_owned(),
                owner: owner.clone(),
            });
        }
        self.enforce_access(room, owner);
    }

    /// Now that `owner` owns `room`, take out every connection here that may not see it.
    fn enforce_access(&mut self, room: &str, owner: &Owner) {
        let outsiders: Vec<ConnId> = self
            .rooms
            .get(room)
            .into_iter()
            .flatten()
            .copied()
            .filter(|c| {
                self.conns
                    .get(c)
                    .is_some_and(|conn| !conn.caller.may_access(owner))
            })
            .collect();
        for conn in outsiders {
            self.leave_room(conn, room);
            self.deliver_to(
                conn,
                Event::AccessRevoked {
                    conversation_id: room.to_owned(),
                },
            );
        }
    }

    /// An event for one connection only.
    fn deliver_to(&mut self, conn: ConnId, event: Event) {
        if let Some(c) = self.conns.get(&conn) {
            let audience = Audience {
                sender: false,
                in_room: false,
                staff: c.caller.is_staff(),
            };
            // A full mailbox is handled by the next broadcast's eviction.
            let _ = c.recipient.try_send(Deliver {
                to: conn,
                out: Arc::new(Outbound::new(event)),
                audience,
            });
        }
    }

    /// Who is in a room, once each however many connections they have.
    /// The room's members with a connection here (once per connection).
    fn local_participants<'a>(&'a self, room: &'a str) -> impl Iterator<Item = Participant> + 'a {
        self.rooms
            .get(room)
            .into_iter()
            .flatten()
            .filter_map(move |&c| self.participant(c, room))
    }

    /// The room's members, on every node, once each.
    fn participants(&self, room: &str) -> Vec<Participant> {
        let mut seen = HashSet::new();
        self.local_participants(room)
            .chain(self.remote_rooms.in_room(room).cloned())
            .filter(|p| seen.insert(p.id.clone()))
            .collect()
    }

    /// Send one shared event to a room's members and, with `to_staff`, to every staff
    /// connection; each learns how it relates to the event (`Audience`). The origin gets
    /// it only with `echo`. A connection whose bounded mailbox is full is a slow
    /// consumer: it is told to go and forgotten here, so it can never hold up or grow
    /// the memory of anyone else.
    fn deliver(
        &mut self,
        event: Event,
        room: Option<&str>,
        to_staff: bool,
        origin: Option<ConnId>,
        echo: bool,
    ) {
        self.queue.observe(&event);
        let out = Arc::new(Outbound::new(event));
        self.publish(&out, room, to_staff);
        self.deliver_here(out, room, to_staff, origin, echo);
    }

    /// Cluster mode: an event for the other nodes' connections too.
    fn publish(&self, out: &Arc<Outbound>, room: Option<&str>, to_staff: bool) {
        if let Some(cluster) = self.cluster.as_ref().filter(|_| crosses_nodes(&out.event)) {
            cluster.do_send(PublishChat {
                room: room.map(str::to_owned),
                to_staff,
                out: out.clone(),
            });
        }
    }

    /// A committed message for its room and all staff. In cluster mode, in seq order
    /// with every node's messages (see `sequence`).
    fn deliver_message(&mut self, message: ChatMessage, origin: Option<ConnId>) {
        let ready = match self.cluster {
            Some(_) => self.sequence.admit(message, origin),
            None => vec![(message, origin)],
        };
        for (message, origin) in ready {
            let room = message.conversation_id.clone();
            let out = Arc::new(Outbound::new(Event::MessagePosted { message }));
            self.deliver_here(out, Some(&room), true, origin, true);
        }
    }

    /// Read from the database the messages that held ones wait for.
    fn fill_gaps(&mut self, ctx: &mut Context<Self>) {
        for gap in self.sequence.overdue() {
            self.metrics.cluster_gap_fills.inc();
            let db = self.db.clone();
            let page = HistoryPage::After {
                seq: gap.after,
                limit: gap.until - gap.after,
            };
            let read = async move {
                db.query(move |c| {
                    crate::db::reads::history(c, &gap.conversation_id, page, Notes::Shown)
                })
                .await
            };
            ctx.spawn(read.into_actor(self).map(|result, act, _| match result {
                Ok((messages, _)) => {
                    for message in messages {
                        act.deliver_message(message, None);
                    }
                }
                Err(e) => log::warn!("a gap in a conversation could not be filled yet: {e}"),
            }));
        }
    }

    /// `deliver` to this node's connections.
    fn deliver_here(
        &mut self,
        out: Arc<Outbound>,
        room: Option<&str>,
        to_staff: bool,
        origin: Option<ConnId>,
        echo: bool,
    ) {
        let members = room.and_then(|r| self.rooms.get(r));
        // A private note reaches staff connections only, whatever room they are in.
        let staff_only = matches!(&out.event, Event::MessagePosted { message } if message.private);
        let staff = self
            .staff
            .values()
            .flatten()
            .filter(|c| to_staff && !members.is_some_and(|m| m.contains(c)));
        let mut gone = Vec::new();
        // One pass, one lookup per recipient: this runs for every message and recipient.
        for (&id, in_room) in members
            .into_iter()
            .flatten()
            .map(|c| (c, true))
            .chain(staff.map(|c| (c, false)))
        {
            let sender = Some(id) == origin;
            if sender && !echo {
                continue;
            }
            let Some(conn) = self.conns.get(&id) else {
                continue;
            };
            if staff_only && !conn.caller.is_staff() {
                continue;
            }
            let audience = Audience {
                sender,
                in_room,
                staff: conn.caller.is_staff(),
            };
            let msg = Deliver {
                to: id,
                out: out.clone(),
                audience,
            };
            match deliver(&conn.recipient, msg, &self.evictions, "support chat") {
                Delivered::Sent => {}
                Delivered::Evicted | Delivered::Gone => gone.push(id),
            }
        }
        for id in gone {
            self.detach(id);
        }
    }

    /// Room-only events that the connection causing them does not need echoed.
    fn deliver_except_origin(&mut self, event: Event, room: &str, origin: ConnId) {
        self.deliver(event, Some(room), false, Some(origin), false);
    }

    /// Per-identity rate limit on posts, whatever the transport. Guests and users
    /// are kept apart, so a guest cannot spend a staff member's allowance.
    fn allow_post(&mut self, author: &Author) -> Result<(), AppError> {
        // The server's own (automatic replies) answer posts that were limited already.
        if author.id == crate::auth::SERVER_USER_ID && author.kind == SenderKind::System {
            return Ok(());
        }
        let namespace = if matches!(author.kind, SenderKind::Guest) {
            "guest"
        } else {
            "user"
        };
        if self
            .post_limiter
            .allow(format!("{namespace}:{}", author.id))
        {
            Ok(())
        } else {
            self.metrics.rate_limited("posts");
            Err(AppError::rate_limited())
        }
    }

    /// Time out typing states nobody refreshed.
    fn expire_typing(&mut self) {
        let now = Instant::now();
        let expired: Vec<(String, String)> = self
            .typing
            .iter()
            .filter(|(_, t)| t.expires <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            if let Some(t) = self.typing.remove(&key) {
                let (room, participant_id) = key;
                let stop = Event::Typing {
                    conversation_id: room.clone(),
                    participant_id,
                    name: t.name,
                    typing: false,
                    expired: true,
                };
                self.deliver_except_origin(stop, &room, t.conn);
            }
        }
    }

    fn stats(&self) -> Stats {
        let staff_connections = self.staff.values().map(HashSet::len).sum();
        Stats {
            connections: self.conns.len(),
            customer_connections: self.conns.len() - staff_connections,
            staff_connections,
            rooms: self.rooms.len(),
            staff_online: self.staff.len(),
            agents_online: self.staff.len()
                + self
                    .remote_staff
                    .keys()
                    .filter(|id| !self.staff.contains_key(*id))
                    .count(),
            slow_consumers_evicted: self.evictions.count(),
        }
    }
}

impl Actor for ChatServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Connections and HTTP handlers on every worker thread send here.
        ctx.set_mailbox_capacity(4096);
        ctx.run_interval(Duration::from_secs(60), |act, _| act.post_limiter.prune());
        if let Some(cluster) = &self.cluster {
            cluster.do_send(ShareAllowance {
                name: "posts",
                limiter: self.post_limiter.clone(),
            });
        }
        ctx.run_interval(Duration::from_millis(500), |act, _| act.expire_typing());
        if self.cluster.is_some() {
            ctx.run_interval(sequence::HOLD / 3, |act, ctx| act.fill_gaps(ctx));
        }
        self.load_agents(ctx);
        ctx.run_interval(agents::QUEUE_TICK, |act, ctx| act.tell_queue(ctx));
        ctx.run_interval(SNOOZE_TICK, |act, ctx| act.wake_snoozed(ctx));
        if let Some(after) = self.limits.auto_resolve_after {
            // Often enough that a conversation goes at most a quarter late.
            let every = (after / 4).clamp(Duration::from_millis(50), Duration::from_secs(30));
            ctx.run_interval(every, move |act, ctx| act.auto_resolve(after, ctx));
        }
    }
}

impl Writes for ChatServer {
    fn requests(&mut self) -> &mut Requests<Self> {
        &mut self.requests
    }

    fn writer(&self) -> Addr<crate::actors::db_sync::DbWriter> {
        self.db.writer.clone()
    }
}

/// Outcomes arrive in commit order, so deliveries go out in seq order.
impl Handler<WriteDone> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: WriteDone, ctx: &mut Context<Self>) {
        self.written(msg, ctx);
    }
}

/// The events other nodes' connections must hear too. Presence (who is online, who is
/// in a room) is per node until it is shared with expiry; per-connection events stay.
fn crosses_nodes(event: &Event) -> bool {
    matches!(
        event,
        Event::MessagePosted { .. }
            | Event::ConversationChanged { .. }
            | Event::Typing { .. }
            | Event::Presence { .. }
            | Event::Read { .. }
            | Event::AgentChanged { .. }
    )
}

/// An event another node delivered: for this node's connections (none is its origin).
impl Handler<ChatEvent> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: ChatEvent, _: &mut Context<Self>) {
        self.remote_rooms.observe(&msg.node, &msg.event);
        self.queue.observe(&msg.event);
        if let Event::AgentChanged { user_id, settings } = &msg.event {
            self.agents.insert(user_id.clone(), *settings);
        }
        // A conversation stored by another node belongs to its owner here too: a claim
        // made here gives way, and listeners who may not see it go (as on its node).
        if let Event::ConversationChanged { conversation, .. } = &msg.event {
            let c = &conversation.conversation;
            self.stored_as(&c.id, &c.owner);
        }
        match msg.event {
            Event::MessagePosted { message } => self.deliver_message(message, None),
            // Gone from that node, still present here or on another one.
            Event::Presence {
                conversation_id,
                participant_id,
                joined: false,
                ..
            } if self
                .participants(&conversation_id)
                .iter()
                .any(|p| p.id == participant_id) => {}
            event => {
                let out = Arc::new(Outbound::new(event));
                self.deliver_here(out, msg.room.as_deref(), msg.to_staff, None, true);
            }
        }
    }
}

/// The staff online on the other nodes changed: who came or went altogether (not
/// online here either) is announced to this node's staff.
impl Handler<RemoteStaff> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: RemoteStaff, _: &mut Context<Self>) {
        let before = std::mem::replace(&mut self.remote_staff, msg.0);
        let changes: Vec<(StaffMember, bool)> = self
            .remote_staff
            .values()
            .filter(|m| !before.contains_key(&m.id))
            .map(|m| (m.clone(), true))
            .chain(
                before
                    .values()
                    .filter(|m| !self.remote_staff.contains_key(&m.id))
                    .map(|m| (m.clone(), false)),
            )
            .filter(|(m, _)| !self.staff.contains_key(&m.id))
            .collect();
        for (member, online) in changes {
            let event = Event::StaffPresence {
                user_id: member.id,
                name: member.name,
                online,
            };
            self.deliver(event, None, true, None, false);
        }
    }
}

/// Nodes went: their members leave this node's rooms (unless present here or on
/// another node), and their typing states end.
impl Handler<NodesGone> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: NodesGone, _: &mut Context<Self>) {
        for node in msg.0 {
            let departed = self.remote_rooms.depart(&node);
            for ((room, participant_id), name) in departed.typing {
                if self
                    .typing
                    .contains_key(&(room.clone(), participant_id.clone()))
                {
                    continue;
                }
                let stop = Event::Typing {
                    conversation_id: room.clone(),
                    participant_id,
                    name,
                    typing: false,
                    expired: true,
                };
                self.deliver_here(
                    Arc::new(Outbound::new(stop)),
                    Some(&room),
                    false,
                    None,
                    true,
                );
            }
            for (room, p) in departed.members {
                if self.participants(&room).iter().any(|q| q.id == p.id) {
                    continue;
                }
                let left = Event::Presence {
                    conversation_id: room.clone(),
                    participant_id: p.id,
                    role: p.role.into(),
                    name: p.name,
                    joined: false,
                };
                self.deliver_here(
                    Arc::new(Outbound::new(left)),
                    Some(&room),
                    false,
                    None,
                    true,
                );
            }
        }
    }
}

/// Redis was away: the messages written meanwhile are read from the database and
/// delivered here in seq order (the ones delivered already are dropped by seq).
impl Handler<Missed> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: Missed, ctx: &mut Context<Self>) {
        // Agents' settings changed meanwhile are read again; the queue may have moved.
        self.load_agents(ctx);
        self.queue.moved();
        let db = self.db.clone();
        let read = async move {
            db.query(move |c| crate::db::reads::written_since(c, msg.since, CATCH_UP_PAGE))
                .await
        };
        ctx.spawn(read.into_actor(self).map(|result, act, _| match result {
            Ok((conversations, messages)) => {
                log::info!(
                    "read back {} messages written while Redis was away",
                    messages.len()
                );
                // Conversations stored meanwhile belong to their owners here too.
                for c in conversations {
                    act.stored_as(&c.id, &c.owner);
                }
                for message in messages {
                    act.deliver_message(message, None);
                }
            }
            Err(e) => log::warn!("could not read what was written while Redis was away: {e}"),
        }));
    }
}

/// Another node decided a room's owner: listeners here who may not see it go, and a
/// room with listeners here keeps the claim for registrations to come.
impl Handler<RoomOwner> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: RoomOwner, _: &mut Context<Self>) {
        // A signed-in customer's claim here beats a browser's claim there, whichever
        // message came first (as at admission): that node hears of ours and drops its
        // anonymous listeners, so the two agree.
        if matches!(msg.owner, Owner::Anonymous(_))
            && matches!(self.claims.get(&msg.room), Some(Owner::User(_)))
        {
            return;
        }
        if self.rooms.contains_key(&msg.room) {
            self.claims.insert(msg.room.clone(), msg.owner.clone());
        }
        self.enforce_access(&msg.room, &msg.owner);
    }
}

/// Nodes arrived, or this one is back after an outage: the others learn who is in
/// this node's rooms, all of it.
impl Handler<ShareMembers> for ChatServer {
    type Result = ();

    fn handle(&mut self, _: ShareMembers, _: &mut Context<Self>) {
        let Some(cluster) = &self.cluster else { return };
        let rooms = self
            .rooms
            .keys()
            .map(|room| {
                let mut seen = HashSet::new();
                let members = self
                    .local_participants(room)
                    .filter(|p| seen.insert(p.id.clone()))
                    .map(|p| Member {
                        id: p.id,
                        role: p.role.to_owned(),
                        name: p.name,
                    })
                    .collect();
                (room.clone(), members)
            })
            .collect();
        cluster.do_send(RoomMembers {
            node: String::new(),
            rooms,
        });
    }
}

/// Another node's room members, all of them: its record here is replaced.
impl Handler<RoomMembers> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: RoomMembers, _: &mut Context<Self>) {
        self.remote_rooms.replace(&msg.node, msg.rooms);
    }
}
