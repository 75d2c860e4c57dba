//! Prometheus metrics (`GET /metrics`), one registry per server (no globals, so the
//! servers a test process starts never count each other's events). Counters and
//! histograms move where their events happen; gauges of things the server looks up
//! (conversations by status, agents online, whether the database is up) are set just
//! before each scrape (`api::metrics`). Names follow Prometheus' conventions: prefix
//! `switchboard_`, `_total` on counters, base units (`_seconds`, `_bytes`).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Label sets: fixed names, and values from a small fixed set (an agent's id is the
/// one value from data: agents are few).
type L1 = [(&'static str, &'static str); 1];
type L2 = [(&'static str, &'static str); 2];
type L3 = [(&'static str, &'static str); 3];
type Agent = [(&'static str, String); 1];

/// The carriers a connection uses: a raw WebSocket (`/ws`), or a Socket.IO session
/// over a WebSocket or long-polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    WebSocket,
    SocketIoWebSocket,
    SocketIoPolling,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::WebSocket => "websocket",
            Transport::SocketIoWebSocket => "socketio_websocket",
            Transport::SocketIoPolling => "socketio_polling",
        }
    }
}

/// Frames and bytes one transport carries, resolved once: a delivery then costs two
/// atomic additions, no label lookup.
#[derive(Clone, Default)]
pub struct Traffic {
    frames_in: Counter,
    frames_out: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
}

impl Traffic {
    pub fn received(&self, bytes: usize) {
        self.frames_in.inc();
        self.bytes_in.inc_by(bytes as u64);
    }

    pub fn sent(&self, bytes: usize) {
        self.frames_out.inc();
        self.bytes_out.inc_by(bytes as u64);
    }
}

/// Why a connection (or a Socket.IO socket) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The client closed it (a close frame, or a namespace disconnect).
    ClientClosed,
    /// The connection went away without a close (network, crash, a closed tab).
    ConnectionLost,
    HeartbeatTimeout,
    TooLarge,
    ProtocolError,
    /// Its outbound queue filled (`OUTBOUND_QUEUE`): a slow consumer, cut off.
    SlowConsumer,
    TokenExpired,
    /// The server ended it (a Socket.IO server disconnect).
    ServerClosed,
    /// The server is shutting down.
    ServerRestart,
}

impl Ended {
    /// The WebSocket close code the server sends for it (`None`: it sends none).
    pub fn close_code(self) -> Option<u16> {
        match self {
            Ended::HeartbeatTimeout => Some(1001),
            Ended::TooLarge => Some(1009),
            Ended::ProtocolError => Some(1002),
            Ended::SlowConsumer => Some(1013),
            Ended::TokenExpired => Some(1008),
            Ended::ServerRestart => Some(1012),
            Ended::ClientClosed | Ended::ConnectionLost | Ended::ServerClosed => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Ended::ClientClosed => "client_closed",
            Ended::ConnectionLost => "connection_lost",
            Ended::HeartbeatTimeout => "heartbeat_timeout",
            Ended::TooLarge => "too_large",
            Ended::ProtocolError => "protocol_error",
            Ended::SlowConsumer => "slow_consumer",
            Ended::TokenExpired => "token_expired",
            Ended::ServerClosed => "server_closed",
            Ended::ServerRestart => "server_restart",
        }
    }
}

