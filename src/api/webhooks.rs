//! `/api/admin/webhooks`: admins manage where events go. The secret is shown twice
//! only: when an endpoint is made, and when it is rotated (the previous secret's
//! signature is sent beside the new one's for a day, so receivers can switch over).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::openapi::schemas::{Data, Done, ErrorBody};
use super::RequestCaller;
use crate::db::reads;
use crate::domain::webhook::{self, Endpoint, WithSecret};
use crate::domain::writes::{CreateEndpoint, DeleteEndpoint, ReplayDeliveries, UpdateEndpoint};
use crate::error::AppError;
use crate::state::AppState;

/// How long a rotated-out secret still signs.
const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

/// Whether webhooks may go to private addresses (`ALLOW_PRIVATE_WEBHOOKS`).
#[derive(Debug, Clone, Copy)]
pub struct WebhookSettings {
    pub allow_private: bool,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/admin/webhooks")
            .route("", web::get().to(list))
            .route("", web::post().to(create))
            .route("/{id}", web::get().to(show))
            .route("/{id}", web::patch().to(update))
            .route("/{id}", web::delete().to(delete))
            .route("/{id}/rotate-secret", web::post().to(rotate))
            .route("/{id}/test", web::post().to(test))
            .route("/{id}/deliveries", web::get().to(deliveries))
            .route("/{id}/deliveries/{pos}/replay", web::post().to(replay_one))
            .route("/{id}/replay", web::post().to(replay_range)),
    );
}

