//! REST routes: thin handlers that validate, authorize and call an actor.

pub mod access_log;
pub mod api_keys;
pub mod chat;
pub mod chat_sessions;
pub mod desk;
pub mod health;
pub mod live;
pub mod live_moderation;
pub mod metrics;
pub mod multipart;
pub mod openapi;
pub mod pages;
pub mod server;
pub mod support;
pub mod webhooks;

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::{InternalError, JsonPayloadError};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use actix_web::{guard, web, FromRequest, HttpRequest, ResponseError};
use futures_util::future::{ready, Ready};

use crate::auth::bearer;
use crate::domain::Caller;
use crate::error::{AppError, ErrorKind};
use crate::state::AppState;
use crate::transport::browser_key::BrowserKey;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(256 * 1024)
            .error_handler(|e, _| {
                let app_error = json_error(&e);
                InternalError::from_response(e, app_error.error_response()).into()
            }),
    )
    .app_data(web::QueryConfig::default().error_handler(|e, _| {
        let app_error = AppError::validation("Invalid query parameters").with_detail(e.to_string());
        InternalError::from_response(e, app_error.error_response()).into()
    }))
    .route("/ws", web::get().to(crate::dialects::native::upgrade))
    // The seeds' frontends open `ws://host:3000` (path `/`).
    .route(
        "/",
        web::get()
            .guard(guard::Header("upgrade", "websocket"))
            .to(crate::dialects::native::upgrade),
    )
    .route("/api/openapi.json", web::get().to(openapi::serve))
    .route("/health", web::get().to(health::health))
    .route("/health/live", web::get().to(health::live))
    .route("/health/ready", web::get().to(health::ready))
    .route(
        "/socket.io/",
        web::route().to(crate::transport::socketio::endpoint::<crate::dialects::sio::ChatSocket>),
    )
    .service(
        web::scope("/api/chat")
            .route("/send-to-staff", web::post().to(chat::send_to_staff))
            .route(
                "/sessions/{session_id}/messages",
                web::get().to(chat::session_messages),
            )
            .route("/sessions/{session_id}/rating", web::post().to(chat::rate))
            .route(
                "/sessions/{session_id}/transcript",
                web::get().to(chat::transcript),
            ),
    )
    .configure(chat_sessions::configure)
    .configure(desk::configure)
    .configure(live::configure)
    .configure(live_moderation::configure)
    .configure(support::configure)
    .configure(webhooks::configure)
    .configure(api_keys::configure)
    .configure(server::configure)
    .configure(pages::configure);
}

/// REST answers carry the browser-key cookie that anonymous sessions are bound to: a
/// request without one gets a new key, which its handler sees as if it had been sent.
/// The cookie is set only where that key may now own something (a successful request
/// without a token), so that an answer binding nothing never replaces the key a
/// concurrent request (the WebSocket upgrade, say) bound a session to.
pub async fn browser_key(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let key = req
        .path()
        .starts_with("/api/")
        .then(|| BrowserKey::of(req.request()));
    if let Some(key) = &key {
        req.extensions_mut().insert(key.clone());
    }
    let anonymous = !req
        .headers()
        .contains_key(actix_web::http::header::AUTHORIZATION);
    let mut res = next.call(req).await?;
    let settings = res
        .request()
        .app_data::<web::Data<crate::transport::ConnSettings>>()
        .map(|c| c.cookie);
    let binds = anonymous && res.status().is_success();
    if let (Some(key), Some(settings), true) = (key.filter(|k| k.issued), settings, binds) {
        let proxies = res
            .request()
            .app_data::<web::Data<Arc<AppState>>>()
            .map(|s| s.proxies.clone())
            .unwrap_or_default();
        let cookie = key.cookie(settings, res.request(), &proxies);
        res.response_mut().add_cookie(&cookie)?;
    }
    Ok(res)
}

/// A body that did not parse: 400 when it is not JSON, 422 when its fields are wrong.
fn body_error(e: &serde_json::Error) -> AppError {
    let kind = if e.is_data() {
        ErrorKind::Validation
    } else {
        ErrorKind::InvalidFormat
    };
    AppError::new(kind, "Invalid request body").with_detail(e.to_string())
}

/// Syntax errors are 400, well-formed bodies with invalid fields 422, and so on.
fn json_error(e: &JsonPayloadError) -> AppError {
    let detail = e.to_string();
    match e {
        JsonPayloadError::ContentType => AppError::new(
            ErrorKind::UnsupportedType,
            "Content-Type must be application/json",
        ),
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            AppError::new(ErrorKind::PayloadTooLarge, "Request body too large")
        }
        JsonPayloadError::Deserialize(d) => return body_error(d),
        _ => AppError::new(ErrorKind::InvalidFormat, "Invalid request body"),
    }
    .with_detail(detail)
}

/// A JSON body that may be left out (empty means `T::default()`), but that must be valid
/// when it is there: `Option<web::Json<T>>` would quietly treat a bad body as no body.
pub struct OptionalJson<T>(pub T);

impl<T: serde::de::DeserializeOwned + Default + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let body = body.await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(T::default()));
            }
            serde_json::from_slice(&body)
                .map(OptionalJson)
                .map_err(|e| body_error(&e).into())
        })
    }
}

/// `?guestId=`: how a guest (seed 003) identifies itself on requests without a token.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuestQuery {
    pub guest_id: Option<String>,
}

/// The caller, or for a request without a token, the guest its `guestId` names.
/// Neither is "Token required".
pub async fn caller_or_guest(
    state: &AppState,
    caller: RequestCaller,
    guest_id: Option<String>,
) -> Result<Caller, AppError> {
    match (caller.0, guest_id) {
        (Caller::Anonymous(_), Some(g)) => {
            state
                .chat
                .send(crate::actors::chat_server::VerifyGuest(g))
                .await?
        }
        (Caller::Anonymous(_), None) => Err(AppError::token_required()),
        (c, _) => Ok(c),
    }
}

impl RequestCaller {
    /// Anyone with a valid token.
    pub fn signed_in(self) -> Result<Caller, AppError> {
        match self.0 {
            Caller::Anonymous(_) => Err(AppError::token_required()),
            c => Ok(c),
        }
    }

    /// Admins only: 401 without a token, 403 for anyone else.
    pub fn admin(self) -> Result<Caller, AppError> {
        match self.signed_in()? {
            Caller::Staff(i) if i.is_admin() => Ok(Caller::Staff(i)),
            _ => Err(AppError::insufficient_permissions()),
        }
    }

    /// Staff only: 401 without a token, 403 for customers.
    pub fn staff(self) -> Result<Caller, AppError> {
        match self.signed_in()? {
            c if c.is_staff() => Ok(c),
            _ => Err(AppError::insufficient_permissions()),
        }
    }
}

/// The caller named by an optional `Authorization: Bearer` token. A token that is
/// present but invalid is refused rather than silently ignored.
pub struct RequestCaller(pub Caller);

impl FromRequest for RequestCaller {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let header = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let result = match (bearer(header), req.app_data::<web::Data<Arc<AppState>>>()) {
            // Without a token: this browser, by its key (`browser_key`).
            (None, _) => {
                let key = req.extensions().get::<BrowserKey>().cloned();
                Ok(RequestCaller(Caller::Anonymous(key.map(|k| k.binding()))))
            }
            (Some(token), Some(state)) => state
                .keys
                .verify(token)
                .map(|i| RequestCaller(Caller::from_identity(Some(i)))),
            (Some(_), None) => Err(AppError::internal()),
        };
        ready(result)
    }
}
