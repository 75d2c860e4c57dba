//! Seed 004's REST API under `/api/v1/chat`: sessions, their messages, read state,
//! assignment and status. Every route needs a Bearer token.

use std::sync::Arc;

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{guard, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::openapi::schemas::{Data, ErrorBody};
use super::openapi::seeds::*;
use super::{caller_or_guest, GuestQuery, OptionalJson, RequestCaller};
use crate::actors::chat_server::Participant;
use crate::actors::chat_server::{
    ChangeConversation, FetchHistory, GetAttachment, GetConversation, GetOnlineStaff,
    GetParticipants, HistoryPage, ListConversations, MarkRead, Notes, OpenConversation, PostAs,
    PostMessage, VerifyGuest,
};
use crate::dialects::chat_sessions::{attachment_json, message_json, session_json};
use crate::domain::conversation::{Status, StatusChange};
use crate::domain::files::Upload;
use crate::domain::writes::ReadTarget;
use crate::domain::Caller;
use crate::error::AppError;
use crate::state::AppState;
use crate::uploads;

type State = web::Data<Arc<AppState>>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/chat")
            .route("/sessions", web::post().to(create_session))
            .route("/sessions", web::get().to(list_sessions))
            .route("/sessions/{id}", web::get().to(get_session))
            .route("/sessions/{id}/messages", web::get().to(list_messages))
            .route(
                "/sessions/{id}/messages",
                web::post().guard(multipart()).to(send_message_multipart),
            )
            .route("/sessions/{id}/messages", web::post().to(send_message))
            .route("/upload", web::post().to(upload))
            .route("/attachments/{id}", web::get().to(download))
            .route("/sessions/{id}/read", web::post().to(mark_read))
            .route("/sessions/{id}/assign", web::post().to(assign))
            .route("/sessions/{id}/status", web::patch().to(set_status))
            .route("/sessions/{id}/participants", web::get().to(participants))
            .route("/staff/online", web::get().to(online_staff)),
    );
}

/// Requests whose body is a multipart form.
fn multipart() -> impl guard::Guard {
    guard::fn_guard(|ctx| {
        ctx.head()
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"))
    })
}

fn ok(data: Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "data": data}))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateSession {
    subject: Option<String>,
    category: Option<String>,
    priority: Option<String>,
    #[serde(rename = "type")]
    conversation_type: Option<String>,
    initial_message: Option<String>,
}

