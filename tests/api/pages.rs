//! The bundled pages are served from the binary with a strict CSP.

use crate::helpers::*;

#[actix_web::test]
async fn pages_and_assets_are_served() {
    let app = spawn_app().await;
    for (path, content_type, needle) in [
        ("/", "text/html", "widget.js"),
        ("/admin", "text/html", "admin.js"),
        ("/live", "text/html", "live.js"),
        ("/static/live.js", "text/javascript", "webrtc_offer"),
        ("/static/widget.js", "text/javascript", "customer_message"),
        ("/static/admin.js", "text/javascript", "register_admin"),
        ("/static/common.js", "text/javascript", "textContent"),
        ("/static/app.css", "text/css", ".log"),
        ("/favicon.ico", "image/svg+xml", "<svg"),
    ] {
        let mut resp = awc::Client::new().get(app.url(path)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let ct = resp
            .headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(ct.starts_with(content_type), "{path}: {ct}");
        let csp = resp
            .headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        let body = resp.body().await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains(needle), "{path}");
    }
    let resp = awc::Client::new()
        .get(app.url("/static/../Cargo.toml"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let resp = awc::Client::new()
        .get(app.url("/static/secret.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
}

/// A local try-out (no configured secret) offers a one-click link into the console with a
/// short-lived admin token; a configured secret means production, and no such link.
#[actix_web::test]
async fn first_run_link_only_without_a_configured_secret() {
    let data = tempfile::TempDir::new().unwrap();
    let mut config = test_config(&data);
    config.jwt_secret = None;
    let running = switchboard::startup::start(config).expect("server starts");
    let link = running
        .admin_link
        .clone()
        .expect("a link on a local try-out");
    let prefix = format!("http://{}/admin#token=", running.addr);
    let token = link.strip_prefix(&prefix).expect("a link to /admin");
    let identity = running.keys.verify(token).expect("a valid token");
    assert!(identity.is_admin());
    let left = identity.expires_at - chrono::Utc::now().timestamp();
    assert!((0..=15 * 60).contains(&left), "short-lived: {left} s");

    let configured = tempfile::TempDir::new().unwrap();
    let running = switchboard::startup::start(test_config(&configured)).expect("server starts");
    assert_eq!(running.admin_link, None);
}