fn not_found() -> AppError {
    AppError::not_found("Webhook endpoint not found")
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewEndpoint {
    url: String,
    events: Vec<String>,
    #[serde(default)]
    description: String,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

fn description(d: &str) -> Result<String, AppError> {
    if d.chars().count() > 500 {
        return Err(AppError::validation(
            "description is longer than 500 characters",
        ));
    }
    Ok(d.trim().to_owned())
}

#[utoipa::path(post, path = "/api/admin/webhooks", tag = "admin", security(("jwt" = [])),
    request_body = NewEndpoint,
    responses((status = 201, description = "Made; `secret` is shown this once", body = Data<WithSecret>),
        (status = 422, description = "A bad or refused URL, or unknown events", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn create(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
    settings: web::Data<WebhookSettings>,
    body: web::Json<NewEndpoint>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let body = body.into_inner();
    crate::webhook_target::check_url(&body.url, settings.allow_private).await?;
    let secret = webhook::new_secret();
    let write = CreateEndpoint {
        id: format!("ep_{}", uuid::Uuid::new_v4().simple()),
        url: body.url,
        description: description(&body.description)?,
        events: webhook::events(&body.events)?,
        secret: secret.clone(),
        enabled: body.enabled,
    };
    let data = WithSecret {
        endpoint: state.db.write(write).await?.into(),
        secret,
    };
    Ok(HttpResponse::Created().json(json!({"success": true, "data": data})))
}

#[utoipa::path(get, path = "/api/admin/webhooks", tag = "admin", security(("jwt" = [])),
    responses((status = 200, description = "Every endpoint, oldest first", body = Data<Vec<Endpoint>>), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn list(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let rows = state.db.query(reads::webhook_endpoints).await?;
    let endpoints: Vec<Endpoint> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": endpoints})))
}

async fn find(state: &AppState, id: String) -> Result<Endpoint, AppError> {
    let row = state
        .db
        .query(move |c| reads::webhook_endpoint(c, &id))
        .await?;
    row.map(Into::into).ok_or_else(not_found)
}

#[utoipa::path(get, path = "/api/admin/webhooks/{id}", tag = "admin", security(("jwt" = [])), params(("id" = String, Path, description = "The endpoint")),
    responses((status = 200, description = "The endpoint", body = Data<Endpoint>), (status = 404, description = "No such endpoint", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn show(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let endpoint = find(&state, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": endpoint})))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Changes {
    url: Option<String>,
    events: Option<Vec<String>>,
    description: Option<String>,
    enabled: Option<bool>,
}

#[utoipa::path(patch, path = "/api/admin/webhooks/{id}", tag = "admin", security(("jwt" = [])), params(("id" = String, Path, description = "The endpoint")),
    request_body = Changes,
    responses((status = 200, description = "As changed", body = Data<Endpoint>), (status = 404, description = "No such endpoint", body = ErrorBody),
        (status = 422, description = "A bad or refused URL, or unknown events", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn update(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
    settings: web::Data<WebhookSettings>,
    id: web::Path<String>,
    body: web::Json<Changes>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let body = body.into_inner();
    if let Some(url) = &body.url {
        crate::webhook_target::check_url(url, settings.allow_private).await?;
    }
    let write = UpdateEndpoint {
        id: id.into_inner(),
        url: body.url,
        description: body.description.as_deref().map(description).transpose()?,
        events: body.events.as_deref().map(webhook::events).transpose()?,
        enabled: body.enabled,
        rotate: None,
    };
    let endpoint: Endpoint = state.db.write(write).await?.ok_or_else(not_found)?.into();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": endpoint})))
}

#[utoipa::path(delete, path = "/api/admin/webhooks/{id}", tag = "admin", security(("jwt" = [])), params(("id" = String, Path, description = "The endpoint")),
    responses((status = 200, description = "Deleted, with its deliveries", body = Done), (status = 404, description = "No such endpoint", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn delete(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let deleted = state
        .db
        .write(DeleteEndpoint {
            id: id.into_inner(),
        })
        .await?;
    if !deleted {
        return Err(not_found());
    }
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

#[utoipa::path(post, path = "/api/admin/webhooks/{id}/rotate-secret", tag = "admin", security(("jwt" = [])), params(("id" = String, Path, description = "The endpoint")),
    responses((status = 200, description = "A new secret (shown this once); the previous one signs too for 24 h", body = Data<WithSecret>), (status = 404, description = "No such endpoint", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn rotate(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let secret = webhook::new_secret();
    let until = crate::domain::message::now_millis() + ROTATION_OVERLAP;
    let write = UpdateEndpoint {
        id: id.into_inner(),
        rotate: Some((secret.clone(), until)),
        ..Default::default()
    };
    let data = WithSecret {
        endpoint: state.db.write(write).await?.ok_or_else(not_found)?.into(),
        secret,
    };
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data})))
}

/// Send a `webhook.test` event now, signed like every other, and say what came back.
#[utoipa::path(post, path = "/api/admin/webhooks/{id}/test", tag = "admin", security(("jwt" = [])), params(("id" = String, Path, description = "The endpoint")),
    responses((status = 200, description = "What the receiver answered to a `webhook.test` event", body = Data<TestResult>), (status = 404, description = "No such endpoint", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn test(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
    settings: web::Data<WebhookSettings>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let endpoint = find(&state, id.into_inner()).await?;
    crate::webhook_target::check_url(&endpoint.url, settings.allow_private).await?;
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let now = chrono::Utc::now();
    let body = json!({
        "id": id,
        "type": webhook::TEST_EVENT,
        "timestamp": now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "data": {"endpointId": endpoint.id},
    })
    .to_string();
    let secrets: Vec<&str> = endpoint.secrets.iter().map(String::as_str).collect();
    let signature = webhook::signature_header(&secrets, &id, now.timestamp(), body.as_bytes())?;
    let attempt = crate::webhook_target::Sender::new(settings.allow_private)
        .send(
            &endpoint.url,
            &id,
            now.timestamp(),
            &signature,
            body.as_bytes(),
        )
        .await;
    let (status, error) = match attempt.outcome {
        Ok(status) => (Some(status), None),
        Err(e) => (None, Some(e)),
    };
    let data = TestResult {
        webhook_id: id,
        delivered: status.is_some_and(|s| (200..300).contains(&s)),
        status,
        error,
        ms: attempt.took.as_millis() as u64,
    };
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data})))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryQuery {
    status: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

const STATUSES: [&str; 3] = ["pending", "delivered", "failed"];

fn status_filter(status: Option<String>) -> Result<Option<String>, AppError> {
    match status {
        Some(s) if !STATUSES.contains(&s.as_str()) => Err(AppError::validation(
            "status must be pending, delivered or failed",
        )),
        s => Ok(s),
    }
}

/// One delivery of one event to the endpoint.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Its place in the outbox: what `before`, `from` and `to` count in.
    pos: i64,
    /// The `webhook-id`.
    event_id: String,
    event_type: String,
    /// pending, delivered or failed.
    status: String,
    attempts: i32,
    /// When the next attempt goes, while pending.
    next_attempt_at: Option<String>,
    /// The receiver's last HTTP status.
    last_status: Option<i32>,
    /// Why the last attempt failed, when it did without a status.
    last_error: Option<String>,
    created_at: String,
    delivered_at: Option<String>,
    /// The event as sent: `{id, type, timestamp, data}`.
    #[schema(value_type = Object)]
    payload: serde_json::Value,
}

impl From<&crate::db::models::DeliveryRow> for Delivery {
    fn from(d: &crate::db::models::DeliveryRow) -> Self {
        use crate::domain::message::iso_timestamp;
        Delivery {
            pos: d.pos,
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            status: d.status.clone(),
            attempts: d.attempts,
            next_attempt_at: (d.status == "pending").then(|| iso_timestamp(d.next_attempt_at)),
            last_status: d.last_status,
            last_error: d.last_error.clone(),
            created_at: iso_timestamp(d.created_at),
            delivered_at: d.delivered_at.map(iso_timestamp),
            payload: serde_json::from_str(&d.payload).unwrap_or_default(),
        }
    }
}

/// A page of deliveries; `nextBefore` asks for older ones (null at the end).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPage {
    success: bool,
    data: Vec<Delivery>,
    next_before: Option<i64>,
}

/// How many deliveries a replay made due again.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Replayed {
    replayed: usize,
}

/// What the receiver made of a test event.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// The `webhook-id` sent.
    webhook_id: String,
    /// A 2xx came back.
    delivered: bool,
    /// The receiver's HTTP status, if it answered.
    status: Option<u16>,
    /// Why there was no answer, if there was none.
    error: Option<String>,
    ms: u64,
}

/// `GET /api/admin/webhooks/{id}/deliveries?status=&before=&limit=`: newest first;
/// `nextBefore` pages on.
#[utoipa::path(get, path = "/api/admin/webhooks/{id}/deliveries", tag = "admin", security(("jwt" = [])),
    params(("id" = String, Path, description = "The endpoint"), DeliveryQuery),
    responses((status = 200, description = "Deliveries, newest first", body = DeliveryPage), (status = 404, description = "No such endpoint", body = ErrorBody),
        (status = 422, description = "A bad status filter", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn deliveries(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
    id: web::Path<String>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let id = id.into_inner();
    find(&state, id.clone()).await?;
    let q = query.into_inner();
    let status = status_filter(q.status)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let before = q.before;
    let rows = state
        .db
        .query(move |c| reads::webhook_deliveries(c, &id, status.as_deref(), before, limit))
        .await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|d| d.pos))
        .flatten();
    Ok(HttpResponse::Ok().json(DeliveryPage {
        success: true,
        data: rows.iter().map(Delivery::from).collect(),
        next_before: next,
    }))
}

/// Replay what `write` chooses: how many.
async fn replay(state: &AppState, write: ReplayDeliveries) -> Result<usize, AppError> {
    find(state, write.endpoint_id.clone()).await?;
    state.db.write(write).await
}

fn replayed(n: usize) -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "data": Replayed { replayed: n }}))
}

/// `POST /api/admin/webhooks/{id}/deliveries/{pos}/replay`.
#[utoipa::path(post, path = "/api/admin/webhooks/{id}/deliveries/{pos}/replay", tag = "admin", security(("jwt" = [])),
    params(("id" = String, Path, description = "The endpoint"), ("pos" = i64, Path, description = "The delivery")),
    responses((status = 200, description = "Due again now", body = Data<Replayed>),
        (status = 404, description = "No such endpoint or delivery", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn replay_one(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let (endpoint_id, pos) = path.into_inner();
    let write = ReplayDeliveries {
        endpoint_id,
        pos: Some(pos),
        ..Default::default()
    };
    match replay(&state, write).await? {
        0 => Err(AppError::not_found("Delivery not found")),
        n => Ok(replayed(n)),
    }
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Range {
    from: Option<i64>,
    to: Option<i64>,
    status: Option<String>,
}

/// `POST /api/admin/webhooks/{id}/replay {from?, to?, status?}`: a range of
/// deliveries (by `pos`), all of them without bounds.
#[utoipa::path(post, path = "/api/admin/webhooks/{id}/replay", tag = "admin", security(("jwt" = [])), params(("id" = String, Path, description = "The endpoint")),
    request_body = Range,
    responses((status = 200, description = "How many are due again", body = Data<Replayed>), (status = 404, description = "No such endpoint", body = ErrorBody),
        (status = 422, description = "A bad range or status", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn replay_range(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
    id: web::Path<String>,
    body: super::OptionalJson<Range>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let range = body.0;
    let write = ReplayDeliveries {
        endpoint_id: id.into_inner(),
        pos: None,
        from: range.from,
        to: range.to,
        status: status_filter(range.status)?,
    };
    Ok(replayed(replay(&state, write).await?))
}
