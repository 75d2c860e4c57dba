//! Seed 000's REST flow and the history endpoint's access rules.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn send_to_staff_stores_then_notifies_every_staff_connection() {
    let app = spawn_app().await;
    let session = uid("sess");
    let mut a = app.staff("a", "staff").await;
    let mut b = app.staff("b", "admin").await;
    let (status, body) = app
        .post_json(
            "/api/chat/send-to-staff",
            &json!({"sessionId": session, "message": "via REST"}),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Message sent to staff");
    assert_eq!(body["data"]["seq"], 1);
    for s in [&mut a, &mut b] {
        let m = s.recv_type("customer_message").await;
        assert_eq!(m["message"], "via REST");
        assert_eq!(m["customerName"], "Customer");
        assert_eq!(m["sessionId"], session.as_str());
    }
}

#[actix_web::test]
async fn send_to_staff_uses_the_signed_in_username() {
    let app = spawn_app().await;
    let mut staff = app.staff("a", "staff").await;
    let token = app.token("shopper", "user");
    let (status, _) = app
        .post_json(
            "/api/chat/send-to-staff",
            &json!({"sessionId": uid("s"), "message": "hey"}),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        staff.recv_type("customer_message").await["customerName"],
        "shopper name"
    );
}

#[actix_web::test]
async fn history_access_rules() {
    let app = spawn_app().await;
    let owned = uid("owned");
    let anon = uid("anon");
    let alice = app.token("alice", "customer");
    let mallory = app.token("mallory", "customer");
    let staff = app.token("agent", "agent");
    let send = |s: &str| json!({"sessionId": s, "message": "secret order details"});
    assert_eq!(
        app.post_json("/api/chat/send-to-staff", &send(&owned), Some(&alice))
            .await
            .0,
        200
    );
    assert_eq!(
        app.post_json("/api/chat/send-to-staff", &send(&anon), None)
            .await
            .0,
        200
    );

    let path = |s: &str| format!("/api/chat/sessions/{s}/messages?after_seq=0&limit=10");
    // Staff read any session; the owner reads theirs.
    let (status, body) = app.get_json(&path(&owned), Some(&staff)).await;
    assert_eq!(status, 200);
    assert_eq!(body["messages"][0]["message"], "secret order details");
    assert_eq!(app.get_json(&path(&owned), Some(&alice)).await.0, 200);
    // Another customer, or nobody, cannot read a signed-in customer's session.
    let (status, body) = app.get_json(&path(&owned), Some(&mallory)).await;
    assert_eq!(status, 403);
    assert_eq!(body["success"], false);
    assert_eq!(app.get_json(&path(&owned), None).await.0, 403);
    // Nor post into it.
    let (status, _) = app
        .post_json("/api/chat/send-to-staff", &send(&owned), Some(&mallory))
        .await;
    assert_eq!(status, 403);
    // An anonymous session is readable by its (unguessable) id.
    assert_eq!(app.get_json(&path(&anon), None).await.0, 200);
    // Unknown session.
    let (status, body) = app.get_json(&path(&uid("nope")), Some(&staff)).await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "Conversation not found");
}

#[actix_web::test]
async fn customer_cannot_register_on_someone_elses_session() {
    let app = spawn_app().await;
    let owned = uid("owned");
    let alice = app.token("alice", "customer");
    let mallory = app.token("mallory", "customer");
    let body = json!({"sessionId": owned, "message": "mine"});
    assert_eq!(
        app.post_json("/api/chat/send-to-staff", &body, Some(&alice))
            .await
            .0,
        200
    );

    let mut intruder = app.ws().await;
    intruder
        .send(json!({"type": "register", "sessionId": owned, "token": mallory}))
        .await;
    intruder
        .expect_error("Access denied to this conversation")
        .await;
    // Still unregistered: it cannot write there.
    intruder
        .send(json!({"type": "customer_message", "message": "x"}))
        .await;
    intruder.expect_error("Not registered").await;
    // The owner can.
    let _owner = app.customer(&owned, Some(&alice)).await;
}

#[actix_web::test]
async fn history_paging_over_rest() {
    let app = spawn_app().await;
    let session = uid("s");
    for i in 0..7 {
        let body = json!({"sessionId": session, "message": format!("m{i}")});
        assert_eq!(
            app.post_json("/api/chat/send-to-staff", &body, None)
                .await
                .0,
            200
        );
    }
    let (_, page) = app
        .get_json(
            &format!("/api/chat/sessions/{session}/messages?after_seq=0&limit=3"),
            None,
        )
        .await;
    assert_eq!(page["hasMore"], true);
    let (_, rest) = app
        .get_json(
            &format!("/api/chat/sessions/{session}/messages?after_seq=3&limit=10"),
            None,
        )
        .await;
    assert_eq!(seqs(&rest), vec![4, 5, 6, 7]);
    assert_eq!(rest["hasMore"], false);
}

#[actix_web::test]
async fn history_pages_backwards_with_before_seq() {
    let app = spawn_app().await;
    let session = uid("s");
    for i in 1..=7 {
        let body = json!({"sessionId": session, "message": format!("m{i}")});
        assert_eq!(
            app.post_json("/api/chat/send-to-staff", &body, None)
                .await
                .0,
            200
        );
    }
    // Scrolling back from the newest: the page just before seq 6, oldest first.
    let (_, page) = app
        .get_json(
            &format!("/api/chat/sessions/{session}/messages?before_seq=6&limit=3"),
            None,
        )
        .await;
    assert_eq!(seqs(&page), vec![3, 4, 5]);
    assert_eq!(page["hasMore"], true);
    let (_, first) = app
        .get_json(
            &format!("/api/chat/sessions/{session}/messages?before_seq=3&limit=3"),
            None,
        )
        .await;
    assert_eq!(seqs(&first), vec![1, 2]);
    assert_eq!(first["hasMore"], false);
    // The same over /ws.
    let mut c = app.customer(&session, None).await;
    c.send(json!({"type": "history", "sessionId": session, "beforeSeq": 8, "limit": 2}))
        .await;
    let h = c.recv_type("history").await;
    assert_eq!(seqs(&h), vec![6, 7]);
    assert_eq!(texts(&h), vec!["m6", "m7"]);
    c.send(json!({"type": "history", "sessionId": session, "beforeSeq": -1}))
        .await;
    c.expect_error("offset and seq must not be negative").await;
}
