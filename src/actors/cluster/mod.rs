//! The cluster (cluster mode: `REDIS_URL` is set): this node among the others. Nodes
//! talk only through Redis and PostgreSQL, never to each other directly.
//!
//! Here: support-chat fan-out (ChatServer publishes each event once; every other node
//! hands it to its own ChatServer, which delivers it to its own connections), the
//! live stream's changes (`stream`), what each node shares of its connections (staff
//! online, viewers, peers: `node_state`), the node registry (each node refreshes a
//! key of its own with a short TTL;
//! the nodes seen are those whose key lives, so a node that dies drops out within the
//! TTL, with no clock shared between nodes), and the pub/sub probe (a node publishes
//! to itself on the channel every node listens to, so a subscription that silently
//! died shows in health instead of looking fine).

mod node_state;
mod recovery;
mod registry;
mod stream;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{IntoConnectionInfo, ProtocolVersion, PushInfo, PushKind};
use serde::{Deserialize, Serialize};

pub use node_state::{NodeState, StaffMember, StreamPeer};
pub use recovery::{DropRecovery, KeepRecovery, TakeRecovery};
pub use registry::NodeInfo;
pub use stream::{
    ClaimStream, LocalStream, PublishStream, ReleaseStream, RemoteStream, ReservePeer, Resync,
    StreamFromNodes, StreamSnapshot, StreamSync,
};

use crate::domain::{Event, Outbound};
use crate::rate_limit::SharedAllowance;

/// How often a node says it is alive (and probes pub/sub).
const BEAT: Duration = Duration::from_secs(1);
/// How often a node hands over what its shared rate limits let through.
const TAKES_EVERY: Duration = Duration::from_millis(100);
/// A node not heard of for this long is gone.
pub const NODE_TTL: Duration = Duration::from_secs(5);
/// Pub/sub is healthy when our own probe came back within this.
const PROBE_WINDOW: Duration = Duration::from_secs(3);
/// Redis commands that take longer fail (and count as Redis being away).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// After an outage, what was written since this long before it was noticed is read.
const CATCH_UP_MARGIN: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct ClusterSettings {
    pub redis_url: String,
    /// Prefix of every key and channel.
    pub prefix: String,
    pub node_id: String,
    /// Where this node listens, for the node list.
    pub addr: String,
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl ClusterSettings {
    fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.prefix)
    }

    /// The channel every node subscribes to.
    fn channel(&self) -> String {
        self.key("events")
    }
}

/// What travels between nodes on the channel.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    /// The node that published it.
    from: String,
    /// When, in Unix milliseconds (by its clock): for the lag metric.
    #[serde(default)]
    at: Option<i64>,
    body: Body,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Body {
    /// A node's pub/sub probe, for itself.
    Probe(u64),
    /// A support-chat event for every node's connections.
    Chat(Box<ChatEvent>),
    /// A node's share changed.
    State(NodeState),
    /// A change to the live stream.
    Stream(Box<StreamSync>),
    /// What a node's shared rate limits let through lately: limiter, (key, count).
    Takes(String, Vec<(String, u32)>),
    /// A conversation's room now belongs to this owner (a claim or a binding).
    Owner(Box<RoomOwner>),
    /// Who is in the sender's rooms, all of it.
    Members(RoomMembers),
}

/// A support-chat event and whom it is for: a conversation's room, and with
/// `to_staff` every staff connection (as ChatServer delivers it locally).
#[derive(Debug, Serialize, Deserialize, Message)]
#[rtype(result = "()")]
#[serde(rename_all = "camelCase")]
pub struct ChatEvent {
    pub room: Option<String>,
    pub to_staff: bool,
    pub event: Event,
    /// The node it came from (set on arrival).
    #[serde(skip)]
    pub node: String,
}

