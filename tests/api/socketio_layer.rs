//! The Socket.IO layer on its own, with a chat-free echo handler (like the reference
//! test suite's server): events and acks both ways, binary events and acks, namespaces,
//! CONNECT_ERROR, and an ack that never comes. Raw WebSocket frames via awc.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App};
use awc::ws::{Frame, Message};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};
use switchboard::transport::http_server;
use switchboard::transport::socketio::{
    endpoint, CloseReason, ConnectError, ConnectRequest, Engine, IncomingEvent, Io, Settings,
    SocketHandler,
};

struct Echo {
    auth: Value,
}

impl SocketHandler for Echo {
    type App = ();
    type Parked = ();

    fn serves(nsp: &str) -> bool {
        nsp == "/" || nsp == "/custom"
    }

    fn connect(
        _: &(),
        req: ConnectRequest<Self>,
    ) -> LocalBoxFuture<'static, Result<(Self, bool), ConnectError>> {
        Box::pin(async move {
            if req.auth["token"] == "refuse" {
                return Err(ConnectError {
                    message: "refused".into(),
                    data: Some(json!({"why": "test"})),
                });
            }
            Ok((Echo { auth: req.auth }, false))
        })
    }

    fn on_connected(&mut self, io: &mut Io<'_, Self>) {
        io.emit("auth", &self.auth.clone());
    }

    fn on_event(&mut self, io: &mut Io<'_, Self>, event: IncomingEvent) {
        match (event.name.as_str(), event.ack) {
            ("message", _) => io.emit_with_parts("message-back", event.args, event.binaries),
            ("message-with-ack", Some(id)) => io.ack_with_parts(id, event.args, event.binaries),
            ("bye", _) => io.disconnect(),
            ("ask", _) => {
                let question = event.args.first().cloned().unwrap_or(Value::Null);
                io.emit_with_ack(
                    "question",
                    &question,
                    Duration::from_millis(300),
                    |_, io, answer| match answer {
                        Some((args, parts)) => io.emit_with_parts("answer", args, parts),
                        None => io.emit("answer", &Value::Null),
                    },
                );
            }
            _ => {}
        }
    }

    fn on_close(self, _: &mut Io<'_, Self>, _: CloseReason) -> Option<()> {
        None
    }

    fn admit(_: &(), _: &actix_web::HttpRequest) -> bool {
        true
    }
}

type Conn = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

async fn start() -> std::net::SocketAddr {
    start_with(|_| {}).await
}

async fn start_with(tweak: impl FnOnce(&mut Settings)) -> std::net::SocketAddr {
    start_engine(tweak).await.0
}

/// The server's address and its engine (to restart it).
async fn start_engine(
    tweak: impl FnOnce(&mut Settings),
) -> (std::net::SocketAddr, web::Data<Arc<Engine<Echo>>>) {
    let mut settings = Settings {
        ping_interval: Duration::from_secs(25),
        ping_timeout: Duration::from_secs(20),
        max_payload: 1_000_000,
        connect_timeout: Duration::from_secs(45),
        outbound_queue: 64,
        recovery: Some(Duration::from_secs(60)),
        origins: switchboard::transport::origin::OriginPolicy::any(),
        proxies: Default::default(),
        metrics: Default::default(),
    };
    tweak(&mut settings);
    let engine = web::Data::new(Engine::<Echo>::new(
        settings,
        (),
        Arc::new(AtomicU64::new(1)),
    ));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let settings = http_server::Settings {
        workers: Some(1),
        max_connections: 1000,
        client_timeout: Duration::from_secs(30),
        tls: None,
    };
    let served = engine.clone();
    let server = http_server::serve(listener, settings, move || {
        App::new()
            .app_data(served.clone())
            .route("/socket.io/", web::route().to(endpoint::<Echo>))
    })
    .expect("serve");
    actix_web::rt::spawn(server);
    (addr, engine)
}

