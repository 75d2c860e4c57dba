//! Several nodes writing to one conversation at once.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::*;

/// Limits out of the way: this is about concurrent writers, not rate limits.
const NO_LIMITS: [(&str, &str); 3] = [
    ("IDENTITY_RATE_LIMIT_PER_SEC", "100000"),
    ("IDENTITY_RATE_LIMIT_BURST", "100000"),
    ("OUTBOUND_QUEUE", "4096"),
];

/// What one staff connection heard: each conversation's seqs, in arrival order.
async fn hear(mut staff: crate::helpers::WsClient, total: usize) -> BTreeMap<String, Vec<i64>> {
    let mut heard: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut count = 0;
    while count < total {
        let frame = staff.recv_type("customer_message").await;
        let session = frame["sessionId"].as_str().expect("a session").to_owned();
        heard
            .entry(session)
            .or_default()
            .push(frame["seq"].as_i64().expect("a seq"));
        count += 1;
    }
    heard
}

/// 200 messages to each of two conversations, through two nodes at once, in an order
/// that makes the two nodes' write batches lock the two conversations in opposite
/// orders (deadlocks, which a batch survives by being tried again).
#[actix_web::test]
async fn concurrent_messages_through_two_nodes_keep_seq_gap_free() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start_with(&services, &["writer-a", "writer-b"], &NO_LIMITS);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let customer = token("many-writes", "customer");
    let mut paths = Vec::new();
    for subject in ["first", "second"] {
        let (status, session) = a
            .call(
                "POST",
                "/api/v1/chat/sessions",
                Some(&json!({"subject": subject})),
                Some(&customer),
            )
            .await;
        assert_eq!(status, 201, "{session}");
        let id = session["data"]["id"].as_str().expect("an id").to_owned();
        paths.push(format!("/api/v1/chat/sessions/{id}/messages"));
    }

    // A staff member on each node hears every customer message.
    let mut listeners = Vec::new();
    for (node, name) in [(a, "watch-a"), (b, "watch-b")] {
        let register =
            json!({"type": "register_admin", "userId": name, "token": token(name, "agent")});
        listeners.push(hear(node.ws_as(register).await, 400));
    }

    let posts = (0..400).map(|i| {
        let node = if i % 2 == 0 { a } else { b };
        // Node A writes first, second, first…; node B second, first, second…
        let path = &paths[(i / 2 + i % 2) % 2];
        let body = json!({"content": format!("m{i}"), "temp_id": format!("t{i}")});
        let customer = &customer;
        async move { node.call("POST", path, Some(&body), Some(customer)).await }
    });
    let (sent, heard) = futures::join!(
        futures::future::join_all(posts),
        futures::future::join_all(listeners)
    );
    for (status, sent) in sent {
        assert_eq!(status, 201, "{sent}");
    }
    // Every recipient on every node saw each conversation in seq order, no gaps.
    for (node, heard) in cluster.nodes.iter().zip(heard) {
        assert_eq!(heard.len(), 2, "{}: {heard:?}", node.id);
        for seqs in heard.values() {
            let expected: Vec<i64> = (1..=200).collect();
            assert_eq!(seqs, &expected, "on {}", node.id);
        }
    }

    for path in &paths {
        let (status, history) = b
            .call("GET", &format!("{path}?limit=200"), None, Some(&customer))
            .await;
        assert_eq!(status, 200, "{history}");
        let messages = history["data"].as_array().expect("messages");
        let seqs: Vec<i64> = messages.iter().filter_map(|m| m["seq"].as_i64()).collect();
        let expected: Vec<i64> = (1..=messages.len() as i64).collect();
        assert_eq!(seqs, expected, "seq is gap-free and in order");
        let texts: BTreeSet<&str> = messages
            .iter()
            .filter_map(|m| m["content"].as_str())
            .filter(|t| t.starts_with('m'))
            .collect();
        assert_eq!(texts.len(), 200, "every message stored once");
        assert_eq!(history["total"], messages.len());
    }
    let races = cluster
        .nodes
        .iter()
        .map(|n| n.log().matches("lost a race").count());
    eprintln!(
        "write batches tried again after a deadlock: {}",
        races.sum::<usize>()
    );
}