/// A room's owner, decided on one node (a new session claimed, an anonymous one bound
/// to a browser): every node takes out the listeners who may not see it.
#[derive(Debug, Clone, Serialize, Deserialize, Message)]
#[rtype(result = "()")]
pub struct RoomOwner {
    pub room: String,
    pub owner: crate::domain::conversation::Owner,
}

/// ChatServer's event for the other nodes: published once, whoever receives it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct PublishChat {
    pub room: Option<String>,
    pub to_staff: bool,
    pub out: Arc<Outbound>,
}

/// Where events from other nodes go, and the staff online on other nodes.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ChatFromNodes {
    pub events: Recipient<ChatEvent>,
    pub staff: Recipient<RemoteStaff>,
    pub gone: Recipient<NodesGone>,
    pub missed: Recipient<Missed>,
    pub owners: Recipient<RoomOwner>,
    pub share_members: Recipient<ShareMembers>,
    pub members: Recipient<RoomMembers>,
}

/// Nodes arrived (or this one is back after an outage): ChatServer publishes who is
/// in its rooms, so the others' records of this node are whole.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ShareMembers;

/// Someone in a room, as presence events name them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub role: String,
    pub name: String,
}

/// Every room member with a connection on `node`, by room. From ChatServer to
/// publish (`node` empty), and from another node.
#[derive(Debug, Clone, Serialize, Deserialize, Message)]
#[rtype(result = "()")]
pub struct RoomMembers {
    #[serde(skip)]
    pub node: String,
    pub rooms: Vec<(String, Vec<Member>)>,
}

/// Events from other nodes may have been missed since `since` (Redis was away).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Missed {
    pub since: chrono::NaiveDateTime,
}

/// Nodes that dropped out of the cluster (their keys expired), by id.
#[derive(Message)]
#[rtype(result = "()")]
pub struct NodesGone(pub Vec<String>);

/// This node's staff online changed (ChatServer tells).
#[derive(Message)]
#[rtype(result = "()")]
pub struct LocalStaff(pub Vec<StaffMember>);

/// The staff online on the other nodes, by id (sent when it changes).
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoteStaff(pub BTreeMap<String, StaffMember>);

