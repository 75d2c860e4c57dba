//! The database goes away under connected clients, and comes back. The server is the
//! real binary in a process of its own (its log is read), and the outage is real:
//! - SQLite: another process's connection holds the database's write lock, as a
//!   backup or a maintenance script would (as root, file permissions would not stop
//!   the server, so "make the file unwritable" cannot be staged here);
//! - PostgreSQL (`TEST_DATABASE_URL`): the server reaches PostgreSQL through a TCP
//!   relay that the test cuts (connections refused, open ones reset), as a stopped
//!   server does, without stopping the machine's PostgreSQL under the other tests.
//!
//! Wanted: fast clear errors (`unavailable`, 503 with Retry-After, each dialect's
//! error shape), `/health` within a second either way, one log line per outage with
//! its cause and one when it ends, recovery on its own, and nothing lost or doubled
//! when clients retry with the same `clientId`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::{json, Value};

use crate::helpers::*;

/// The server binary, with its log collected line by line.
struct Server {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    url: String,
}

impl Server {
    async fn start(data: &std::path::Path, database_url: &str, pool_size: u32) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .env("PORT", "0")
            .env("DATA_DIR", data)
            .env("DATABASE_URL", database_url)
            .env("JWT_SECRET", "test-secret-with-enough-entropy-1234567890")
            .env("DB_TIMEOUT", "1s")
            .env("DB_POOL_SIZE", pool_size.to_string())
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server binary starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some((_, addr)) = line.split_once("listening on http://") {
                    let _ = tx.send(addr.trim().to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        // Waited for without blocking: the PostgreSQL relay runs on this thread.
        let deadline = Instant::now() + Duration::from_secs(20);
        let addr = loop {
            if let Ok(addr) = rx.try_recv() {
                break addr;
            }
            assert!(
                Instant::now() < deadline,
                "server did not start: {:?}",
                log.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        Server {
            child,
            log,
            url: format!("http://{addr}"),
        }
    }

    fn lines_with(&self, text: &str) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter().filter(|l| l.contains(text)).cloned().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP relay to PostgreSQL that can be cut and restored on the same port.
struct Relay {
    addr: std::net::SocketAddr,
    target: String,
    running: Option<actix_web::rt::task::JoinHandle<()>>,
    conns: Arc<Mutex<Vec<actix_web::rt::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: &str) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let mut relay = Relay {
            addr: listener.local_addr().expect("addr"),
            target: target.to_owned(),
            running: None,
            conns: Default::default(),
        };
        relay.serve(listener);
        relay
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (target, conns) = (self.target.clone(), self.conns.clone());
        self.running = Some(actix_web::rt::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let pipe = actix_web::rt::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                conns.lock().unwrap().push(pipe);
            }
        }));
    }

    /// New connections are refused, open ones end.
    fn cut(&mut self) {
        if let Some(l) = self.running.take() {
            l.abort();
        }
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    async fn restore(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("rebind the relay's port");
        self.serve(listener);
    }
}

/// The outage, whichever the backend.
enum Outage {
    /// A connection holding SQLite's write lock, while it is held.
    SqliteLock(String, Option<diesel::SqliteConnection>),
    Postgres(Relay),
}

impl Outage {
    async fn begin(&mut self) {
        match self {
            Outage::SqliteLock(path, held) => {
                let mut conn = diesel::SqliteConnection::establish(path).expect("open");
                conn.batch_execute("PRAGMA busy_timeout = 5000; BEGIN EXCLUSIVE;")
                    .expect("take the write lock");
                *held = Some(conn);
            }
            Outage::Postgres(relay) => relay.cut(),
        }
    }

    async fn end(&mut self) {
        match self {
            Outage::SqliteLock(_, held) => {
                if let Some(mut conn) = held.take() {
                    conn.batch_execute("ROLLBACK;").expect("release the lock");
                }
            }
            Outage::Postgres(relay) => relay.restore().await,
        }
    }
}

/// `postgres://user@host:port/db?…` with another host:port.
fn via(url: &str, addr: std::net::SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, rest) = rest.split_once('@').map_or(("", rest), |(u, r)| (u, r));
    let path = &rest[rest.find('/').unwrap_or(rest.len())..];
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    format!("{scheme}://{user}{addr}{path}")
}

async fn get(url: &str) -> (u16, Value, Option<String>, Duration) {
    let started = Instant::now();
    let mut res = awc::Client::new().get(url).send().await.expect("GET");
    let retry = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (res.status().as_u16(), body, retry, started.elapsed())
}

