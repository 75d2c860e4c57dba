//! The bundled demo page is served from the binary with a strict CSP.

use crate::helpers::*;

#[actix_web::test]
async fn demo_page_and_assets_are_served() {
    let app = spawn_app().await;
    for (path, content_type, needle) in [
        ("/", "text/html", "Switchboard"),
        ("/static/demo.js", "text/javascript", "register_admin"),
        ("/static/demo.css", "text/css", ".log"),
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