pub struct Cluster {
    settings: ClusterSettings,
    redis: ConnectionManager,
    me: NodeInfo,
    nodes: Vec<NodeInfo>,
    /// Whether the last command reached Redis; since when it has not.
    redis_up: bool,
    down_since: Option<Instant>,
    last_error: Option<String>,
    subscribed: bool,
    /// The probe in flight (nonce, sent at), and when one last came back.
    probe: Option<(u64, Instant)>,
    probe_back: Option<Instant>,
    next_nonce: u64,
    /// A beat is in flight: the next waits for it.
    beating: bool,
    /// ChatServer, for events from other nodes and their staff.
    chat: Option<ChatFromNodes>,
    /// LiveStream, for the stream's changes, viewers and peers on other nodes.
    stream: Option<StreamFromNodes>,
    /// What this node shares, and what the other live nodes share, by node id.
    local: NodeState,
    remote: BTreeMap<String, NodeState>,
    remote_staff: BTreeMap<String, StaffMember>,
    remote_stream: RemoteStream,
    /// The live stream this node shows, whose key it keeps alive.
    live_stream: Option<String>,
    /// Rate limits whose allowance the nodes share, by name.
    allowances: Vec<(&'static str, Arc<dyn SharedAllowance>)>,
    /// Commands (publishes, stores) that failed because Redis was away.
    failed_commands: u64,
}

/// Connect (lazily: a Redis that is away at start is retried, and the node serves
/// its own connections meanwhile) and start the cluster actor.
pub fn start(settings: ClusterSettings) -> Result<Addr<Cluster>, String> {
    let info = settings
        .redis_url
        .as_str()
        .into_connection_info()
        .map_err(|e| format!("REDIS_URL: {e}"))?;
    // RESP3 carries pub/sub messages on the same connection as commands, and lets
    // the connection manager subscribe again by itself after a reconnect.
    let redis_settings = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    let info = info.set_redis_settings(redis_settings);
    let client = redis::Client::open(info).map_err(|e| format!("REDIS_URL: {e}"))?;
    let (push_tx, mut push_rx) = tokio::sync::mpsc::unbounded_channel::<PushInfo>();
    let config = ConnectionManagerConfig::new()
        .set_push_sender(push_tx)
        .set_automatic_resubscription()
        .set_connection_timeout(Some(COMMAND_TIMEOUT))
        .set_response_timeout(Some(COMMAND_TIMEOUT))
        .set_max_delay(Duration::from_secs(1));
    let redis = ConnectionManager::new_lazy_with_config(client, config)
        .map_err(|e| format!("REDIS_URL: {e}"))?;
    let me = NodeInfo::me(&settings);
    Ok(Cluster::create(move |ctx| {
        ctx.add_stream(futures_util::stream::poll_fn(move |cx| {
            push_rx.poll_recv(cx)
        }));
        Cluster {
            settings,
            redis,
            nodes: vec![me.clone()],
            me,
            redis_up: true,
            down_since: None,
            last_error: None,
            subscribed: false,
            probe: None,
            probe_back: None,
            next_nonce: 1,
            beating: false,
            chat: None,
            stream: None,
            local: NodeState::default(),
            remote: BTreeMap::new(),
            remote_staff: BTreeMap::new(),
            remote_stream: RemoteStream::default(),
            live_stream: None,
            allowances: Vec::new(),
            failed_commands: 0,
        }
    }))
}

impl Actor for Cluster {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        log::info!(
            "cluster mode: node {} (Redis keys under {}:)",
            self.settings.node_id,
            self.settings.prefix
        );
        self.beat(ctx);
        ctx.run_interval(BEAT, |act, ctx| act.beat(ctx));
        ctx.run_interval(TAKES_EVERY, |act, ctx| act.hand_over_takes(ctx));
    }
}

impl Cluster {
    /// Say we are alive, read who else is, subscribe if not yet, and probe pub/sub.
    fn beat(&mut self, ctx: &mut Context<Self>) {
        if self.beating {
            return;
        }
        self.beating = true;
        let mut redis = self.redis.clone();
        let settings = self.settings.clone();
        let me = self.me.clone();
        let subscribe = !self.subscribed;
        let probe = self.next_probe();
        let local = self.local.clone();
        let live_stream = self.live_stream.clone();
        let work = async move {
            if subscribe {
                redis.subscribe(settings.channel()).await?;
            }
            let nodes = registry::refresh(&mut redis, &settings, &me).await?;
            let states = node_state::exchange(&mut redis, &settings, &local, &nodes).await?;
            if !local.peers.is_empty() {
                let mut pipe = redis::pipe();
                stream::hold_peers(&settings, &local.peers, &mut pipe);
                pipe.exec_async(&mut redis).await?;
            }
            let mut key_lost = false;
            if let Some(id) = &live_stream {
                let mut pipe = redis::pipe();
                stream::keep(&settings, id, &mut pipe);
                let (kept,): (i64,) = pipe.query_async(&mut redis).await?;
                match kept {
                    0 => log::warn!("another live stream holds the stream key; showing {id}"),
                    2 => key_lost = true,
                    _ => {}
                }
            }
            if let Some(nonce) = probe {
                let mut pipe = redis::pipe();
                if add_publish(&mut pipe, &settings, Body::Probe(nonce)).is_ok() {
                    pipe.exec_async(&mut redis).await?;
                }
            }
            Ok::<_, redis::RedisError>((nodes, states, key_lost))
        };
        ctx.spawn(work.into_actor(self).map(move |result, act, _| {
            act.beating = false;
            match result {
                Ok((nodes, states, key_lost)) => {
                    // Subscribed for the first time, or back after Redis was away:
                    // what was published meanwhile is missed.
                    let outage = act.down_since.filter(|_| !act.redis_up);
                    act.subscribed = true;
                    act.nodes_seen(nodes, outage.is_some());
                    act.reached();
                    act.remote = node_state::merge(&act.remote, states);
                    act.remote_changed();
                    if subscribe || outage.is_some() {
                        act.catch_up(outage);
                    } else if let (true, Some(stream)) = (key_lost, &act.stream) {
                        // LiveStream checks that its stream still runs, and takes the
                        // key again if it does.
                        stream.resync.do_send(Resync);
                    }
                }
                Err(e) => act.unreachable(e),
            }
        }));
    }

