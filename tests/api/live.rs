//! The live stream (seed 002): state for late joiners, coalesced counts, likes, chat.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

async fn start_stream(app: &TestApp, token: &str) -> String {
    let body = json!({"title": "Product Launch Event", "description": "New serum collection", "streamUrl": "http://stream.example.com/live123", "quality": "1080p"});
    let (status, s) = app
        .call("POST", "/api/live/streams", Some(&body), Some(token))
        .await;
    assert_eq!(status, 201, "{s}");
    s["data"]["streamId"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_stream_from_start_to_stop() {
    let app = spawn_app().await;
    let host = app.token("host", "admin");
    let mut early = app.customer(&uid("viewer"), None).await;
    let id = start_stream(&app, &host).await;
    let started = early.recv_type("stream_started").await;
    let data = &started["streamData"];
    assert_eq!(
        (
            data["streamId"].as_str(),
            data["title"].as_str(),
            data["quality"].as_str()
        ),
        (
            Some(id.as_str()),
            Some("Product Launch Event"),
            Some("1080p")
        )
    );
    assert_eq!(
        (data["likes"].as_i64(), data["likedBy"].clone()),
        (Some(0), json!([]))
    );

    // Pinned products, sorted by display order, go to everyone.
    let products = json!([
        {"productId": "p2", "name": "Toner", "price": 19.5, "image": "/t.jpg", "displayOrder": 2},
        {"productId": "p1", "name": "Hydrating Serum", "price": 49.99, "image": "/s.jpg", "displayOrder": 1}
    ]);
    let (status, _) = app
        .call(
            "PUT",
            &format!("/api/live/streams/{id}/pinned-products"),
            Some(&products),
            Some(&host),
        )
        .await;
    assert_eq!(status, 200);
    let pinned = early.recv_type("pinned_products_updated").await;
    assert_eq!(pinned["pinnedProducts"][0]["productId"], "p1");

    // Chat: the server sets name, isAdmin and time; a forged isAdmin is ignored.
    early.send(json!({"type": "chat_message", "username": "JohnDoe", "message": "This product looks amazing!", "isAdmin": true, "timestamp": "1999-01-01T00:00:00.000Z"})).await;
    let line = early.recv_type("chat_message").await;
    assert_eq!(
        (
            line["username"].as_str(),
            line["message"].as_str(),
            line["isAdmin"].as_bool()
        ),
        (
            Some("JohnDoe"),
            Some("This product looks amazing!"),
            Some(false)
        )
    );
    assert_ne!(line["timestamp"], "1999-01-01T00:00:00.000Z");
    let mut staff = app.staff("host", "admin").await;
    staff.recv_type("stream_started").await;
    staff
        .send(
            json!({"type": "chat_message", "username": "Impostor", "message": "Welcome everyone!"}),
        )
        .await;
    let line = staff.recv_until(|v| v["type"] == "chat_message").await;
    assert_eq!(
        (line["username"].as_str(), line["isAdmin"].as_bool()),
        (Some("host name"), Some(true))
    );

    // A late joiner gets the state, the pinned products and the recent chat.
    let mut late = app.customer(&uid("viewer"), None).await;
    assert_eq!(
        late.recv_type("stream_started").await["streamData"]["streamId"],
        id.as_str()
    );
    assert_eq!(
        late.recv_type("pinned_products_updated").await["pinnedProducts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let history = late.recv_type("chat_history").await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        vec!["This product looks amazing!", "Welcome everyone!"]
    );

    // Likes are deduplicated by session (or user), across reconnects too.
    let session = uid("liker");
    let mut liker = app.customer(&session, None).await;
    liker.send(json!({"type": "toggle_like"})).await;
    let update = liker
        .recv_until(|v| v["type"] == "stream_update" && v["likes"] == 1)
        .await;
    assert_eq!(update["likedBy"], json!([session]));
    drop(liker);
    let mut again = app.customer(&session, None).await;
    again.send(json!({"type": "toggle_like"})).await; // the same session: an unlike
    again
        .recv_until(|v| v["type"] == "stream_update" && v["likes"] == 0)
        .await;
    again.send(json!({"type": "toggle_like"})).await;
    again
        .recv_until(|v| v["type"] == "stream_update" && v["likes"] == 1)
        .await;

    // Stop: everyone hears it; the figures are kept.
    let (status, stopped) = app
        .call(
            "POST",
            &format!("/api/live/streams/{id}/stop"),
            None,
            Some(&host),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(stopped["data"]["likes"], 1);
    assert!(stopped["data"]["peakViewers"].as_i64().unwrap() >= 3);
    late.recv_until(|v| v["type"] == "stream_stopped" && v["streamId"] == id.as_str())
        .await;
    let (_, current) = app
        .call("GET", "/api/live/streams/current", None, None)
        .await;
    assert_eq!(current["data"]["isActive"], false);
    let (_, past) = app.call("GET", "/api/live/streams", None, None).await;
    let mine = past["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["streamId"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (mine["likes"].as_i64(), mine["title"].as_str()),
        (Some(1), Some("Product Launch Event"))
    );
    assert!(mine["durationSeconds"].is_i64());
}

#[actix_web::test]
async fn viewer_counts_are_coalesced() {
    let app = spawn_app().await;
    let host = app.token("host", "admin");
    start_stream(&app, &host).await;
    let mut watcher = app.customer(&uid("watcher"), None).await;
    watcher.recv_type("stream_started").await;
    let mut crowd = Vec::new();
    for _ in 0..30 {
        crowd.push(app.customer(&uid("v"), None).await);
    }
    // 30 joins do not make 30 broadcasts: a few updates, the last with everyone counted.
    let mut updates = 0;
    let mut last = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1200);
    while let Ok(v) = tokio::time::timeout_at(deadline, watcher.recv()).await {
        if v["type"] == "stream_update" {
            updates += 1;
            last = v["viewerCount"].as_i64().unwrap();
        }
    }
    assert_eq!(last, 31);
    assert!(updates <= 8, "{updates} updates for 30 joins");
    let (_, current) = app
        .call("GET", "/api/live/streams/current", None, None)
        .await;
    assert_eq!(current["data"]["streamData"]["viewerCount"], 31);
}

#[actix_web::test]
async fn stream_bad_inputs_are_refused_and_the_stream_goes_on() {
    let app = spawn_with(|c| c.max_frame_bytes = 4096).await;
    let host = app.token("host", "admin");
    let customer = app.token("cust", "customer");
    let body = json!({"title": "x"});
    // Control without a staff token.
    assert_eq!(
        app.call("POST", "/api/live/streams", Some(&body), None)
            .await
            .0,
        401
    );
    assert_eq!(
        app.call("POST", "/api/live/streams", Some(&body), Some(&customer))
            .await
            .0,
        403
    );
    // Nothing live yet.
    let mut viewer = app.customer(&uid("viewer"), None).await;
    viewer.send(json!({"type": "toggle_like"})).await;
    viewer.expect_error("No active stream").await;
    viewer
        .send(json!({"type": "chat_message", "message": "hi"}))
        .await;
    viewer.expect_error("No active stream").await;
    let (status, _) = app
        .call("POST", "/api/live/streams/nope/stop", None, Some(&host))
        .await;
    assert_eq!(status, 409);

    let id = start_stream(&app, &host).await;
    viewer.recv_type("stream_started").await;
    assert_eq!(
        app.call("POST", "/api/live/streams", Some(&body), Some(&host))
            .await
            .0,
        409,
        "one stream at a time"
    );
    assert_eq!(
        app.call(
            "POST",
            &format!("/api/live/streams/{id}/stop"),
            None,
            Some(&customer)
        )
        .await
        .0,
        403
    );
    let bad = json!([{"productId": "p", "name": "x", "price": -1}]);
    assert_eq!(
        app.call(
            "PUT",
            &format!("/api/live/streams/{id}/pinned-products"),
            Some(&bad),
            Some(&host)
        )
        .await
        .0,
        422
    );
    // A like from a connection that never registered.
    let mut stranger = app.ws().await;
    stranger.send(json!({"type": "toggle_like"})).await;
    stranger.expect_error("Not registered").await;
    // Over-long chat; a frame over the limit closes only that connection.
    viewer
        .send(json!({"type": "chat_message", "message": "x".repeat(600)}))
        .await;
    viewer
        .expect_error("Message too long (max 500 characters)")
        .await;
    let mut big = app.customer(&uid("big"), None).await;
    big.recv_type("stream_started").await;
    big.send(json!({"type": "chat_message", "message": "x".repeat(1024 * 1024)}))
        .await;
    // Only that connection closes (1009); frames already queued may come first.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match big.next().await {
                Next::Closed(_) | Next::Ended => return true,
                Next::Json(_) => continue,
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(true));
    viewer
        .send(json!({"type": "chat_message", "message": "still here"}))
        .await;
    viewer
        .recv_until(|v| v["type"] == "chat_message" && v["message"] == "still here")
        .await;

    let (status, _) = app
        .call(
            "POST",
            &format!("/api/live/streams/{id}/stop"),
            None,
            Some(&host),
        )
        .await;
    assert_eq!(status, 200);
    // Pinning on a stopped stream.
    let ok = json!([{"productId": "p", "name": "x", "price": 1}]);
    assert_eq!(
        app.call(
            "PUT",
            &format!("/api/live/streams/{id}/pinned-products"),
            Some(&ok),
            Some(&host)
        )
        .await
        .0,
        409
    );
}

#[actix_web::test]
async fn webrtc_signalling_is_relayed_only_between_real_peers() {
    let app = spawn_app().await;
    let mut host = app.staff("host", "admin").await;
    host.send(json!({"type": "webrtc_register", "peerId": "peer-admin", "userType": "admin"}))
        .await;
    assert_eq!(
        host.recv_type("webrtc_registered").await,
        json!({"type": "webrtc_registered", "peerId": "peer-admin", "userType": "admin"})
    );
    let mut a = app.customer(&uid("a"), None).await;
    a.send(json!({"type": "webrtc_register", "peerId": "peer-c1", "userType": "customer"}))
        .await;
    a.recv_type("webrtc_registered").await;

    // Broadcast: customers hear of the broadcaster; the broadcaster meets them.
    host.send(json!({"type": "webrtc_broadcast_start", "peerId": "peer-admin"}))
        .await;
    assert_eq!(
        a.recv_type("webrtc_broadcaster_available").await["broadcaster"],
        "peer-admin"
    );
    assert_eq!(
        host.recv_type("webrtc_new_customer").await["customerId"],
        "peer-c1"
    );
    let mut b = app.customer(&uid("b"), None).await;
    b.send(json!({"type": "webrtc_register", "peerId": "peer-c2", "userType": "customer"}))
        .await;
    b.recv_type("webrtc_registered").await;
    assert_eq!(
        b.recv_type("webrtc_broadcaster_available").await["broadcaster"],
        "peer-admin"
    );
    assert_eq!(
        host.recv_type("webrtc_new_customer").await["customerId"],
        "peer-c2"
    );

    // Offer, answer and candidates reach only the peer named in `to`.
    let offer = json!({"type": "offer", "sdp": "v=0..."});
    host.send(
        json!({"type": "webrtc_offer", "from": "peer-admin", "to": "peer-c1", "offer": offer}),
    )
    .await;
    let got = a.recv_type("webrtc_offer").await;
    assert_eq!(
        (
            got["from"].as_str(),
            got["to"].as_str(),
            got["offer"].clone()
        ),
        (Some("peer-admin"), Some("peer-c1"), offer)
    );
    a.send(json!({"type": "webrtc_answer", "from": "peer-c1", "to": "peer-admin", "answer": {"type": "answer", "sdp": "v=0"}})).await;
    assert_eq!(
        host.recv_type("webrtc_answer").await["answer"]["type"],
        "answer"
    );
    let candidate = json!({"candidate": "candidate:1 1 UDP 1 10.0.0.1 5000 typ host", "sdpMLineIndex": 0, "sdpMid": "0"});
    a.send(json!({"type": "webrtc_ice_candidate", "from": "peer-c1", "to": "peer-admin", "candidate": candidate})).await;
    assert_eq!(
        host.recv_type("webrtc_ice_candidate").await["candidate"],
        candidate
    );
    b.expect_silence(200).await;

    // Spoofing and strangers are refused.
    b.send(json!({"type": "webrtc_offer", "from": "peer-c1", "to": "peer-admin", "offer": {}}))
        .await;
    b.expect_error("Not your peer").await;
    b.send(json!({"type": "webrtc_offer", "from": "peer-c2", "to": "peer-nobody", "offer": {}}))
        .await;
    b.expect_error("Peer not found").await;
    b.send(json!({"type": "webrtc_broadcast_start", "peerId": "peer-c2"}))
        .await;
    b.expect_error("Insufficient permissions").await;
    b.send(json!({"type": "webrtc_register", "peerId": "peer-x", "userType": "admin"}))
        .await;
    b.expect_error("Insufficient permissions").await;
    b.send(json!({"type": "webrtc_register", "peerId": "peer-c1", "userType": "customer"}))
        .await;
    b.expect_error("peerId already registered").await;
    let mut stranger = app.ws().await;
    stranger
        .send(json!({"type": "webrtc_register", "peerId": "s", "userType": "customer"}))
        .await;
    stranger.expect_error("Not registered").await;

    // The broadcaster's peers go away with its connection.
    drop(host);
    assert_eq!(
        a.recv_type("webrtc_broadcast_stopped").await["broadcaster"],
        "peer-admin"
    );
    assert_eq!(
        b.recv_type("webrtc_broadcast_stopped").await["broadcaster"],
        "peer-admin"
    );
    a.send(json!({"type": "webrtc_offer", "from": "peer-c1", "to": "peer-admin", "offer": {}}))
        .await;
    a.expect_error("Peer not found").await;
}

#[actix_web::test]
async fn staff_moderate_the_live_chat() {
    let app = spawn_app().await;
    let host_token = app.token("host", "admin");
    start_stream(&app, &host_token).await;
    let mut host = app.staff("host", "admin").await;
    let mut a = app.customer(&uid("a"), None).await;
    let mut b = app.customer(&uid("b"), None).await;

    a.send(json!({"type": "chat_message", "username": "Spammer", "message": "buy cheap stuff"}))
        .await;
    let spam = host.recv_until(|v| v["type"] == "chat_message").await;
    let spam_id = spam["id"].as_str().unwrap().to_owned();
    // Delete: every client drops it, and late joiners never see it.
    host.send(json!({"type": "chat_delete", "messageId": spam_id}))
        .await;
    assert_eq!(
        b.recv_until(|v| v["type"] == "chat_message_deleted").await["messageId"],
        spam_id.as_str()
    );
    let mut late = app.customer(&uid("late"), None).await;
    let history = late.recv_until(|v| v["type"] == "chat_history").await;
    assert_eq!(history["messages"], json!([]));

    // Mute the author of a message: they are refused, others talk on.
    host.send(json!({"type": "chat_mute", "messageId": spam_id, "durationSeconds": 60}))
        .await;
    host.send(json!({"type": "ping"})).await;
    host.recv_until(|v| v["type"] == "pong").await;
    a.send(json!({"type": "chat_message", "message": "again"}))
        .await;
    let muted = a.recv_until(|v| v["type"] == "error").await;
    assert_eq!(muted["message"], "You are timed out");
    b.send(json!({"type": "chat_message", "message": "hello"}))
        .await;
    b.recv_until(|v| v["type"] == "chat_message" && v["message"] == "hello")
        .await;

    // Slow mode: one message per N seconds per viewer; staff are exempt.
    host.send(json!({"type": "chat_slow_mode", "seconds": 30}))
        .await;
    assert_eq!(
        b.recv_until(|v| v["type"] == "chat_settings").await["slowModeSeconds"],
        30
    );
    b.send(json!({"type": "chat_message", "message": "too soon"}))
        .await;
    let slow = b.recv_until(|v| v["type"] == "error").await;
    assert_eq!(
        (slow["message"].as_str(), slow["code"].as_str()),
        (Some("Slow mode is on"), Some("rate_limited"))
    );
    for text in ["one", "two"] {
        host.send(json!({"type": "chat_message", "message": text}))
            .await;
        host.recv_until(|v| v["type"] == "chat_message" && v["message"] == text)
            .await;
    }

    // Only staff moderate, and only what exists.
    b.send(json!({"type": "chat_delete", "messageId": spam_id}))
        .await;
    assert_eq!(
        b.recv_until(|v| v["type"] == "error").await["message"],
        "No token, authorization denied"
    );
    host.send(json!({"type": "chat_delete", "messageId": "nope"}))
        .await;
    assert_eq!(
        host.recv_until(|v| v["type"] == "error").await["message"],
        "Message not found"
    );
    host.send(json!({"type": "chat_mute", "messageId": spam_id, "durationSeconds": 0}))
        .await;
    assert_eq!(
        host.recv_until(|v| v["type"] == "error").await["code"],
        "validation_failed"
    );
}

#[actix_web::test]
async fn like_floods_and_unauthorised_pins_are_refused() {
    let app = spawn_with(|c| {
        c.rate_limit_per_sec = 2.0;
        c.rate_limit_burst = 6.0;
    })
    .await;
    let host = app.token("host", "admin");
    let id = start_stream(&app, &host).await;
    let mut flooder = app.customer(&uid("flood"), None).await;
    let mut other = app.customer(&uid("other"), None).await;
    for _ in 0..40 {
        flooder.send(json!({"type": "toggle_like"})).await;
    }
    let mut limited = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(800);
    while let Ok(v) = tokio::time::timeout_at(deadline, flooder.recv()).await {
        if v["type"] == "error" {
            assert_eq!(v["message"], "Rate limit exceeded");
            limited += 1;
        }
    }
    assert!(limited >= 30, "{limited} refused of 40");
    // The stream goes on for everyone else, and likes stayed deduplicated (0 or 1).
    other
        .send(json!({"type": "chat_message", "message": "still streaming"}))
        .await;
    other.recv_until(|v| v["type"] == "chat_message").await;
    let (_, current) = app
        .call("GET", "/api/live/streams/current", None, None)
        .await;
    assert!(current["data"]["streamData"]["likes"].as_i64().unwrap() <= 1);

    let products = json!([{"productId": "p", "name": "x", "price": 1}]);
    let path = format!("/api/live/streams/{id}/pinned-products");
    assert_eq!(app.call("PUT", &path, Some(&products), None).await.0, 401);
    assert_eq!(
        app.call(
            "PUT",
            &path,
            Some(&products),
            Some(&app.token("c", "customer"))
        )
        .await
        .0,
        403
    );
    assert_eq!(
        app.call("POST", &format!("/api/live/streams/{id}/stop"), None, None)
            .await
            .0,
        401
    );
}

/// Stream chat may lose lines but not viewers: a viewer that stops reading is not cut
/// off. Its oldest unsent lines are skipped (at most `LANE_LINES` wait), and when it
/// reads again it is told how many it skipped before the newest; the others get every
/// line meanwhile.
#[actix_web::test]
async fn a_viewer_that_reads_slowly_skips_old_lines_but_stays_and_delays_nobody() {
    let app = spawn_with(|c| {
        c.outbound_queue = 256;
        c.rate_limit_per_sec = 1e6;
        c.rate_limit_burst = 1e6;
        c.identity_rate_limit_per_sec = 1e6;
        c.identity_rate_limit_burst = 1e6;
        c.stream_chat_per_minute = 0;
    })
    .await;
    let host_token = app.token("host", "admin");
    start_stream(&app, &host_token).await;
    let mut host = app.staff("host", "admin").await;
    let mut fast = app.customer(&uid("fast"), None).await;
    let mut slow = app.customer(&uid("slow"), None).await; // reads only at the end
    fast.recv_until(|v| v["type"] == "chat_history").await;
    // ~12 MB of chat: far more than the slow viewer's socket buffers hold.
    let line = "z".repeat(480);
    let total = 25_000;
    // Paced in batches the fast viewer has received before the next goes out, so only
    // the viewer that does not read falls behind.
    let (mut got, mut host_got) = (0, 0);
    for batch in 0..total / 100 {
        use futures::SinkExt;
        for i in 0..100 {
            let frame =
                json!({"type": "chat_message", "message": format!("{} {line}", batch * 100 + i)})
                    .to_string();
            host.framed
                .send(awc::ws::Message::Text(frame.into()))
                .await
                .unwrap();
        }
        while got < (batch + 1) * 100 {
            if fast.recv().await["type"] == "chat_message" {
                got += 1;
            }
        }
        // The host watches too: it reads its own lines back.
        while host_got < (batch + 1) * 100 {
            if host.recv().await["type"] == "chat_message" {
                host_got += 1;
            }
        }
    }
    assert_eq!(got, total);
    let (_, current) = app
        .call("GET", "/api/live/streams/current", None, None)
        .await;
    assert_eq!(
        current["data"]["streamData"]["viewerCount"], 3,
        "nobody was cut off"
    );
    let (_, health) = app.get_json("/health", None).await;
    assert_eq!(health["connections"]["slowConsumersEvicted"], 0, "{health}");

    // The slow viewer reads now: lines in order, then how many it skipped, then the
    // newest; each line read or counted as skipped, the last one read.
    let number = |v: &Value| -> usize {
        let text = v["message"].as_str().unwrap_or_default();
        text.split(' ').next().and_then(|n| n.parse().ok()).unwrap()
    };
    let (mut read, mut skipped, mut last) = (0, 0, None::<usize>);
    while last != Some(total - 1) {
        let v = slow.recv().await;
        match v["type"].as_str() {
            Some("chat_message") => {
                let n = number(&v);
                assert!(last.is_none_or(|l| n > l), "in order: {n} after {last:?}");
                let expected = last.map_or(0, |l| l + 1) + pending_skip(&mut skipped, read, last);
                assert_eq!(n, expected, "a gap only where skipped lines were counted");
                read += 1;
                last = Some(n);
            }
            Some("chat_skipped") => skipped += v["count"].as_u64().unwrap() as usize,
            _ => {}
        }
    }
    let told = app
        .metrics()
        .await
        .get("switchboard_stream_chat_skipped_total") as usize;
    assert!(skipped > 0, "the viewer fell behind and was told");
    assert_eq!(
        read + skipped,
        total,
        "every line read or counted as skipped"
    );
    assert_eq!(told, skipped);
    slow.assert_alive().await;
}

/// The skipped lines not yet accounted for by a gap (at most one `chat_skipped` comes
/// between two lines).
fn pending_skip(skipped: &mut usize, read: usize, last: Option<usize>) -> usize {
    let accounted = last.map_or(0, |l| l + 1) - read;
    *skipped - accounted
}

#[actix_web::test]
async fn stream_chat_is_stored() {
    let app = spawn_app().await;
    let host = app.token("host", "admin");
    let id = start_stream(&app, &host).await;
    let mut viewer = app.customer(&uid("viewer"), None).await;
    for text in ["first", "second"] {
        viewer
            .send(json!({"type": "chat_message", "username": "Ann", "message": text}))
            .await;
        viewer
            .recv_until(|v| v["type"] == "chat_message" && v["message"] == text)
            .await;
    }
    app.call(
        "POST",
        &format!("/api/live/streams/{id}/stop"),
        None,
        Some(&host),
    )
    .await;
    // Read back through the storage layer, on the server's own database.
    let settings = switchboard::db::DbSettings::for_url(&app.config.database_url());
    let pool =
        switchboard::db::build_pool(&settings, Default::default(), Default::default()).unwrap();
    let mut rows = Vec::new();
    for _ in 0..20 {
        rows = switchboard::db::reads::stream_chat_of(&mut pool.get().unwrap(), &id).unwrap();
        if rows.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stored: Vec<(&str, &str, bool)> = rows
        .iter()
        .map(|r| (r.username.as_str(), r.message.as_str(), r.is_admin))
        .collect();
    assert_eq!(
        stored,
        vec![("Ann", "first", false), ("Ann", "second", false)]
    );
}

#[actix_web::test]
async fn a_restart_mid_stream_resumes_it_with_its_figures_pins_likes_and_chat() {
    let app = spawn_app().await;
    let host = app.token("host", "admin");
    let id = start_stream(&app, &host).await;
    let products = json!([{"productId": "p1", "name": "Serum", "price": 49.99, "displayOrder": 1}]);
    let pins = format!("/api/live/streams/{id}/pinned-products");
    let (status, _) = app.call("PUT", &pins, Some(&products), Some(&host)).await;
    assert_eq!(status, 200);
    let session = uid("liker");
    let mut liker = app.customer(&session, None).await;
    let _other = app.customer(&uid("viewer"), None).await;
    liker.send(json!({"type": "toggle_like"})).await;
    liker
        .recv_until(|v| v["type"] == "stream_update" && v["likes"] == 1)
        .await;
    liker
        .send(json!({"type": "chat_message", "message": "before the restart"}))
        .await;
    liker
        .recv_until(|v| v["type"] == "chat_message" && v["message"] == "before the restart")
        .await;
    drop(liker);

    let app = app.restart_gracefully().await;
    let (_, current) = app
        .call("GET", "/api/live/streams/current", None, None)
        .await;
    assert_eq!(current["data"]["isActive"], true, "{current}");
    assert_eq!(
        current["data"]["streamData"]["streamId"],
        id.as_str(),
        "{current}"
    );
    // A viewer of the new process gets the stream as it was.
    let mut late = app.customer(&uid("late"), None).await;
    let started = late.recv_type("stream_started").await;
    assert_eq!(started["streamData"]["streamId"], id.as_str());
    assert_eq!(started["streamData"]["likes"], 1, "{started}");
    let pinned = late.recv_type("pinned_products_updated").await;
    assert_eq!(pinned["pinnedProducts"][0]["productId"], "p1");
    let history = late.recv_type("chat_history").await;
    assert_eq!(history["messages"][0]["message"], "before the restart");
    // Who liked is kept too: the same session's toggle is an unlike.
    let mut liker = app.customer(&session, None).await;
    liker.send(json!({"type": "toggle_like"})).await;
    liker
        .recv_until(|v| v["type"] == "stream_update" && v["likes"] == 0)
        .await;
    liker.send(json!({"type": "toggle_like"})).await;
    liker
        .recv_until(|v| v["type"] == "stream_update" && v["likes"] == 1)
        .await;
    let (status, stopped) = app
        .call(
            "POST",
            &format!("/api/live/streams/{id}/stop"),
            None,
            Some(&host),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(stopped["data"]["likes"], 1);
    assert!(
        stopped["data"]["peakViewers"].as_i64().unwrap() >= 2,
        "{stopped}"
    );
}

/// Gather `reactions` frames for `ms`: their number, and the taps they add up to.
async fn reactions_seen(
    viewer: &mut WsClient,
    ms: u64,
) -> (usize, std::collections::BTreeMap<String, i64>) {
    let mut frames = 0;
    let mut total = std::collections::BTreeMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(v) = tokio::time::timeout_at(deadline, viewer.recv()).await {
        if v["type"] == "reactions" {
            frames += 1;
            for (emoji, n) in v["counts"].as_object().expect("counts") {
                *total.entry(emoji.clone()).or_insert(0) += n.as_i64().expect("a count");
            }
        }
    }
    (frames, total)
}

#[actix_web::test]
async fn reactions_arrive_coalesced_with_their_counts() {
    let app = spawn_app().await;
    let host = app.token("host", "admin");
    let mut a = app.customer(&uid("fan"), None).await;
    // No stream yet: refused.
    a.send(json!({"type": "reaction", "emoji": "❤️"})).await;
    assert_eq!(a.recv_type("error").await["message"], "No active stream");
    start_stream(&app, &host).await;
    a.recv_type("stream_started").await;
    let mut b = app.customer(&uid("fan"), None).await;
    b.recv_type("stream_started").await;
    let mut watcher = app.customer(&uid("watcher"), None).await;
    watcher.recv_type("stream_started").await;

    for _ in 0..5 {
        a.send(json!({"type": "reaction", "emoji": "❤️"})).await;
    }
    for _ in 0..2 {
        a.send(json!({"type": "reaction", "emoji": "🔥"})).await;
    }
    for _ in 0..3 {
        b.send(json!({"type": "reaction", "emoji": "❤️"})).await;
    }
    // 10 taps make a frame or two a viewer (at most one per 250 ms; with no chat line
    // to ride, held taps go alone after a whole interval), with every tap counted.
    let (frames, total) = reactions_seen(&mut watcher, 1200).await;
    assert_eq!(
        total,
        [("❤️".to_owned(), 8), ("🔥".to_owned(), 2)]
            .into_iter()
            .collect()
    );
    assert!((1..=3).contains(&frames), "{frames} frames for 10 taps");
    app.metric_reaches("switchboard_stream_reactions_total", 10.0)
        .await;

    // Only the allowed set; the stream goes on.
    a.send(json!({"type": "reaction", "emoji": "💩"})).await;
    let refused = a.recv_until(|v| v["type"] == "error").await;
    assert_eq!(refused["message"], "Unknown reaction", "{refused}");
    a.send(json!({"type": "reaction"})).await;
    a.recv_until(|v| v["type"] == "error").await;
    b.send(json!({"type": "reaction", "emoji": "👏"})).await;
    let (_, total) = reactions_seen(&mut watcher, 1000).await;
    assert_eq!(total, [("👏".to_owned(), 1)].into_iter().collect());
    // Nothing tapped: no frames.
    let (frames, _) = reactions_seen(&mut watcher, 600).await;
    assert_eq!(frames, 0);
}

/// While chat flows, the taps of an interval ride with the next chat line (the same
/// write) instead of a frame of their own: each `reactions` frame comes right before
/// a `chat_message`, and every tap is still counted.
#[actix_web::test]
async fn reactions_ride_with_the_next_chat_line() {
    let app = spawn_app().await;
    let host = app.token("host", "admin");
    start_stream(&app, &host).await;
    let mut fan = app.customer(&uid("fan"), None).await;
    fan.recv_type("stream_started").await;
    let mut chatter = app.staff("host", "admin").await;
    let mut watcher = app.customer(&uid("watcher"), None).await;
    watcher.recv_type("stream_started").await;

    for _ in 0..7 {
        fan.send(json!({"type": "reaction", "emoji": "🔥"})).await;
    }
    // A line every 40 ms for 1.2 s: far more often than the 250 ms interval.
    let chat = async {
        for i in 0..30 {
            chatter
                .send(json!({"type": "chat_message", "message": format!("line {i}")}))
                .await;
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    };
    // Until the last line (however slow the host).
    let watch = async {
        let mut frames = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while let Ok(v) = tokio::time::timeout_at(deadline, watcher.recv()).await {
            let last = v["type"] == "chat_message" && v["message"] == "line 29";
            frames.push(v);
            if last {
                break;
            }
        }
        frames
    };
    let ((), frames) = tokio::join!(chat, watch);
    let types: Vec<&str> = frames.iter().filter_map(|f| f["type"].as_str()).collect();
    let lines = types.iter().filter(|t| **t == "chat_message").count();
    assert_eq!(lines, 30, "{types:?}");
    let mut taps = 0;
    for (i, f) in frames.iter().enumerate() {
        if f["type"] == "reactions" {
            assert_eq!(types.get(i + 1), Some(&"chat_message"), "{types:?}");
            taps += f["counts"]["🔥"].as_i64().expect("a count");
        }
    }
    assert_eq!(taps, 7, "{types:?}");
}

#[actix_web::test]
async fn staff_pin_a_line_or_an_announcement_that_late_viewers_get_and_a_restart_keeps() {
    let app = spawn_app().await;
    let host = app.token("host", "admin");
    let id = start_stream(&app, &host).await;
    let mut staff = app.staff("host", "admin").await;
    let mut viewer = app.customer(&uid("viewer"), None).await;
    viewer.recv_type("stream_started").await;
    viewer
        .send(json!({"type": "chat_message", "username": "Vi", "message": "is it vegan?"}))
        .await;
    let line = viewer.recv_until(|v| v["type"] == "chat_message").await;
    let line_id = line["id"].as_str().expect("an id").to_owned();

    // A viewer may not pin; staff pin the line over /ws and everyone sees it.
    viewer
        .send(json!({"type": "chat_pin", "messageId": line_id}))
        .await;
    let refused = viewer.recv_until(|v| v["type"] == "error").await;
    assert_eq!(
        refused["message"], "No token, authorization denied",
        "{refused}"
    );
    staff
        .send(json!({"type": "chat_pin", "messageId": line_id}))
        .await;
    let pinned = viewer.recv_until(|v| v["type"] == "pinned_message").await;
    assert_eq!(
        (
            pinned["message"]["id"].as_str(),
            pinned["message"]["message"].as_str(),
            pinned["message"]["username"].as_str(),
            pinned["message"]["until"].is_null()
        ),
        (
            Some(line_id.as_str()),
            Some("is it vegan?"),
            Some("Vi"),
            true
        ),
        "{pinned}"
    );
    // A viewer arriving later gets it with the stream's state.
    let mut late = app.customer(&uid("late"), None).await;
    let got = late.recv_until(|v| v["type"] == "pinned_message").await;
    assert_eq!(got["message"]["id"], line_id.as_str());

    // A pinned line that staff delete is unpinned too.
    staff
        .send(json!({"type": "chat_delete", "messageId": line_id}))
        .await;
    let unpinned = late.recv_until(|v| v["type"] == "pinned_message").await;
    assert_eq!(unpinned["message"], serde_json::Value::Null, "{unpinned}");

    // Bad pins: no such line, neither or both kinds, too long a time.
    for bad in [
        json!({"type": "chat_pin", "messageId": "nope"}),
        json!({"type": "chat_pin"}),
        json!({"type": "chat_pin", "messageId": line_id, "message": "x"}),
        json!({"type": "chat_pin", "message": "x", "durationSeconds": 0}),
        json!({"type": "chat_pin", "message": " "}),
    ] {
        staff.send(bad.clone()).await;
        let e = staff.recv_until(|v| v["type"] == "error").await;
        assert!(e["message"].is_string(), "{bad} → {e}");
    }

    // An announcement over REST, for a second: it unpins itself everywhere.
    let path = format!("/api/live/streams/{id}/pinned-message");
    let body = json!({"message": "Free shipping for the next hour", "durationSeconds": 1});
    let (status, answer) = app.call("PUT", &path, Some(&body), Some(&host)).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["data"]["until"].is_string(), "{answer}");
    let announced = late
        .recv_until(|v| v["type"] == "pinned_message" && v["message"]["isAdmin"] == true)
        .await;
    assert_eq!(
        announced["message"]["message"],
        "Free shipping for the next hour"
    );
    let gone = late.recv_until(|v| v["type"] == "pinned_message").await;
    assert_eq!(gone["message"], serde_json::Value::Null, "{gone}");
    let (status, _) = app
        .call(
            "PUT",
            &path,
            Some(&body),
            Some(&app.token("cust", "customer")),
        )
        .await;
    assert_eq!(status, 403);

    // Pinned until unpinned, it survives a restart; then unpinned over REST.
    let body = json!({"message": "Ask us anything"});
    app.call("PUT", &path, Some(&body), Some(&host)).await;
    drop((staff, viewer, late));
    let app = app.restart_gracefully().await;
    let mut after = app.customer(&uid("after"), None).await;
    let kept = after.recv_until(|v| v["type"] == "pinned_message").await;
    assert_eq!(kept["message"]["message"], "Ask us anything", "{kept}");
    let (status, _) = app.call("DELETE", &path, None, Some(&host)).await;
    assert_eq!(status, 200);
    let cleared = after.recv_until(|v| v["type"] == "pinned_message").await;
    assert_eq!(cleared["message"], serde_json::Value::Null);
}

#[actix_web::test]
async fn each_stream_has_its_line_length_and_rate_which_staff_set_and_are_exempt_from() {
    let app = spawn_with(|c| {
        c.stream_chat_per_minute = 3;
        c.stream_chat_max_chars = 100;
    })
    .await;
    let host = app.token("host", "admin");
    let id = start_stream(&app, &host).await;
    let mut staff = app.staff("host", "admin").await;
    let mut viewer = app.customer(&uid("viewer"), None).await;
    viewer.recv_type("stream_started").await;
    let say = |text: String| json!({"type": "chat_message", "message": text});
    let error = |v: &serde_json::Value| v["type"] == "error";

    // The settings' defaults: 100 characters, 3 lines a minute.
    viewer.send(say("x".repeat(101))).await;
    let e = viewer.recv_until(error).await;
    assert_eq!(e["message"], "Message too long (max 100 characters)");
    for i in 0..3 {
        viewer.send(say(format!("line {i}"))).await;
        viewer
            .recv_until(|v| v["type"] == "chat_message" && v["message"] == format!("line {i}"))
            .await;
    }
    viewer.send(say("one too many".into())).await;
    let e = viewer.recv_until(error).await;
    assert_eq!(e["message"], "You are writing too fast", "{e}");
    assert_eq!(e["code"], "rate_limited");
    // Staff are not held to the rate.
    for i in 0..5 {
        staff.send(say(format!("host {i}"))).await;
    }
    viewer
        .recv_until(|v| v["type"] == "chat_message" && v["message"] == "host 4")
        .await;

    // Staff change them for this stream; everyone hears, and they hold at once.
    staff
        .send(json!({"type": "chat_limits", "maxChars": 300, "perMinute": 0}))
        .await;
    let settings = viewer.recv_until(|v| v["type"] == "chat_settings").await;
    assert_eq!(
        settings,
        json!({"type": "chat_settings", "slowModeSeconds": 0, "maxChars": 300, "perMinute": 0})
    );
    viewer.send(say("y".repeat(250))).await;
    viewer
        .recv_until(|v| v["type"] == "chat_message" && v["username"] == "Guest")
        .await;
    // A late viewer learns them with the stream.
    let mut late = app.customer(&uid("late"), None).await;
    let known = late.recv_until(|v| v["type"] == "chat_settings").await;
    assert_eq!(known["maxChars"], 300);

    // Over REST: staff only, values in range.
    let path = format!("/api/live/streams/{id}/chat-settings");
    let customer = app.token("cust", "customer");
    let (status, _) = app
        .call(
            "PUT",
            &path,
            Some(&json!({"perMinute": 1})),
            Some(&customer),
        )
        .await;
    assert_eq!(status, 403);
    for bad in [
        json!({"maxChars": 0}),
        json!({"maxChars": 2001}),
        json!({"perMinute": 601}),
        json!({"slowModeSeconds": 3601}),
        json!({"colour": "red"}),
    ] {
        let (status, answer) = app.call("PUT", &path, Some(&bad), Some(&host)).await;
        assert_eq!(status, 422, "{bad} → {answer}");
    }
    let (status, answer) = app
        .call(
            "PUT",
            &path,
            Some(&json!({"slowModeSeconds": 5})),
            Some(&host),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["data"],
        json!({"slowModeSeconds": 5, "maxChars": 300, "perMinute": 0})
    );
}
