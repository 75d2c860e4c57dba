//! Behind a reverse proxy: only a trusted proxy names the client (`TRUSTED_PROXIES`),
//! and per-IP limits count that client, not the proxy.

use crate::helpers::*;

/// WebSocket upgrades "from" `forwarded_for` (as a proxy would say): how many of
/// `attempts` are let in.
async fn upgrades(app: &TestApp, forwarded_for: &str, attempts: usize) -> usize {
    let mut opened = 0;
    let mut kept = Vec::new();
    for _ in 0..attempts {
        let req = awc::Client::new()
            .ws(format!("ws://{}/ws", app.addr))
            .set_header("X-Forwarded-For", forwarded_for);
        if let Ok((_, framed)) = req.connect().await {
            opened += 1;
            kept.push(framed);
        }
    }
    opened
}

fn limited(trusted: &[&str]) -> impl FnOnce(&mut switchboard::config::Config) {
    let trusted: Vec<String> = trusted.iter().map(|s| s.to_string()).collect();
    move |c| {
        c.ip_rate_limit_per_sec = 0.001;
        c.ip_rate_limit_burst = 2.0;
        c.trusted_proxies = trusted;
    }
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_allowance() {
    let app = spawn_with(limited(&["127.0.0.1"])).await;
    assert_eq!(upgrades(&app, "203.0.113.5", 4).await, 2);
    // Another visitor through the same proxy is not refused for the first one.
    assert_eq!(upgrades(&app, "203.0.113.6", 4).await, 2);
}

#[actix_web::test]
async fn a_client_cannot_make_up_an_address_in_front_of_a_trusted_proxy() {
    let app = spawn_with(limited(&["127.0.0.1", "10.0.0.0/8"])).await;
    // Through 10.0.0.2 (trusted) the client is 198.51.100.7, whatever it put first.
    assert_eq!(
        upgrades(&app, "1.1.1.1, 198.51.100.7, 10.0.0.2", 2).await,
        2
    );
    assert_eq!(
        upgrades(&app, "2.2.2.2, 198.51.100.7, 10.0.0.2", 2).await,
        0
    );
}

#[actix_web::test]
async fn from_an_untrusted_peer_the_header_is_ignored() {
    let app = spawn_with(limited(&[])).await;
    assert_eq!(upgrades(&app, "203.0.113.5", 2).await, 2);
    // A new address in the header does not give a new allowance.
    assert_eq!(upgrades(&app, "203.0.113.6", 2).await, 0);
}

/// The browser-key cookie a WebSocket upgrade sets, with these request headers.
async fn cookie_via(app: &TestApp, headers: &[(&str, &str)]) -> String {
    let mut req = awc::Client::new().ws(format!("ws://{}/ws", app.addr));
    for (k, v) in headers {
        req = req.set_header(*k, *v);
    }
    let (res, _framed) = req.connect().await.expect("upgrade");
    res.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a cookie")
        .to_owned()
}

#[actix_web::test]
async fn only_a_trusted_proxy_says_the_client_came_over_https() {
    let trusted = spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let https = [("X-Forwarded-Proto", "https")];
    assert!(cookie_via(&trusted, &https).await.contains("Secure"));
    assert!(!cookie_via(&trusted, &[]).await.contains("Secure"));
    let forwarded = [("Forwarded", "for=198.51.100.7;proto=https")];
    assert!(cookie_via(&trusted, &forwarded).await.contains("Secure"));
    // From a peer that is not a trusted proxy the header means nothing.
    let untrusted = spawn_app().await;
    assert!(!cookie_via(&untrusted, &https).await.contains("Secure"));
}
