//! The team desk's own REST (staff): what the seeds have no word for. Private notes,
//! canned responses, labels and the inbox they filter, search, agents' availability and
//! capacity, and the queue.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::openapi::schemas::{Data, Done, ErrorBody};
use super::openapi::seeds::{NativeConversation, NativeConversations, NativeMessage};
use super::RequestCaller;
use crate::actors::chat_server::{
    AgentState, ChangeAgent, ChangeLabels, DeskState, GetDesk, ListConversations, PostAs,
    PostMessage, Search, SnoozeConversation,
};
use crate::db::reads;
use crate::dialects::native::{conversation_json, message_json};
use crate::domain::agent::Availability;
use crate::domain::canned::{self, CannedResponse};
use crate::domain::conversation::Owner;
use crate::domain::office_hours::{OfficeHours, OfficeHoursJson, OFFICE_HOURS};
use crate::domain::widget_look::{WidgetLook, WIDGET_LOOK};
use crate::domain::writes::{DeleteCanned, SaveCanned, SaveSetting};
use crate::error::AppError;
use crate::state::AppState;

type State = web::Data<Arc<AppState>>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/desk")
            .route("/conversations", web::get().to(conversations))
            .route("/search", web::get().to(search))
            .route("/queue", web::get().to(queue))
            .route("/agents/{id}/availability", web::put().to(set_availability))
            .route("/agents/{id}/capacity", web::put().to(set_capacity))
            .route(
                "/conversations/{id}/labels/{label}",
                web::put().to(add_label),
            )
            .route(
                "/conversations/{id}/labels/{label}",
                web::delete().to(remove_label),
            )
            .route("/conversations/{id}/notes", web::post().to(add_note))
            .route("/conversations/{id}/snooze", web::put().to(snooze))
            .route("/widget", web::put().to(set_widget_look))
            .route("/widget", web::delete().to(reset_widget_look))
            .route("/office-hours", web::get().to(office_hours))
            .route("/office-hours", web::put().to(set_office_hours))
            .route("/office-hours", web::delete().to(clear_office_hours))
            .route("/canned-responses", web::get().to(list_canned))
            .route("/canned-responses", web::post().to(create_canned))
            .route("/canned-responses/{id}", web::patch().to(change_canned))
            .route("/canned-responses/{id}", web::delete().to(delete_canned)),
    )
    .route("/api/widget", web::get().to(widget_look));
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

