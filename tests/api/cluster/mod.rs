//! Several nodes: real server processes (the built binary) sharing one PostgreSQL
//! schema and one Redis, as a shop runs them. Needs `TEST_DATABASE_URL` and
//! `TEST_REDIS_URL`; without them these tests say so and pass, unless
//! `SB_REQUIRE_CLUSTER=1` (as `.ci/run` sets), which makes that a failure.

mod desk;
mod fanout;
mod limits;
mod metrics;
mod nodes;
mod presence;
mod server_api;
mod sio;
mod stream;
mod webhooks;
mod writes;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::helpers::{bearer, fresh_pg_schema};

pub const SECRET: &str = "cluster-test-secret";

/// The services a cluster test runs on.
pub struct Services {
    pub database_url: String,
    pub redis_url: String,
}

/// The machine's PostgreSQL and Redis, or `None` (and a note) when not configured.
pub fn services() -> Option<Services> {
    let db = std::env::var("TEST_DATABASE_URL").ok();
    let redis = std::env::var("TEST_REDIS_URL").ok();
    match (db, redis) {
        (Some(db), Some(redis)) => {
            // Tell `.ci/run` that a cluster test really ran against this Redis.
            let mut conn = redis::Client::open(redis.as_str())
                .and_then(|c| c.get_connection())
                .unwrap_or_else(|e| panic!("TEST_REDIS_URL is set but Redis is unreachable: {e}"));
            let _: i64 = redis::cmd("INCR")
                .arg("sbtest:cluster-runs")
                .query(&mut conn)
                .expect("INCR");
            Some(Services {
                database_url: fresh_pg_schema(&db),
                redis_url: redis,
            })
        }
        _ if std::env::var("SB_REQUIRE_CLUSTER").as_deref() == Ok("1") => {
            panic!("SB_REQUIRE_CLUSTER=1 but TEST_DATABASE_URL or TEST_REDIS_URL is not set")
        }
        _ => {
            eprintln!("cluster tests skipped: set TEST_DATABASE_URL and TEST_REDIS_URL");
            None
        }
    }
}

/// A running server process.
pub struct NodeProcess {
    pub id: String,
    pub addr: SocketAddr,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    _data: TempDir,
}

/// How to start a node.
pub struct NodeSpec<'a> {
    pub id: &'a str,
    pub database_url: &'a str,
    pub redis_url: Option<&'a str>,
    pub prefix: &'a str,
    /// More settings, as environment variables.
    pub env: &'a [(&'a str, &'a str)],
}