/// `POST /sessions` → 201 `{success, data: session}`.
#[utoipa::path(post, path = "/api/v1/chat/sessions", tag = "sessions (seed 004)", security(("jwt" = [])),
    request_body = CreateSession,
    responses((status = 201, description = "Started", body = Data<Session>), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn create_session(
    state: State,
    caller: RequestCaller,
    body: web::Json<CreateSession>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let opened = state
        .chat
        .send(OpenConversation {
            caller: caller.signed_in()?,
            subject: b.subject,
            category: b.category,
            priority: b.priority,
            conversation_type: b.conversation_type,
            reuse_open: false,
            initial_message: b.initial_message,
            initial_author: None,
        })
        .await??;
    Ok(HttpResponse::Created()
        .json(json!({"success": true, "data": session_json(&opened.conversation)})))
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /sessions`: "active sessions" of the caller (staff: everyone's), i.e. waiting or
/// active unless `?status=` asks for others.
#[utoipa::path(get, path = "/api/v1/chat/sessions", tag = "sessions (seed 004)", security(("jwt" = [])),
    params(("status" = Option<String>, Query, description = "open (default: waiting or active), waiting, active, resolved or closed"),
        ("limit" = Option<i64>, Query, description = "50 by default"), ("offset" = Option<i64>, Query, description = "0 by default")),
    responses((status = 200, description = "The caller's sessions (staff: everyone's)", body = SessionList), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn list_sessions(
    state: State,
    caller: RequestCaller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let list = state
        .chat
        .send(ListConversations {
            caller: caller.signed_in()?,
            customer: None,
            status: Some(q.status.unwrap_or_else(|| "open".into())),
            snoozed: crate::actors::chat_server::Snoozed::Any,
            label: None,
            conversation_type: None,
            offset: q.offset.unwrap_or(0),
            limit: q.limit.unwrap_or(50),
        })
        .await??;
    let items: Vec<Value> = list.items.iter().map(session_json).collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": items, "total": list.total})))
}

#[utoipa::path(get, path = "/api/v1/chat/sessions/{id}", tag = "sessions (seed 004)", security(("jwt" = [])), params(("id" = String, Path, description = "The session (conversation)")),
    responses((status = 200, description = "The session", body = Data<Session>), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "No such conversation", body = ErrorBody)))]
async fn get_session(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let view = state
        .chat
        .send(GetConversation {
            conversation_id: id.into_inner(),
            caller: caller.signed_in()?,
        })
        .await??;
    Ok(ok(session_json(&view)))
}

#[derive(Deserialize)]
pub struct MessagesQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /sessions/{id}/messages?limit=50&offset=0`, oldest first.
#[utoipa::path(get, path = "/api/v1/chat/sessions/{id}/messages", tag = "sessions (seed 004)", security(("jwt" = [])),
    params(("id" = String, Path, description = "The session (conversation)"), ("limit" = Option<i64>, Query, description = "50 by default"), ("offset" = Option<i64>, Query, description = "0 by default")),
    responses((status = 200, description = "Messages, oldest first", body = SessionMessages), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "No such conversation", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn list_messages(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    q: web::Query<MessagesQuery>,
) -> Result<HttpResponse, AppError> {
    let page = HistoryPage::Offset {
        offset: q.offset.unwrap_or(0),
        limit: q.limit.unwrap_or(50),
    };
    let history = state
        .chat
        .send(FetchHistory {
            conversation_id: id.into_inner(),
            caller: caller.signed_in()?,
            page,
            notes: Notes::Hidden,
        })
        .await??;
    let data: Vec<Value> = history.messages.iter().map(message_json).collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data, "total": history.total, "has_more": history.has_more})))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SendBody {
    #[serde(default)]
    content: String,
    message_type: Option<String>,
    temp_id: Option<String>,
    /// Ids from `POST /upload`.
    #[serde(default)]
    attachments: Vec<String>,
}

