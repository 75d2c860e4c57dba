//! Spawn the real server on port 0 with a temp data dir, and talk to it over real sockets.

use std::time::Duration;

use actix_web::dev::ServerHandle;
use awc::ws::{self, Frame};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use switchboard::auth::JwtKeys;
use switchboard::config::Config;
use tempfile::TempDir;

pub const WAIT: Duration = Duration::from_secs(5);

/// Frames about presence, status, typing and reads that arrive beside the frames a test waits for.
pub const SIDE_CHANNEL: [&str; 9] = [
    "conversation_updated",
    "queue_position",
    "agent_updated",
    "participant_joined",
    "participant_left",
    "staff_presence",
    "system_message",
    "typing",
    "messages_read",
];

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    pub handle: ServerHandle,
    pub keys: JwtKeys,
    pub config: Config,
    /// Where `/metrics` is when `metrics_listen` moved it off the main port.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// What SIGTERM runs.
    pub shutdown: switchboard::startup::Shutdown,
    /// Kept alive for the test's duration.
    pub _data: std::sync::Arc<TempDir>,
    /// The test is one browser: the browser-key cookie the server set, sent with every
    /// request of the helpers below (anonymous sessions are bound to it). A client
    /// from another browser is made with `stranger_ws`.
    pub jar: Jar,
}

/// A cookie jar holding the one cookie the server sets.
#[derive(Clone, Default)]
pub struct Jar(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl Jar {
    fn header(&self) -> Option<String> {
        self.0.lock().unwrap().clone()
    }

    /// Keep `name=value` of a `Set-Cookie` answer.
    fn keep(&self, headers: &awc::http::header::HeaderMap) {
        for v in headers.get_all("set-cookie") {
            if let Some(pair) = v.to_str().ok().and_then(|c| c.split(';').next()) {
                *self.0.lock().unwrap() = Some(pair.trim().to_owned());
            }
        }
    }
}

/// A config for tests: port 0, temp data dir, PostgreSQL when `TEST_DATABASE_URL` is set
/// (in a fresh schema of its own, so tests never see each other's rows).
pub fn test_config(data: &TempDir) -> Config {
    // `SB_TEST_LOG=switchboard=info cargo test …` shows the servers' logs.
    if let Ok(filter) = std::env::var("SB_TEST_LOG") {
        let _ = env_logger::Builder::new()
            .parse_filters(&filter)
            .is_test(true)
            .try_init();
    }
    let mut config = Config::defaults();
    config.port = 0;
    config.data_dir = data.path().to_path_buf();
    config.workers = Some(1);
    config.db_pool_size = 4;
    config.jwt_secret = Some("test-secret-with-enough-entropy-1234567890".into());
    config.log = "warn".into();
    // Every test client comes from 127.0.0.1; limits.rs tests the per-IP limit itself.
    config.ip_rate_limit_per_sec = 1e6;
    config.ip_rate_limit_burst = 1e6;
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        config.database_url = Some(fresh_pg_schema(&url));
    }
    config
}

