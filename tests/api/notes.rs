//! Private notes: staff write them into a conversation with their seq; staff see them
//! (native `staff_note`, native history and REST with `private: true`), the customer
//! never does, on any surface. The Socket.IO dialects are in `notes.test.js`.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::server_api::api_key;
use crate::webhooks::{arrivals, endpoint, private_ok, receiver};

/// (text, private) of a history's messages.
fn marked(history: &Value) -> Vec<(String, bool)> {
    history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            let text = m["message"]
                .as_str()
                .or(m["content"].as_str())
                .unwrap_or("");
            (text.to_owned(), m["private"].as_bool().unwrap_or(false))
        })
        .collect()
}

/// Every message text anywhere in a JSON answer.
fn mentions(v: &Value, text: &str) -> bool {
    v.to_string().contains(text)
}

#[actix_web::test]
async fn a_note_reaches_staff_only_live_and_in_every_history() {
    let app = spawn_app().await;
    let session = uid("sess");
    let token = app.token("cust-n", "customer");
    let mut cust = app.customer(&session, Some(&token)).await;
    cust.send(json!({"type": "customer_message", "message": "my parcel is late"}))
        .await;
    cust.recv_type("message_ack").await;
    let mut writer = app.staff("agent-w", "agent").await;
    let mut colleague = app.staff("agent-c", "agent").await;
    writer
        .send(json!({"type": "join", "sessionId": session}))
        .await;
    writer.recv_type("joined").await;

    // The note is acknowledged as private, and the other agent gets it as a note.
    let secret = "VIP: refund without asking for photos";
    writer
        .send(json!({"type": "staff_note", "sessionId": session, "content": secret, "clientId": "n-1"}))
        .await;
    let ack = writer.recv_type("message_ack").await;
    assert_eq!(
        (ack["seq"].as_i64(), ack["private"].as_bool()),
        (Some(2), Some(true)),
        "{ack}"
    );
    let note = colleague.recv_type("staff_note").await;
    assert_eq!(
        (
            note["message"].as_str(),
            note["staffId"].as_str(),
            note["seq"].as_i64(),
            note["private"].as_bool(),
            note["id"].as_str()
        ),
        (
            Some(secret),
            Some("agent-w"),
            Some(2),
            Some(true),
            ack["id"].as_str()
        )
    );

    // The customer, in the room, hears the reply after it and nothing of the note.
    writer
        .send(json!({"type": "staff_message", "sessionId": session, "content": "On it!"}))
        .await;
    let mut before_reply = Vec::new();
    loop {
        let f = cust.recv().await;
        if f["type"] == "staff_reply" {
            assert_eq!(
                (f["message"].as_str(), f["seq"].as_i64()),
                (Some("On it!"), Some(3))
            );
            break;
        }
        before_reply.push(f);
    }
    assert!(
        before_reply
            .iter()
            .all(|f| !mentions(f, secret) && f["type"] != "staff_note"),
        "{before_reply:?}"
    );

    // Native history: the customer's skips it (at any paging), the staff's marks it.
    for page in [
        json!({}),
        json!({"afterSeq": 1}),
        json!({"beforeSeq": 3, "limit": 1}),
    ] {
        let mut ask = json!({"type": "history", "sessionId": session});
        ask.as_object_mut()
            .unwrap()
            .extend(page.as_object().unwrap().clone());
        cust.send(ask).await;
        let h = cust.recv_type("history").await;
        assert!(!mentions(&h, secret), "{h}");
    }
    cust.send(json!({"type": "history", "sessionId": session}))
        .await;
    let h = cust.recv_type("history").await;
    assert_eq!(seqs(&h), vec![1, 3]);
    colleague
        .send(json!({"type": "history", "sessionId": session}))
        .await;
    let h = colleague.recv_until(|f| f["type"] == "history").await;
    assert_eq!(
        marked(&h),
        vec![
            ("my parcel is late".into(), false),
            (secret.into(), true),
            ("On it!".into(), false)
        ]
    );

    // Asked for by id, a note is no message of the customer's.
    cust.send(json!({"type": "read", "sessionId": session, "messageIds": [ack["id"]]}))
        .await;
    cust.expect_error("No such messages in this conversation")
        .await;

    // REST histories: the native one marks it for staff; no customer surface has it.
    let staff = app.token("agent-c", "agent");
    let native = format!("/api/chat/sessions/{session}/messages");
    let (status, h) = app.get_json(&native, Some(&staff)).await;
    assert_eq!(status, 200, "{h}");
    assert_eq!(marked(&h)[1], (secret.to_owned(), true));
    for path in [
        native.clone(),
        format!("/api/support/conversation/{session}/messages"),
        format!("/api/support/conversation/{session}/messages?page=1&limit=1"),
        format!("/api/v1/chat/sessions/{session}/messages"),
        format!("/api/v1/chat/sessions/{session}/messages?limit=1&offset=1"),
        format!("/api/support/conversation/{session}"),
        format!("/api/v1/chat/sessions/{session}"),
        "/api/support/conversation".to_owned(),
        "/api/v1/chat/sessions".to_owned(),
    ] {
        let (status, body) = app.get_json(&path, Some(&token)).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(!mentions(&body, secret), "{path}: {body}");
    }
    // Seed 003 counts what the customer may read.
    let (_, page) = app
        .get_json(
            &format!("/api/support/conversation/{session}/messages"),
            Some(&token),
        )
        .await;
    assert!(mentions(&page, "\"total\":2"), "{page}");
    // The seed dialects' staff have no word for notes either.
    let (_, h) = app
        .get_json(
            &format!("/api/v1/chat/sessions/{session}/messages"),
            Some(&staff),
        )
        .await;
    assert!(!mentions(&h, secret), "{h}");

    // The server API's history is for the shop's backend, which may show it to the
    // customer: no notes there.
    let (_, key) = api_key(&app, "shop", &["messages:read"]).await;
    let (status, h) = app
        .get_json(
            &format!("/api/server/v1/conversations/{session}/messages"),
            Some(&key),
        )
        .await;
    assert_eq!(status, 200, "{h}");
    assert!(mentions(&h, "On it!") && !mentions(&h, secret), "{h}");

    // A note is not what the inbox previews, and not unread for the customer.
    let (_, c) = app
        .get_json(&format!("/api/v1/chat/sessions/{session}"), Some(&token))
        .await;
    assert!(mentions(&c, "On it!"), "{c}");
    writer
        .send(json!({"type": "staff_note", "sessionId": session, "content": secret}))
        .await;
    writer
        .recv_until(|f| f["type"] == "message_ack" && f["seq"] == 4)
        .await;
    writer
        .send(json!({"type": "inbox", "status": "waiting"}))
        .await;
    let inbox = writer.recv_until(|f| f["type"] == "inbox").await;
    assert!(
        mentions(&inbox, "On it!") && !mentions(&inbox, secret),
        "{inbox}"
    );
    cust.expect_silence(300).await;
}

