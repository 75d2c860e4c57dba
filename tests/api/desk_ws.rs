//! The support desk over the native `/ws` protocol: a customer, a guest and two agents
//! run conversations through their whole life with presence, typing and receipts.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn a_conversation_lives_its_whole_life_over_ws() {
    let app = spawn_with(|c| c.typing_timeout = Duration::from_millis(400)).await;
    let session = uid("sess");
    let token = app.token("cust-1", "customer");
    let mut agent_a = app.staff("agent-a", "agent").await;
    let mut agent_b = app.staff("agent-b", "agent").await;
    assert_eq!(
        agent_a.recv_type("staff_presence").await["userId"],
        "agent-b"
    );
    let mut cust = app.customer(&session, Some(&token)).await;
    cust.send(json!({"type": "customer_message", "message": "hello", "clientId": "c-1"}))
        .await;
    let first = cust.recv_type("message_ack").await;
    for agent in [&mut agent_a, &mut agent_b] {
        let created = agent.recv_type("conversation_updated").await;
        assert_eq!(
            (
                created["change"].as_str(),
                created["conversation"]["status"].as_str()
            ),
            (Some("created"), Some("waiting"))
        );
        agent.recv_type("customer_message").await;
    }

    // Agent A joins the room: it sees who is there, and the customer sees it arrive.
    agent_a
        .send(json!({"type": "join", "sessionId": session}))
        .await;
    let joined = agent_a.recv_type("joined").await;
    assert_eq!(joined["conversation"]["unreadCount"], 1);
    let ids: Vec<&str> = joined["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"cust-1") && ids.contains(&"agent-a"),
        "{ids:?}"
    );
    let arrived = cust.recv_type("participant_joined").await;
    assert_eq!(
        (arrived["userId"].as_str(), arrived["role"].as_str()),
        (Some("agent-a"), Some("agent"))
    );

    // Accept: first wins, everyone hears the status change.
    agent_a
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    agent_b
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    let e = agent_b.recv_type("error").await;
    assert_eq!(
        (e["message"].as_str(), e["code"].as_str()),
        (Some("Conversation already accepted"), Some("conflict"))
    );
    let update = cust.recv_type("conversation_updated").await;
    assert_eq!(
        (
            update["conversation"]["status"].as_str(),
            update["conversation"]["assignedAgentId"].as_str()
        ),
        (Some("active"), Some("agent-a"))
    );

    // Typing is relayed to the others in the room and expires unless refreshed.
    cust.send(json!({"type": "typing", "sessionId": session, "isTyping": true}))
        .await;
    let typing = agent_a.recv_type("typing").await;
    assert_eq!(
        (typing["userId"].as_str(), typing["isTyping"].as_bool()),
        (Some("cust-1"), Some(true))
    );
    let expired = agent_a.recv_type("typing").await;
    assert_eq!(
        (expired["isTyping"].as_bool(), expired["expired"].as_bool()),
        (Some(false), Some(true))
    );
    agent_a
        .send(json!({"type": "typing", "sessionId": session, "isTyping": true}))
        .await;
    assert_eq!(cust.recv_type("typing").await["isTyping"], true);
    agent_a
        .send(json!({"type": "typing", "sessionId": session, "isTyping": false}))
        .await;
    let stopped = cust.recv_type("typing").await;
    assert_eq!(
        (stopped["isTyping"].as_bool(), stopped["expired"].as_bool()),
        (Some(false), Some(false))
    );

    // Reply, and read receipts both ways.
    agent_a
        .send(json!({"type": "staff_message", "sessionId": session, "content": "hi, I'm on it"}))
        .await;
    let ack = agent_a.recv_type("message_ack").await;
    let reply = cust.recv_type("staff_reply").await;
    // Every staff connection sees every reply (seed 000: so no two agents answer blind).
    assert_eq!(agent_b.recv_type("staff_reply").await["id"], reply["id"]);
    cust.send(json!({"type": "read", "sessionId": session, "upToSeq": reply["seq"]}))
        .await;
    assert_eq!(cust.recv_type("read_ack").await["upToSeq"], ack["seq"]);
    let receipt = agent_a.recv_type("messages_read").await;
    assert_eq!(
        (receipt["readerId"].as_str(), receipt["upToSeq"].as_i64()),
        (Some("cust-1"), ack["seq"].as_i64())
    );
    agent_a
        .send(json!({"type": "read", "sessionId": session, "messageIds": [first["id"]]}))
        .await;
    agent_a.recv_type("read_ack").await;
    assert_eq!(cust.recv_type("messages_read").await["readerId"], "agent-a");
    cust.send(json!({"type": "history", "sessionId": session}))
        .await;
    let h = cust.recv_type("history").await;
    let hello = h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message"] == "hello")
        .unwrap();
    assert_eq!(
        (hello["isRead"].as_bool(), hello["readBy"].clone()),
        (Some(true), json!(["agent-a"]))
    );

    // Presence: B joins and leaves; the customer sees both; online staff and participants.
    agent_b
        .send(json!({"type": "join", "sessionId": session}))
        .await;
    agent_b.recv_type("joined").await;
    assert_eq!(
        cust.recv_type("participant_joined").await["userId"],
        "agent-b"
    );
    cust.send(json!({"type": "participants", "sessionId": session}))
        .await;
    assert_eq!(
        cust.recv_type("participants").await["participants"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    agent_a.send(json!({"type": "online_staff"})).await;
    let online = agent_a.recv_type("online_staff").await;
    assert_eq!(online["staff"].as_array().unwrap().len(), 2);
    drop(agent_b);
    assert_eq!(
        cust.recv_type("participant_left").await["userId"],
        "agent-b"
    );
    let offline = agent_a.recv_type("staff_presence").await;
    assert_eq!(
        (offline["userId"].as_str(), offline["online"].as_bool()),
        (Some("agent-b"), Some(false))
    );

    // Resolve; a customer message reopens; the customer closes; closed is final.
    agent_a
        .send(json!({"type": "set_status", "sessionId": session, "status": "resolved"}))
        .await;
    assert_eq!(
        cust.recv_type("conversation_updated").await["conversation"]["status"],
        "resolved"
    );
    cust.send(json!({"type": "customer_message", "message": "one more thing"}))
        .await;
    cust.recv_type("message_ack").await;
    assert_eq!(
        agent_a.recv_type("system_message").await["message"],
        "Conversation reopened"
    );
    assert_eq!(
        agent_a.recv_type("conversation_updated").await["conversation"]["status"],
        "active"
    );
    assert_eq!(
        agent_a.recv_type("customer_message").await["message"],
        "one more thing"
    );
    cust.send(json!({"type": "set_status", "sessionId": session, "status": "closed"}))
        .await;
    assert_eq!(
        agent_a.recv_type("conversation_updated").await["conversation"]["status"],
        "closed"
    );
    cust.send(json!({"type": "customer_message", "message": "hello?"}))
        .await;
    cust.expect_error("Conversation is closed").await;
    agent_a
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    agent_a.expect_error("Conversation is closed").await;
}

#[actix_web::test]
async fn a_guest_chats_over_ws_with_its_issued_id() {
    let app = spawn_app().await;
    let (_, g) = app
        .call("POST", "/api/support/conversation/guest", None, None)
        .await;
    let (guest_id, conv_id) = (
        g["guestId"].as_str().unwrap().to_owned(),
        g["conversation"]["id"].as_str().unwrap().to_owned(),
    );
    let mut agent = app.staff("agent", "agent").await;
    let mut guest = app.ws().await;
    guest
        .send(json!({"type": "register", "sessionId": conv_id, "guestId": guest_id}))
        .await;
    guest.recv_type("registered").await;
    guest
        .send(json!({"type": "customer_message", "message": "guest here"}))
        .await;
    guest.recv_type("message_ack").await;
    let seen = agent.recv_type("customer_message").await;
    assert_eq!(
        (
            seen["senderId"].as_str(),
            seen["senderType"].as_str(),
            seen["customerName"].as_str()
        ),
        (Some(guest_id.as_str()), Some("guest"), Some("Guest"))
    );
    agent
        .send(json!({"type": "staff_message", "sessionId": conv_id, "content": "welcome"}))
        .await;
    assert_eq!(guest.recv_type("staff_reply").await["message"], "welcome");

    // Without the id, or with one never issued, the guest's conversation stays shut.
    let mut stranger = app.ws().await;
    stranger
        .send(json!({"type": "register", "sessionId": conv_id}))
        .await;
    stranger
        .expect_error("Access denied to this conversation")
        .await;
    stranger.send(json!({"type": "register", "sessionId": conv_id, "guestId": format!("guest_1_{}", "f".repeat(32))})).await;
    stranger.expect_error("Unknown guest id").await;
}

#[actix_web::test]
async fn desk_commands_refuse_bad_input() {
    let app = spawn_app().await;
    let mut fresh = app.ws().await;
    fresh
        .send(json!({"type": "join", "sessionId": uid("s")}))
        .await;
    fresh.expect_error("Not registered").await;
    fresh
        .send(json!({"type": "accept", "sessionId": uid("s")}))
        .await;
    fresh.expect_error("Not registered").await;

    let session = uid("sess");
    let mut cust = app.customer(&session, None).await;
    cust.send(json!({"type": "customer_message", "message": "hi"}))
        .await;
    cust.recv_type("message_ack").await;
    // Typing where one has not joined; accept as a customer; bad status; unknown messages.
    cust.send(json!({"type": "typing", "sessionId": uid("elsewhere"), "isTyping": true}))
        .await;
    cust.expect_error("Join the conversation first").await;
    cust.send(json!({"type": "accept", "sessionId": session}))
        .await;
    cust.expect_error("Only support staff can accept conversations")
        .await;
    cust.send(json!({"type": "set_status", "sessionId": session, "status": "paused"}))
        .await;
    cust.expect_error("status must be one of: waiting, active, resolved, closed")
        .await;
    cust.send(json!({"type": "set_status", "sessionId": session, "status": "resolved"}))
        .await;
    cust.expect_error("Cannot change status from waiting to resolved")
        .await;
    cust.send(json!({"type": "read", "sessionId": session, "messageIds": [uid("m")]}))
        .await;
    cust.expect_error("No such messages in this conversation")
        .await;
    cust.send(json!({"type": "typing", "sessionId": session, "isTyping": "yes"}))
        .await;
    cust.expect_error("Invalid message format").await;
    let mut staff = app.staff("agent", "agent").await;
    staff
        .send(json!({"type": "join", "sessionId": uid("missing")}))
        .await;
    staff.expect_error("Conversation not found").await;
    cust.send(json!({"type": "online_staff"})).await;
    cust.expect_error("Insufficient permissions").await;
    // Nothing above touched the stored conversation.
    let (_, h) = app
        .get_json(&format!("/api/chat/sessions/{session}/messages"), None)
        .await;
    assert_eq!(h["messages"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn new_conversations_are_auto_assigned_round_robin_under_capacity() {
    let app = spawn_with(|c| c.auto_assign_capacity = 1).await;
    let _boss = app.staff("boss", "admin").await; // admins are not auto-assigned
    let mut a = app.staff("agent-a", "agent").await;
    let _b = app.staff("agent-b", "agent").await;
    let mut assigned = Vec::new();
    for i in 0..3 {
        let token = app.token(&format!("cust-{i}"), "customer");
        let (_, s) = app
            .call(
                "POST",
                "/api/v1/chat/sessions",
                Some(&json!({"subject": "hi", "initial_message": "hello"})),
                Some(&token),
            )
            .await;
        let id = s["data"]["id"].as_str().unwrap().to_owned();
        // Wait for the assignment to land (or not).
        let mut agent = None;
        for _ in 0..20 {
            let (_, d) = app
                .call(
                    "GET",
                    &format!("/api/v1/chat/sessions/{id}"),
                    None,
                    Some(&token),
                )
                .await;
            if let Some(x) = d["data"]["agent_id"].as_str() {
                assert_eq!(d["data"]["status"], "active");
                agent = Some(x.to_owned());
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assigned.push(agent);
    }
    assert_eq!(
        assigned,
        vec![Some("agent-a".to_owned()), Some("agent-b".to_owned()), None]
    );
    // The agent heard about its assignment.
    let update = a
        .recv_until(|v| v["type"] == "conversation_updated" && v["change"] == "status")
        .await;
    assert_eq!(update["conversation"]["assignedAgentId"], "agent-a");
}

#[actix_web::test]
async fn staff_go_offline_only_when_their_last_tab_closes() {
    let app = spawn_app().await;
    let mut watcher = app.staff("watcher", "agent").await;
    let tab1 = app.staff("multi", "agent").await;
    assert_eq!(watcher.recv_type("staff_presence").await["online"], true);
    let tab2 = app.staff("multi", "agent").await;
    drop(tab1);
    // Still online through the second tab: no presence change arrives.
    watcher.expect_silence(300).await;
    watcher.send(json!({"type": "online_staff"})).await;
    let online = watcher.recv_type("online_staff").await;
    assert!(online["staff"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["id"] == "multi"));
    drop(tab2);
    let off = watcher.recv_type("staff_presence").await;
    assert_eq!(
        (off["userId"].as_str(), off["online"].as_bool()),
        (Some("multi"), Some(false))
    );
}

#[actix_web::test]
async fn a_guest_sends_a_file_over_ws() {
    let app = spawn_app().await;
    let (_, g) = app
        .call("POST", "/api/support/conversation/guest", None, None)
        .await;
    let (guest_id, conv_id) = (
        g["guestId"].as_str().unwrap().to_owned(),
        g["conversation"]["id"].as_str().unwrap().to_owned(),
    );
    let boundary = "b0undary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nmy order number is 42\r\n--{boundary}--\r\n"
    );
    let mut resp = awc::Client::new()
        .post(app.url(&format!("/api/v1/chat/upload?guestId={guest_id}")))
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .send_body(body)
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let up: serde_json::Value = resp.json().await.unwrap();
    let file_id = up["data"][0]["id"].as_str().unwrap().to_owned();

    let mut agent = app.staff("agent", "agent").await;
    let mut guest = app.ws().await;
    guest
        .send(json!({"type": "register", "sessionId": conv_id, "guestId": guest_id}))
        .await;
    guest.recv_type("registered").await;
    guest.send(json!({"type": "customer_message", "message": "see attached", "attachments": [file_id]})).await;
    guest.recv_type("message_ack").await;
    let m = agent.recv_type("customer_message").await;
    assert_eq!(
        (
            m["messageType"].as_str(),
            m["attachments"][0]["fileName"].as_str()
        ),
        (Some("file"), Some("notes.txt"))
    );
    let token = app.token("agent", "agent");
    let url = m["attachments"][0]["fileUrl"].as_str().unwrap();
    let mut file = awc::Client::new()
        .get(app.url(url))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        file.body().await.unwrap().as_ref(),
        b"my order number is 42"
    );
    // The same upload cannot be sent twice.
    guest
        .send(json!({"type": "customer_message", "message": "again", "attachments": [file_id]}))
        .await;
    guest.expect_error("Unknown attachment").await;
}

#[actix_web::test]
async fn the_inbox_over_ws_carries_unread_counts() {
    let app = spawn_app().await;
    let session = uid("sess");
    let mut cust = app
        .customer(&session, Some(&app.token("c-1", "customer")))
        .await;
    for text in ["one", "two"] {
        cust.send(json!({"type": "customer_message", "message": text}))
            .await;
        cust.recv_type("message_ack").await;
    }
    let mut staff = app.staff("agent", "agent").await;
    staff.send(json!({"type": "inbox", "status": "open"})).await;
    let inbox = staff.recv_type("inbox").await;
    // The filter is echoed, so a client can tell which request an answer is for.
    assert_eq!(inbox["status"], "open");
    let mine = inbox["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == session.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (
            mine["unreadCount"].as_i64(),
            mine["lastMessage"]["message"].as_str()
        ),
        (Some(2), Some("two"))
    );
    staff
        .send(json!({"type": "read", "sessionId": session}))
        .await;
    staff.recv_type("read_ack").await;
    staff.send(json!({"type": "inbox"})).await;
    let inbox = staff.recv_type("inbox").await;
    let mine = inbox["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == session.as_str())
        .unwrap()
        .clone();
    assert_eq!(mine["unreadCount"], 0);
    // A customer's inbox holds only their own conversations; anonymous callers have none.
    cust.send(json!({"type": "inbox"})).await;
    assert_eq!(cust.recv_type("inbox").await["total"], 1);
    let mut anon = app.customer(&uid("sess"), None).await;
    anon.send(json!({"type": "inbox"})).await;
    anon.expect_error("Token required").await;
}

#[actix_web::test]
async fn desk_commands_on_someone_elses_conversation_are_refused() {
    let app = spawn_app().await;
    let alice = app.token("alice", "customer");
    let (_, s) = app
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"initial_message": "mine"})),
            Some(&alice),
        )
        .await;
    let theirs = s["data"]["id"].as_str().unwrap().to_owned();
    let mut mallory = app
        .customer(&uid("sess"), Some(&app.token("mallory", "customer")))
        .await;
    for frame in [
        json!({"type": "join", "sessionId": theirs}),
        json!({"type": "read", "sessionId": theirs}),
        json!({"type": "set_status", "sessionId": theirs, "status": "closed"}),
        json!({"type": "participants", "sessionId": theirs}),
        json!({"type": "history", "sessionId": theirs}),
    ] {
        mallory.send(frame.clone()).await;
        mallory
            .expect_error("Access denied to this conversation")
            .await;
    }
    mallory
        .send(json!({"type": "typing", "sessionId": theirs, "isTyping": true}))
        .await;
    mallory.expect_error("Join the conversation first").await;
    // Alice's conversation is untouched.
    let (_, d) = app
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{theirs}"),
            None,
            Some(&alice),
        )
        .await;
    assert_eq!(
        (
            d["data"]["status"].as_str(),
            d["data"]["unread_count"].as_i64()
        ),
        (Some("waiting"), Some(0))
    );
}

