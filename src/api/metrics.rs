//! `GET /metrics`: the Prometheus exposition. Gauges of what the server looks up
//! (conversations by status, each agent's load, agents online, whether the database
//! is up) are set here, just before the counters and histograms are encoded. With a
//! token configured (`METRICS_TOKEN`), a scrape must bring it as a bearer token.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use sha2::{Digest, Sha256};

use crate::actors::chat_server::GetStats;
use crate::auth::bearer;
use crate::db::reads;
use crate::error::AppError;
use crate::state::AppState;

/// What a scrape needs to bring, if anything.
#[derive(Clone, Default)]
pub struct MetricsAccess {
    /// The token's hash: compared hash to hash, so the time taken says nothing of it.
    token: Option<[u8; 32]>,
}

impl MetricsAccess {
    pub fn new(token: Option<&str>) -> Self {
        MetricsAccess {
            token: token.filter(|t| !t.is_empty()).map(digest),
        }
    }

    fn allows(&self, req: &HttpRequest) -> bool {
        let Some(want) = &self.token else {
            return true;
        };
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        bearer(given).is_some_and(|t| digest(t) == *want)
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A scrape waits this long for the actors and the database, at most: a slow
/// database leaves its gauges as they were, not the scrape hanging.
const LOOKUP_WAIT: Duration = Duration::from_secs(2);

#[utoipa::path(get, path = "/metrics", tag = "operations", security((), ("metricsToken" = [])),
    responses((status = 200, description = "The Prometheus (OpenMetrics) text exposition", content_type = "application/openmetrics-text"),
        (status = 401, description = "METRICS_TOKEN is set and the request did not bring it", body = crate::api::openapi::schemas::ErrorBody)))]
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    access: web::Data<MetricsAccess>,
) -> HttpResponse {
    if !access.allows(&req) {
        let mut res = AppError::token_required()
            .with_detail("GET /metrics needs Authorization: Bearer <METRICS_TOKEN>")
            .error_response();
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
        return res;
    }
    look_up(&state).await;
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}

/// Set the gauges of what is looked up rather than counted.
async fn look_up(state: &AppState) {
    let m = &state.metrics;
    let up = state.db.health.snapshot().up();
    m.db_up.set(i64::from(up));
    let counts = async {
        if !up {
            return;
        }
        let read = state.db.query(|c| {
            let counts = reads::conversation_counts(c)?;
            let load = reads::agent_load(c)?;
            Ok((counts, load))
        });
        match tokio::time::timeout(LOOKUP_WAIT, read).await {
            Ok(Ok((counts, load))) => {
                let counts: Vec<_> = counts.into_iter().map(|(s, n)| (s.as_str(), n)).collect();
                m.set_conversations(&counts);
                m.set_agent_load(&load);
            }
            Ok(Err(e)) => log::warn!("metrics: conversation counts not read: {e}"),
            Err(_) => log::warn!("metrics: conversation counts took too long"),
        }
    };
    let agents = async {
        if let Ok(Ok(stats)) = tokio::time::timeout(LOOKUP_WAIT, state.chat.send(GetStats)).await {
            m.agents_online.set(stats.agents_online as i64);
        }
    };
    futures_util::join!(counts, agents);
}