#[actix_web::test]
async fn two_agents_on_two_nodes_accept_at_once_and_one_wins_everywhere() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start_with(&services, &["claim-a", "claim-b"], &NO_LIMITS);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let customer = token("claimed-customer", "customer");
    let (ann, bob) = (token("ann", "agent"), token("bob", "agent"));
    for round in 0..10 {
        let (status, session) = a
            .call(
                "POST",
                "/api/v1/chat/sessions",
                Some(&json!({"subject": format!("round {round}")})),
                Some(&customer),
            )
            .await;
        assert_eq!(status, 201, "{session}");
        let id = session["data"]["id"].as_str().expect("an id").to_owned();
        let assign = format!("/api/v1/chat/sessions/{id}/assign");
        let ((sa, ra), (sb, rb)) = futures::join!(
            a.call("POST", &assign, None, Some(&ann)),
            b.call("POST", &assign, None, Some(&bob)),
        );
        let mut statuses = [sa, sb];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "one wins: {ra} {rb}");
        let winner = if sa == 200 { "ann" } else { "bob" };
        for node in [a, b] {
            let (_, got) = node
                .call(
                    "GET",
                    &format!("/api/v1/chat/sessions/{id}"),
                    None,
                    Some(&ann),
                )
                .await;
            assert_eq!(got["data"]["agent_id"], winner, "{} says {got}", node.id);
        }
    }
}

/// The conversation's assigned agent once auto-assignment has had its chance.
async fn assigned_agent(node: &NodeProcess, id: &str, customer: &str) -> Option<String> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, d) = node
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{id}"),
            None,
            Some(customer),
        )
        .await;
    assert_eq!(status, 200, "{d}");
    d["data"]["agent_id"].as_str().map(str::to_owned)
}

async fn open_session(node: &NodeProcess, customer: &str) -> String {
    let (status, s) = node
        .call(
            "POST",
            "/api/v1/chat/sessions",
            // A conversation is offered to an agent with its first message.
            Some(&json!({"subject": "help", "initial_message": "hello"})),
            Some(customer),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    s["data"]["id"].as_str().expect("an id").to_owned()
}

#[actix_web::test]
async fn auto_assignment_takes_turns_and_keeps_capacity_over_every_node() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start_with(
        &services,
        &["assign-a", "assign-b"],
        &[("AUTO_ASSIGN_CAPACITY", "2")],
    );
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (agent_a, agent_b) = (format!("a-{run}"), format!("b-{run}"));
    let _on_a = a
        .ws_as(
            json!({"type": "register_admin", "userId": agent_a, "token": token(&agent_a, "agent")}),
        )
        .await;
    let _on_b = b
        .ws_as(
            json!({"type": "register_admin", "userId": agent_b, "token": token(&agent_b, "agent")}),
        )
        .await;
    // Each node knows both agents.
    for node in [a, b] {
        let (ok, online) = eventually(Duration::from_secs(5), || async {
            let (_, online) = node
                .call(
                    "GET",
                    "/api/v1/chat/staff/online",
                    None,
                    Some(&token(&agent_a, "agent")),
                )
                .await;
            let ids = online.to_string();
            (ids.contains(&agent_a) && ids.contains(&agent_b), online)
        })
        .await;
        assert!(ok, "{online}");
    }
    let customer = |i: usize| token(&format!("assign-customer-{run}-{i}"), "customer");

    // One turn for the whole cluster: conversations opened on A, B, A get a, b, a
    // (with a turn per node, A and B would both start with the same agent).
    let mut got = Vec::new();
    for (i, node) in [a, b, a].into_iter().enumerate() {
        let id = open_session(node, &customer(i)).await;
        got.push(assigned_agent(node, &id, &customer(i)).await);
    }
    let mut first_two = vec![got[0].clone(), got[1].clone()];
    first_two.sort();
    assert_eq!(
        first_two,
        [Some(agent_a.clone()), Some(agent_b.clone())],
        "{got:?}"
    );
    assert_eq!(got[2], got[0], "the turn came back round: {got:?}");

    // Three at once through both nodes with room for one more: one is assigned, and
    // nobody goes over capacity.
    let opened = futures::future::join_all([(a, 3), (b, 4), (a, 5)].map(|(node, i)| async move {
        let id = open_session(node, &customer(i)).await;
        assigned_agent(node, &id, &customer(i)).await
    }))
    .await;
    let assigned: Vec<&String> = opened.iter().flatten().collect();
    assert_eq!(assigned.len(), 1, "{opened:?}");
    let loads = |agent: &String| {
        got.iter()
            .chain(&opened)
            .flatten()
            .filter(|x| *x == agent)
            .count()
    };
    assert_eq!(
        (loads(&agent_a), loads(&agent_b)),
        (2, 2),
        "{got:?} {opened:?}"
    );
}
