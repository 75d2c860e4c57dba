//! Seed 000's REST flow and the history endpoint.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::openapi::schemas::ErrorBody;
use super::openapi::seeds::{NativeHistory, SentToStaff};
use super::RequestCaller;
use crate::actors::chat_server::{
    FetchHistory, GetConversation, HistoryPage, Notes, PostAs, PostMessage, RateConversation,
};
use crate::db::reads;
use crate::dialects::native::message_json;
use crate::domain::anonymous;
use crate::domain::Caller;
use crate::error::AppError;
use crate::state::AppState;
use crate::transport::browser_key::BrowserKey;
use actix_web::HttpMessage;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendToStaff {
    session_id: String,
    message: String,
    #[serde(default)]
    client_id: Option<String>,
    /// An anonymous session's secret, for clients without the browser cookie.
    #[serde(default)]
    session_secret: Option<String>,
}

/// Where a client without cookies puts an anonymous session's secret on a GET.
pub const SECRET_HEADER: &str = "x-session-secret";

/// The `X-Session-Secret` header, if any.
pub fn secret_header(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The caller that acts on an anonymous session: this request's browser (its cookie),
/// or whoever presents the session's secret, acts as the browser it is bound to.
async fn prove(
    state: &AppState,
    req: &HttpRequest,
    caller: Caller,
    session_id: &str,
    secret: Option<String>,
) -> Result<Caller, AppError> {
    let browser = req
        .extensions()
        .get::<BrowserKey>()
        .filter(|k| !k.issued)
        .map(BrowserKey::binding);
    // Anonymous callers are their browser already; a signed-in one may be acting for
    // an anonymous session of its browser.
    let signed_in_browser = browser.is_some() && matches!(caller, Caller::User(_));
    if secret.is_none() && !signed_in_browser {
        return Ok(caller);
    }
    let id = session_id.to_owned();
    let row = state
        .db
        .query(move |c| reads::find_conversation(c, &id))
        .await?;
    let owner = row.map(|c| c.owner);
    Ok(anonymous::acting_for(
        caller,
        browser.as_deref(),
        session_id,
        owner.as_ref(),
        secret.as_deref(),
        &state.secrets,
    ))
}

/// An anonymous session's secret, as `registered` hands it out.
fn secret_of(state: &AppState, caller: &Caller, session_id: &str) -> Option<String> {
    match caller {
        Caller::Anonymous(Some(binding)) => Some(state.secrets.issue(session_id, binding)),
        _ => None,
    }
}

/// `POST /api/chat/send-to-staff`: store a customer message, then notify every staff connection.
#[utoipa::path(post, path = "/api/chat/send-to-staff", tag = "native (seed 000)", security((), ("jwt" = [])),
    request_body = SendToStaff,
    responses((status = 200, description = "Stored; every staff connection is told", body = SentToStaff), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 429, description = "Too many messages", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
pub async fn send_to_staff(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    caller: RequestCaller,
    body: web::Json<SendToStaff>,
) -> Result<HttpResponse, AppError> {
    if caller.0.is_anonymous() {
        state.allow_ip(&req)?;
    }
    let body = body.into_inner();
    let caller = prove(
        &state,
        &req,
        caller.0,
        &body.session_id,
        body.session_secret,
    )
    .await?;
    let secret = secret_of(&state, &caller, &body.session_id);
    let message = state
        .chat
        .send(PostMessage {
            origin: None,
            conversation_id: body.session_id,
            caller,
            post_as: PostAs::Customer,
            text: body.message,
            message_type: None,
            client_id: body.client_id,
            attachment_ids: Vec::new(),
        })
        .await??;
    let mut answer = json!({
        "success": true,
        "message": "Message sent to staff",
        "data": message_json(&message),
    });
    if let Some(secret) = secret {
        answer["sessionSecret"] = json!(secret);
    }
    Ok(HttpResponse::Ok().json(answer))
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
#[utoipa::path(get, path = "/api/chat/sessions/{session_id}/messages", tag = "native (seed 000)", security((), ("jwt" = [])),
    params(("session_id" = String, Path, description = "The session"),
        ("after_seq" = Option<i64>, Query, description = "Messages after this seq"),
        ("before_seq" = Option<i64>, Query, description = "Or: messages before this seq"),
        ("limit" = Option<i64>, Query, description = "50 by default"),
        ("X-Session-Secret" = Option<String>, Header, description = "An anonymous session's secret")),
    responses((status = 200, description = "Messages, oldest first", body = NativeHistory), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "No such conversation", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
pub async fn session_messages(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    caller: RequestCaller,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, AppError> {
    let session_id = path.into_inner();
    let secret = secret_header(&req);
    let caller = RequestCaller(prove(&state, &req, caller.0, &session_id, secret).await?);
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
            notes: Notes::Shown,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "sessionId": session_id,
        "messages": history.messages.iter().map(message_json).collect::<Vec<_>>(),
        "hasMore": history.has_more,
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RatingBody {
    /// 1 to 5.
    rating: i64,
    /// Up to 2,000 characters.
    comment: Option<String>,
    /// An anonymous session's secret, for clients without the browser cookie.
    session_secret: Option<String>,
}

/// `POST /api/chat/sessions/{sessionId}/rating` (the conversation's customer, once it
/// is resolved): `{rating, comment?}`, once.
#[utoipa::path(post, path = "/api/chat/sessions/{session_id}/rating", tag = "native (seed 000)", security((), ("jwt" = [])),
    params(("session_id" = String, Path, description = "The session")),
    request_body = RatingBody,
    responses((status = 200, description = "Rated", body = super::openapi::schemas::Data<super::openapi::seeds::NativeConversation>),
        (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not the customer", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody), (status = 409, description = "Not resolved yet, or rated already", body = ErrorBody),
        (status = 422, description = "A bad rating or comment", body = ErrorBody)))]
pub async fn rate(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    caller: RequestCaller,
    path: web::Path<String>,
    body: web::Json<RatingBody>,
) -> Result<HttpResponse, AppError> {
    let session_id = path.into_inner();
    let body = body.into_inner();
    let secret = body.session_secret.or_else(|| secret_header(&req));
    let caller = prove(&state, &req, caller.0, &session_id, secret).await?;
    let conversation = state
        .chat
        .send(RateConversation {
            origin: None,
            conversation_id: session_id,
            caller,
            score: body.rating,
            comment: body.comment,
        })
        .await??;
    let data = crate::dialects::native::conversation_json(&conversation, false);
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data})))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TranscriptQuery {
    /// `text` (the default) or `html` (a printable page).
    format: Option<String>,
    /// A guest's id (seed 003's guests), for a guest's own conversation.
    #[serde(rename = "guestId")]
    guest_id: Option<String>,
}

/// Messages one history read takes while a transcript is gathered.
const TRANSCRIPT_PAGE: i64 = 200;

/// `GET /api/chat/sessions/{sessionId}/transcript?format=text|html`: the whole
/// conversation as a download, for staff (notes included, marked) and for its customer.
#[utoipa::path(get, path = "/api/chat/sessions/{session_id}/transcript", tag = "native (seed 000)", security((), ("jwt" = [])),
    params(("session_id" = String, Path, description = "The session"), TranscriptQuery,
        ("X-Session-Secret" = Option<String>, Header, description = "An anonymous session's secret")),
    responses((status = 200, description = "The transcript, as a download", content((String = "text/plain"), (String = "text/html"))),
        (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody), (status = 422, description = "A bad format", body = ErrorBody)))]
