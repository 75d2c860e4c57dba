//! Anonymous sessions (seed 000) whose id the client chose: the id alone is useless.
//! A session belongs to the browser that first used it (an HttpOnly cookie), and
//! otherwise to whoever holds its secret (`registered`'s `sessionSecret`).

use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use crate::helpers::*;

/// `session_` + `Date.now()`: what seed 000's frontends may use, and what an attacker
/// can enumerate (60,000 candidates a minute).
fn guessable_id() -> String {
    format!(
        "session_{}{:03}",
        chrono::Utc::now().timestamp_millis(),
        rand_suffix()
    )
}

fn rand_suffix() -> u16 {
    (uuid::Uuid::new_v4().as_u128() % 1000) as u16
}

/// A REST call from another browser: no cookie, maybe a session secret.
async fn stranger(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<Value>,
    secret: Option<&str>,
) -> (u16, Value) {
    let method = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = awc::Client::new().request(method, app.url(path));
    if let Some(s) = secret {
        req = req.insert_header(("x-session-secret", s));
    }
    let mut res = match body {
        Some(b) => req.send_json(&b).await,
        None => req.send().await,
    }
    .expect("request");
    let status = res.status().as_u16();
    (status, res.json::<Value>().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn a_guessed_session_id_gets_nothing_and_the_owner_keeps_working() {
    let app = spawn_app().await;
    let session = guessable_id();
    let mut staff = app.staff("agent", "agent").await;

    // The owner's browser: its first upgrade sets the HttpOnly cookie.
    let (res, framed) = awc::Client::new()
        .ws(format!("ws://{}/ws", app.addr))
        .connect()
        .await
        .expect("ws");
    let set_cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a cookie on the upgrade")
        .to_owned();
    for attribute in ["sb_key=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let mut owner = WsClient { framed };
    owner
        .send(json!({"type": "register", "sessionId": session}))
        .await;
    let registered = owner.recv_type("registered").await;
    let secret = registered["sessionSecret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    owner
        .send(json!({"type": "customer_message", "message": "my address is 1 Main St", "clientId": "m1"}))
        .await;
    owner.recv_type("message_ack").await;
    staff.recv_type("customer_message").await;
    staff
        .send(json!({"type": "staff_message", "sessionId": session, "content": "thanks, Olga"}))
        .await;
    staff.recv_type("message_ack").await;
    owner.recv_type("staff_reply").await;

    // Someone who knows (or guessed) only the id: nothing, on any surface.
    let mut guesser = app.stranger_ws().await;
    guesser
        .send(json!({"type": "register", "sessionId": session}))
        .await;
    guesser
        .expect_error("Access denied to this conversation")
        .await;
    guesser
        .send(json!({"type": "history", "sessionId": session}))
        .await;
    guesser
        .expect_error("Access denied to this conversation")
        .await;
    guesser
        .send(json!({"type": "register", "sessionId": session, "sessionSecret": "0".repeat(64)}))
        .await;
    guesser
        .expect_error("Access denied to this conversation")
        .await;
    let history = format!("/api/chat/sessions/{session}/messages");
    for secret in [None, Some("not-the-secret")] {
        let (status, body) = stranger(&app, "GET", &history, None, secret).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.get("messages").is_none());
    }
    let post = json!({"sessionId": session, "message": "injected"});
    let (status, _) = stranger(&app, "POST", "/api/chat/send-to-staff", Some(post), None).await;
    assert_eq!(status, 403);
    staff.expect_silence(200).await;

    // The owner's browser reconnects (its cookie goes with it), as seed 000's widget
    // does, with no change to the frontend: everything is there.
    let (_, framed) = awc::Client::new()
        .ws(format!("ws://{}/ws", app.addr))
        .set_header("cookie", cookie.clone())
        .connect()
        .await
        .expect("ws");
    let mut back = WsClient { framed };
    back.send(json!({"type": "register", "sessionId": session}))
        .await;
    assert_eq!(
        back.recv_type("registered").await["sessionSecret"],
        secret.as_str()
    );
    back.send(json!({"type": "history", "sessionId": session}))
        .await;
    assert_eq!(
        texts(&back.recv_type("history").await),
        vec!["my address is 1 Main St", "thanks, Olga"]
    );
    let mut res = awc::Client::new()
        .get(app.url(&history))
        .insert_header(("cookie", cookie))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(texts(&res.json::<Value>().await.unwrap()).len(), 2);

    // A client without cookies proves itself with the secret instead.
    let mut app_client = app.stranger_ws().await;
    app_client
        .send(json!({"type": "register", "sessionId": session, "sessionSecret": secret}))
        .await;
    app_client.recv_type("registered").await;
    let (status, body) = stranger(&app, "GET", &history, None, Some(&secret)).await;
    assert_eq!((status, texts(&body).len()), (200, 2));
    let post = json!({"sessionId": session, "message": "from my app", "sessionSecret": secret});
    let (status, body) = stranger(&app, "POST", "/api/chat/send-to-staff", Some(post), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sessionSecret"], secret.as_str());
}

#[actix_web::test]
async fn a_session_started_over_rest_is_bound_to_that_browser() {
    let app = spawn_app().await;
    let session = guessable_id();
    let body = json!({"sessionId": session, "message": "hello over REST"});
    let (status, answer) = app.post_json("/api/chat/send-to-staff", &body, None).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["sessionSecret"].is_string());
    // The same browser (the cookie the answer set) registers; another may not.
    let _owner = app.customer(&session, None).await;
    let mut other = app.stranger_ws().await;
    other
        .send(json!({"type": "register", "sessionId": session}))
        .await;
    other
        .expect_error("Access denied to this conversation")
        .await;
}

/// Sessions stored before bindings existed belong to the next browser that uses one.
#[actix_web::test]
async fn an_unbound_session_from_before_is_bound_at_its_next_registration() {
    let app = spawn_app().await;
    let session = guessable_id();
    let mut owner = app.customer(&session, None).await;
    let body = json!({"sessionId": session, "message": "stored before the upgrade"});
    assert_eq!(
        app.post_json("/api/chat/send-to-staff", &body, None)
            .await
            .0,
        200
    );
    // As a row written by an older version.
    let settings = switchboard::db::DbSettings::for_url(&app.config.database_url());
    let mut conn = settings.connect().expect("db");
    conn.batch_execute(&format!(
        "UPDATE conversations SET anon_key = NULL WHERE id = '{session}'"
    ))
    .expect("unbind");
    // Until then it is nobody's: not readable by id, not even by its old browser.
    let history = format!("/api/chat/sessions/{session}/messages");
    assert_eq!(stranger(&app, "GET", &history, None, None).await.0, 403);
    assert_eq!(app.get_json(&history, None).await.0, 403);
    let mut reader = app.stranger_ws().await;
    reader
        .send(json!({"type": "history", "sessionId": session}))
        .await;
    reader
        .expect_error("Access denied to this conversation")
        .await;
    // The next browser to register binds it; the first one is then a stranger.
    let mut next = app.stranger_ws().await;
    next.send(json!({"type": "register", "sessionId": session}))
        .await;
    next.recv_type("registered").await;
    // The earlier browser's listener is taken out of the room, and may not come back.
    let revoked = loop {
        let v = owner.recv().await;
        if v["type"] == "error" {
            break v;
        }
    };
    assert_eq!(revoked["message"], "Access denied to this conversation");
    let mut earlier = app.ws().await;
    earlier
        .send(json!({"type": "register", "sessionId": session}))
        .await;
    earlier
        .expect_error("Access denied to this conversation")
        .await;
}

/// Seed 000's widget sends `token: localStorage.getItem('token')`: a customer who
/// chatted anonymously and then signed in on the shop keeps the session (it stays the
/// browser's); a signed-in stranger does not get it.
#[actix_web::test]
async fn signing_in_keeps_the_browsers_anonymous_session() {
    let app = spawn_app().await;
    let session = guessable_id();
    let mut before = app.customer(&session, None).await;
    before
        .send(json!({"type": "customer_message", "message": "before signing in"}))
        .await;
    before.recv_type("message_ack").await;
    let token = app.token("olga", "customer");
    let mut after = app.ws().await;
    after
        .send(json!({"type": "register", "sessionId": session, "token": token}))
        .await;
    after.recv_type("registered").await;
    after
        .send(json!({"type": "customer_message", "message": "after signing in"}))
        .await;
    after.recv_type("message_ack").await;
    let body = json!({"sessionId": session, "message": "and over REST"});
    let (status, answer) = app
        .post_json("/api/chat/send-to-staff", &body, Some(&token))
        .await;
    assert_eq!(status, 200, "{answer}");
    let mut other = app.stranger_ws().await;
    other
        .send(json!({"type": "register", "sessionId": session, "token": app.token("mallory", "customer")}))
        .await;
    other
        .expect_error("Access denied to this conversation")
        .await;
}

/// Staff send a file into an anonymous session: its browser downloads it, a client
/// with the session's secret too, a stranger not.
#[actix_web::test]
async fn an_anonymous_sessions_files_are_its_browsers() {
    let app = spawn_app().await;
    let session = guessable_id();
    let mut customer = app.ws().await;
    customer
        .send(json!({"type": "register", "sessionId": session}))
        .await;
    let secret = customer.recv_type("registered").await["sessionSecret"]
        .as_str()
        .expect("secret")
        .to_owned();
    customer
        .send(json!({"type": "customer_message", "message": "send me the invoice"}))
        .await;
    customer.recv_type("message_ack").await;
    let agent = app.token("agent", "agent");
    let upload = form(&[], &[("invoice.txt", "text/plain", b"total 42\n")]);
    let (status, up) = send_form(&app, "/api/v1/chat/upload", &agent, upload).await;
    assert_eq!(status, 201, "{up}");
    let file = up["data"][0]["id"].as_str().expect("id").to_owned();
    let mut staff = app.staff("agent", "agent").await;
    staff
        .send(json!({"type": "staff_message", "sessionId": session, "content": "here", "attachments": [file]}))
        .await;
    staff.recv_type("message_ack").await;
    let path = format!("/api/v1/chat/attachments/{file}");
    let download = |cookie: bool, secret: Option<&str>| {
        let mut req = awc::Client::new().get(app.url(&path));
        if cookie {
            if let Some(c) = app.jar_cookie() {
                req = req.insert_header(("cookie", c));
            }
        }
        if let Some(s) = secret {
            req = req.insert_header(("x-session-secret", s.to_owned()));
        }
        async move { req.send().await.expect("GET").status().as_u16() }
    };
    assert_eq!(download(true, None).await, 200);
    assert_eq!(download(false, Some(&secret)).await, 200);
    assert_eq!(download(false, None).await, 403);
    assert_eq!(download(false, Some("00")).await, 403);
}