impl NodeProcess {
    /// Start the server binary and wait until it listens (or panic with its log).
    pub fn start(spec: NodeSpec) -> NodeProcess {
        let data = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        cmd.args([
            "--port",
            "0",
            "--node-id",
            spec.id,
            "--redis-prefix",
            spec.prefix,
        ])
        .arg("--data-dir")
        .arg(data.path())
        .args(["--database-url", spec.database_url])
        .env("JWT_SECRET", SECRET)
        .env("RUST_LOG", "info,actix_web=warn")
        .env_remove("REDIS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        cmd.envs(spec.env.iter().copied());
        if let Some(url) = spec.redis_url {
            cmd.args(["--redis-url", url]);
        }
        let mut child = cmd.spawn().expect("start the server binary");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(addr.trim().to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(addr) => addr.parse().expect("an address"),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "node {} did not start:\n{}",
                    spec.id,
                    log.lock().unwrap().join("\n")
                );
            }
        };
        NodeProcess {
            id: spec.id.to_owned(),
            addr,
            child,
            log,
            _data: data,
        }
    }

    /// `kill -9`: no goodbyes.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn data_dir(&self) -> std::path::PathBuf {
        self._data.path().to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A REST call; the status and the JSON answer (`null` when there is none).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let method = awc::http::Method::from_bytes(method.as_bytes()).expect("a method");
        let req = awc::Client::new().request(method, self.url(path));
        let (status, _, json) = crate::helpers::exchange(bearer(req, token), body).await;
        (status, json.unwrap_or(Value::Null))
    }

    /// A `/ws` connection registered as a customer (signed in) or as staff.
    pub async fn ws_as(&self, register: Value) -> crate::helpers::WsClient {
        let (_, framed) = awc::Client::new()
            .ws(format!("ws://{}/ws", self.addr))
            .connect()
            .await
            .unwrap_or_else(|e| panic!("a WebSocket to {}: {e}", self.id));
        let mut ws = crate::helpers::WsClient { framed };
        ws.send(register).await;
        let answer = ws.recv().await;
        assert_eq!(answer["status"], "connected", "{answer}");
        ws
    }

    pub async fn health(&self) -> (u16, Value) {
        let mut res = awc::Client::new()
            .get(self.url("/health"))
            .send()
            .await
            .expect("GET /health");
        let body = res.json::<Value>().await.expect("JSON");
        (res.status().as_u16(), body)
    }

    /// The ids of the nodes this node's `/health` lists.
    pub async fn nodes_seen(&self) -> Vec<String> {
        let (_, h) = self.health().await;
        h["cluster"]["nodes"]
            .as_array()
            .map(|nodes| {
                nodes
                    .iter()
                    .filter_map(|n| n["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Several nodes on one schema and one Redis, under a key prefix of their own.
pub struct Cluster {
    pub nodes: Vec<NodeProcess>,
    prefix: String,
}

/// A token signed with the nodes' secret.
pub fn token(user_id: &str, role: &str) -> String {
    switchboard::auth::JwtKeys::new(SECRET.as_bytes()).mint(
        user_id,
        role,
        &format!("{user_id} name"),
        Duration::from_secs(3600),
    )
}

/// A customer's token with the shop's `attributes` claim.
pub fn token_with(user_id: &str, attributes: Value) -> String {
    let name = format!("{user_id} name");
    let keys = switchboard::auth::JwtKeys::new(SECRET.as_bytes());
    keys.mint_with(
        user_id,
        "customer",
        &name,
        Duration::from_secs(3600),
        Some(attributes),
    )
}

impl Cluster {
    pub fn start(services: &Services, ids: &[&str]) -> Cluster {
        Cluster::start_with(services, ids, &[])
    }

    pub fn start_with(services: &Services, ids: &[&str], env: &[(&str, &str)]) -> Cluster {
        let mut cluster = Cluster {
            nodes: Vec::new(),
            prefix: format!("sbtest-{}", uuid::Uuid::new_v4().simple()),
        };
        for id in ids {
            cluster.join(services, id, env);
        }
        cluster
    }

    /// The Redis key prefix its nodes share.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Start one more node; it is the last of `nodes`.
    pub fn join(&mut self, services: &Services, id: &str, env: &[(&str, &str)]) -> &NodeProcess {
        self.nodes.push(NodeProcess::start(NodeSpec {
            id,
            database_url: &services.database_url,
            redis_url: Some(&services.redis_url),
            prefix: &self.prefix,
            env,
        }));
        &self.nodes[self.nodes.len() - 1]
    }
}

/// Poll `check` until it holds, for at most `limit`; its last value.
pub async fn eventually<T, F, Fut>(limit: Duration, mut check: F) -> (bool, T)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = (bool, T)>,
{
    let deadline = Instant::now() + limit;
    loop {
        let (ok, value) = check().await;
        if ok || Instant::now() >= deadline {
            return (ok, value);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The first frame matching `pred` within `limit`, however long the quiet before it
/// (longer than a frame helper waits: what moves with the cluster's beat and node
/// expiry takes seconds).
pub async fn within(
    ws: &mut crate::helpers::WsClient,
    limit: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    try_within(ws, limit, pred)
        .await
        .unwrap_or_else(|| panic!("no such frame within {limit:?}"))
}

/// The first frame matching `pred` within `limit`, if one comes.
pub async fn try_within(
    ws: &mut crate::helpers::WsClient,
    limit: Duration,
    pred: impl Fn(&Value) -> bool,
) -> Option<Value> {
    use futures::StreamExt;
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = tokio::time::timeout(left, ws.framed.next()).await.ok()?;
        match frame {
            Some(Ok(awc::ws::Frame::Text(text))) => {
                let v: Value = serde_json::from_slice(&text).expect("JSON");
                if pred(&v) {
                    return Some(v);
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => panic!("the connection failed: {e}"),
            None => panic!("the connection ended"),
        }
    }
}

/// A Redis of this test's own, to stop and start again.
pub struct PrivateRedis {
    port: u16,
    child: std::process::Child,
}

impl PrivateRedis {
    pub fn start(port: u16) -> PrivateRedis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        let redis = PrivateRedis { port, child };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on loopback (for a private Redis).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
