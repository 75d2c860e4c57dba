//! A graceful restart: SIGTERM to the real binary under a client that keeps sending.
//! Its WebSocket closes with 1012, a Socket.IO poll gets the close packet, the process
//! exits within SHUTDOWN_TIMEOUT, and the client, reconnecting by itself to the next
//! process on the same port, loses none of the messages it had acknowledged.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::*;

/// What the client saw: the messages acknowledged (by clientId), and how each of its
/// connections ended.
#[derive(Default)]
struct Seen {
    acked: Vec<String>,
    closes: Vec<Option<u16>>,
    connections: usize,
}

/// A client as the bundled pages are: it sends, waits for each ack, and on a lost
/// connection reconnects, registers again and sends the unacknowledged message again
/// with the same clientId.
async fn keep_sending(
    url: String,
    token: String,
    session: String,
    total: usize,
    seen: Rc<RefCell<Seen>>,
) {
    let mut next = 0;
    let mut unacked: Option<String> = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.borrow().acked.len() < total {
        assert!(Instant::now() < deadline, "the client never got back");
        let connected = awc::Client::builder()
            .timeout(Duration::from_secs(2))
            .finish()
            .ws(format!("ws://{url}/ws"))
            .connect()
            .await;
        let Ok((_, framed)) = connected else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut ws = WsClient { framed };
        ws.send(json!({"type": "register", "sessionId": session, "token": token}))
            .await;
        match ws.next().await {
            Next::Json(v) if v["type"] == "registered" => seen.borrow_mut().connections += 1,
            _ => continue,
        }
        loop {
            let id = unacked.take().unwrap_or_else(|| {
                next += 1;
                format!("m{next}")
            });
            ws.send(json!({"type": "customer_message", "message": id, "clientId": id}))
                .await;
            let ended = loop {
                match ws.next().await {
                    Next::Json(v) if v["type"] == "message_ack" && v["clientId"] == id.as_str() => {
                        break None
                    }
                    Next::Json(v) if v["type"] == "error" => panic!("refused: {v}"),
                    Next::Json(_) => continue,
                    Next::Closed(reason) => break Some(reason.map(|r| u16::from(r.code))),
                    Next::Ended => break Some(None),
                }
            };
            match ended {
                None => seen.borrow_mut().acked.push(id),
                Some(code) => {
                    seen.borrow_mut().closes.push(code);
                    unacked = Some(id);
                    break;
                }
            }
            if seen.borrow().acked.len() >= total {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A poll's answer that ends the session: the close packet.
fn ended(body: &str) -> bool {
    body.split('\u{1e}').any(|packet| packet == "1")
}

#[actix_web::test]
async fn sigterm_drains_and_the_client_is_back_on_the_next_process_losing_nothing() {
    let data = tempfile::TempDir::new().expect("temp dir");
    let dir = data.path().to_string_lossy().into_owned();
    let port = crate::cluster::free_port().to_string();
    let database = std::env::var("TEST_DATABASE_URL")
        .map(|url| fresh_pg_schema(&url))
        .unwrap_or_else(|_| format!("{dir}/switchboard.sqlite3"));
    let env = [
        ("DATA_DIR", dir.as_str()),
        ("PORT", port.as_str()),
        ("DATABASE_URL", database.as_str()),
        ("SHUTDOWN_TIMEOUT", "5s"),
        // This client sends faster than a person.
        ("IDENTITY_RATE_LIMIT_PER_SEC", "1000"),
        ("IDENTITY_RATE_LIMIT_BURST", "1000"),
    ];
    let mut first = Binary::start(&env).await;
    let url = first.addr.clone();
    let keys = switchboard::auth::JwtKeys::new(b"test-secret-with-enough-entropy-1234567890");
    let hour = Duration::from_secs(3600);
    let token = keys.mint("drain-customer", "customer", "Dana", hour);
    // A seed 003 customer of its own: nothing is sent to it, so its poll waits.
    let quiet = keys.mint("drain-quiet", "customer", "Quinn", hour);
    let session = uid("drain");
    let seen = Rc::new(RefCell::new(Seen::default()));
    let total = 60;

    let client = keep_sending(
        url.clone(),
        token.clone(),
        session.clone(),
        total,
        seen.clone(),
    );
    let restart = async {
        while seen.borrow().acked.len() < 20 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // A Socket.IO session with a poll waiting, as the signal comes.
        let sio = Polling::open(&format!("http://{url}")).await;
        let body = sio
            .exchange(&format!("40/support,{}", json!({"token": quiet})))
            .await;
        assert!(body.starts_with("40/support,"), "{body}");
        // Polls until the close packet.
        let poll = async {
            let mut got = Vec::new();
            for _ in 0..50 {
                let Some(body) = sio.poll().await else {
                    break;
                };
                let closed = ended(&body);
                got.push(body);
                if closed {
                    break;
                }
            }
            got
        };
        let signal = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            first.signal("TERM");
            Instant::now()
        };
        let (polled, signalled) = futures::join!(poll, signal);
        let closed = polled.last().is_some_and(|b| ended(b));
        assert!(closed, "the Socket.IO session is closed: {polled:?}");
        let status = first.exit(Duration::from_secs(8)).await;
        let took = signalled.elapsed();
        assert!(status.success(), "{status}");
        assert!(took < Duration::from_secs(6), "exited after {took:?}");
        first.wait_line("told to reconnect", Duration::ZERO).await;
        // The next process, on the same port and data.
        Binary::start(&env).await
    };
    let ((), second) = futures::join!(client, restart);

    let seen = std::mem::take(&mut *seen.borrow_mut());
    assert!(
        seen.closes.contains(&Some(1012)),
        "told to reconnect with 1012: {:?}",
        seen.closes
    );
    assert!(seen.connections >= 2, "{} connections", seen.connections);
    let res = awc::Client::new()
        .get(format!(
            "http://{}/api/chat/sessions/{session}/messages?limit=200",
            second.addr
        ))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await;
    let history: Value = res.expect("GET").json().limit(1 << 20).await.expect("JSON");
    let stored = texts(&history);
    for id in &seen.acked {
        let copies = stored.iter().filter(|t| **t == id.as_str()).count();
        assert_eq!(copies, 1, "{id} stored {copies} times: {stored:?}");
    }
    let seqs = seqs(&history);
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "gap-free"
    );
}

#[actix_web::test]
async fn socket_io_clients_reconnect_by_themselves_after_a_restart() {
    let data = tempfile::TempDir::new().expect("temp dir");
    let dir = data.path().to_string_lossy().into_owned();
    let port = crate::cluster::free_port().to_string();
    let env = [("DATA_DIR", dir.as_str()), ("PORT", port.as_str())];
    let mut first = Binary::start(&env).await;
    let pid = first.child.id().to_string();
    // The Node test sends SIGTERM; the next process takes the port once it is free.
    let clients = crate::node::run_at(
        "socketio",
        "restart.test.js",
        format!("http://{}", first.addr),
        "test-secret-with-enough-entropy-1234567890".to_owned(),
        data.path().to_path_buf(),
        vec![("SB_PID", pid)],
    );
    let restart = async {
        let status = first.exit(Duration::from_secs(30)).await;
        assert!(status.success(), "{status}");
        Binary::start(&env).await
    };
    let ((), _second) = futures::join!(clients, restart);
}
