//! Webhooks as the Standard Webhooks specification has them: what an endpoint may
//! subscribe to, its `whsec_` secrets, and the `webhook-signature` header
//! (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, several during a rotation).

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::error::AppError;

/// The events an endpoint may ask for.
pub const EVENTS: [&str; 9] = [
    "conversation.created",
    "conversation.status_changed",
    "conversation.assigned",
    "conversation.rated",
    "message.created",
    "message.read",
    "stream.started",
    "stream.stopped",
    "auth_code.verified",
];

/// What `POST /api/admin/webhooks/{id}/test` sends.
pub const TEST_EVENT: &str = "webhook.test";

const SECRET_PREFIX: &str = "whsec_";

/// A new secret: `whsec_` and 24 random bytes in base64.
pub fn new_secret() -> String {
    let mut key = [0u8; 24];
    rand::rng().fill_bytes(&mut key);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// The key a secret stands for (the base64 after `whsec_`).
fn key_of(secret: &str) -> Result<Vec<u8>, AppError> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| AppError::internal().with_detail("a webhook secret is not base64"))
}

/// One signature: `v1,` and the HMAC of `id.timestamp.body`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, AppError> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&key_of(secret)?).map_err(|_| AppError::internal())?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(tag)
    ))
}

/// The `webhook-signature` header: one signature per secret still valid (during a
/// rotation the new one and the previous), space-separated.
pub fn signature_header(
    secrets: &[&str],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, AppError> {
    let signatures: Result<Vec<String>, AppError> = secrets
        .iter()
        .map(|s| sign(s, id, timestamp, body))
        .collect();
    Ok(signatures?.join(" "))
}

/// An endpoint's event list: known names, at least one, each once.
pub fn events(asked: &[String]) -> Result<Vec<String>, AppError> {
    super::text::names_from(asked, &EVENTS, "event")
}

/// A conversation as events carry it.
pub fn conversation_data(c: &crate::domain::conversation::Conversation) -> serde_json::Value {
    serde_json::to_value(super::backend::ConversationData::from(c)).unwrap_or_default()
}

/// A message as events carry it.
pub fn message_data(m: &crate::domain::Message) -> serde_json::Value {
    serde_json::to_value(super::backend::MessageData::from(m)).unwrap_or_default()
}

/// One event's body: `{id, type, timestamp, data}`; the id is the `webhook-id`.
pub fn event_body(
    id: &str,
    kind: &str,
    at: chrono::NaiveDateTime,
    data: serde_json::Value,
) -> String {
    serde_json::json!({
        "id": id,
        "type": kind,
        "timestamp": crate::domain::message::iso_timestamp(at),
        "data": data,
    })
    .to_string()
}

/// When the attempt after `attempts` failed ones goes (`None`: no more). A receiver's
/// `Retry-After` postpones it, never brings it forward.
pub fn next_attempt(
    schedule: &[std::time::Duration],
    attempts: usize,
    retry_after: Option<u64>,
) -> Option<std::time::Duration> {
    let wait = *schedule.get(attempts)?;
    Some(wait.max(std::time::Duration::from_secs(retry_after.unwrap_or(0))))
}

/// An endpoint given in the configuration (`WEBHOOK_ENDPOINTS`, a JSON array): made at
/// start, or brought in line with the configuration if it exists.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seeded {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    /// A `whsec_…` secret the receiver knows.
    pub secret: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// `WEBHOOK_ENDPOINTS`, checked: ids plain and unique, events known, secrets
/// `whsec_` and base64, URLs `http(s)://` (their addresses are checked at each attempt).
pub fn seeded(json: &str) -> Result<Vec<Seeded>, String> {
    let mut all: Vec<Seeded> =
        serde_json::from_str(json).map_err(|e| format!("WEBHOOK_ENDPOINTS: {e}"))?;
    for (i, s) in all.iter_mut().enumerate() {
        let at = |what: &str| format!("WEBHOOK_ENDPOINTS[{i}]: {what}");
        let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if s.id.is_empty() || s.id.len() > 64 || !s.id.chars().all(plain) {
            return Err(at("id must be 1 to 64 letters, digits, - or _"));
        }
        let lower = s.url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(at("url must start with http:// or https://"));
        }
        if !s.secret.starts_with(SECRET_PREFIX) || key_of(&s.secret).is_err() {
            return Err(at("secret must be whsec_ followed by base64"));
        }
        s.events = events(&s.events).map_err(|e| at(&e.to_string()))?;
    }
    let mut ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return Err("WEBHOOK_ENDPOINTS: two endpoints have the same id".into());
    }
    Ok(all)
}

/// An endpoint as admins see it (never with its secret, which is shown once).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub enabled: bool,
    /// Why the server disabled it (`410 Gone` from the receiver), if it did.
    pub disabled_reason: Option<String>,
    /// Until when the previous secret's signature is sent too (a rotation).
    pub previous_secret_until: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip)]
    pub secrets: Vec<String>,
}

/// An endpoint as made or rotated: its details and, this once, its secret.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WithSecret {
    #[serde(flatten)]
    pub endpoint: Endpoint,
    /// `whsec_…`: shown here and at the next rotation only.
    pub secret: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_specification_test_vector() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_rotation_signs_with_each_secret_and_new_secrets_differ() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        let header = signature_header(&[&a, &b], "msg_1", 1, b"{}").unwrap();
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&a, "msg_1", 1, b"{}").unwrap());
        assert_eq!(parts[1], sign(&b, "msg_1", 1, b"{}").unwrap());
    }

    #[test]
    fn retries_follow_the_schedule_and_retry_after_only_postpones() {
        use std::time::Duration;
        let schedule = [
            Duration::ZERO,
            Duration::from_secs(5),
            Duration::from_secs(300),
        ];
        assert_eq!(
            next_attempt(&schedule, 1, None),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            next_attempt(&schedule, 1, Some(60)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            next_attempt(&schedule, 2, Some(1)),
            Some(Duration::from_secs(300))
        );
        assert_eq!(next_attempt(&schedule, 3, None), None);
    }

    #[test]
    fn event_lists_are_checked() {
        assert!(events(&[]).is_err());
        assert!(events(&["message.nope".into()]).is_err());
        let twice = vec!["message.created".to_owned(), "message.created".to_owned()];
        assert_eq!(events(&twice).unwrap(), vec!["message.created"]);
    }
}