/// `/health` until it says `status`, or panic. Waiting for a failure, each answer must
/// come within a second: an outage is told at once, not after a hang. (Waiting for a
/// start, a loaded host may take longer, and that is not what is tested.)
async fn health_until(url: &str, status: u16, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let (got, body, _, took) = get(&format!("{url}/health")).await;
        if status != 200 {
            assert!(took < Duration::from_secs(1), "/health took {took:?}");
        }
        if got == status {
            return body;
        }
        assert!(Instant::now() < deadline, "/health still {got}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn ws(url: &str) -> WsClient {
    let (_, framed) = awc::Client::new()
        .ws(format!("{}/ws", url.replace("http", "ws")))
        .connect()
        .await
        .expect("websocket connects");
    WsClient { framed }
}

/// A raw Socket.IO polling session on `/support`, for seed 003's error shape.
async fn support_socket(url: &str, token: &str) -> Polling {
    let session = Polling::open(url).await;
    let connect = format!("40/support,{}", json!({"token": token}));
    let body = session.exchange(&connect).await;
    assert!(body.starts_with("40/support,"), "{body}");
    session
}

#[actix_web::test]
async fn a_database_outage_fails_fast_and_clearly_then_recovers_losing_nothing() {
    let data = tempfile::TempDir::new().expect("temp dir");
    let (database_url, mut outage) = match std::env::var("TEST_DATABASE_URL") {
        Ok(pg) => {
            let url = fresh_pg_schema(&pg);
            let target = via(&url, "127.0.0.1:5432".parse().unwrap());
            let host = target
                .split_once('@')
                .map_or(target.as_str(), |(_, r)| r)
                .split('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            let relay = Relay::start(&host).await;
            (via(&url, relay.addr), Outage::Postgres(relay))
        }
        Err(_) => {
            let path = data.path().join("switchboard.sqlite3");
            let path = path.to_string_lossy().into_owned();
            (path.clone(), Outage::SqliteLock(path, None))
        }
    };
    let server = Server::start(data.path(), &database_url, 2).await;
    let url = server.url.clone();
    let keys = switchboard::auth::JwtKeys::new(b"test-secret-with-enough-entropy-1234567890");
    let hour = Duration::from_secs(3600);
    let customer_token = keys.mint("outage-customer", "customer", "Olga", hour);
    let agent_token = keys.mint("outage-agent", "agent", "Agent", hour);
    let session = uid("outage");

    let mut staff = ws(&url).await;
    staff
        .send(json!({"type": "register_admin", "userId": "outage-agent", "token": agent_token}))
        .await;
    staff.recv_type("admin_registered").await;
    let mut customer = ws(&url).await;
    customer
        .send(json!({"type": "register", "sessionId": session, "token": customer_token}))
        .await;
    customer.recv_type("registered").await;
    customer
        .send(json!({"type": "customer_message", "message": "before", "clientId": "c0"}))
        .await;
    customer.recv_type("message_ack").await;
    assert_eq!(
        staff.recv_type("customer_message").await["message"],
        "before"
    );
    let sio = support_socket(&url, &agent_token).await;
    health_until(&url, 200, Duration::from_secs(5)).await;

    outage.begin().await;
    // The first write to meet the outage waits DB_TIMEOUT (1 s) at most, then says so.
    let started = Instant::now();
    customer
        .send(json!({"type": "customer_message", "message": "during, by /ws", "clientId": "c1"}))
        .await;
    let e = customer.recv_type("error").await;
    assert_eq!(
        (e["code"].as_str(), e["message"].as_str()),
        (Some("unavailable"), Some("Service temporarily unavailable")),
        "{e}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    let down = health_until(&url, 503, Duration::from_secs(5)).await;
    // The metrics say so too, at once.
    let started = Instant::now();
    let m = Scrape::of(&url).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(m.get("switchboard_db_up"), 0.0);
    if let Outage::Postgres(_) = &outage {
        // Connections to a stopped server cannot be had.
        assert!(m.get("switchboard_db_pool_errors_total") >= 1.0, "{m:#?}");
    }
    let (ready, body, _, took) = get(&format!("{url}/health/ready")).await;
    assert_eq!((ready, &body["database"]), (503, &json!("down")), "{body}");
    assert!(took < Duration::from_secs(1), "/health/ready took {took:?}");
    assert_eq!(down["status"], "degraded");
    assert_eq!(down["database"], "down");
    assert_eq!(down["databaseStatus"]["writable"], false);
    let cause = down["databaseStatus"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    match &outage {
        Outage::SqliteLock(..) => assert!(cause.contains("locked"), "{down}"),
        Outage::Postgres(_) => assert!(
            cause.contains("refused") || cause.contains("connect") || cause.contains("closed"),
            "{down}"
        ),
    }

    // Known down: REST and every dialect answer at once, each in its own shape.
    let started = Instant::now();
    let body = json!({"sessionId": session, "message": "during, by REST", "clientId": "c2"});
    let send_to_staff = || {
        awc::Client::new()
            .post(format!("{url}/api/chat/send-to-staff"))
            .insert_header(("Authorization", format!("Bearer {customer_token}")))
            .send_json(&body)
    };
    let mut res = send_to_staff().await.expect("POST");
    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(
        res.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    let rest: Value = res.json().await.expect("JSON");
    assert_eq!(
        rest,
        json!({"success": false, "message": "Service temporarily unavailable", "code": "unavailable"})
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let event = json!(["message:send", {"conversationId": session, "message": "during, by Socket.IO", "clientId": "c3"}]);
    let answer = sio.exchange(&format!("42/support,{event}")).await;
    assert!(
        answer.contains(
            r#"["message:error",{"code":"unavailable","error":"Service temporarily unavailable"}]"#
        ),
        "{answer}"
    );

    outage.end().await;
    let back = Instant::now();
    health_until(&url, 200, Duration::from_secs(5)).await;
    assert_eq!(Scrape::of(&url).await.get("switchboard_db_up"), 1.0);
    assert!(
        back.elapsed() < Duration::from_secs(2),
        "recovered after {:?}",
        back.elapsed()
    );

    // The clients retry with the same clientIds: each message is stored once.
    customer
        .send(json!({"type": "customer_message", "message": "during, by /ws", "clientId": "c1"}))
        .await;
    customer.recv_type("message_ack").await;
    for _ in 0..2 {
        let mut res = send_to_staff().await.expect("POST");
        assert_eq!(res.status().as_u16(), 200, "{:?}", res.body().await);
    }
    // Staff heard each once.
    for text in ["during, by /ws", "during, by REST"] {
        assert_eq!(staff.recv_type("customer_message").await["message"], text);
    }
    staff.expect_silence(300).await;
    let mut res = awc::Client::new()
        .get(format!("{url}/api/chat/sessions/{session}/messages"))
        .insert_header(("Authorization", format!("Bearer {customer_token}")))
        .send()
        .await
        .expect("GET");
    let history: Value = res.json().await.expect("JSON");
    assert_eq!(
        texts(&history),
        vec!["before", "during, by /ws", "during, by REST"],
        "{history}"
    );
    assert_eq!(seqs(&history), vec![1, 2, 3]);

    // One line for the outage, with its cause, and one when it ended.
    let outages = server.lines_with("database unavailable");
    assert_eq!(outages.len(), 1, "{outages:#?}");
    let logged = outages[0].to_lowercase();
    match &outage {
        Outage::SqliteLock(..) => assert!(logged.contains("database is locked"), "{logged}"),
        Outage::Postgres(_) => assert!(
            [
                "closed the connection",
                "connection refused",
                "timeout expired"
            ]
            .iter()
            .any(|c| logged.contains(c)),
            "{logged}"
        ),
    }
    assert_eq!(server.lines_with("database is back").len(), 1);
    assert!(server.lines_with("multiconnection").is_empty());
    assert!(server.lines_with("ERROR r2d2").is_empty());
}

/// On a new SQLite data directory, pool connections opening together (each setting
/// WAL mode) while the migrations ran logged `ERROR r2d2] database is locked` (3 starts
/// in 20 with a pool of 16 on tmpfs, before the fix). Migrations now run, and WAL is
/// set, on a connection of their own before the pool opens.
#[actix_web::test]
async fn a_fresh_sqlite_start_logs_no_errors() {
    let shm = std::path::Path::new("/dev/shm");
    for _ in 0..10 {
        let data = match shm.is_dir() {
            true => tempfile::TempDir::new_in(shm),
            false => tempfile::TempDir::new(),
        }
        .expect("temp dir");
        let db = data.path().join("switchboard.sqlite3");
        let server = Server::start(data.path(), &db.to_string_lossy(), 16).await;
        health_until(&server.url, 200, Duration::from_secs(5)).await;
        let errors: Vec<String> = server
            .lines_with("ERROR")
            .into_iter()
            .chain(server.lines_with("WARN"))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}
