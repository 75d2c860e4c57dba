//! The live chat's standing rules over REST (staff): bans and timeouts, moderators,
//! blocked terms, and the moderation log. They outlast one stream, so they need none
//! to be live; every change reaches every node and is logged with who made it.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::openapi::schemas::{Data, Done, ErrorBody};
use super::RequestCaller;
use crate::actors::live_stream::{ChangeRules, GetRules, RuleCmd, RulesView, Target};
use crate::db::reads;
use crate::domain::moderation::{Ban, LogEntry, Moderator, RuleChange};
use crate::error::AppError;
use crate::state::AppState;

type State = web::Data<Arc<AppState>>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/live")
            .route("/bans", web::get().to(bans))
            .route("/bans/{userId}", web::put().to(ban))
            .route("/bans/{userId}", web::delete().to(lift))
            .route("/moderators", web::get().to(moderators))
            .route("/moderators/{userId}", web::put().to(add_moderator))
            .route("/moderators/{userId}", web::delete().to(remove_moderator))
            .route("/blocked-terms", web::get().to(blocked_terms))
            .route("/blocked-terms", web::put().to(set_blocked_terms))
            .route("/moderation-log", web::get().to(moderation_log)),
    );
}

async fn rules(state: &State, caller: RequestCaller) -> Result<RulesView, AppError> {
    let caller = caller.staff()?;
    state.live.send(GetRules { caller }).await?
}

async fn change(
    state: &State,
    caller: RequestCaller,
    cmd: RuleCmd,
) -> Result<RuleChange, AppError> {
    let caller = caller.staff()?;
    let actor = caller.user_id().map(str::to_owned);
    let msg = ChangeRules { caller, actor, cmd };
    state.live.send(msg).await?
}