/// Histogram buckets, each fitting what it measures.
#[derive(Clone, Copy)]
struct Buckets(&'static [f64]);

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

/// A database commit or a wait for a pooled connection: 0.5 ms to 5 s.
const COMMIT: Buckets = Buckets(&[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
]);
/// Writes per transaction (the writer gathers at most 512).
const BATCH: Buckets = Buckets(&[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]);
/// A customer waiting for people: 5 s to 1 day.
const WAIT: Buckets = Buckets(&[
    5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0,
]);
/// A conversation from start to resolved: 1 minute to 1 week.
const RESOLUTION: Buckets = Buckets(&[
    60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0, 259200.0, 604800.0,
]);
/// An event from publish on one node to its arrival on another: 0.5 ms to 5 s.
const LAG: Buckets = COMMIT;

pub struct Metrics {
    registry: Registry,
    // Transport.
    connections: Family<L1, Gauge>,
    sockets: Family<L1, Gauge>,
    connects: Family<L2, Counter>,
    disconnects: Family<L3, Counter>,
    pub websocket: Traffic,
    pub socketio_websocket: Traffic,
    pub socketio_polling: Traffic,
    rate_limited: Family<L1, Counter>,
    recoveries: Family<L1, Counter>,
    pub outbound_cutoffs: Counter,
    // Storage.
    pub db_batch_size: Histogram,
    pub db_commit: Histogram,
    pub db_queue_depth: Gauge,
    pub db_pool_wait: Histogram,
    pub db_pool_errors: Counter,
    pub db_up: Gauge,
    // Support.
    conversations: Family<L1, Gauge>,
    pub queue_wait: Histogram,
    pub first_response: Histogram,
    pub resolution: Histogram,
    messages: Family<L1, Counter>,
    ratings: Family<L1, Counter>,
    pub agents_online: Gauge,
    agent_active: Family<Agent, Gauge>,
    // Live stream.
    pub stream_viewers: Gauge,
    pub stream_live: Gauge,
    pub stream_likes: Counter,
    pub stream_reactions: Counter,
    pub stream_chat_lines: Counter,
    pub stream_chat_skipped: Counter,
    moderation: Family<L1, Counter>,
    signals: Family<L1, Counter>,
    // Cluster.
    pub cluster_lag: Histogram,
    pub cluster_reconnects: Counter,
    pub cluster_gap_fills: Counter,
    pub cluster_published: Counter,
    pub cluster_received: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("switchboard");
        let r = &mut registry;
        let connections = Family::default();
        r.register(
            "connections",
            "Open connections, by transport (websocket, socketio_websocket, socketio_polling)",
            connections.clone(),
        );
        let sockets = Family::default();
        r.register(
            "sockets",
            "Open sessions by dialect: native (/ws), ticket (seed 001), support (seed 003), session (seed 004)",
            sockets.clone(),
        );
        let connects = Family::default();
        r.register(
            "connects",
            "Sessions opened, by transport and dialect",
            connects.clone(),
        );
        let disconnects = Family::default();
        r.register(
            "disconnects",
            "Sessions ended, by transport, dialect and reason",
            disconnects.clone(),
        );
        let frames_in = Family::<L1, Counter>::default();
        r.register(
            "frames_received",
            "Frames (WebSocket messages, Engine.IO packets) received, by transport",
            frames_in.clone(),
        );
        let frames_out = Family::<L1, Counter>::default();
        r.register(
            "frames_sent",
            "Frames (WebSocket messages, Engine.IO packets) sent, by transport",
            frames_out.clone(),
        );
        let bytes_in = Family::<L1, Counter>::default();
        r.register_with_unit(
            "received",
            "Payload bytes received, by transport",
            Unit::Bytes,
            bytes_in.clone(),
        );
        let bytes_out = Family::<L1, Counter>::default();
        r.register_with_unit(
            "sent",
            "Payload bytes sent, by transport",
            Unit::Bytes,
            bytes_out.clone(),
        );
        let traffic = |t: Transport| {
            let l = [("transport", t.as_str())];
            Traffic {
                frames_in: frames_in.get_or_create_owned(&l),
                frames_out: frames_out.get_or_create_owned(&l),
                bytes_in: bytes_in.get_or_create_owned(&l),
                bytes_out: bytes_out.get_or_create_owned(&l),
            }
        };
        let websocket = traffic(Transport::WebSocket);
        let socketio_websocket = traffic(Transport::SocketIoWebSocket);
        let socketio_polling = traffic(Transport::SocketIoPolling);
        let rate_limited = Family::default();
        r.register(
            "rate_limited",
            "Refused for a rate limit: frames (per connection), posts (per identity), addresses (anonymous creations per IP)",
            rate_limited.clone(),
        );
        let recoveries = Family::default();
        r.register(
            "socketio_recoveries",
            "Socket.IO connection state recoveries asked for, by outcome (recovered, not_recovered)",
            recoveries.clone(),
        );
        let outbound_cutoffs = Counter::default();
        r.register(
            "outbound_cutoffs",
            "Connections cut off because their outbound queue was full",
            outbound_cutoffs.clone(),
        );

        let db_batch_size = BATCH.new_metric();
        r.register(
            "db_batch_size",
            "Writes committed per transaction",
            db_batch_size.clone(),
        );
        let db_commit = COMMIT.new_metric();
        r.register_with_unit(
            "db_commit",
            "Time to apply and commit one write transaction",
            Unit::Seconds,
            db_commit.clone(),
        );
        let db_queue_depth = Gauge::default();
        r.register(
            "db_queue_depth",
            "Writes waiting for the writer",
            db_queue_depth.clone(),
        );
        let db_pool_wait = COMMIT.new_metric();
        r.register_with_unit(
            "db_pool_wait",
            "Time waited for a pooled database connection",
            Unit::Seconds,
            db_pool_wait.clone(),
        );
        let db_pool_errors = Counter::default();
        r.register(
            "db_pool_errors",
            "Database connections that could not be had: pool timeouts and failed connects",
            db_pool_errors.clone(),
        );
        let db_up = Gauge::default();
        r.register(
            "db_up",
            "1 when the database answers, else 0",
            db_up.clone(),
        );

        let conversations = Family::default();
        r.register(
            "conversations",
            "Conversations by status (the whole database: the same on every node)",
            conversations.clone(),
        );
        let queue_wait = WAIT.new_metric();
        r.register_with_unit(
            "queue_wait",
            "From a conversation's start to its first agent (accepted or assigned)",
            Unit::Seconds,
            queue_wait.clone(),
        );
        let first_response = WAIT.new_metric();
        r.register_with_unit(
            "first_response",
            "From a conversation's first customer message to the first staff reply",
            Unit::Seconds,
            first_response.clone(),
        );
        let resolution = RESOLUTION.new_metric();
        r.register_with_unit(
            "resolution",
            "From a conversation's start to resolved",
            Unit::Seconds,
            resolution.clone(),
        );
        let messages = Family::default();
        r.register(
            "messages",
            "Support messages stored, by sender kind (customer, guest, agent, admin, system)",
            messages.clone(),
        );
        let ratings = Family::default();
        r.register(
            "ratings",
            "Customers' ratings of resolved conversations, by score (1 to 5), counted by the node that stored each",
            ratings.clone(),
        );
        let agents_online = Gauge::default();
        r.register(
            "agents_online",
            "Staff connected, on any node",
            agents_online.clone(),
        );
        let agent_active = Family::default();
        r.register(
            "agent_active_conversations",
            "Active conversations assigned to each agent",
            agent_active.clone(),
        );

        let stream_viewers = Gauge::default();
        r.register(
            "stream_viewers",
            "Live-stream viewers connected to this node",
            stream_viewers.clone(),
        );
        let stream_live = Gauge::default();
        r.register(
            "stream_live",
            "1 while a live stream is on",
            stream_live.clone(),
        );
        let stream_likes = Counter::default();
        r.register(
            "stream_likes",
            "Likes given to live streams through this node",
            stream_likes.clone(),
        );
        let stream_reactions = Counter::default();
        r.register(
            "stream_reactions",
            "Reactions tapped in live streams on this node",
            stream_reactions.clone(),
        );
        let stream_chat_skipped = Counter::default();
        r.register(
            "stream_chat_skipped",
            "Stream chat lines a slow viewer skipped (its oldest unsent ones)",
            stream_chat_skipped.clone(),
        );
        let stream_chat_lines = Counter::default();
        r.register(
            "stream_chat_lines",
            "Stream chat lines posted through this node",
            stream_chat_lines.clone(),
        );
        let moderation = Family::default();
        r.register(
            "stream_moderation_actions",
            "Stream chat moderation, by action (delete, mute, slow_mode, limits, pin, unpin)",
            moderation.clone(),
        );
        let signals = Family::default();
        r.register(
            "webrtc_signals",
            "WebRTC signals relayed, by kind (offer, answer, ice_candidate)",
            signals.clone(),
        );

        let cluster_lag = LAG.new_metric();
        r.register_with_unit(
            "cluster_pubsub_lag",
            "From an event's publish on another node to its arrival here (the nodes' clocks included)",
            Unit::Seconds,
            cluster_lag.clone(),
        );
        let cluster_reconnects = Counter::default();
        r.register(
            "cluster_reconnects",
            "Times the Redis connection dropped (the client then connects and subscribes again by itself)",
            cluster_reconnects.clone(),
        );
        let cluster_gap_fills = Counter::default();
        r.register(
            "cluster_gap_fills",
            "Conversation seq gaps filled from the database (an event from another node that never came)",
            cluster_gap_fills.clone(),
        );
        let cluster_published = Counter::default();
        r.register(
            "cluster_published",
            "Events published to the other nodes",
            cluster_published.clone(),
        );
        let cluster_received = Counter::default();
        r.register(
            "cluster_received",
            "Events received from the other nodes",
            cluster_received.clone(),
        );

        // Known label values start at 0: a series that exists from the start shows
        // its first event as a change (`rate()`, `increase()`), not as a new series.
        let known = |family: &Family<L1, Counter>, name, values: &[&'static str]| {
            for v in values {
                family.get_or_create_owned(&[(name, *v)]);
            }
        };
        known(&rate_limited, "limit", &["frames", "posts", "addresses"]);
        known(&recoveries, "outcome", &["recovered", "not_recovered"]);
        known(
            &messages,
            "sender",
            &["customer", "guest", "agent", "admin", "system"],
        );
        known(
            &moderation,
            "action",
            &["delete", "mute", "slow_mode", "limits", "pin", "unpin"],
        );
        known(&signals, "kind", &["offer", "answer", "ice_candidate"]);
        known(&ratings, "score", &["1", "2", "3", "4", "5"]);
        for t in [
            Transport::WebSocket,
            Transport::SocketIoWebSocket,
            Transport::SocketIoPolling,
        ] {
            connections.get_or_create_owned(&[("transport", t.as_str())]);
        }
        for d in ["native", "ticket", "support", "session"] {
            sockets.get_or_create_owned(&[("dialect", d)]);
        }
        for status in ["waiting", "active", "resolved", "closed"] {
            conversations.get_or_create_owned(&[("status", status)]);
        }

        Metrics {
            registry,
            connections,
            sockets,
            connects,
            disconnects,
            websocket,
            socketio_websocket,
            socketio_polling,
            rate_limited,
            recoveries,
            outbound_cutoffs,
            db_batch_size,
            db_commit,
            db_queue_depth,
            db_pool_wait,
            db_pool_errors,
            db_up,
            conversations,
            queue_wait,
            first_response,
            resolution,
            messages,
            ratings,
            agents_online,
            agent_active,
            stream_viewers,
            stream_live,
            stream_likes,
            stream_reactions,
            stream_chat_lines,
            stream_chat_skipped,
            moderation,
            signals,
            cluster_lag,
            cluster_reconnects,
            cluster_gap_fills,
            cluster_published,
            cluster_received,
        }
    }

    /// The exposition (OpenMetrics text, which Prometheus reads).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            log::error!("metrics could not be encoded: {e}");
        }
        out
    }

    pub fn traffic(&self, transport: Transport) -> &Traffic {
        match transport {
            Transport::WebSocket => &self.websocket,
            Transport::SocketIoWebSocket => &self.socketio_websocket,
            Transport::SocketIoPolling => &self.socketio_polling,
        }
    }

    /// A carrier opened (+1) or closed (-1).
    pub fn connection(&self, transport: Transport, delta: i64) {
        let g = self
            .connections
            .get_or_create(&[("transport", transport.as_str())]);
        g.inc_by(delta);
    }

    /// A session of `dialect` opened.
    pub fn connected(&self, transport: Transport, dialect: &'static str) {
        self.connects
            .get_or_create(&[("transport", transport.as_str()), ("dialect", dialect)])
            .inc();
        self.open_sockets(dialect, 1);
    }

    /// A session of `dialect` ended.
    pub fn disconnected(&self, transport: Transport, dialect: &'static str, why: Ended) {
        self.disconnects
            .get_or_create(&[
                ("transport", transport.as_str()),
                ("dialect", dialect),
                ("reason", why.as_str()),
            ])
            .inc();
        self.open_sockets(dialect, -1);
    }

    /// A session now speaks another dialect (seed 001 and 004 share a namespace, told
    /// apart by what the client sends).
    pub fn redialect(&self, from: &'static str, to: &'static str) {
        if from != to {
            self.open_sockets(from, -1);
            self.open_sockets(to, 1);
        }
    }

    fn open_sockets(&self, dialect: &'static str, delta: i64) {
        self.sockets
            .get_or_create(&[("dialect", dialect)])
            .inc_by(delta);
    }

    /// `limit`: frames, posts or addresses.
    pub fn rate_limited(&self, limit: &'static str) {
        self.rate_limited.get_or_create(&[("limit", limit)]).inc();
    }

    pub fn recovery(&self, recovered: bool) {
        let outcome = if recovered {
            "recovered"
        } else {
            "not_recovered"
        };
        self.recoveries.get_or_create(&[("outcome", outcome)]).inc();
    }

    /// A stored support message, by its sender's kind.
    pub fn message(&self, sender_kind: &'static str) {
        self.messages
            .get_or_create(&[("sender", sender_kind)])
            .inc();
    }

    /// Conversations by status, as counted now.
    pub fn set_conversations(&self, counts: &[(&'static str, i64)]) {
        for (status, n) in counts {
            self.conversations
                .get_or_create(&[("status", status)])
                .set(*n);
        }
    }

    /// Each agent's active conversations, as counted now (agents with none drop out).
    pub fn set_agent_load(&self, load: &[(String, i64)]) {
        self.agent_active.clear();
        for (agent, n) in load {
            self.agent_active
                .get_or_create(&[("agent", agent.clone())])
                .set(*n);
        }
    }

    /// `action`: delete, mute or slow_mode.
    /// A customer rated a conversation `score` (1 to 5).
    pub fn rated(&self, score: u8) {
        const SCORES: [&str; 5] = ["1", "2", "3", "4", "5"];
        if let Some(label) = SCORES.get(usize::from(score).wrapping_sub(1)) {
            self.ratings.get_or_create(&[("score", label)]).inc();
        }
    }

    pub fn moderated(&self, action: &'static str) {
        self.moderation.get_or_create(&[("action", action)]).inc();
    }

    /// `kind`: offer, answer or ice_candidate.
    pub fn signal(&self, kind: &'static str) {
        self.signals.get_or_create(&[("kind", kind)]).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_families_by_the_conventions() {
        let m = Metrics::new();
        m.connected(Transport::WebSocket, "native");
        m.websocket.sent(10);
        m.db_commit.observe(0.002);
        m.queue_wait.observe(42.0);
        let text = m.render();
        for line in [
            "switchboard_connects_total{transport=\"websocket\",dialect=\"native\"} 1",
            "switchboard_sockets{dialect=\"native\"} 1",
            "switchboard_frames_sent_total{transport=\"websocket\"} 1",
            "switchboard_sent_bytes_total{transport=\"websocket\"} 10",
            "switchboard_db_commit_seconds_count 1",
            "switchboard_queue_wait_seconds_bucket{le=\"60.0\"} 1",
            "# EOF",
        ] {
            assert!(text.contains(line), "{line} missing in\n{text}");
        }
    }
}
