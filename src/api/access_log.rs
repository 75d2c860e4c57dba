//! One access line per HTTP request (target `switchboard::access`): the request id,
//! the client's address (behind a trusted proxy, the one it names), method, path
//! without its query (where tokens may be), status and time. The id is the request's
//! `X-Request-Id` when it brings a sane one (a proxy's), else made here, and the answer
//! carries it back.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::logging::ACCESS;
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(req.headers().get(&REQUEST_ID));
    let peer = req.peer_addr().map(|a| a.ip());
    let client = req
        .app_data::<web::Data<Arc<AppState>>>()
        .and_then(|s| s.proxies.client_ip(peer, req.headers()))
        .map_or_else(|| "-".to_owned(), |ip| ip.to_string());
    let (method, path) = (req.method().to_string(), req.path().to_owned());
    let result = next.call(req).await;
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    let ms = started.elapsed().as_millis() as u64;
    log::info!(
        target: ACCESS,
        request_id = id.as_str(),
        client = client.as_str(),
        method = method.as_str(),
        path = path.as_str(),
        status = status.as_u16(),
        ms = ms;
        "{client} {method} {path} {} {ms}ms",
        status.as_u16()
    );
    let mut res = result?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

/// A proxy's id if it is short and plain, else a new one.
fn request_id(given: Option<&HeaderValue>) -> String {
    given
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(
            || uuid::Uuid::new_v4().simple().to_string()[..16].to_owned(),
            str::to_owned,
        )
}
