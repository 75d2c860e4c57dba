//! The team desk's own REST (staff): what the seeds have no word for. Private notes.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::openapi::schemas::{Data, ErrorBody};
use super::openapi::seeds::NativeMessage;
use super::RequestCaller;
use crate::actors::chat_server::{PostAs, PostMessage};
use crate::dialects::native::message_json;
use crate::error::AppError;
use crate::state::AppState;

type State = web::Data<Arc<AppState>>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/desk").route("/conversations/{id}/notes", web::post().to(add_note)),
    );
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NoteBody {
    content: String,
    /// An idempotency key: the same one again answers the first note.
    client_id: Option<String>,
}

/// `POST /api/desk/conversations/{id}/notes` (staff): a private note in the
/// conversation, with its seq like a message; staff see it (native `staff_note`,
/// native history with `private: true`), the customer never does.
#[utoipa::path(post, path = "/api/desk/conversations/{id}/notes", tag = "desk", security(("jwt" = [])),
    params(("id" = String, Path, description = "The conversation")),
    request_body = NoteBody,
    responses((status = 201, description = "The note, stored and sent to staff", body = Data<NativeMessage>),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody), (status = 409, description = "The conversation is closed", body = ErrorBody),
        (status = 422, description = "A bad body", body = ErrorBody)))]
async fn add_note(
    state: State,
    caller: RequestCaller,
    path: web::Path<String>,
    body: web::Json<NoteBody>,
) -> Result<HttpResponse, AppError> {
    let caller = caller.staff()?;
    let body = body.into_inner();
    let note = state
        .chat
        .send(PostMessage {
            origin: None,
            conversation_id: path.into_inner(),
            caller,
            post_as: PostAs::Note,
            text: body.content,
            message_type: None,
            client_id: body.client_id,
            attachment_ids: Vec::new(),
        })
        .await??;
    Ok(HttpResponse::Created().json(json!({"success": true, "data": message_json(&note)})))
}
