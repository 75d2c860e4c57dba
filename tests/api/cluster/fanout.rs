//! Events reach the connections of every node, not only of the node where they
//! happened.

use serde_json::json;

use super::*;

#[actix_web::test]
async fn a_customer_on_one_node_and_an_agent_on_another_chat_both_ways() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["fan-a", "fan-b", "fan-c"]);
    let (a, b, c) = (&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]);
    let session = format!("fanout-{}", uuid::Uuid::new_v4().simple());
    let customer_token = token("fan-customer", "customer");
    let mut agent = b
        .ws_as(json!({"type": "register_admin", "userId": "fan-agent", "token": token("fan-agent", "agent")}))
        .await;
    let mut customer = a
        .ws_as(json!({"type": "register", "sessionId": session, "token": customer_token}))
        .await;

    customer
        .send(json!({"type": "customer_message", "message": "hello from node A", "clientId": "c1"}))
        .await;
    let ack = customer.recv_type("message_ack").await;
    let seen = agent.recv_type("customer_message").await;
    assert_eq!(seen["message"], "hello from node A");
    assert_eq!(seen["sessionId"], session.as_str());
    assert_eq!(seen["id"], ack["id"]);
    assert_eq!(seen["seq"], ack["seq"]);

    agent
        .send(
            json!({"type": "staff_message", "sessionId": session, "content": "hello from node B"}),
        )
        .await;
    let staff_ack = agent.recv_type("message_ack").await;
    let reply = customer.recv_type("staff_reply").await;
    assert_eq!(reply["message"], "hello from node B");
    assert_eq!(reply["seq"], staff_ack["seq"]);
    assert_eq!(reply["staffId"], "fan-agent");

    // Status changes cross nodes.
    agent
        .send(json!({"type": "join", "sessionId": session}))
        .await;
    agent.recv_type("joined").await;
    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    let update = customer.recv_type("conversation_updated").await;
    assert_eq!(
        update["conversation"]["assignedAgentId"], "fan-agent",
        "{update}"
    );

    // Typing reaches the room's members on other nodes.
    customer
        .send(json!({"type": "typing", "sessionId": session, "isTyping": true}))
        .await;
    let typing = agent.recv_type("typing").await;
    assert_eq!(typing["isTyping"], true, "{typing}");

    // A third node, over REST, sees the same conversation in the same order.
    let (status, history) = c
        .call(
            "GET",
            &format!("/api/chat/sessions/{session}/messages"),
            None,
            Some(&customer_token),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .or_else(|| history["data"].as_array())
        .expect("messages")
        .iter()
        .filter_map(|m| m["message"].as_str().or_else(|| m["content"].as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            "hello from node A",
            "hello from node B",
            "fan-agent name joined the conversation"
        ],
        "{history}"
    );
}

