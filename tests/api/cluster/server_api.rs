//! The server API over several nodes: a key made on one node works on every node, a
//! bot's message posted on one reaches a customer on another, an `Idempotency-Key`
//! holds across nodes, and a key revoked on one is refused by all.

use serde_json::json;

use super::*;

#[actix_web::test]
async fn a_key_a_bot_message_and_a_revocation_hold_across_nodes() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["api-a", "api-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let admin = token("boss", "admin");
    let body = json!({"name": "Order bot", "scopes": ["messages:write", "messages:read"]});
    let (status, made) = a
        .call("POST", "/api/admin/api-keys", Some(&body), Some(&admin))
        .await;
    assert_eq!(status, 201, "{made}");
    let key = made["data"]["key"].as_str().expect("key").to_owned();
    let id = made["data"]["id"].as_str().expect("id").to_owned();

    let session = format!("api-{}", uuid::Uuid::new_v4().simple());
    let mut customer = b
        .ws_as(json!({"type": "register", "sessionId": session, "token": token("api-cust", "customer")}))
        .await;
    customer
        .send(json!({"type": "customer_message", "message": "where is it?"}))
        .await;
    customer.recv_type("message_ack").await;

    // Posted on A (with an Idempotency-Key), delivered on B.
    let text = json!({"text": "It has shipped"});
    let post = |node: &NodeProcess| {
        let req = awc::Client::new()
            .post(node.url(&format!("/api/server/v1/conversations/{session}/messages")))
            .insert_header(("Authorization", format!("Bearer {key}")))
            .insert_header(("Idempotency-Key", "shipped-1"));
        crate::helpers::exchange(req, Some(&text))
    };
    let (status, _, first) = post(a).await;
    assert_eq!(status, 201, "{first:?}");
    let live = customer.recv_type("staff_reply").await;
    assert_eq!(
        (live["message"].as_str(), live["staffName"].as_str()),
        (Some("It has shipped"), Some("Order bot"))
    );
    // The same key through B: the original.
    let (status, headers, again) = post(b).await;
    assert_eq!(status, 200, "{again:?}");
    assert!(headers.get("idempotent-replayed").is_some());
    assert_eq!(
        again.as_ref().map(|v| v["data"]["id"].clone()),
        first.as_ref().map(|v| v["data"]["id"].clone())
    );
    customer.expect_silence(300).await;

    // Revoked on A: refused on B at once.
    let (status, _) = a
        .call(
            "DELETE",
            &format!("/api/admin/api-keys/{id}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, refused) = post(b).await;
    assert_eq!(status, 401, "{refused:?}");
}
