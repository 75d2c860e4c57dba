//! Seed 003's REST API: guests, users, paging, the admin list, and bad inputs.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn guests_get_an_id_and_a_conversation_and_keep_them() {
    let app = spawn_app().await;
    let (status, first) = app
        .call(
            "POST",
            "/api/support/conversation/guest",
            Some(&json!({"type": "onboarding", "subject": "Setup"})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{first}");
    let guest_id = first["guestId"].as_str().unwrap().to_owned();
    // guest_<ms>_<128 random bits>
    let parts: Vec<&str> = guest_id.splitn(3, '_').collect();
    assert_eq!(parts[0], "guest");
    assert!(parts[1].parse::<u64>().is_ok());
    assert_eq!(parts[2].len(), 32);
    let conv = &first["conversation"];
    assert_eq!(
        (
            conv["type"].as_str(),
            conv["subject"].as_str(),
            conv["guestId"].as_str()
        ),
        (Some("onboarding"), Some("Setup"), Some(guest_id.as_str()))
    );
    let id = conv["id"].as_str().unwrap().to_owned();

    // Coming back with the id returns the same open conversation.
    let (_, again) = app
        .call(
            "POST",
            "/api/support/conversation/guest",
            Some(&json!({"type": "onboarding", "guestId": guest_id})),
            None,
        )
        .await;
    assert_eq!(again["conversation"]["id"], id.as_str());
    assert_eq!(again["created"], false);

    // The guest writes (as the native protocol's anonymous sender would, via REST here)
    // and reads its messages by guestId, paged.
    let token_free =
        format!("/api/support/conversation/{id}/messages?page=1&limit=2&guestId={guest_id}");
    let (status, empty) = app.call("GET", &token_free, None, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        empty["pagination"],
        json!({"page": 1, "limit": 2, "total": 0, "totalPages": 0, "hasMore": false})
    );
    let (status, detail) = app
        .call(
            "GET",
            &format!("/api/support/conversation/{id}?guestId={guest_id}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(detail["id"], id.as_str());
    assert_eq!(detail["conversation"]["id"], id.as_str());

    // Staff do not see it in the admin list while it is empty: a conversation reaches
    // the inbox with its first message (`desk_ws` follows one there).
    let admin = app.token("boss", "admin");
    let (status, list) = app
        .call(
            "GET",
            "/api/admin/support/conversations?page=1&limit=50&status=open&type=onboarding",
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200);
    assert!(!list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == id.as_str()));
    assert_eq!(list["pagination"]["page"], 1);
    let (_, closed_only) = app
        .call(
            "GET",
            "/api/admin/support/conversations?status=closed",
            None,
            Some(&admin),
        )
        .await;
    assert!(!closed_only["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == id.as_str()));
}

#[actix_web::test]
async fn a_user_gets_or_creates_one_open_conversation_per_type() {
    let app = spawn_app().await;
    let user = app.token("u-1", "customer");
    let (status, a) = app.my_conversation(&user, "general").await;
    assert_eq!(status, 200, "{a}");
    let (_, b) = app.my_conversation(&user, "general").await;
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["userId"], "u-1");
    assert_eq!(a["conversation"]["id"], a["id"]);
    let (_, c) = app.my_conversation(&user, "call_request").await;
    assert_ne!(a["id"], c["id"]);

    // Messages appear with seed 003's fields, oldest first, paged.
    let id = a["id"].as_str().unwrap();
    for i in 0..3 {
        let body = json!({"content": format!("m{i}")});
        assert_eq!(
            app.call(
                "POST",
                &format!("/api/v1/chat/sessions/{id}/messages"),
                Some(&body),
                Some(&user)
            )
            .await
            .0,
            201
        );
    }
    let (_, page2) = app
        .call(
            "GET",
            &format!("/api/support/conversation/{id}/messages?page=2&limit=2"),
            None,
            Some(&user),
        )
        .await;
    let msgs = page2["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(
        (
            m["message"].as_str(),
            m["senderType"].as_str(),
            m["senderId"].as_str()
        ),
        (Some("m2"), Some("user"), Some("u-1"))
    );
    assert_eq!(
        (
            m["conversationId"].as_str(),
            m["messageType"].as_str(),
            m["isRead"].as_bool()
        ),
        (Some(id), Some("text"), Some(false))
    );
    assert_eq!(
        page2["pagination"],
        json!({"page": 2, "limit": 2, "total": 3, "totalPages": 2, "hasMore": false})
    );
}

#[actix_web::test]
async fn support_api_refuses_bad_requests() {
    let app = spawn_app().await;
    let (_, g1) = app
        .call("POST", "/api/support/conversation/guest", None, None)
        .await;
    let (_, g2) = app
        .call("POST", "/api/support/conversation/guest", None, None)
        .await;
    let id1 = g1["conversation"]["id"].as_str().unwrap().to_owned();
    let gid2 = g2["guestId"].as_str().unwrap().to_owned();

    // A guest id that was never issued, well-formed or not.
    for fake in [
        "guest_1234567890_abc123".to_owned(),
        format!("guest_1_{}", "0".repeat(32)),
    ] {
        let (status, body) = app
            .call(
                "POST",
                "/api/support/conversation/guest",
                Some(&json!({"guestId": fake})),
                None,
            )
            .await;
        assert_eq!(
            (status, body["message"].as_str()),
            (401, Some("Unknown guest id")),
            "{fake}"
        );
        let (status, _) = app
            .call(
                "GET",
                &format!("/api/support/conversation/{id1}/messages?guestId={fake}"),
                None,
                None,
            )
            .await;
        assert_eq!(status, 401);
    }
    // Another guest's conversation; no identity at all.
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/support/conversation/{id1}/messages?guestId={gid2}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/support/conversation/{id1}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .call("GET", "/api/support/conversation", None, None)
        .await;
    assert_eq!(status, 401);
    // Admin list: customers may not.
    let user = app.token("u", "customer");
    let (status, _) = app
        .call("GET", "/api/admin/support/conversations", None, Some(&user))
        .await;
    assert_eq!(status, 403);
    // Paging and field values.
    let admin = app.token("boss", "admin");
    for q in [
        "page=0",
        "page=-3",
        "limit=0",
        "limit=1000",
        "page=9223372036854775807&limit=100",
        "status=sleeping",
        "type=sales",
    ] {
        let (status, body) = app
            .call(
                "GET",
                &format!("/api/admin/support/conversations?{q}"),
                None,
                Some(&admin),
            )
            .await;
        assert_eq!(status, 422, "{q}: {body}");
    }
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/support/conversation/{id1}/messages?page=0"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .call(
            "POST",
            "/api/support/conversation/guest",
            Some(&json!({"type": "sales"})),
            None,
        )
        .await;
    assert_eq!(status, 422);
}

#[actix_web::test]
async fn guest_creation_is_limited_per_ip() {
    let app = spawn_with(|c| {
        c.ip_rate_limit_per_sec = 0.01;
        c.ip_rate_limit_burst = 2.0;
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            app.call("POST", "/api/support/conversation/guest", None, None)
                .await
                .0,
            200
        );
    }
    let (status, body) = app
        .call("POST", "/api/support/conversation/guest", None, None)
        .await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
}
