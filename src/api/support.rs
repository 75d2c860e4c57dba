//! Seed 003's REST API: `/api/support/*` for customers and guests,
//! `/api/admin/support/*` for staff.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::openapi::schemas::ErrorBody;
use super::openapi::seeds::*;
use super::{caller_or_guest, GuestQuery, OptionalJson, RequestCaller};
use crate::actors::chat_server::{
    AgentsAvailable, FetchHistory, GetConversation, HistoryPage, IssueAuthCode, IssueGuest,
    ListConversations, Notes, OpenConversation, PostAs, PostMessage, SetCustomerDetails,
    VerifyAuthCode, VerifyGuest,
};
use crate::auth::Identity;
use crate::db::reads;
use crate::dialects::support::{conversation_json, message_json, pagination};
use crate::domain::conversation::ConversationView;
use crate::domain::office_hours::{DeskAvailability, OfficeHours, OFFICE_HOURS};
use crate::domain::Caller;
use crate::error::AppError;
use crate::state::AppState;

type State = web::Data<Arc<AppState>>;

/// Seed 003's default page size, and the largest it accepts.
const DEFAULT_PAGE_SIZE: i64 = 50;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/support")
            .route("/availability", web::get().to(availability))
            .route("/offline-message", web::post().to(offline_message))
            .route("/conversation", web::get().to(my_conversation))
            .route("/conversation/guest", web::post().to(guest_conversation))
            .route("/conversation/{id}", web::get().to(conversation))
            .route("/conversation/{id}/messages", web::get().to(messages))
            .route("/onboarding/generate-code", web::post().to(generate_code))
            .route("/onboarding/verify-code", web::post().to(verify_code)),
    )
    .route(
        "/api/admin/support/conversations",
        web::get().to(admin_conversations),
    );
}

/// A conversation as seed 003 returns it: the object itself, also under `conversation`
/// (its text says both "Returns: Conversation object" and `{conversation, …}`).
fn conversation_response(view: &ConversationView) -> HttpResponse {
    let mut body = conversation_json(view);
    body["conversation"] = body.clone();
    body["success"] = json!(true);
    HttpResponse::Ok().json(body)
}

/// `page` (from 1) and `limit` as an offset.
fn page_offset(page: Option<i64>, limit: Option<i64>) -> Result<(i64, i64, i64), AppError> {
    let page = page.unwrap_or(1);
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if page < 1 {
        return Err(AppError::validation("page must be at least 1"));
    }
    let offset = (page - 1)
        .checked_mul(limit)
        .ok_or_else(|| AppError::validation("page too large"))?;
    Ok((page, limit, offset))
}

#[derive(Deserialize)]
pub struct TypeQuery {
    #[serde(rename = "type")]
    conversation_type: Option<String>,
}

/// `GET /api/support/conversation?type=general`: the signed-in user's open conversation
/// of that type, started if there is none.
#[utoipa::path(get, path = "/api/support/conversation", tag = "support (seed 003)", security(("jwt" = [])),
    params(("type" = Option<String>, Query, description = "general (default), onboarding or call_request")),
    responses((status = 200, description = "The caller's open conversation of that type, started if need be", body = SupportConversationAnswer), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn my_conversation(
    state: State,
    caller: RequestCaller,
    q: web::Query<TypeQuery>,
) -> Result<HttpResponse, AppError> {
    let caller = caller.signed_in()?;
    let opened = state
        .chat
        .send(OpenConversation {
            caller,
            subject: None,
            category: None,
            priority: None,
            conversation_type: q.into_inner().conversation_type,
            reuse_open: true,
            initial_message: None,
            initial_author: None,
        })
        .await??;
    Ok(conversation_response(&opened.conversation))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GuestBody {
    #[serde(rename = "type")]
    conversation_type: Option<String>,
    subject: Option<String>,
    /// A guest id issued earlier, to continue as that guest.
    guest_id: Option<String>,
}

/// `POST /api/support/conversation/guest`: a guest's open conversation, with a new guest
/// id when none is given. Public, limited per client IP.
#[utoipa::path(post, path = "/api/support/conversation/guest", tag = "support (seed 003)",
    request_body(content = Option<GuestBody>, description = "Optional: `guestId` continues as that guest"),
    responses((status = 200, description = "The guest's open conversation, and its id", body = GuestConversation),
        (status = 401, description = "An unknown guestId", body = ErrorBody),
        (status = 429, description = "Too many new guests from this address", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn guest_conversation(
    req: HttpRequest,
    state: State,
    body: OptionalJson<GuestBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    let caller = match b.guest_id {
        Some(g) => state.chat.send(VerifyGuest(g)).await??,
        None => {
            state.allow_ip(&req)?;
            Caller::Guest(state.chat.send(IssueGuest).await??)
        }
    };
    let Caller::Guest(guest_id) = caller.clone() else {
        return Err(AppError::internal());
    };
    let opened = state
        .chat
        .send(OpenConversation {
            caller,
            subject: b.subject,
            category: None,
            priority: None,
            conversation_type: b.conversation_type,
            reuse_open: true,
            initial_message: None,
            initial_author: None,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "conversation": conversation_json(&opened.conversation),
        "guestId": guest_id,
        "created": opened.created,
    })))
}

/// `GET /api/support/conversation/{id}` (Bearer, or `?guestId=` for guests).
#[utoipa::path(get, path = "/api/support/conversation/{id}", tag = "support (seed 003)", security((), ("jwt" = [])),
    params(("id" = String, Path, description = "The conversation"), ("guestId" = Option<String>, Query, description = "A guest's id, instead of a token")),
    responses((status = 200, description = "The conversation", body = SupportConversationAnswer), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "No such conversation", body = ErrorBody)))]