pub fn fresh_pg_schema(url: &str) -> String {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = diesel::PgConnection::establish(url)
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"));
    conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
        .expect("create schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let data = std::sync::Arc::new(TempDir::new().expect("temp dir"));
    let mut config = test_config(&data);
    tweak(&mut config);
    spawn_config(config, data).await
}

/// Start (or restart) a server on an existing data dir and config.
pub async fn spawn_config(config: Config, data: std::sync::Arc<TempDir>) -> TestApp {
    let running = switchboard::startup::start(config.clone()).expect("server starts");
    let handle = running.handle.clone();
    actix_web::rt::spawn(running.server);
    TestApp {
        addr: running.addr,
        handle,
        keys: running.keys,
        metrics_addr: running.metrics_addr,
        shutdown: running.shutdown,
        config,
        _data: data,
        jar: Jar::default(),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn token(&self, user_id: &str, role: &str) -> String {
        self.keys.mint(
            user_id,
            role,
            &format!("{user_id} name"),
            Duration::from_secs(3600),
        )
    }

    /// A signed-in customer's new conversation (`POST /api/v1/chat/sessions`) with a
    /// first message, so it is in the inbox: its id.
    pub async fn session_with(&self, token: &str, subject: &str, message: &str) -> String {
        let body = json!({"subject": subject, "initial_message": message});
        let (status, made) = self
            .call("POST", "/api/v1/chat/sessions", Some(&body), Some(token))
            .await;
        assert_eq!(status, 201, "{made}");
        made["data"]["id"].as_str().expect("an id").to_owned()
    }

    /// The agent takes the conversation (`POST /api/v1/chat/sessions/{id}/assign`).
    pub async fn assign(&self, id: &str, agent_token: &str) {
        let path = format!("/api/v1/chat/sessions/{id}/assign");
        let (status, body) = self.call("POST", &path, None, Some(agent_token)).await;
        assert_eq!(status, 200, "{body}");
    }

    /// A token with the shop's `attributes` claim.
    pub fn token_with(&self, user_id: &str, role: &str, attributes: Value) -> String {
        let hour = Duration::from_secs(3600);
        let name = format!("{user_id} name");
        self.keys
            .mint_with(user_id, role, &name, hour, Some(attributes))
    }

    pub async fn ws(&self) -> WsClient {
        self.ws_at("/ws").await
    }

    pub async fn ws_at(&self, path: &str) -> WsClient {
        self.ws_from(path, Some(&self.jar)).await
    }

    /// This test's browser cookie (`name=value`), once the server has set one.
    pub fn jar_cookie(&self) -> Option<String> {
        self.jar.header()
    }

    /// A WebSocket from another browser: no cookie sent, none kept.
    pub async fn stranger_ws(&self) -> WsClient {
        self.ws_from("/ws", None).await
    }

    async fn ws_from(&self, path: &str, jar: Option<&Jar>) -> WsClient {
        let mut ws = awc::Client::new()
            .ws(format!("ws://{}{}", self.addr, path))
            .max_frame_size(16 * 1024 * 1024);
        if let Some(cookie) = jar.and_then(Jar::header) {
            ws = ws.set_header("cookie", cookie);
        }
        let (res, framed) = ws.connect().await.expect("websocket connects");
        if let Some(jar) = jar {
            jar.keep(res.headers());
        }
        WsClient { framed }
    }

    /// A request as this test's browser sends it: with its cookie.
    pub fn request(
        &self,
        method: awc::http::Method,
        path: &str,
        token: Option<&str>,
    ) -> awc::ClientRequest {
        let mut req = bearer(awc::Client::new().request(method, self.url(path)), token);
        if let Some(cookie) = self.jar.header() {
            req = req.insert_header(("cookie", cookie));
        }
        req
    }

    /// A customer connection registered on `session_id`.
    pub async fn customer(&self, session_id: &str, token: Option<&str>) -> WsClient {
        let mut c = self.ws().await;
        c.send(json!({"type": "register", "sessionId": session_id, "token": token}))
            .await;
        let mut r = c.recv().await;
        // Anonymous sessions come with their secret; signed-in ones without.
        let secret = r.as_object_mut().and_then(|o| o.remove("sessionSecret"));
        assert_eq!(secret.is_some(), token.is_none(), "{r}");
        assert_eq!(
            r,
            json!({"type": "registered", "sessionId": session_id, "status": "connected"})
        );
        c
    }

    /// A staff connection registered as `user_id` with `role`.
    pub async fn staff(&self, user_id: &str, role: &str) -> WsClient {
        let mut c = self.ws().await;
        c.send(json!({"type": "register_admin", "userId": user_id, "token": self.token(user_id, role)})).await;
        let r = c.recv().await;
        assert_eq!(
            r,
            json!({"type": "admin_registered", "userId": user_id, "status": "connected"})
        );
        c
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let req = self.request(awc::http::Method::GET, path, token);
        let mut resp = req.send().await.expect("GET");
        self.jar.keep(resp.headers());
        let body = resp
            .json::<Value>()
            .limit(16 * 1024 * 1024)
            .await
            .expect("JSON body");
        (resp.status().as_u16(), body)
    }

    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> (u16, Value) {
        let req = self.request(awc::http::Method::POST, path, token);
        let mut resp = req.send_json(body).await.expect("POST");
        self.jar.keep(resp.headers());
        (
            resp.status().as_u16(),
            resp.json::<Value>().await.expect("JSON body"),
        )
    }

    /// Seed 003's widget opening: the signed-in customer's open conversation of this
    /// type (`GET /api/support/conversation?type=`), made if there is none.
    pub async fn my_conversation(&self, token: &str, kind: &str) -> (u16, Value) {
        let path = format!("/api/support/conversation?type={kind}");
        self.call("GET", &path, None, Some(token)).await
    }

    /// Any method with an optional JSON body and token.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let method = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let (status, headers, json) = exchange(self.request(method, path, token), body).await;
        self.jar.keep(&headers);
        (status, json.expect("JSON body"))
    }

    pub async fn post_raw(&self, path: &str, body: &'static str) -> (u16, Value) {
        let mut resp = self
            .request(awc::http::Method::POST, path, None)
            .insert_header(("content-type", "application/json"))
            .send_body(body)
            .await
            .expect("POST");
        (
            resp.status().as_u16(),
            resp.json::<Value>().await.expect("JSON body"),
        )
    }

    /// Stop the server as SIGTERM does (draining) and start it again on the same data,
    /// the same browser calling.
    pub async fn restart_gracefully(self) -> TestApp {
        self.shutdown.run().await;
        let mut app = spawn_config(self.config, self._data).await;
        app.jar = self.jar;
        app
    }

    /// Stop the server and start it again on the same data, the same browser calling.
    pub async fn restart(self) -> TestApp {
        self.handle.stop(true).await;
        let mut app = spawn_config(self.config, self._data).await;
        app.jar = self.jar;
        app
    }
}

/// One `/metrics` scrape: each sample's value, by its name and labels as the
/// exposition writes them (`switchboard_connects_total{transport="websocket",…}`).
#[derive(Debug)]
pub struct Scrape(pub std::collections::HashMap<String, f64>);

impl Scrape {
    /// Scrape the server at `base` (`http://host:port`).
    pub async fn of(base: &str) -> Scrape {
        let mut res = awc::Client::new()
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("GET /metrics");
        assert_eq!(res.status().as_u16(), 200, "GET /metrics");
        let body = res.body().limit(4 * 1024 * 1024).await.expect("body");
        Scrape::parse(std::str::from_utf8(&body).expect("UTF-8"))
    }

    pub fn parse(text: &str) -> Scrape {
        let samples = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| {
                let (name, value) = l.rsplit_once(' ')?;
                Some((name.to_owned(), value.parse().ok()?))
            })
            .collect();
        Scrape(samples)
    }

    /// A sample's value; 0 when it is not there (a counter not yet moved).
    pub fn get(&self, sample: &str) -> f64 {
        self.0.get(sample).copied().unwrap_or(0.0)
    }
}

