//! Cluster mode itself: which nodes see which, a node that dies, Redis going away.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use super::*;

#[test]
fn cluster_mode_needs_postgresql() {
    let data = tempfile::tempdir().expect("temp dir");
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["--port", "0", "--redis-url", "redis://127.0.0.1:6379"])
        .arg("--data-dir")
        .arg(data.path())
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run the server binary");
    assert!(!out.status.success(), "it must not start on SQLite");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("REDIS_URL (cluster mode) needs PostgreSQL"),
        "{stderr}"
    );
}

#[actix_web::test]
async fn nodes_see_each_other_and_a_killed_node_drops_out() {
    let Some(services) = services() else { return };
    let mut cluster = Cluster::start(&services, &["node-a", "node-b", "node-c"]);
    for node in &cluster.nodes {
        let (ok, seen) = eventually(Duration::from_secs(5), || async {
            let seen = node.nodes_seen().await;
            (seen == ["node-a", "node-b", "node-c"], seen)
        })
        .await;
        assert!(ok, "{} sees {seen:?}", node.id);
        let (status, health) = node.health().await;
        assert_eq!(status, 200, "{health}");
        assert_eq!(health["status"], "ok", "{health}");
        assert_eq!(health["cluster"]["nodeId"], node.id.as_str());
        assert_eq!(health["cluster"]["redis"], "up");
        assert_eq!(health["cluster"]["pubsub"], "ok", "{health}");
    }
    cluster.nodes[1].kill();
    let (ok, seen) = eventually(Duration::from_secs(8), || async {
        let seen = cluster.nodes[0].nodes_seen().await;
        (seen == ["node-a", "node-c"], seen)
    })
    .await;
    assert!(ok, "node-a still sees {seen:?}\n{}", cluster.nodes[0].log());
}

#[actix_web::test]
async fn redis_going_away_shows_in_health_and_the_node_keeps_serving() {
    let Some(services) = services() else { return };
    let port = free_port();
    let redis = PrivateRedis::start(port);
    let node = NodeProcess::start(NodeSpec {
        id: "lonely",
        database_url: &services.database_url,
        redis_url: Some(&redis.url()),
        prefix: "sbtest-outage",
        env: &[],
    });
    let (ok, health) = eventually(Duration::from_secs(5), || async {
        let (_, h) = node.health().await;
        (h["status"] == "ok", h)
    })
    .await;
    assert!(ok, "{health}");

    drop(redis);
    let (ok, health) = eventually(Duration::from_secs(6), || async {
        let (status, h) = node.health().await;
        (status == 200 && h["cluster"]["redis"] == "down", h)
    })
    .await;
    assert!(ok, "the outage shows: {health}");
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["cluster"]["pubsub"], "silent");
    let (ready, body) = node.call("GET", "/health/ready", None, None).await;
    assert_eq!((ready, &body["redis"]), (503, &json!("down")), "{body}");
    assert!(health["cluster"]["redisError"].is_string(), "{health}");

    // Its own connections are still served meanwhile.
    let (_, framed) = awc::Client::new()
        .ws(format!("ws://{}/ws", node.addr))
        .connect()
        .await
        .expect("a WebSocket during the outage");
    let mut client = crate::helpers::WsClient { framed };
    client
        .send(json!({"type": "register", "sessionId": "redis-outage-session-1"}))
        .await;
    assert_eq!(client.recv().await["type"], "registered");
    client
        .send(
            json!({"type": "customer_message", "message": "while Redis is away", "clientId": "o1"}),
        )
        .await;
    assert_eq!(client.recv_type("message_ack").await["clientId"], "o1");

    let _redis = PrivateRedis::start(port);
    let (ok, health) = eventually(Duration::from_secs(10), || async {
        let (_, h) = node.health().await;
        (h["status"] == "ok", h)
    })
    .await;
    assert!(ok, "back after Redis returns: {health}\n{}", node.log());
    assert_eq!(health["cluster"]["pubsub"], "ok");
    let m = crate::helpers::Scrape::of(&format!("http://{}", node.addr)).await;
    assert!(
        m.get("switchboard_cluster_reconnects_total") >= 1.0,
        "{m:#?}"
    );
    let (ready, body) = node.call("GET", "/health/ready", None, None).await;
    assert_eq!((ready, &body["status"]), (200, &json!("ready")), "{body}");
}

