//! Webhook endpoints (`/api/admin/webhooks`): made, listed, changed, rotated, tested
//! against a real receiver in the test that checks each signature, and deleted; and
//! every refused input.

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

use crate::helpers::*;

/// What a receiver got: each request's webhook headers and body, and when.
#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    pub at: std::time::Instant,
}

impl Received {
    pub fn event(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON event")
    }
}

/// A webhook receiver on port 0: records what comes, and answers each request with
/// the next of `script` (status, Retry-After), then 200.
pub async fn scripted(script: Vec<(u16, Option<u64>)>) -> (String, Arc<Mutex<Vec<Received>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(Mutex::new(std::collections::VecDeque::from(script)));
    let kept = got.clone();
    let server = HttpServer::new(move || {
        let (kept, script) = (kept.clone(), script.clone());
        App::new().route(
            "/hook",
            web::post().to(move |req: HttpRequest, body: web::Bytes| {
                let (kept, script) = (kept.clone(), script.clone());
                async move {
                    let header = |name: &str| {
                        req.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    kept.lock().unwrap().push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                        at: std::time::Instant::now(),
                    });
                    let (status, retry_after) =
                        script.lock().unwrap().pop_front().unwrap_or((200, None));
                    let mut res = HttpResponse::build(
                        actix_web::http::StatusCode::from_u16(status).expect("a status"),
                    );
                    if let Some(secs) = retry_after {
                        res.insert_header(("retry-after", secs.to_string()));
                    }
                    res.finish()
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind");
    let addr = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    (format!("http://{addr}/hook"), got)
}

pub async fn receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    scripted(Vec::new()).await
}

/// Wait until the receiver has `n` requests.
pub async fn arrivals(got: &Arc<Mutex<Vec<Received>>>, n: usize) -> Vec<Received> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let now = got.lock().unwrap().clone();
        if now.len() >= n {
            return now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {n} arrived: {now:#?}",
            now.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Whether `r` carries a valid signature by `secret` (as a receiver checks it).
pub fn signed_by(r: &Received, secret: &str) -> bool {
    let ts: i64 = r.timestamp.parse().expect("a timestamp");
    let want =
        switchboard::domain::webhook::sign(secret, &r.id, ts, r.body.as_bytes()).expect("sign");
    r.signature.split(' ').any(|s| s == want)
}

pub async fn private_ok() -> TestApp {
    spawn_with(|c| {
        c.allow_private_webhooks = true;
        c.webhook_retry_schedule = [0, 100, 100, 100]
            .map(std::time::Duration::from_millis)
            .to_vec();
    })
    .await
}

/// An endpoint for `events` at `url`: its id and secret.
pub async fn endpoint(app: &TestApp, url: &str, events: &[&str]) -> (String, String) {
    let admin = app.token("boss", "admin");
    let body = json!({"url": url, "events": events});
    let (status, made) = app
        .call("POST", "/api/admin/webhooks", Some(&body), Some(&admin))
        .await;
    assert_eq!(status, 201, "{made}");
    let data = &made["data"];
    (
        data["id"].as_str().unwrap().to_owned(),
        data["secret"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn an_endpoint_is_made_tested_rotated_changed_and_deleted() {
    let app = private_ok().await;
    let admin = app.token("boss", "admin");
    let (url, got) = receiver().await;
    let body = json!({"url": url, "events": ["message.created", "conversation.created"], "description": "CRM"});
    let (status, made) = app
        .call("POST", "/api/admin/webhooks", Some(&body), Some(&admin))
        .await;
    assert_eq!(status, 201, "{made}");
    let ep = &made["data"];
    let secret = ep["secret"].as_str().expect("the secret, once").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(ep["enabled"], true);
    let id = ep["id"].as_str().unwrap().to_owned();

    // Listed and shown without the secret.
    let (_, list) = app
        .call("GET", "/api/admin/webhooks", None, Some(&admin))
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(list["data"][0].get("secret").is_none(), "{list}");
    assert!(!list.to_string().contains(&secret));
    let path = format!("/api/admin/webhooks/{id}");
    let (_, shown) = app.call("GET", &path, None, Some(&admin)).await;
    assert_eq!(
        shown["data"]["events"],
        json!(["message.created", "conversation.created"])
    );

    // A test event, signed with the secret.
    let test = format!("{path}/test");
    let (status, tested) = app.call("POST", &test, None, Some(&admin)).await;
    assert_eq!(status, 200, "{tested}");
    assert_eq!(
        (
            tested["data"]["delivered"].as_bool(),
            tested["data"]["status"].as_u64()
        ),
        (Some(true), Some(200))
    );
    let first = got.lock().unwrap()[0].clone();
    assert!(first.id.starts_with("msg_"));
    assert_eq!(first.id, tested["data"]["webhookId"].as_str().unwrap());
    let event: Value = serde_json::from_str(&first.body).expect("JSON");
    assert_eq!(
        (event["type"].as_str(), event["id"].as_str()),
        (Some("webhook.test"), Some(first.id.as_str()))
    );
    assert!(signed_by(&first, &secret), "{first:?}");

    // Rotation: for a while both secrets sign.
    let (status, rotated) = app
        .call("POST", &format!("{path}/rotate-secret"), None, Some(&admin))
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["data"]["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert!(rotated["data"]["previousSecretUntil"].is_string());
    app.call("POST", &test, None, Some(&admin)).await;
    let second = got.lock().unwrap()[1].clone();
    assert_eq!(second.signature.split(' ').count(), 2, "{second:?}");
    assert!(signed_by(&second, &secret) && signed_by(&second, &new_secret));

    // Changes.
    let changes = json!({"enabled": false, "events": ["stream.started"]});
    let (status, changed) = app.call("PATCH", &path, Some(&changes), Some(&admin)).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (
            changed["data"]["enabled"].as_bool(),
            changed["data"]["events"].clone()
        ),
        (Some(false), json!(["stream.started"]))
    );
    let (status, gone) = app.call("DELETE", &path, None, Some(&admin)).await;
    assert_eq!(status, 200, "{gone}");
    assert_eq!(app.call("GET", &path, None, Some(&admin)).await.0, 404);
    assert_eq!(app.call("DELETE", &path, None, Some(&admin)).await.0, 404);
}

#[actix_web::test]
async fn only_admins_manage_webhooks_and_bad_input_is_refused() {
    let app = private_ok().await;
    let admin = app.token("boss", "admin");
    let (url, _) = receiver().await;
    let ok = json!({"url": url, "events": ["message.created"]});
    assert_eq!(
        app.call("GET", "/api/admin/webhooks", None, None).await.0,
        401
    );
    for role in ["agent", "customer"] {
        let token = app.token("someone", role);
        let (status, _) = app
            .call("POST", "/api/admin/webhooks", Some(&ok), Some(&token))
            .await;
        assert_eq!(status, 403, "{role}");
    }
    let refused = [
        (
            json!({"url": url, "events": []}),
            "events must name at least one event",
        ),
        (
            json!({"url": url, "events": ["message.nope"]}),
            "Unknown event",
        ),
        (
            json!({"url": "ftp://example.com/x", "events": ["message.created"]}),
            "Webhook URL not allowed",
        ),
        (
            json!({"url": "not a url", "events": ["message.created"]}),
            "Webhook URL not allowed",
        ),
        (
            json!({"url": "http://user:pw@127.0.0.1/x", "events": ["message.created"]}),
            "Webhook URL not allowed",
        ),
        (
            json!({"url": url, "events": ["message.created"], "secret": "mine"}),
            "Invalid request body",
        ),
    ];
    for (body, message) in refused {
        let (status, e) = app
            .call("POST", "/api/admin/webhooks", Some(&body), Some(&admin))
            .await;
        assert_eq!(
            (status, e["message"].as_str()),
            (422, Some(message)),
            "{body}: {e}"
        );
    }
    let (_, list) = app
        .call("GET", "/api/admin/webhooks", None, Some(&admin))
        .await;
    assert_eq!(list["data"], json!([]), "nothing was made");
}

#[actix_web::test]
async fn private_addresses_are_refused_unless_allowed() {
    let app = spawn_app().await;
    let admin = app.token("boss", "admin");
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
    ] {
        let body = json!({"url": url, "events": ["message.created"]});
        let (status, e) = app
            .call("POST", "/api/admin/webhooks", Some(&body), Some(&admin))
            .await;
        assert_eq!(status, 422, "{url}: {e}");
        assert!(
            e["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("ALLOW_PRIVATE_WEBHOOKS"),
            "{e}"
        );
    }
}

/// The check when a URL is saved is not the only one: a delivery connects only to the
/// addresses its own lookup checked, so a name that turns private later (DNS
/// rebinding) gets nothing sent to it.
#[actix_web::test]
async fn a_delivery_itself_never_connects_to_a_private_address() {
    use switchboard::webhook_target::Sender;
    let (url, got) = receiver().await;
    let port = url
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .expect("a port");
    for target in [
        format!("http://localhost:{port}/hook"),
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
    ] {
        let attempt = Sender::new(false)
            .send(&target, "msg_1", 1, "v1,x", b"{}")
            .await;
        let error = attempt.outcome.expect_err(&target);
        assert!(error.contains("private address"), "{target}: {error}");
    }
    assert!(
        got.lock().unwrap().is_empty(),
        "nothing reached the receiver"
    );
    // Allowed, the same name is delivered to.
    let attempt = Sender::new(true)
        .send(
            &format!("http://localhost:{port}/hook"),
            "msg_2",
            1,
            "v1,x",
            b"{}",
        )
        .await;
    assert_eq!(attempt.outcome, Ok(200));
    assert_eq!(got.lock().unwrap().len(), 1);
}

#[actix_web::test]
async fn events_arrive_signed_in_order_retried_until_accepted_and_once_by_id() {
    let app = private_ok().await;
    let (url, got) = scripted(vec![(500, None), (500, None)]).await;
    let (_, secret) = endpoint(&app, &url, &["conversation.created", "message.created"]).await;
    let session = uid("hook");
    let mut guest = app.customer(&session, None).await;
    guest
        .send(json!({"type": "customer_message", "message": "where is my order?"}))
        .await;
    guest.recv_type("message_ack").await;

    // conversation.created fails twice and is accepted the third time; message.created,
    // of the same conversation, waits for it and goes after.
    let all = arrivals(&got, 4).await;
    for r in &all {
        assert!(signed_by(r, &secret), "{r:?}");
    }
    let types: Vec<String> = all
        .iter()
        .map(|r| r.event()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        ["conversation.created"; 3]
            .iter()
            .chain(&["message.created"])
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    );
    assert!(
        all[..3].iter().all(|r| r.id == all[0].id),
        "one webhook-id across retries"
    );
    assert_ne!(all[3].id, all[0].id);
    let created = all[0].event();
    assert_eq!(created["data"]["conversation"]["id"], session.as_str());
    assert_eq!(created["data"]["conversation"]["status"], "waiting");
    let message = all[3].event();
    assert_eq!(message["data"]["message"]["content"], "where is my order?");
    assert_eq!(message["data"]["message"]["senderKind"], "guest");
    assert_eq!(message["data"]["message"]["seq"], 1);
    // A receiver that processes by webhook-id processes two events.
    let ids: std::collections::BTreeSet<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 2);
    // Nothing more comes.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(got.lock().unwrap().len(), 4);
}

#[actix_web::test]
async fn status_changes_and_assignments_are_events_too() {
    let app = private_ok().await;
    let (url, got) = receiver().await;
    endpoint(
        &app,
        &url,
        &["conversation.status_changed", "conversation.assigned"],
    )
    .await;
    let session = uid("hook");
    let mut agent = app.staff("agent-h", "agent").await;
    let mut guest = app.customer(&session, None).await;
    guest
        .send(json!({"type": "customer_message", "message": "hi"}))
        .await;
    guest.recv_type("message_ack").await;
    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    let all = arrivals(&got, 2).await;
    let kinds: Vec<Value> = all.iter().map(|r| r.event()["type"].clone()).collect();
    assert_eq!(
        kinds,
        [
            json!("conversation.status_changed"),
            json!("conversation.assigned")
        ]
    );
    let changed = all[0].event();
    assert_eq!(changed["data"]["previousStatus"], "waiting");
    assert_eq!(changed["data"]["conversation"]["status"], "active");
    assert_eq!(all[1].event()["data"]["agentId"], "agent-h");
}

#[actix_web::test]
async fn retry_after_is_honoured_and_gone_disables_the_endpoint() {
    let app = private_ok().await;
    let admin = app.token("boss", "admin");
    let (url, got) = scripted(vec![(503, Some(2)), (410, None)]).await;
    let (id, _) = endpoint(&app, &url, &["message.created"]).await;
    let mut guest = app.customer(&uid("hook"), None).await;
    guest
        .send(json!({"type": "customer_message", "message": "one"}))
        .await;
    guest.recv_type("message_ack").await;
    let all = arrivals(&got, 2).await;
    let waited = all[1].at - all[0].at;
    assert!(
        waited >= std::time::Duration::from_millis(1900),
        "retried after {waited:?}"
    );
    // 410: the endpoint is off, with the reason, and gets nothing more.
    let path = format!("/api/admin/webhooks/{id}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let shown = loop {
        let (_, shown) = app.call("GET", &path, None, Some(&admin)).await;
        if shown["data"]["enabled"] == false {
            break shown;
        }
        assert!(std::time::Instant::now() < deadline, "{shown}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(
        shown["data"]["disabledReason"],
        "the receiver answered 410 Gone"
    );
    guest
        .send(json!({"type": "customer_message", "message": "two"}))
        .await;
    guest.recv_type("message_ack").await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(got.lock().unwrap().len(), 2);
}

#[actix_web::test]
async fn a_server_restarted_between_attempts_still_delivers() {
    let app = spawn_with(|c| {
        c.allow_private_webhooks = true;
        c.webhook_retry_schedule = [0, 1500].map(std::time::Duration::from_millis).to_vec();
    })
    .await;
    let (url, got) = scripted(vec![(500, None)]).await;
    endpoint(&app, &url, &["message.created"]).await;
    let mut guest = app.customer(&uid("hook"), None).await;
    guest
        .send(json!({"type": "customer_message", "message": "before the restart"}))
        .await;
    guest.recv_type("message_ack").await;
    arrivals(&got, 1).await;
    drop(guest);
    // The next attempt is due after the process that made the first is gone.
    let _app = app.restart_gracefully().await;
    let all = arrivals(&got, 2).await;
    assert_eq!(all[0].id, all[1].id);
    assert_eq!(
        all[1].event()["data"]["message"]["content"],
        "before the restart"
    );
}

#[actix_web::test]
async fn reads_streams_and_verified_codes_are_events_too() {
    let app = private_ok().await;
    let admin = app.token("boss", "admin");
    let (url, got) = receiver().await;
    let events = [
        "message.read",
        "stream.started",
        "stream.stopped",
        "auth_code.verified",
    ];
    endpoint(&app, &url, &events).await;

    // A stream from start to stop, with its figures.
    let body = json!({"title": "Launch", "description": "d", "streamUrl": "http://s.example/x", "quality": "720p"});
    let (_, started) = app
        .call("POST", "/api/live/streams", Some(&body), Some(&admin))
        .await;
    let stream_id = started["data"]["streamId"].as_str().unwrap().to_owned();
    let stop = format!("/api/live/streams/{stream_id}/stop");
    assert_eq!(app.call("POST", &stop, None, Some(&admin)).await.0, 200);
    let all = arrivals(&got, 2).await;
    let (start, end) = (all[0].event(), all[1].event());
    assert_eq!(
        (start["type"].as_str(), end["type"].as_str()),
        (Some("stream.started"), Some("stream.stopped"))
    );
    assert_eq!(start["data"]["stream"]["streamId"], stream_id.as_str());
    assert_eq!(end["data"]["stream"]["likes"], 0);
    assert!(end["data"]["stream"]["durationSeconds"].is_i64(), "{end}");

    // A guest's onboarding conversation.
    let (_, g) = app
        .call(
            "POST",
            "/api/support/conversation/guest",
            Some(&json!({"type": "onboarding"})),
            None,
        )
        .await;
    let guest_id = g["guestId"].as_str().unwrap().to_owned();
    let conversation = g["conversation"]["id"].as_str().unwrap().to_owned();
    // A code issued to the guest (its message is in the conversation) is verified.
    let (_, issued) = app
        .call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&json!({"guestId": guest_id})),
            Some(&admin),
        )
        .await;
    let code = issued["code"].as_str().unwrap().to_owned();
    let verify = json!({"code": code, "guestId": guest_id});
    let (status, _) = app
        .call(
            "POST",
            "/api/support/onboarding/verify-code",
            Some(&verify),
            None,
        )
        .await;
    assert_eq!(status, 200);
    // And an agent reads the conversation.
    let mut agent = app.staff("agent-r", "agent").await;
    agent
        .send(json!({"type": "read", "sessionId": conversation}))
        .await;
    let all = arrivals(&got, 4).await;
    let read = all
        .iter()
        .map(Received::event)
        .find(|e| e["type"] == "message.read")
        .expect("message.read");
    assert_eq!(
        (
            read["data"]["conversationId"].as_str(),
            read["data"]["readerId"].as_str()
        ),
        (Some(conversation.as_str()), Some("agent-r"))
    );
    let verified = all
        .iter()
        .map(Received::event)
        .find(|e| e["type"] == "auth_code.verified")
        .expect("auth_code.verified");
    assert_eq!(verified["data"]["guestId"], guest_id.as_str());
    assert_eq!(verified["data"]["conversationId"], conversation.as_str());
}

#[actix_web::test]
async fn deliveries_are_listed_with_their_attempts_and_replayed() {
    let app = private_ok().await;
    let admin = app.token("boss", "admin");
    // Four attempts on the schedule, all refused: the event fails for good.
    let (url, got) = scripted(vec![(500, None); 4]).await;
    let (id, _) = endpoint(&app, &url, &["message.created"]).await;
    let mut guest = app.customer(&uid("hook"), None).await;
    guest
        .send(json!({"type": "customer_message", "message": "lost?"}))
        .await;
    guest.recv_type("message_ack").await;
    arrivals(&got, 4).await;
    let list = format!("/api/admin/webhooks/{id}/deliveries?status=failed");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let failed = loop {
        let (_, page) = app.call("GET", &list, None, Some(&admin)).await;
        if page["data"].as_array().is_some_and(|d| d.len() == 1) {
            break page["data"][0].clone();
        }
        assert!(std::time::Instant::now() < deadline, "{page}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(
        (failed["attempts"].as_i64(), failed["lastStatus"].as_i64()),
        (Some(4), Some(500))
    );
    assert_eq!(failed["payload"]["data"]["message"]["content"], "lost?");
    let pos = failed["pos"].as_i64().unwrap();

    // Replayed, it is accepted now (the receiver's script is spent), under its own id.
    let replay = format!("/api/admin/webhooks/{id}/deliveries/{pos}/replay");
    let (status, r) = app.call("POST", &replay, None, Some(&admin)).await;
    assert_eq!(
        (status, r["data"]["replayed"].as_u64()),
        (200, Some(1)),
        "{r}"
    );
    let all = arrivals(&got, 5).await;
    assert_eq!(all[4].id, all[0].id);
    let delivered = format!("/api/admin/webhooks/{id}/deliveries?status=delivered");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (_, page) = app.call("GET", &delivered, None, Some(&admin)).await;
        if page["data"].as_array().is_some_and(|d| d.len() == 1) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{page}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // A range: everything again.
    let range = format!("/api/admin/webhooks/{id}/replay");
    let (status, r) = app
        .call("POST", &range, Some(&json!({"from": pos})), Some(&admin))
        .await;
    assert_eq!(
        (status, r["data"]["replayed"].as_u64()),
        (200, Some(1)),
        "{r}"
    );
    arrivals(&got, 6).await;
    // Bad input.
    let unknown = format!("/api/admin/webhooks/{id}/deliveries/999999/replay");
    assert_eq!(app.call("POST", &unknown, None, Some(&admin)).await.0, 404);
    let bad = format!("/api/admin/webhooks/{id}/deliveries?status=lost");
    assert_eq!(app.call("GET", &bad, None, Some(&admin)).await.0, 422);
    let agent = app.token("agent-x", "agent");
    assert_eq!(app.call("GET", &list, None, Some(&agent)).await.0, 403);
}

/// Run `deploy/verify_webhook.py` (the README's snippet) on what a receiver got.
fn python_verifies(secret: &str, r: &Received, body: &str) -> bool {
    use std::io::Write;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/verify_webhook.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the README's verification snippet");
    let input = json!({
        "secret": secret,
        "headers": {"webhook-id": r.id, "webhook-timestamp": r.timestamp, "webhook-signature": r.signature},
        "body": body,
    });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("python3");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim() == "true"
}

#[actix_web::test]
async fn the_readme_verification_snippet_accepts_real_deliveries_and_nothing_else() {
    let app = private_ok().await;
    let (url, got) = receiver().await;
    let (_, secret) = endpoint(&app, &url, &["message.created"]).await;
    let mut guest = app.customer(&uid("hook"), None).await;
    guest
        .send(json!({"type": "customer_message", "message": "verify me"}))
        .await;
    guest.recv_type("message_ack").await;
    let r = arrivals(&got, 1).await[0].clone();
    assert!(python_verifies(&secret, &r, &r.body));
    assert!(!python_verifies(
        &secret,
        &r,
        &r.body.replace("verify me", "verify us")
    ));
    assert!(!python_verifies(
        &switchboard::domain::webhook::new_secret(),
        &r,
        &r.body
    ));
    // The README shows the same function.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/verify_webhook.py"
    ))
    .unwrap();
    let start = script.find("def verify(").unwrap();
    let end = script.find("\n\n\nif __name__").unwrap();
    assert!(
        readme.contains(&script[start..end]),
        "the README's snippet is deploy/verify_webhook.py's"
    );
}

#[actix_web::test]
async fn endpoints_from_the_configuration_are_made_and_kept_in_line() {
    let (url, got) = receiver().await;
    let secret = switchboard::domain::webhook::new_secret();
    let seeded = |events: &[&str]| {
        json!([{"id": "crm", "url": url, "events": events, "secret": secret}]).to_string()
    };
    let first = seeded(&["message.created"]);
    let app = spawn_with(|c| {
        c.allow_private_webhooks = true;
        c.webhook_endpoints = Some(first);
    })
    .await;
    let admin = app.token("boss", "admin");
    let (_, list) = app
        .call("GET", "/api/admin/webhooks", None, Some(&admin))
        .await;
    assert_eq!(list["data"][0]["id"], "crm", "{list}");
    let mut guest = app.customer(&uid("hook"), None).await;
    guest
        .send(json!({"type": "customer_message", "message": "configured"}))
        .await;
    guest.recv_type("message_ack").await;
    let r = arrivals(&got, 1).await[0].clone();
    assert!(signed_by(&r, &secret), "signed with the configured secret");
    drop(guest);

    // The next start with other settings brings the endpoint in line, once.
    let mut config = app.config.clone();
    config.webhook_endpoints = Some(seeded(&["stream.started"]));
    app.handle.stop(true).await;
    let again = spawn_config(config, app._data.clone()).await;
    let (_, list) = again
        .call("GET", "/api/admin/webhooks", None, Some(&admin))
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["events"], json!(["stream.started"]));

    // Bad settings stop the start, saying what is wrong.
    let bad = [
        ("not json".to_owned(), "WEBHOOK_ENDPOINTS"),
        (
            json!([{"id": "x", "url": url, "events": ["nope"], "secret": secret}]).to_string(),
            "Unknown event",
        ),
        (
            json!([{"id": "x", "url": url, "events": ["message.created"], "secret": "plain"}])
                .to_string(),
            "secret must be whsec_",
        ),
        (
            json!([{"id": "x", "url": "ftp://x", "events": ["message.created"], "secret": secret}])
                .to_string(),
            "url must start with",
        ),
        (
            json!([
                {"id": "x", "url": url, "events": ["message.created"], "secret": secret},
                {"id": "x", "url": url, "events": ["message.created"], "secret": secret}
            ])
            .to_string(),
            "same id",
        ),
    ];
    for (json, want) in bad {
        let data = tempfile::TempDir::new().expect("temp dir");
        let mut config = test_config(&data);
        config.webhook_endpoints = Some(json);
        let e = switchboard::startup::start(config)
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains(want), "{e}");
    }
}
