//! Messages survive a restart on the same data directory (or database).

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn messages_survive_a_restart_and_seq_continues() {
    let app = spawn_app().await;
    let session = uid("sess");
    let mut customer = app.customer(&session, None).await;
    customer
        .send(json!({"type": "customer_message", "message": "before restart", "clientId": "k1"}))
        .await;
    let ack = customer.recv_type("message_ack").await;
    let mut staff = app.staff("agent", "agent").await;
    staff.send(json!({"type": "staff_message", "sessionId": session, "content": "reply before restart"})).await;
    staff.recv_type("message_ack").await;
    drop((customer, staff));

    let app = app.restart().await;

    let (status, h) = app
        .get_json(&format!("/api/chat/sessions/{session}/messages"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(texts(&h), vec!["before restart", "reply before restart"]);
    assert_eq!(h["messages"][0]["id"], ack["id"]);

    let mut customer = app.customer(&session, None).await;
    // A resend after the restart is still recognised as the same message.
    customer
        .send(json!({"type": "customer_message", "message": "before restart", "clientId": "k1"}))
        .await;
    assert_eq!(customer.recv_type("message_ack").await["id"], ack["id"]);
    customer
        .send(json!({"type": "customer_message", "message": "after restart"}))
        .await;
    assert_eq!(customer.recv_type("message_ack").await["seq"], 3);
}
