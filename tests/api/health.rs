//! `GET /health`.

use crate::helpers::*;

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
