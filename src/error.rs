//! One error type for the whole server: a machine-readable code, a human message
//! (the seeds' strings where they have one), and an optional detail. Each surface
//! renders it in its own shape: HTTP JSON here, `{"type":"error"}` in the native dialect.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// What a 503 tells clients to wait before retrying.
pub const RETRY_AFTER_SECS: u64 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidFormat,
    UnknownType,
    Validation,
    TokenRequired,
    AuthFailed,
    TokenExpired,
    Forbidden,
    NotRegistered,
    NotFound,
    Conflict,
    InvalidCode,
    PayloadTooLarge,
    UnsupportedType,
    RateLimited,
    /// The database (or another dependency) is down for now: retry, with the same
    /// `clientId`, later.
    Unavailable,
    Internal,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidFormat => "invalid_format",
            ErrorKind::UnknownType => "unknown_type",
            ErrorKind::Validation => "validation_failed",
            ErrorKind::TokenRequired => "token_required",
            ErrorKind::AuthFailed => "authentication_failed",
            ErrorKind::TokenExpired => "token_expired",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotRegistered => "not_registered",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::InvalidCode => "invalid_code",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::UnsupportedType => "unsupported_media_type",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::InvalidFormat | ErrorKind::UnknownType | ErrorKind::InvalidCode => {
                StatusCode::BAD_REQUEST
            }
            ErrorKind::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::TokenRequired | ErrorKind::AuthFailed | ErrorKind::TokenExpired => {
                StatusCode::UNAUTHORIZED
            }
            ErrorKind::Forbidden | ErrorKind::NotRegistered => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: Cow<'static, str>,
    pub detail: Option<String>,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.detail {
            Some(d) => write!(f, "{}: {}", self.message, d),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for AppError {}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        AppError {
            kind,
            message: message.into(),
            detail: None,
        }
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn invalid_format(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidFormat, "Invalid message format").with_detail(detail)
    }
    pub fn validation(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Validation, message)
    }
    pub fn token_required() -> Self {
        Self::new(ErrorKind::TokenRequired, "Token required")
    }
    pub fn auth_failed() -> Self {
        Self::new(ErrorKind::AuthFailed, "Authentication failed")
    }
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// A command that needs a registered connection came before `register`.
    pub fn not_registered() -> Self {
        Self::new(ErrorKind::NotRegistered, "Not registered")
            .with_detail("send register or register_admin first")
    }
    /// Someone else's conversation (or none the caller may know of).
    pub fn access_denied() -> Self {
        Self::forbidden("Access denied to this conversation")
    }
    pub fn conversation_not_found() -> Self {
        Self::not_found("Conversation not found")
    }
    pub fn insufficient_permissions() -> Self {
        Self::forbidden("Insufficient permissions")
    }
    pub fn rate_limited() -> Self {
        Self::new(ErrorKind::RateLimited, "Rate limit exceeded")
    }
    /// A connection's token reached its `exp`.
    pub fn token_expired() -> Self {
        Self::new(ErrorKind::TokenExpired, "Token expired")
    }
    /// Storage is down: the request did nothing and may be retried.
    pub fn unavailable() -> Self {
        Self::new(ErrorKind::Unavailable, "Service temporarily unavailable")
    }
    pub fn internal() -> Self {
        Self::new(ErrorKind::Internal, "Internal server error")
    }
}

impl From<actix::MailboxError> for AppError {
    fn from(e: actix::MailboxError) -> Self {
        log::error!("actor mailbox: {e}");
        AppError::internal()
    }
}

/// REST errors use seed 000's failure shape `{success:false, message}`, plus `code`.
impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut body =
            json!({ "success": false, "message": self.message, "code": self.kind.code() });
        if let Some(d) = &self.detail {
            body["detail"] = json!(d);
        }
        let mut res = HttpResponse::build(self.status_code());
        if self.kind == ErrorKind::Unavailable {
            res.insert_header((actix_web::http::header::RETRY_AFTER, RETRY_AFTER_SECS));
        }
        res.json(body)
    }
}