#[actix_web::test]
async fn a_ws_client_whose_node_died_resumes_by_seq_on_another() {
    let Some(services) = services() else { return };
    let mut cluster = Cluster::start(&services, &["resume-a", "resume-b"]);
    let session = format!("resume-{}", uuid::Uuid::new_v4().simple());
    let customer_token = token("resume-customer", "customer");
    let register = json!({"type": "register", "sessionId": session, "token": customer_token});
    let mut customer = cluster.nodes[0].ws_as(register.clone()).await;
    customer
        .send(json!({"type": "customer_message", "message": "before", "clientId": "r1"}))
        .await;
    let last_seen = customer.recv_type("message_ack").await["seq"].clone();

    // A dies; an agent on B writes meanwhile; the customer comes back on B and asks
    // for what came after the last seq it saw.
    cluster.nodes[0].kill();
    let agent = token("resume-agent", "agent");
    for text in ["missed 1", "missed 2"] {
        let (status, body) = cluster.nodes[1]
            .call(
                "POST",
                &format!("/api/v1/chat/sessions/{session}/messages"),
                Some(&json!({"content": text})),
                Some(&agent),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let mut back = cluster.nodes[1].ws_as(register).await;
    back.send(json!({"type": "history", "sessionId": session, "afterSeq": last_seen}))
        .await;
    let history = back.recv_type("history").await;
    assert_eq!(
        crate::helpers::texts(&history),
        ["missed 1", "missed 2"],
        "{history}"
    );
    assert_eq!(history["hasMore"], false);
}

#[actix_web::test]
async fn a_listener_on_another_node_loses_a_session_its_owner_takes() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["own-a", "own-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let session = format!("owned-{}", uuid::Uuid::new_v4().simple());
    // Someone else's browser, on B, on the session before its owner.
    let mut early = b
        .ws_as(json!({"type": "register", "sessionId": session}))
        .await;
    let owner_token = token("own-alice", "customer");
    let mut owner = a
        .ws_as(json!({"type": "register", "sessionId": session, "token": owner_token}))
        .await;

    // Alice's registration claims the new session, on every node: B takes the
    // listener out, before anything is written.
    let revoked = early.recv_type("error").await;
    assert_eq!(revoked["message"], "Access denied to this conversation");
    assert_eq!(revoked["sessionId"], session.as_str());
    owner
        .send(json!({"type": "customer_message", "message": "private"}))
        .await;
    owner.recv_type("message_ack").await;
    early.expect_silence(500).await;
}

#[actix_web::test]
async fn a_file_uploaded_on_one_node_downloads_from_another() {
    let Some(services) = services() else { return };
    let shared = tempfile::tempdir().expect("a shared directory");
    let dir = shared.path().to_string_lossy().to_string();
    let cluster = Cluster::start_with(
        &services,
        &["files-a", "files-b"],
        &[("ATTACHMENTS_DIR", &dir)],
    );
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let customer = token(
        &format!("files-{}", uuid::Uuid::new_v4().simple()),
        "customer",
    );
    let (status, s) = a
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"subject": "files"})),
            Some(&customer),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    let id = s["data"]["id"].as_str().unwrap().to_owned();

    // Sent with a file through A, as seed 004 sends it.
    let bytes: &[u8] = b"order 42, shipped\n";
    let form = crate::helpers::form(
        &[("content", "the receipt")],
        &[("receipt.txt", "text/plain", bytes)],
    );
    let path = format!("/api/v1/chat/sessions/{id}/messages");
    let (status, sent) = crate::helpers::send_form_to(&a.url(&path), &customer, form).await;
    assert_eq!(status, 201, "{sent}");

    // Read and downloaded through B.
    let agent = token("files-agent", "agent");
    let (_, page) = b
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{id}/messages"),
            None,
            Some(&agent),
        )
        .await;
    let url = page["data"][0]["attachments"][0]["file_url"]
        .as_str()
        .unwrap_or_else(|| panic!("{page}"))
        .to_owned();
    let mut got = awc::Client::new()
        .get(b.url(&url))
        .insert_header(("Authorization", format!("Bearer {agent}")))
        .send()
        .await
        .expect("GET");
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(&got.body().await.expect("body")[..], bytes);
}

#[actix_web::test]
async fn notes_and_labels_reach_staff_on_every_node_and_no_customer() {
    let Some(services) = services() else { return };
    let cluster = Cluster::start(&services, &["note-a", "note-b"]);
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let session = format!("note-{}", uuid::Uuid::new_v4().simple());
    let customer_token = token("note-customer", "customer");
    let mut customer = b
        .ws_as(json!({"type": "register", "sessionId": session, "token": customer_token}))
        .await;
    let mut colleague = b
        .ws_as(json!({"type": "register_admin", "userId": "note-b-agent", "token": token("note-b-agent", "agent")}))
        .await;
    let mut writer = a
        .ws_as(json!({"type": "register_admin", "userId": "note-a-agent", "token": token("note-a-agent", "agent")}))
        .await;
    customer
        .send(json!({"type": "customer_message", "message": "hello"}))
        .await;
    customer.recv_type("message_ack").await;
    writer.recv_type("customer_message").await;

    let secret = "cross-node note, staff only";
    writer
        .send(json!({"type": "staff_note", "sessionId": session, "content": secret}))
        .await;
    let note = colleague.recv_until(|f| f["type"] == "staff_note").await;
    assert_eq!(
        (note["message"].as_str(), note["seq"].as_i64()),
        (Some(secret), Some(2))
    );
    writer
        .send(json!({"type": "staff_message", "sessionId": session, "content": "after the note"}))
        .await;
    loop {
        let f = customer.recv().await;
        assert!(!f.to_string().contains(secret), "{f}");
        if f["type"] == "staff_reply" {
            assert_eq!(f["seq"], 3, "{f}");
            break;
        }
    }

    // Labels too: a change on A reaches staff on B, and no customer.
    writer
        .send(json!({"type": "add_label", "sessionId": session, "label": "vip"}))
        .await;
    let labelled = colleague
        .recv_until(|f| f["type"] == "conversation_updated" && f["change"] == "labels")
        .await;
    assert_eq!(labelled["conversation"]["labels"], json!(["vip"]));
    let heard = customer.frames_for(300).await;
    assert!(
        heard.iter().all(|f| f["type"] != "conversation_updated"),
        "{heard:?}"
    );
}
