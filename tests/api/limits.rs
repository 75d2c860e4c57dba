//! Frame size, rate limits, Origin, heartbeat and slow consumers.

use std::time::Duration;

use awc::ws::CloseCode;
use futures::StreamExt;
use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn oversized_frame_closes_only_that_connection() {
    let app = spawn_with(|c| c.max_frame_bytes = 1024).await;
    let session = uid("sess");
    let mut staff = app.staff("agent", "agent").await;
    let mut big = app.customer(&session, None).await;
    big.send(json!({"type": "customer_message", "message": "x".repeat(2000)}))
        .await;
    match big.next().await {
        Next::Closed(Some(reason)) => assert_eq!(reason.code, CloseCode::Size),
        other => panic!("expected a 1009 close, got {other:?}"),
    }
    app.metric_reaches(&ws_disconnects("too_large"), 1.0).await;
    staff.assert_alive().await;
    let mut again = app.customer(&session, None).await;
    again
        .send(json!({"type": "customer_message", "message": "small"}))
        .await;
    again.recv_type("message_ack").await;
    assert_eq!(
        staff.recv_type("customer_message").await["message"],
        "small"
    );
}

/// RFC 6455 §5.4: a message may come as a text frame without FIN and continuations.
#[actix_web::test]
async fn fragmented_messages_are_reassembled_and_bounded_as_a_whole() {
    use actix_http::ws::{Item, Message};
    use futures::SinkExt;
    let app = spawn_with(|c| c.max_frame_bytes = 1024).await;
    let mut c = app.ws().await;
    let send = |item: Item| Message::Continuation(item);
    // `{"type":"ping"}` in two fragments, then in three: one pong each, no error.
    for parts in [
        vec![r#"{"type":"#, r#""ping"}"#],
        vec![r#"{"ty"#, r#"pe":"pi"#, r#"ng"}"#],
    ] {
        let last = parts.len() - 1;
        for (i, part) in parts.into_iter().enumerate() {
            let bytes = bytes::Bytes::from(part);
            let item = match i {
                0 => Item::FirstText(bytes),
                n if n == last => Item::Last(bytes),
                _ => Item::Continue(bytes),
            };
            c.framed.send(send(item)).await.expect("send");
        }
        assert_eq!(c.recv().await["type"], "pong");
    }
    // A fragmented registration and message work like whole ones.
    let session = uid("frag");
    let mut staff = app.staff("agent", "agent").await;
    let register = json!({"type": "register", "sessionId": session}).to_string();
    let (a, b) = register.split_at(10);
    c.framed
        .send(send(Item::FirstText(a.to_owned().into())))
        .await
        .expect("send");
    c.framed
        .send(send(Item::Last(b.to_owned().into())))
        .await
        .expect("send");
    c.recv_type("registered").await;
    c.send(json!({"type": "customer_message", "message": "in one piece"}))
        .await;
    c.recv_type("message_ack").await;
    assert_eq!(
        staff.recv_type("customer_message").await["message"],
        "in one piece"
    );
    // Each fragment is small, the whole is over the 1024-byte limit: close 1009.
    c.framed
        .send(send(Item::FirstText("x".repeat(600).into())))
        .await
        .expect("send");
    c.framed
        .send(send(Item::Last("y".repeat(600).into())))
        .await
        .expect("send");
    match c.next().await {
        Next::Closed(Some(reason)) => assert_eq!(reason.code, CloseCode::Size),
        other => panic!("expected a 1009 close, got {other:?}"),
    }
    staff.assert_alive().await;
}

#[actix_web::test]
async fn flood_over_the_rate_limit_is_refused_not_fatal() {
    let app = spawn_with(|c| {
        c.rate_limit_per_sec = 5.0;
        c.rate_limit_burst = 10.0;
    })
    .await;
    let session = uid("sess");
    let mut staff = app.staff("agent", "agent").await;
    let mut flooder = app.customer(&session, None).await;
    for i in 0..40 {
        flooder
            .send(json!({"type": "customer_message", "message": format!("spam {i}")}))
            .await;
    }
    let (mut acks, mut limited) = (0, 0);
    for _ in 0..40 {
        let v = flooder.recv_main().await;
        match v["type"].as_str() {
            Some("message_ack") => acks += 1,
            Some("error") => {
                assert_eq!(v["message"], "Rate limit exceeded");
                assert_eq!(v["code"], "rate_limited");
                limited += 1;
            }
            _ => panic!("unexpected {v}"),
        }
    }
    // The burst (10, minus the register frame) gets through, the rest is refused; a
    // slow machine may refill a few tokens while the 40 frames go out.
    assert!((9..=15).contains(&acks), "acks {acks}");
    assert_eq!(acks + limited, 40);
    let m = app.metrics().await;
    assert_eq!(
        m.get(r#"switchboard_rate_limited_total{limit="frames"}"#),
        limited as f64
    );
    // Staff saw exactly the accepted messages; others are unaffected, and the
    // flooder recovers once its bucket refills.
    for _ in 0..acks {
        staff.recv_type("customer_message").await;
    }
    staff.assert_alive().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    flooder.assert_alive().await;
    let (_, h) = app
        .get_json(
            &format!("/api/chat/sessions/{session}/messages?limit=200"),
            None,
        )
        .await;
    assert_eq!(h["messages"].as_array().unwrap().len(), acks);
}

#[actix_web::test]
async fn disallowed_origin_is_refused_at_upgrade() {
    let app = spawn_with(|c| c.allowed_origins = vec!["https://shop.example".into()]).await;
    let refused = awc::Client::new()
        .ws(format!("ws://{}/ws", app.addr))
        .origin("https://evil.example")
        .connect()
        .await;
    match refused {
        Err(awc::error::WsClientError::InvalidResponseStatus(s)) => assert_eq!(s.as_u16(), 403),
        Err(e) => panic!("expected 403, got {e}"),
        Ok(_) => panic!("a disallowed origin connected"),
    }
    let allowed = awc::Client::new()
        .ws(format!("ws://{}/ws", app.addr))
        .origin("https://shop.example")
        .connect()
        .await;
    assert!(allowed.is_ok());
}

#[actix_web::test]
async fn same_host_origin_is_the_default() {
    let app = spawn_app().await;
    let own = format!("http://{}", app.addr);
    let ws = format!("ws://{}/ws", app.addr);
    assert!(awc::Client::new()
        .ws(ws.as_str())
        .origin(own.as_str())
        .connect()
        .await
        .is_ok());
    match awc::Client::new()
        .ws(ws.as_str())
        .origin("http://elsewhere.example")
        .connect()
        .await
    {
        Err(awc::error::WsClientError::InvalidResponseStatus(s)) => assert_eq!(s.as_u16(), 403),
        Err(e) => panic!("expected 403, got {e}"),
        Ok(_) => panic!("another origin connected"),
    }
}

/// An upgrade (or a Socket.IO request) to this server, with these headers: its status.
async fn status_with(app: &TestApp, path: &str, origin: Option<&str>, host: &str) -> u16 {
    let url = format!("ws://{}{path}", app.addr);
    let mut ws = awc::Client::new().ws(url).set_header("host", host);
    if let Some(o) = origin {
        ws = ws.origin(o);
    }
    let ws_status = match ws.connect().await {
        Ok((res, _)) => res.status().as_u16(),
        Err(awc::error::WsClientError::InvalidResponseStatus(s)) => s.as_u16(),
        Err(e) => panic!("{e}"),
    };
    if path.starts_with("/socket.io/") {
        // Polling goes by the same rules.
        let mut get = awc::Client::new()
            .get(format!(
                "http://{}/socket.io/?EIO=4&transport=polling",
                app.addr
            ))
            .insert_header(("host", host));
        if let Some(o) = origin {
            get = get.insert_header(("origin", o));
        }
        let poll_status = get.send().await.expect("GET").status().as_u16();
        assert_eq!(
            poll_status == 200,
            ws_status == 101,
            "{path} {origin:?} {host}"
        );
    }
    ws_status
}

/// DNS rebinding: a page on `http://evil.example:PORT` whose name resolves to this
/// server sends matching Origin and Host headers that name a stranger.
#[actix_web::test]
async fn dns_rebinding_is_refused_and_public_url_names_the_server() {
    let app = spawn_app().await;
    let port = app.addr.port();
    let evil_host = format!("evil.example:{port}");
    let evil_origin = format!("http://{evil_host}");
    let own_host = format!("127.0.0.1:{port}");
    let own_origin = format!("http://{own_host}");
    let local = format!("localhost:{port}");
    for path in ["/ws", "/socket.io/?EIO=4&transport=websocket"] {
        assert_eq!(
            status_with(&app, path, Some(&evil_origin), &evil_host).await,
            403
        );
        assert_eq!(status_with(&app, path, None, &evil_host).await, 403);
        assert_eq!(
            status_with(&app, path, Some(&evil_origin), &own_host).await,
            403
        );
        assert_eq!(
            status_with(&app, path, Some(&own_origin), &own_host).await,
            101
        );
        assert_eq!(status_with(&app, path, None, &local).await, 101);
    }

    let public = spawn_with(|c| c.public_url = Some("https://chat.example".into())).await;
    for path in ["/ws", "/socket.io/?EIO=4&transport=websocket"] {
        let ok = status_with(&public, path, Some("https://chat.example"), "chat.example").await;
        assert_eq!(ok, 101);
        assert_eq!(
            status_with(&public, path, None, "chat.example:443").await,
            101
        );
        // Loopback names are no longer the server's address, nor is http.
        let own = format!("127.0.0.1:{}", public.addr.port());
        assert_eq!(status_with(&public, path, None, &own).await, 403);
        let http = status_with(&public, path, Some("http://chat.example"), "chat.example").await;
        assert_eq!(http, 403);
    }
}

#[actix_web::test]
async fn silent_client_is_closed_after_the_heartbeat_timeout() {
    let app = spawn_with(|c| {
        c.heartbeat_interval = Duration::from_millis(100);
        c.client_timeout = Duration::from_millis(500);
    })
    .await;
    let mut silent = app.ws().await;
    // Read without answering pings: the server must give up on us.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match silent.framed.next().await {
                Some(Ok(awc::ws::Frame::Close(reason))) => return reason.map(|r| r.code),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await
    .expect("closed in time");
    assert_eq!(closed, Some(CloseCode::Away));
    app.metric_reaches(&ws_disconnects("heartbeat_timeout"), 1.0)
        .await;

    // A client that answers pings stays connected well past the timeout.
    let mut live = app.ws().await;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, live.framed.next()).await {
            Ok(Some(Ok(awc::ws::Frame::Ping(p)))) => {
                use futures::SinkExt;
                live.framed.send(awc::ws::Message::Pong(p)).await.unwrap();
            }
            Ok(Some(Ok(awc::ws::Frame::Close(r)))) => panic!("closed: {r:?}"),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => break,
        }
    }
    live.assert_alive().await;
}

#[actix_web::test]
async fn a_stuck_reader_is_disconnected_without_holding_up_others() {
    let app = spawn_with(|c| {
        c.outbound_queue = 64;
        c.heartbeat_interval = Duration::from_millis(500);
        // Long enough that its full queue, not its silence, is what ends the stuck
        // reader, even on a loaded machine.
        c.client_timeout = Duration::from_secs(6);
        c.identity_rate_limit_per_sec = 1e6;
        c.identity_rate_limit_burst = 1e6;
        c.max_message_chars = 60_000;
    })
    .await;
    let mut fast = app.staff("fast", "agent").await;
    let stuck = app.staff("stuck", "agent").await;
    let (_, health) = app.get_json("/health", None).await;
    assert_eq!(health["connections"]["staffConnections"], 2);

    // ~24 MB of customer messages: far more than the socket buffers hold for a reader
    // that never reads. Few and large (each still within a client's 64 KiB frame), so
    // the buffers fill in few requests, long before its silence would end it.
    let session = uid("sess");
    let text = "z".repeat(60_000);
    let total = 400;
    let sends = (0..total).map(|i| {
        let body = json!({"sessionId": session, "message": text, "clientId": format!("c{i}")});
        let app = &app;
        async move {
            app.post_json("/api/chat/send-to-staff", &body, None)
                .await
                .0
        }
    });
    let reader = async {
        for _ in 0..total {
            fast.recv_type("customer_message").await;
        }
    };
    let sender = futures::stream::iter(sends)
        .buffer_unordered(16)
        .collect::<Vec<u16>>();
    let (statuses, ()) = futures::join!(sender, reader);
    assert!(statuses.iter().all(|s| *s == 200));

    let (_, health) = app.get_json("/health", None).await;
    assert!(
        health["connections"]["slowConsumersEvicted"]
            .as_u64()
            .unwrap()
            >= 1,
        "{health}"
    );
    assert_eq!(health["connections"]["staffConnections"], 1);
    assert!(
        app.metrics()
            .await
            .get("switchboard_outbound_cutoffs_total")
            >= 1.0
    );

    // Its socket is really gone: the kernel gave up on the unacknowledged data and reset
    // it, so reading now ends in an error rather than, after a drained backlog, a close frame.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut stuck = stuck;
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stuck.framed.next().await {
                Some(Ok(awc::ws::Frame::Close(reason))) => {
                    return format!("closed politely: {reason:?}")
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return "reset".to_owned(),
            }
        }
    })
    .await
    .expect("the stuck socket ends");
    assert_eq!(ended, "reset");
    // Counted as cut off (not as lost) once its actor has stopped with the socket.
    app.metric_reaches(&ws_disconnects("slow_consumer"), 1.0)
        .await;
}

