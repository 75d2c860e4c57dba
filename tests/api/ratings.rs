//! Ratings: once a conversation is resolved its customer rates it (1 to 5, and a
//! comment), once, over `/ws` (`rate`) or REST; staff hear of it, it is in the
//! conversation's JSON, counted in the metrics and sent as a webhook.

use serde_json::json;

use crate::helpers::*;
use crate::webhooks::{arrivals, endpoint, private_ok, receiver};

#[actix_web::test]
async fn a_resolved_conversation_is_rated_once_and_everyone_concerned_hears() {
    let app = private_ok().await;
    let (url, got) = receiver().await;
    endpoint(&app, &url, &["conversation.rated"]).await;
    let session = uid("rate");
    let token = app.token("cust-r", "customer");
    let mut cust = app.customer(&session, Some(&token)).await;
    cust.send(json!({"type": "customer_message", "message": "thanks for the help"}))
        .await;
    cust.recv_type("message_ack").await;
    let mut agent = app.staff("agent-r", "agent").await;

    // Not before it is resolved.
    cust.send(json!({"type": "rate", "rating": 5})).await;
    cust.expect_error("Rate a conversation once it is resolved")
        .await;

    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    agent
        .send(json!({"type": "set_status", "sessionId": session, "status": "resolved"}))
        .await;
    cust.recv_until(|f| {
        f["type"] == "conversation_updated" && f["conversation"]["status"] == "resolved"
    })
    .await;

    for (bad, message) in [
        (
            json!({"type": "rate", "rating": 0}),
            "rating must be 1 to 5",
        ),
        (
            json!({"type": "rate", "rating": 6}),
            "rating must be 1 to 5",
        ),
        (
            json!({"type": "rate", "rating": 4, "comment": "x".repeat(2001)}),
            "comment too long (max 2000 characters)",
        ),
    ] {
        cust.send(bad).await;
        cust.expect_error(message).await;
    }
    cust.send(json!({"type": "rate", "rating": 4, "comment": "Quick and kind"}))
        .await;
    let rated = cust
        .recv_until(|f| f["type"] == "conversation_updated" && f["change"] == "rated")
        .await;
    assert_eq!(
        (
            rated["conversation"]["rating"]["score"].as_i64(),
            rated["conversation"]["rating"]["comment"].as_str()
        ),
        (Some(4), Some("Quick and kind"))
    );
    let seen = agent
        .recv_until(|f| f["type"] == "conversation_updated" && f["change"] == "rated")
        .await;
    assert_eq!(seen["conversation"]["rating"]["score"], 4);

    // Once only, and never by staff.
    cust.send(json!({"type": "rate", "rating": 1})).await;
    cust.expect_error("This conversation is rated already")
        .await;
    agent.send(json!({"type": "rate", "rating": 1})).await;
    agent
        .expect_error("Only the customer rates a conversation")
        .await;

    // The webhook, and the metric.
    let events = arrivals(&got, 1).await;
    let e = events[0].event();
    assert_eq!(
        (
            e["type"].as_str(),
            e["data"]["rating"].as_i64(),
            e["data"]["comment"].as_str()
        ),
        (Some("conversation.rated"), Some(4), Some("Quick and kind"))
    );
    assert_eq!(e["data"]["conversation"]["rating"], 4);
    app.metric_reaches("switchboard_ratings_total{score=\"4\"}", 1.0)
        .await;
}

#[actix_web::test]
async fn ratings_over_rest_for_the_customer_only() {
    let app = spawn_app().await;
    let token = app.token("cust-rr", "customer");
    let id = app.session_with(&token, "hi", "hi").await;
    let path = format!("/api/chat/sessions/{id}/rating");
    let (status, answer) = app
        .call("POST", &path, Some(&json!({"rating": 5})), Some(&token))
        .await;
    assert_eq!(
        (status, answer["message"].as_str()),
        (409, Some("Rate a conversation once it is resolved"))
    );
    let agent = app.token("agent-rr", "agent");
    app.assign(&id, &agent).await;
    let (status, _) = app
        .call(
            "PATCH",
            &format!("/api/v1/chat/sessions/{id}/status"),
            Some(&json!({"status": "resolved"})),
            Some(&agent),
        )
        .await;
    assert_eq!(status, 200);
    let stranger = app.token("someone-else", "customer");
    for (who, body, want, message) in [
        (
            Some(agent.as_str()),
            json!({"rating": 5}),
            403,
            "Only the customer rates a conversation",
        ),
        (
            Some(stranger.as_str()),
            json!({"rating": 5}),
            403,
            "Access denied to this conversation",
        ),
        (
            Some(token.as_str()),
            json!({"rating": "five"}),
            422,
            "Invalid request body",
        ),
        (
            Some(token.as_str()),
            json!({"rating": 9}),
            422,
            "rating must be 1 to 5",
        ),
    ] {
        let (status, answer) = app.call("POST", &path, Some(&body), who).await;
        assert_eq!(
            (status, answer["message"].as_str()),
            (want, Some(message)),
            "{body}"
        );
    }
    let (status, rated) = app
        .call("POST", &path, Some(&json!({"rating": 2})), Some(&token))
        .await;
    assert_eq!(status, 200, "{rated}");
    assert_eq!(
        (
            rated["data"]["rating"]["score"].as_i64(),
            rated["data"]["rating"]["comment"].is_null()
        ),
        (Some(2), true)
    );
    // Staff see it with the conversation.
    let (_, list) = app
        .call(
            "GET",
            "/api/desk/conversations?status=resolved",
            None,
            Some(&agent),
        )
        .await;
    assert_eq!(list["data"][0]["rating"]["score"], 2, "{list}");
}
