//! Seed 000's REST flow and the history endpoint.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::RequestCaller;
use crate::actors::chat_server::{FetchHistory, PostAs, PostMessage};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendToStaff {
    session_id: String,
    message: String,
    #[serde(default)]
    client_id: Option<String>,
}

/// `POST /api/chat/send-to-staff`: store a customer message, then notify every staff connection.
pub async fn send_to_staff(
    state: web::Data<Arc<AppState>>,
    caller: RequestCaller,
    body: web::Json<SendToStaff>,
) -> Result<HttpResponse, AppError> {
    let body = body.into_inner();
    let message = state
        .chat
        .send(PostMessage {
            origin: None,
            session_id: body.session_id,
            caller: caller.0,
            post_as: PostAs::Customer,
            text: body.message,
            client_id: body.client_id,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Message sent to staff",
        "data": message,
    })))
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    after_seq: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /api/chat/sessions/{sessionId}/messages?after_seq=&limit=`: oldest first.
pub async fn session_messages(
    state: web::Data<Arc<AppState>>,
    caller: RequestCaller,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, AppError> {
    let session_id = path.into_inner();
    let history = state
        .chat
        .send(FetchHistory {
            session_id: session_id.clone(),
            caller: caller.0,
            after_seq: query.after_seq.unwrap_or(0),
            limit: query.limit.unwrap_or(50),
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "sessionId": session_id,
        "messages": history.messages,
        "hasMore": history.has_more,
    })))
}