/// `GET /api/live/bans` (staff): bans and timeouts in force, newest first.
#[utoipa::path(get, path = "/api/live/bans", tag = "live moderation", security(("jwt" = [])),
    responses((status = 200, description = "Bans and timeouts in force, newest first", body = Data<Vec<Ban>>),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn bans(state: State, caller: RequestCaller) -> Result<HttpResponse, AppError> {
    let data = rules(&state, caller).await?.bans;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BanBody {
    /// A timeout of this many seconds (1 s to 7 days); without it, a ban until lifted.
    duration_seconds: Option<u64>,
    reason: Option<String>,
    /// The name to list them under (else their id).
    name: Option<String>,
}

/// `PUT /api/live/bans/{userId}` (staff): time out or ban a viewer by the id their
/// lines are written as (user id, else guest id, else session id). They still watch;
/// each of their connections gets `chat_banned` once.
#[utoipa::path(put, path = "/api/live/bans/{userId}", tag = "live moderation", security(("jwt" = [])),
    params(("userId" = String, Path, description = "The viewer: user id, else guest id, else session id")),
    request_body = BanBody,
    responses((status = 200, description = "Banned or timed out", body = Data<Ban>),
        (status = 422, description = "A bad body", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn ban(
    state: State,
    caller: RequestCaller,
    user_id: web::Path<String>,
    body: web::Json<BanBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let target = Target::from_fields(None, Some(user_id.into_inner()), b.name)?;
    let reason = b.reason.unwrap_or_default();
    let cmd = match b.duration_seconds {
        Some(seconds) => RuleCmd::Timeout {
            target,
            seconds,
            reason,
        },
        None => RuleCmd::Ban { target, reason },
    };
    match change(&state, caller, cmd).await? {
        RuleChange::Ban(ban) => Ok(HttpResponse::Ok().json(json!({"success": true, "data": ban}))),
        _ => Err(AppError::internal()),
    }
}

/// `DELETE /api/live/bans/{userId}` (staff): lift a ban or timeout; their connections
/// get `chat_ban_lifted`.
#[utoipa::path(delete, path = "/api/live/bans/{userId}", tag = "live moderation", security(("jwt" = [])),
    params(("userId" = String, Path, description = "The viewer")),
    responses((status = 200, description = "Lifted", body = Done),
        (status = 404, description = "No ban or timeout on that viewer", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn lift(
    state: State,
    caller: RequestCaller,
    user_id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let cmd = RuleCmd::Lift {
        target: Target::from_fields(None, Some(user_id.into_inner()), None)?,
    };
    change(&state, caller, cmd).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

/// `GET /api/live/moderators` (staff).
#[utoipa::path(get, path = "/api/live/moderators", tag = "live moderation", security(("jwt" = [])),
    responses((status = 200, description = "The moderators, by name", body = Data<Vec<Moderator>>),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn moderators(state: State, caller: RequestCaller) -> Result<HttpResponse, AppError> {
    let data = rules(&state, caller).await?.moderators;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModeratorBody {
    /// The name to list them under (else their id).
    name: Option<String>,
}

/// `PUT /api/live/moderators/{userId}` (staff): make a viewer a moderator; their
/// connections get `chat_role {moderator: true}`.
#[utoipa::path(put, path = "/api/live/moderators/{userId}", tag = "live moderation", security(("jwt" = [])),
    params(("userId" = String, Path, description = "The viewer: user id, else guest id, else session id")),
    request_body = ModeratorBody,
    responses((status = 200, description = "A moderator now", body = Data<Moderator>),
        (status = 422, description = "A bad body", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn add_moderator(
    state: State,
    caller: RequestCaller,
    user_id: web::Path<String>,
    body: web::Json<ModeratorBody>,
) -> Result<HttpResponse, AppError> {
    let target = Target::from_fields(None, Some(user_id.into_inner()), body.into_inner().name)?;
    match change(&state, caller, RuleCmd::AddModerator { target }).await? {
        RuleChange::AddModerator(m) => {
            Ok(HttpResponse::Ok().json(json!({"success": true, "data": m})))
        }
        _ => Err(AppError::internal()),
    }
}

/// `DELETE /api/live/moderators/{userId}` (staff).
#[utoipa::path(delete, path = "/api/live/moderators/{userId}", tag = "live moderation", security(("jwt" = [])),
    params(("userId" = String, Path, description = "The moderator")),
    responses((status = 200, description = "No longer a moderator", body = Done),
        (status = 404, description = "Not a moderator", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn remove_moderator(
    state: State,
    caller: RequestCaller,
    user_id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let cmd = RuleCmd::RemoveModerator {
        user_id: user_id.into_inner(),
    };
    change(&state, caller, cmd).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

/// `GET /api/live/blocked-terms` (staff).
#[utoipa::path(get, path = "/api/live/blocked-terms", tag = "live moderation", security(("jwt" = [])),
    responses((status = 200, description = "The blocked terms, sorted", body = Data<Vec<String>>),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn blocked_terms(state: State, caller: RequestCaller) -> Result<HttpResponse, AppError> {
    let data = rules(&state, caller).await?.blocked_terms;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TermsBody {
    /// Words or phrases, up to 500 of up to 60 characters; `*` stands for letters
    /// within a word (`scam*`).
    terms: Vec<String>,
}

/// `PUT /api/live/blocked-terms` (staff): the whole list. A line containing one (in
/// any case, as a whole word, look-alike spellings included) is refused for its
/// author and never shown.
#[utoipa::path(put, path = "/api/live/blocked-terms", tag = "live moderation", security(("jwt" = [])),
    request_body = TermsBody,
    responses((status = 200, description = "The list now, as matched (lower case, sorted)", body = Data<Vec<String>>),
        (status = 422, description = "A bad term", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn set_blocked_terms(
    state: State,
    caller: RequestCaller,
    body: web::Json<TermsBody>,
) -> Result<HttpResponse, AppError> {
    let cmd = RuleCmd::BlockedTerms {
        terms: body.into_inner().terms,
    };
    match change(&state, caller, cmd).await? {
        RuleChange::BlockedTerms(terms) => {
            Ok(HttpResponse::Ok().json(json!({"success": true, "data": terms})))
        }
        _ => Err(AppError::internal()),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// At most this many entries (1 to 500, default 100).
    limit: Option<i64>,
}

/// `GET /api/live/moderation-log` (staff): every moderation action with who took it,
/// newest first.
#[utoipa::path(get, path = "/api/live/moderation-log", tag = "live moderation", security(("jwt" = [])),
    params(LogQuery),
    responses((status = 200, description = "Moderation actions, newest first", body = Data<Vec<LogEntry>>),
        (status = 422, description = "A bad limit", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn moderation_log(
    state: State,
    caller: RequestCaller,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, AppError> {
    caller.staff()?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::validation("limit must be between 1 and 500"));
    }
    let data = state
        .db
        .query(move |c| reads::moderation_log(c, limit))
        .await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data})))
}