/// `POST /sessions/{id}/messages` with JSON (staff post as staff, customers as customers).
#[utoipa::path(post, path = "/api/v1/chat/sessions/{id}/messages", tag = "sessions (seed 004)", security(("jwt" = [])), params(("id" = String, Path, description = "The session (conversation)")),
    request_body(content((SendBody = "application/json"), (Object = "multipart/form-data")),
        description = "JSON, or a multipart form: `content`, `message_type`, `temp_id` and up to 5 files under `attachments`"),
    responses((status = 201, description = "Stored and delivered", body = Data<SessionMessage>), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 413, description = "A file too large", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn send_message(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    body: web::Json<SendBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    post(
        &state,
        caller.signed_in()?,
        id.into_inner(),
        b.content,
        b.message_type,
        b.temp_id,
        b.attachments,
    )
    .await
}

/// `POST /sessions/{id}/messages` as seed 004's multipart form: `content`, `message_type`,
/// `temp_id`, and up to 5 files under `attachments`.
async fn send_message_multipart(
    req: HttpRequest,
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let caller = caller.signed_in()?;
    let (mut fields, files) = read_uploads(&req, &state, body).await?;
    let stored = uploads::save(&state, &caller, files).await?;
    let ids: Vec<String> = stored.into_iter().map(|a| a.id).collect();
    let content = fields.remove("content").unwrap_or_default();
    let posted = post(
        &state,
        caller,
        id.into_inner(),
        content,
        fields.remove("message_type"),
        fields.remove("temp_id"),
        ids.clone(),
    )
    .await;
    if posted.is_err() && !ids.is_empty() {
        // The message was refused: its files must not stay behind.
        uploads::discard(&state, ids).await;
    }
    posted
}

/// Read a multipart body, at most a few at a time (each is held in memory).
async fn read_uploads(
    req: &HttpRequest,
    state: &State,
    body: web::Payload,
) -> Result<(std::collections::HashMap<String, String>, Vec<Upload>), AppError> {
    let _slot = state
        .upload_slots
        .try_acquire()
        .map_err(|_| AppError::rate_limited().with_detail("too many uploads in progress"))?;
    super::multipart::read_multipart(req, body).await
}

async fn post(
    state: &State,
    caller: Caller,
    conversation_id: String,
    text: String,
    message_type: Option<String>,
    client_id: Option<String>,
    attachment_ids: Vec<String>,
) -> Result<HttpResponse, AppError> {
    let post_as = if caller.is_staff() {
        PostAs::Staff
    } else {
        PostAs::Customer
    };
    let message = state
        .chat
        .send(PostMessage {
            origin: None,
            conversation_id,
            caller,
            post_as,
            text,
            message_type,
            client_id,
            attachment_ids,
        })
        .await??;
    Ok(HttpResponse::Created().json(json!({"success": true, "data": message_json(&message)})))
}

/// `POST /upload`: store files ahead of the message that will carry them. Guests (seed
/// 003) upload with `?guestId=`.
#[utoipa::path(post, path = "/api/v1/chat/upload", tag = "sessions (seed 004)", security((), ("jwt" = [])),
    params(("guestId" = Option<String>, Query, description = "A guest's id, instead of a token")),
    request_body(content = Object, content_type = "multipart/form-data", description = "Files under `attachments` (up to 5)"),
    responses((status = 201, description = "Stored, to be sent with a message", body = Data<Vec<SessionAttachment>>), (status = 401, description = "No token, or an invalid one", body = ErrorBody),
        (status = 413, description = "A file too large", body = ErrorBody),
        (status = 415, description = "A file type that is not allowed", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn upload(
    req: HttpRequest,
    state: State,
    caller: RequestCaller,
    q: web::Query<GuestQuery>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let caller = caller_or_guest(&state, caller, q.into_inner().guest_id).await?;
    if matches!(caller, Caller::Guest(_)) {
        state.allow_ip(&req)?;
    }
    let (_, files) = read_uploads(&req, &state, body).await?;
    if files.is_empty() {
        return Err(AppError::validation("No files in the upload")
            .with_detail("send them as multipart `attachments`"));
    }
    let stored = uploads::save(&state, &caller, files).await?;
    Ok(HttpResponse::Created().json(
        json!({"success": true, "data": stored.iter().map(attachment_json).collect::<Vec<_>>()}),
    ))
}

/// `GET /attachments/{id}`: the file, for those who may see its conversation (or its
/// uploader), always as a download with its stored type, never rendered inline.
#[utoipa::path(get, path = "/api/v1/chat/attachments/{id}", tag = "sessions (seed 004)", security((), ("jwt" = [])),
    params(("id" = String, Path, description = "The attachment"), ("guestId" = Option<String>, Query, description = "A guest's id, instead of a token"),
        ("X-Session-Secret" = Option<String>, Header, description = "An anonymous session's secret")),
    responses((status = 200, description = "The file, as a download, with its stored type", content_type = "*/*"), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such attachment", body = ErrorBody)))]
async fn download(
    req: HttpRequest,
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    q: web::Query<GuestQuery>,
) -> Result<HttpResponse, AppError> {
    let caller = match (caller.0, q.into_inner().guest_id) {
        (Caller::Anonymous(_), Some(g)) => state.chat.send(VerifyGuest(g)).await??,
        (c, _) => c,
    };
    // An anonymous session's files: its browser (the cookie), or its secret.
    let row = state
        .chat
        .send(GetAttachment {
            id: id.into_inner(),
            caller,
            session_secret: super::chat::secret_header(&req),
        })
        .await??;
    let path = crate::file_store::path_of(&state.attachments_dir, &row.sha256);
    let file = row.attachment;
    let bytes = web::block(move || std::fs::read(path))
        .await
        .map_err(|_| AppError::internal())?
        .map_err(|e| {
            log::error!("reading attachment {}: {e}", file.id);
            AppError::not_found("Attachment file missing")
        })?;
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(file.file_name.clone())],
    };
    Ok(HttpResponse::Ok()
        .content_type(file.content_type.as_str())
        .insert_header(disposition)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "default-src 'none'; sandbox"))
        .body(bytes))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct ReadBody {
    message_ids: Option<Vec<String>>,
}

/// `POST /sessions/{id}/read` with optional `{message_ids}`; without, everything.
#[utoipa::path(post, path = "/api/v1/chat/sessions/{id}/read", tag = "sessions (seed 004)", security(("jwt" = [])), params(("id" = String, Path, description = "The session (conversation)")),
    request_body(content = Option<ReadBody>, description = "Optional: `message_ids`; without, everything"),
    responses((status = 200, description = "The read cursor", body = MarkedRead), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "No such conversation", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn mark_read(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    body: OptionalJson<ReadBody>,
) -> Result<HttpResponse, AppError> {
    let target = match body.0.message_ids {
        Some(ids) => ReadTarget::Ids(ids),
        None => ReadTarget::All,
    };
    let receipt = state
        .chat
        .send(MarkRead {
            origin: None,
            conversation_id: id.into_inner(),
            caller: caller.signed_in()?,
            target,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Messages marked as read",
        "up_to_seq": receipt.up_to_seq,
    })))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct AssignBody {
    agent_id: Option<String>,
    agent_name: Option<String>,
}

/// `POST /sessions/{id}/assign`: an agent takes the session; an admin may name another agent.
#[utoipa::path(post, path = "/api/v1/chat/sessions/{id}/assign", tag = "sessions (seed 004)", security(("jwt" = [])), params(("id" = String, Path, description = "The session (conversation)")),
    request_body(content = Option<AssignBody>, description = "Optional: an admin names another agent"),
    responses((status = 200, description = "Assigned", body = Data<Session>), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 409, description = "Someone else has it", body = ErrorBody)))]
