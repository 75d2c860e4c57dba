//! `--log-format json`: the real binary's log, one JSON object per line, with an
//! access line per HTTP request and per WebSocket session, and never a token or a
//! message's text.

use std::time::{Duration, Instant};

use awc::ws::CloseCode;
use futures::SinkExt;
use serde_json::{json, Value};

use crate::helpers::*;

const SECRET: &str = "test-secret-with-enough-entropy-1234567890";

#[actix_web::test]
async fn json_logs_have_one_object_per_line_and_an_access_line_per_request_and_session() {
    let data = tempfile::TempDir::new().expect("temp dir");
    let dir = data.path().to_string_lossy().into_owned();
    let server = Binary::start(&[("DATA_DIR", &dir), ("LOG_FORMAT", "json")]).await;
    let addr = server.addr.clone();
    let deadline = Instant::now() + Duration::from_secs(20);

    let keys = switchboard::auth::JwtKeys::new(SECRET.as_bytes());
    let token = keys.mint("log-customer", "customer", "Lou", Duration::from_secs(3600));
    let private = "my card number is 4111 1111 1111 1111";
    // A request with the token in its query (some clients do that) and as a bearer.
    let res = awc::Client::new()
        .get(format!("http://{addr}/health/live?token={token}"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("X-Request-Id", "req-from-proxy-1"))
        .send()
        .await
        .expect("GET");
    assert_eq!(
        res.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("req-from-proxy-1")
    );
    let (_, framed) = awc::Client::new()
        .ws(format!("ws://{addr}/ws"))
        .connect()
        .await
        .expect("ws");
    let mut ws = WsClient { framed };
    ws.send(json!({"type": "register", "sessionId": uid("log"), "token": token}))
        .await;
    ws.recv_type("registered").await;
    ws.send(json!({"type": "customer_message", "message": private}))
        .await;
    ws.recv_type("message_ack").await;
    ws.framed
        .send(awc::ws::Message::Close(Some(CloseCode::Normal.into())))
        .await
        .expect("close");

    // The session's line comes when it has ended.
    let session = loop {
        let found = server.lines().iter().find_map(|l| {
            let v: Value = serde_json::from_str(l).ok()?;
            (v["target"] == "switchboard::access" && v["conn"].is_u64()).then_some(v)
        });
        if let Some(v) = found {
            break v;
        }
        assert!(Instant::now() < deadline, "no session line");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(session["transport"], "websocket");
    assert_eq!(session["dialect"], "native");
    assert_eq!(session["reason"], "client_closed");
    assert_eq!(session["close_code"], 1000);
    assert_eq!(session["frames_in"], 2, "{session}");
    assert!(session["frames_out"].as_u64() >= Some(2), "{session}");
    assert!(session["ms"].is_u64());

    let lines = server.lines();
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for v in &parsed {
        for field in ["time", "level", "target", "message"] {
            assert!(v[field].is_string(), "{field} in {v}");
        }
    }
    let request = parsed
        .iter()
        .find(|v| v["target"] == "switchboard::access" && v["path"] == "/health/live")
        .expect("an access line for the request");
    assert_eq!(request["status"], 200);
    assert_eq!(request["method"], "GET");
    assert_eq!(request["request_id"], "req-from-proxy-1");
    assert_eq!(request["client"], "127.0.0.1");
    assert!(parsed
        .iter()
        .any(|v| v["target"] == "switchboard::access" && v["path"] == "/ws" && v["status"] == 101));
    for line in &lines {
        assert!(!line.contains(&token), "a token in the log: {line}");
        assert!(!line.contains(private), "message text in the log: {line}");
    }
}