async fn conversation(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    q: web::Query<GuestQuery>,
) -> Result<HttpResponse, AppError> {
    let caller = caller_or_guest(&state, caller, q.into_inner().guest_id).await?;
    let view = state
        .chat
        .send(GetConversation {
            conversation_id: id.into_inner(),
            caller,
        })
        .await??;
    Ok(conversation_response(&view))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagesQuery {
    page: Option<i64>,
    limit: Option<i64>,
    guest_id: Option<String>,
}

/// `GET /api/support/conversation/{id}/messages?page=1&limit=50`, oldest first.
#[utoipa::path(get, path = "/api/support/conversation/{id}/messages", tag = "support (seed 003)", security((), ("jwt" = [])),
    params(("id" = String, Path, description = "The conversation"),
        ("page" = Option<i64>, Query, description = "From 1"), ("limit" = Option<i64>, Query, description = "50 by default"), ("guestId" = Option<String>, Query, description = "A guest's id, instead of a token")),
    responses((status = 200, description = "One page, oldest first", body = SupportMessages), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "No such conversation", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn messages(
    state: State,
    caller: RequestCaller,
    id: web::Path<String>,
    q: web::Query<MessagesQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let (page, limit, offset) = page_offset(q.page, q.limit)?;
    let caller = caller_or_guest(&state, caller, q.guest_id).await?;
    let history = state
        .chat
        .send(FetchHistory {
            conversation_id: id.into_inner(),
            caller,
            page: HistoryPage::Offset { offset, limit },
            notes: Notes::Hidden,
        })
        .await??;
    let messages: Vec<Value> = history.messages.iter().map(message_json).collect();
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "messages": messages,
        "pagination": pagination(page, limit, history.total),
    })))
}

#[derive(Deserialize)]
pub struct AdminQuery {
    page: Option<i64>,
    limit: Option<i64>,
    status: Option<String>,
    #[serde(rename = "type")]
    conversation_type: Option<String>,
}

/// `GET /api/admin/support/conversations?page=&limit=&status=&type=` (staff only).
#[utoipa::path(get, path = "/api/admin/support/conversations", tag = "support (seed 003)", security(("jwt" = [])),
    params(("page" = Option<i64>, Query, description = "From 1"), ("limit" = Option<i64>, Query, description = "50 by default"),
        ("status" = Option<String>, Query, description = "waiting, active, resolved, closed, or open (not yet resolved)"),
        ("type" = Option<String>, Query, description = "general, onboarding or call_request")),
    responses((status = 200, description = "Conversations, most recently active first", body = SupportConversations), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn admin_conversations(
    state: State,
    caller: RequestCaller,
    q: web::Query<AdminQuery>,
) -> Result<HttpResponse, AppError> {
    let caller = caller.staff()?;
    let q = q.into_inner();
    let (page, limit, offset) = page_offset(q.page, q.limit)?;
    let list = state
        .chat
        .send(ListConversations {
            caller,
            customer: None,
            status: q.status,
            snoozed: crate::actors::chat_server::Snoozed::Any,
            label: None,
            conversation_type: q.conversation_type,
            offset,
            limit,
        })
        .await??;
    let conversations: Vec<Value> = list.items.iter().map(conversation_json).collect();
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "conversations": conversations,
        "pagination": pagination(page, limit, list.total),
    })))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateBody {
    user_id: Option<String>,
    guest_id: Option<String>,
    conversation_id: Option<String>,
    device_info: Option<String>,
}