impl TestApp {
    pub async fn metrics(&self) -> Scrape {
        Scrape::of(&format!("http://{}", self.addr)).await
    }

    /// Scrape until `ok` holds (a connection is counted as it stops, just after its
    /// client has seen the close), for up to `WAIT`.
    pub async fn metrics_until(&self, what: &str, ok: impl Fn(&Scrape) -> bool) -> Scrape {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let m = self.metrics().await;
            if ok(&m) {
                return m;
            }
            assert!(tokio::time::Instant::now() < deadline, "{what}: {m:#?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Scrape until `sample` is `want`.
    pub async fn metric_reaches(&self, sample: &str, want: f64) -> Scrape {
        self.metrics_until(&format!("{sample} = {want}"), |m| m.get(sample) == want)
            .await
    }
}

/// A `switchboard_disconnects_total` sample of the native `/ws` dialect.
pub fn ws_disconnects(reason: &str) -> String {
    format!(
        "switchboard_disconnects_total{{transport=\"websocket\",dialect=\"native\",reason=\"{reason}\"}}"
    )
}

/// `req` with the token, if any, as a bearer.
pub fn bearer(req: awc::ClientRequest, token: Option<&str>) -> awc::ClientRequest {
    match token {
        Some(t) => req.insert_header(("Authorization", format!("Bearer {t}"))),
        None => req,
    }
}

/// Send `req` with an optional JSON body: the answer's status, headers, and JSON body
/// (`None` when it has none).
pub async fn exchange(
    req: awc::ClientRequest,
    body: Option<&Value>,
) -> (u16, awc::http::header::HeaderMap, Option<Value>) {
    let mut resp = match body {
        Some(b) => req.send_json(b).await,
        None => req.send().await,
    }
    .expect("request");
    let json = resp.json::<Value>().limit(16 * 1024 * 1024).await.ok();
    (resp.status().as_u16(), resp.headers().clone(), json)
}

pub struct WsClient {
    pub framed: actix_codec::Framed<awc::BoxedSocket, ws::Codec>,
}

/// What the next meaningful frame was.
#[derive(Debug)]
pub enum Next {
    Json(Value),
    Closed(Option<ws::CloseReason>),
    Ended,
}

impl WsClient {
    pub async fn send(&mut self, v: Value) {
        self.send_text(v.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.framed
            .send(ws::Message::Text(text.into()))
            .await
            .expect("send frame");
    }

    /// The next text frame or close, skipping pings (answered) and pongs.
    pub async fn next(&mut self) -> Next {
        loop {
            let frame = tokio::time::timeout(WAIT, self.framed.next())
                .await
                .expect("a frame in time");
            match frame {
                Some(Ok(Frame::Text(b))) => {
                    return Next::Json(serde_json::from_slice(&b).expect("server sends JSON"))
                }
                Some(Ok(Frame::Ping(p))) => {
                    let _ = self.framed.send(ws::Message::Pong(p)).await;
                }
                Some(Ok(Frame::Close(reason))) => return Next::Closed(reason),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Next::Ended,
            }
        }
    }

    pub async fn recv(&mut self) -> Value {
        match self.next().await {
            Next::Json(v) => v,
            other => panic!("expected a JSON frame, got {other:?}"),
        }
    }

    /// The next frame that is not a side-channel one.
    pub async fn recv_main(&mut self) -> Value {
        loop {
            let v = self.recv().await;
            if !SIDE_CHANNEL.contains(&v["type"].as_str().unwrap_or_default()) {
                return v;
            }
        }
    }

    /// The next frame of `kind`, passing over side-channel frames (presence, status,
    /// typing, read) that any client may receive in between; any other frame fails.
    pub async fn recv_type(&mut self, kind: &str) -> Value {
        loop {
            let v = self.recv().await;
            if v["type"] == kind {
                return v;
            }
            let t = v["type"].as_str().unwrap_or_default();
            assert!(SIDE_CHANNEL.contains(&t), "expected {kind}, got {v}");
        }
    }

    /// Read frames until one matches (stream updates interleave with everything else).
    pub async fn recv_until(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self.recv().await;
            if pred(&v) {
                return v;
            }
        }
    }

    /// The next frame must be `{"type":"error","message":message}`.
    pub async fn expect_error(&mut self, message: &str) -> Value {
        let v = self.recv_type("error").await;
        assert_eq!(v["message"], message, "unexpected error {v}");
        v
    }

    /// Every JSON frame that arrives within `ms` milliseconds, side-channel ones too.
    pub async fn frames_for(&mut self, ms: u64) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        let mut got = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, self.framed.next()).await {
                Err(_) => return got,
                Ok(Some(Ok(Frame::Text(b)))) => {
                    got.push(serde_json::from_slice(&b).expect("JSON"));
                }
                Ok(Some(Ok(Frame::Ping(p)))) => {
                    let _ = self.framed.send(ws::Message::Pong(p)).await;
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => return got,
            }
        }
    }

