//! Transcripts (`GET /api/chat/sessions/{id}/transcript?format=text|html`): staff and
//! the customer download the whole conversation; staff's has the notes, marked, the
//! customer's never; HTML escapes every text; files are listed with their links.

use serde_json::json;

use crate::helpers::*;

/// Status, content type, content disposition and body of a transcript download.
async fn download(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, String, String) {
    let mut res = app
        .request(awc::http::Method::GET, path, token)
        .send()
        .await
        .expect("GET");
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (kind, disposition) = (header("content-type"), header("content-disposition"));
    let body = res.body().limit(1 << 20).await.expect("a body");
    (
        res.status().as_u16(),
        kind,
        disposition,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[actix_web::test]
async fn staff_and_the_customer_download_transcripts_the_customer_without_notes() {
    let app = spawn_app().await;
    let customer = app.token("cust-t", "customer");
    let agent = app.token("agent-t", "agent");
    let (_, made) = app
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"subject": "Broken <b>cup</b>", "initial_message": "It arrived broken <img src=x>"})),
            Some(&customer),
        )
        .await;
    let id = made["data"]["id"].as_str().unwrap().to_owned();
    let (status, up) = send_form(
        &app,
        "/api/v1/chat/upload",
        &customer,
        form(
            &[],
            &[("photo.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n")],
        ),
    )
    .await;
    assert_eq!(status, 201, "{up}");
    let file = up["data"][0]["id"].as_str().unwrap().to_owned();
    let messages = format!("/api/v1/chat/sessions/{id}/messages");
    let (status, _) = app
        .call(
            "POST",
            &messages,
            Some(&json!({"content": "here", "attachments": [file]})),
            Some(&customer),
        )
        .await;
    assert_eq!(status, 201);
    app.call(
        "POST",
        &messages,
        Some(&json!({"content": "A new one is on its way."})),
        Some(&agent),
    )
    .await;
    let (status, _) = app
        .call(
            "POST",
            &format!("/api/desk/conversations/{id}/notes"),
            Some(&json!({"content": "second breakage this month"})),
            Some(&agent),
        )
        .await;
    assert_eq!(status, 201);

    let path = format!("/api/chat/sessions/{id}/transcript");
    let (status, kind, disposition, staff_text) = download(&app, &path, Some(&agent)).await;
    assert_eq!(status, 200, "{staff_text}");
    assert!(kind.starts_with("text/plain"), "{kind}");
    assert_eq!(
        disposition,
        format!("attachment; filename=\"conversation-{id}.txt\"")
    );
    for expected in [
        "Conversation with cust-t name: Broken <b>cup</b>",
        "cust-t name:\n  It arrived broken <img src=x>",
        "agent-t name:\n  A new one is on its way.",
        "agent-t name (private note):\n  second breakage this month",
        &format!(
            "Attachment: photo.pdf (15 B) http://{}/api/v1/chat/attachments/{file}",
            app.addr
        ),
    ] {
        assert!(
            staff_text.contains(expected),
            "{expected:?} in {staff_text}"
        );
    }

    // The customer's: the same, without the note.
    let (status, _, _, mine) = download(&app, &path, Some(&customer)).await;
    assert_eq!(status, 200);
    assert!(
        mine.contains("A new one is on its way.") && mine.contains("photo.pdf"),
        "{mine}"
    );
    assert!(
        !mine.contains("breakage") && !mine.contains("private note"),
        "{mine}"
    );

    // HTML: printable, every text escaped, files linked.
    let (status, kind, disposition, html) =
        download(&app, &format!("{path}?format=html"), Some(&customer)).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(disposition.ends_with(".html\""), "{disposition}");
    assert!(!html.contains("<img") && !html.contains("<b>"), "{html}");
    assert!(
        html.contains("It arrived broken &lt;img src=x&gt;"),
        "{html}"
    );
    assert!(
        html.contains(&format!("/api/v1/chat/attachments/{file}\">photo.pdf</a>")),
        "{html}"
    );
    assert!(html.contains("@media print"), "{html}");
    assert!(!html.contains("breakage"), "{html}");

    // Refused: someone else, nobody, a bad format.
    let stranger = app.token("someone", "customer");
    for (query, who, want) in [
        ("", Some(stranger.as_str()), 403),
        ("", None, 403),
        ("?format=pdf", Some(agent.as_str()), 422),
    ] {
        let (status, _, _, body) = download(&app, &format!("{path}{query}"), who).await;
        assert_eq!(status, want, "{query}: {body}");
    }
    let (status, _, _, _) = download(
        &app,
        "/api/chat/sessions/no-such-one/transcript",
        Some(&agent),
    )
    .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn an_anonymous_visitor_downloads_their_own_transcript() {
    let app = spawn_app().await;
    let session = uid("anon-transcript");
    let mut c = app.customer(&session, None).await;
    c.send(json!({"type": "customer_message", "message": "just browsing"}))
        .await;
    c.recv_type("message_ack").await;
    // The test is the browser the session is bound to (its cookie).
    let (status, _, _, text) = download(
        &app,
        &format!("/api/chat/sessions/{session}/transcript"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("just browsing"), "{text}");
}

#[actix_web::test]
async fn a_guest_downloads_their_transcript_by_guest_id() {
    let app = spawn_app().await;
    let (guest, id) = new_guest(&app).await;
    let mut c = app.ws().await;
    c.send(json!({"type": "register", "sessionId": id, "guestId": guest}))
        .await;
    c.recv_type("registered").await;
    c.send(json!({"type": "customer_message", "message": "guest here"}))
        .await;
    c.recv_type("message_ack").await;
    let path = format!("/api/chat/sessions/{id}/transcript?guestId={guest}");
    let (status, _, _, text) = download(&app, &path, None).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("guest here"), "{text}");
    // Another guest's id is refused.
    let (other, _) = new_guest(&app).await;
    let (status, _, _, _) = download(
        &app,
        &format!("/api/chat/sessions/{id}/transcript?guestId={other}"),
        None,
    )
    .await;
    assert_eq!(status, 403);
}

/// A new guest with an open conversation (seed 003): the guest id and the conversation's.
async fn new_guest(app: &TestApp) -> (String, String) {
    let path = "/api/support/conversation/guest";
    let (status, opened) = app.call("POST", path, Some(&json!({})), None).await;
    assert_eq!(status, 200, "{opened}");
    let id = |v: &serde_json::Value| v.as_str().expect("an id").to_owned();
    (id(&opened["guestId"]), id(&opened["conversation"]["id"]))
}
