//! `/api/server/v1`: the server API for the shop's backend, with an API key
//! (`Authorization: Bearer sk_…`) whose scopes say what it may do. It speaks as a
//! named bot or as `system`, through the same actors as every other surface, so what
//! it posts is stored and delivered live on every dialect (and every node).

use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::json;

use super::openapi::schemas::{Data, Done, ErrorBody};
use crate::actors::chat_server::{
    ChangeConversation, FetchHistory, GetConversation, Notes, OpenConversation, PostAs,
    PostMessage, PostOnce, VerifyGuest,
};
use crate::actors::live_stream::{GetCurrent, PinProducts, SendChat};
use crate::auth::{bearer, Identity};
use crate::db::reads::{self, ConversationsAfter};
use crate::domain::api_key::{self, ApiKey};
use crate::domain::backend::{ConversationData, MessageData};
use crate::domain::conversation::{Status, StatusChange};
use crate::domain::message::HistoryPage;
use crate::domain::stream::LiveState;
use crate::domain::stream::PinnedProduct;
use crate::domain::Caller;
use crate::error::AppError;
use crate::state::AppState;

type State = web::Data<Arc<AppState>>;

/// Most conversations or messages one page holds.
const MAX_PAGE: i64 = 100;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/server/v1")
            .route("/conversations", web::get().to(list_conversations))
            .route("/conversations", web::post().to(open_conversation))
            .route("/conversations/{id}", web::get().to(show_conversation))
            .route("/conversations/{id}", web::patch().to(change_conversation))
            .route("/conversations/{id}/messages", web::get().to(list_messages))
            .route("/conversations/{id}/messages", web::post().to(post_message))
            .route("/stream", web::get().to(current_stream))
            .route("/stream/announcements", web::post().to(announce))
            .route("/stream/pinned-products", web::put().to(pin)),
    );
}

/// The request's API key: 401 without one, or for one unknown or revoked.
pub struct ServiceKey(pub ApiKey);

impl FromRequest for ServiceKey {
    type Error = AppError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let header = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let token = bearer(header).map(str::to_owned);
        let state = req.app_data::<State>().cloned();
        Box::pin(async move {
            let state = state.ok_or_else(AppError::internal)?;
            let token = token.ok_or_else(|| {
                AppError::token_required().with_detail("send Authorization: Bearer sk_…")
            })?;
            if !api_key::is_api_key(&token) {
                return Err(AppError::auth_failed().with_detail("not an API key (sk_…)"));
            }
            let hash = api_key::hash(&token);
            let row = state
                .db
                .query(move |c| reads::api_key_by_hash(c, &hash))
                .await?;
            match row.map(ApiKey::from) {
                Some(key) if key.revoked_at.is_none() => Ok(ServiceKey(key)),
                Some(_) => Err(AppError::auth_failed().with_detail("this API key is revoked")),
                None => Err(AppError::auth_failed().with_detail("unknown API key")),
            }
        })
    }
}

impl ServiceKey {
    /// The key, speaking under `name`: staff-like, so it reaches every conversation
    /// (its scopes, checked by each handler, are what limit it).
    fn caller(&self, name: &str) -> Caller {
        Caller::Staff(Identity {
            user_id: format!("api:{}", self.0.id),
            name: Some(name.to_owned()),
            role: "admin".into(),
            expires_at: i64::MAX,
            attributes: Default::default(),
        })
    }

    /// The name it writes under: the one asked for, else the key's own.
    fn name(&self, asked: Option<&str>) -> Result<String, AppError> {
        match asked {
            Some(n) => api_key::name("name", n),
            None => Ok(self.0.name.clone()),
        }
    }
}

/// Who a message from the backend is from.
#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Sender {
    #[default]
    Bot,
    System,
}

impl Sender {
    fn post_as(self) -> PostAs {
        match self {
            Sender::Bot => PostAs::Bot,
            Sender::System => PostAs::System,
        }
    }
}

fn created(data: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Created().json(json!({"success": true, "data": data}))
}