#[actix_web::test]
async fn of_two_simultaneous_accepts_exactly_one_wins() {
    let app = spawn_app().await;
    for round in 0..5 {
        let customer = app.token(&format!("c{round}"), "customer");
        let (_, s) = app
            .call(
                "POST",
                "/api/v1/chat/sessions",
                Some(&json!({"subject": "race"})),
                Some(&customer),
            )
            .await;
        let id = s["data"]["id"].as_str().unwrap().to_owned();
        let (a, b) = (app.token("agent-a", "agent"), app.token("agent-b", "agent"));
        let path = format!("/api/v1/chat/sessions/{id}/assign");
        let (ra, rb) = futures::join!(
            app.call("POST", &path, None, Some(&a)),
            app.call("POST", &path, None, Some(&b))
        );
        let mut statuses = [ra.0, rb.0];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}");
        let winner = if ra.0 == 200 { "agent-a" } else { "agent-b" };
        let (_, d) = app
            .call(
                "GET",
                &format!("/api/v1/chat/sessions/{id}"),
                None,
                Some(&customer),
            )
            .await;
        assert_eq!(d["data"]["agent_id"], winner);
    }
}

/// Opening the widget writes nothing: the conversation it opens reaches the staff's
/// inbox, and they hear of it, with its first message, and only then is it assigned.
#[actix_web::test]
async fn a_conversation_reaches_the_inbox_with_its_first_message() {
    let app = spawn_with(|c| c.auto_assign_capacity = 1).await;
    let mut staff = app.staff("boss", "admin").await;
    let mut agent = app.staff("agent-a", "agent").await;
    let user = app.token("u-first", "customer");
    let (status, opened) = app.my_conversation(&user, "general").await;
    assert_eq!(status, 200, "{opened}");
    let id = opened["id"].as_str().expect("an id").to_owned();
    let listed = |inbox: &serde_json::Value| {
        inbox["conversations"]
            .as_array()
            .expect("conversations")
            .iter()
            .any(|c| c["id"] == id.as_str())
    };

    // Empty: not in the inbox, not announced, not assigned.
    staff.expect_silence(300).await;
    staff.send(json!({"type": "inbox", "status": "open"})).await;
    let inbox = staff.recv_type("inbox").await;
    assert!(!listed(&inbox), "{inbox}");
    let (_, admin_list) = app
        .call(
            "GET",
            "/api/admin/support/conversations?status=open",
            None,
            Some(&app.token("boss", "admin")),
        )
        .await;
    assert!(!listed(&admin_list), "{admin_list}");
    // The customer still finds it, empty.
    let (_, mine) = app.my_conversation(&user, "general").await;
    assert_eq!(mine["id"], id.as_str());

    // The first message brings it in: announced as created, then the message, then
    // assigned to the agent on duty.
    let mut cust = app.customer(&id, Some(&user)).await;
    cust.send(json!({"type": "customer_message", "message": "hello?", "clientId": "c1"}))
        .await;
    let created = staff
        .recv_until(|v| v["type"] == "conversation_updated")
        .await;
    assert_eq!(created["change"], "created", "{created}");
    assert_eq!(created["conversation"]["id"], id.as_str());
    let message = staff.recv_until(|v| v["type"] == "customer_message").await;
    assert_eq!(message["message"], "hello?");
    staff.send(json!({"type": "inbox", "status": "open"})).await;
    let inbox = staff.recv_type("inbox").await;
    assert!(listed(&inbox), "{inbox}");
    let assigned = agent
        .recv_until(|v| v["type"] == "conversation_updated" && v["change"] == "status")
        .await;
    assert_eq!(
        assigned["conversation"]["assignedAgentId"], "agent-a",
        "{assigned}"
    );

    // A second message does not announce it again.
    cust.send(json!({"type": "customer_message", "message": "still there?", "clientId": "c2"}))
        .await;
    loop {
        let v = staff.recv().await;
        assert_ne!(v["change"], "created", "{v}");
        if v["type"] == "customer_message" && v["message"] == "still there?" {
            break;
        }
    }
}

/// Staff issuing a sign-in code to someone with no conversation open one, and the
/// code is its first message: it reaches the inbox then, and is offered to an agent.
#[actix_web::test]
async fn a_conversation_opened_by_a_code_reaches_the_inbox_with_the_code() {
    let app = spawn_with(|c| c.auto_assign_capacity = 1).await;
    let mut staff = app.staff("boss", "admin").await;
    let mut agent = app.staff("agent-a", "agent").await;
    let (status, issued) = app
        .call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&json!({"userId": "u-code"})),
            Some(&app.token("boss", "admin")),
        )
        .await;
    assert_eq!(status, 200, "{issued}");
    let id = issued["conversationId"].as_str().expect("an id").to_owned();
    let created = staff
        .recv_until(|v| v["type"] == "conversation_updated")
        .await;
    assert_eq!(
        (created["change"].as_str(), created["sessionId"].as_str()),
        (Some("created"), Some(id.as_str())),
        "{created}"
    );
    let assigned = agent
        .recv_until(|v| v["type"] == "conversation_updated" && v["change"] == "status")
        .await;
    assert_eq!(
        assigned["conversation"]["assignedAgentId"], "agent-a",
        "{assigned}"
    );
}
