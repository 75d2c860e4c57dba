//! Seed 004's REST API: a session's whole life, and its bad inputs.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn a_session_runs_its_whole_life_over_rest() {
    let app = spawn_app().await;
    let customer = app.token("cust-1", "customer");
    let agent_a = app.token("agent-a", "agent");
    let agent_b = app.token("agent-b", "support");
    let mut watcher = app.staff("agent-w", "agent").await;

    // Create, with an initial message.
    let body = json!({"subject": "Need help with order", "category": "order_issue", "priority": "high", "initial_message": "My order is delayed"});
    let (status, created) = app
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&body),
            Some(&customer),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["success"], true);
    let s = &created["data"];
    assert_eq!(
        (
            s["subject"].as_str(),
            s["status"].as_str(),
            s["priority"].as_str()
        ),
        (Some("Need help with order"), Some("waiting"), Some("high"))
    );
    let id = s["id"].as_str().unwrap().to_owned();
    // Staff hear of the new conversation and its first message.
    let update = watcher.recv_type("conversation_updated").await;
    assert_eq!(
        (update["change"].as_str(), update["sessionId"].as_str()),
        (Some("created"), Some(id.as_str()))
    );
    assert_eq!(
        watcher.recv_type("customer_message").await["message"],
        "My order is delayed"
    );

    // Listed for the customer and for staff, with unread counts.
    let (_, mine) = app
        .call("GET", "/api/v1/chat/sessions", None, Some(&customer))
        .await;
    assert_eq!(mine["data"][0]["id"], id.as_str());
    assert_eq!(mine["data"][0]["unread_count"], 0);
    let (_, all) = app
        .call("GET", "/api/v1/chat/sessions", None, Some(&agent_a))
        .await;
    let listed = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id.as_str())
        .expect("listed for staff");
    assert_eq!(listed["unread_count"], 1);
    assert_eq!(listed["last_message"]["content"], "My order is delayed");

    // Agent A takes it; agent B is too late.
    let (status, assigned) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/assign"),
            None,
            Some(&agent_a),
        )
        .await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(
        (
            assigned["data"]["status"].as_str(),
            assigned["data"]["agent_id"].as_str()
        ),
        (Some("active"), Some("agent-a"))
    );
    let (status, late) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/assign"),
            None,
            Some(&agent_b),
        )
        .await;
    assert_eq!(
        (status, late["message"].as_str()),
        (409, Some("Conversation already accepted"))
    );

    // Agent replies; the customer reads it.
    let reply = json!({"content": "Looking into it", "temp_id": "t-1"});
    let (status, sent) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/messages"),
            Some(&reply),
            Some(&agent_a),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        (
            sent["data"]["sender_role"].as_str(),
            sent["data"]["temp_id"].as_str()
        ),
        (Some("agent"), Some("t-1"))
    );
    let (_, detail) = app
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{id}"),
            None,
            Some(&customer),
        )
        .await;
    assert_eq!(detail["data"]["unread_count"], 2, "{detail}"); // the accept note and the reply
    let (status, read) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/read"),
            Some(&json!({})),
            Some(&customer),
        )
        .await;
    assert_eq!(
        (status, read["message"].as_str()),
        (200, Some("Messages marked as read"))
    );
    let (_, detail) = app
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{id}"),
            None,
            Some(&customer),
        )
        .await;
    assert_eq!(detail["data"]["unread_count"], 0);

    // History with limit/offset, oldest first, with read receipts.
    let (_, page) = app
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{id}/messages?limit=2&offset=1"),
            None,
            Some(&agent_a),
        )
        .await;
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["sender_role"], "system");
    assert_eq!(data[1]["content"], "Looking into it");
    assert_eq!(data[1]["read_by"], json!(["cust-1"]));
    assert_eq!(page["has_more"], false);

    // Resolve; a customer message reopens it; close; closed is final.
    let patch = |s: &str| json!({"status": s});
    let (status, resolved) = app
        .call(
            "PATCH",
            &format!("/api/v1/chat/sessions/{id}/status"),
            Some(&patch("resolved")),
            Some(&agent_a),
        )
        .await;
    assert_eq!(
        (status, resolved["data"]["status"].as_str()),
        (200, Some("resolved"))
    );
    let again = json!({"content": "One more thing"});
    app.call(
        "POST",
        &format!("/api/v1/chat/sessions/{id}/messages"),
        Some(&again),
        Some(&customer),
    )
    .await;
    let (_, detail) = app
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{id}"),
            None,
            Some(&agent_a),
        )
        .await;
    assert_eq!(detail["data"]["status"], "active");
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/chat/sessions/{id}/status"),
            Some(&patch("closed")),
            Some(&customer),
        )
        .await;
    assert_eq!(status, 200);
    let (status, refused) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/messages"),
            Some(&again),
            Some(&customer),
        )
        .await;
    assert_eq!(
        (status, refused["message"].as_str()),
        (409, Some("Conversation is closed"))
    );
    let (status, refused) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/assign"),
            None,
            Some(&agent_b),
        )
        .await;
    assert_eq!(
        (status, refused["message"].as_str()),
        (409, Some("Conversation is closed"))
    );

    // Every status change is in the history as a system message.
    let (_, page) = app
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{id}/messages?limit=100"),
            None,
            Some(&agent_a),
        )
        .await;
    let notes: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["sender_role"] == "system")
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        vec![
            "agent-a name joined the conversation",
            "Conversation resolved by agent-a name",
            "Conversation reopened",
            "Conversation closed by cust-1 name"
        ]
    );
}

