//! The storage layer on its own: batches, savepoints, and names from tokens.

use serde_json::json;
use switchboard::db::reads::guest_exists;
use switchboard::db::writes::{apply_batch, AnyWrite};
use switchboard::db::{build_pool, run_migrations, DbSettings};
use switchboard::domain::writes::IssueGuest;

use crate::helpers::*;

#[test]
fn a_failing_write_does_not_undo_its_batch() {
    let data = tempfile::TempDir::new().unwrap();
    let url = test_config(&data).database_url();
    let settings = DbSettings::for_url(&url);
    run_migrations(&settings).unwrap();
    let pool = build_pool(&settings, Default::default(), Default::default()).unwrap();
    let mut conn = pool.get().unwrap();
    let (a, b) = (uid("guest_a"), uid("guest_b"));
    // The second insert of `a` violates the primary key: a database error, not a rule.
    let issue = |id: &String| -> Box<dyn AnyWrite> { Box::new(IssueGuest { id: id.clone() }) };
    let writes = [issue(&a), issue(&a), issue(&b)];
    let results = apply_batch(&mut conn, &writes).unwrap();
    assert!(results[0].is_ok());
    assert_eq!(results[1].as_ref().unwrap_err().code(), "internal");
    assert!(results[2].is_ok());
    assert!(guest_exists(&mut conn, &a).unwrap());
    assert!(guest_exists(&mut conn, &b).unwrap());
}

#[actix_web::test]
async fn names_from_tokens_are_cleaned_and_default_to_customer() {
    let app = spawn_app().await;
    let mut staff = app.staff("agent", "agent").await;
    // A name with a NUL byte (which PostgreSQL text cannot hold) and one with none.
    let nul = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "u-nul", "role": "customer", "name": "Eve\u{0}lyn", "exp": chrono::Utc::now().timestamp() + 600}),
        &jsonwebtoken::EncodingKey::from_secret(b"test-secret-with-enough-entropy-1234567890"),
    )
    .unwrap();
    let nameless = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "u-anon", "role": "customer", "exp": chrono::Utc::now().timestamp() + 600}),
        &jsonwebtoken::EncodingKey::from_secret(b"test-secret-with-enough-entropy-1234567890"),
    )
    .unwrap();
    let body = json!({"sessionId": uid("s"), "message": "hi"});
    assert_eq!(
        app.post_json("/api/chat/send-to-staff", &body, Some(&nul))
            .await
            .0,
        200
    );
    assert_eq!(
        staff.recv_type("customer_message").await["customerName"],
        "Evelyn"
    );
    let body = json!({"sessionId": uid("s"), "message": "hi"});
    assert_eq!(
        app.post_json("/api/chat/send-to-staff", &body, Some(&nameless))
            .await
            .0,
        200
    );
    assert_eq!(
        staff.recv_type("customer_message").await["customerName"],
        "Customer"
    );
}
