//! Webhook endpoints (`/api/admin/webhooks`): made, listed, changed, rotated, tested
//! against a real receiver in the test that checks each signature, and deleted; and
//! every refused input.

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

use crate::helpers::*;

/// What a receiver got: each request's webhook headers and body.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// A webhook receiver on port 0: records what comes, answers 200.
async fn receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let kept = got.clone();
    let server = HttpServer::new(move || {
        let kept = kept.clone();
        App::new().route(
            "/hook",
            web::post().to(move |req: HttpRequest, body: web::Bytes| {
                let kept = kept.clone();
                async move {
                    let header = |name: &str| {
                        req.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    kept.lock().unwrap().push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    HttpResponse::Ok().finish()
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind");
    let addr = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    (format!("http://{addr}/hook"), got)
}

/// Whether `r` carries a valid signature by `secret` (as a receiver checks it).
fn signed_by(r: &Received, secret: &str) -> bool {
    let ts: i64 = r.timestamp.parse().expect("a timestamp");
    let want =
        switchboard::domain::webhook::sign(secret, &r.id, ts, r.body.as_bytes()).expect("sign");
    r.signature.split(' ').any(|s| s == want)
}

async fn private_ok() -> TestApp {
    spawn_with(|c| c.allow_private_webhooks = true).await
}

#[actix_web::test]
async fn an_endpoint_is_made_tested_rotated_changed_and_deleted() {
    let app = private_ok().await;
    let admin = app.token("boss", "admin");
    let (url, got) = receiver().await;
    let body = json!({"url": url, "events": ["message.created", "conversation.created"], "description": "CRM"});
    let (status, made) = app
        .call("POST", "/api/admin/webhooks", Some(&body), Some(&admin))
        .await;
    assert_eq!(status, 201, "{made}");
    let ep = &made["data"];
    let secret = ep["secret"].as_str().expect("the secret, once").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(ep["enabled"], true);
    let id = ep["id"].as_str().unwrap().to_owned();

    // Listed and shown without the secret.
    let (_, list) = app
        .call("GET", "/api/admin/webhooks", None, Some(&admin))
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(list["data"][0].get("secret").is_none(), "{list}");
    assert!(!list.to_string().contains(&secret));
    let path = format!("/api/admin/webhooks/{id}");
    let (_, shown) = app.call("GET", &path, None, Some(&admin)).await;
    assert_eq!(
        shown["data"]["events"],
        json!(["message.created", "conversation.created"])
    );

    // A test event, signed with the secret.
    let test = format!("{path}/test");
    let (status, tested) = app.call("POST", &test, None, Some(&admin)).await;
    assert_eq!(status, 200, "{tested}");
    assert_eq!(
        (
            tested["data"]["delivered"].as_bool(),
            tested["data"]["status"].as_u64()
        ),
        (Some(true), Some(200))
    );
    let first = got.lock().unwrap()[0].clone();
    assert!(first.id.starts_with("msg_"));
    assert_eq!(first.id, tested["data"]["webhookId"].as_str().unwrap());
    let event: Value = serde_json::from_str(&first.body).expect("JSON");
    assert_eq!(
        (event["type"].as_str(), event["id"].as_str()),
        (Some("webhook.test"), Some(first.id.as_str()))
    );
    assert!(signed_by(&first, &secret), "{first:?}");

    // Rotation: for a while both secrets sign.
    let (status, rotated) = app
        .call("POST", &format!("{path}/rotate-secret"), None, Some(&admin))
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["data"]["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert!(rotated["data"]["previousSecretUntil"].is_string());
    app.call("POST", &test, None, Some(&admin)).await;
    let second = got.lock().unwrap()[1].clone();
    assert_eq!(second.signature.split(' ').count(), 2, "{second:?}");
    assert!(signed_by(&second, &secret) && signed_by(&second, &new_secret));

    // Changes.
    let changes = json!({"enabled": false, "events": ["stream.started"]});
    let (status, changed) = app.call("PATCH", &path, Some(&changes), Some(&admin)).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (
            changed["data"]["enabled"].as_bool(),
            changed["data"]["events"].clone()
        ),
        (Some(false), json!(["stream.started"]))
    );
    let (status, gone) = app.call("DELETE", &path, None, Some(&admin)).await;
    assert_eq!(status, 200, "{gone}");
    assert_eq!(app.call("GET", &path, None, Some(&admin)).await.0, 404);
    assert_eq!(app.call("DELETE", &path, None, Some(&admin)).await.0, 404);
}

#[actix_web::test]
async fn only_admins_manage_webhooks_and_bad_input_is_refused() {
    let app = private_ok().await;
    let admin = app.token("boss", "admin");
    let (url, _) = receiver().await;
    let ok = json!({"url": url, "events": ["message.created"]});
    assert_eq!(
        app.call("GET", "/api/admin/webhooks", None, None).await.0,
        401
    );
    for role in ["agent", "customer"] {
        let token = app.token("someone", role);
        let (status, _) = app
            .call("POST", "/api/admin/webhooks", Some(&ok), Some(&token))
            .await;
        assert_eq!(status, 403, "{role}");
    }
    let refused = [
        (
            json!({"url": url, "events": []}),
            "events must name at least one event",
        ),
        (
            json!({"url": url, "events": ["message.nope"]}),
            "Unknown event",
        ),
        (
            json!({"url": "ftp://example.com/x", "events": ["message.created"]}),
            "Webhook URL not allowed",
        ),
        (
            json!({"url": "not a url", "events": ["message.created"]}),
            "Webhook URL not allowed",
        ),
        (
            json!({"url": "http://user:pw@127.0.0.1/x", "events": ["message.created"]}),
            "Webhook URL not allowed",
        ),
        (
            json!({"url": url, "events": ["message.created"], "secret": "mine"}),
            "Invalid request body",
        ),
    ];
    for (body, message) in refused {
        let (status, e) = app
            .call("POST", "/api/admin/webhooks", Some(&body), Some(&admin))
            .await;
        assert_eq!(
            (status, e["message"].as_str()),
            (422, Some(message)),
            "{body}: {e}"
        );
    }
    let (_, list) = app
        .call("GET", "/api/admin/webhooks", None, Some(&admin))
        .await;
    assert_eq!(list["data"], json!([]), "nothing was made");
}

#[actix_web::test]
async fn private_addresses_are_refused_unless_allowed() {
    let app = spawn_app().await;
    let admin = app.token("boss", "admin");
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
    ] {
        let body = json!({"url": url, "events": ["message.created"]});
        let (status, e) = app
            .call("POST", "/api/admin/webhooks", Some(&body), Some(&admin))
            .await;
        assert_eq!(status, 422, "{url}: {e}");
        assert!(
            e["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("ALLOW_PRIVATE_WEBHOOKS"),
            "{e}"
        );
    }
}
