//! Who may listen to and write in a session, from its first registration on.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn a_signed_in_customer_claims_a_new_session_at_register() {
    let app = spawn_app().await;
    let session = uid("sess");
    let alice = app.token("alice", "customer");
    let mut staff = app.staff("agent", "agent").await;
    let mut owner = app.customer(&session, Some(&alice)).await;

    // Nobody else can listen in before the first message makes it durable...
    let mut intruder = app.ws().await;
    intruder
        .send(json!({"type": "register", "sessionId": session}))
        .await;
    intruder
        .expect_error("Access denied to this conversation")
        .await;
    // ...or write first to take it over.
    let body = json!({"sessionId": session, "message": "mine now"});
    assert_eq!(
        app.post_json("/api/chat/send-to-staff", &body, None)
            .await
            .0,
        403
    );

    owner
        .send(json!({"type": "customer_message", "message": "my order"}))
        .await;
    owner.recv_type("message_ack").await;
    assert_eq!(
        staff.recv_type("customer_message").await["senderId"],
        "alice"
    );
    let (status, _) = app
        .get_json(&format!("/api/chat/sessions/{session}/messages"), None)
        .await;
    assert_eq!(status, 403);
}

#[actix_web::test]
async fn an_earlier_anonymous_listener_is_removed_when_the_owner_arrives() {
    let app = spawn_app().await;
    let session = uid("sess");
    // Someone else's browser, on the session before its owner.
    let mut early = app.stranger_ws().await;
    early
        .send(json!({"type": "register", "sessionId": session}))
        .await;
    early.recv_type("registered").await;
    let mut staff = app.staff("agent", "agent").await;
    let alice = app.token("alice", "customer");
    let mut owner = app.customer(&session, Some(&alice)).await;

    let revoked = early.recv_type("error").await;
    assert_eq!(revoked["message"], "Access denied to this conversation");
    assert_eq!(revoked["sessionId"], session.as_str());

    owner
        .send(json!({"type": "customer_message", "message": "private"}))
        .await;
    owner.recv_type("message_ack").await;
    staff.recv_type("customer_message").await;
    staff
        .send(json!({"type": "staff_message", "sessionId": session, "content": "private reply"}))
        .await;
    assert_eq!(
        owner.recv_type("staff_reply").await["message"],
        "private reply"
    );
    early.expect_silence(300).await;
    // Nor can it write there any more.
    early
        .send(json!({"type": "customer_message", "message": "let me in"}))
        .await;
    early
        .expect_error("Access denied to this conversation")
        .await;
}

#[actix_web::test]
async fn anonymous_sessions_need_unguessable_ids() {
    let app = spawn_app().await;
    let mut c = app.ws().await;
    c.send(json!({"type": "register", "sessionId": "session_1234"}))
        .await;
    let e = c
        .expect_error("sessionId must be at least 16 characters (use a random id such as a UUID)")
        .await;
    assert_eq!(e["code"], "validation_failed");
    let (status, _) = app
        .post_json(
            "/api/chat/send-to-staff",
            &json!({"sessionId": "123", "message": "x"}),
            None,
        )
        .await;
    assert_eq!(status, 422);
    // A signed-in customer's session is protected by ownership, so any id will do.
    let token = app.token("bob", "customer");
    let mut bob = app.ws().await;
    bob.send(json!({"type": "register", "sessionId": "bob-1", "token": token}))
        .await;
    bob.recv_type("registered").await;
}

#[actix_web::test]
async fn a_guest_cannot_spend_a_staff_members_rate_allowance() {
    let app = spawn_with(|c| {
        c.identity_rate_limit_per_sec = 0.1;
        c.identity_rate_limit_burst = 3.0;
    })
    .await;
    // A session id chosen to equal a staff member's user id.
    let staff_id = "agent-0123456789abcdef";
    for _ in 0..3 {
        let body = json!({"sessionId": staff_id, "message": "spam"});
        assert_eq!(
            app.post_json("/api/chat/send-to-staff", &body, None)
                .await
                .0,
            200
        );
    }
    let body = json!({"sessionId": staff_id, "message": "spam"});
    assert_eq!(
        app.post_json("/api/chat/send-to-staff", &body, None)
            .await
            .0,
        429
    );
    let mut staff = app.staff(staff_id, "agent").await;
    staff
        .send(json!({"type": "staff_message", "sessionId": staff_id, "content": "still works"}))
        .await;
    staff.recv_type("message_ack").await;
}

#[actix_web::test]
async fn ws_history_of_someone_elses_session_is_refused() {
    let app = spawn_app().await;
    let session = uid("sess");
    let alice = app.token("alice", "customer");
    let mut owner = app.customer(&session, Some(&alice)).await;
    owner
        .send(json!({"type": "customer_message", "message": "secret"}))
        .await;
    owner.recv_type("message_ack").await;

    let mallory = app.token("mallory", "customer");
    let mut other = app.customer(&uid("sess"), Some(&mallory)).await;
    other
        .send(json!({"type": "history", "sessionId": session}))
        .await;
    other
        .expect_error("Access denied to this conversation")
        .await;
    let mut anon = app.ws().await;
    anon.send(json!({"type": "history", "sessionId": session}))
        .await;
    anon.expect_error("Access denied to this conversation")
        .await;
}
