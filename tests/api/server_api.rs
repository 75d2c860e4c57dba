//! The server API for the shop's backend (`/api/server/v1`, `Authorization: Bearer
//! sk_…`) and the API keys admins make for it (`/api/admin/api-keys`). The bot's
//! message on every Socket.IO surface is in `socketio.rs` (`server_api.test.js`).

use serde_json::{json, Value};

use crate::helpers::*;

/// A new key with `scopes`, made by an admin: its id and the key itself.
pub async fn api_key(app: &TestApp, name: &str, scopes: &[&str]) -> (String, String) {
    let admin = app.token("ann", "admin");
    let (status, made) = app
        .call(
            "POST",
            "/api/admin/api-keys",
            Some(&json!({"name": name, "scopes": scopes})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let data = &made["data"];
    (
        data["id"].as_str().expect("id").to_owned(),
        data["key"].as_str().expect("the key, this once").to_owned(),
    )
}

const ALL: [&str; 6] = [
    "conversations:read",
    "conversations:write",
    "messages:read",
    "messages:write",
    "streams:read",
    "streams:write",
];

#[actix_web::test]
async fn keys_are_shown_once_stored_hashed_and_only_admins_manage_them() {
    let app = spawn_app().await;
    let admin = app.token("ann", "admin");
    let agent = app.token("bo", "agent");
    let body = json!({"name": "Shop backend", "scopes": ["messages:write"]});
    let (status, _) = app
        .call("POST", "/api/admin/api-keys", Some(&body), None)
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .call("POST", "/api/admin/api-keys", Some(&body), Some(&agent))
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call("GET", "/api/admin/api-keys", None, Some(&agent))
        .await;
    assert_eq!(status, 403);
    for (bad, why) in [
        (json!({"name": "x", "scopes": []}), "at least one scope"),
        (
            json!({"name": "x", "scopes": ["messages:delete"]}),
            "Unknown scope",
        ),
        (
            json!({"name": " ", "scopes": ["messages:read"]}),
            "name must be",
        ),
        (
            json!({"name": "x", "scopes": ["messages:read"], "admin": true}),
            "Invalid request body",
        ),
    ] {
        let (status, answer) = app
            .call("POST", "/api/admin/api-keys", Some(&bad), Some(&admin))
            .await;
        assert_eq!(status, 422, "{bad} → {answer}");
        assert!(answer.to_string().contains(why), "{bad} → {answer}");
    }

    let (id, key) = api_key(&app, "Shop backend", &["messages:write", "messages:read"]).await;
    assert!(key.starts_with("sk_") && key.len() > 40, "{key}");
    let (status, list) = app
        .call("GET", "/api/admin/api-keys", None, Some(&admin))
        .await;
    assert_eq!(status, 200);
    let listed = &list["data"][0];
    assert_eq!(listed["id"], id.as_str());
    assert_eq!(listed["name"], "Shop backend");
    assert_eq!(listed["scopes"], json!(["messages:write", "messages:read"]));
    assert_eq!(listed["createdBy"], "ann");
    assert_eq!(listed["revokedAt"], Value::Null);
    assert!(key.starts_with(listed["prefix"].as_str().expect("a prefix")));
    // Neither the key nor anything that stands for it is ever shown again.
    assert!(!list.to_string().contains(&key), "{list}");
    assert!(!list.to_string().contains(&key[12..]), "{list}");
    assert!(listed.get("key").is_none() && listed.get("keyHash").is_none());

    // Nor is it kept: the data directory's database holds only its hash.
    let db = std::fs::read(app.config.data_dir.join("switchboard.sqlite3")).unwrap_or_default();
    if !db.is_empty() {
        let text = String::from_utf8_lossy(&db);
        assert!(!text.contains(&key), "the key itself is stored");
    }

    let (status, revoked) = app
        .call(
            "DELETE",
            &format!("/api/admin/api-keys/{id}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["data"]["revokedAt"].is_string(), "{revoked}");
    let (status, _) = app
        .call("DELETE", "/api/admin/api-keys/key_nope", None, Some(&admin))
        .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn scopes_decide_and_a_revoked_or_unknown_key_is_refused() {
    let app = spawn_app().await;
    let (id, reader) = api_key(&app, "Reporting", &["conversations:read"]).await;
    let conversation = uid("conv");
    let mut customer = app
        .customer(&conversation, Some(&app.token("cy", "customer")))
        .await;
    customer
        .send(json!({"type": "customer_message", "message": "hello"}))
        .await;
    customer.recv_type("message_ack").await;

    let post = json!({"text": "from a reader"});
    let path = format!("/api/server/v1/conversations/{conversation}/messages");
    let (status, answer) = app.call("POST", &path, Some(&post), Some(&reader)).await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer.to_string().contains("messages:write"), "{answer}");
    let (status, _) = app
        .call("GET", "/api/server/v1/stream", None, Some(&reader))
        .await;
    assert_eq!(status, 403);
    let (status, list) = app
        .call("GET", "/api/server/v1/conversations", None, Some(&reader))
        .await;
    assert_eq!(status, 200, "{list}");
    // Opening with a first message writes a message: that takes messages:write too.
    let (_, opener) = api_key(&app, "Opener", &["conversations:write"]).await;
    let open = json!({"userId": "u-1", "message": {"text": "hello"}});
    let (status, answer) = app
        .call(
            "POST",
            "/api/server/v1/conversations",
            Some(&open),
            Some(&opener),
        )
        .await;
    assert_eq!(status, 403, "{answer}");
    let (status, _) = app
        .call(
            "POST",
            "/api/server/v1/conversations",
            Some(&json!({"userId": "u-1"})),
            Some(&opener),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(list["data"][0]["id"], conversation.as_str());

    // No key, a JWT, a made-up key: 401.
    for token in [
        None,
        Some(app.token("ann", "admin")),
        Some("sk_madeup".to_owned()),
    ] {
        let (status, answer) = app
            .call(
                "GET",
                "/api/server/v1/conversations",
                None,
                token.as_deref(),
            )
            .await;
        assert_eq!(status, 401, "{token:?} → {answer}");
    }

    let admin = app.token("ann", "admin");
    app.call(
        "DELETE",
        &format!("/api/admin/api-keys/{id}"),
        None,
        Some(&admin),
    )
    .await;
    let (status, answer) = app
        .call("GET", "/api/server/v1/conversations", None, Some(&reader))
        .await;
    assert_eq!(status, 401, "{answer}");
    assert!(answer.to_string().contains("revoked"), "{answer}");
}

/// POST a message with an optional `Idempotency-Key`: status, headers, body.
async fn post_message(
    app: &TestApp,
    key: &str,
    conversation: &str,
    body: &Value,
    idempotency_key: Option<&str>,
) -> (u16, awc::http::header::HeaderMap, Value) {
    let url = app.url(&format!(
        "/api/server/v1/conversations/{conversation}/messages"
    ));
    let mut req = bearer(awc::Client::new().post(url), Some(key));
    if let Some(k) = idempotency_key {
        req = req.insert_header(("Idempotency-Key", k));
    }
    let (status, headers, json) = exchange(req, Some(body)).await;
    (status, headers, json.expect("a JSON answer"))
}

#[actix_web::test]
async fn bots_and_the_system_post_live_and_an_idempotency_key_stores_one() {
    let app = spawn_app().await;
    let (_, key) = api_key(&app, "Order bot", &ALL).await;
    let conversation = uid("conv");
    let customer_token = app.token("cy", "customer");
    let mut customer = app.customer(&conversation, Some(&customer_token)).await;
    customer
        .send(json!({"type": "customer_message", "message": "where is my order?"}))
        .await;
    customer.recv_type("message_ack").await;
    let mut staff = app.staff("bo", "agent").await;
    staff
        .send(json!({"type": "join", "sessionId": conversation}))
        .await;
    staff.recv_type("joined").await;

    let bot = json!({"text": "Order #42 has shipped"});
    let (status, headers, first) =
        post_message(&app, &key, &conversation, &bot, Some("order-42")).await;
    assert_eq!(status, 201, "{first}");
    assert!(headers.get("idempotent-replayed").is_none());
    let m = &first["data"];
    assert_eq!(
        (
            m["senderKind"].as_str(),
            m["senderName"].as_str(),
            m["seq"].as_i64()
        ),
        (Some("bot"), Some("Order bot"), Some(2))
    );
    let live = customer.recv_type("staff_reply").await;
    assert_eq!(
        (
            live["message"].as_str(),
            live["staffName"].as_str(),
            live["senderType"].as_str()
        ),
        (
            Some("Order #42 has shipped"),
            Some("Order bot"),
            Some("bot")
        )
    );
    staff
        .recv_until(|v| v["type"] == "staff_reply" && v["message"] == "Order #42 has shipped")
        .await;

    // The same key again: the original, 200, and nothing delivered.
    let (status, headers, again) =
        post_message(&app, &key, &conversation, &bot, Some("order-42")).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        headers.get("idempotent-replayed").map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(again["data"]["id"], m["id"]);
    // The same key for another message is refused, not quietly answered.
    let other = json!({"text": "Order #43 has shipped"});
    let (status, _, refused) =
        post_message(&app, &key, &conversation, &other, Some("order-42")).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused["message"]
        .as_str()
        .unwrap_or_default()
        .contains("Idempotency-Key"));
    let (status, _, refused) =
        post_message(&app, &key, &conversation, &other, Some(&"k".repeat(300))).await;
    assert_eq!(status, 422, "{refused}");
    // The same text as the server stores it (a carriage return it drops) is the same
    // message; the same key under another bot name is not.
    let crlf = json!({"text": "Line one\r\nline two"});
    let (status, _, first_crlf) =
        post_message(&app, &key, &conversation, &crlf, Some("crlf")).await;
    assert_eq!(status, 201, "{first_crlf}");
    customer.recv_type("staff_reply").await;
    let (status, _, again_crlf) =
        post_message(&app, &key, &conversation, &crlf, Some("crlf")).await;
    assert_eq!(status, 200, "{again_crlf}");
    assert_eq!(again_crlf["data"]["id"], first_crlf["data"]["id"]);
    let renamed = json!({"text": "Line one\r\nline two", "name": "Other bot"});
    let (status, _, _) = post_message(&app, &key, &conversation, &renamed, Some("crlf")).await;
    assert_eq!(status, 422);

    // As the system, under another name; a bot under a name of its own.
    let system = json!({"text": "Your return was approved", "sender": "system"});
    let (status, _, sys) = post_message(&app, &key, &conversation, &system, None).await;
    assert_eq!(status, 201, "{sys}");
    assert_eq!(sys["data"]["senderKind"], "system");
    assert_eq!(sys["data"]["messageType"], "system");
    let note = customer.recv_type("system_message").await;
    assert_eq!(note["message"], "Your return was approved");
    let named = json!({"text": "Hi from returns", "name": "Returns bot"});
    let (_, _, r) = post_message(&app, &key, &conversation, &named, None).await;
    assert_eq!(r["data"]["senderName"], "Returns bot");
    customer.recv_type("staff_reply").await;

    // Bad bodies, and a conversation that is not there.
    for bad in [
        json!({"text": ""}),
        json!({"text": "x", "sender": "agent"}),
        json!({"text": "x", "name": ""}),
        json!({"message": "x"}),
    ] {
        let (status, _, answer) = post_message(&app, &key, &conversation, &bad, None).await;
        assert_eq!(status, 422, "{bad} → {answer}");
    }
    let (status, _, _) = post_message(&app, &key, "no-such-conversation", &bot, None).await;
    assert_eq!(status, 404);

    // Stored once each, in order: the customer's, the bot's, the system's, the other bot's.
    let (status, history) = app
        .call(
            "GET",
            &format!("/api/server/v1/conversations/{conversation}/messages"),
            None,
            Some(&key),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    let kinds: Vec<&str> = history["data"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["senderKind"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["customer", "bot", "bot", "system", "bot"]);
    // The staff side still waits for its first human answer.
    let (_, c) = app
        .call(
            "GET",
            &format!("/api/server/v1/conversations/{conversation}"),
            None,
            Some(&key),
        )
        .await;
    assert_eq!(c["data"]["status"], "waiting", "{c}");
}

#[actix_web::test]
async fn the_backend_opens_assigns_resolves_and_pages_through_conversations() {
    let app = spawn_app().await;
    let (_, key) = api_key(&app, "Shop", &ALL).await;
    let mut staff = app.staff("bo", "agent").await;
    let open = |body: Value| {
        let (app, key) = (&app, key.clone());
        async move {
            app.call(
                "POST",
                "/api/server/v1/conversations",
                Some(&body),
                Some(&key),
            )
            .await
        }
    };

    // For a signed-in user, with the bot's first message: staff see it arrive.
    let user = uid("user");
    let (status, opened) = open(json!({
        "userId": user, "name": "Carla", "subject": "Order #42",
        "message": {"text": "We could not deliver order #42. Can we help?"}
    }))
    .await;
    assert_eq!(status, 201, "{opened}");
    let c = &opened["data"];
    assert_eq!(
        (
            c["customerId"].as_str(),
            c["customerName"].as_str(),
            c["status"].as_str(),
            c["lastSeq"].as_i64()
        ),
        (Some(user.as_str()), Some("Carla"), Some("waiting"), Some(1))
    );
    let first_id = c["id"].as_str().expect("id").to_owned();
    let created = staff
        .recv_until(|v| v["type"] == "conversation_updated" && v["sessionId"] == first_id.as_str())
        .await;
    assert_eq!(created["change"], "created", "{created}");
    // The customer finds it as their conversation, the bot's message in it.
    let customer = app.token(&user, "customer");
    let (status, mine) = app
        .call(
            "GET",
            &format!("/api/support/conversation/{first_id}/messages"),
            None,
            Some(&customer),
        )
        .await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["messages"][0]["senderName"], "Shop");

    // For a guest the server issued, the customer's own words relayed; for a guest
    // nobody issued, nothing.
    let (_, guest) = app
        .call(
            "POST",
            "/api/support/conversation/guest",
            Some(&json!({})),
            None,
        )
        .await;
    let guest_id = guest["guestId"].as_str().expect("guest id").to_owned();
    // (The guest's own conversation, made with the id.)
    let guest_own = guest["conversation"]["id"].as_str().expect("id").to_owned();
    let (status, second) = open(json!({
        "guestId": guest_id, "type": "onboarding",
        "message": {"text": "My parcel is damaged", "sender": "customer"}
    }))
    .await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["data"]["guestId"], guest_id.as_str());
    let second_id = second["data"]["id"].as_str().expect("id").to_owned();
    let (status, third) =
        open(json!({"userId": user, "message": {"text": "Note", "sender": "system"}})).await;
    assert_eq!(status, 201, "{third}");
    let third_id = third["data"]["id"].as_str().expect("id").to_owned();
    let (_, note) = app
        .call(
            "GET",
            &format!("/api/server/v1/conversations/{third_id}/messages"),
            None,
            Some(&key),
        )
        .await;
    assert_eq!(
        (
            note["data"][0]["senderKind"].as_str(),
            note["data"][0]["messageType"].as_str()
        ),
        (Some("system"), Some("system")),
        "{note}"
    );
    for (bad, status_wanted) in [
        (json!({"guestId": "guest-nobody-issued"}), 404),
        (json!({"userId": "u", "guestId": guest_id}), 422),
        (json!({}), 422),
        (json!({"userId": "u", "type": "smalltalk"}), 422),
        (
            json!({"userId": "u", "message": {"text": "x", "sender": "agent"}}),
            422,
        ),
        (json!({"userId": "u", "message": {"text": " "}}), 422),
    ] {
        let (status, answer) = open(bad.clone()).await;
        assert_eq!(status, status_wanted, "{bad} → {answer}");
    }

    // Assign, then resolve: each a system message, each seen live by staff.
    let patch = |id: &str, body: Value| {
        let (app, key, path) = (
            &app,
            key.clone(),
            format!("/api/server/v1/conversations/{id}"),
        );
        async move { app.call("PATCH", &path, Some(&body), Some(&key)).await }
    };
    let (status, assigned) =
        patch(&first_id, json!({"assignee": "bo", "assigneeName": "Bo"})).await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(
        (
            assigned["data"]["assignedAgentId"].as_str(),
            assigned["data"]["status"].as_str()
        ),
        (Some("bo"), Some("active"))
    );
    staff
        .recv_until(|v| {
            v["type"] == "conversation_updated" && v["conversation"]["status"] == "active"
        })
        .await;
    let (status, resolved) = patch(&first_id, json!({"status": "resolved"})).await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["data"]["status"], "resolved");
    for (bad, wanted) in [
        (json!({"status": "done"}), 422),
        (json!({}), 422),
        (json!({"assignee": ""}), 422),
    ] {
        let (status, answer) = patch(&first_id, bad.clone()).await;
        assert_eq!(status, wanted, "{bad} → {answer}");
    }
    let (status, _) = patch("no-such-conversation", json!({"status": "closed"})).await;
    assert_eq!(status, 404);

    // Filters, and a cursor through every page, one at a time, in creation order.
    let list = |query: String| {
        let (app, key) = (&app, key.clone());
        async move {
            app.call(
                "GET",
                &format!("/api/server/v1/conversations{query}"),
                None,
                Some(&key),
            )
            .await
        }
    };
    let (_, resolved_list) = list("?status=resolved".into()).await;
    let ids: Vec<&str> = resolved_list["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, [first_id.as_str()]);
    let (_, by_user) = list(format!("?customerId={user}")).await;
    assert_eq!(by_user["data"].as_array().map(Vec::len), Some(2));
    let (_, by_guest) = list(format!("?guestId={guest_id}&type=onboarding")).await;
    assert_eq!(by_guest["data"][0]["id"], second_id.as_str());
    let (_, by_agent) = list("?assignee=bo".into()).await;
    assert_eq!(by_agent["data"][0]["id"], first_id.as_str());
    let mut seen = Vec::new();
    let mut query = "?limit=1".to_owned();
    loop {
        let (status, page) = list(query.clone()).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["data"]
                .as_array()
                .expect("page")
                .iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned)),
        );
        match page["nextCursor"].as_str() {
            Some(cursor) => query = format!("?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, [first_id.clone(), guest_own, second_id, third_id]);
    for bad in [
        "?cursor=not-a-cursor",
        "?limit=0",
        "?limit=101",
        "?status=done",
        "?colour=red",
    ] {
        let (status, answer) = list(bad.into()).await;
        assert_eq!(status, 422, "{bad} → {answer}");
    }

    // Messages page by seq.
    let path = format!("/api/server/v1/conversations/{first_id}/messages");
    let (_, page) = app
        .call("GET", &format!("{path}?limit=2"), None, Some(&key))
        .await;
    assert_eq!(seqs_of(&page), [1, 2]);
    let after = page["nextAfterSeq"].as_i64().expect("more to come");
    let (_, rest) = app
        .call(
            "GET",
            &format!("{path}?afterSeq={after}&limit=50"),
            None,
            Some(&key),
        )
        .await;
    assert_eq!(seqs_of(&rest), [3]);
    assert_eq!(rest["nextAfterSeq"], Value::Null);
    assert_eq!(rest["data"][0]["senderKind"], "system");
}

fn seqs_of(page: &Value) -> Vec<i64> {
    page["data"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["seq"].as_i64())
        .collect()
}

#[actix_web::test]
async fn the_backend_announces_and_pins_products_in_the_live_stream() {
    let app = spawn_app().await;
    let (_, key) = api_key(&app, "Shop", &["streams:read", "streams:write"]).await;
    let announce = json!({"text": "20% off the serum for the next ten minutes!", "name": "Shop"});
    let (status, answer) = app
        .call(
            "POST",
            "/api/server/v1/stream/announcements",
            Some(&announce),
            Some(&key),
        )
        .await;
    assert_eq!(status, 409, "no stream is live: {answer}");
    let (status, current) = app
        .call("GET", "/api/server/v1/stream", None, Some(&key))
        .await;
    assert_eq!((status, &current["data"]["isActive"]), (200, &json!(false)));

    let host = app.token("host", "admin");
    let mut viewer = app.customer(&uid("viewer"), None).await;
    let (status, _) = app
        .call(
            "POST",
            "/api/live/streams",
            Some(&json!({"title": "Launch"})),
            Some(&host),
        )
        .await;
    assert_eq!(status, 201);
    viewer.recv_type("stream_started").await;

    let (status, answer) = app
        .call(
            "POST",
            "/api/server/v1/stream/announcements",
            Some(&announce),
            Some(&key),
        )
        .await;
    assert_eq!(status, 202, "{answer}");
    let line = viewer.recv_type("chat_message").await;
    assert_eq!(
        (
            line["message"].as_str(),
            line["username"].as_str(),
            line["isAdmin"].as_bool()
        ),
        (
            Some("20% off the serum for the next ten minutes!"),
            Some("Shop"),
            Some(true)
        )
    );
    let products = json!([{"productId": "serum", "name": "Serum", "price": 39.2, "image": "/s.jpg", "displayOrder": 1}]);
    let (status, pinned) = app
        .call(
            "PUT",
            "/api/server/v1/stream/pinned-products",
            Some(&products),
            Some(&key),
        )
        .await;
    assert_eq!(status, 200, "{pinned}");
    let update = viewer.recv_type("pinned_products_updated").await;
    assert_eq!(update["pinnedProducts"][0]["productId"], "serum");
    let (_, current) = app
        .call("GET", "/api/server/v1/stream", None, Some(&key))
        .await;
    assert_eq!(current["data"]["pinnedProducts"][0]["name"], "Serum");

    for bad in [
        json!({"text": ""}),
        json!({"text": "x".repeat(100_000)}),
        json!({}),
    ] {
        let (status, answer) = app
            .call(
                "POST",
                "/api/server/v1/stream/announcements",
                Some(&bad),
                Some(&key),
            )
            .await;
        assert_eq!(status, 422, "{answer}");
    }
}