    /// The other nodes learn what this node's shared rate limits let through.
    fn hand_over_takes(&mut self, ctx: &mut Context<Self>) {
        let batches: Vec<(&'static str, Vec<(String, u32)>)> = self
            .allowances
            .iter()
            .map(|(name, limiter)| (*name, limiter.drain()))
            .filter(|(_, takes)| !takes.is_empty())
            .collect();
        for (name, takes) in batches {
            self.send(ctx, redis::pipe(), Body::Takes(name.to_owned(), takes));
        }
    }

    /// Tell ChatServer and LiveStream what changed in the other nodes' shares.
    fn remote_changed(&mut self) {
        let staff: BTreeMap<String, StaffMember> = self
            .remote
            .values()
            .flat_map(|s| &s.staff)
            .map(|m| (m.id.clone(), m.clone()))
            .collect();
        if staff != self.remote_staff {
            self.remote_staff = staff;
            if let Some(chat) = &self.chat {
                chat.staff.do_send(RemoteStaff(self.remote_staff.clone()));
            }
        }
        let stream = RemoteStream::of(&self.remote);
        if stream != self.remote_stream {
            self.remote_stream = stream;
            if let Some(live) = &self.stream {
                live.remote.do_send(self.remote_stream.clone());
            }
        }
    }

    /// Our share changed: store it and tell the other nodes now.
    fn share_state(&mut self, ctx: &mut Context<Self>) {
        self.local.version = self.local.next_version();
        let mut pipe = redis::pipe();
        node_state::store(&self.settings, &self.local, &mut pipe);
        self.send(ctx, pipe, Body::State(self.local.clone()));
    }

    /// Publish to the other nodes (after `pipe`'s commands). Spawned in order, and the
    /// connection sends commands in the order they are issued: one node's events reach
    /// Redis in the order it sent them.
    fn send(&mut self, ctx: &mut Context<Self>, mut pipe: redis::Pipeline, body: Body) {
        if let Err(e) = add_publish(&mut pipe, &self.settings, body) {
            log::error!("an event for the other nodes could not be encoded: {e}");
            return;
        }
        self.run(ctx, pipe, "an event was not published to the other nodes");
    }

    /// Run commands in the order they were issued; a failure is logged (at debug: Redis
    /// being away shows in health, not once per command) and counted.
    fn run(&mut self, ctx: &mut Context<Self>, pipe: redis::Pipeline, failed: &'static str) {
        let mut redis = self.redis.clone();
        let work = async move { pipe.exec_async(&mut redis).await };
        ctx.spawn(work.into_actor(self).map(move |result, act, _| {
            if let Err(e) = result {
                act.failed_commands += 1;
                log::debug!("{failed}: {e}");
            }
        }));
    }

    /// A nonce to publish now, unless a probe is still in its window.
    fn next_probe(&mut self) -> Option<u64> {
        if let Some((_, at)) = self.probe {
            if at.elapsed() < PROBE_WINDOW {
                return None;
            }
        }
        let nonce = self.next_nonce;
        self.next_nonce += 1;
        self.probe = Some((nonce, Instant::now()));
        Some(nonce)
    }

    /// The registry read at a beat: ChatServer hears of the nodes that went (or
    /// restarted: a new start time under the same id) and, when nodes arrived, shares
    /// its room members with them. Right after an outage every other node's key may
    /// have expired while it lived on: none counts as gone until the next beat.
    fn nodes_seen(&mut self, nodes: Vec<NodeInfo>, after_outage: bool) {
        let same = |a: &NodeInfo, b: &NodeInfo| a.id == b.id && a.started_at == b.started_at;
        let gone: Vec<String> = self
            .nodes
            .iter()
            .filter(|old| !nodes.iter().any(|n| same(n, old)))
            .map(|old| old.id.clone())
            .collect();
        let arrived = nodes
            .iter()
            .any(|n| !self.nodes.iter().any(|old| same(n, old)));
        if after_outage {
            let kept: Vec<NodeInfo> = self
                .nodes
                .iter()
                .filter(|old| !nodes.iter().any(|n| n.id == old.id))
                .cloned()
                .collect();
            self.nodes = nodes.into_iter().chain(kept).collect();
        } else {
            self.nodes = nodes;
            if let (false, Some(chat)) = (gone.is_empty(), &self.chat) {
                chat.gone.do_send(NodesGone(gone));
            }
        }
        if let (true, Some(chat)) = (arrived || after_outage, &self.chat) {
            chat.share_members.do_send(ShareMembers);
        }
    }

    /// Pub/sub (re)started: LiveStream checks its state, and after an outage (since
    /// `since`, as this node noticed it) ChatServer reads what was written meanwhile.
    fn catch_up(&self, since: Option<Instant>) {
        if let Some(stream) = &self.stream {
            stream.resync.do_send(Resync);
        }
        let (Some(since), Some(chat)) = (since, &self.chat) else {
            return;
        };
        // The outage began before this node noticed it (a beat and a command timeout).
        let ago = since.elapsed() + CATCH_UP_MARGIN;
        let ago = chrono::Duration::from_std(ago).unwrap_or(chrono::Duration::MAX);
        let since = chrono::Utc::now().naive_utc() - ago;
        chat.missed.do_send(Missed { since });
    }

    fn reached(&mut self) {
        if !self.redis_up {
            let down = self.down_since.map(|t| t.elapsed().as_secs_f64());
            log::info!("Redis is back (away {:.1} s)", down.unwrap_or(0.0));
        }
        self.redis_up = true;
        self.down_since = None;
        self.last_error = None;
    }

    fn unreachable(&mut self, e: redis::RedisError) {
        if self.redis_up {
            log::error!("Redis is unreachable: {e}; serving this node's connections only");
            self.down_since = Some(Instant::now());
        }
        self.redis_up = false;
        self.last_error = Some(e.to_string());
        // Subscriptions made before are restored by the connection manager; one that
        // never succeeded is tried again.
    }

    fn pubsub_ok(&self) -> bool {
        self.probe_back
            .is_some_and(|t| t.elapsed() < PROBE_WINDOW + BEAT)
    }

    fn received(&mut self, envelope: Envelope) {
        if envelope.from != self.settings.node_id {
            let m = &self.settings.metrics;
            m.cluster_received.inc();
            if let Some(at) = envelope.at {
                let lag = chrono::Utc::now().timestamp_millis().saturating_sub(at);
                m.cluster_lag.observe(lag.max(0) as f64 / 1000.0);
            }
        }
        match envelope.body {
            Body::Probe(nonce) if envelope.from == self.settings.node_id => {
                if self.probe.is_some_and(|(n, _)| n == nonce) {
                    self.probe = None;
                    let silent_since = self.probe_back.filter(|_| !self.pubsub_ok());
                    self.probe_back = Some(Instant::now());
                    if silent_since.is_some() {
                        log::info!("Redis pub/sub delivers again");
                        self.catch_up(silent_since);
                    }
                }
            }
            Body::Probe(_) => {}
            _ if envelope.from == self.settings.node_id => {}
            Body::Chat(mut event) => {
                if let Some(chat) = &self.chat {
                    event.node = envelope.from;
                    chat.events.do_send(*event);
                }
            }
            Body::State(state) => {
                let newer = self
                    .remote
                    .get(&envelope.from)
                    .is_none_or(|known| known.version < state.version);
                if newer {
                    self.remote.insert(envelope.from, state);
                    self.remote_changed();
                }
            }
            Body::Stream(sync) => {
                if let Some(stream) = &self.stream {
                    stream.events.do_send(*sync);
                }
            }
            Body::Members(mut members) => {
                if let Some(chat) = &self.chat {
                    members.node = envelope.from;
                    chat.members.do_send(members);
                }
            }
            Body::Owner(owner) => {
                if let Some(chat) = &self.chat {
                    chat.owners.do_send(*owner);
                }
            }
            Body::Takes(name, takes) => {
                if let Some((_, limiter)) = self.allowances.iter().find(|(n, _)| *n == name) {
                    for (key, taken) in takes {
                        limiter.charge(&key, taken);
                    }
                }
            }
        }
    }
}

impl Handler<ChatFromNodes> for Cluster {
    type Result = ();

