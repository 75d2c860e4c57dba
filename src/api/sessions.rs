//! Seed 004's REST API under `/api/v1/chat`: sessions, their messages, read state,
//! assignment and status. Every route needs a Bearer token.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::RequestCaller;
use crate::actors::chat_server::{
    ChangeConversation, FetchHistory, GetConversation, HistoryPage, ListConversations, MarkRead,
    OpenConversation, PostAs, PostMessage,
};
use crate::db::queries::ReadTarget;
use crate::dialects::session::{message_json, session_json};
use crate::domain::conversation::{Status, StatusChange};
use crate::domain::Caller;
use crate::error::AppError;
use crate::state::AppState;

type State = web::Data<Arc<AppState>>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/chat")
            .route("/sessions", web::post().to(create_session))
            .route("/sessions", web::get().to(list_sessions))
            .route("/sessions/{id}", web::get().to(get_session))
            .route("/sessions/{id}/messages", web::get().to(list_messages))
            .route("/sessions/{id}/messages", web::post().to(send_message))
            .route("/sessions/{id}/read", web::post().to(mark_read))
            .route("/sessions/{id}/assign", web::post().to(assign))
            .route("/sessions/{id}/status", web::patch().to(set_status)),
    );
}

/// Seed 004 signs everything in.
fn signed_in(caller: RequestCaller) -> Result<Caller, AppError> {
    match caller.0 {
        Caller::Anonymous => Err(AppError::token_required()),
        c => Ok(c),
    }
}

fn ok(data: Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "data": data}))
}

#[derive(Deserialize)]
pub struct CreateSession {
    subject: Option<String>,
    category: Option<String>,
    priority: Option<String>,
    #[serde(rename = "type")]
    conversation_type: Option<String>,
    initial_message: Option<String>,
}

/// `POST /sessions` → 201 `{success, data: session}`.
async fn create_session(
    state: State,
    caller: RequestCaller,
    body: web::Json<CreateSession>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let opened = state
        .chat
        .send(OpenConversation {
            caller: signed_in(caller)?,
            subject: b.subject,
            category: b.category,
            priority: b.priority,
            conversation_type: b.conversation_type,
            reuse_open: false,
            initial_message: b.initial_message,
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
async fn list_sessions(
    state: State,
    caller: RequestCaller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let list = state
        .chat
        .send(ListConversations {
            caller: signed_in(caller)?,
            status: Some(q.status.unwrap_or_else(|| "open".into())),
            conversation_type: None,
            offset: q.offset.unwrap_or(0),
            limit: q.limit.unwrap_or(50),
        })
        .await??;
    let items: Vec<Value> = list.items.iter().map(session_json).collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": items, "total": list.total})))
}

async fn get_session(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let view = state
        .chat
        .send(GetConversation {
            conversation_id: id.into_inner(),
            caller: signed_in(caller)?,
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
            caller: signed_in(caller)?,
            page,
        })
        .await??;
    let data: Vec<Value> = history.messages.iter().map(message_json).collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data, "total": history.total, "has_more": history.has_more})))
}

#[derive(Deserialize)]
pub struct SendBody {
    content: String,
    message_type: Option<String>,
    temp_id: Option<String>,
}

/// `POST /sessions/{id}/messages` (JSON; staff post as staff, customers as customers).
async fn send_message(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    body: web::Json<SendBody>,
) -> Result<HttpResponse, AppError> {
    let caller = signed_in(caller)?;
    let b = body.into_inner();
    let post_as = if caller.is_staff() {
        PostAs::Staff
    } else {
        PostAs::Customer
    };
    let message = state
        .chat
        .send(PostMessage {
            origin: None,
            conversation_id: id.into_inner(),
            caller,
            post_as,
            text: b.content,
            message_type: b.message_type,
            client_id: b.temp_id,
        })
        .await??;
    Ok(HttpResponse::Created().json(json!({"success": true, "data": message_json(&message)})))
}

#[derive(Deserialize, Default)]
pub struct ReadBody {
    message_ids: Option<Vec<String>>,
}

/// `POST /sessions/{id}/read` with optional `{message_ids}`; without, everything.
async fn mark_read(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    body: Option<web::Json<ReadBody>>,
) -> Result<HttpResponse, AppError> {
    let target = match body.and_then(|b| b.into_inner().message_ids) {
        Some(ids) => ReadTarget::Ids(ids),
        None => ReadTarget::All,
    };
    let receipt = state
        .chat
        .send(MarkRead {
            origin: None,
            conversation_id: id.into_inner(),
            caller: signed_in(caller)?,
            target,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": "Messages marked as read",
        "up_to_seq": receipt.up_to_seq,
    })))
}

#[derive(Deserialize, Default)]
pub struct AssignBody {
    agent_id: Option<String>,
    agent_name: Option<String>,
}

/// `POST /sessions/{id}/assign`: an agent takes the session; an admin may name another agent.
async fn assign(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    body: Option<web::Json<AssignBody>>,
) -> Result<HttpResponse, AppError> {
    let caller = signed_in(caller)?;
    let Caller::Staff(me) = &caller else {
        return Err(AppError::forbidden(
            "Only support staff can assign conversations",
        ));
    };
    let b = body.map(|b| b.into_inner()).unwrap_or_default();
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

#[derive(Deserialize)]
pub struct StatusBody {
    status: String,
}

/// `PATCH /sessions/{id}/status {status}`.
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
            caller: signed_in(caller)?,
            change,
        })
        .await??;
    Ok(ok(session_json(&view)))
}