/// Socket.IO long-polling needs sticky sessions: a poll that reaches a node other
/// than the session's gets the protocol's error at once, so the client starts over
/// (with a working proxy config it never happens).
#[actix_web::test]
async fn a_poll_for_a_session_held_by_another_node_gets_the_protocol_error_at_once() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["poll-a", "poll-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let mut res = awc::Client::new()
        .get(a.url("/socket.io/?EIO=4&transport=polling"))
        .send()
        .await
        .expect("handshake");
    assert_eq!(res.status(), 200);
    let body = String::from_utf8(res.body().await.expect("body").to_vec()).expect("text");
    let open: serde_json::Value = serde_json::from_str(&body[1..]).expect("an open packet");
    let sid = open["sid"].as_str().expect("a sid");
    let poll = awc::Client::new()
        .get(b.url(&format!("/socket.io/?EIO=4&transport=polling&sid={sid}")))
        .send();
    let mut res = tokio::time::timeout(Duration::from_secs(2), poll)
        .await
        .expect("an answer, not a hang")
        .expect("poll");
    assert_eq!(res.status(), 400);
    let body = res.body().await.expect("body");
    assert_eq!(&body[..], br#"{"code":1,"message":"Session ID unknown"}"#);
}

/// Frames of one client, kept as they come while it waits for its own answers.
struct Inbox {
    ws: crate::helpers::WsClient,
    seen: Vec<Value>,
}

impl Inbox {
    /// Send a message and wait for its ack (its seq), keeping what else arrives.
    async fn post(&mut self, frame: Value) -> i64 {
        self.ws.send(frame).await;
        loop {
            let v = self.ws.recv().await;
            if v["type"] == "message_ack" {
                return v["seq"].as_i64().expect("a seq");
            }
            assert_ne!(v["type"], "error", "{v}");
            self.seen.push(v);
        }
    }

    /// The seqs of the frames of `kind` seen, in arrival order.
    fn seqs(&self, kind: &str) -> Vec<i64> {
        self.seen
            .iter()
            .filter(|v| v["type"] == kind)
            .filter_map(|v| v["seq"].as_i64())
            .collect()
    }

    /// Read on until `done` holds of the seqs of `kind`, for at most `limit`.
    async fn until(&mut self, kind: &str, limit: Duration, done: impl Fn(&[i64]) -> bool) {
        let deadline = std::time::Instant::now() + limit;
        while !done(&self.seqs(kind)) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match try_within(&mut self.ws, left, |_| true).await {
                Some(v) => self.seen.push(v),
                None => panic!("{kind}: only seqs {:?} arrived", self.seqs(kind)),
            }
        }
    }
}

/// A customer and an agent writing to each other, a message each per round.
struct Load {
    customer: Inbox,
    agent: Inbox,
    session: String,
    round: usize,
    /// The acknowledged seqs of each side's messages.
    from_customer: Vec<i64>,
    from_agent: Vec<i64>,
}

impl Load {
    async fn round(&mut self) {
        self.round += 1;
        let text = format!("c{}", self.round);
        let c = self
            .customer
            .post(json!({"type": "customer_message", "message": text}))
            .await;
        self.from_customer.push(c);
        let text = format!("s{}", self.round);
        let s = self
            .agent
            .post(json!({"type": "staff_message", "sessionId": self.session, "content": text}))
            .await;
        self.from_agent.push(s);
    }

    /// Each side has seen, in seq order and once, every message the other's node
    /// acknowledged (waiting for them up to 10 s).
    async fn all_seen(&mut self) {
        let limit = Duration::from_secs(10);
        let last = *self.from_customer.last().expect("messages");
        self.agent
            .until("customer_message", limit, |s| s.contains(&last))
            .await;
        let last = *self.from_agent.last().expect("messages");
        self.customer
            .until("staff_reply", limit, |s| s.contains(&last))
            .await;
        assert_eq!(
            self.agent.seqs("customer_message"),
            self.from_customer,
            "what the agent saw"
        );
        assert_eq!(
            self.customer.seqs("staff_reply"),
            self.from_agent,
            "what the customer saw"
        );
    }