    fn handle(&mut self, msg: ChatFromNodes, _: &mut Context<Self>) {
        self.chat = Some(msg);
    }
}

/// A rate limit whose allowance every node shares (rate limits per identity and per
/// address hold over the cluster, not per node).
#[derive(Message)]
#[rtype(result = "()")]
pub struct ShareAllowance {
    pub name: &'static str,
    pub limiter: Arc<dyn SharedAllowance>,
}

impl Handler<ShareAllowance> for Cluster {
    type Result = ();

    fn handle(&mut self, msg: ShareAllowance, _: &mut Context<Self>) {
        msg.limiter.share();
        self.allowances.push((msg.name, msg.limiter));
    }
}

impl Handler<StreamFromNodes> for Cluster {
    type Result = ();

    fn handle(&mut self, msg: StreamFromNodes, _: &mut Context<Self>) {
        self.stream = Some(msg);
    }
}

impl Handler<LocalStaff> for Cluster {
    type Result = ();

    fn handle(&mut self, msg: LocalStaff, ctx: &mut Context<Self>) {
        if self.local.staff != msg.0 {
            self.local.staff = msg.0;
            self.share_state(ctx);
        }
    }
}

impl Handler<LocalStream> for Cluster {
    type Result = ();

    fn handle(&mut self, msg: LocalStream, ctx: &mut Context<Self>) {
        self.live_stream = msg.live;
        if (self.local.viewers, &self.local.peers) != (msg.viewers, &msg.peers) {
            let gone: Vec<&StreamPeer> = self
                .local
                .peers
                .iter()
                .filter(|p| !msg.peers.iter().any(|q| q.id == p.id))
                .collect();
            if !gone.is_empty() {
                let mut pipe = redis::pipe();
                stream::free_peers(&self.settings, &gone, &mut pipe);
                self.run(ctx, pipe, "a peer id was not let go (it expires)");
            }
            self.local.viewers = msg.viewers;
            self.local.peers = msg.peers;
            self.share_state(ctx);
        }
    }
}

impl Handler<PublishChat> for Cluster {
    type Result = ();

