//! The team desk over several nodes: an agent's availability and the queue's places
//! are the same on every node.

use serde_json::json;

use super::*;

#[actix_web::test]
async fn availability_and_queue_places_agree_on_every_node() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["desk-a", "desk-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let mut agent = a
        .ws_as(json!({"type": "register_admin", "userId": "desk-agent", "token": token("desk-agent", "agent")}))
        .await;
    let mut watcher = b
        .ws_as(json!({"type": "register_admin", "userId": "desk-watcher", "token": token("desk-watcher", "admin")}))
        .await;

    // Away on A: B's staff hear it, and B's desk says so.
    agent
        .send(json!({"type": "set_availability", "availability": "away"}))
        .await;
    let heard = watcher.recv_until(|f| f["type"] == "agent_updated").await;
    assert_eq!(
        (heard["userId"].as_str(), heard["availability"].as_str()),
        (Some("desk-agent"), Some("away"))
    );
    // (Who is connected on A reaches B with A's next share of its state.)
    let mut seen = serde_json::Value::Null;
    for _ in 0..50 {
        watcher.send(json!({"type": "queue"})).await;
        let desk = watcher.recv_until(|f| f["type"] == "queue").await;
        seen = desk["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == "desk-agent")
            .cloned()
            .unwrap_or_default();
        if seen["online"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        (seen["availability"].as_str(), seen["online"].as_bool()),
        (Some("away"), Some(true)),
        "{seen}"
    );

    // Customers waiting on either node are told places from the one queue.
    let mut waiting = Vec::new();
    for (i, node) in [a, b, a].into_iter().enumerate() {
        let session = format!("desk-{}", uuid::Uuid::new_v4().simple());
        let user = format!("desk-cust-{i}");
        let mut c = node
            .ws_as(json!({"type": "register", "sessionId": session, "token": token(&user, "customer")}))
            .await;
        c.send(json!({"type": "customer_message", "message": "hello"}))
            .await;
        let place = c.recv_until(|f| f["type"] == "queue_position").await;
        assert_eq!(place["position"].as_u64(), Some(i as u64 + 1), "{place}");
        waiting.push((session, c));
    }
    // The first is taken on B: the others move up, on both nodes.
    let first = waiting[0].0.clone();
    watcher
        .send(json!({"type": "join", "sessionId": first}))
        .await;
    watcher.recv_until(|f| f["type"] == "joined").await;
    watcher
        .send(json!({"type": "accept", "sessionId": first}))
        .await;
    for (i, (_, c)) in waiting.iter_mut().enumerate().skip(1) {
        let place = c
            .recv_until(|f| {
                f["type"] == "queue_position" && f["position"].as_u64() != Some(i as u64 + 1)
            })
            .await;
        assert_eq!(place["position"].as_u64(), Some(i as u64), "{place}");
    }
}
