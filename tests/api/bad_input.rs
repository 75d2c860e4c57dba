//! Every bad input gets a clear error; the connection, other clients and stored data survive.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn malformed_frames_get_clear_errors_and_the_connection_stays_up() {
    let app = spawn_app().await;
    let session = uid("sess");
    let mut staff = app.staff("agent", "agent").await;
    let mut c = app.customer(&session, None).await;
    c.send(json!({"type": "customer_message", "message": "before the garbage"}))
        .await;
    c.recv_type("message_ack").await;
    staff.recv_type("customer_message").await;

    for (frame, message, code) in [
        (
            "{not json".to_owned(),
            "Invalid message format",
            "invalid_format",
        ),
        (
            "[1,2,3]".to_owned(),
            "Invalid message format",
            "invalid_format",
        ),
        (
            json!({"sessionId": "x"}).to_string(),
            "Invalid message format",
            "invalid_format",
        ),
        (
            json!({"type": 12}).to_string(),
            "Invalid message format",
            "invalid_format",
        ),
        (
            json!({"type": "launch_rockets"}).to_string(),
            "Unknown message type",
            "unknown_type",
        ),
        (
            json!({"type": "customer_message", "message": 42}).to_string(),
            "Invalid message format",
            "invalid_format",
        ),
        (
            json!({"type": "customer_message"}).to_string(),
            "Message cannot be empty",
            "validation_failed",
        ),
        (
            json!({"type": "register", "sessionId": ["a"]}).to_string(),
            "Invalid message format",
            "invalid_format",
        ),
        (
            json!({"type": "history", "sessionId": session, "afterSeq": "zero"}).to_string(),
            "Invalid message format",
            "invalid_format",
        ),
    ] {
        c.send_text(frame.clone()).await;
        let e = c.expect_error(message).await;
        assert_eq!(e["code"], code, "{frame}");
    }
    let e = {
        c.send(json!({"type": "launch_rockets"})).await;
        c.recv_type("error").await
    };
    assert_eq!(e["detail"], "launch_rockets");

    c.assert_alive().await;
    staff.assert_alive().await;
    let (_, h) = app
        .get_json(&format!("/api/chat/sessions/{session}/messages"), None)
        .await;
    assert_eq!(h["messages"][0]["message"], "before the garbage");
}

