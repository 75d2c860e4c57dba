//! `GET /health`: whether the database is up (as the health probe last found it, so
//! the answer never waits behind the pool or the writer), connection counts, version,
//! and in cluster mode the nodes this one sees and whether Redis and pub/sub work.
//! `GET /health/live` (the process answers) and `GET /health/ready` (it can serve:
//! the database and, in cluster mode, Redis and pub/sub) are the two probes an
//! orchestrator or a load balancer asks.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::openapi::seeds::{Health, Live, Ready};
use crate::actors::chat_server::GetStats;
use crate::actors::cluster::GetClusterStatus;
use crate::actors::db_sync::GetWriterStats;
use crate::state::AppState;

/// The actors answer these at once; a busy one must not hold up the health check.
const STATS_WAIT: Duration = Duration::from_millis(300);

/// `GET /health/live`: the process answers.
#[utoipa::path(get, path = "/health/live", tag = "operations", responses((status = 200, description = "The process answers", body = Live)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "live"}))
}

/// `GET /health/ready`: 200 when the database is up and, in cluster mode, Redis is
/// reachable and pub/sub delivers; else 503, with what is not.
#[utoipa::path(get, path = "/health/ready", tag = "operations", responses((status = 200, description = "Ready to serve", body = Ready),
    (status = 503, description = "Not ready: what is not", body = Ready)))]
pub async fn ready(state: web::Data<Arc<AppState>>) -> HttpResponse {
    let database = state.db.health.snapshot().up();
    let cluster = cluster_status(&state).await;
    let cluster_ok = state.cluster.is_none() || cluster.as_ref().is_some_and(|c| c.healthy());
    // A server shutting down takes no new clients.
    let draining = state.drain.draining();
    let ready = database && cluster_ok && !draining;
    let status = match (ready, draining) {
        (true, _) => "ready",
        (false, true) => "draining",
        (false, false) => "not ready",
    };
    let body = json!({
        "status": status,
        "database": if database { "ok" } else { "down" },
        "redis": cluster.as_ref().map(|c| c.redis),
        "pubsub": cluster.as_ref().map(|c| c.pubsub),
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Cluster mode: what the cluster actor says (`None` without one, or if it is busy).
async fn cluster_status(state: &AppState) -> Option<crate::actors::cluster::ClusterStatus> {
    let cluster = state.cluster.as_ref()?;
    tokio::time::timeout(STATS_WAIT, cluster.send(GetClusterStatus))
        .await
        .ok()?
        .ok()
}

#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, description = "Up", body = Health),
    (status = 503, description = "The database is down", body = Health)))]
pub async fn health(state: web::Data<Arc<AppState>>) -> HttpResponse {
    let db = state.db.health.snapshot();
    let (stats, writes, cluster) = futures_util::join!(
        tokio::time::timeout(STATS_WAIT, state.chat.send(GetStats)),
        tokio::time::timeout(STATS_WAIT, state.db.writer.send(GetWriterStats)),
        cluster_status(&state),
    );
    let up = db.up();
    // Without Redis a node still serves its own connections: degraded, not down.
    let cluster_ok = state.cluster.is_none() || cluster.as_ref().is_some_and(|c| c.healthy());
    let body = json!({
        "status": if up && cluster_ok { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeSeconds": state.started.elapsed().as_secs(),
        "database": if up { "ok" } else { "down" },
        "databaseStatus": {
            "reachable": db.reachable,
            "writable": db.writable,
            "error": db.error,
            "downSeconds": db.down_for.map(|d| d.as_secs_f64()),
            "checkedMsAgo": db.last_check.map(|d| d.as_millis() as u64),
        },
        "connections": stats.ok().and_then(Result::ok),
        "groupCommit": writes.ok().and_then(Result::ok),
        "cluster": cluster,
    });
    if up {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((
                actix_web::http::header::RETRY_AFTER,
                crate::error::RETRY_AFTER_SECS,
            ))
            .json(body)
    }
}