async fn open(addr: std::net::SocketAddr) -> Conn {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (_, mut conn) = awc::Client::new().ws(url).connect().await.expect("ws");
    assert!(text(&mut conn).await.starts_with("0{"));
    conn
}

async fn next(conn: &mut Conn) -> Frame {
    tokio::time::timeout(Duration::from_secs(5), conn.next())
        .await
        .expect("a frame in time")
        .expect("open")
        .expect("valid frame")
}

async fn text(conn: &mut Conn) -> String {
    match next(conn).await {
        Frame::Text(t) => String::from_utf8(t.to_vec()).expect("utf-8"),
        other => panic!("expected text, got {other:?}"),
    }
}

async fn binary(conn: &mut Conn) -> Bytes {
    match next(conn).await {
        Frame::Binary(b) => b,
        other => panic!("expected binary, got {other:?}"),
    }
}

async fn send(conn: &mut Conn, text: &str) {
    conn.send(Message::Text(text.to_owned().into()))
        .await
        .expect("send");
}

async fn send_binary(conn: &mut Conn, bytes: &'static [u8]) {
    conn.send(Message::Binary(Bytes::from_static(bytes)))
        .await
        .expect("send");
}

async fn connected(addr: std::net::SocketAddr) -> Conn {
    let mut conn = open(addr).await;
    send(&mut conn, "40").await;
    let reply: Value = serde_json::from_str(&text(&mut conn).await[2..]).expect("json");
    assert!(reply["sid"].is_string() && reply["pid"].is_string());
    assert_eq!(text(&mut conn).await, r#"42["auth",{}]"#);
    conn
}

#[actix_web::test]
async fn events_and_acks_both_ways() {
    let addr = start().await;
    let mut c = connected(addr).await;
    send(&mut c, r#"42["message",1,"2",{"3":[true]}]"#).await;
    assert_eq!(
        text(&mut c).await,
        r#"42["message-back",1,"2",{"3":[true]}]"#
    );
    // The client asks for acks, id 0 included.
    send(&mut c, r#"420["message-with-ack",1,"2"]"#).await;
    assert_eq!(text(&mut c).await, r#"430[1,"2"]"#);
    send(&mut c, r#"4213["message-with-ack",{"x":null}]"#).await;
    assert_eq!(text(&mut c).await, r#"4313[{"x":null}]"#);
    // The server asks for an ack (its ids start at 0), and gets it.
    send(&mut c, r#"42["ask",{"q":1}]"#).await;
    assert_eq!(text(&mut c).await, r#"420["question",{"q":1}]"#);
    send(&mut c, r#"430["yes",2]"#).await;
    assert_eq!(text(&mut c).await, r#"42["answer","yes",2]"#);
    // An ack that never comes ends in the timeout answer; a late one is ignored.
    send(&mut c, r#"42["ask",{"q":2}]"#).await;
    assert_eq!(text(&mut c).await, r#"421["question",{"q":2}]"#);
    assert_eq!(text(&mut c).await, r#"42["answer",null]"#);
    send(&mut c, r#"431["late"]"#).await;
    send(&mut c, r#"42["message","after"]"#).await;
    assert_eq!(text(&mut c).await, r#"42["message-back","after"]"#);
}

#[actix_web::test]
async fn binary_events_and_acks() {
    let addr = start().await;
    let mut c = connected(addr).await;
    send(
        &mut c,
        r#"452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
    )
    .await;
    send_binary(&mut c, &[1, 2, 3]).await;
    send_binary(&mut c, &[4, 5, 6]).await;
    assert_eq!(
        text(&mut c).await,
        r#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
    );
    assert_eq!(binary(&mut c).await, Bytes::from_static(&[1, 2, 3]));
    assert_eq!(binary(&mut c).await, Bytes::from_static(&[4, 5, 6]));

    send(
        &mut c,
        r#"451-7["message-with-ack",{"_placeholder":true,"num":0}]"#,
    )
    .await;
    send_binary(&mut c, &[9]).await;
    assert_eq!(
        text(&mut c).await,
        r#"461-7[{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(binary(&mut c).await, Bytes::from_static(&[9]));

    // The client answers our ack request with a binary part (BINARY_ACK).
    send(&mut c, r#"42["ask","file?"]"#).await;
    assert_eq!(text(&mut c).await, r#"420["question","file?"]"#);
    send(&mut c, r#"461-0[{"_placeholder":true,"num":0}]"#).await;
    send_binary(&mut c, &[7, 7]).await;
    assert_eq!(
        text(&mut c).await,
        r#"451-["answer",{"_placeholder":true,"num":0}]"#
    );
    assert_eq!(binary(&mut c).await, Bytes::from_static(&[7, 7]));
}

#[actix_web::test]
async fn websocket_pings_are_answered_and_connects_are_budgeted() {
    let addr = start().await;
    let mut c = connected(addr).await;
    c.send(Message::Ping(Bytes::from_static(b"hi")))
        .await
        .expect("ping");
    assert_eq!(next(&mut c).await, Frame::Pong(Bytes::from_static(b"hi")));
    // Namespaces may come and go, but not without end: each CONNECT costs a check.
    for _ in 0..15 {
        send(&mut c, "40/custom,").await;
        assert!(text(&mut c).await.starts_with("40/custom,{"));
        assert_eq!(text(&mut c).await, r#"42/custom,["auth",{}]"#);
        send(&mut c, "41/custom,").await;
    }
    send(&mut c, "40/custom,").await;
    assert_eq!(
        text(&mut c).await,
        r#"44/custom,{"message":"Too many connections on this session"}"#
    );
}

#[actix_web::test]
async fn namespaces_are_multiplexed_and_can_refuse() {
    let addr = start().await;
    let mut c = connected(addr).await;
    send(&mut c, r#"40/custom,{"token":"refuse"}"#).await;
    assert_eq!(
        text(&mut c).await,
        r#"44/custom,{"data":{"why":"test"},"message":"refused"}"#
    );
    send(&mut c, r#"40/custom,{"token":"ok"}"#).await;
    assert!(text(&mut c).await.starts_with("40/custom,{"));
    assert_eq!(text(&mut c).await, r#"42/custom,["auth",{"token":"ok"}]"#);
    send(&mut c, r#"42/custom,["message","to custom"]"#).await;
    assert_eq!(
        text(&mut c).await,
        r#"42/custom,["message-back","to custom"]"#
    );
    // The server may end a socket: the client hears DISCONNECT, and the namespace is
    // closed until it connects again.
    send(&mut c, r#"42/custom,["bye"]"#).await;
    assert_eq!(text(&mut c).await, "41/custom,");
    send(&mut c, r#"42/custom,["message","ignored"]"#).await;
    send(&mut c, r#"40/custom,{"token":"again"}"#).await;
    assert!(text(&mut c).await.starts_with("40/custom,{"));
    assert_eq!(
        text(&mut c).await,
        r#"42/custom,["auth",{"token":"again"}]"#
    );
    // After leaving /custom, / still answers and /custom is silent.
    send(&mut c, "41/custom,").await;
    send(&mut c, r#"42/custom,["message","dropped"]"#).await;
    send(&mut c, r#"42["message","to main"]"#).await;
    assert_eq!(text(&mut c).await, r#"42["message-back","to main"]"#);
}

/// Long-polling by hand: a GET or POST on a session, answered with status and body.
async fn polling(
    addr: std::net::SocketAddr,
    sid: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut url = format!("http://{addr}/socket.io/?EIO=4&transport=polling");
    if let Some(sid) = sid {
        url.push_str(&format!("&sid={sid}"));
    }
    let client = awc::Client::new();
    let mut res = match body {
        Some(b) => client.post(url).send_body(b.to_owned()).await,
        None => client.get(url).send().await,
    }
    .expect("polling request");
    let bytes = res.body().await.expect("body");
    (
        res.status().as_u16(),
        String::from_utf8(bytes.to_vec()).expect("utf-8"),
    )
}

async fn polling_session(addr: std::net::SocketAddr) -> String {
    let (status, open) = polling(addr, None, None).await;
    assert_eq!(status, 200);
    let open: Value = serde_json::from_str(&open[1..]).expect("open packet");
    open["sid"].as_str().expect("sid").to_owned()
}

#[actix_web::test]
async fn recovery_is_a_setting_and_pid_comes_only_with_it() {
    for recovery in [None, Some(Duration::from_secs(60))] {
        let addr = start_with(|s| s.recovery = recovery).await;
        let mut c = open(addr).await;
        send(&mut c, "40").await;
        let reply: Value = serde_json::from_str(&text(&mut c).await[2..]).expect("json");
        assert!(reply["sid"].is_string());
        assert_eq!(reply["pid"].is_string(), recovery.is_some(), "{reply}");
        assert_eq!(
            reply.as_object().map(|o| o.len()),
            Some(1 + usize::from(recovery.is_some()))
        );
    }
}

#[actix_web::test]
async fn the_connection_outlives_its_last_namespace_and_keeps_pinging() {
    let addr = start_with(|s| {
        s.ping_interval = Duration::from_millis(150);
        s.ping_timeout = Duration::from_millis(500);
    })
    .await;
    let mut c = connected(addr).await;
    send(&mut c, "41").await;
    // Still pinged, twice, and the client may connect again.
    for _ in 0..2 {
        assert_eq!(text(&mut c).await, "2");
        send(&mut c, "3").await;
    }
    send(&mut c, "40").await;
    assert!(text(&mut c).await.starts_with("40{"));
    assert_eq!(text(&mut c).await, r#"42["auth",{}]"#);
}

#[actix_web::test]
async fn a_client_close_answers_the_pending_poll_with_a_noop() {
    let addr = start().await;
    let sid = polling_session(addr).await;
    let get = sid.clone();
    let pending = actix_web::rt::spawn(async move { polling(addr, Some(&get), None).await });
    // Let the GET reach the session first.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!pending.is_finished(), "the GET waits for packets");
    assert_eq!(
        polling(addr, Some(&sid), Some("1")).await,
        (200, "ok".into())
    );
    assert_eq!(pending.await.expect("GET"), (200, "6".into()));
    // Then the session is over.
    let (status, body) = polling(addr, Some(&sid), None).await;
    assert_eq!(status, 400);
    assert_eq!(body, r#"{"code":1,"message":"Session ID unknown"}"#);
}

/// Upgrade a polling session to WebSocket (2probe, 3probe, 5).
async fn upgraded(addr: std::net::SocketAddr, sid: &str) -> Conn {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket&sid={sid}");
    let (_, mut ws) = awc::Client::new().ws(url).connect().await.expect("ws");
    send(&mut ws, "2probe").await;
    assert_eq!(text(&mut ws).await, "3probe");
    send(&mut ws, "5").await;
    ws
}

/// A restart while socket.io-client upgrades: answered `3probe`, it is pausing its
/// polling (the pending poll ended with a noop). Its probe stays open until it moves
/// (`5`), and then closes, so the client hears its transport close; a probe ended at
/// once would leave it with neither transport until its ping timeout. A probe that
/// never moves is closed after a grace period; a session not upgrading closes at once,
/// and new sessions are refused until the process is gone.
#[actix_web::test]
async fn a_restart_mid_upgrade_lets_the_client_move_before_closing_it() {
    let (addr, engine) = start_engine(|_| {}).await;
    let mut probes = Vec::new();
    for _ in 0..2 {
        let sid = polling_session(addr).await;
        let get = sid.clone();
        let pending = actix_web::rt::spawn(async move { polling(addr, Some(&get), None).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket&sid={sid}");
        let (_, mut ws) = awc::Client::new().ws(url).connect().await.expect("ws");
        send(&mut ws, "2probe").await;
        assert_eq!(text(&mut ws).await, "3probe");
        assert_eq!(pending.await.expect("GET"), (200, "6".into()));
        probes.push(ws);
    }
    let plain = polling_session(addr).await;
    let get = plain.clone();
    let pending = actix_web::rt::spawn(async move { polling(addr, Some(&get), None).await });
    tokio::time::sleep(Duration::from_millis(100)).await;

    assert_eq!(engine.restart_all(), 3);
    assert_eq!(
        pending.await.expect("GET"),
        (200, "1".into()),
        "closed at once"
    );
    let (status, body) = polling(addr, None, None).await;
    assert_eq!(status, 503);
    assert_eq!(body, r#"{"code":3,"message":"Server restarting"}"#);
    let [mut mover, mut stayer] = <[Conn; 2]>::try_from(probes).ok().expect("two probes");
    let quiet = tokio::time::timeout(Duration::from_millis(300), mover.next()).await;
    assert!(quiet.is_err(), "the probe stays open: {quiet:?}");
    assert_eq!(engine.open(), 2);
    send(&mut mover, "5").await;
    assert!(matches!(next(&mut mover).await, Frame::Close(_)));
    assert!(matches!(next(&mut stayer).await, Frame::Close(_)));
    for _ in 0..50 {
        if engine.open() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(engine.open(), 0, "every session is gone");
}

#[actix_web::test]
async fn a_second_websocket_after_the_upgrade_is_accepted_then_closed() {
    let addr = start().await;
    let sid = polling_session(addr).await;
    let mut first = upgraded(addr, &sid).await;
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket&sid={sid}");
    let (res, mut second) = awc::Client::new()
        .ws(url)
        .connect()
        .await
        .expect("accepted with 101, not refused with 400");
    assert_eq!(res.status().as_u16(), 101);
    assert!(matches!(next(&mut second).await, Frame::Close(_)));
    // The upgraded session goes on.
    send(&mut first, "40").await;
    assert!(text(&mut first).await.starts_with("40{"));
}

/// The ping timeout is a deadline `pingTimeout` after each ping, and the next ping
/// goes `pingInterval` after the pong (or the open): `pingInterval + pingTimeout` from
/// the last sign of life to the close, as in the reference server.
#[actix_web::test]
async fn pings_follow_pongs_and_the_timeout_is_a_deadline() {
    let (interval, timeout) = (Duration::from_millis(300), Duration::from_millis(200));
    let addr = start_with(|s| {
        s.ping_interval = interval;
        s.ping_timeout = timeout;
    })
    .await;
    let mut c = open(addr).await;
    let opened = std::time::Instant::now();
    // Timers never fire early: the lower bounds are exact, the upper ones allow for load.
    let slack = Duration::from_millis(15);
    assert_eq!(text(&mut c).await, "2");
    let first = std::time::Instant::now();
    assert!(first - opened + slack >= interval, "{:?}", first - opened);
    // Answer late: the next ping is one interval after the pong, not after the ping.
    tokio::time::sleep(Duration::from_millis(150)).await;
    send(&mut c, "3").await;
    let pong = std::time::Instant::now();
    assert_eq!(text(&mut c).await, "2");
    let second = std::time::Instant::now();
    assert!(second - pong + slack >= interval, "{:?}", second - pong);
    // No pong now: closed at the deadline.
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(3), c.next()).await {
            Ok(Some(Ok(Frame::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                break std::time::Instant::now()
            }
            Ok(Some(Ok(_))) => continue,
            Err(_) => panic!("not closed after the ping timeout"),
        }
    };
    let waited = closed - second;
    assert!(waited + slack >= timeout, "{waited:?}");
    assert!(waited < timeout + Duration::from_millis(250), "{waited:?}");
}