#[actix_web::test]
async fn notes_over_rest_are_for_staff_and_refuse_bad_input() {
    let app = spawn_app().await;
    let token = app.token("cust-r", "customer");
    let (status, opened) = app.my_conversation(&token, "general").await;
    assert_eq!(status, 200, "{opened}");
    let id = opened["id"].as_str().expect("id").to_owned();
    let path = format!("/api/desk/conversations/{id}/notes");
    let agent = app.token("agent-r", "agent");
    let mut watcher = app.staff("agent-x", "agent").await;

    let body = json!({"content": "called them, no answer", "clientId": "k-1"});
    let (status, made) = app.call("POST", &path, Some(&body), Some(&agent)).await;
    assert_eq!(status, 201, "{made}");
    let note = &made["data"];
    assert_eq!(
        (
            note["private"].as_bool(),
            note["senderId"].as_str(),
            note["seq"].as_i64()
        ),
        (Some(true), Some("agent-r"), Some(1))
    );
    let live = watcher.recv_type("staff_note").await;
    assert_eq!(live["id"], note["id"]);
    // The same client id again answers the first note.
    let (status, again) = app.call("POST", &path, Some(&body), Some(&agent)).await;
    assert_eq!((status, &again["data"]["id"]), (201, &note["id"]));

    let refusals: [(Option<&str>, Value, &str, u16, &str); 6] = [
        (None, json!({"content": "x"}), &path, 401, "Token required"),
        (Some(&token), json!({"content": "x"}), &path, 403, ""),
        (Some(&agent), json!({"content": "  "}), &path, 422, ""),
        (
            Some(&agent),
            json!({"content": "x", "attachments": []}),
            &path,
            422,
            "",
        ),
        (Some(&agent), json!({}), &path, 422, ""),
        (
            Some(&agent),
            json!({"content": "x"}),
            "/api/desk/conversations/no-such-conversation/notes",
            404,
            "",
        ),
    ];
    for (who, body, path, want, message) in refusals {
        let (status, answer) = app.call("POST", path, Some(&body), who).await;
        assert_eq!(status, want, "{body} to {path}: {answer}");
        assert_eq!(answer["success"], false, "{answer}");
        if !message.is_empty() {
            assert_eq!(answer["message"], message, "{answer}");
        }
    }
    // A customer's connection cannot write one either.
    let mut cust = app.customer(&id, Some(&token)).await;
    cust.send(json!({"type": "staff_note", "sessionId": id, "content": "sneaky"}))
        .await;
    let e = cust.recv_type("error").await;
    assert_eq!(e["code"], "forbidden", "{e}");

    // Closed, it takes no more notes.
    let admin = app.token("boss", "admin");
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/chat/sessions/{id}/status"),
            Some(&json!({"status": "closed"})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200);
    let (status, answer) = app
        .call(
            "POST",
            &path,
            Some(&json!({"content": "late"})),
            Some(&agent),
        )
        .await;
    assert_eq!(
        (status, answer["message"].as_str()),
        (409, Some("Conversation is closed"))
    );
}

#[actix_web::test]
async fn a_notes_webhook_is_marked_private() {
    let app = private_ok().await;
    let (url, got) = receiver().await;
    endpoint(&app, &url, &["message.created"]).await;
    let token = app.token("cust-h", "customer");
    let (_, opened) = app.my_conversation(&token, "general").await;
    let id = opened["id"].as_str().expect("id").to_owned();
    let agent = app.token("agent-h", "agent");
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/messages"),
            Some(&json!({"content": "hello"})),
            Some(&token),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/desk/conversations/{id}/notes"),
            Some(&json!({"content": "regular, be kind"})),
            Some(&agent),
        )
        .await;
    assert_eq!(status, 201);
    let events: Vec<Value> = arrivals(&got, 2).await.iter().map(|r| r.event()).collect();
    let marks: Vec<(&str, bool)> = events
        .iter()
        .map(|e| {
            let m = &e["data"]["message"];
            (
                m["content"].as_str().unwrap_or(""),
                m["private"].as_bool().expect("private"),
            )
        })
        .collect();
    assert_eq!(marks, vec![("hello", false), ("regular, be kind", true)]);
}
