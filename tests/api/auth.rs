//! JWT verification: both claim shapes, and every kind of bad token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::*;

const SECRET: &[u8] = b"test-secret-with-enough-entropy-1234567890";

fn sign(alg: Algorithm, secret: &[u8], claims: &Value) -> String {
    encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn in_an_hour() -> i64 {
    chrono::Utc::now().timestamp() + 3600
}

#[actix_web::test]
async fn accepts_seed_000_and_standard_claim_shapes() {
    let app = spawn_app().await;
    let seed = sign(
        Algorithm::HS256,
        SECRET,
        &json!({"user": {"id": "u-seed", "role": "staff", "username": "Seedy"}, "exp": in_an_hour()}),
    );
    let std = sign(
        Algorithm::HS256,
        SECRET,
        &json!({"sub": "u-std", "role": "agent", "name": "Standard", "exp": in_an_hour()}),
    );
    let numeric = sign(
        Algorithm::HS256,
        SECRET,
        &json!({"user": {"id": 42, "role": "admin"}, "exp": in_an_hour()}),
    );
    // A token whose `nbf` has passed (or lies within the 5 s leeway) is good.
    let started = sign(
        Algorithm::HS256,
        SECRET,
        &json!({"sub": "u-nbf", "role": "agent", "exp": in_an_hour(), "nbf": chrono::Utc::now().timestamp() + 2}),
    );
    for (token, id) in [
        (seed, "u-seed"),
        (std, "u-std"),
        (numeric, "42"),
        (started, "u-nbf"),
    ] {
        let mut c = app.ws().await;
        c.send(json!({"type": "register_admin", "userId": id, "token": token}))
            .await;
        assert_eq!(c.recv_type("admin_registered").await["userId"], id);
    }
}

#[actix_web::test]
async fn register_admin_refuses_bad_tokens_and_roles() {
    let app = spawn_app().await;
    let expired = sign(
        Algorithm::HS256,
        SECRET,
        &json!({"sub": "a", "role": "admin", "exp": chrono::Utc::now().timestamp() - 600}),
    );
    let wrong_key = sign(
        Algorithm::HS256,
        b"some-other-secret",
        &json!({"sub": "a", "role": "admin", "exp": in_an_hour()}),
    );
    let other_alg = sign(
        Algorithm::HS384,
        SECRET,
        &json!({"sub": "a", "role": "admin", "exp": in_an_hour()}),
    );
    let no_exp = sign(
        Algorithm::HS256,
        SECRET,
        &json!({"sub": "a", "role": "admin"}),
    );
    let not_yet_valid = sign(
        Algorithm::HS256,
        SECRET,
        &json!({"sub": "a", "role": "admin", "exp": in_an_hour(), "nbf": in_an_hour() - 60}),
    );
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD
        .encode(json!({"sub": "a", "role": "admin", "exp": in_an_hour()}).to_string());
    let alg_none = format!("{header}.{payload}.");

    let mut c = app.ws().await;
    for bad in [
        expired,
        wrong_key,
        other_alg,
        no_exp,
        not_yet_valid,
        alg_none,
        "garbage".to_owned(),
    ] {
        c.send(json!({"type": "register_admin", "userId": "a", "token": bad}))
            .await;
        let e = c.expect_error("Authentication failed").await;
        assert_eq!(e["code"], "authentication_failed");
    }
    c.send(json!({"type": "register_admin", "userId": "a"}))
        .await;
    c.expect_error("Token required").await;
    c.send(json!({"type": "register_admin", "userId": "a", "token": ""}))
        .await;
    c.expect_error("Token required").await;
    // A valid token without a staff role.
    c.send(
        json!({"type": "register_admin", "userId": "cust", "token": app.token("cust", "customer")}),
    )
    .await;
    c.expect_error("Insufficient permissions").await;
    // A userId that is not the token's.
    c.send(json!({"type": "register_admin", "userId": "someone-else", "token": app.token("a", "admin")})).await;
    c.expect_error("userId does not match the token").await;
    // None of that registered the connection.
    c.send(json!({"type": "staff_message", "sessionId": "x", "content": "y"}))
        .await;
    c.expect_error("Not registered").await;
}

#[actix_web::test]
async fn invalid_customer_token_falls_back_to_anonymous() {
    let app = spawn_app().await;
    let session = uid("sess");
    let mut staff = app.staff("agent", "agent").await;
    let mut c = app.ws().await;
    c.send(json!({"type": "register", "sessionId": session, "token": "not-a-jwt"}))
        .await;
    assert_eq!(
        c.recv_type("registered").await["sessionId"],
        session.as_str()
    );
    c.send(json!({"type": "customer_message", "message": "anon"}))
        .await;
    c.recv_type("message_ack").await;
    let m = staff.recv_type("customer_message").await;
    assert_eq!(m["customerName"], "Customer");
    assert_eq!(m["senderType"], "guest");
}

#[actix_web::test]
async fn rest_refuses_an_invalid_bearer_token() {
    let app = spawn_app().await;
    let (status, body) = app
        .post_json(
            "/api/chat/send-to-staff",
            &json!({"sessionId": uid("s"), "message": "x"}),
            Some("bad.token.here"),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"success": false, "message": "Authentication failed", "code": "authentication_failed"})
    );
}

