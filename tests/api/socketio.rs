//! Socket.IO compatibility, tested with the real `socket.io-client` from npm: each
//! test starts the real server and runs one file of `tests/socketio/` against it with
//! Node's built-in test runner.

use std::time::Duration;

use crate::helpers::{spawn_with, TestApp};
use crate::node;

async fn run_node(file: &'static str, app: &TestApp, strict: Option<&TestApp>) {
    let extra: Vec<(&str, String)> = strict
        .map(|s| vec![("SB_STRICT_URL", s.url(""))])
        .unwrap_or_default();
    node::run("socketio", file, app, extra).await;
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
async fn team_desk_notes_and_labels_reach_no_seed_dialect() {
    let app = spawn_with(|_| {}).await;
    run_node("desk.test.js", &app, None).await;
}

#[actix_web::test]
async fn token_expiry_nbf_and_credential_types_on_every_dialect() {
    let app = spawn_with(|_| {}).await;
    run_node("tokens.test.js", &app, None).await;
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

#[actix_web::test]
async fn a_server_api_bot_message_reaches_every_surface_once() {
    let app = spawn_with(|_| {}).await;
    run_node("server_api.test.js", &app, None).await;
}
