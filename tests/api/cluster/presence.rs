//! Who of the staff is online, over every node, and what a node's death does to it.

use std::time::Duration;

use serde_json::{json, Value};

use super::*;

/// The next `staff_presence` frame about `user`, waiting up to `limit`.
async fn presence_of(ws: &mut crate::helpers::WsClient, user: &str, limit: Duration) -> Value {
    within(ws, limit, |v| {
        v["type"] == "staff_presence" && v["userId"] == user
    })
    .await
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

#[actix_web::test]
async fn room_members_and_typing_cross_nodes_and_leave_with_a_dead_node() {
    let Some(services) = services() else { return };
    let mut cluster = Cluster::start(&services, &["room-a", "room-b"]);
    let session = format!("room-{}", uuid::Uuid::new_v4().simple());
    let mut agent = cluster.nodes[1]
        .ws_as(json!({"type": "register_admin", "userId": "room-agent", "token": token("room-agent", "agent")}))
        .await;
    let mut customer = cluster.nodes[0]
        .ws_as(json!({"type": "register", "sessionId": session, "token": token("room-customer", "customer")}))
        .await;
    customer
        .send(json!({"type": "customer_message", "message": "anyone there?"}))
        .await;
    customer.recv_type("message_ack").await;

    agent.recv_type("customer_message").await;

    // The agent on B joins: the customer on A hears it, and B lists the customer.
    agent
        .send(json!({"type": "join", "sessionId": session}))
        .await;
    let joined = agent.recv_type("joined").await;
    // B learns A's room members from A's presence events, which may still be on their
    // way when the agent joins (a loaded machine): B lists the customer within moments.
    let ids = |v: &Value| -> Vec<String> {
        v["participants"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter_map(|p| p["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut listed = ids(&joined);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !listed.iter().any(|id| id == "room-customer") {
        assert!(std::time::Instant::now() < deadline, "{listed:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        agent
            .send(json!({"type": "participants", "sessionId": session}))
            .await;
        listed = ids(&agent.recv_type("participants").await);
    }
    let heard = customer.recv_type("participant_joined").await;
    assert_eq!(heard["userId"], "room-agent", "{heard}");
    assert_eq!(heard["role"], "agent", "{heard}");

    // The customer types on A, then A dies: B's agent sees the typing end and the
    // customer leave, within the node expiry.
    customer
        .send(json!({"type": "typing", "sessionId": session, "isTyping": true}))
        .await;
    let typing = agent.recv_type("typing").await;
    assert_eq!(typing["isTyping"], true);
    cluster.nodes[0].kill();
    let limit = Duration::from_secs(10);
    let stopped = within(&mut agent, limit, |v| v["type"] == "typing").await;
    assert_eq!(
        (
            &stopped["isTyping"],
            &stopped["expired"],
            &stopped["userId"]
        ),
        (&json!(false), &json!(true), &json!("room-customer")),
        "{stopped}"
    );
    let left = within(&mut agent, limit, |v| v["type"] == "participant_left").await;
    assert_eq!(left["userId"], "room-customer", "{left}");
    agent
        .send(json!({"type": "participants", "sessionId": session}))
        .await;
    let now = agent.recv_type("participants").await;
    assert!(
        now["participants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != "room-customer"),
        "{now}"
    );
}

#[actix_web::test]
async fn someone_with_tabs_on_two_nodes_leaves_when_the_last_closes() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["tabs-a", "tabs-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let session = format!("tabs-{}", uuid::Uuid::new_v4().simple());
    let customer = json!({"type": "register", "sessionId": session, "token": token("tabs-customer", "customer")});
    let mut tab_a = a.ws_as(customer.clone()).await;
    tab_a
        .send(json!({"type": "customer_message", "message": "hello"}))
        .await;
    tab_a.recv_type("message_ack").await;
    let tab_b = b.ws_as(customer).await;
    let mut agent = a
        .ws_as(json!({"type": "register_admin", "userId": "tabs-agent", "token": token("tabs-agent", "agent")}))
        .await;
    agent
        .send(json!({"type": "join", "sessionId": session}))
        .await;
    agent.recv_type("joined").await;

    // One tab closes: still present through the other, on the other node.
    drop(tab_a);
    let early = try_within(&mut agent, Duration::from_millis(800), |v| {
        v["type"] == "participant_left"
    })
    .await;
    assert!(early.is_none(), "left while a tab is open: {early:?}");
    // The last one closes: gone, for the node that never had it too.
    drop(tab_b);
    let left = within(&mut agent, Duration::from_secs(5), |v| {
        v["type"] == "participant_left"
    })
    .await;
    assert_eq!(left["userId"], "tabs-customer", "{left}");
}

#[actix_web::test]
async fn a_node_that_starts_later_knows_who_is_in_the_rooms() {
    let Some(services) = services() else { return };
    let mut cluster = Cluster::start(&services, &["late-a"]);
    let session = format!("late-{}", uuid::Uuid::new_v4().simple());
    let mut customer = cluster.nodes[0]
        .ws_as(json!({"type": "register", "sessionId": session, "token": token("late-customer", "customer")}))
        .await;
    customer
        .send(json!({"type": "customer_message", "message": "anyone?"}))
        .await;
    customer.recv_type("message_ack").await;

    // B starts now: A shares its rooms with it, so B's agent finds the customer there.
    let b = cluster.join(&services, "late-b", &[]);
    let mut agent = b
        .ws_as(json!({"type": "register_admin", "userId": "late-agent", "token": token("late-agent", "agent")}))
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        agent
            .send(json!({"type": "participants", "sessionId": session}))
            .await;
        let listed = agent.recv_type("participants").await;
        let found = listed["participants"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["id"] == "late-customer"));
        if found {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{listed}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
