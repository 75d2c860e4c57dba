//! Labels: staff add and remove them on conversations (`add_label`/`remove_label` on
//! `/ws`, `PUT`/`DELETE /api/desk/conversations/{id}/labels/{label}`), every staff
//! connection hears of it, the inbox filters by one, and customers never see them.

use serde_json::{json, Value};

use crate::helpers::*;

/// A signed-in customer's conversation with a first message (so it is in the inbox).
async fn conversation(app: &TestApp, user: &str, text: &str) -> (String, String) {
    let token = app.token(user, "customer");
    (app.session_with(&token, text, text).await, token)
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn staff_label_conversations_over_ws_and_the_inbox_filters_by_label() {
    let app = spawn_app().await;
    let (vip, token) = conversation(&app, "cust-l1", "big order").await;
    let (other, _) = conversation(&app, "cust-l2", "small question").await;
    let mut ann = app.staff("ann", "admin").await;
    let mut bo = app.staff("bo", "agent").await;
    let mut cust = app.customer(&vip, Some(&token)).await;

    ann.send(json!({"type": "add_label", "sessionId": vip, "label": " VIP "}))
        .await;
    for staff in [&mut ann, &mut bo] {
        let f = staff
            .recv_until(|f| f["type"] == "conversation_updated" && f["change"] == "labels")
            .await;
        assert_eq!(
            (f["sessionId"].as_str(), &f["conversation"]["labels"]),
            (Some(vip.as_str()), &json!(["vip"]))
        );
    }
    ann.send(json!({"type": "add_label", "sessionId": vip, "label": "refund"}))
        .await;
    bo.recv_until(|f| {
        f["change"] == "labels" && f["conversation"]["labels"] == json!(["refund", "vip"])
    })
    .await;

    // The customer, in the room, hears nothing of it (not even as a status frame).
    let heard = cust.frames_for(300).await;
    assert!(
        heard
            .iter()
            .all(|f| f["type"] != "conversation_updated" && !f.to_string().contains("vip")),
        "{heard:?}"
    );

    // The inbox filtered by label, with the filter echoed.
    bo.send(json!({"type": "inbox", "label": "vip"})).await;
    let inbox = bo.recv_until(|f| f["type"] == "inbox").await;
    assert_eq!(
        (ids(&inbox["conversations"]), inbox["label"].as_str()),
        (vec![vip.as_str()], Some("vip"))
    );
    assert_eq!(
        inbox["conversations"][0]["labels"],
        json!(["refund", "vip"])
    );
    bo.send(json!({"type": "inbox"})).await;
    let all = bo.recv_until(|f| f["type"] == "inbox").await;
    assert_eq!(ids(&all["conversations"]).len(), 2);
    assert!(ids(&all["conversations"]).contains(&other.as_str()));

    // Taken off: gone from the filtered inbox.
    bo.send(json!({"type": "remove_label", "sessionId": vip, "label": "vip"}))
        .await;
    ann.recv_until(|f| f["change"] == "labels" && f["conversation"]["labels"] == json!(["refund"]))
        .await;
    bo.send(json!({"type": "inbox", "label": "vip"})).await;
    let inbox = bo.recv_until(|f| f["type"] == "inbox").await;
    assert_eq!(ids(&inbox["conversations"]), Vec::<&str>::new());

    // The customer, in the room, heard none of it and sees no labels; nor may it label
    // or filter.
    cust.send(json!({"type": "inbox"})).await;
    let mine = cust.recv_type("inbox").await;
    assert!(mine["conversations"][0].get("labels").is_none(), "{mine}");
    assert!(!mine.to_string().contains("refund"), "{mine}");
    cust.send(json!({"type": "add_label", "sessionId": vip, "label": "mine"}))
        .await;
    cust.expect_error("Insufficient permissions").await;
    cust.send(json!({"type": "inbox", "label": "refund"})).await;
    cust.expect_error("Insufficient permissions").await;
    cust.expect_silence(200).await;

    // Bad labels are refused with the reason.
    ann.send(json!({"type": "add_label", "sessionId": vip, "label": "two words"}))
        .await;
    let e = ann.recv_until(|f| f["type"] == "error").await;
    assert_eq!(e["message"], "A label is 1 to 32 letters, digits, - or _");
}

#[actix_web::test]
async fn labels_over_rest_for_staff_only() {
    let app = spawn_app().await;
    let (id, customer) = conversation(&app, "cust-l3", "hello").await;
    let agent = app.token("bo", "agent");
    let label = |l: &str| format!("/api/desk/conversations/{id}/labels/{l}");

    let (status, put) = app.call("PUT", &label("Late"), None, Some(&agent)).await;
    assert_eq!(
        (status, &put["data"]["labels"]),
        (200, &json!(["late"])),
        "{put}"
    );
    // Again is fine, and changes nothing.
    let (status, put) = app.call("PUT", &label("late"), None, Some(&agent)).await;
    assert_eq!((status, &put["data"]["labels"]), (200, &json!(["late"])));
    let (status, list) = app
        .call(
            "GET",
            "/api/desk/conversations?label=late",
            None,
            Some(&agent),
        )
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        (ids(&list["data"]), list["total"].as_i64()),
        (vec![id.as_str()], Some(1))
    );
    let (_, none) = app
        .call(
            "GET",
            "/api/desk/conversations?label=early&status=open",
            None,
            Some(&agent),
        )
        .await;
    assert_eq!(none["total"], 0, "{none}");
    // The shop's backend sees them on the server API.
    let (_, key) = crate::server_api::api_key(&app, "shop", &["conversations:read"]).await;
    let (_, c) = app
        .call(
            "GET",
            &format!("/api/server/v1/conversations/{id}"),
            None,
            Some(&key),
        )
        .await;
    assert!(c.to_string().contains("\"labels\":[\"late\"]"), "{c}");

    let (status, del) = app.call("DELETE", &label("late"), None, Some(&agent)).await;
    assert_eq!((status, &del["data"]["labels"]), (200, &json!([])));

    // Twenty at most.
    for i in 0..20 {
        let (status, _) = app
            .call("PUT", &label(&format!("l{i}")), None, Some(&agent))
            .await;
        assert_eq!(status, 200);
    }
    let refusals = [
        (
            "PUT",
            label("l20"),
            Some(agent.as_str()),
            422,
            "A conversation has at most 20 labels",
        ),
        (
            "PUT",
            label("a%20b"),
            Some(agent.as_str()),
            422,
            "A label is 1 to 32 letters, digits, - or _",
        ),
        ("PUT", label("x"), None, 401, "Token required"),
        (
            "PUT",
            label("x"),
            Some(customer.as_str()),
            403,
            "Insufficient permissions",
        ),
        (
            "DELETE",
            label("x"),
            Some(customer.as_str()),
            403,
            "Insufficient permissions",
        ),
        (
            "GET",
            "/api/desk/conversations".into(),
            Some(customer.as_str()),
            403,
            "Insufficient permissions",
        ),
        (
            "PUT",
            "/api/desk/conversations/none-such/labels/x".into(),
            Some(agent.as_str()),
            404,
            "Conversation not found",
        ),
        (
            "GET",
            "/api/desk/conversations?label=a,b".into(),
            Some(agent.as_str()),
            422,
            "A label is 1 to 32 letters, digits, - or _",
        ),
    ];
    for (method, path, who, want, message) in refusals {
        let (status, answer) = app.call(method, &path, None, who).await;
        assert_eq!(
            (status, answer["message"].as_str()),
            (want, Some(message)),
            "{method} {path}"
        );
    }
    // The customer's own views carry no labels.
    for path in [
        format!("/api/v1/chat/sessions/{id}"),
        format!("/api/support/conversation/{id}"),
    ] {
        let (_, body) = app.call("GET", &path, None, Some(&customer)).await;
        assert!(!body.to_string().contains("\"l1"), "{path}: {body}");
    }
}
