//! Office hours: admins set weekly hours in a time zone, holidays and an automatic
//! reply (`/api/desk/office-hours`); `GET /api/support/availability` tells the widget
//! whether the desk answers now (within the hours and an agent online), why not and
//! until when; `POST /api/support/offline-message` keeps a message and an email with
//! the conversation, answered by the automatic reply while the desk is closed.

use serde_json::{json, Value};

use crate::helpers::*;

/// Open every day, all day, but for the holidays given.
fn all_week(holidays: &[String], auto_reply: Option<&str>) -> Value {
    let day = json!([{"open": "00:00", "close": "24:00"}]);
    let weekly: serde_json::Map<String, Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (d.to_string(), day.clone()))
        .collect();
    json!({"timeZone": "UTC", "weekly": weekly, "holidays": holidays, "autoReply": auto_reply})
}

async fn availability(app: &TestApp) -> Value {
    let (status, body) = app.get_json("/api/support/availability", None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The availability once `ok` holds (presence reaches the server a moment after a frame).
async fn availability_until(app: &TestApp, ok: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..50 {
        let a = availability(app).await;
        if ok(&a) {
            return a;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "availability never became as expected: {}",
        availability(app).await
    );
}

#[actix_web::test]
async fn availability_follows_the_hours_the_holidays_and_the_agents() {
    let app = spawn_app().await;
    let admin = app.token("oh-admin", "admin");
    let agent_token = app.token("oh-agent", "agent");

    // No hours set and nobody online: closed for want of agents.
    let a = availability(&app).await;
    assert_eq!(
        (
            &a["open"],
            &a["reason"],
            &a["withinOfficeHours"],
            &a["agentsAvailable"],
            &a["officeHours"],
            &a["nextOpenAt"]
        ),
        (
            &json!(false),
            &json!("no_agents"),
            &json!(true),
            &json!(false),
            &Value::Null,
            &Value::Null
        ),
        "{a}"
    );

    // An agent online opens it; away closes it again.
    let mut agent = app.staff("oh-agent", "agent").await;
    availability_until(&app, |a| a["open"] == true && a["reason"].is_null()).await;
    agent
        .send(json!({"type": "set_availability", "availability": "away"}))
        .await;
    availability_until(&app, |a| a["reason"] == "no_agents").await;
    agent
        .send(json!({"type": "set_availability", "availability": "online"}))
        .await;
    availability_until(&app, |a| a["open"] == true).await;

    // Only admins set hours; every fault is named.
    let hours = all_week(&[], None);
    let put = |token: Option<String>, body: Value| {
        let app = &app;
        async move {
            app.call(
                "PUT",
                "/api/desk/office-hours",
                Some(&body),
                token.as_deref(),
            )
            .await
        }
    };
    assert_eq!(put(None, hours.clone()).await.0, 401);
    assert_eq!(put(Some(agent_token.clone()), hours.clone()).await.0, 403);
    for (bad, says) in [
        (
            json!({"timeZone": "Mars/Base", "weekly": {}}),
            "timeZone must be an IANA time zone",
        ),
        (
            json!({"timeZone": "UTC", "weekly": {"someday": []}}),
            "weekly days are mon, tue",
        ),
        (
            json!({"timeZone": "UTC", "weekly": {"mon": [{"open": "9", "close": "17:00"}]}}),
            "mon.open must be a time like 09:00",
        ),
        (
            json!({"timeZone": "UTC", "weekly": {"mon": [{"open": "18:00", "close": "09:00"}]}}),
            "each span must close after it opens",
        ),
        (
            json!({"timeZone": "UTC", "weekly": {}, "holidays": ["tomorrow"]}),
            "holidays must be dates like 2026-12-25",
        ),
    ] {
        let (status, body) = put(Some(admin.clone()), bad).await;
        assert_eq!(
            (status, body["message"].as_str().map(|m| m.contains(says))),
            (422, Some(true)),
            "{body}"
        );
    }
    // Nothing was stored by the refusals.
    let (_, stored) = app
        .get_json("/api/desk/office-hours", Some(&agent_token))
        .await;
    assert_eq!(stored["data"], Value::Null);

    // All week: open. With today a holiday: closed until midnight UTC.
    let (status, body) = put(Some(admin.clone()), all_week(&[], Some("We are away"))).await;
    assert_eq!(
        (status, &body["data"]["weekly"]["sun"][0]["close"]),
        (200, &json!("24:00")),
        "{body}"
    );
    let a = availability(&app).await;
    assert_eq!(
        (&a["open"], &a["withinOfficeHours"]),
        (&json!(true), &json!(true)),
        "{a}"
    );
    assert_eq!(a["officeHours"]["autoReply"], "We are away");

    let today = chrono::Utc::now().date_naive();
    let (status, _) = put(Some(admin.clone()), all_week(&[today.to_string()], None)).await;
    assert_eq!(status, 200);
    let a = availability(&app).await;
    let midnight = format!("{}T00:00:00.000Z", today.succ_opt().expect("tomorrow"));
    assert_eq!(
        (
            &a["open"],
            &a["reason"],
            &a["withinOfficeHours"],
            &a["nextOpenAt"]
        ),
        (
            &json!(false),
            &json!("holiday"),
            &json!(false),
            &json!(midnight)
        ),
        "{a}"
    );

    // No hours on any day: outside them, and no next opening.
    let (status, _) = put(
        Some(admin.clone()),
        json!({"timeZone": "Europe/Berlin", "weekly": {}}),
    )
    .await;
    assert_eq!(status, 200);
    let a = availability(&app).await;
    assert_eq!(
        (&a["reason"], &a["nextOpenAt"]),
        (&json!("outside_hours"), &Value::Null),
        "{a}"
    );
    assert_eq!(a["officeHours"]["timeZone"], "Europe/Berlin");

    // Staff read them; cleared, the agents alone decide.
    let (status, got) = app
        .get_json("/api/desk/office-hours", Some(&agent_token))
        .await;
    assert_eq!(
        (status, &got["data"]["timeZone"]),
        (200, &json!("Europe/Berlin"))
    );
    let customer = app.token("oh-cust", "customer");
    assert_eq!(
        app.get_json("/api/desk/office-hours", Some(&customer))
            .await
            .0,
        403
    );
    assert_eq!(
        app.call("DELETE", "/api/desk/office-hours", None, Some(&agent_token))
            .await
            .0,
        403
    );
    assert_eq!(
        app.call("DELETE", "/api/desk/office-hours", None, Some(&admin))
            .await
            .0,
        200
    );
    let a = availability(&app).await;
    assert_eq!(
        (&a["open"], &a["officeHours"]),
        (&json!(true), &Value::Null),
        "{a}"
    );
    drop(agent);
}

#[actix_web::test]
async fn a_message_left_while_closed_keeps_the_email_and_is_answered_once() {
    let app = spawn_app().await;
    let admin = app.token("off-admin", "admin");
    let closed = json!({"timeZone": "UTC", "weekly": {}, "autoReply": "Thanks! We answer from 9:00 and will write to you."});
    let (status, _) = app
        .call("PUT", "/api/desk/office-hours", Some(&closed), Some(&admin))
        .await;
    assert_eq!(status, 200);
    let mut staff = app.staff("off-agent", "agent").await;

    let (_, guest) = app
        .post_json("/api/support/conversation/guest", &json!({}), None)
        .await;
    let guest_id = guest["guestId"].as_str().expect("guest id").to_owned();
    let session = guest["conversation"]["id"].as_str().expect("id").to_owned();

    // Refusals: no identity, staff, a bad email, an empty message. Nothing is kept.
    let leave = |body: Value, token: Option<String>| {
        let app = &app;
        async move {
            app.call(
                "POST",
                "/api/support/offline-message",
                Some(&body),
                token.as_deref(),
            )
            .await
        }
    };
    let ok = json!({"message": "Do you ship to Norway?", "email": "nora@example.no", "guestId": guest_id, "sessionId": session, "clientId": "off-1"});
    assert_eq!(
        leave(json!({"message": "hi", "email": "a@b.co"}), None)
            .await
            .0,
        401
    );
    let (status, body) = leave(ok.clone(), Some(admin.clone())).await;
    assert_eq!(
        (status, &body["message"]),
        (403, &json!("Staff do not leave offline messages"))
    );
    for (field, value, says) in [
        (
            "email",
            "nora at example",
            "email must be an address like name@example.com",
        ),
        ("message", "   ", "Message cannot be empty"),
    ] {
        let mut bad = ok.clone();
        bad[field] = json!(value);
        let (status, body) = leave(bad, None).await;
        assert_eq!((status, &body["message"]), (422, &json!(says)), "{body}");
    }
    // Someone else's conversation is not theirs to write in.
    let (_, other) = app
        .post_json("/api/support/conversation/guest", &json!({}), None)
        .await;
    let mut theirs = ok.clone();
    theirs["guestId"] = other["guestId"].clone();
    assert_eq!(leave(theirs, None).await.0, 403);

    let (status, left) = leave(ok.clone(), None).await;
    assert_eq!(status, 201, "{left}");
    assert_eq!(left["message"]["message"], "Do you ship to Norway?");
    assert_eq!(
        left["autoReply"]["message"],
        "Thanks! We answer from 9:00 and will write to you."
    );
    assert_eq!(left["autoReply"]["senderType"], "system");
    assert_eq!(left["conversation"]["id"], json!(session));

    // Staff hear the message, whom to answer, and the reply.
    staff.recv_until(|f| f["type"] == "customer_message").await;
    let told = staff
        .recv_until(|f| f["type"] == "conversation_updated" && f["change"] == "customer")
        .await;
    assert_eq!(told["conversation"]["customer"]["email"], "nora@example.no");
    staff.recv_until(|f| f["type"] == "system_message").await;

    // Sent again (a retry): the same two messages, nothing new.
    let (status, again) = leave(ok.clone(), None).await;
    assert_eq!(status, 201);
    assert_eq!(
        (&again["message"]["id"], &again["autoReply"]["id"]),
        (&left["message"]["id"], &left["autoReply"]["id"])
    );
    let path = format!("/api/support/conversation/{session}/messages?guestId={guest_id}");
    let (_, history) = app.get_json(&path, None).await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["message"].as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "Do you ship to Norway?",
            "Thanks! We answer from 9:00 and will write to you."
        ]
    );

    // In the inbox, with the email, for staff only.
    let agent_token = app.token("off-agent", "agent");
    let (_, list) = app
        .get_json(
            &format!("/api/desk/conversations?guestId={guest_id}"),
            Some(&agent_token),
        )
        .await;
    assert_eq!(
        list["data"][0]["customer"]["email"], "nora@example.no",
        "{list}"
    );
    assert_eq!(list["data"][0]["status"], "waiting");

    // Open (hours cleared, an agent online): no automatic reply.
    assert_eq!(
        app.call("DELETE", "/api/desk/office-hours", None, Some(&admin))
            .await
            .0,
        200
    );
    let mut open = ok.clone();
    open["clientId"] = json!("off-2");
    open["message"] = json!("Also, gift wrap?");
    let (status, body) = leave(open, None).await;
    assert_eq!((status, &body["autoReply"]), (201, &Value::Null), "{body}");

    // Without a sessionId a signed-in customer's open conversation is used (started).
    let token = app.token("off-user", "customer");
    let (status, body) = leave(
        json!({"message": "Where is my order?", "email": "u@example.com"}),
        Some(token.clone()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (_, mine) = app.my_conversation(&token, "general").await;
    assert_eq!(mine["id"], body["conversation"]["id"]);
}