    /// No frame other than side-channel ones arrives for `ms` milliseconds, and the
    /// connection stays open.
    pub async fn expect_silence(&mut self, ms: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        loop {
            match tokio::time::timeout_at(deadline, self.framed.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Frame::Text(b)))) => {
                    let v: Value = serde_json::from_slice(&b).expect("JSON");
                    let t = v["type"].as_str().unwrap_or_default();
                    assert!(SIDE_CHANNEL.contains(&t), "expected silence, got {v}");
                }
                Ok(Some(Ok(Frame::Ping(p)))) => {
                    let _ = self.framed.send(ws::Message::Pong(p)).await;
                }
                Ok(Some(Ok(Frame::Close(r)))) => {
                    panic!("expected silence, the connection closed: {r:?}")
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(e))) => panic!("expected silence, the connection failed: {e}"),
                Ok(None) => panic!("expected silence, the connection ended"),
            }
        }
    }

    /// The connection still answers.
    pub async fn assert_alive(&mut self) {
        self.send(json!({"type": "ping"})).await;
        self.recv_type("pong").await;
    }
}

/// A unique id for sessions and users, so tests sharing a database never collide.
pub fn uid(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// The texts of a history answer's messages, in order.
pub fn texts(history: &Value) -> Vec<&str> {
    history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["message"].as_str().expect("text"))
        .collect()
}

