//! `GET /health`, `/health/live`, `/health/ready`.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn live_and_ready_probes() {
    let app = spawn_app().await;
    assert_eq!(
        app.get_json("/health/live", None).await,
        (200, json!({"status": "live"}))
    );
    let (status, ready) = app.get_json("/health/ready", None).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(
        ready,
        json!({"status": "ready", "database": "ok", "redis": null, "pubsub": null})
    );
}

#[actix_web::test]
async fn health_reports_database_connections_and_version() {
    let app = spawn_app().await;
    let _staff = app.staff("agent", "agent").await;
    let _c1 = app.customer(&uid("s"), None).await;
    let (status, body) = app.get_json("/health", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["connections"]["connections"], 2);
    assert_eq!(body["connections"]["staffConnections"], 1);
    assert_eq!(body["connections"]["customerConnections"], 1);
}

#[actix_web::test]
async fn concurrent_writes_share_transactions() {
    let app = spawn_app().await;
    let posts = (0..100).map(|i| {
        let app = &app;
        async move {
            let body = serde_json::json!({"sessionId": uid(&format!("gc{i}")), "message": "hello"});
            app.post_json("/api/chat/send-to-staff", &body, None)
                .await
                .0
        }
    });
    let statuses = futures::future::join_all(posts).await;
    assert!(statuses.iter().all(|s| *s == 200));
    let (_, body) = app.get_json("/health", None).await;
    let gc = &body["groupCommit"];
    assert_eq!(gc["writes"], 100);
    // Group commit: writes that queued while a transaction was in flight went into the next one.
    assert!(gc["batches"].as_u64().unwrap() < 100, "{gc}");
    assert!(gc["largestBatch"].as_u64().unwrap() > 1, "{gc}");
}
