//! Onboarding auth codes (seed 003): issue, deliver, verify once; refuse the rest.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

async fn new_guest(app: &TestApp) -> (String, String) {
    let (_, g) = app
        .call(
            "POST",
            "/api/support/conversation/guest",
            Some(&json!({"type": "onboarding"})),
            None,
        )
        .await;
    (
        g["guestId"].as_str().unwrap().to_owned(),
        g["conversation"]["id"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn a_code_is_issued_delivered_and_accepted_once() {
    let app = spawn_app().await;
    let admin = app.token("boss", "admin");
    let (guest_id, conversation_id) = new_guest(&app).await;
    let mut guest = app.ws().await;
    guest
        .send(json!({"type": "register", "sessionId": conversation_id, "guestId": guest_id}))
        .await;
    guest.recv_type("registered").await;

    let (status, issued) = app
        .call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&json!({"guestId": guest_id, "deviceInfo": "iPad"})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{issued}");
    let code = issued["code"].as_str().unwrap().to_owned();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(
        issued["conversationId"],
        conversation_id.as_str(),
        "the guest's open onboarding conversation"
    );
    assert!(issued["expiresAt"].as_str().unwrap().ends_with('Z'));
    // It arrives in the conversation as an auth_code message, live and in history.
    let live = guest.recv_type("staff_reply").await;
    assert_eq!(
        (live["messageType"].as_str(), live["message"].as_str()),
        (
            Some("auth_code"),
            Some(format!("Your verification code is {code}").as_str())
        )
    );
    let (_, page) = app
        .call(
            "GET",
            &format!("/api/support/conversation/{conversation_id}/messages?guestId={guest_id}"),
            None,
            None,
        )
        .await;
    assert_eq!(page["messages"][0]["messageType"], "auth_code");

    let (status, ok) = app
        .call(
            "POST",
            "/api/support/onboarding/verify-code",
            Some(&json!({"code": code, "guestId": guest_id})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(
        (ok["success"].as_bool(), ok["data"]["userId"].as_str()),
        (Some(true), Some(guest_id.as_str()))
    );
    assert!(ok["data"]["authCodeId"].is_string());
    // Single use.
    let (status, again) = app
        .call(
            "POST",
            "/api/support/onboarding/verify-code",
            Some(&json!({"code": code, "guestId": guest_id})),
            None,
        )
        .await;
    assert_eq!(
        (
            status,
            again["message"].as_str(),
            again["success"].as_bool()
        ),
        (400, Some("Code already used"), Some(false))
    );

    // For a signed-in user, into a given conversation.
    let user = app.token("u-7", "customer");
    let (_, conv) = app.my_conversation(&user, "onboarding").await;
    let body = json!({"conversationId": conv["id"]});
    let (_, issued) = app
        .call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&body),
            Some(&admin),
        )
        .await;
    let (status, ok) = app
        .call(
            "POST",
            "/api/support/onboarding/verify-code",
            Some(&json!({"code": issued["code"], "userId": "u-7"})),
            None,
        )
        .await;
    assert_eq!((status, ok["data"]["userId"].as_str()), (200, Some("u-7")));
}

#[actix_web::test]
async fn wrong_expired_and_reused_codes_are_refused() {
    let app = spawn_with(|c| c.auth_code_ttl = Duration::from_secs(1)).await;
    let admin = app.token("boss", "admin");
    let (guest_id, _) = new_guest(&app).await;
    let (_, issued) = app
        .call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&json!({"guestId": guest_id})),
            Some(&admin),
        )
        .await;
    let code = issued["code"].as_str().unwrap().to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };

    // Ten wrong guesses: each refused; after five the person's code is locked.
    for attempt in 0..10 {
        let (status, body) = app
            .call(
                "POST",
                "/api/support/onboarding/verify-code",
                Some(&json!({"code": wrong, "guestId": guest_id})),
                None,
            )
            .await;
        if attempt < 5 {
            assert_eq!(
                (status, body["message"].as_str(), body["code"].as_str()),
                (400, Some("Invalid or expired code"), Some("invalid_code"))
            );
        } else {
            assert_eq!(
                (status, body["message"].as_str()),
                (429, Some("Too many attempts"))
            );
        }
    }
    let (status, body) = app
        .call(
            "POST",
            "/api/support/onboarding/verify-code",
            Some(&json!({"code": code, "guestId": guest_id})),
            None,
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (429, Some("Too many attempts"))
    );

    // A fresh code, left to expire.
    let (_, issued) = app
        .call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&json!({"guestId": guest_id})),
            Some(&admin),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (status, body) = app
        .call(
            "POST",
            "/api/support/onboarding/verify-code",
            Some(&json!({"code": issued["code"], "guestId": guest_id})),
            None,
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str(), body["detail"].as_str()),
        (400, Some("Invalid or expired code"), Some("expired"))
    );

    // A code is only checked for the person it names: without one, nothing to guess at.
    let (status, body) = app
        .call(
            "POST",
            "/api/support/onboarding/verify-code",
            Some(&json!({"code": "123456"})),
            None,
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (422, Some("Give exactly one of userId and guestId"))
    );
    // Nor can a code be issued for nobody (an anonymous session), or into a closed conversation.
    let anon = uid("anon-session");
    app.post_json(
        "/api/chat/send-to-staff",
        &json!({"sessionId": anon, "message": "hi"}),
        None,
    )
    .await;
    let (status, body) = app
        .call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&json!({"conversationId": anon})),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("validation_failed"))
    );
    let user = app.token("closer", "customer");
    let (_, conv) = app.my_conversation(&user, "onboarding").await;
    let id = conv["id"].as_str().unwrap();
    app.call(
        "PATCH",
        &format!("/api/v1/chat/sessions/{id}/status"),
        Some(&json!({"status": "closed"})),
        Some(&user),
    )
    .await;
    let (status, _) = app
        .call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&json!({"conversationId": id})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 409);

    // Malformed codes, and who may issue them.
    let (status, _) = app
        .call(
            "POST",
            "/api/support/onboarding/verify-code",
            Some(&json!({"code": "12ab56"})),
            None,
        )
        .await;
    assert_eq!(status, 422);
    let customer = app.token("c", "customer");
    let body = json!({"guestId": guest_id});
    assert_eq!(
        app.call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&body),
            Some(&customer)
        )
        .await
        .0,
        403
    );
    assert_eq!(
        app.call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&body),
            None
        )
        .await
        .0,
        401
    );
    let (status, body) = app
        .call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&json!({})),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (422, Some("conversationId, userId or guestId is required"))
    );
    let never = json!({"guestId": format!("guest_1_{}", "a".repeat(32))});
    assert_eq!(
        app.call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&never),
            Some(&admin)
        )
        .await
        .0,
        401
    );
}

