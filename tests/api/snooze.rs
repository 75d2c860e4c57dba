//! Snooze: staff take a conversation out of the inbox until a time (`snooze` on `/ws`,
//! `PUT /api/desk/conversations/{id}/snooze`); it comes back then, or when its customer
//! writes, whichever is first; staff hear each change, the customer never does.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::*;

fn in_ms(ms: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::milliseconds(ms))
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_snoozed_conversation_leaves_the_inbox_until_its_time_or_its_customer() {
    let app = spawn_app().await;
    let session = uid("snooze");
    let token = app.token("cust-z", "customer");
    let mut cust = app.customer(&session, Some(&token)).await;
    cust.send(json!({"type": "customer_message", "message": "no rush"}))
        .await;
    cust.recv_type("message_ack").await;
    let mut a = app.staff("agent-za", "agent").await;
    let mut b = app.staff("agent-zb", "agent").await;

    a.send(json!({"type": "snooze", "sessionId": session, "until": in_ms(3_600_000)}))
        .await;
    let heard = b
        .recv_until(|f| f["type"] == "conversation_updated" && f["change"] == "snoozed")
        .await;
    assert!(heard["conversation"]["snoozedUntil"].is_string(), "{heard}");
    let told = cust.frames_for(300).await;
    assert!(
        told.iter().all(|f| f["type"] != "conversation_updated"),
        "{told:?}"
    );

    // Out of the inbox, in the snoozed view (over /ws and REST).
    b.send(json!({"type": "inbox", "status": "waiting"})).await;
    let inbox = b.recv_until(|f| f["type"] == "inbox").await;
    assert!(!ids(&inbox["conversations"]).contains(&session), "{inbox}");
    b.send(json!({"type": "inbox", "status": "snoozed"})).await;
    let snoozed = b.recv_until(|f| f["type"] == "inbox").await;
    assert_eq!(
        ids(&snoozed["conversations"]),
        std::slice::from_ref(&session)
    );
    let staff = app.token("agent-zb", "agent");
    let (_, listed) = app
        .call(
            "GET",
            "/api/desk/conversations?status=snoozed",
            None,
            Some(&staff),
        )
        .await;
    assert_eq!(
        ids(&listed["data"]),
        std::slice::from_ref(&session),
        "{listed}"
    );

    // The customer writes: back in the inbox, and staff hear it woke.
    cust.send(json!({"type": "customer_message", "message": "actually, one question"}))
        .await;
    let woke = b
        .recv_until(|f| f["type"] == "conversation_updated" && f["change"] == "snoozed")
        .await;
    assert!(woke["conversation"]["snoozedUntil"].is_null(), "{woke}");
    b.send(json!({"type": "inbox", "status": "waiting"})).await;
    let inbox = b.recv_until(|f| f["type"] == "inbox").await;
    assert!(ids(&inbox["conversations"]).contains(&session), "{inbox}");

    // Snoozed briefly over REST: it comes back by itself.
    let path = format!("/api/desk/conversations/{session}/snooze");
    let (status, put) = app
        .call(
            "PUT",
            &path,
            Some(&json!({"until": in_ms(1_500)})),
            Some(&staff),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    assert!(put["data"]["snoozedUntil"].is_string(), "{put}");
    let started = std::time::Instant::now();
    loop {
        let f = b
            .recv_until(|f| f["type"] == "conversation_updated" && f["change"] == "snoozed")
            .await;
        if f["conversation"]["snoozedUntil"].is_null() {
            break;
        }
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1_000) && took < Duration::from_secs(5),
        "{took:?}"
    );

    // Refusals.
    let refusals = [
        (
            json!({"until": in_ms(-60_000)}),
            Some(staff.as_str()),
            422,
            "until must be in the next 90 days",
        ),
        (
            json!({"until": in_ms(91 * 86_400_000)}),
            Some(staff.as_str()),
            422,
            "until must be in the next 90 days",
        ),
        (
            json!({"until": "tomorrow"}),
            Some(staff.as_str()),
            422,
            "until must be a time like 2026-12-24T09:00:00.000Z",
        ),
        (
            json!({"until": in_ms(60_000)}),
            Some(token.as_str()),
            403,
            "Insufficient permissions",
        ),
        (json!({"until": in_ms(60_000)}), None, 401, "Token required"),
    ];
    for (body, who, want, message) in refusals {
        let (status, answer) = app.call("PUT", &path, Some(&body), who).await;
        assert_eq!(
            (status, answer["message"].as_str()),
            (want, Some(message)),
            "{body}"
        );
    }
    let (status, _) = app
        .call(
            "PUT",
            "/api/desk/conversations/none-such/snooze",
            Some(&json!({"until": null})),
            Some(&staff),
        )
        .await;
    assert_eq!(status, 404);
}