#[actix_web::test]
async fn commands_out_of_role_are_refused() {
    let app = spawn_app().await;
    let session = uid("sess");
    let mut fresh = app.ws().await;
    fresh
        .send(json!({"type": "customer_message", "message": "too early"}))
        .await;
    let e = fresh.expect_error("Not registered").await;
    assert_eq!(e["code"], "not_registered");
    fresh
        .send(json!({"type": "staff_message", "sessionId": session, "content": "x"}))
        .await;
    fresh.expect_error("Not registered").await;

    let mut customer = app.customer(&session, None).await;
    customer
        .send(
            json!({"type": "staff_message", "sessionId": session, "content": "I am staff, honest"}),
        )
        .await;
    let e = customer.expect_error("Insufficient permissions").await;
    assert_eq!(e["code"], "forbidden");

    let mut staff = app.staff("agent", "agent").await;
    staff
        .send(json!({"type": "staff_message", "sessionId": uid("missing"), "content": "hello?"}))
        .await;
    staff.expect_error("Conversation not found").await;
    // Nothing was stored by any of it.
    let (status, _) = app
        .get_json(&format!("/api/chat/sessions/{session}/messages"), None)
        .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn oversized_ids_and_texts_are_refused() {
    let app = spawn_with(|c| c.max_message_chars = 100).await;
    let mut c = app.ws().await;
    c.send(json!({"type": "register", "sessionId": "s".repeat(5000)}))
        .await;
    c.expect_error("sessionId too long (max 128 characters)")
        .await;
    c.send(json!({"type": "register", "sessionId": "has space"}))
        .await;
    c.expect_error("sessionId has invalid characters").await;

    let session = uid("sess");
    let mut customer = app.customer(&session, None).await;
    customer
        .send(json!({"type": "customer_message", "message": "x".repeat(101)}))
        .await;
    let e = customer
        .expect_error("Message too long (max 100 characters)")
        .await;
    assert_eq!(e["code"], "validation_failed");
    customer
        .send(json!({"type": "customer_message", "message": " \u{0}\u{7} "}))
        .await;
    customer.expect_error("Message cannot be empty").await;
    customer
        .send(json!({"type": "customer_message", "message": "ok", "clientId": "c".repeat(500)}))
        .await;
    customer
        .expect_error("clientId must be 1 to 128 printable characters")
        .await;
    // Control characters are stripped from what is stored.
    customer
        .send(json!({"type": "customer_message", "message": "bell\u{7} and\nnewline"}))
        .await;
    customer.recv_type("message_ack").await;
    let (_, h) = app
        .get_json(&format!("/api/chat/sessions/{session}/messages"), None)
        .await;
    assert_eq!(h["messages"].as_array().unwrap().len(), 1);
    assert_eq!(h["messages"][0]["message"], "bell and\nnewline");

    let (status, body) = app
        .post_json(
            "/api/chat/send-to-staff",
            &json!({"sessionId": session, "message": "y".repeat(101)}),
            None,
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["message"], "Message too long (max 100 characters)");
}

#[actix_web::test]
async fn bad_rest_bodies_get_seed_000_failure_shape() {
    let app = spawn_app().await;
    let (status, body) = app.post_raw("/api/chat/send-to-staff", "{oops").await;
    assert_eq!(status, 400);
    assert_eq!(body["success"], false);
    assert_eq!(body["message"], "Invalid request body");
    let (status, body) = app
        .post_raw("/api/chat/send-to-staff", r#"{"sessionId":"s"}"#)
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["success"], false);
    let (status, body) = app
        .post_raw(
            "/api/chat/send-to-staff",
            r#"{"sessionId":5,"message":"x"}"#,
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["detail"].as_str().unwrap().contains("invalid type"));
    let (status, body) = app
        .get_json("/api/chat/sessions/abc/messages?limit=many", None)
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["message"], "Invalid query parameters");
    let (status, body) = app
        .get_json("/api/chat/sessions/abc/messages?limit=100000", None)
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["message"], "limit must be between 1 and 200");
    let resp = awc::Client::new()
        .post(app.url("/api/chat/send-to-staff"))
        .insert_header(("content-type", "text/plain"))
        .send_body("{}")
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
}

#[actix_web::test]
async fn disconnect_mid_conversation_loses_nothing() {
    let app = spawn_app().await;
    let session = uid("sess");
    let mut staff = app.staff("agent", "agent").await;
    let mut other_staff = app.staff("agent2", "agent").await;
    let mut customer = app.customer(&session, None).await;
    customer
        .send(json!({"type": "customer_message", "message": "are you there?"}))
        .await;
    customer.recv_type("message_ack").await;
    staff.recv_type("customer_message").await;
    other_staff.recv_type("customer_message").await;
    // The customer vanishes without a close frame.
    drop(customer);

    // Replies to the offline customer are stored and wait in the database.
    for text in ["yes, one moment", "found your order"] {
        staff
            .send(json!({"type": "staff_message", "sessionId": session, "content": text}))
            .await;
        staff.recv_type("message_ack").await;
        assert_eq!(other_staff.recv_type("staff_reply").await["message"], text);
    }
    let mut back = app.customer(&session, None).await;
    back.send(json!({"type": "history", "sessionId": session, "afterSeq": 1}))
        .await;
    let h = back.recv_type("history").await;
    assert_eq!(texts(&h), vec!["yes, one moment", "found your order"]);
    // And live delivery resumes on the new connection.
    staff
        .send(json!({"type": "staff_message", "sessionId": session, "content": "welcome back"}))
        .await;
    assert_eq!(back.recv_type("staff_reply").await["seq"], 4);
}

#[actix_web::test]
async fn overlong_session_ids_are_refused_everywhere() {
    let app = spawn_app().await;
    let long = "s".repeat(5000);
    let (status, body) = app
        .post_json(
            "/api/chat/send-to-staff",
            &json!({"sessionId": long, "message": "x"}),
            None,
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["message"], "sessionId too long (max 128 characters)");
    let mut staff = app.staff("agent", "agent").await;
    staff
        .send(json!({"type": "staff_message", "sessionId": long, "content": "x"}))
        .await;
    staff
        .expect_error("sessionId too long (max 128 characters)")
        .await;
    staff
        .send(json!({"type": "history", "sessionId": long}))
        .await;
    staff.recv_type("error").await;
    staff.assert_alive().await;
}
