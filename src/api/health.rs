//! `GET /health`: database reachable, connection counts, version.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::actors::chat_server::GetStats;
use crate::actors::db_sync::GetWriterStats;
use crate::db::queries;
use crate::state::AppState;

pub async fn health(state: web::Data<Arc<AppState>>) -> HttpResponse {
    let db_ok = state.db.query(queries::ping).await.is_ok();
    let stats = state.chat.send(GetStats).await.ok();
    let writes = state.db.writer.send(GetWriterStats).await.ok();
    let body = json!({
        "status": if db_ok { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeSeconds": state.started.elapsed().as_secs(),
        "database": if db_ok { "ok" } else { "unreachable" },
        "connections": stats,
        "groupCommit": writes,
    });
    if db_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