#[actix_web::test]
async fn anonymous_creations_are_limited_per_ip() {
    let app = spawn_with(|c| {
        c.ip_rate_limit_per_sec = 0.01;
        c.ip_rate_limit_burst = 3.0;
    })
    .await;
    let _a = app.ws().await;
    let _b = app.ws().await;
    let body = json!({"sessionId": uid("sess"), "message": "hi"});
    assert_eq!(
        app.post_json("/api/chat/send-to-staff", &body, None)
            .await
            .0,
        200
    );
    // The fourth anonymous creation from this address is refused, on every path.
    match awc::Client::new()
        .ws(format!("ws://{}/ws", app.addr))
        .connect()
        .await
    {
        Err(awc::error::WsClientError::InvalidResponseStatus(s)) => assert_eq!(s.as_u16(), 429),
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    let (status, refused) = app.post_json("/api/chat/send-to-staff", &body, None).await;
    assert_eq!(status, 429);
    assert_eq!(refused["code"], "rate_limited");
    let m = app.metrics().await;
    assert_eq!(
        m.get(r#"switchboard_rate_limited_total{limit="addresses"}"#),
        2.0
    );
    // A signed-in customer is limited per identity instead.
    let token = app.token("cust", "customer");
    let body = json!({"sessionId": uid("sess"), "message": "hi"});
    assert_eq!(
        app.post_json("/api/chat/send-to-staff", &body, Some(&token))
            .await
            .0,
        200
    );
}

#[actix_web::test]
async fn a_connection_ends_when_its_token_expires() {
    let app = spawn_app().await;
    let token = app
        .keys
        .mint("shortlived", "agent", "Short", Duration::from_secs(2));
    let mut staff = app.ws().await;
    staff
        .send(json!({"type": "register_admin", "userId": "shortlived", "token": token}))
        .await;
    staff.recv_type("admin_registered").await;
    let expired = tokio::time::timeout(Duration::from_secs(6), staff.recv_type("error"))
        .await
        .expect("expiry in time");
    assert_eq!(expired["message"], "Token expired");
    match staff.next().await {
        Next::Closed(Some(reason)) => assert_eq!(reason.code, CloseCode::Policy),
        other => panic!("expected a policy close, got {other:?}"),
    }
    app.metric_reaches(&ws_disconnects("token_expired"), 1.0)
        .await;
    let (_, health) = app.get_json("/health", None).await;
    assert_eq!(health["connections"]["staffConnections"], 0);
}

#[actix_web::test]
async fn binary_and_ping_floods_are_rate_limited_too() {
    let app = spawn_with(|c| {
        c.rate_limit_per_sec = 1.0;
        c.rate_limit_burst = 5.0;
    })
    .await;
    let mut c = app.ws().await;
    for _ in 0..50 {
        use futures::SinkExt;
        c.framed
            .send(awc::ws::Message::Binary(bytes::Bytes::from_static(
                b"\x00\x01",
            )))
            .await
            .unwrap();
    }
    // Only the burst gets answers; the rest is dropped without a reply each.
    let mut errors = 0;
    while let Ok(v) = tokio::time::timeout(Duration::from_millis(500), c.recv()).await {
        assert_eq!(v["message"], "Invalid message format");
        errors += 1;
    }
    assert!((1..=6).contains(&errors), "errors {errors}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.assert_alive().await;
}

#[actix_web::test]
async fn one_identity_is_limited_across_connections_and_rest() {
    let app = spawn_with(|c| {
        c.identity_rate_limit_per_sec = 0.5;
        c.identity_rate_limit_burst = 6.0;
    })
    .await;
    let session = uid("sess");
    let mut tab1 = app.customer(&session, None).await;
    let mut tab2 = app.customer(&session, None).await;
    // Six posts spread over two connections and REST use up the identity's burst...
    for tab in [&mut tab1, &mut tab2] {
        for _ in 0..2 {
            tab.send(json!({"type": "customer_message", "message": "hi"}))
                .await;
            assert_eq!(skip_echoes(tab).await["type"], "message_ack");
        }
    }
    let body = json!({"sessionId": session, "message": "via REST"});
    for _ in 0..2 {
        assert_eq!(
            app.post_json("/api/chat/send-to-staff", &body, None)
                .await
                .0,
            200
        );
    }
    // ...so the next one is refused on every path, with a clear error.
    let (status, refused) = app.post_json("/api/chat/send-to-staff", &body, None).await;
    assert_eq!(status, 429);
    assert_eq!(refused["message"], "Rate limit exceeded");
    assert_eq!(refused["code"], "rate_limited");
    tab2.send(json!({"type": "customer_message", "message": "one more"}))
        .await;
    assert_eq!(
        skip_echoes(&mut tab2).await["message"],
        "Rate limit exceeded"
    );
    let m = app.metrics().await;
    assert_eq!(
        m.get(r#"switchboard_rate_limited_total{limit="posts"}"#),
        2.0
    );
    // Another identity is unaffected.
    let other = json!({"sessionId": uid("sess"), "message": "hello"});
    assert_eq!(
        app.post_json("/api/chat/send-to-staff", &other, None)
            .await
            .0,
        200
    );
    let (_, h) = app
        .get_json(&format!("/api/chat/sessions/{session}/messages"), None)
        .await;
    assert_eq!(h["messages"].as_array().unwrap().len(), 6);
}

/// The next frame that is not another connection's `customer_message` echo.
async fn skip_echoes(c: &mut WsClient) -> serde_json::Value {
    loop {
        let v = c.recv_main().await;
        if v["type"] != "customer_message" {
            return v;
        }
    }
}

#[actix_web::test]
async fn one_connection_cannot_register_sessions_without_end() {
    let app = spawn_with(|c| {
        c.rate_limit_per_sec = 1000.0;
        c.rate_limit_burst = 1000.0;
    })
    .await;
    let mut c = app.ws().await;
    for _ in 0..20 {
        c.send(json!({"type": "register", "sessionId": uid("sess")}))
            .await;
        c.recv_type("registered").await;
    }
    c.send(json!({"type": "register", "sessionId": uid("sess")}))
        .await;
    let e = c.expect_error("Rate limit exceeded").await;
    assert_eq!(e["detail"], "too many registrations on this connection");
    c.assert_alive().await;
}
