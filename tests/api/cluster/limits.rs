//! Rate limits per identity and per address hold over the cluster: spreading
//! requests over several nodes does not multiply the allowance.

use serde_json::json;

use super::*;

/// Requests go every 25 ms, alternating between the nodes.
const PACE: Duration = Duration::from_millis(25);

#[actix_web::test]
async fn one_identity_posting_through_two_nodes_gets_one_allowance() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start_with(
        &services,
        &["limit-a", "limit-b"],
        &[
            ("IDENTITY_RATE_LIMIT_PER_SEC", "1"),
            ("IDENTITY_RATE_LIMIT_BURST", "10"),
        ],
    );
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let customer = token(
        &format!("limited-{}", uuid::Uuid::new_v4().simple()),
        "customer",
    );
    let (status, s) = a
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"subject": "limits"})),
            Some(&customer),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    let path = format!(
        "/api/v1/chat/sessions/{}/messages",
        s["data"]["id"].as_str().unwrap()
    );
    let (mut allowed, mut refusal) = (0, None);
    for i in 0..40 {
        let node = [a, b][i % 2];
        let body = json!({"content": format!("m{i}")});
        let (status, answer) = node.call("POST", &path, Some(&body), Some(&customer)).await;
        match status {
            201 => allowed += 1,
            429 => refusal = Some(answer),
            other => panic!("{other}: {answer}"),
        }
        tokio::time::sleep(PACE).await;
    }
    // One allowance: a burst of 10 and 1 a second over about 1.5 s (per node it
    // would be about twice that); a little slack for what crosses in 100 ms.
    assert!((10..=15).contains(&allowed), "{allowed} of 40 went through");
    let refusal = refusal.expect("a refusal");
    assert_eq!(refusal["code"], "rate_limited", "{refusal}");
}

#[actix_web::test]
async fn one_address_connecting_to_two_nodes_gets_one_allowance() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start_with(
        &services,
        &["ip-a", "ip-b"],
        &[("IP_RATE_LIMIT_PER_SEC", "1"), ("IP_RATE_LIMIT_BURST", "5")],
    );
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let (mut allowed, mut open) = (0, Vec::new());
    for i in 0..30 {
        let node = [a, b][i % 2];
        if let Ok((_, framed)) = awc::Client::new()
            .ws(format!("ws://{}/ws", node.addr))
            .connect()
            .await
        {
            allowed += 1;
            open.push(framed);
        }
        tokio::time::sleep(PACE).await;
    }
    // A burst of 5 and 1 a second over about a second, with slack for 100 ms.
    assert!(
        (5..=9).contains(&allowed),
        "{allowed} of 30 connections opened"
    );
}
