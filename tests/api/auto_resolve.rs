//! Auto-resolve (`AUTO_RESOLVE_MINUTES`): an active conversation whose customer has not
//! written for that long is resolved with a system message; one whose customer keeps
//! writing, or one still waiting for an agent, is not.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

/// A signed-in customer's conversation with a first message, taken by an agent when
/// `take`: the id and the customer's token.
async fn conversation(app: &TestApp, user: &str, take: bool) -> (String, String) {
    let token = app.token(user, "customer");
    let id = app.session_with(&token, "hi", "hello").await;
    if take {
        app.assign(&id, &app.token("agent-ar", "agent")).await;
    }
    (id, token)
}

#[actix_web::test]
async fn quiet_active_conversations_are_resolved_and_talkative_ones_are_not() {
    // 0.05 minutes: three seconds.
    let app = spawn_with(|c| c.auto_resolve_minutes = 0.05).await;
    let (quiet, quiet_token) = conversation(&app, "cust-quiet", true).await;
    let (talkative, talkative_token) = conversation(&app, "cust-talk", true).await;
    let (waiting, _) = conversation(&app, "cust-wait", false).await;
    let mut watcher = app.customer(&quiet, Some(&quiet_token)).await;

    // The talkative customer writes every half second until the quiet one is resolved.
    let path = format!("/api/v1/chat/sessions/{talkative}/messages");
    let resolved = loop {
        let (status, _) = app
            .call(
                "POST",
                &path,
                Some(&json!({"content": "still here"})),
                Some(&talkative_token),
            )
            .await;
        assert_eq!(status, 201);
        let heard = watcher.frames_for(500).await;
        if let Some(note) = heard.iter().find(|f| f["type"] == "system_message") {
            break note.clone();
        }
    };
    assert_eq!(
        resolved["message"],
        "Conversation resolved automatically: no reply from the customer for 1 minute"
    );
    let admin = app.token("boss", "admin");
    let status_of = |id: &str| format!("/api/v1/chat/sessions/{id}");
    for (id, want) in [
        (&quiet, "resolved"),
        (&talkative, "active"),
        (&waiting, "waiting"),
    ] {
        let (_, s) = app.call("GET", &status_of(id), None, Some(&admin)).await;
        assert_eq!(s["data"]["status"], want, "{id}: {s}");
    }
    // Resolved once, however many sweeps pass.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (_, history) = app
        .call(
            "GET",
            &format!("/api/chat/sessions/{quiet}/messages"),
            None,
            Some(&admin),
        )
        .await;
    let notes = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["message"]
                .as_str()
                .is_some_and(|t| t.contains("automatically"))
        })
        .count();
    assert_eq!(notes, 1, "{history}");
}