async fn assign(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    body: OptionalJson<AssignBody>,
) -> Result<HttpResponse, AppError> {
    let caller = caller.signed_in()?;
    let Caller::Staff(me) = &caller else {
        return Err(AppError::forbidden(
            "Only support staff can assign conversations",
        ));
    };
    let b = body.0;
    let change = match b.agent_id {
        Some(agent_id) if agent_id != me.user_id => {
            let agent_name = b.agent_name.unwrap_or_else(|| agent_id.clone());
            StatusChange::Assign {
                agent_id,
                agent_name,
            }
        }
        _ => StatusChange::Assign {
            agent_id: me.user_id.clone(),
            agent_name: caller.display_name().to_owned(),
        },
    };
    let view = state
        .chat
        .send(ChangeConversation {
            origin: None,
            conversation_id: id.into_inner(),
            caller,
            change,
        })
        .await??;
    Ok(ok(session_json(&view)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct StatusBody {
    status: String,
}

/// `PATCH /sessions/{id}/status {status}`.
#[utoipa::path(patch, path = "/api/v1/chat/sessions/{id}/status", tag = "sessions (seed 004)", security(("jwt" = [])), params(("id" = String, Path, description = "The session (conversation)")),
    request_body = StatusBody,
    responses((status = 200, description = "As changed", body = Data<Session>), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "No such conversation", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn set_status(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    body: web::Json<StatusBody>,
) -> Result<HttpResponse, AppError> {
    let status = Status::parse(&body.status).ok_or_else(|| {
        AppError::validation("status must be one of: waiting, active, resolved, closed")
    })?;
    let change = StatusChange::Set(status);
    let view = state
        .chat
        .send(ChangeConversation {
            origin: None,
            conversation_id: id.into_inner(),
            caller: caller.signed_in()?,
            change,
        })
        .await??;
    Ok(ok(session_json(&view)))
}

/// `GET /sessions/{id}/participants`: who is in the conversation right now.
#[utoipa::path(get, path = "/api/v1/chat/sessions/{id}/participants", tag = "sessions (seed 004)", security(("jwt" = [])), params(("id" = String, Path, description = "The session (conversation)")),
    responses((status = 200, description = "Who is in the conversation now", body = Data<Vec<Participant>>), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "No such conversation", body = ErrorBody)))]
async fn participants(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let people = state
        .chat
        .send(GetParticipants {
            conversation_id: id.into_inner(),
            caller: caller.signed_in()?,
        })
        .await??;
    Ok(ok(json!(people)))
}

/// `GET /staff/online` (staff): staff members with an open connection.
#[utoipa::path(get, path = "/api/v1/chat/staff/online", tag = "sessions (seed 004)", security(("jwt" = [])),
    responses((status = 200, description = "Staff with an open connection", body = Data<Vec<Participant>>), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody)))]
async fn online_staff(state: State, caller: RequestCaller) -> Result<HttpResponse, AppError> {
    caller.staff()?;
    Ok(ok(json!(state.chat.send(GetOnlineStaff).await?)))
}
