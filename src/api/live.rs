//! Live streams over REST (seed 002's state; control needs a staff token).

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::RequestCaller;
use crate::actors::live_stream::{GetCurrent, PinProducts, StartStream, StopStream};
use crate::db::reads;
use crate::domain::message::iso_timestamp;
use crate::domain::stream::PinnedProduct;
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
            .route("/{id}/pinned-products", web::put().to(pin)),
    );
}

#[derive(Deserialize)]
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
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": stream_json(&row)})))
}

/// `PUT /api/live/streams/{id}/pinned-products` (staff) with `[{productId, name, price, image, displayOrder}]`.
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
            stream_id: id.into_inner(),
            products: body.into_inner(),
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": pinned.as_slice()})))
}

/// `GET /api/live/streams/current` (public).
async fn current(state: State) -> Result<HttpResponse, AppError> {
    let body = match state.live.send(GetCurrent).await? {
        Some((stream, pinned)) => {
            json!({"success": true, "data": {"isActive": true, "streamData": stream, "pinnedProducts": pinned.as_slice()}})
        }
        None => {
            json!({"success": true, "data": {"isActive": false, "streamData": null, "pinnedProducts": []}})
        }
    };
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/live/streams` (public): past streams with their final figures, newest first.
async fn past(state: State) -> Result<HttpResponse, AppError> {
    let rows = state.db.query(|c| reads::past_streams(c, 100)).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"success": true, "data": rows.iter().map(stream_json).collect::<Vec<_>>()})))
}

fn stream_json(r: &crate::domain::stream::Stream) -> serde_json::Value {
    json!({
        "streamId": r.id,
        "title": r.title,
        "description": r.description,
        "streamUrl": r.stream_url,
        "quality": r.quality,
        "startTime": iso_timestamp(r.started_at),
        "endTime": r.ended_at.map(iso_timestamp),
        "durationSeconds": r.ended_at.map(|e| (e - r.started_at).num_seconds()),
        "peakViewers": r.peak_viewers,
        "likes": r.likes,
    })
}