    fn handle(&mut self, msg: PublishChat, ctx: &mut Context<Self>) {
        let body = Body::Chat(Box::new(ChatEvent {
            room: msg.room,
            to_staff: msg.to_staff,
            event: msg.out.event.clone(),
            node: String::new(),
        }));
        self.send(ctx, redis::pipe(), body);
    }
}

impl Handler<RoomMembers> for Cluster {
    type Result = ();

    /// From ChatServer: for the other nodes.
    fn handle(&mut self, msg: RoomMembers, ctx: &mut Context<Self>) {
        self.send(ctx, redis::pipe(), Body::Members(msg));
    }
}

impl Handler<RoomOwner> for Cluster {
    type Result = ();

    /// From ChatServer: for the other nodes.
    fn handle(&mut self, msg: RoomOwner, ctx: &mut Context<Self>) {
        self.send(ctx, redis::pipe(), Body::Owner(Box::new(msg)));
    }
}

impl Handler<PublishStream> for Cluster {
    type Result = ();

    fn handle(&mut self, msg: PublishStream, ctx: &mut Context<Self>) {
        self.send(ctx, redis::pipe(), Body::Stream(Box::new(msg.0)));
    }
}

/// Add the `PUBLISH` of `body`, from this node, on the cluster channel to `pipe`.
fn add_publish(
    pipe: &mut redis::Pipeline,
    settings: &ClusterSettings,
    body: Body,
) -> serde_json::Result<()> {
    let envelope = Envelope {
        from: settings.node_id.clone(),
        at: Some(chrono::Utc::now().timestamp_millis()),
        body,
    };
    settings.metrics.cluster_published.inc();
    pipe.cmd("PUBLISH")
        .arg(settings.channel())
        .arg(serde_json::to_string(&envelope)?)
        .ignore();
    Ok(())
}

impl StreamHandler<PushInfo> for Cluster {
    fn handle(&mut self, push: PushInfo, _: &mut Context<Self>) {
        match push.kind {
            PushKind::Message => {
                let Some(redis::Value::BulkString(payload)) = push.data.get(1) else {
                    return;
                };
                match serde_json::from_slice::<Envelope>(payload) {
                    Ok(envelope) => self.received(envelope),
                    Err(e) => log::warn!("an unreadable message on the cluster channel: {e}"),
                }
            }
            PushKind::Disconnection => {
                log::warn!("the Redis connection dropped; reconnecting");
                self.settings.metrics.cluster_reconnects.inc();
            }
            _ => {}
        }
    }
}

/// What `/health` shows of the cluster.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    pub node_id: String,
    /// "up" or "down".
    pub redis: &'static str,
    /// "ok" when our own probe came back in time, else "silent".
    pub pubsub: &'static str,
    pub redis_error: Option<String>,
    pub redis_down_seconds: Option<f64>,
    pub nodes: Vec<NodeInfo>,
}