/// `GET /api/desk/canned-responses` (staff): every canned response, by shortcut.
#[utoipa::path(get, path = "/api/desk/canned-responses", tag = "desk", security(("jwt" = [])),
    responses((status = 200, description = "Every canned response, by shortcut", body = Data<Vec<CannedResponse>>),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn list_canned(state: State, caller: RequestCaller) -> Result<HttpResponse, AppError> {
    caller.staff()?;
    let rows = state.db.query(reads::canned_responses).await?;
    let data: Vec<CannedResponse> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CannedBody {
    /// What follows `/` in the composer (1–32 letters, digits, `-`, `_`; stored lowercase).
    shortcut: Option<String>,
    /// The text; `{{customer.name}}` and `{{agent.name}}` are filled in by the console.
    content: Option<String>,
}

/// `POST /api/desk/canned-responses` (admin) `{shortcut, content}`.
#[utoipa::path(post, path = "/api/desk/canned-responses", tag = "desk", security(("jwt" = [])),
    request_body = CannedBody,
    responses((status = 201, description = "Made", body = Data<CannedResponse>),
        (status = 409, description = "Another has the shortcut", body = ErrorBody), (status = 422, description = "A bad body", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn create_canned(
    state: State,
    caller: RequestCaller,
    body: web::Json<CannedBody>,
) -> Result<HttpResponse, AppError> {
    let admin = caller.admin()?;
    let body = body.into_inner();
    let write = SaveCanned {
        id: format!("cr_{}", uuid::Uuid::new_v4().simple()),
        shortcut: Some(canned::shortcut(
            body.shortcut.as_deref().unwrap_or_default(),
        )?),
        content: Some(canned::content(
            body.content.as_deref().unwrap_or_default(),
        )?),
        by: admin.user_id().unwrap_or_default().to_owned(),
        create: true,
    };
    let made = state
        .db
        .write(write)
        .await?
        .ok_or_else(AppError::internal)?;
    let data: CannedResponse = made.into();
    Ok(HttpResponse::Created().json(json!({"success": true, "data": data})))
}

/// `PATCH /api/desk/canned-responses/{id}` (admin) `{shortcut?, content?}`.
#[utoipa::path(patch, path = "/api/desk/canned-responses/{id}", tag = "desk", security(("jwt" = [])),
    params(("id" = String, Path, description = "The response")),
    request_body = CannedBody,
    responses((status = 200, description = "Changed", body = Data<CannedResponse>), (status = 404, description = "No such response", body = ErrorBody),
        (status = 409, description = "Another has the shortcut", body = ErrorBody), (status = 422, description = "A bad body", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn change_canned(
    state: State,
    caller: RequestCaller,
    path: web::Path<String>,
    body: web::Json<CannedBody>,
) -> Result<HttpResponse, AppError> {
    let admin = caller.admin()?;
    let body = body.into_inner();
    let write = SaveCanned {
        id: path.into_inner(),
        shortcut: body.shortcut.as_deref().map(canned::shortcut).transpose()?,
        content: body.content.as_deref().map(canned::content).transpose()?,
        by: admin.user_id().unwrap_or_default().to_owned(),
        create: false,
    };
    let changed = state.db.write(write).await?.ok_or_else(not_found)?;
    let data: CannedResponse = changed.into();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data})))
}

/// `DELETE /api/desk/canned-responses/{id}` (admin).
#[utoipa::path(delete, path = "/api/desk/canned-responses/{id}", tag = "desk", security(("jwt" = [])),
    params(("id" = String, Path, description = "The response")),
    responses((status = 200, description = "Deleted", body = Done), (status = 404, description = "No such response", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn delete_canned(
    state: State,
    caller: RequestCaller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let id = path.into_inner();
    if !state.db.write(DeleteCanned { id }).await? {
        return Err(not_found());
    }
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

fn not_found() -> AppError {
    AppError::not_found("Canned response not found")
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// waiting, active, resolved, closed, or open (waiting or active): those not
    /// snoozed; or `snoozed`: those snoozed, whatever their status.
    status: Option<String>,
    /// Only conversations with this label.
    label: Option<String>,
    /// One signed-in customer's conversations (snoozed or not, with a message or not).
    #[serde(rename = "customerId")]
    #[param(rename = "customerId")]
    customer_id: Option<String>,
    /// One guest's conversations.
    #[serde(rename = "guestId")]
    #[param(rename = "guestId")]
    guest_id: Option<String>,
    /// 1 to 100; 50 by default.
    limit: Option<i64>,
    offset: Option<i64>,
}

/// `GET /api/desk/conversations?status=&label=&customerId=&guestId=&limit=&offset=`
/// (staff): the inbox, newest activity first, every conversation with its labels,
/// unread count and last message; or one customer's conversations.
#[utoipa::path(get, path = "/api/desk/conversations", tag = "desk", security(("jwt" = [])),
    params(InboxQuery),
    responses((status = 200, description = "A page of conversations", body = NativeConversations),
        (status = 422, description = "A bad filter", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn conversations(
    state: State,
    caller: RequestCaller,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, AppError> {
    let caller = caller.staff()?;
    let q = query.into_inner();
    let (status, mut snoozed) = crate::domain::conversation::desk_view(q.status);
    let customer = match (q.customer_id, q.guest_id) {
        (Some(_), Some(_)) => {
            return Err(AppError::validation("give customerId or guestId, not both"))
        }
        (Some(u), None) => Some(Owner::User(u)),
        (None, Some(g)) => Some(Owner::Guest(g)),
        (None, None) => None,
    };
    if customer.is_some() {
        snoozed = crate::domain::conversation::Snoozed::Any;
    }
    let list = state
        .chat
        .send(ListConversations {
            caller,
            customer,
            status,
            label: q.label,
            snoozed,
            conversation_type: None,
            offset: q.offset.unwrap_or(0),
            limit: q.limit.unwrap_or(50),
        })
        .await??;
    let data: Vec<_> = list
        .items
        .iter()
        .map(|c| conversation_json(c, true))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data, "total": list.total})))
}

/// `PUT /api/desk/conversations/{id}/labels/{label}` (staff): label it (again is fine).
#[utoipa::path(put, path = "/api/desk/conversations/{id}/labels/{label}", tag = "desk", security(("jwt" = [])),
    params(("id" = String, Path, description = "The conversation"), ("label" = String, Path, description = "1 to 32 letters, digits, - or _ (stored lowercase)")),
    responses((status = 200, description = "The conversation with its labels", body = Data<NativeConversation>),
        (status = 404, description = "No such conversation", body = ErrorBody), (status = 422, description = "A bad label, or too many", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn add_label(
    state: State,
    caller: RequestCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    relabel(state, caller, path.into_inner(), true).await
}

/// `DELETE /api/desk/conversations/{id}/labels/{label}` (staff): take the label off
/// (one it does not have is fine).
#[utoipa::path(delete, path = "/api/desk/conversations/{id}/labels/{label}", tag = "desk", security(("jwt" = [])),
    params(("id" = String, Path, description = "The conversation"), ("label" = String, Path, description = "The label")),
    responses((status = 200, description = "The conversation with its labels", body = Data<NativeConversation>),
        (status = 404, description = "No such conversation", body = ErrorBody), (status = 422, description = "A bad label", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn remove_label(
    state: State,
    caller: RequestCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    relabel(state, caller, path.into_inner(), false).await
}

async fn relabel(
    state: State,
    caller: RequestCaller,
    (id, label): (String, String),
    add: bool,
) -> Result<HttpResponse, AppError> {
    let caller = caller.staff()?;
    let (add, remove) = if add {
        (vec![label], vec![])
    } else {
        (vec![], vec![label])
    };
    let conversation = state
        .chat
        .send(ChangeLabels {
            origin: None,
            conversation_id: id,
            caller,
            add,
            remove,
        })
        .await??;
    Ok(HttpResponse::Ok()
        .json(json!({"success": true, "data": conversation_json(&conversation, true)})))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words to find: every one, as a word prefix, in message text; or a customer's
    /// name (part of it) or id, or a conversation id.
    q: String,
    /// 1 to 100; 20 by default.
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Search results: customers' conversations (first page only) and a page of messages.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(non_snake_case)]
pub struct SearchPage {
    pub conversations: Vec<NativeConversation>,
    pub messages: Vec<crate::domain::search::Hit>,
    pub total: i64,
    pub hasMore: bool,
}

/// `GET /api/desk/search?q=&limit=&offset=` (staff): conversations whose customer
/// matches, and messages (notes included, marked) whose text has every word, newest
/// first, each with its snippet in parts (`match: true` for the words found).
#[utoipa::path(get, path = "/api/desk/search", tag = "desk", security(("jwt" = [])),
    params(SearchQuery),
    responses((status = 200, description = "Matches", body = Data<SearchPage>),
        (status = 422, description = "No word to search for, or a bad page", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn search(
    state: State,
    caller: RequestCaller,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let caller = caller.staff()?;
    let q = query.into_inner();
    let results = state
        .chat
        .send(Search {
            caller,
            q: q.q,
            offset: q.offset.unwrap_or(0),
            limit: q.limit.unwrap_or(20),
        })
        .await??;
    let conversations: Vec<_> = results
        .conversations
        .iter()
        .map(|c| conversation_json(c, true))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": {
        "conversations": conversations,
        "messages": results.messages,
        "total": results.total,
        "hasMore": results.has_more,
    }})))
}

/// `GET /api/desk/queue` (staff): the customers waiting for an agent, first come first,
/// with their expected wait; and the agents, with their availability, capacity and load.
#[utoipa::path(get, path = "/api/desk/queue", tag = "desk", security(("jwt" = [])),
    responses((status = 200, description = "The queue and the agents", body = Data<DeskState>),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn queue(state: State, caller: RequestCaller) -> Result<HttpResponse, AppError> {
    let caller = caller.staff()?;
    let desk = state.chat.send(GetDesk { caller }).await??;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": desk})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityBody {
    /// online, away or busy.
    availability: String,
}

/// `PUT /api/desk/agents/{id}/availability` (the agent themself, or an admin):
/// `online` agents are auto-assigned new conversations; `away` and `busy` are not.
#[utoipa::path(put, path = "/api/desk/agents/{id}/availability", tag = "desk", security(("jwt" = [])),
    params(("id" = String, Path, description = "The agent's user id")),
    request_body = AvailabilityBody,
    responses((status = 200, description = "The agent", body = Data<AgentState>),
        (status = 422, description = "Not one of online, away, busy", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not this agent, nor an admin", body = ErrorBody)))]
async fn set_availability(
    state: State,
    caller: RequestCaller,
    path: web::Path<String>,
    body: web::Json<AvailabilityBody>,
) -> Result<HttpResponse, AppError> {
    let caller = caller.staff()?;
    let availability = Availability::parse(&body.availability)?;
    change_agent(&state, caller, path.into_inner(), Some(availability), None).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityBody {
    /// 0 to 100 active conversations; `null` for the server's `AUTO_ASSIGN_CAPACITY`.
    capacity: Option<i64>,
}

/// `PUT /api/desk/agents/{id}/capacity` (admin): how many active conversations
/// auto-assignment gives the agent at most.
#[utoipa::path(put, path = "/api/desk/agents/{id}/capacity", tag = "desk", security(("jwt" = [])),
    params(("id" = String, Path, description = "The agent's user id")),
    request_body = CapacityBody,
    responses((status = 200, description = "The agent", body = Data<AgentState>),
        (status = 422, description = "Out of range", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn set_capacity(
    state: State,
    caller: RequestCaller,
    path: web::Path<String>,
    body: web::Json<CapacityBody>,
) -> Result<HttpResponse, AppError> {
    let caller = caller.staff()?;
    change_agent(&state, caller, path.into_inner(), None, Some(body.capacity)).await
}

async fn change_agent(
    state: &State,
    caller: crate::domain::Caller,
    user_id: String,
    availability: Option<Availability>,
    capacity: Option<Option<i64>>,
) -> Result<HttpResponse, AppError> {
    let agent = state
        .chat
        .send(ChangeAgent {
            caller,
            user_id,
            availability,
            capacity,
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": agent})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnoozeBody {
    /// Until when (`2026-12-24T09:00:00.000Z`, within 90 days); `null` wakes it now.
    until: Option<String>,
}

/// `PUT /api/desk/conversations/{id}/snooze` (staff): out of the inbox until `until`,
/// or until its customer writes, whichever comes first.
#[utoipa::path(put, path = "/api/desk/conversations/{id}/snooze", tag = "desk", security(("jwt" = [])),
    params(("id" = String, Path, description = "The conversation")),
    request_body = SnoozeBody,
    responses((status = 200, description = "The conversation, with `snoozedUntil`", body = Data<NativeConversation>),
        (status = 404, description = "No such conversation", body = ErrorBody), (status = 422, description = "A bad time", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn snooze(
    state: State,
    caller: RequestCaller,
    path: web::Path<String>,
    body: web::Json<SnoozeBody>,
) -> Result<HttpResponse, AppError> {
    let caller = caller.staff()?;
    let conversation = state
        .chat
        .send(SnoozeConversation {
            origin: None,
            conversation_id: path.into_inner(),
            caller,
            until: body.into_inner().until,
        })
        .await??;
    Ok(HttpResponse::Ok()
        .json(json!({"success": true, "data": conversation_json(&conversation, true)})))
}

/// `GET /api/desk/office-hours` (staff): the team's hours (`data: null`: none set, so
/// only whether an agent is online decides).
#[utoipa::path(get, path = "/api/desk/office-hours", tag = "desk", security(("jwt" = [])),
    responses((status = 200, description = "The office hours, or null", body = Data<Option<OfficeHoursJson>>),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not staff", body = ErrorBody)))]
async fn office_hours(state: State, caller: RequestCaller) -> Result<HttpResponse, AppError> {
    caller.staff()?;
    let stored = state
        .db
        .query(|c| reads::desk_setting(c, OFFICE_HOURS))
        .await?;
    let data = stored
        .as_deref()
        .and_then(OfficeHours::from_stored)
        .map(|h| h.to_json());
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": data})))
}

/// `PUT /api/desk/office-hours` (admin): weekly hours in a time zone, holidays, and an
/// optional automatic reply to messages left while closed. Every node uses them at once.
#[utoipa::path(put, path = "/api/desk/office-hours", tag = "desk", security(("jwt" = [])),
    request_body = OfficeHoursJson,
    responses((status = 200, description = "The office hours as stored", body = Data<OfficeHoursJson>),
        (status = 422, description = "A bad time zone, day, time, span or date, named", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn set_office_hours(
    state: State,
    caller: RequestCaller,
    body: web::Json<OfficeHoursJson>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let stored = OfficeHours::parse(&body.into_inner())?.to_json();
    let value = serde_json::to_string(&stored).map_err(|_| AppError::internal())?;
    save_setting(&state, OFFICE_HOURS, Some(value)).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": stored})))
}

/// `DELETE /api/desk/office-hours` (admin): no office hours; the desk is open whenever
/// an agent is online.
#[utoipa::path(delete, path = "/api/desk/office-hours", tag = "desk", security(("jwt" = [])),
    responses((status = 200, description = "Cleared", body = Done),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn clear_office_hours(state: State, caller: RequestCaller) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    save_setting(&state, OFFICE_HOURS, None).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

/// `GET /api/widget` (public): how the customer widget looks and greets; every widget
/// asks when it loads.
#[utoipa::path(get, path = "/api/widget", tag = "desk",
    responses((status = 200, description = "The widget's look (the defaults until an admin sets one)", body = Data<WidgetLook>)))]
async fn widget_look(state: State) -> Result<HttpResponse, AppError> {
    let stored = state
        .db
        .query(|c| reads::desk_setting(c, WIDGET_LOOK))
        .await?;
    let look = stored
        .as_deref()
        .map(WidgetLook::from_stored)
        .unwrap_or_default();
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": look})))
}

/// `PUT /api/desk/widget` (admin): the widget's colour, side, greeting, team name and
/// avatar, for every widget from its next load.
#[utoipa::path(put, path = "/api/desk/widget", tag = "desk", security(("jwt" = [])),
    request_body = WidgetLook,
    responses((status = 200, description = "The look as stored", body = Data<WidgetLook>),
        (status = 422, description = "A bad colour, side, text or avatar URL, named", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn set_widget_look(
    state: State,
    caller: RequestCaller,
    body: web::Json<WidgetLook>,
) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    let look = body.into_inner().checked()?;
    let value = serde_json::to_string(&look).map_err(|_| AppError::internal())?;
    save_setting(&state, WIDGET_LOOK, Some(value)).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true, "data": look})))
}

/// `DELETE /api/desk/widget` (admin): back to the default look.
#[utoipa::path(delete, path = "/api/desk/widget", tag = "desk", security(("jwt" = [])),
    responses((status = 200, description = "Reset", body = Done),
        (status = 401, description = "No token", body = ErrorBody), (status = 403, description = "Not an admin", body = ErrorBody)))]
async fn reset_widget_look(state: State, caller: RequestCaller) -> Result<HttpResponse, AppError> {
    caller.admin()?;
    save_setting(&state, WIDGET_LOOK, None).await?;
    Ok(HttpResponse::Ok().json(json!({"success": true})))
}

/// Keep (or with `None` clear) a desk setting.
async fn save_setting(state: &State, name: &str, value: Option<String>) -> Result<(), AppError> {
    let write = SaveSetting {
        name: name.to_owned(),
        value,
    };
    state.db.write(write).await
}
