//! Who of the staff is online, over every node, and what a node's death does to it.

use std::time::{Duration, Instant};

use awc::ws::Frame;
use futures::StreamExt;
use serde_json::{json, Value};

use super::*;

/// The next `staff_presence` frame about `user`, waiting up to `limit` (longer than a
/// frame helper waits: presence moves with the cluster's beat and node expiry).
async fn presence_of(ws: &mut crate::helpers::WsClient, user: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = tokio::time::timeout(left, ws.framed.next())
            .await
            .unwrap_or_else(|_| panic!("no staff_presence for {user} within {limit:?}"));
        if let Some(Ok(Frame::Text(text))) = frame {
            let v: Value = serde_json::from_slice(&text).expect("JSON");
            if v["type"] == "staff_presence" && v["userId"] == user {
                return v;
            }
        }
    }
}

#[actix_web::test]
async fn staff_online_on_another_node_is_seen_and_goes_offline_when_that_node_dies() {
    let Some(services) = services() else { return };
    let mut cluster = Cluster::start(&services, &["desk-a", "desk-b"]);
    let watcher_token = token("watcher", "agent");
    let mut watcher = cluster.nodes[0]
        .ws_as(json!({"type": "register_admin", "userId": "watcher", "token": watcher_token}))
        .await;
    let _far = cluster.nodes[1]
        .ws_as(json!({"type": "register_admin", "userId": "far-agent", "token": token("far-agent", "agent")}))
        .await;
    let online = presence_of(&mut watcher, "far-agent", Duration::from_secs(5)).await;
    assert_eq!(online["online"], true, "{online}");
    assert_eq!(online["name"], "far-agent name");

    // Node A's REST lists both.
    let (status, staff) = cluster.nodes[0]
        .call(
            "GET",
            "/api/v1/chat/staff/online",
            None,
            Some(&watcher_token),
        )
        .await;
    assert_eq!(status, 200, "{staff}");
    assert_eq!(
        staff["data"],
        json!([
            {"id": "far-agent", "role": "agent", "name": "far-agent name"},
            {"id": "watcher", "role": "agent", "name": "watcher name"}
        ])
    );

    // A second tab of the same agent on node A: nobody is told twice.
    let _near = cluster.nodes[0]
        .ws_as(json!({"type": "register_admin", "userId": "far-agent", "token": token("far-agent", "agent")}))
        .await;
    drop(_near);
    watcher.expect_silence(1500).await;

    // kill -9 node B: its agent goes offline when its key expires.
    cluster.nodes[1].kill();
    let offline = presence_of(&mut watcher, "far-agent", Duration::from_secs(10)).await;
    assert_eq!(offline["online"], false, "{offline}");
}
