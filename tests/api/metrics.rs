//! `GET /metrics`: the exposition, its guard and address, and each family moving when
//! its event happens. (The per-reason disconnects and the rate-limit refusals are
//! checked where limits.rs makes them happen; the database outage's in outage.rs;
//! the cluster's in cluster/.)

use std::time::Duration;

use awc::ws::CloseCode;
use futures::SinkExt;
use serde_json::{json, Value};

use crate::helpers::*;

/// `GET /metrics` once labelled families have a series too (they show from their
/// first): an agent with a conversation, and a connection that ended.
/// Answers the content type and the text.
async fn with_every_family(app: &TestApp) -> (String, String) {
    let session = uid("s");
    let mut agent = app.staff("agent-g", "agent").await;
    let mut c = app.customer(&session, None).await;
    c.send(json!({"type": "customer_message", "message": "hi"}))
        .await;
    c.recv_type("message_ack").await;
    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    drop(c);
    app.metrics_until("an agent busy, a connection gone", |m| {
        m.get(r#"switchboard_agent_active_conversations{agent="agent-g"}"#) == 1.0
            && m.get(&ws_disconnects("connection_lost")) == 1.0
    })
    .await;
    let mut res = awc::Client::new()
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(res.status().as_u16(), 200);
    let kind = res.headers().get("content-type").expect("a type");
    let kind = kind.to_str().expect("ASCII").to_owned();
    let body = res.body().await.expect("body");
    (kind, String::from_utf8(body.to_vec()).expect("UTF-8"))
}

#[actix_web::test]
async fn the_exposition_is_openmetrics_text_named_by_the_conventions() {
    let app = spawn_app().await;
    let (kind, text) = with_every_family(&app).await;
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    assert!(text.ends_with("# EOF\n"), "{text}");
    for family in [
        "# TYPE switchboard_connections gauge",
        "# TYPE switchboard_rate_limited counter",
        "# TYPE switchboard_db_commit_seconds histogram",
        "# UNIT switchboard_db_commit_seconds seconds",
        "# TYPE switchboard_queue_wait_seconds histogram",
        "# TYPE switchboard_first_response_seconds histogram",
        "# TYPE switchboard_resolution_seconds histogram",
        "# TYPE switchboard_sent_bytes counter",
        "# TYPE switchboard_cluster_pubsub_lag_seconds histogram",
    ] {
        assert!(text.contains(family), "{family} missing in\n{text}");
    }
    // Buckets that fit: milliseconds for commits, up to a day for the queue.
    assert!(text.contains("switchboard_db_commit_seconds_bucket{le=\"0.001\"}"));
    assert!(text.contains("switchboard_queue_wait_seconds_bucket{le=\"86400.0\"}"));
    let m = app.metrics().await;
    assert_eq!(m.get("switchboard_db_up"), 1.0);
    for status in ["waiting", "active", "resolved", "closed"] {
        let sample = format!("switchboard_conversations{{status=\"{status}\"}}");
        assert!(m.0.contains_key(&sample), "{sample}: {m:#?}");
    }
}

#[actix_web::test]
async fn a_metrics_token_is_required_when_one_is_set() {
    let app = spawn_with(|c| c.metrics_token = Some("scrape-me".into())).await;
    let get = |token: Option<&'static str>| {
        let req = bearer(awc::Client::new().get(app.url("/metrics")), token);
        async move { req.send().await.expect("GET").status().as_u16() }
    };
    assert_eq!(get(None).await, 401);
    assert_eq!(get(Some("scrape-me-not")).await, 401);
    assert_eq!(get(Some("scrape-me")).await, 200);
    let (status, body) = app.get_json("/metrics", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_required"))
    );
}