#[test]
fn token_subcommand_mints_a_verifiable_token() {
    let dir = tempfile::TempDir::new().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "token",
            "--role",
            "admin",
            "--user-id",
            "alice",
            "--name",
            "Alice",
            "--ttl",
            "12h",
        ])
        .env("DATA_DIR", dir.path())
        .env_remove("JWT_SECRET")
        .output()
        .expect("run switchboard token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    // The secret was generated into the data dir with mode 0600, and verifies the token.
    let secret_path = dir.path().join("jwt_secret");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&secret_path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let secret = std::fs::read_to_string(secret_path).unwrap();
    let identity = switchboard::auth::JwtKeys::new(secret.trim().as_bytes())
        .verify(token.trim())
        .unwrap();
    assert_eq!(identity.user_id, "alice");
    assert_eq!(identity.name.as_deref(), Some("Alice"));
    assert!(identity.is_admin());
    // Seed 000's frontend reads `user.id` from the payload.
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.trim().split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["user"]["id"], "alice");
    assert_eq!(payload["sub"], "alice");
}

#[actix_web::test]
async fn bad_tokens_grant_nothing_on_rest_or_customer_register() {
    let app = spawn_app().await;
    let session = uid("sess");
    let alice = app.token("alice", "customer");
    let body = json!({"sessionId": session, "message": "alice's"});
    assert_eq!(
        app.post_json("/api/chat/send-to-staff", &body, Some(&alice))
            .await
            .0,
        200
    );

    let expired = sign(
        Algorithm::HS256,
        SECRET,
        &json!({"sub": "alice", "role": "customer", "exp": chrono::Utc::now().timestamp() - 600}),
    );
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD
        .encode(json!({"sub": "alice", "role": "admin", "exp": in_an_hour()}).to_string());
    let alg_none = format!("{header}.{payload}.");
    let not_yet_valid = sign(
        Algorithm::HS256,
        SECRET,
        &json!({"sub": "alice", "role": "customer", "exp": in_an_hour(), "nbf": in_an_hour() - 60}),
    );
    for bad in [&expired, &alg_none, &not_yet_valid] {
        let path = format!("/api/chat/sessions/{session}/messages");
        let (status, body) = app.get_json(&path, Some(bad)).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (401, Some("Authentication failed"))
        );
        // On register a bad token falls back to anonymous, which cannot enter Alice's session.
        let mut c = app.ws().await;
        c.send(json!({"type": "register", "sessionId": session, "token": bad}))
            .await;
        c.expect_error("Access denied to this conversation").await;
    }
}