#[actix_web::test]
async fn session_api_refuses_bad_requests() {
    let app = spawn_app().await;
    let alice = app.token("alice", "customer");
    let mallory = app.token("mallory", "customer");
    let agent = app.token("agent", "agent");
    let (_, created) = app
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"subject": "x"})),
            Some(&alice),
        )
        .await;
    let id = created["data"]["id"].as_str().unwrap().to_owned();

    // No identity; someone else's session; unknown session.
    let (status, body) = app.call("GET", "/api/v1/chat/sessions", None, None).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("Token required"))
    );
    let (status, body) = app
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{id}"),
            None,
            Some(&mallory),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{id}/messages"),
            None,
            Some(&mallory),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/read"),
            None,
            Some(&mallory),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{}", uid("nope")),
            None,
            Some(&agent),
        )
        .await;
    assert_eq!(status, 404);

    // Illegal transitions and roles.
    let (status, body) = app
        .call(
            "PATCH",
            &format!("/api/v1/chat/sessions/{id}/status"),
            Some(&json!({"status": "resolved"})),
            Some(&agent),
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (409, Some("Cannot change status from waiting to resolved"))
    );
    let (status, body) = app
        .call(
            "PATCH",
            &format!("/api/v1/chat/sessions/{id}/status"),
            Some(&json!({"status": "paused"})),
            Some(&agent),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/assign"),
            None,
            Some(&alice),
        )
        .await;
    assert_eq!(status, 403);
    let other = json!({"agent_id": "someone"});
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/assign"),
            Some(&other),
            Some(&agent),
        )
        .await;
    assert_eq!(status, 403, "only admins assign others");

    // Paging and fields.
    for q in ["limit=0", "limit=100000", "offset=-1", "limit=abc"] {
        let (status, _) = app
            .call(
                "GET",
                &format!("/api/v1/chat/sessions/{id}/messages?{q}"),
                None,
                Some(&alice),
            )
            .await;
        assert_eq!(status, 422, "{q}");
    }
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"priority": "asap"})),
            Some(&alice),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"subject": "s".repeat(300)})),
            Some(&alice),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/read"),
            Some(&json!({"message_ids": [uid("m")]})),
            Some(&alice),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/messages"),
            Some(&json!({"content": "x", "message_type": "auth_code"})),
            Some(&alice),
        )
        .await;
    assert_eq!(status, 422, "clients cannot forge server message types");

    // An admin reassigns.
    let admin = app.token("boss", "admin");
    let (status, body) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/assign"),
            Some(&json!({"agent_id": "agent-2", "agent_name": "Two"})),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (status, body["data"]["agent_id"].as_str()),
        (200, Some("agent-2"))
    );
}

#[actix_web::test]
async fn presence_over_rest() {
    let app = spawn_app().await;
    let customer = app.token("cust-9", "customer");
    let agent = app.token("agent", "agent");
    let (_, s) = app
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"subject": "x"})),
            Some(&customer),
        )
        .await;
    let id = s["data"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/chat/sessions/{id}/participants");
    let (_, nobody) = app.call("GET", &path, None, Some(&customer)).await;
    assert_eq!(nobody["data"], json!([]));

    let on = app.customer(&id, Some(&customer)).await;
    let _staff = app.staff("agent", "agent").await;
    let (status, present) = app.call("GET", &path, None, Some(&agent)).await;
    assert_eq!(status, 200);
    assert_eq!(
        present["data"],
        json!([{"id": "cust-9", "role": "customer", "name": "cust-9 name"}])
    );
    let (_, staff) = app
        .call("GET", "/api/v1/chat/staff/online", None, Some(&agent))
        .await;
    assert_eq!(
        staff["data"],
        json!([{"id": "agent", "role": "agent", "name": "agent name"}])
    );
    assert_eq!(
        app.call("GET", "/api/v1/chat/staff/online", None, Some(&customer))
            .await
            .0,
        403
    );
    let other = app.token("other", "customer");
    assert_eq!(app.call("GET", &path, None, Some(&other)).await.0, 403);

    // A user goes offline only when the last connection closes.
    drop(on);
    let mut gone = false;
    for _ in 0..40 {
        let (_, p) = app.call("GET", &path, None, Some(&agent)).await;
        if p["data"] == json!([]) {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(gone, "the customer left the room on disconnect");
}

#[actix_web::test]
async fn malformed_optional_bodies_are_refused_not_ignored() {
    let app = spawn_app().await;
    let customer = app.token("cust", "customer");
    let admin = app.token("boss", "admin");
    let (_, s) = app
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"initial_message": "hello"})),
            Some(&customer),
        )
        .await;
    let id = s["data"]["id"].as_str().unwrap().to_owned();

    // A wrong body must not be read as "mark everything read" or "assign to me".
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/read"),
            Some(&json!({"message_ids": "not-a-list"})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 422);
    let (_, detail) = app
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{id}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(detail["data"]["unread_count"], 1);
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/assign"),
            Some(&json!({"agent_id": 42})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 422);
    let (_, detail) = app
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{id}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(detail["data"]["agent_id"], serde_json::Value::Null);
    let (status, _) = app
        .call(
            "POST",
            "/api/support/conversation/guest",
            Some(&json!({"guestId": 5})),
            None,
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .post_raw(&format!("/api/v1/chat/sessions/{id}/read"), "{oops")
        .await;
    assert_eq!(status, 400, "malformed JSON");

    // Waiting becomes active only by someone taking it.
    let (status, body) = app
        .call(
            "PATCH",
            &format!("/api/v1/chat/sessions/{id}/status"),
            Some(&json!({"status": "active"})),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (
            409,
            Some("Accept or assign the conversation to make it active")
        )
    );
}
