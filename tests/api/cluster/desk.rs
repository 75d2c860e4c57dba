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

#[actix_web::test]
async fn every_node_sweeps_and_a_quiet_conversation_is_resolved_once() {
    let Some(services) = services() else { return };
    let env = [("AUTO_RESOLVE_MINUTES", "0.03")];
    let cluster = Cluster::start_with(&services, &["sweep-a", "sweep-b", "sweep-c"], &env);
    let a = &cluster.nodes[0];
    let customer = token("sweep-cust", "customer");
    let agent = token("sweep-agent", "agent");
    let (status, made) = a
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"initial_message": "hi"})),
            Some(&customer),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let id = made["data"]["id"].as_str().unwrap().to_owned();
    let (status, _) = a
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/assign"),
            None,
            Some(&agent),
        )
        .await;
    assert_eq!(status, 200);
    // Quiet for 1.8 s: resolved by whichever node sweeps first, once.
    let history = format!("/api/chat/sessions/{id}/messages");
    let mut notes = 0;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let (_, h) = a.call("GET", &history, None, Some(&agent)).await;
        notes = h["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter(|m| {
                        m["message"]
                            .as_str()
                            .is_some_and(|t| t.contains("automatically"))
                    })
                    .count()
            })
            .unwrap_or(0);
        if notes > 0 {
            break;
        }
    }
    assert_eq!(notes, 1);
    // More sweeps on three nodes change nothing.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (_, h) = a.call("GET", &history, None, Some(&agent)).await;
    let all = h["messages"].as_array().unwrap();
    let again = all
        .iter()
        .filter(|m| {
            m["message"]
                .as_str()
                .is_some_and(|t| t.contains("automatically"))
        })
        .count();
    assert_eq!(again, 1, "{h}");
}
