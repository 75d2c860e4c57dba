//! Agents' availability and capacity (`set_availability`/`set_capacity` on `/ws`,
//! `PUT /api/desk/agents/{id}/…`) decide auto-assignment; waiting customers are told
//! their place in the queue as it moves (`queue_position`); staff see the queue.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

/// A signed-in customer's new conversation with a first message: its id.
async fn ask(app: &TestApp, user: &str) -> String {
    app.session_with(&app.token(user, "customer"), "hi", "hello")
        .await
}

/// Who the conversation ends up assigned to, if anyone, once auto-assignment had its
/// chance.
async fn assignee(app: &TestApp, id: &str) -> Option<String> {
    let admin = app.token("boss", "admin");
    let path = format!("/api/v1/chat/sessions/{id}");
    let mut last = Value::Null;
    for _ in 0..10 {
        let (_, d) = app.call("GET", &path, None, Some(&admin)).await;
        last = d["data"]["agent_id"].clone();
        if last.is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    last.as_str().map(str::to_owned)
}

#[actix_web::test]
async fn availability_and_capacity_decide_auto_assignment() {
    let app = spawn_with(|c| c.auto_assign_capacity = 5).await;
    let mut a = app.staff("agent-a", "agent").await;
    let mut b = app.staff("agent-b", "agent").await;
    a.send(json!({"type": "set_availability", "availability": "away"}))
        .await;
    let me = a.recv_until(|f| f["type"] == "agent").await;
    assert_eq!(
        (
            me["agent"]["availability"].as_str(),
            me["agent"]["capacity"].as_i64(),
            me["agent"]["online"].as_bool()
        ),
        (Some("away"), Some(5), Some(true)),
        "{me}"
    );
    let heard = b.recv_until(|f| f["type"] == "agent_updated").await;
    assert_eq!(
        (heard["userId"].as_str(), heard["availability"].as_str()),
        (Some("agent-a"), Some("away"))
    );

    // Away agents get nothing new: B does.
    let first = ask(&app, "cust-1").await;
    assert_eq!(assignee(&app, &first).await.as_deref(), Some("agent-b"));

    // An admin gives B a capacity of 1: B is full, A is away, so the next one waits.
    let admin = app.token("boss", "admin");
    let (status, set) = app
        .call(
            "PUT",
            "/api/desk/agents/agent-b/capacity",
            Some(&json!({"capacity": 1})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(
        (
            set["data"]["capacity"].as_i64(),
            set["data"]["capacitySet"].as_bool(),
            set["data"]["active"].as_i64()
        ),
        (Some(1), Some(true), Some(1))
    );
    let second = ask(&app, "cust-2").await;
    assert_eq!(assignee(&app, &second).await, None);

    // Back online, A takes the next.
    let agent_a = app.token("agent-a", "agent");
    let (status, _) = app
        .call(
            "PUT",
            "/api/desk/agents/agent-a/availability",
            Some(&json!({"availability": "online"})),
            Some(&agent_a),
        )
        .await;
    assert_eq!(status, 200);
    let third = ask(&app, "cust-3").await;
    assert_eq!(assignee(&app, &third).await.as_deref(), Some("agent-a"));

    // The desk shows both, with their loads.
    a.send(json!({"type": "queue"})).await;
    let desk = a.recv_until(|f| f["type"] == "queue").await;
    let agents: Vec<(&str, &str, i64, i64)> = desk["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_str().unwrap(),
                x["availability"].as_str().unwrap(),
                x["capacity"].as_i64().unwrap(),
                x["active"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        agents,
        [("agent-a", "online", 5, 1), ("agent-b", "online", 1, 1)]
    );
    assert_eq!(desk["queue"][0]["sessionId"], second.as_str(), "{desk}");

    // Refusals.
    let agent_b = app.token("agent-b", "agent");
    let cust = app.token("cust-1", "customer");
    let cases = [
        (
            "/api/desk/agents/agent-a/availability",
            json!({"availability": "away"}),
            Some(agent_b.as_str()),
            403,
            "Agents set their own availability",
        ),
        (
            "/api/desk/agents/agent-b/capacity",
            json!({"capacity": 3}),
            Some(agent_b.as_str()),
            403,
            "Only admins set an agent's capacity",
        ),
        (
            "/api/desk/agents/agent-b/availability",
            json!({"availability": "asleep"}),
            Some(agent_b.as_str()),
            422,
            "availability must be one of: online, away, busy",
        ),
        (
            "/api/desk/agents/agent-b/capacity",
            json!({"capacity": 101}),
            Some(admin.as_str()),
            422,
            "capacity must be between 0 and 100",
        ),
        (
            "/api/desk/agents/agent-b/availability",
            json!({"availability": "away"}),
            Some(cust.as_str()),
            403,
            "Insufficient permissions",
        ),
        (
            "/api/desk/agents/agent-b/availability",
            json!({"availability": "away"}),
            None,
            401,
            "Token required",
        ),
    ];
    for (path, body, who, want, message) in cases {
        let (status, answer) = app.call("PUT", path, Some(&body), who).await;
        assert_eq!(
            (status, answer["message"].as_str()),
            (want, Some(message)),
            "{path} {body}"
        );
    }
    // An admin may set anyone's availability, and a capacity back to the default.
    let (status, set) = app
        .call(
            "PUT",
            "/api/desk/agents/agent-b/availability",
            Some(&json!({"availability": "busy"})),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (status, set["data"]["availability"].as_str()),
        (200, Some("busy"))
    );
    let (_, set) = app
        .call(
            "PUT",
            "/api/desk/agents/agent-b/capacity",
            Some(&json!({"capacity": null})),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (
            set["data"]["capacity"].as_i64(),
            set["data"]["capacitySet"].as_bool()
        ),
        (Some(5), Some(false))
    );
}

#[actix_web::test]
async fn waiting_customers_are_told_their_place_as_the_queue_moves() {
    let app = spawn_app().await;
    let mut customers = Vec::new();
    for i in 0..3 {
        let session = uid("queue");
        let token = app.token(&format!("q-cust-{i}"), "customer");
        let mut c = app.customer(&session, Some(&token)).await;
        c.send(json!({"type": "customer_message", "message": format!("help {i}")}))
            .await;
        c.recv_type("message_ack").await;
        let place = c.recv_until(|f| f["type"] == "queue_position").await;
        assert_eq!(
            (place["sessionId"].as_str(), place["position"].as_u64()),
            (Some(session.as_str()), Some(i + 1)),
            "{place}"
        );
        // Nobody has been answered yet: no wait to expect.
        assert!(place["expectedWaitSeconds"].is_null(), "{place}");
        customers.push((session, c));
    }

    // The first is answered, then taken: out of the queue; the others move up, now
    // with an expected wait.
    let mut agent = app.staff("agent-q", "agent").await;
    let first = customers[0].0.clone();
    agent
        .send(json!({"type": "staff_message", "sessionId": first, "content": "hi!"}))
        .await;
    agent.recv_until(|f| f["type"] == "message_ack").await;
    agent
        .send(json!({"type": "accept", "sessionId": first}))
        .await;
    let out = customers[0]
        .1
        .recv_until(|f| f["type"] == "queue_position")
        .await;
    assert!(out["position"].is_null(), "{out}");
    for (i, (_, c)) in customers.iter_mut().enumerate().skip(1) {
        let place = c.recv_until(|f| f["type"] == "queue_position").await;
        assert_eq!(place["position"].as_u64(), Some(i as u64), "{place}");
        assert!(
            place["expectedWaitSeconds"]
                .as_i64()
                .is_some_and(|s| s >= 0),
            "{place}"
        );
    }

    // Staff see the same queue over REST.
    let staff = app.token("agent-q", "agent");
    let (status, desk) = app.call("GET", "/api/desk/queue", None, Some(&staff)).await;
    assert_eq!(status, 200, "{desk}");
    let queue: Vec<(u64, &str)> = desk["data"]["queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["position"].as_u64().unwrap(),
                q["sessionId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        queue,
        [(1, customers[1].0.as_str()), (2, customers[2].0.as_str())]
    );
    // Customers may not look at it.
    let (_, c) = &mut customers[2];
    c.send(json!({"type": "queue"})).await;
    c.expect_error("Insufficient permissions").await;
    let cust = app.token("q-cust-2", "customer");
    let (status, _) = app.call("GET", "/api/desk/queue", None, Some(&cust)).await;
    assert_eq!(status, 403);
}