    /// Rounds until `node`'s health satisfies `until`, for at most `limit`.
    async fn until_health(
        &mut self,
        node: &NodeProcess,
        until: impl Fn(&Value) -> bool,
        limit: Duration,
    ) {
        let deadline = std::time::Instant::now() + limit;
        loop {
            self.round().await;
            let (_, health) = node.health().await;
            if until(&health) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "health never showed it: {health}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[actix_web::test]
async fn a_redis_restart_under_load_loses_nothing_acknowledged() {
    let Some(services) = services() else { return };
    let port = free_port();
    let redis = PrivateRedis::start(port);
    let prefix = format!("sbtest-restart-{}", uuid::Uuid::new_v4().simple());
    let env = [
        ("IDENTITY_RATE_LIMIT_PER_SEC", "1000"),
        ("IDENTITY_RATE_LIMIT_BURST", "1000"),
    ];
    let url = redis.url();
    let spec = |id| NodeSpec {
        id,
        database_url: &services.database_url,
        redis_url: Some(&url),
        prefix: &prefix,
        env: &env,
    };
    let (a, b) = (
        NodeProcess::start(spec("restart-a")),
        NodeProcess::start(spec("restart-b")),
    );
    let (ok, _) = eventually(Duration::from_secs(5), || async {
        let seen = b.nodes_seen().await;
        (seen.len() == 2, seen)
    })
    .await;
    assert!(ok, "the nodes see each other");
    let session = format!("restart-{}", uuid::Uuid::new_v4().simple());
    let agent = b
        .ws_as(json!({"type": "register_admin", "userId": "restart-agent", "token": token("restart-agent", "agent")}))
        .await;
    let customer = a
        .ws_as(json!({"type": "register", "sessionId": session, "token": token("restart-customer", "customer")}))
        .await;
    let mut load = Load {
        customer: Inbox {
            ws: customer,
            seen: Vec::new(),
        },
        agent: Inbox {
            ws: agent,
            seen: Vec::new(),
        },
        session,
        round: 0,
        from_customer: Vec::new(),
        from_agent: Vec::new(),
    };

    // Messages flow both ways before, during and after the outage, which shows.
    for _ in 0..5 {
        load.round().await;
    }
    drop(redis);
    let down = |h: &Value| h["cluster"]["redis"] == "down" && h["status"] == "degraded";
    load.until_health(&a, down, Duration::from_secs(10)).await;
    for _ in 0..5 {
        load.round().await;
    }
    let _redis = PrivateRedis::start(port);
    for node in [&a, &b] {
        let (ok, health) = eventually(Duration::from_secs(15), || async {
            let (_, h) = node.health().await;
            (h["status"] == "ok", h)
        })
        .await;
        assert!(ok, "back after Redis returns: {health}");
    }

    // With no message since Redis came back (none to reveal a gap), each node has read
    // what it missed: every acknowledged message reached the other side once, in order.
    let mut all: Vec<i64> = load
        .from_customer
        .iter()
        .chain(&load.from_agent)
        .copied()
        .collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=all.len() as i64).collect::<Vec<_>>(),
        "seq gap-free"
    );
    load.all_seen().await;
    // And the conversation goes on.
    for _ in 0..3 {
        load.round().await;
    }
    load.all_seen().await;
}

/// Whatever else arrives on the cluster channel (garbage, unknown kinds, wrong
/// shapes, absurd numbers) is logged and dropped: the nodes go on.
#[actix_web::test]
async fn bad_messages_on_the_cluster_channel_change_nothing() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["junk-a", "junk-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let (ok, _) = eventually(Duration::from_secs(5), || async {
        let seen = b.nodes_seen().await;
        (seen.len() == 2, seen)
    })
    .await;
    assert!(ok, "the nodes see each other");
    let mut redis = redis::Client::open(services.redis_url.as_str())
        .and_then(|c| c.get_connection())
        .expect("Redis");
    let channel = format!("{}:events", cluster.prefix());
    let junk = [
        "not json".to_owned(),
        r#"{"from":"x","body":{"noSuchKind":1}}"#.to_owned(),
        r#"{"from":"x","body":{"chat":{"room":7}}}"#.to_owned(),
        r#"{"from":"x","body":{"state":{"version":1,"staff":[],"viewers":18446744073709551615,"peers":[]}}}"#.to_owned(),
        r#"{"from":"y","body":{"state":{"version":1,"staff":[],"viewers":18446744073709551615,"peers":[]}}}"#.to_owned(),
        r#"{"from":"x","body":{"stream":{"rules":{"ban":{"userId":"s","name":"","reason":"","until":"not a time","bannedBy":"x","createdAt":"x"}}}}}"#.to_owned(),
        r#"{"from":"x","body":{"takes":["posts",[["user:u",4294967295]]]}}"#.to_owned(),
    ];
    for payload in &junk {
        redis::cmd("PUBLISH")
            .arg(&channel)
            .arg(payload)
            .exec(&mut redis)
            .expect("PUBLISH");
    }

    // Both nodes still answer and still carry a conversation between them.
    let session = format!("junk-{}", uuid::Uuid::new_v4().simple());
    let mut agent = b
        .ws_as(json!({"type": "register_admin", "userId": "junk-agent", "token": token("junk-agent", "agent")}))
        .await;
    let mut customer = a
        .ws_as(json!({"type": "register", "sessionId": session, "token": token("junk-customer", "customer")}))
        .await;
    customer
        .send(json!({"type": "customer_message", "message": "still here"}))
        .await;
    customer.recv_type("message_ack").await;
    assert_eq!(
        agent.recv_type("customer_message").await["message"],
        "still here"
    );
    for node in [a, b] {
        let (status, health) = node.health().await;
        assert_eq!(status, 200, "{health}");
    }
}