/// `POST /api/support/onboarding/generate-code` (staff): a code for a person, also sent
/// into their conversation (their open onboarding one, started if needed) as an
/// `auth_code` message.
#[utoipa::path(post, path = "/api/support/onboarding/generate-code", tag = "support (seed 003)", security(("jwt" = [])),
    request_body = GenerateBody,
    responses((status = 200, description = "A code, also sent into the person's conversation", body = GeneratedCode), (status = 401, description = "No token, or an invalid one", body = ErrorBody), (status = 403, description = "Not allowed", body = ErrorBody), (status = 404, description = "No such conversation", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn generate_code(
    state: State,
    caller: RequestCaller,
    body: web::Json<GenerateBody>,
) -> Result<HttpResponse, AppError> {
    let staff = caller.staff()?;
    let b = body.into_inner();
    let device_info =
        crate::domain::text::optional_field("deviceInfo", b.device_info.as_deref(), 200)?;
    // The person the code is for, and the conversation it goes to.
    let (conversation, user_id, guest_id) = match (b.conversation_id, b.user_id, b.guest_id) {
        (Some(id), user_id, guest_id) => {
            let view = state
                .chat
                .send(GetConversation {
                    conversation_id: id,
                    caller: staff.clone(),
                })
                .await??;
            let user_id = user_id.or_else(|| view.conversation.owner.user_id().map(str::to_owned));
            let guest_id =
                guest_id.or_else(|| view.conversation.owner.guest_id().map(str::to_owned));
            (view.conversation.id, user_id, guest_id)
        }
        (None, user_id, guest_id) => {
            let customer = match (&user_id, &guest_id) {
                (_, Some(g)) => state.chat.send(VerifyGuest(g.clone())).await??,
                (Some(u), None) => Caller::User(Identity {
                    user_id: crate::domain::text::session_id(u)?.to_owned(),
                    name: None,
                    role: "customer".into(),
                    expires_at: i64::MAX,
                    attributes: Default::default(),
                }),
                (None, None) => {
                    return Err(AppError::validation(
                        "conversationId, userId or guestId is required",
                    ))
                }
            };
            let opened = state
                .chat
                .send(OpenConversation {
                    caller: customer,
                    subject: None,
                    category: None,
                    priority: None,
                    conversation_type: Some("onboarding".into()),
                    reuse_open: true,
                    initial_message: None,
                    initial_author: None,
                })
                .await??;
            (opened.conversation.conversation.id, user_id, guest_id)
        }
    };
    // A code proves someone's identity: it must belong to someone.
    if user_id.is_none() && guest_id.is_none() {
        return Err(AppError::validation(
            "The conversation has no signed-in user or guest to issue a code for",
        ));
    }
    let issued = state
        .chat
        .send(IssueAuthCode {
            caller: staff,
            conversation_id: conversation,
            user_id,
            guest_id,
            device_info,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "code": issued.code,
        "expiresAt": issued.expires_at,
        "conversationId": issued.conversation_id,
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyBody {
    code: String,
    user_id: Option<String>,
    guest_id: Option<String>,
}

/// `POST /api/support/onboarding/verify-code` (public): `{success, data: {authCodeId, userId}}`.
#[utoipa::path(post, path = "/api/support/onboarding/verify-code", tag = "support (seed 003)",
    request_body = VerifyBody,
    responses((status = 200, description = "The code was right, and is spent", body = VerifiedCode),
        (status = 400, description = "A wrong, expired or spent code", body = ErrorBody),
        (status = 429, description = "Too many attempts", body = ErrorBody), (status = 422, description = "A bad request", body = ErrorBody)))]
async fn verify_code(
    req: HttpRequest,
    state: State,
    body: web::Json<VerifyBody>,
) -> Result<HttpResponse, AppError> {
    // Guessing is limited per code holder (attempts) and per client address.
    state.allow_ip(&req)?;
    let b = body.into_inner();
    let verified = state
        .chat
        .send(VerifyAuthCode {
            code: b.code,
            user_id: b.user_id,
            guest_id: b.guest_id,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "data": {"authCodeId": verified.auth_code_id, "userId": verified.user_id},
    })))
}

/// Whether the desk answers now: the office hours (read on each ask, so every node
/// agrees at once) and whether an agent is online anywhere.
async fn desk_availability(
    state: &AppState,
) -> Result<(DeskAvailability, Option<OfficeHours>), AppError> {
    let stored = state
        .db
        .query(|c| reads::desk_setting(c, OFFICE_HOURS))
        .await?;
    let hours = stored.as_deref().and_then(OfficeHours::from_stored);
    let agents = state.chat.send(AgentsAvailable).await?;
    let now = chrono::Utc::now();
    Ok((DeskAvailability::at(hours.as_ref(), agents > 0, now), hours))
}

/// `GET /api/support/availability` (public): whether the desk answers now, why not,
/// and when it opens next. The widget asks before it offers a live chat.
#[utoipa::path(get, path = "/api/support/availability", tag = "support (seed 003)",
    responses((status = 200, description = "Open now, or why not and until when", body = AvailabilityAnswer)))]
