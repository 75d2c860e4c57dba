//! TLS in the binary: `https://` and `wss://` with a certificate made here, a renewed
//! certificate served without a restart (on file change, and on SIGHUP to the real
//! binary), and bad files refused clearly.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use serde_json::json;

use crate::helpers::*;

/// A self-signed certificate for `localhost`, written as `cert.pem` and `key.pem` in
/// `dir`: the paths, and the certificate a client is to trust.
fn self_signed(dir: &Path) -> (PathBuf, PathBuf, CertificateDer<'static>) {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).expect("write cert");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("write key");
    (cert, key, made.cert.der().clone())
}

/// A client that trusts `cert` only (HTTP/1.1, as WebSockets need).
fn client(cert: &CertificateDer<'static>) -> awc::Client {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).expect("a root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    awc::Client::builder()
        .connector(awc::Connector::new().rustls_0_23(Arc::new(config)))
        .timeout(Duration::from_secs(5))
        .finish()
}

/// Whether a client trusting `cert` gets `/health/live` from `port` over HTTPS.
async fn trusted(cert: &CertificateDer<'static>, port: u16) -> bool {
    let url = format!("https://localhost:{port}/health/live");
    matches!(client(cert).get(url).send().await, Ok(r) if r.status().as_u16() == 200)
}

#[actix_web::test]
async fn https_and_wss_are_served_with_the_configured_certificate() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let (cert, key, der) = self_signed(dir.path());
    let app = spawn_with(|c| {
        c.tls_cert = Some(cert);
        c.tls_key = Some(key);
    })
    .await;
    let port = app.addr.port();
    assert!(trusted(&der, port).await, "HTTPS with the certificate");

    let (res, framed) = client(&der)
        .ws(format!("wss://localhost:{port}/ws"))
        .set_header("Origin", format!("https://localhost:{port}"))
        .connect()
        .await
        .expect("a wss:// connection");
    assert_eq!(res.status().as_u16(), 101);
    let mut ws = WsClient { framed };
    ws.send(json!({"type": "register", "sessionId": uid("tls")}))
        .await;
    assert_eq!(ws.recv().await["type"], "registered");
    ws.send(json!({"type": "customer_message", "message": "over TLS"}))
        .await;
    assert_eq!(ws.recv_type("message_ack").await["type"], "message_ack");

    // Plain HTTP on the TLS port gets no answer.
    let plain = awc::Client::new()
        .get(format!("http://127.0.0.1:{port}/health/live"))
        .timeout(Duration::from_secs(3))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered");
}

#[actix_web::test]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let (cert, key, first) = self_signed(dir.path());
    let app = spawn_with(|c| {
        c.tls_cert = Some(cert.clone());
        c.tls_key = Some(key.clone());
    })
    .await;
    let port = app.addr.port();
    assert!(trusted(&first, port).await);

    // A broken renewal is refused, and the certificate in use stays.
    std::fs::write(&key, "not a key").expect("write");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(trusted(&first, port).await, "kept after a bad key");

    // A good one is served within a few seconds of the files changing.
    let second = self_signed(dir.path()).2;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !trusted(&second, port).await {
        assert!(
            Instant::now() < deadline,
            "the new certificate is not served"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!trusted(&first, port).await, "the old certificate is gone");
}

/// The real binary, with the files' times kept, so only the signal can tell it.
#[actix_web::test]
async fn sighup_makes_the_binary_read_its_certificate_again() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let (cert, key, first) = self_signed(dir.path());
    let data = dir.path().join("data").to_string_lossy().into_owned();
    let (cert_env, key_env) = (cert.to_string_lossy(), key.to_string_lossy());
    let server = Binary::start(&[
        ("DATA_DIR", &data),
        ("TLS_CERT", &cert_env),
        ("TLS_KEY", &key_env),
    ])
    .await;
    assert!(server
        .lines()
        .iter()
        .any(|l| l.contains("listening on https://")));
    let port: u16 = server
        .addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    assert!(trusted(&first, port).await);

    let times: Vec<_> = [&cert, &key]
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .and_then(|m| m.modified())
                .expect("mtime")
        })
        .collect();
    let second = self_signed(dir.path()).2;
    for (path, time) in [&cert, &key].iter().zip(&times) {
        let file = std::fs::File::options()
            .write(true)
            .open(path)
            .expect("open");
        file.set_modified(*time).expect("keep the time");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        trusted(&first, port).await,
        "nothing reloaded before the signal"
    );
    server.signal("HUP");
    server
        .wait_line("TLS certificate reloaded (SIGHUP)", Duration::from_secs(5))
        .await;
    assert!(trusted(&second, port).await);
}

#[actix_web::test]
async fn bad_tls_settings_stop_the_start_with_a_clear_error() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let (cert, key, _) = self_signed(dir.path());
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "hello").expect("write");
    let cases: [(Option<PathBuf>, Option<PathBuf>, &str); 3] = [
        (Some(cert.clone()), None, "TLS_CERT and TLS_KEY go together"),
        (
            Some(garbage.clone()),
            Some(key.clone()),
            "no certificate in it",
        ),
        (Some(cert.clone()), Some(garbage), "TLS_KEY"),
    ];
    for (tls_cert, tls_key, want) in cases {
        let data = tempfile::TempDir::new().expect("temp dir");
        let mut config = test_config(&data);
        config.tls_cert = tls_cert;
        config.tls_key = tls_key;
        let e = switchboard::startup::start(config)
            .err()
            .expect("the start is refused")
            .to_string();
        assert!(e.contains(want), "{e}");
    }
}