#[actix_web::test]
async fn metrics_listen_moves_the_metrics_to_an_address_of_their_own() {
    let app = spawn_with(|c| c.metrics_listen = Some("127.0.0.1:0".into())).await;
    let addr = app.metrics_addr.expect("a metrics address");
    let on_main = awc::Client::new()
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("GET");
    assert_eq!(on_main.status().as_u16(), 404);
    let _c = app.customer(&uid("s"), None).await;
    let m = Scrape::of(&format!("http://{addr}")).await;
    assert_eq!(
        m.get(r#"switchboard_connections{transport="websocket"}"#),
        1.0
    );
}

#[actix_web::test]
async fn a_websocket_is_counted_from_open_to_close_with_its_frames() {
    let app = spawn_app().await;
    let mut c = app.customer(&uid("s"), None).await;
    let m = app.metrics().await;
    assert_eq!(
        m.get(r#"switchboard_connections{transport="websocket"}"#),
        1.0
    );
    assert_eq!(
        m.get(r#"switchboard_connects_total{transport="websocket",dialect="native"}"#),
        1.0
    );
    assert_eq!(m.get(r#"switchboard_sockets{dialect="native"}"#), 1.0);
    // `register` in, `registered` out.
    let frames_in = r#"switchboard_frames_received_total{transport="websocket"}"#;
    let frames_out = r#"switchboard_frames_sent_total{transport="websocket"}"#;
    let bytes_out = r#"switchboard_sent_bytes_total{transport="websocket"}"#;
    assert_eq!((m.get(frames_in), m.get(frames_out)), (1.0, 1.0));
    let text = r#"{"type":"ping"}"#;
    c.send_text(text.into()).await;
    c.recv_type("pong").await;
    let after = app.metrics().await;
    assert_eq!(after.get(frames_in), 2.0);
    assert_eq!(
        after.get(r#"switchboard_received_bytes_total{transport="websocket"}"#)
            - m.get(r#"switchboard_received_bytes_total{transport="websocket"}"#),
        text.len() as f64
    );
    assert!(after.get(bytes_out) > m.get(bytes_out));

    c.framed
        .send(awc::ws::Message::Close(Some(CloseCode::Normal.into())))
        .await
        .expect("close");
    let m = app
        .metric_reaches(&ws_disconnects("client_closed"), 1.0)
        .await;
    assert_eq!(
        m.get(r#"switchboard_connections{transport="websocket"}"#),
        0.0
    );
    assert_eq!(m.get(r#"switchboard_sockets{dialect="native"}"#), 0.0);
    // A connection that just goes away is lost, not closed.
    let c = app.customer(&uid("s"), None).await;
    drop(c);
    app.metric_reaches(&ws_disconnects("connection_lost"), 1.0)
        .await;
}

#[actix_web::test]
async fn socket_io_sessions_are_counted_by_transport_dialect_and_recovery() {
    let app = spawn_app().await;
    let token = app.token("agent-sio", "agent");
    let session = Polling::open(&app.url("")).await;
    let m = app.metrics().await;
    assert_eq!(
        m.get(r#"switchboard_connections{transport="socketio_polling"}"#),
        1.0
    );
    // A CONNECT to /support asking to recover a state nobody kept.
    let connect = format!(
        "40/support,{}",
        json!({"token": token, "pid": "made-up", "offset": "x"})
    );
    let answer = session.exchange(&connect).await;
    assert!(answer.starts_with("40/support,"), "{answer}");
    let m = app.metrics().await;
    assert_eq!(
        m.get(r#"switchboard_connects_total{transport="socketio_polling",dialect="support"}"#),
        1.0
    );
    assert_eq!(m.get(r#"switchboard_sockets{dialect="support"}"#), 1.0);
    assert_eq!(
        m.get(r#"switchboard_socketio_recoveries_total{outcome="not_recovered"}"#),
        1.0
    );
    assert!(m.get(r#"switchboard_frames_received_total{transport="socketio_polling"}"#) >= 1.0);
    assert!(m.get(r#"switchboard_frames_sent_total{transport="socketio_polling"}"#) >= 2.0);
    // The client disconnects the namespace, then closes the session.
    session.post("41/support,\u{1e}1").await;
    let m = app
        .metric_reaches(
            r#"switchboard_disconnects_total{transport="socketio_polling",dialect="support",reason="client_closed"}"#,
            1.0,
        )
        .await;
    assert_eq!(m.get(r#"switchboard_sockets{dialect="support"}"#), 0.0);
    app.metric_reaches(
        r#"switchboard_connections{transport="socketio_polling"}"#,
        0.0,
    )
    .await;
}

#[actix_web::test]
async fn writes_are_counted_in_batches_and_commit_times() {
    let app = spawn_app().await;
    let before = app.metrics().await;
    let mut c = app.customer(&uid("s"), None).await;
    c.send(json!({"type": "customer_message", "message": "hello"}))
        .await;
    c.recv_type("message_ack").await;
    let m = app.metrics().await;
    for sample in [
        "switchboard_db_batch_size_count",
        "switchboard_db_commit_seconds_count",
        "switchboard_db_pool_wait_seconds_count",
    ] {
        assert!(m.get(sample) > before.get(sample), "{sample}: {m:#?}");
    }
    assert!(m.get("switchboard_db_commit_seconds_sum") > 0.0);
    assert_eq!(m.get("switchboard_db_queue_depth"), 0.0);
    assert_eq!(m.get("switchboard_db_pool_errors_total"), 0.0);
}

#[actix_web::test]
async fn support_figures_follow_a_conversation_from_queue_to_resolution() {
    let app = spawn_app().await;
    let session = uid("sess");
    let mut agent = app.staff("agent-m", "agent").await;
    let _admin = app.staff("admin-m", "admin").await;
    let m = app.metrics().await;
    assert_eq!(m.get("switchboard_agents_online"), 2.0);

    let mut cust = app.customer(&session, None).await;
    cust.send(json!({"type": "customer_message", "message": "help?"}))
        .await;
    cust.recv_type("message_ack").await;
    let m = app.metrics().await;
    assert_eq!(m.get(r#"switchboard_conversations{status="waiting"}"#), 1.0);
    assert_eq!(m.get(r#"switchboard_messages_total{sender="guest"}"#), 1.0);
    assert_eq!(m.get("switchboard_queue_wait_seconds_count"), 0.0);

    // Waiting a little, so the figures are more than zero.
    tokio::time::sleep(Duration::from_millis(300)).await;
    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    agent
        .recv_until(|v| {
            v["type"] == "conversation_updated" && v["conversation"]["status"] == "active"
        })
        .await;
    let m = app.metrics().await;
    assert_eq!(m.get("switchboard_queue_wait_seconds_count"), 1.0);
    assert!(m.get("switchboard_queue_wait_seconds_sum") >= 0.3, "{m:#?}");
    assert_eq!(m.get(r#"switchboard_conversations{status="active"}"#), 1.0);
    assert_eq!(m.get(r#"switchboard_conversations{status="waiting"}"#), 0.0);
    assert_eq!(
        m.get(r#"switchboard_agent_active_conversations{agent="agent-m"}"#),
        1.0
    );
    // The accept's note is a system message.
    assert_eq!(m.get(r#"switchboard_messages_total{sender="system"}"#), 1.0);

    for text in ["on it", "still on it"] {
        agent
            .send(json!({"type": "staff_message", "sessionId": session, "content": text}))
            .await;
        agent.recv_until(|v| v["type"] == "message_ack").await;
    }
    let m = app.metrics().await;
    // The first reply only is the first response.
    assert_eq!(m.get("switchboard_first_response_seconds_count"), 1.0);
    assert!(m.get("switchboard_first_response_seconds_sum") >= 0.3);
    assert_eq!(m.get(r#"switchboard_messages_total{sender="agent"}"#), 2.0);

    agent
        .send(json!({"type": "set_status", "sessionId": session, "status": "resolved"}))
        .await;
    agent
        .recv_until(|v| {
            v["type"] == "conversation_updated" && v["conversation"]["status"] == "resolved"
        })
        .await;
    let m = app.metrics().await;
    assert_eq!(m.get("switchboard_resolution_seconds_count"), 1.0);
    assert_eq!(
        m.get(r#"switchboard_conversations{status="resolved"}"#),
        1.0
    );
    assert_eq!(
        m.get(r#"switchboard_agent_active_conversations{agent="agent-m"}"#),
        0.0
    );
    // The queue wait is counted once: a customer reopening does not start a new one.
    cust.send(json!({"type": "customer_message", "message": "one more thing"}))
        .await;
    cust.recv_until(|v| v["type"] == "message_ack").await;
    let m = app.metrics().await;
    assert_eq!(m.get("switchboard_queue_wait_seconds_count"), 1.0);
    assert_eq!(m.get("switchboard_first_response_seconds_count"), 1.0);
    drop(agent);
    app.metrics_until("agents online drops", |m| {
        m.get("switchboard_agents_online") == 1.0
    })
    .await;
}

#[actix_web::test]
async fn live_stream_figures_move_with_viewers_likes_chat_moderation_and_signals() {
    let app = spawn_app().await;
    let host_token = app.token("host", "admin");
    let mut host = app.staff("host", "admin").await;
    let body = json!({"title": "Launch", "description": "d", "streamUrl": "http://s.example/x", "quality": "720p"});
    let (status, started) = app
        .call("POST", "/api/live/streams", Some(&body), Some(&host_token))
        .await;
    assert_eq!(status, 201, "{started}");
    let id = started["data"]["streamId"].as_str().unwrap().to_owned();
    let mut viewer = app.customer(&uid("viewer"), None).await;
    let m = app.metrics().await;
    assert_eq!(m.get("switchboard_stream_live"), 1.0);
    assert_eq!(m.get("switchboard_stream_viewers"), 2.0);

    viewer.send(json!({"type": "toggle_like"})).await;
    viewer
        .send(json!({"type": "chat_message", "message": "spam"}))
        .await;
    let line = host
        .recv_until(|v| v["type"] == "chat_message" && v["message"] == "spam")
        .await;
    let line_id = line["id"].as_str().unwrap().to_owned();
    host.send(json!({"type": "chat_mute", "messageId": line_id, "durationSeconds": 60}))
        .await;
    host.send(json!({"type": "chat_delete", "messageId": line_id}))
        .await;
    host.send(json!({"type": "chat_slow_mode", "seconds": 5}))
        .await;
    host.recv_until(|v| v["type"] == "chat_message_deleted")
        .await;

    host.send(json!({"type": "webrtc_register", "peerId": "p-host", "userType": "admin"}))
        .await;
    host.recv_until(|v| v["type"] == "webrtc_registered").await;
    viewer
        .send(json!({"type": "webrtc_register", "peerId": "p-view", "userType": "customer"}))
        .await;
    viewer
        .recv_until(|v| v["type"] == "webrtc_registered")
        .await;
    host.send(
        json!({"type": "webrtc_offer", "from": "p-host", "to": "p-view", "offer": {"sdp": "x"}}),
    )
    .await;
    viewer.recv_until(|v| v["type"] == "webrtc_offer").await;

    let m = app
        .metrics_until("moderation counted", |m| {
            m.get(r#"switchboard_stream_moderation_actions_total{action="slow_mode"}"#) == 1.0
        })
        .await;
    assert_eq!(m.get("switchboard_stream_likes_total"), 1.0);
    assert_eq!(m.get("switchboard_stream_chat_lines_total"), 1.0);
    for action in ["delete", "timeout"] {
        let sample = format!("switchboard_stream_moderation_actions_total{{action=\"{action}\"}}");
        assert_eq!(m.get(&sample), 1.0, "{sample}");
    }
    assert_eq!(
        m.get(r#"switchboard_webrtc_signals_total{kind="offer"}"#),
        1.0
    );

    let (status, _) = app
        .call(
            "POST",
            &format!("/api/live/streams/{id}/stop"),
            None,
            Some(&host_token),
        )
        .await;
    assert_eq!(status, 200);
    drop(viewer);
    let m = app.metric_reaches("switchboard_stream_viewers", 1.0).await;
    assert_eq!(m.get("switchboard_stream_live"), 0.0);
}

#[actix_web::test]
async fn a_socket_io_websocket_is_counted_as_its_own_transport() {
    let app = spawn_app().await;
    let mut ws = app.ws_at("/socket.io/?EIO=4&transport=websocket").await;
    let open = text_frame(&mut ws).await;
    assert!(open.starts_with('0'), "{open}");
    let connect = format!(
        "40/support,{}",
        json!({"token": app.token("agent-w", "agent")})
    );
    ws.send_text(connect).await;
    let connected = text_frame(&mut ws).await;
    assert!(connected.starts_with("40/support,"), "{connected}");
    let m = app.metrics().await;
    assert_eq!(
        m.get(r#"switchboard_connections{transport="socketio_websocket"}"#),
        1.0
    );
    assert_eq!(
        m.get(r#"switchboard_connects_total{transport="socketio_websocket",dialect="support"}"#),
        1.0
    );
    drop(ws);
    let m = app
        .metric_reaches(
            r#"switchboard_disconnects_total{transport="socketio_websocket",dialect="support",reason="connection_lost"}"#,
            1.0,
        )
        .await;
    assert_eq!(
        m.get(r#"switchboard_connections{transport="socketio_websocket"}"#),
        0.0
    );
}

/// The next text frame, as text (Engine.IO packets are not JSON).
async fn text_frame(ws: &mut WsClient) -> String {
    use futures::StreamExt;
    loop {
        let frame = tokio::time::timeout(WAIT, ws.framed.next())
            .await
            .expect("a frame in time");
        if let Some(Ok(awc::ws::Frame::Text(b))) = frame {
            return String::from_utf8(b.to_vec()).expect("UTF-8");
        }
    }
}

/// The bundled Grafana dashboard asks only for metrics the server has.
#[actix_web::test]
async fn the_grafana_dashboard_names_only_metrics_that_exist() {
    let app = spawn_app().await;
    let (_, exposed) = with_every_family(&app).await;
    let dashboard = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/grafana-dashboard.json"
    ))
    .expect("the dashboard");
    let json: Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    let mut asked = 0;
    for panel in json["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("an expression");
            for name in expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("switchboard_"))
            {
                asked += 1;
                let family = ["_total", "_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|suffix| name.strip_suffix(suffix))
                    .unwrap_or(name);
                let declared = format!("# TYPE {family} ");
                assert!(
                    exposed.contains(&declared),
                    "{name} (panel {}) is not exposed",
                    panel["title"]
                );
            }
        }
    }
    assert!(asked >= 16, "{asked}");
}
