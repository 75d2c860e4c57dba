//! The team desk over several nodes: an agent's availability and the queue's places
//! are the same on every node; the office hours and the desk's availability too; staff
//! on one node hear who a customer on another is; the widget's look is the same
//! everywhere; a snooze is heard everywhere and ends once.

use std::time::Duration;

use serde_json::{json, Value};

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
    let heard = within(&mut watcher, Duration::from_secs(10), |f| {
        f["type"] == "agent_updated"
    })
    .await;
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
        let place = within(&mut c, Duration::from_secs(10), |f| {
            f["type"] == "queue_position"
        })
        .await;
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
        let place = within(c, Duration::from_secs(10), |f| {
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

#[actix_web::test]
async fn office_hours_and_who_the_customer_is_reach_every_node() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["hours-a", "hours-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let availability = || async {
        let (status, v) = b.call("GET", "/api/support/availability", None, None).await;
        assert_eq!(status, 200, "{v}");
        v
    };
    assert_eq!(availability().await["reason"], "no_agents");

    // An agent online on A opens the desk on B (presence moves with A's next beat).
    let mut agent = a
        .ws_as(json!({"type": "register_admin", "userId": "hours-agent", "token": token("hours-agent", "agent")}))
        .await;
    let (open, seen) = eventually(Duration::from_secs(10), || async {
        let v = availability().await;
        (v["open"] == true, v)
    })
    .await;
    assert!(open, "{seen}");

    // Hours set on A (none on any day, with a reply): B is closed at once.
    let closed = json!({"timeZone": "Asia/Tokyo", "weekly": {}, "autoReply": "We are closed; we will email you."});
    let admin = token("hours-admin", "admin");
    let (status, _) = a
        .call("PUT", "/api/desk/office-hours", Some(&closed), Some(&admin))
        .await;
    assert_eq!(status, 200);
    let v = availability().await;
    assert_eq!(
        (&v["open"], &v["reason"], &v["officeHours"]["timeZone"]),
        (&json!(false), &json!("outside_hours"), &json!("Asia/Tokyo")),
        "{v}"
    );

    // A customer on B tells their page and leaves an email: the agent on A hears both.
    let customer = token_with("hours-cust", json!({"plan": "gold"}));
    let (_, opened) = b
        .call(
            "GET",
            "/api/support/conversation?type=general",
            None,
            Some(&customer),
        )
        .await;
    let session = opened["id"].as_str().expect("id").to_owned();
    let mut cust = b
        .ws_as(json!({"type": "register", "sessionId": session, "token": customer}))
        .await;
    cust.send(json!({"type": "customer_context", "pageUrl": "https://shop.example/p/42", "pageTitle": "Kettle", "browser": "Firefox 133", "timeZone": "Asia/Tokyo"})).await;
    let told = within(&mut agent, Duration::from_secs(10), |f| {
        f["type"] == "conversation_updated" && f["change"] == "customer"
    })
    .await;
    let c = &told["conversation"]["customer"];
    assert_eq!(
        (&c["pageTitle"], &c["attributes"]["plan"]),
        (&json!("Kettle"), &json!("gold")),
        "{told}"
    );

    let left = json!({"message": "Is the kettle back soon?", "email": "kim@example.jp", "sessionId": session, "clientId": "hours-1"});
    let (status, body) = b
        .call(
            "POST",
            "/api/support/offline-message",
            Some(&left),
            Some(&customer),
        )
        .await;
    assert_eq!(
        (status, &body["autoReply"]["message"]),
        (201, &json!("We are closed; we will email you.")),
        "{body}"
    );
    within(&mut agent, Duration::from_secs(10), |f| {
        f["type"] == "customer_message" && f["sessionId"] == json!(session)
    })
    .await;
    let told = within(&mut agent, Duration::from_secs(10), |f| {
        f["type"] == "conversation_updated" && f["change"] == "customer"
    })
    .await;
    assert_eq!(told["conversation"]["customer"]["email"], "kim@example.jp");
    within(&mut agent, Duration::from_secs(10), |f| {
        f["type"] == "system_message" && f["message"] == "We are closed; we will email you."
    })
    .await;

    // Cleared on B: open again on A.
    let (status, _) = b
        .call("DELETE", "/api/desk/office-hours", None, Some(&admin))
        .await;
    assert_eq!(status, 200);
    let (_, v) = a.call("GET", "/api/support/availability", None, None).await;
    assert_eq!(
        (&v["open"], &v["officeHours"]),
        (&json!(true), &Value::Null),
        "{v}"
    );

    // The widget's look set on A is what every widget on B loads.
    let look = json!({"color": "#b91c1c", "teamName": "Tokyo desk"});
    let (status, _) = a
        .call("PUT", "/api/desk/widget", Some(&look), Some(&admin))
        .await;
    assert_eq!(status, 200);
    let (_, v) = b.call("GET", "/api/widget", None, None).await;
    assert_eq!(
        (&v["data"]["color"], &v["data"]["teamName"]),
        (&json!("#b91c1c"), &json!("Tokyo desk")),
        "{v}"
    );
}

#[actix_web::test]
async fn a_snooze_is_heard_on_every_node_and_ends_once() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["snooze-a", "snooze-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let agent = token("snooze-agent", "agent");
    let mut on_a = a
        .ws_as(json!({"type": "register_admin", "userId": "snooze-agent", "token": agent}))
        .await;
    let mut on_b = b
        .ws_as(json!({"type": "register_admin", "userId": "snooze-watcher", "token": token("snooze-watcher", "agent")}))
        .await;
    let session = format!("snooze-{}", uuid::Uuid::new_v4().simple());
    let mut cust = a
        .ws_as(json!({"type": "register", "sessionId": session, "token": token("snooze-cust", "customer")}))
        .await;
    cust.send(json!({"type": "customer_message", "message": "later is fine"}))
        .await;
    cust.recv_until(|f| f["type"] == "message_ack").await;

    // Snoozed on A for 3 s: both nodes' staff hear it.
    let until = (chrono::Utc::now() + chrono::Duration::seconds(3))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();
    let path = format!("/api/desk/conversations/{session}/snooze");
    let (status, body) = a
        .call("PUT", &path, Some(&json!({"until": until})), Some(&agent))
        .await;
    assert_eq!(status, 200, "{body}");
    let is_snooze = |f: &Value| f["type"] == "conversation_updated" && f["change"] == "snoozed";
    for ws in [&mut on_a, &mut on_b] {
        let heard = within(ws, Duration::from_secs(10), is_snooze).await;
        assert_eq!(
            heard["conversation"]["snoozedUntil"],
            json!(until),
            "{heard}"
        );
    }
    let (_, inbox) = b
        .call(
            "GET",
            "/api/desk/conversations?status=waiting",
            None,
            Some(&agent),
        )
        .await;
    assert!(!inbox.to_string().contains(&session), "{inbox}");

    // Both nodes sweep; it wakes once: one wake frame each, then nothing more.
    for ws in [&mut on_a, &mut on_b] {
        let woke = within(ws, Duration::from_secs(10), is_snooze).await;
        assert_eq!(woke["conversation"]["snoozedUntil"], Value::Null, "{woke}");
    }
    for ws in [&mut on_a, &mut on_b] {
        let more = ws.frames_for(4500).await;
        assert!(!more.iter().any(is_snooze), "woken twice: {more:?}");
    }
    let (_, inbox) = b
        .call(
            "GET",
            "/api/desk/conversations?status=waiting",
            None,
            Some(&agent),
        )
        .await;
    assert!(inbox.to_string().contains(&session), "{inbox}");
}
