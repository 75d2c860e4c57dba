//! Socket.IO compatibility, tested with the real `socket.io-client` from npm: each
//! test starts the real server and runs one file of `tests/socketio/` against it with
//! Node's built-in test runner. `npm ci` runs first if `node_modules` is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use crate::helpers::{spawn_with, TestApp};

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/socketio")
}

static NPM: Mutex<()> = Mutex::new(());

/// Install the pinned client once (tests run in parallel).
fn ensure_node_modules() {
    let _guard = NPM.lock().unwrap_or_else(|e| e.into_inner());
    let dir = suite_dir();
    if dir.join("node_modules/socket.io-client").is_dir() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("npm must be installed to run the Socket.IO tests");
    assert!(status.success(), "npm ci in tests/socketio failed");
}

/// Run one test file against `app` (and `strict`, a server with tight Engine.IO limits).
async fn run_node(file: &'static str, app: &TestApp, strict: Option<&TestApp>) {
    let url = app.url("");
    let strict_url = strict.map(|s| s.url(""));
    let data_dir = app.config.data_dir.clone();
    let secret = app
        .config
        .jwt_secret
        .clone()
        .expect("test config has a secret");
    let out = actix_web::rt::task::spawn_blocking(move || {
        ensure_node_modules();
        let mut cmd = Command::new("node");
        cmd.args([
            "--test",
            "--test-reporter=spec",
            "--test-timeout=60000",
            "--test-force-exit",
            file,
        ])
        .current_dir(suite_dir())
        .env("SB_URL", url)
        .env("SB_SECRET", secret)
        .env("SB_DATA_DIR", data_dir);
        if let Some(s) = strict_url {
            cmd.env("SB_STRICT_URL", s);
        }
        cmd.output()
            .expect("node must be installed to run the Socket.IO tests")
    })
    .await
    .expect("node runner");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{file} failed:\n{stdout}\n{stderr}");
    // A run that found no tests must not pass.
    let passed: u32 = stdout
        .lines()
        .find_map(|l| l.trim_start_matches(['ℹ', '#', ' ']).strip_prefix("pass "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(passed > 0, "{file} ran no tests:\n{stdout}");
}

#[actix_web::test]
async fn seed_003_support_namespace() {
    let app = spawn_with(|_| {}).await;
    run_node("support.test.js", &app, None).await;
}

#[actix_web::test]
async fn seed_004_session_events() {
    let app = spawn_with(|_| {}).await;
    run_node("session.test.js", &app, None).await;
}

#[actix_web::test]
async fn seed_001_ticket_events() {
    let app = spawn_with(|_| {}).await;
    run_node("ticket.test.js", &app, None).await;
}

#[actix_web::test]
async fn one_conversation_every_surface_and_reconnects() {
    let app = spawn_with(|_| {}).await;
    run_node("cross.test.js", &app, None).await;
}

#[actix_web::test]
async fn engine_io_and_socket_io_protocol() {
    let app = spawn_with(|_| {}).await;
    // The reference server's defaults for payloads, and short timers to test them.
    let strict = spawn_with(|c| {
        c.sio_ping_interval = Duration::from_millis(300);
        c.sio_ping_timeout = Duration::from_millis(200);
        c.sio_max_payload = 1_000_000;
        c.sio_connect_timeout = Duration::from_millis(1000);
    })
    .await;
    run_node("protocol.test.js", &app, Some(&strict)).await;
}
