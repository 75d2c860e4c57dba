//! Who the customer is: the widget's `customer_context` frame (page, title, browser,
//! time zone) and the `attributes` claim of the customer's token are kept with the
//! conversation; staff see them (`customer` in the conversation's JSON, change
//! `customer`), with the customer's other conversations one request away
//! (`GET /api/desk/conversations?customerId=`); the customer never sees any of it.

use serde_json::{json, Value};

use crate::helpers::*;

fn context() -> Value {
    json!({"type": "customer_context", "pageUrl": "https://shop.example/cart?step=2",
        "pageTitle": "Your cart", "browser": "Chrome 131 on Linux", "timeZone": "Europe/Oslo"})
}

#[actix_web::test]
async fn staff_see_the_page_browser_time_zone_and_token_attributes() {
    let app = spawn_app().await;
    let token = app.token_with(
        "ctx-cust",
        "customer",
        json!({"orderNumber": "A-1001", "plan": "pro", "seats": 3, "nested": {"no": 1}}),
    );
    let (_, opened) = app.my_conversation(&token, "general").await;
    let session = opened["id"].as_str().expect("id").to_owned();
    let agent_token = app.token("ctx-agent", "agent");
    let mut agent = app.staff("ctx-agent", "agent").await;
    let mut cust = app.customer(&session, Some(&token)).await;

    // Kept from the token when the conversation was opened.
    let (_, list) = app
        .get_json(
            "/api/desk/conversations?customerId=ctx-cust",
            Some(&agent_token),
        )
        .await;
    assert_eq!(
        list["data"][0]["customer"]["attributes"],
        json!({"orderNumber": "A-1001", "plan": "pro", "seats": "3"}),
        "{list}"
    );
    assert_eq!(list["data"][0]["customer"]["pageUrl"], Value::Null);

    // Bad contexts are refused, named; nothing is kept.
    for (field, value, says) in [
        (
            "pageUrl",
            json!("javascript:alert(1)"),
            "pageUrl must be an http(s) URL",
        ),
        (
            "timeZone",
            json!("Atlantis/Capital"),
            "timeZone must be an IANA time zone, like Europe/Berlin",
        ),
        (
            "pageTitle",
            json!("t".repeat(301)),
            "pageTitle too long (max 300 characters)",
        ),
    ] {
        let mut bad = context();
        bad[field] = value;
        cust.send(bad).await;
        cust.expect_error(says).await;
    }
    cust.send(context()).await;
    let told = agent
        .recv_until(|f| f["type"] == "conversation_updated" && f["change"] == "customer")
        .await;
    let c = &told["conversation"]["customer"];
    assert_eq!(
        (
            &c["pageUrl"],
            &c["pageTitle"],
            &c["browser"],
            &c["timeZone"],
            &c["attributes"]["orderNumber"]
        ),
        (
            &json!("https://shop.example/cart?step=2"),
            &json!("Your cart"),
            &json!("Chrome 131 on Linux"),
            &json!("Europe/Oslo"),
            &json!("A-1001")
        ),
        "{told}"
    );
    assert!(
        c["seenAt"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{c}"
    );
    // Told again unchanged (as on every reconnect): nothing is written, nobody told.
    cust.send(context()).await;
    agent.expect_silence(300).await;
    // Only the customer tells it; the customer hears nothing of it.
    agent.send(context()).await;
    agent
        .expect_error("Only a registered customer tells their page")
        .await;
    cust.expect_silence(300).await;

    // Staff see it wherever they read the conversation; the customer never.
    agent
        .send(json!({"type": "join", "sessionId": session}))
        .await;
    let joined = agent.recv_type("joined").await;
    assert_eq!(
        joined["conversation"]["customer"]["browser"],
        "Chrome 131 on Linux"
    );
    cust.send(json!({"type": "customer_message", "message": "is the kettle in stock?"}))
        .await;
    cust.recv_type("message_ack").await;
    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    let accepted = cust
        .recv_until(|f| {
            f["type"] == "conversation_updated" && f["conversation"]["status"] == "active"
        })
        .await;
    assert!(
        accepted["conversation"].get("customer").is_none(),
        "{accepted}"
    );
    let (_, mine) = app.my_conversation(&token, "general").await;
    assert!(!mine.to_string().contains("A-1001"), "{mine}");
}

#[actix_web::test]
async fn a_customers_previous_conversations_are_one_request_away() {
    let app = spawn_app().await;
    let agent_token = app.token("prev-agent", "agent");
    let mut agent = app.staff("prev-agent", "agent").await;
    let token = app.token("prev-cust", "customer");
    // An earlier conversation, closed; then the current one.
    let (_, first) = app.my_conversation(&token, "general").await;
    let first = first["id"].as_str().expect("id").to_owned();
    let mut cust = app.customer(&first, Some(&token)).await;
    cust.send(json!({"type": "customer_message", "message": "first visit"}))
        .await;
    cust.recv_type("message_ack").await;
    agent
        .send(json!({"type": "set_status", "sessionId": first, "status": "closed"}))
        .await;
    cust.recv_until(|f| {
        f["type"] == "conversation_updated" && f["conversation"]["status"] == "closed"
    })
    .await;
    let (_, second) = app.my_conversation(&token, "general").await;
    let second = second["id"].as_str().expect("id").to_owned();
    assert_ne!(first, second);
    // Someone else's, not listed.
    let other = app.token("prev-other", "customer");
    app.my_conversation(&other, "general").await;

    let (status, list) = app
        .get_json(
            "/api/desk/conversations?customerId=prev-cust",
            Some(&agent_token),
        )
        .await;
    assert_eq!(status, 200);
    let mut ids: Vec<&str> = list["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    ids.sort();
    let mut want = vec![first.as_str(), second.as_str()];
    want.sort();
    assert_eq!((ids, &list["total"]), (want, &json!(2)), "{list}");

    // Guests by their id; customers may not ask; not both at once.
    let (_, guest) = app
        .post_json("/api/support/conversation/guest", &json!({}), None)
        .await;
    let guest_id = guest["guestId"].as_str().expect("guest");
    let (_, list) = app
        .get_json(
            &format!("/api/desk/conversations?guestId={guest_id}"),
            Some(&agent_token),
        )
        .await;
    assert_eq!(list["data"][0]["id"], guest["conversation"]["id"], "{list}");
    assert_eq!(
        app.get_json("/api/desk/conversations?customerId=prev-cust", Some(&token))
            .await
            .0,
        403
    );
    let (status, body) = app
        .get_json(
            &format!("/api/desk/conversations?customerId=prev-cust&guestId={guest_id}"),
            Some(&agent_token),
        )
        .await;
    assert_eq!(
        (status, &body["message"]),
        (422, &json!("give customerId or guestId, not both"))
    );
}
