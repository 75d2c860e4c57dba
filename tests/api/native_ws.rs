//! The seed 000/002 support-chat frames over `/ws`, both directions.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn customer_and_staff_chat_both_ways_with_seed_frames() {
    let app = spawn_app().await;
    let session = uid("sess");
    let mut staff = app.staff("agent-1", "staff").await;
    let mut customer = app.customer(&session, None).await;

    customer
        .send(json!({"type": "customer_message", "message": "I need help with my order"}))
        .await;
    let ack = customer.recv_type("message_ack").await;
    assert_eq!(ack["seq"], 1);
    assert_eq!(ack["sessionId"], session.as_str());

    let seen = staff.recv_type("customer_message").await;
    assert_eq!(seen["sessionId"], session.as_str());
    assert_eq!(seen["message"], "I need help with my order");
    assert_eq!(seen["customerName"], "Customer");
    assert_eq!(seen["id"], ack["id"]);
    assert_eq!(seen["seq"], 1);
    assert!(seen["timestamp"].as_str().unwrap().ends_with('Z'));

    staff.send(json!({"type": "staff_message", "sessionId": session, "content": "I'll help you with that right away!"})).await;
    let staff_ack = staff.recv_type("message_ack").await;
    assert_eq!(staff_ack["seq"], 2);
    let reply = customer.recv_type("staff_reply").await;
    assert_eq!(reply["message"], "I'll help you with that right away!");
    assert_eq!(reply["seq"], 2);
    assert_eq!(reply["staffId"], "agent-1");
    assert!(reply["timestamp"].is_string());
    // The customer's own message is not echoed back to the connection that sent it.
    customer.expect_silence(200).await;
}

#[actix_web::test]
async fn every_tab_receives_and_other_staff_see_who_replied() {
    let app = spawn_app().await;
    let session = uid("sess");
    let mut alice_tab1 = app.staff("alice", "admin").await;
    let mut alice_tab2 = app.staff("alice", "admin").await;
    let mut bob = app.staff("bob", "support").await;
    let mut cust_tab1 = app.customer(&session, None).await;
    let mut cust_tab2 = app.customer(&session, None).await;

    cust_tab1
        .send(json!({"type": "customer_message", "message": "hello"}))
        .await;
    cust_tab1.recv_type("message_ack").await;
    for staff in [&mut alice_tab1, &mut alice_tab2, &mut bob] {
        assert_eq!(
            staff.recv_type("customer_message").await["message"],
            "hello"
        );
    }
    // The customer's other tab sees what this tab wrote.
    assert_eq!(
        cust_tab2.recv_type("customer_message").await["message"],
        "hello"
    );

    alice_tab1
        .send(json!({"type": "staff_message", "sessionId": session, "content": "hi, Alice here"}))
        .await;
    alice_tab1.recv_type("message_ack").await;
    for c in [&mut cust_tab1, &mut cust_tab2] {
        assert_eq!(
            c.recv_type("staff_reply").await["message"],
            "hi, Alice here"
        );
    }
    for other in [&mut alice_tab2, &mut bob] {
        let seen = other.recv_type("staff_reply").await;
        assert_eq!(seen["sessionId"], session.as_str());
        assert_eq!(seen["staffId"], "alice");
        assert_eq!(seen["staffName"], "alice name");
        assert_eq!(seen["message"], "hi, Alice here");
    }
    alice_tab1.expect_silence(200).await;
}

#[actix_web::test]
async fn signed_in_customer_name_comes_from_token() {
    let app = spawn_app().await;
    let session = uid("sess");
    let token = app.token("cust-7", "customer");
    let mut staff = app.staff("agent", "agent").await;
    let mut customer = app.customer(&session, Some(&token)).await;
    customer
        .send(json!({"type": "customer_message", "message": "hi", "clientId": "c1"}))
        .await;
    let ack = customer.recv_type("message_ack").await;
    assert_eq!(ack["clientId"], "c1");
    let seen = staff.recv_type("customer_message").await;
    assert_eq!(seen["customerName"], "cust-7 name");
    assert_eq!(seen["senderId"], "cust-7");
    assert_eq!(seen["senderType"], "customer");
}

#[actix_web::test]
async fn resend_with_same_client_id_returns_the_original() {
    let app = spawn_app().await;
    let session = uid("sess");
    let mut staff = app.staff("agent", "agent").await;
    let mut customer = app.customer(&session, None).await;
    customer
        .send(json!({"type": "customer_message", "message": "once", "clientId": "tmp-1"}))
        .await;
    let first = customer.recv_type("message_ack").await;
    customer
        .send(json!({"type": "customer_message", "message": "once", "clientId": "tmp-1"}))
        .await;
    let second = customer.recv_type("message_ack").await;
    assert_eq!(first["id"], second["id"]);
    assert_eq!(first["seq"], second["seq"]);
    staff.recv_type("customer_message").await;
    staff.expect_silence(300).await;

    let (_, history) = app
        .get_json(&format!("/api/chat/sessions/{session}/messages"), None)
        .await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn history_frame_resumes_after_a_seq() {
    let app = spawn_app().await;
    let session = uid("sess");
    let mut customer = app.customer(&session, None).await;
    for i in 1..=5 {
        customer
            .send(json!({"type": "customer_message", "message": format!("m{i}")}))
            .await;
        customer.recv_type("message_ack").await;
    }
    customer
        .send(json!({"type": "history", "sessionId": session, "afterSeq": 2, "limit": 2}))
        .await;
    let h = customer.recv_type("history").await;
    assert_eq!(h["sessionId"], session.as_str());
    assert_eq!(seqs(&h), vec![3, 4]);
    assert_eq!(h["hasMore"], true);
    assert_eq!(h["messages"][0]["message"], "m3");

    customer
        .send(json!({"type": "history", "sessionId": session, "afterSeq": 4}))
        .await;
    let h = customer.recv_type("history").await;
    assert_eq!(h["messages"].as_array().unwrap().len(), 1);
    assert_eq!(h["hasMore"], false);
}

#[actix_web::test]
async fn ping_pong_and_seed_root_path() {
    let app = spawn_app().await;
    let mut c = app.ws_at("/").await;
    c.send(json!({"type": "ping"})).await;
    let pong = c.recv_type("pong").await;
    assert!(pong["timestamp"].is_string());
    let session = uid("sess");
    c.send(json!({"type": "register", "sessionId": session}))
        .await;
    assert_eq!(c.recv_type("registered").await["status"], "connected");
}

#[actix_web::test]
async fn messages_are_delivered_in_seq_order_under_pipelining() {
    let app = spawn_with(|c| {
        c.rate_limit_per_sec = 1000.0;
        c.rate_limit_burst = 1000.0;
        c.identity_rate_limit_per_sec = 1000.0;
        c.identity_rate_limit_burst = 1000.0;
    })
    .await;
    let session = uid("sess");
    let mut staff = app.staff("agent", "agent").await;
    let mut customer = app.customer(&session, None).await;
    for i in 0..100 {
        customer
            .send(json!({"type": "customer_message", "message": format!("n{i}")}))
            .await;
    }
    for expected in 1..=100 {
        let m = staff.recv_type("customer_message").await;
        assert_eq!(m["seq"], expected);
        assert_eq!(m["message"], format!("n{}", expected - 1));
    }
}
