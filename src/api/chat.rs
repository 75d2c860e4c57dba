//! Seed 000's REST flow and the history endpoint.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::RequestCaller;
use crate::actors::chat_server::{FetchHistory, HistoryPage, PostAs, PostMessage};
use crate::dialects::native::message_json;
use crate::domain::Caller;
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
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    caller: RequestCaller,
    body: web::Json<SendToStaff>,
) -> Result<HttpResponse, AppError> {
    if matches!(caller.0, Caller::Anonymous) {
        state.allow_ip(&req)?;
    }
    let body = body.into_inner();
    let message = state
        .chat
        .send(PostMessage {
            origin: None,
            conversation_id: body.session_id,
            caller: caller.0,
            post_as: PostAs::Customer,
            text: body.message,
            message_type: None,
            client_id: body.client_id,
            attachment_ids: Vec::new(),
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Message sent to staff",
        "data": message_json(&message),
    })))
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    after_seq: Option<i64>,
    #[serde(default)]
    before_seq: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /api/chat/sessions/{sessionId}/messages?after_seq=|before_seq=&limit=`: oldest first.
pub async fn session_messages(
    state: web::Data<Arc<AppState>>,
    caller: RequestCaller,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, AppError> {
    let session_id = path.into_inner();
    let limit = query.limit.unwrap_or(50);
    let history = state
        .chat
        .send(FetchHistory {
            conversation_id: session_id.clone(),
            caller: caller.0,
            page: match query.before_seq {
                Some(seq) => HistoryPage::Before { seq, limit },
                None => HistoryPage::After {
                    seq: query.after_seq.unwrap_or(0),
                    limit,
                },
            },
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "sessionId": session_id,
        "messages": history.messages.iter().map(message_json).collect::<Vec<_>>(),
        "hasMore": history.has_more,
    })))
}
