//! Live streams over REST (seed 002's state; control needs a staff token).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::openapi::schemas::{Data, Done, ErrorBody};
use super::RequestCaller;
use crate::actors::live_stream::{
    GetCurrent, Moderate, ModerateCmd, Pin, PinMessage, PinProducts, StartStream, StopStream,
};
use crate::db::reads;
use crate::domain::message::iso_timestamp;
use crate::domain::stream::{ChatSettings, LiveState, PinnedMessage, PinnedProduct, StreamView};
use crate::error::AppError;
use crate::state::AppState;

type State = web::Data<Arc<AppState>>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/live/streams")
            .route("", web::post().to(start))
            .route("", web::get().to(past))
            .route("/current", web::get().to(current))
            .route("/{id}/stop", web::post().to(stop))
            .route("/{id}/pinned-products", web::put().to(pin))
            .route("/{id}/chat-settings", web::put().to(chat_settings))
            .route("/{id}/pinned-message", web::put().to(pin_message))
            .route("/{id}/pinned-message", web::delete().to(unpin_message)),
    );
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartBody {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    stream_url: String,
    #[serde(default)]
    quality: String,
}

/// `POST /api/live/streams` (staff): start the stream; everyone gets `stream_started`.
#[utoipa::path(post, path = "/api/live/streams", tag = "live (seed 002)", security(("jwt" = [])),
    request_body = StartBody,
    responses((status = 201, description = "Started; everyone gets `stream_started`", body = Data<StreamView>),
        (status = 409, description = "A stream is live already", body = ErrorBody),
        (status = 422, description = "A bad body", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn start(
    state: State,
    caller: RequestCaller,
    body: web::Json<StartBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let view = state
        .live
        .send(StartStream {
            caller: caller.0,
            title: b.title,
            description: b.description,
            stream_url: b.stream_url,
            quality: b.quality,
        })
        .await??;
    Ok(HttpResponse::Created().json(json!({"success": true, "data": view})))
}

/// `POST /api/live/streams/{id}/stop` (staff): everyone gets `stream_stopped`.
#[utoipa::path(post, path = "/api/live/streams/{id}/stop", tag = "live (seed 002)", security(("jwt" = [])),
    params(("id" = String, Path, description = "The stream")),
    responses((status = 200, description = "Stopped, with its final figures", body = Data<PastStream>),
        (status = 404, description = "No such live stream", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn stop(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let row = state
        .live
        .send(StopStream {
            caller: caller.0,
            stream_id: id.into_inner(),
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": PastStream::from(&row)})))
}

/// `PUT /api/live/streams/{id}/pinned-products` (staff) with `[{productId, name, price, image, displayOrder}]`.
#[utoipa::path(put, path = "/api/live/streams/{id}/pinned-products", tag = "live (seed 002)", security(("jwt" = [])),
    params(("id" = String, Path, description = "The stream")),
    request_body = Vec<PinnedProduct>,
    responses((status = 200, description = "The pinned products, by display order", body = Data<Vec<PinnedProduct>>),
        (status = 404, description = "No such live stream", body = ErrorBody),
        (status = 422, description = "A bad body", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn pin(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    body: web::Json<Vec<PinnedProduct>>,
) -> Result<HttpResponse, AppError> {
    let pinned = state
        .live
        .send(PinProducts {
            caller: caller.0,
            stream_id: Some(id.into_inner()),
            products: body.into_inner(),
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": pinned.as_slice()})))
}

/// What staff change of the chat's rules; what is left out stays.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsBody {
    /// One line per this many seconds per viewer, 0 to 3600 (0: off).
    slow_mode_seconds: Option<u64>,
    /// The longest line, 1 to 2000 characters.
    max_chars: Option<u32>,
    /// Lines a viewer may write a minute, 0 to 600 (0: no limit).
    per_minute: Option<u32>,
}

/// `PUT /api/live/streams/{id}/chat-settings` (staff): the stream's chat rules; what
/// is left out stays as it is. Everyone gets `chat_settings`.
#[utoipa::path(put, path = "/api/live/streams/{id}/chat-settings", tag = "live (seed 002)", security(("jwt" = [])),
    params(("id" = String, Path, description = "The live stream")),
    request_body = SettingsBody,
    responses((status = 200, description = "The chat's settings now", body = Data<ChatSettings>),
        (status = 404, description = "No such live stream", body = ErrorBody),
        (status = 409, description = "No stream is live", body = ErrorBody),
        (status = 422, description = "A value out of range", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn chat_settings(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    body: web::Json<SettingsBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let settings = state
        .live
        .send(Moderate {
            caller: caller.staff()?,
            actor: None,
            stream_id: Some(id.into_inner()),
            cmd: ModerateCmd::Settings {
                slow_mode_seconds: b.slow_mode_seconds,
                max_chars: b.max_chars,
                per_minute: b.per_minute,
            },
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": settings})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PinBody {
    /// A line of the recent chat…
    message_id: Option<String>,
    /// …or an announcement.
    message: Option<String>,
    /// How long it stays pinned (else until unpinned), 1 s to 7 days.
    duration_seconds: Option<u64>,
}

/// `PUT /api/live/streams/{id}/pinned-message` (staff): pin a chat line or an
/// announcement above the chat; everyone, and every viewer who arrives later, gets
/// `pinned_message`.
#[utoipa::path(put, path = "/api/live/streams/{id}/pinned-message", tag = "live (seed 002)", security(("jwt" = [])),
    params(("id" = String, Path, description = "The live stream")),
    request_body = PinBody,
    responses((status = 200, description = "Pinned", body = Data<PinnedMessage>),
        (status = 404, description = "No such live stream, or no such line", body = ErrorBody),
        (status = 409, description = "No stream is live", body = ErrorBody),
        (status = 422, description = "A bad body", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn pin_message(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    body: web::Json<PinBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let pin = Pin::from_fields(b.message_id, b.message)?;
    let pinned = state
        .live
        .send(PinMessage {
            caller: caller.0,
            stream_id: Some(id.into_inner()),
            pin: Some(pin),
            seconds: b.duration_seconds,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": pinned})))
}

/// `DELETE /api/live/streams/{id}/pinned-message` (staff): everyone gets
/// `pinned_message` with `message: null`.
#[utoipa::path(delete, path = "/api/live/streams/{id}/pinned-message", tag = "live (seed 002)", security(("jwt" = [])),
    params(("id" = String, Path, description = "The live stream")),
    responses((status = 200, description = "Unpinned", body = Done),
        (status = 404, description = "No such live stream", body = ErrorBody),
        (status = 409, description = "No stream is live", body = ErrorBody), (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn unpin_message(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    state
        .live
        .send(PinMessage {
            caller: caller.0,
            stream_id: Some(id.into_inner()),
            pin: None,
            seconds: None,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

/// `GET /api/live/streams/current` (public).
#[utoipa::path(get, path = "/api/live/streams/current", tag = "live (seed 002)",
    responses((status = 200, description = "Whether a stream is live, and its state", body = Data<LiveState>)))]
async fn current(state: State) -> Result<HttpResponse, AppError> {
    let data = LiveState::of(state.live.send(GetCurrent).await?);
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data})))
}

/// `GET /api/live/streams` (public): past streams with their final figures, newest first.
#[utoipa::path(get, path = "/api/live/streams", tag = "live (seed 002)",
    responses((status = 200, description = "Past streams with their figures, newest first", body = Data<Vec<PastStream>>)))]
async fn past(state: State) -> Result<HttpResponse, AppError> {
    let rows = state.db.query(|c| reads::past_streams(c, 100)).await?;
    Ok(HttpResponse::Ok().json(
        json!({"success": true, "data": rows.iter().map(PastStream::from).collect::<Vec<_>>()}),
    ))
}

/// A stream that has ended (or, from `stop`, just ended), with its figures.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PastStream {
    stream_id: String,
    title: String,
    description: String,
    stream_url: String,
    quality: String,
    start_time: String,
    end_time: Option<String>,
    duration_seconds: Option<i64>,
    peak_viewers: i64,
    likes: i64,
}

impl From<&crate::domain::stream::Stream> for PastStream {
    fn from(r: &crate::domain::stream::Stream) -> Self {
        PastStream {
            stream_id: r.id.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            stream_url: r.stream_url.clone(),
            quality: r.quality.clone(),
            start_time: iso_timestamp(r.started_at),
            end_time: r.ended_at.map(iso_timestamp),
            duration_seconds: r.ended_at.map(|e| (e - r.started_at).num_seconds()),
            peak_viewers: r.peak_viewers,
            likes: r.likes,
        }
    }
}