pub async fn transcript(
    req: HttpRequest,
    state: web::Data<Arc<AppState>>,
    caller: RequestCaller,
    path: web::Path<String>,
    query: web::Query<TranscriptQuery>,
) -> Result<HttpResponse, AppError> {
    let html = match query.format.as_deref() {
        None | Some("text") => false,
        Some("html") => true,
        Some(_) => return Err(AppError::validation("format must be text or html")),
    };
    let session_id = path.into_inner();
    let caller = match query.guest_id.clone() {
        Some(guest) => super::caller_or_guest(&state, caller, Some(guest)).await?,
        None => prove(&state, &req, caller.0, &session_id, secret_header(&req)).await?,
    };
    let conversation = state
        .chat
        .send(GetConversation {
            conversation_id: session_id.clone(),
            caller: caller.clone(),
        })
        .await??
        .conversation;
    let mut messages = Vec::new();
    loop {
        let after = messages
            .last()
            .map_or(0, |m: &crate::domain::Message| m.seq);
        let page = state
            .chat
            .send(FetchHistory {
                conversation_id: session_id.clone(),
                caller: caller.clone(),
                page: HistoryPage::After {
                    seq: after,
                    limit: TRANSCRIPT_PAGE,
                },
                notes: Notes::Shown,
            })
            .await??;
        messages.extend(page.messages);
        if !page.has_more {
            break;
        }
    }
    let base_url = {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    };
    let t = crate::domain::transcript::Transcript {
        conversation: &conversation,
        messages: &messages,
        base_url: &base_url,
    };
    let (body, content_type, ext) = match html {
        true => (t.html(), "text/html; charset=utf-8", "html"),
        false => (t.text(), "text/plain; charset=utf-8", "txt"),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"conversation-{}.{ext}\"",
                conversation.id
            ),
        ))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(body))
}