/// The seqs of a history answer's messages, in order.
pub fn seqs(history: &Value) -> Vec<i64> {
    history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect()
}

/// A multipart/form-data body: text fields, then files as `attachments`.
pub fn form(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----switchboard-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    for (file_name, content_type, bytes) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub async fn send_form(
    app: &TestApp,
    path: &str,
    token: &str,
    form: (String, Vec<u8>),
) -> (u16, Value) {
    send_form_to(&app.url(path), token, form).await
}

/// A multipart POST to `url` (any server, a cluster's node say).
pub async fn send_form_to(url: &str, token: &str, form: (String, Vec<u8>)) -> (u16, Value) {
    // Room for an 11 MB body on a loaded machine (awc waits 5 s by default).
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .finish();
    let mut resp = client
        .post(url)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("content-type", form.0))
        .send_body(form.1)
        .await
        .expect("POST form");
    let status = resp.status().as_u16();
    (status, resp.json::<Value>().await.expect("JSON"))
}

/// The real server binary in a process of its own, its log kept line by line.
pub struct Binary {
    pub child: std::process::Child,
    pub lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// `host:port` it listens on.
    pub addr: String,
}

impl Binary {
    /// Start it with `env` (over a port-0, `info`-logging default) and wait until it
    /// listens.
    pub async fn start(env: &[(&str, &str)]) -> Binary {
        use std::io::BufRead;
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"));
        cmd.env("PORT", "0")
            .env("JWT_SECRET", "test-secret-with-enough-entropy-1234567890")
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the server binary starts");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr");
        let kept = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                kept.lock().unwrap().push(line);
            }
        });
        let mut binary = Binary {
            child,
            lines,
            addr: String::new(),
        };
        let line = binary
            .wait_line("listening on ", Duration::from_secs(20))
            .await;
        let (_, rest) = line.split_once("://").expect("a listen address");
        binary.addr = rest
            .split(|c: char| c == '"' || c.is_whitespace())
            .next()
            .unwrap_or_default()
            .to_owned();
        binary
    }

    /// The first log line containing `text`, waited for up to `limit`.
    pub async fn wait_line(&self, text: &str, limit: Duration) -> String {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(l) = self.lines.lock().unwrap().iter().find(|l| l.contains(text)) {
                return l.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no log line with {text:?} in {:#?}",
                self.lines.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Send a signal (`TERM`, `HUP`, …).
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{name}");
    }

    /// Wait for the process to exit, up to `limit`.
    pub async fn exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "still running after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw Engine.IO long-polling session (for protocol-level checks without a client
/// library): its URL with the `sid`.
pub struct Polling(pub String);

impl Polling {
    /// Open one on the server at `base` (`http://host:port`).
    pub async fn open(base: &str) -> Polling {
        let eio = format!("{base}/socket.io/?EIO=4&transport=polling");
        let mut res = awc::Client::new().get(&eio).send().await.expect("open");
        let open = String::from_utf8(res.body().await.expect("body").to_vec()).expect("UTF-8");
        let open: Value = serde_json::from_str(&open[1..]).expect("open packet");
        Polling(format!("{eio}&sid={}", open["sid"].as_str().expect("sid")))
    }

    /// POST packets (joined by the record separator).
    pub async fn post(&self, packets: &str) {
        let posted = awc::Client::new()
            .post(&self.0)
            .send_body(packets.to_owned())
            .await
            .expect("POST");
        assert_eq!(posted.status().as_u16(), 200);
    }

    /// The next poll's body; `None` once the session is gone.
    pub async fn poll(&self) -> Option<String> {
        let mut res = awc::Client::new()
            .get(&self.0)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .ok()?;
        let body = res.body().await.ok()?;
        Some(String::from_utf8(body.to_vec()).expect("UTF-8"))
    }

    /// POST packets, then poll what came back.
    pub async fn exchange(&self, packets: &str) -> String {
        self.post(packets).await;
        self.poll().await.expect("a poll")
    }
}
