//! Canned responses (`/api/desk/canned-responses`): admins make, change and delete
//! them; every staff member lists them; everything else is refused.

use serde_json::{json, Value};

use crate::helpers::*;

const PATH: &str = "/api/desk/canned-responses";

/// (method, path, body, token, status, message)
type Refusal<'a> = (
    &'a str,
    &'a str,
    Option<Value>,
    Option<&'a str>,
    u16,
    &'a str,
);

#[actix_web::test]
async fn admins_manage_canned_responses_and_staff_list_them() {
    let app = spawn_app().await;
    let admin = app.token("ann", "admin");
    let agent = app.token("bo", "agent");
    let customer = app.token("cy", "customer");

    let body = json!({"shortcut": "/Refund", "content": "Hi {{customer.name}}, your refund is on its way. {{agent.name}}"});
    let (status, made) = app.call("POST", PATH, Some(&body), Some(&admin)).await;
    assert_eq!(status, 201, "{made}");
    let refund = made["data"].clone();
    assert_eq!(
        (refund["shortcut"].as_str(), refund["createdBy"].as_str()),
        (Some("refund"), Some("ann"))
    );
    let (status, _) = app
        .call(
            "POST",
            PATH,
            Some(&json!({"shortcut": "hello", "content": "Hello!"})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 201);

    // Every staff member lists them, by shortcut.
    let (status, list) = app.call("GET", PATH, None, Some(&agent)).await;
    assert_eq!(status, 200, "{list}");
    let shortcuts: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["shortcut"].as_str().unwrap())
        .collect();
    assert_eq!(shortcuts, ["hello", "refund"]);

    // Changed: the text alone, then the shortcut.
    let one = format!("{PATH}/{}", refund["id"].as_str().unwrap());
    let (status, changed) = app
        .call(
            "PATCH",
            &one,
            Some(&json!({"content": "Refunded."})),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (
            changed["data"]["shortcut"].as_str(),
            changed["data"]["content"].as_str()
        ),
        (Some("refund"), Some("Refunded."))
    );
    let (status, changed) = app
        .call(
            "PATCH",
            &one,
            Some(&json!({"shortcut": "refunded"})),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (status, changed["data"]["shortcut"].as_str()),
        (200, Some("refunded"))
    );

    // Deleted, it is gone from the list.
    let (status, _) = app.call("DELETE", &one, None, Some(&admin)).await;
    assert_eq!(status, 200);
    let (_, list) = app.call("GET", PATH, None, Some(&admin)).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1), "{list}");

    // Refusals, each with its reason.
    let missing = format!("{PATH}/cr_none");
    let cases: Vec<Refusal> = vec![
        ("GET", PATH, None, None, 401, "Token required"),
        (
            "GET",
            PATH,
            None,
            Some(&customer),
            403,
            "Insufficient permissions",
        ),
        (
            "POST",
            PATH,
            Some(json!({"shortcut": "x", "content": "y"})),
            Some(&agent),
            403,
            "Insufficient permissions",
        ),
        (
            "POST",
            PATH,
            Some(json!({"shortcut": "two words", "content": "y"})),
            Some(&admin),
            422,
            "shortcut must be 1 to 32 letters, digits, - or _",
        ),
        (
            "POST",
            PATH,
            Some(json!({"shortcut": "blank", "content": "  "})),
            Some(&admin),
            422,
            "content must be 1 to 5000 characters",
        ),
        (
            "POST",
            PATH,
            Some(json!({"shortcut": "HELLO", "content": "again"})),
            Some(&admin),
            409,
            "A canned response with this shortcut exists",
        ),
        (
            "POST",
            PATH,
            Some(json!({"shortcut": "x", "content": "y", "extra": 1})),
            Some(&admin),
            422,
            "Invalid request body",
        ),
        (
            "PATCH",
            &missing,
            Some(json!({"content": "y"})),
            Some(&admin),
            404,
            "Canned response not found",
        ),
        (
            "PATCH",
            &missing,
            Some(json!({"content": "y"})),
            Some(&agent),
            403,
            "Insufficient permissions",
        ),
        (
            "DELETE",
            &missing,
            None,
            Some(&admin),
            404,
            "Canned response not found",
        ),
        (
            "DELETE",
            &missing,
            None,
            Some(&agent),
            403,
            "Insufficient permissions",
        ),
    ];
    for (method, path, body, who, want, message) in cases {
        let (status, answer) = app.call(method, path, body.as_ref(), who).await;
        assert_eq!(
            (status, answer["message"].as_str()),
            (want, Some(message)),
            "{method} {path} {body:?}: {answer}"
        );
    }
    // A change to a shortcut another response has is refused too.
    let (_, made) = app
        .call(
            "POST",
            PATH,
            Some(&json!({"shortcut": "bye", "content": "Bye!"})),
            Some(&admin),
        )
        .await;
    let bye = format!("{PATH}/{}", made["data"]["id"].as_str().unwrap());
    let (status, answer) = app
        .call(
            "PATCH",
            &bye,
            Some(&json!({"shortcut": "hello"})),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (409, Some("conflict")),
        "{answer}"
    );
}