#[actix_web::test]
async fn guessing_a_users_code_is_bounded_per_user() {
    let app = spawn_app().await;
    let admin = app.token("boss", "admin");
    let user = app.token("u-7", "customer");
    let (_, conv) = app.my_conversation(&user, "onboarding").await;
    let (_, issued) = app
        .call(
            "POST",
            "/api/support/onboarding/generate-code",
            Some(&json!({"conversationId": conv["id"]})),
            Some(&admin),
        )
        .await;
    let code = issued["code"].as_str().unwrap().to_owned();
    // Every refusal counts, whatever it was: wrong codes and another person's code alike.
    let other_guest = {
        let (_, g) = app
            .call("POST", "/api/support/conversation/guest", None, None)
            .await;
        g["guestId"].as_str().unwrap().to_owned()
    };
    for i in 0..10 {
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
        let (status, _) = app
            .call(
                "POST",
                "/api/support/onboarding/verify-code",
                Some(&json!({"code": guess, "userId": "u-7"})),
                None,
            )
            .await;
        assert_ne!(status, 200);
    }
    // The right code for someone else does not work for them either.
    let (status, _) = app
        .call(
            "POST",
            "/api/support/onboarding/verify-code",
            Some(&json!({"code": code, "guestId": other_guest})),
            None,
        )
        .await;
    assert_eq!(status, 400);
    let (status, body) = app
        .call(
            "POST",
            "/api/support/onboarding/verify-code",
            Some(&json!({"code": code, "userId": "u-7"})),
            None,
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (429, Some("Too many attempts"))
    );
}
