//! The cluster's metrics: events published and received with their lag, support
//! figures counted once (by the node whose write it was), agents online over every
//! node, and a seq gap filled from the database.

use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::json;

use super::*;
use crate::helpers::Scrape;

async fn scrape(node: &NodeProcess) -> Scrape {
    Scrape::of(&format!("http://{}", node.addr)).await
}

#[actix_web::test]
async fn events_are_counted_once_and_a_lost_one_is_filled_from_the_database() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["met-a", "met-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let session = format!("metrics-{}", uuid::Uuid::new_v4().simple());
    let mut agent = b
        .ws_as(json!({"type": "register_admin", "userId": "met-agent", "token": token("met-agent", "agent")}))
        .await;
    let mut customer = a
        .ws_as(json!({"type": "register", "sessionId": session, "token": token("met-customer", "customer")}))
        .await;
    // Agents online counts the agent on the other node.
    let (ok, m) = eventually(Duration::from_secs(5), || async {
        let m = scrape(a).await;
        (m.get("switchboard_agents_online") == 1.0, m)
    })
    .await;
    assert!(ok, "{m:#?}");

    customer
        .send(json!({"type": "customer_message", "message": "one", "clientId": "m1"}))
        .await;
    customer.recv_type("message_ack").await;
    assert_eq!(agent.recv_type("customer_message").await["seq"], 1);
    let (ma, mb) = (scrape(a).await, scrape(b).await);
    // Stored once, counted once: by the node that wrote it.
    let customers = r#"switchboard_messages_total{sender="customer"}"#;
    assert_eq!((ma.get(customers), mb.get(customers)), (1.0, 0.0));
    assert!(ma.get("switchboard_cluster_published_total") >= 1.0);
    assert!(mb.get("switchboard_cluster_received_total") >= 1.0);
    assert!(mb.get("switchboard_cluster_pubsub_lag_seconds_count") >= 1.0);
    let gaps = "switchboard_cluster_gap_fills_total";
    let gaps_before = mb.get(gaps);

    // Another writer stores seq 2, and its event is lost on the way: seq 3 through A
    // reveals the gap to B, which reads seq 2 from the database and delivers in order.
    let mut db = diesel::PgConnection::establish(&services.database_url).expect("PostgreSQL");
    db.batch_execute(&format!(
        "UPDATE conversations SET last_seq = 2 WHERE id = '{session}';
         INSERT INTO messages (id, conversation_id, seq, sender_id, sender_kind, sender_name,
             content, message_type, client_id, created_at)
         VALUES ('{id}', '{session}', 2, 'met-customer', 'customer', 'C', 'two', 'text',
             NULL, now() AT TIME ZONE 'utc');",
        id = uuid::Uuid::new_v4()
    ))
    .expect("a message written behind the nodes' backs");
    customer
        .send(json!({"type": "customer_message", "message": "three", "clientId": "m3"}))
        .await;
    assert_eq!(customer.recv_type("message_ack").await["seq"], 3);
    let two = agent.recv_type("customer_message").await;
    assert_eq!(
        (two["seq"].as_i64(), two["message"].as_str()),
        (Some(2), Some("two"))
    );
    assert_eq!(agent.recv_type("customer_message").await["seq"], 3);
    assert!(scrape(b).await.get(gaps) > gaps_before);
}
