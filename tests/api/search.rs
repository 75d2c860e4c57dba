//! Staff search (`search` on `/ws`, `GET /api/desk/search`): customers' conversations
//! by name or id, messages by text (every word, as a word prefix) with highlighted
//! snippets, paged; notes found and marked; sign-in codes never; everyone else refused.

use serde_json::{json, Value};

use crate::helpers::*;

async fn post(app: &TestApp, id: &str, token: &str, text: &str) {
    let path = format!("/api/v1/chat/sessions/{id}/messages");
    let (status, body) = app
        .call("POST", &path, Some(&json!({"content": text})), Some(token))
        .await;
    assert_eq!(status, 201, "{body}");
}

/// (text, matched) of a hit's parts, the matched ones only.
fn matched(hit: &Value) -> Vec<String> {
    hit["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .filter(|p| p["match"] == true)
        .map(|p| p["text"].as_str().unwrap().to_lowercase())
        .collect()
}

fn snippet(hit: &Value) -> String {
    hit["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn staff_find_conversations_and_messages_with_highlights() {
    let app = spawn_app().await;
    let nora = app.token("cust-s1", "customer");
    let (_, made) = app
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"subject": "late", "initial_message": "My ORDER 1042 is late, again"})),
            Some(&nora),
        )
        .await;
    let nora_id = made["data"]["id"].as_str().unwrap().to_owned();
    let omar = app.token("cust-s2", "customer");
    let (_, made) = app
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"initial_message": "A refund, please"})),
            Some(&omar),
        )
        .await;
    let omar_id = made["data"]["id"].as_str().unwrap().to_owned();
    let agent = app.token("bo", "agent");
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/desk/conversations/{omar_id}/notes"),
            Some(&json!({"content": "Refunded by the manager"})),
            Some(&agent),
        )
        .await;
    assert_eq!(status, 201);

    // Over /ws: a prefix finds both, newest first, the note marked, the words marked.
    let mut bo = app.staff("bo", "agent").await;
    bo.send(json!({"type": "search", "q": "REFUN"})).await;
    let found = bo.recv_type("search_results").await;
    assert_eq!(
        (found["q"].as_str(), found["total"].as_i64()),
        (Some("REFUN"), Some(2)),
        "{found}"
    );
    let hits = found["messages"].as_array().unwrap();
    assert_eq!(
        hits.iter()
            .map(|h| (
                h["private"].as_bool().unwrap(),
                h["sessionId"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        [(true, omar_id.as_str()), (false, omar_id.as_str())]
    );
    assert_eq!(matched(&hits[0]), ["refunded"]);
    assert_eq!(snippet(&hits[1]), "A refund, please");
    assert_eq!(hits[1]["customerName"], "cust-s2 name");

    // Every word must be there; case does not matter.
    let search = |q: &str| format!("/api/desk/search?q={}", urlencode(q));
    let (status, page) = app
        .call("GET", &search("order 1042"), None, Some(&agent))
        .await;
    assert_eq!(status, 200, "{page}");
    let hits = page["data"]["messages"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{page}");
    assert_eq!(
        (hits[0]["sessionId"].as_str(), hits[0]["seq"].as_i64()),
        (Some(nora_id.as_str()), Some(1))
    );
    assert_eq!(matched(&hits[0]), ["order", "1042"]);
    let (_, page) = app
        .call("GET", &search("order refund"), None, Some(&agent))
        .await;
    assert_eq!(page["data"]["total"], 0, "{page}");

    // Customers by name (part of it) or id.
    for q in ["S1 NAM", "cust-s1", &nora_id] {
        let (_, page) = app.call("GET", &search(q), None, Some(&agent)).await;
        let ids: Vec<&str> = page["data"]["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [nora_id.as_str()], "{q}: {page}");
    }

    // Whatever is typed is words, never query syntax.
    for q in [
        "\"order",
        "order*",
        "' OR 1=1 --",
        "NEAR(order late)",
        "order:*|x",
    ] {
        let (status, page) = app.call("GET", &search(q), None, Some(&agent)).await;
        assert_eq!(status, 200, "{q}: {page}");
    }
}

#[actix_web::test]
async fn results_are_paged_codes_are_never_found_and_only_staff_search() {
    let app = spawn_app().await;
    let cust = app.token("cust-p", "customer");
    let (_, made) = app
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"initial_message": "widget 0"})),
            Some(&cust),
        )
        .await;
    let id = made["data"]["id"].as_str().unwrap().to_owned();
    for i in 1..5 {
        post(&app, &id, &cust, &format!("widget {i}")).await;
    }
    let agent = app.token("bo", "agent");
    let page = |offset: i64| format!("/api/desk/search?q=widget&limit=2&offset={offset}");
    let mut seen = Vec::new();
    for (offset, more) in [(0, true), (2, true), (4, false)] {
        let (status, p) = app.call("GET", &page(offset), None, Some(&agent)).await;
        assert_eq!(status, 200, "{p}");
        assert_eq!(
            (p["data"]["total"].as_i64(), p["data"]["hasMore"].as_bool()),
            (Some(5), Some(more)),
            "{p}"
        );
        seen.extend(
            p["data"]["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(snippet),
        );
    }
    assert_eq!(
        seen,
        ["widget 4", "widget 3", "widget 2", "widget 1", "widget 0"]
    );

    // A sign-in code posted into a conversation is never a search result.
    let admin = app.token("ann", "admin");
    let (status, issued) = app
        .call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&json!({"conversationId": id, "userId": "cust-p"})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{issued}");
    let code = issued["code"].as_str().unwrap();
    let (_, found) = app
        .call(
            "GET",
            &format!("/api/desk/search?q={code}"),
            None,
            Some(&agent),
        )
        .await;
    assert_eq!(found["data"]["total"], 0, "{found}");

    let refusals = [
        (
            "/api/desk/search?q=%20;;%20",
            Some(agent.as_str()),
            422,
            "q must hold a word to search for",
        ),
        (
            "/api/desk/search?q=widget&limit=0",
            Some(agent.as_str()),
            422,
            "limit must be between 1 and 100",
        ),
        (
            "/api/desk/search?q=widget&offset=-1",
            Some(agent.as_str()),
            422,
            "offset must not be negative",
        ),
        (
            "/api/desk/search?q=widget",
            Some(cust.as_str()),
            403,
            "Insufficient permissions",
        ),
        ("/api/desk/search?q=widget", None, 401, "Token required"),
        (
            "/api/desk/search",
            Some(agent.as_str()),
            422,
            "Invalid query parameters",
        ),
    ];
    for (path, who, want, message) in refusals {
        let (status, answer) = app.call("GET", path, None, who).await;
        assert_eq!(
            (status, answer["message"].as_str()),
            (want, Some(message)),
            "{path}: {answer}"
        );
    }
    // A guest's or customer's connection may not search either.
    let mut c = app.customer(&id, Some(&cust)).await;
    c.send(json!({"type": "search", "q": "widget"})).await;
    c.expect_error("Insufficient permissions").await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