impl ClusterStatus {
    /// Redis reachable and pub/sub delivering.
    pub fn healthy(&self) -> bool {
        self.redis == "up" && self.pubsub == "ok"
    }
}

#[derive(Message)]
#[rtype(result = "ClusterStatus")]
pub struct GetClusterStatus;

/// The next turn of the auto-assignment round-robin, shared by the nodes (`None`
/// while Redis is away: the node uses its own).
#[derive(Message)]
#[rtype(result = "Option<u64>")]
pub struct NextTurn;

impl Handler<NextTurn> for Cluster {
    type Result = ResponseFuture<Option<u64>>;

    fn handle(&mut self, _: NextTurn, _: &mut Context<Self>) -> Self::Result {
        let mut redis = self.redis.clone();
        let key = self.settings.key("assign:turn");
        Box::pin(async move {
            let turn: redis::RedisResult<u64> =
                redis::cmd("INCR").arg(key).query_async(&mut redis).await;
            turn.ok().map(|t| t.saturating_sub(1))
        })
    }
}

impl Handler<GetClusterStatus> for Cluster {
    type Result = MessageResult<GetClusterStatus>;

    fn handle(&mut self, _: GetClusterStatus, _: &mut Context<Self>) -> Self::Result {
        MessageResult(ClusterStatus {
            node_id: self.settings.node_id.clone(),
            redis: if self.redis_up { "up" } else { "down" },
            pubsub: if self.pubsub_ok() { "ok" } else { "silent" },
            redis_error: self.last_error.clone(),
            redis_down_seconds: self.down_since.map(|t| t.elapsed().as_secs_f64()),
            nodes: self.nodes.clone(),
        })
    }
}
