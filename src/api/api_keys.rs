//! `/api/admin/api-keys`: admins make keys for the shop's backend (the server API).
//! A key is shown once, in the answer that makes it; only its hash is kept.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::openapi::schemas::{Data, ErrorBody};
use super::RequestCaller;
use crate::db::reads;
use crate::domain::api_key::{self, ApiKey, MadeKey};
use crate::domain::writes::{CreateApiKey, RevokeApiKey};
use crate::error::AppError;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/admin/api-keys")
            .route("", web::get().to(list))
            .route("", web::post().to(create))
            .route("/{id}", web::delete().to(revoke)),
    );
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewKey {
    name: String,
    scopes: Vec<String>,
}

/// `POST`: `{name, scopes}` → the key's details and, this once, `key`.
#[utoipa::path(post, path = "/api/admin/api-keys", tag = "admin", security(("jwt" = [])),
    request_body = NewKey,
    responses((status = 201, description = "Made; `key` is shown this once", body = Data<MadeKey>),
        (status = 422, description = "A bad name or scope", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn create(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
    body: web::Json<NewKey>,
) -> Result<HttpResponse, AppError> {
    let admin = caller.admin()?;
    let body = body.into_inner();
    let made = api_key::new_key();
    let write = CreateApiKey {
        id: format!("key_{}", uuid::Uuid::new_v4().simple()),
        name: api_key::name("name", &body.name)?,
        prefix: made.prefix,
        hash: made.hash,
        scopes: api_key::scopes(&body.scopes)?,
        created_by: admin.user_id().unwrap_or_default().to_owned(),
    };
    let made = MadeKey {
        details: state.db.write(write).await?.into(),
        key: made.key,
    };
    Ok(HttpResponse::Created().json(json!({"success": true, "data": made})))
}

/// `GET`: every key, revoked ones too, newest first (never the keys themselves).
#[utoipa::path(get, path = "/api/admin/api-keys", tag = "admin", security(("jwt" = [])),
    responses((status = 200, description = "Every key, newest first", body = Data<Vec<ApiKey>>), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn list(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let rows = state.db.query(reads::api_keys).await?;
    let keys: Vec<ApiKey> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": keys})))
}

/// `DELETE /{id}`: revoke the key; requests with it get 401 from then on.
#[utoipa::path(delete, path = "/api/admin/api-keys/{id}", tag = "admin", security(("jwt" = [])),
    params(("id" = String, Path, description = "The key's id")),
    responses((status = 200, description = "Revoked", body = Data<ApiKey>),
        (status = 404, description = "No such key", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn revoke(
    caller: RequestCaller,
    state: web::Data<Arc<AppState>>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let write = RevokeApiKey {
        id: id.into_inner(),
    };
    let key: ApiKey = state
        .db
        .write(write)
        .await?
        .ok_or_else(|| AppError::not_found("API key not found"))?
        .into();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": key})))
}
