//! Attachments (seed 004): upload, attach, download, and every refused file.

use serde_json::json;

use crate::helpers::*;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\0\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";

async fn session_for(app: &TestApp, token: &str) -> String {
    let (_, s) = app
        .call(
            "POST",
            "/api/v1/chat/sessions",
            Some(&json!({"subject": "files"})),
            Some(token),
        )
        .await;
    s["data"]["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn files_are_uploaded_attached_and_downloaded() {
    let app = spawn_app().await;
    let customer = app.token("cust", "customer");
    let agent = app.token("agent", "agent");
    let id = session_for(&app, &customer).await;
    let mut staff = app.staff("agent", "agent").await;

    // Pre-upload, then attach by id.
    let (status, up) = send_form(
        &app,
        "/api/v1/chat/upload",
        &customer,
        form(&[], &[("shot.png", "image/png", PNG)]),
    )
    .await;
    assert_eq!(status, 201, "{up}");
    let file = &up["data"][0];
    assert_eq!(
        (
            file["file_name"].as_str(),
            file["file_type"].as_str(),
            file["file_size"].as_i64()
        ),
        (Some("shot.png"), Some("image/png"), Some(PNG.len() as i64))
    );
    let body = json!({"content": "", "attachments": [file["id"]]});
    let (status, sent) = app
        .call(
            "POST",
            &format!("/api/v1/chat/sessions/{id}/messages"),
            Some(&body),
            Some(&customer),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["data"]["message_type"], "image");
    assert_eq!(sent["data"]["attachments"][0]["id"], file["id"]);
    let live = staff.recv_type("customer_message").await;
    assert_eq!(live["attachments"][0]["fileName"], "shot.png");

    // Or in one multipart message, as seed 004 sends it.
    let f = form(
        &[("content", "Check this screenshot"), ("temp_id", "t-9")],
        &[
            ("shot.png", "image/png", PNG),
            ("notes.txt", "text/plain", b"order 42\n"),
        ],
    );
    let (status, sent) = send_form(
        &app,
        &format!("/api/v1/chat/sessions/{id}/messages"),
        &customer,
        f,
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    let m = &sent["data"];
    assert_eq!(
        (
            m["content"].as_str(),
            m["message_type"].as_str(),
            m["temp_id"].as_str()
        ),
        (Some("Check this screenshot"), Some("file"), Some("t-9"))
    );
    assert_eq!(m["attachments"].as_array().unwrap().len(), 2);

    // History carries them; staff download with the stored type, as an attachment.
    let (_, page) = app
        .call(
            "GET",
            &format!("/api/v1/chat/sessions/{id}/messages"),
            None,
            Some(&agent),
        )
        .await;
    let url = page["data"][0]["attachments"][0]["file_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut resp = awc::Client::new()
        .get(app.url(&url))
        .insert_header(("Authorization", format!("Bearer {agent}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let header = |r: &awc::ClientResponse<_>, h: &str| {
        r.headers().get(h).unwrap().to_str().unwrap().to_owned()
    };
    assert_eq!(header(&resp, "content-type"), "image/png");
    assert_eq!(
        header(&resp, "content-disposition"),
        "attachment; filename=\"shot.png\""
    );
    assert_eq!(header(&resp, "x-content-type-options"), "nosniff");
    assert_eq!(resp.body().await.unwrap().as_ref(), PNG);

    // Someone else may not; nor anyone without identity.
    let other = app.token("other", "customer");
    let resp = awc::Client::new()
        .get(app.url(&url))
        .insert_header(("Authorization", format!("Bearer {other}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    let resp = awc::Client::new().get(app.url(&url)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    // Stored once by content, however often sent.
    let stored: Vec<_> = walk(&app.config.data_dir.join("attachments"));
    assert_eq!(stored.len(), 2, "{stored:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[actix_web::test]
async fn refused_files_are_refused_and_nothing_is_half_written() {
    let app = spawn_app().await;
    let customer = app.token("cust", "customer");
    let id = session_for(&app, &customer).await;
    let path = format!("/api/v1/chat/sessions/{id}/messages");

    let big = vec![b'a'; 11 * 1024 * 1024];
    let (status, body) = send_form(
        &app,
        &path,
        &customer,
        form(&[("content", "big")], &[("big.txt", "text/plain", &big)]),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (413, Some("File too large (max 10 MB)"))
    );

    let six: Vec<(&str, &str, &[u8])> =
        (0..6).map(|_| ("a.txt", "text/plain", &b"x"[..])).collect();
    let (status, body) = send_form(&app, &path, &customer, form(&[("content", "six")], &six)).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (422, Some("At most 5 files per message"))
    );

    let exe: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0@\0\0\0";
    let (status, body) = send_form(
        &app,
        &path,
        &customer,
        form(&[("content", "cat")], &[("cat.png", "image/png", exe)]),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str(), body["code"].as_str()),
        (
            415,
            Some("File type not allowed"),
            Some("unsupported_media_type")
        )
    );
    let (status, _) = send_form(
        &app,
        &path,
        &customer,
        form(
            &[],
            &[("page.html", "text/html", b"<script>alert(1)</script>")],
        ),
    )
    .await;
    assert_eq!(status, 415);

    // A body cut off midway.
    let (ct, mut bytes) = form(&[("content", "cut")], &[("shot.png", "image/png", PNG)]);
    bytes.truncate(bytes.len() - 30);
    let (status, body) = send_form(&app, &path, &customer, (ct, bytes)).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Malformed multipart body"))
    );

    // Someone else's upload cannot be attached.
    let agent = app.token("agent", "agent");
    let (_, up) = send_form(
        &app,
        "/api/v1/chat/upload",
        &agent,
        form(&[], &[("a.png", "image/png", PNG)]),
    )
    .await;
    let body = json!({"content": "mine?", "attachments": [up["data"][0]["id"]]});
    let (status, body) = app.call("POST", &path, Some(&body), Some(&customer)).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (422, Some("Unknown attachment"))
    );

    // A message refused after its files were read (someone else's conversation, text
    // too long) takes its files with it.
    let mallory = app.token("mallory", "customer");
    let f = form(
        &[("content", "let me in")],
        &[("m.txt", "text/plain", b"mallory's notes")],
    );
    assert_eq!(send_form(&app, &path, &mallory, f).await.0, 403);
    let long = "x".repeat(6000);
    let f = form(
        &[("content", long.as_str())],
        &[("l.txt", "text/plain", b"long text's file")],
    );
    assert_eq!(send_form(&app, &path, &customer, f).await.0, 422);

    // None of it left a message or a stray file behind.
    let (_, page) = app
        .call("GET", &format!("{path}?limit=50"), None, Some(&customer))
        .await;
    assert_eq!(page["data"].as_array().unwrap().len(), 0);
    assert_eq!(
        walk(&app.config.data_dir.join("attachments")).len(),
        1,
        "only the agent's upload"
    );
}

#[actix_web::test]
async fn uploads_count_against_the_identity_rate() {
    let app = spawn_with(|c| {
        c.identity_rate_limit_per_sec = 0.01;
        c.identity_rate_limit_burst = 2.0;
    })
    .await;
    let customer = app.token("cust", "customer");
    for i in 0..2 {
        let name = format!("f{i}.txt");
        let (status, _) = send_form(
            &app,
            "/api/v1/chat/upload",
            &customer,
            form(&[], &[(name.as_str(), "text/plain", b"x")]),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (status, body) = send_form(
        &app,
        "/api/v1/chat/upload",
        &customer,
        form(&[], &[("f.txt", "text/plain", b"y")]),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (429, Some("Rate limit exceeded"))
    );
}

#[actix_web::test]
async fn uploads_never_sent_are_removed_after_the_retention() {
    let app = spawn_with(|c| c.upload_retention = std::time::Duration::from_secs(2)).await;
    let customer = app.token("cust", "customer");
    let id = session_for(&app, &customer).await;
    let upload = |name: &'static str, bytes: &'static [u8]| {
        let app = &app;
        let customer = &customer;
        async move {
            let (status, up) = send_form(
                app,
                "/api/v1/chat/upload",
                customer,
                form(&[], &[(name, "text/plain", bytes)]),
            )
            .await;
            assert_eq!(status, 201, "{up}");
            up["data"][0]["id"].as_str().unwrap().to_owned()
        }
    };
    let forgotten = upload("forgotten.txt", b"never sent").await;
    let kept = upload("kept.txt", b"sent with a message").await;
    let body = json!({"content": "here", "attachments": [kept]});
    let path = format!("/api/v1/chat/sessions/{id}/messages");
    let (status, sent) = app.call("POST", &path, Some(&body), Some(&customer)).await;
    assert_eq!(status, 201, "{sent}");

    let dir = app.config.data_dir.join("attachments");
    let file = |bytes: &[u8]| {
        use sha2::Digest;
        switchboard::file_store::path_of(&dir, &hex::encode(sha2::Sha256::digest(bytes)))
    };
    assert!(file(b"never sent").exists());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while file(b"never sent").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the unsent upload is still there"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Its row went with it: it can no longer be attached.
    let late = json!({"content": "late", "attachments": [forgotten]});
    let (status, refused) = app.call("POST", &path, Some(&late), Some(&customer)).await;
    assert_eq!(
        (status, refused["message"].as_str()),
        (422, Some("Unknown attachment"))
    );
    // The one a message took stays, and still downloads.
    assert!(file(b"sent with a message").exists());
    let url = sent["data"]["attachments"][0]["file_url"].as_str().unwrap();
    let res = bearer(awc::Client::new().get(app.url(url)), Some(&customer))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status().as_u16(), 200);
}