fn ok(data: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok().json(json!({"success": true, "data": data}))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostBody {
    text: String,
    #[serde(default)]
    sender: Sender,
    /// The bot's name (the key's name when left out).
    name: Option<String>,
}

/// `POST /conversations/{id}/messages` (`messages:write`): a bot's or the system's
/// message. With `Idempotency-Key`, a repeat answers the original (200,
/// `Idempotent-Replayed: true`) instead of storing a second one.
#[utoipa::path(post, path = "/api/server/v1/conversations/{id}/messages", tag = "server",
    security(("apiKey" = ["messages:write"])),
    params(("id" = String, Path, description = "The conversation"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key answers the original")),
    request_body = PostBody,
    responses((status = 201, description = "Stored and delivered", body = Data<MessageData>),
        (status = 200, description = "A repeat of an Idempotency-Key: the original (`Idempotent-Replayed: true`)", body = Data<MessageData>),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 409, description = "The conversation is closed", body = ErrorBody),
        (status = 422, description = "A bad body, or an Idempotency-Key used for another message", body = ErrorBody),
        (status = 429, description = "The key's posting allowance is spent", body = ErrorBody),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks the scope", body = ErrorBody)))]
async fn post_message(
    req: HttpRequest,
    state: State,
    key: ServiceKey,
    id: web::Path<String>,
    body: web::Json<PostBody>,
) -> Result<HttpResponse, AppError> {
    key.0.require("messages:write")?;
    let body = body.into_inner();
    let idempotency_key = match req.headers().get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|k| crate::domain::text::client_id(Some(k)).ok().flatten())
                .ok_or_else(|| {
                    AppError::validation(format!(
                        "Idempotency-Key must be 1 to {} printable characters",
                        crate::domain::text::MAX_ID_LEN
                    ))
                })?,
        ),
        None => None,
    };
    let name = match body.sender {
        Sender::Bot => key.name(body.name.as_deref())?,
        Sender::System => "System".to_owned(),
    };
    let (message, repeat) = state
        .chat
        .send(PostOnce(PostMessage {
            origin: None,
            conversation_id: id.into_inner(),
            caller: key.caller(&name),
            post_as: body.sender.post_as(),
            text: body.text.clone(),
            message_type: None,
            client_id: idempotency_key.clone(),
            attachment_ids: Vec::new(),
        }))
        .await??;
    if repeat {
        // The same request again, as the server would have stored it.
        let text = crate::domain::text::message_text(&body.text, usize::MAX).unwrap_or_default();
        if message.content != text || message.author.name != name {
            return Err(AppError::validation(
                "This Idempotency-Key was used for another message",
            ));
        }
        return Ok(HttpResponse::Ok()
            .insert_header(("Idempotent-Replayed", "true"))
            .json(json!({"success": true, "data": MessageData::from(&message)})));
    }
    Ok(created(MessageData::from(&message)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InitialMessage {
    text: String,
    /// `bot` (default), `system`, or `customer` (relayed in the customer's name).
    #[serde(default)]
    sender: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenBody {
    /// The signed-in customer's user id (as the shop's tokens carry it)…
    user_id: Option<String>,
    /// …or a guest id the server issued.
    guest_id: Option<String>,
    /// The customer's name (a user's; the user id when left out).
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    subject: Option<String>,
    category: Option<String>,
    priority: Option<String>,
    message: Option<InitialMessage>,
}

/// `POST /conversations` (`conversations:write`): a new conversation for a user or a
/// guest, optionally with a first message; staff see it arrive like any other.
#[utoipa::path(post, path = "/api/server/v1/conversations", tag = "server",
    security(("apiKey" = ["conversations:write"])),
    request_body = OpenBody,
    responses((status = 201, description = "Opened", body = Data<ConversationData>),
        (status = 404, description = "No guest has this guestId", body = ErrorBody),
        (status = 422, description = "A bad body", body = ErrorBody),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks the scope", body = ErrorBody)))]
async fn open_conversation(
    state: State,
    key: ServiceKey,
    body: web::Json<OpenBody>,
) -> Result<HttpResponse, AppError> {
    key.0.require("conversations:write")?;
    let b = body.into_inner();
    if b.message.is_some() {
        key.0.require("messages:write")?;
    }
    let customer = match (b.user_id, b.guest_id) {
        (Some(user), None) => {
            let user = crate::domain::text::id_field("userId", &user)?;
            let name = b
                .name
                .as_deref()
                .map(|n| api_key::name("name", n))
                .transpose()?;
            Caller::User(Identity {
                user_id: user,
                name,
                role: "customer".into(),
                expires_at: i64::MAX,
                attributes: Default::default(),
            })
        }
        (None, Some(guest)) => state
            .chat
            .send(VerifyGuest(guest))
            .await?
            .map_err(|_| AppError::not_found("No guest has this guestId"))?,
        _ => {
            return Err(AppError::validation(
                "Give exactly one of userId and guestId",
            ))
        }
    };
    let (initial_message, initial_author) = match b.message {
        None => (None, None),
        Some(m) => {
            if m.text.trim().is_empty() {
                return Err(AppError::validation("message.text must not be empty"));
            }
            let author = match m.sender.as_deref() {
                None | Some("bot") => {
                    let name = key.name(m.name.as_deref())?;
                    Some((key.caller(&name), PostAs::Bot))
                }
                Some("system") => Some((key.caller("System"), PostAs::System)),
                Some("customer") => None,
                Some(_) => {
                    return Err(AppError::validation(
                        "message.sender must be one of: bot, system, customer",
                    ))
                }
            };
            (Some(m.text), author)
        }
    };
    let opened = state
        .chat
        .send(OpenConversation {
            caller: customer,
            subject: b.subject,
            category: b.category,
            priority: b.priority,
            conversation_type: b.kind,
            reuse_open: false,
            initial_message,
            initial_author,
        })
        .await??;
    Ok(created(ConversationData::from(
        &opened.conversation.conversation,
    )))
}

/// `GET /conversations/{id}` (`conversations:read`).
#[utoipa::path(get, path = "/api/server/v1/conversations/{id}", tag = "server",
    security(("apiKey" = ["conversations:read"])),
    params(("id" = String, Path, description = "The conversation")),
    responses((status = 200, description = "The conversation", body = Data<ConversationData>),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks the scope", body = ErrorBody)))]
async fn show_conversation(
    state: State,
    key: ServiceKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    key.0.require("conversations:read")?;
    let view = state
        .chat
        .send(GetConversation {
            conversation_id: id.into_inner(),
            caller: key.caller(&key.0.name),
        })
        .await??;
    Ok(ok(ConversationData::from(&view.conversation)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeBody {
    status: Option<String>,
    /// The agent's user id, and the name shown in the note.
    assignee: Option<String>,
    assignee_name: Option<String>,
}

/// `PATCH /conversations/{id}` (`conversations:write`): `{status}` and/or
/// `{assignee, assigneeName}`; each change is recorded as a system message.
#[utoipa::path(patch, path = "/api/server/v1/conversations/{id}", tag = "server",
    security(("apiKey" = ["conversations:write"])),
    params(("id" = String, Path, description = "The conversation")),
    request_body = ChangeBody,
    responses((status = 200, description = "As changed", body = Data<ConversationData>),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 409, description = "Closed, already so, or a change not allowed from its status", body = ErrorBody),
        (status = 422, description = "A bad body", body = ErrorBody),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks the scope", body = ErrorBody)))]
async fn change_conversation(
    state: State,
    key: ServiceKey,
    id: web::Path<String>,
    body: web::Json<ChangeBody>,
) -> Result<HttpResponse, AppError> {
    key.0.require("conversations:write")?;
    let b = body.into_inner();
    let mut changes = Vec::new();
    if let Some(agent_id) = b.assignee {
        let agent_id = crate::domain::text::id_field("assignee", &agent_id)?;
        let agent_name = match b.assignee_name.as_deref() {
            Some(n) => api_key::name("assigneeName", n)?,
            None => agent_id.clone(),
        };
        changes.push(StatusChange::Assign {
            agent_id,
            agent_name,
        });
    }
    if let Some(status) = b.status.as_deref() {
        let status = Status::parse(status).ok_or_else(|| {
            AppError::validation("status must be one of: waiting, active, resolved, closed")
        })?;
        // An assignment makes it active already.
        if status != Status::Active || changes.is_empty() {
            changes.push(StatusChange::Set(status));
        }
    }
    if changes.is_empty() {
        return Err(AppError::validation("Give status, assignee, or both"));
    }
    let id = id.into_inner();
    let mut view = None;
    for change in changes {
        view = Some(
            state
                .chat
                .send(ChangeConversation {
                    origin: None,
                    conversation_id: id.clone(),
                    caller: key.caller(&key.0.name),
                    change,
                })
                .await??,
        );
    }
    let view = view.ok_or_else(AppError::internal)?;
    Ok(ok(ConversationData::from(&view.conversation)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    customer_id: Option<String>,
    guest_id: Option<String>,
    assignee: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

/// A page of conversations; `nextCursor` asks for the next (null on the last).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationPage {
    success: bool,
    data: Vec<ConversationData>,
    next_cursor: Option<String>,
}

/// A page of messages; `nextAfterSeq` continues (null at the end).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    success: bool,
    data: Vec<MessageData>,
    next_after_seq: Option<i64>,
}

fn page_limit(limit: Option<i64>) -> Result<i64, AppError> {
    let limit = limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::validation(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )));
    }
    Ok(limit)
}

/// A conversation cursor: the last one's creation time and id, opaque to callers.
fn encode_cursor(at: NaiveDateTime, id: &str) -> String {
    use base64::Engine;
    let raw = format!("{}:{id}", at.and_utc().timestamp_millis());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(cursor: &str) -> Result<(NaiveDateTime, String), AppError> {
    use base64::Engine;
    let bad = || AppError::validation("cursor is not one this API gave out");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (millis, id) = raw.split_once(':').ok_or_else(bad)?;
    let at = millis
        .parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .ok_or_else(bad)?;
    Ok((at.naive_utc(), id.to_owned()))
}

/// `GET /conversations` (`conversations:read`): oldest first, filtered by `status`,
/// `type`, `customerId`, `guestId`, `assignee`; `nextCursor` asks for the next page.
#[utoipa::path(get, path = "/api/server/v1/conversations", tag = "server",
    security(("apiKey" = ["conversations:read"])),
    params(ListQuery),
    responses((status = 200, description = "One page, oldest first", body = ConversationPage),
        (status = 422, description = "A bad filter, limit or cursor", body = ErrorBody),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks the scope", body = ErrorBody)))]
async fn list_conversations(
    state: State,
    key: ServiceKey,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    key.0.require("conversations:read")?;
    let q = q.into_inner();
    if let Some(s) = q.status.as_deref() {
        Status::parse(s).ok_or_else(|| {
            AppError::validation("status must be one of: waiting, active, resolved, closed")
        })?;
    }
    let filter = ConversationsAfter {
        status: q.status,
        kind: q.kind,
        customer_id: q.customer_id,
        guest_id: q.guest_id,
        assignee: q.assignee,
        after: q.cursor.as_deref().map(decode_cursor).transpose()?,
        limit: page_limit(q.limit)?,
    };
    let (rows, has_more) = state
        .db
        .query(move |c| reads::conversations_page(c, &filter))
        .await?;
    let next = rows
        .last()
        .filter(|_| has_more)
        .map(|c| encode_cursor(c.created_at, &c.id));
    Ok(HttpResponse::Ok().json(ConversationPage {
        success: true,
        data: rows.iter().map(ConversationData::from).collect(),
        next_cursor: next,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessagesQuery {
    /// Messages after this seq (0: from the first).
    after_seq: Option<i64>,
    limit: Option<i64>,
}

/// `GET /conversations/{id}/messages` (`messages:read`): in seq order from
/// `afterSeq`; `nextAfterSeq` asks for the next page.
#[utoipa::path(get, path = "/api/server/v1/conversations/{id}/messages", tag = "server",
    security(("apiKey" = ["messages:read"])),
    params(("id" = String, Path, description = "The conversation"), MessagesQuery),
    responses((status = 200, description = "One page, in seq order", body = MessagePage),
        (status = 404, description = "No such conversation", body = ErrorBody),
        (status = 422, description = "A bad limit or seq", body = ErrorBody),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks the scope", body = ErrorBody)))]
async fn list_messages(
    state: State,
    key: ServiceKey,
    id: web::Path<String>,
    q: web::Query<MessagesQuery>,
) -> Result<HttpResponse, AppError> {
    key.0.require("messages:read")?;
    let q = q.into_inner();
    let history = state
        .chat
        .send(FetchHistory {
            conversation_id: id.into_inner(),
            caller: key.caller(&key.0.name),
            page: HistoryPage::After {
                seq: q.after_seq.unwrap_or(0),
                limit: page_limit(q.limit)?,
            },
            notes: Notes::Hidden,
        })
        .await??;
    let next = history
        .messages
        .last()
        .filter(|_| history.has_more)
        .map(|m| m.seq);
    Ok(HttpResponse::Ok().json(MessagePage {
        success: true,
        data: history.messages.iter().map(MessageData::from).collect(),
        next_after_seq: next,
    }))
}

/// `GET /stream` (`streams:read`): the live stream, if one is live.
#[utoipa::path(get, path = "/api/server/v1/stream", tag = "server",
    security(("apiKey" = ["streams:read"])),
    responses((status = 200, description = "The live stream, if one is live", body = Data<LiveState>),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks the scope", body = ErrorBody)))]
async fn current_stream(state: State, key: ServiceKey) -> Result<HttpResponse, AppError> {
    key.0.require("streams:read")?;
    Ok(ok(LiveState::of(state.live.send(GetCurrent).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnnouncementBody {
    text: String,
    name: Option<String>,
}

/// `POST /stream/announcements` (`streams:write`): a line in the live chat, shown as
/// the host's (`isAdmin`).
#[utoipa::path(post, path = "/api/server/v1/stream/announcements", tag = "server",
    security(("apiKey" = ["streams:write"])),
    request_body = AnnouncementBody,
    responses((status = 202, description = "Sent to the live chat", body = Done),
        (status = 409, description = "No stream is live", body = ErrorBody),
        (status = 422, description = "A bad body", body = ErrorBody),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks the scope", body = ErrorBody)))]
async fn announce(
    state: State,
    key: ServiceKey,
    body: web::Json<AnnouncementBody>,
) -> Result<HttpResponse, AppError> {
    key.0.require("streams:write")?;
    let b = body.into_inner();
    let name = key.name(b.name.as_deref())?;
    let caller = key.caller(&name);
    state
        .live
        .send(SendChat {
            sender_id: caller.user_id().unwrap_or_default().to_owned(),
            caller,
            username: None,
            text: b.text,
        })
        .await??;
    Ok(HttpResponse::Accepted().json(json!({"success": true})))
}

/// `PUT /stream/pinned-products` (`streams:write`): the live stream's pinned products,
/// as `[{productId, name, price, image, displayOrder}]`.
#[utoipa::path(put, path = "/api/server/v1/stream/pinned-products", tag = "server",
    security(("apiKey" = ["streams:write"])),
    request_body = Vec<PinnedProduct>,
    responses((status = 200, description = "The pinned products now", body = Data<Vec<PinnedProduct>>),
        (status = 409, description = "No stream is live", body = ErrorBody),
        (status = 422, description = "A bad body", body = ErrorBody),
        (status = 401, description = "No key, or an unknown or revoked one", body = ErrorBody), (status = 403, description = "The key lacks the scope", body = ErrorBody)))]
async fn pin(
    state: State,
    key: ServiceKey,
    body: web::Json<Vec<PinnedProduct>>,
) -> Result<HttpResponse, AppError> {
    key.0.require("streams:write")?;
    let pinned = state
        .live
        .send(PinProducts {
            caller: key.caller(&key.0.name),
            stream_id: None,
            products: body.into_inner(),
        })
        .await??;
    Ok(ok(pinned.as_slice()))
}