async fn availability(state: State) -> Result<HttpResponse, AppError> {
    let (now, _) = desk_availability(&state).await?;
    let mut body = json!(now);
    body["success"] = json!(true);
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfflineMessageBody {
    /// What the customer asks.
    message: String,
    /// Where they want the answer.
    email: String,
    /// Their conversation (else their open one, started if need be).
    session_id: Option<String>,
    /// A guest's id, instead of a token.
    guest_id: Option<String>,
    /// An idempotency key: the same one again stores nothing twice.
    client_id: Option<String>,
}

/// `POST /api/support/offline-message` (Bearer, or `guestId` for guests): a message and
/// an email address left while the desk is closed (or any time). The email is kept with
/// the conversation, the message reaches the inbox like any other, and while the desk
/// is closed the office hours' automatic reply (if set) answers it.
#[utoipa::path(post, path = "/api/support/offline-message", tag = "support (seed 003)", security((), ("jwt" = [])),
    request_body = OfflineMessageBody,
    responses((status = 201, description = "Stored: the conversation, the message and the automatic reply (or null)", body = OfflineMessageAnswer),
        (status = 401, description = "No token or guestId, or an unknown one", body = ErrorBody),
        (status = 403, description = "Staff, or not the caller's conversation", body = ErrorBody),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "A bad email or message", body = ErrorBody),
        (status = 429, description = "Too many messages", body = ErrorBody)))]
async fn offline_message(
    state: State,
    caller: RequestCaller,
    body: web::Json<OfflineMessageBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let caller = caller_or_guest(&state, caller, b.guest_id).await?;
    if caller.is_staff() {
        return Err(AppError::forbidden("Staff do not leave offline messages"));
    }
    let email = crate::domain::customer::email(&b.email)?;
    let client_id = crate::domain::text::client_id(b.client_id.as_deref())?;
    let conversation_id = match b.session_id {
        // One that exists and is theirs (a post alone would start a native session).
        Some(id) => {
            let get = GetConversation {
                conversation_id: id,
                caller: caller.clone(),
            };
            state.chat.send(get).await??.conversation.id
        }
        None => {
            let open = OpenConversation {
                caller: caller.clone(),
                subject: None,
                category: None,
                priority: None,
                conversation_type: None,
                reuse_open: true,
                initial_message: None,
                initial_author: None,
            };
            state.chat.send(open).await??.conversation.conversation.id
        }
    };
    let post = |caller, post_as, text: String, client_id| PostMessage {
        origin: None,
        conversation_id: conversation_id.clone(),
        caller,
        post_as,
        text,
        message_type: None,
        client_id,
        attachment_ids: Vec::new(),
    };
    // The message first: one refused (empty, too long, too fast) leaves nothing behind.
    let message = state
        .chat
        .send(post(caller.clone(), PostAs::Customer, b.message, client_id))
        .await??;
    let details = SetCustomerDetails {
        origin: None,
        conversation_id: conversation_id.clone(),
        caller,
        email: Some(email),
        context: None,
    };
    let view = state.chat.send(details).await??;
    let (now, hours) = desk_availability(&state).await?;
    let auto_reply = match now.auto_reply(hours.as_ref()) {
        Some(text) => {
            // Keyed to the customer's message, so a retry is not answered twice.
            let system = Caller::Staff(Identity::server("Auto-reply"));
            let key = Some(format!("auto-reply:{}", message.id));
            let reply = post(system, PostAs::System, text.to_owned(), key);
            Some(message_json(&state.chat.send(reply).await??))
        }
        None => None,
    };
    Ok(HttpResponse::Created().json(json!({
        "success": true,
        "conversation": conversation_json(&view),
        "message": message_json(&message),
        "autoReply": auto_reply,
    })))
}
