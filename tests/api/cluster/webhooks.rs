//! Webhooks over several nodes: every node's sender works the one outbox, and each
//! event reaches the receiver once, in order per conversation.

use serde_json::json;

use super::*;
use crate::webhooks::{arrivals, scripted, signed_by};

#[actix_web::test]
async fn two_nodes_deliver_each_event_once_in_order() {
    let Some(services) = services() else { return };
    let env = [("ALLOW_PRIVATE_WEBHOOKS", "true")];
    let cluster = Cluster::start_with(&services, &["hook-a", "hook-b"], &env);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let (url, got) = scripted(Vec::new()).await;
    let body = json!({"url": url, "events": ["message.created"]});
    let (status, made) = a
        .call(
            "POST",
            "/api/admin/webhooks",
            Some(&body),
            Some(&token("boss", "admin")),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let secret = made["data"]["secret"].as_str().unwrap().to_owned();

    // Two customers, one on each node, 10 messages each.
    let mut sessions = Vec::new();
    for (node, who) in [(a, "hook-cust-a"), (b, "hook-cust-b")] {
        let session = format!("hook-{}", uuid::Uuid::new_v4().simple());
        let mut c = node
            .ws_as(
                json!({"type": "register", "sessionId": session, "token": token(who, "customer")}),
            )
            .await;
        for i in 0..10 {
            c.send(json!({"type": "customer_message", "message": format!("{i}"), "clientId": format!("c{i}")}))
                .await;
            c.recv_type("message_ack").await;
        }
        sessions.push(session);
    }
    let all = arrivals(&got, 20).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let all_now = got.lock().unwrap().clone();
    assert_eq!(all_now.len(), 20, "each event once: {}", all_now.len());
    let ids: std::collections::BTreeSet<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 20);
    for session in &sessions {
        let seqs: Vec<i64> = all
            .iter()
            .map(|r| r.event())
            .filter(|e| e["data"]["message"]["conversationId"] == session.as_str())
            .map(|e| e["data"]["message"]["seq"].as_i64().unwrap())
            .collect();
        assert_eq!(seqs, (1..=10).collect::<Vec<_>>(), "in order for {session}");
    }
    assert!(all.iter().all(|r| signed_by(r, &secret)));
}
