//! API keys for the shop's backend (the server API): `sk_` and 32 random bytes, made by
//! admins and shown once. Only their SHA-256 is stored (the keys are random, so a
//! fast hash is enough); each key holds scopes that say what it may do.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::AppError;

/// What a key may be given.
pub const SCOPES: [&str; 6] = [
    "conversations:read",
    "conversations:write",
    "messages:read",
    "messages:write",
    "streams:read",
    "streams:write",
];

const PREFIX: &str = "sk_";

/// A new key, and what is stored of it: its hash and its first characters (so admins
/// can tell keys apart in a list).
pub struct NewKey {
    pub key: String,
    pub hash: String,
    pub prefix: String,
}

pub fn new_key() -> NewKey {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let key = format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    NewKey {
        hash: hash(&key),
        prefix: key.chars().take(PREFIX.len() + 6).collect(),
        key,
    }
}

/// The stored form of a key.
pub fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Whether a bearer token is meant as an API key (rather than a JWT).
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// Check and tidy the scopes asked for a new key.
pub fn scopes(asked: &[String]) -> Result<Vec<String>, AppError> {
    super::text::names_from(asked, &SCOPES, "scope")
}

/// A key as admins see it (never the key itself), and as the server API checks it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    /// The key's first characters (`sk_` and six more).
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A key as made: its details and, this once, the key itself.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MadeKey {
    #[serde(flatten)]
    pub details: ApiKey,
    /// `sk_…`: shown here only.
    pub key: String,
}

impl ApiKey {
    /// 403 unless the key holds `scope`.
    pub fn require(&self, scope: &str) -> Result<(), AppError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(AppError::insufficient_permissions()
                .with_detail(format!("this API key lacks the {scope} scope")))
        }
    }
}

/// A name for a key or a bot: 1 to 100 characters, trimmed.
pub fn name(field: &str, value: &str) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > 100 {
        return Err(AppError::validation(format!(
            "{field} must be 1 to 100 characters"
        )));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_random_and_only_its_hash_is_kept() {
        let a = new_key();
        let b = new_key();
        assert_ne!(a.key, b.key);
        assert!(a.key.starts_with("sk_") && a.key.len() > 40, "{}", a.key);
        assert_eq!(a.hash, hash(&a.key));
        assert_eq!(a.hash.len(), 64);
        assert!(a.key.starts_with(&a.prefix) && a.prefix.len() == 9);
        assert!(is_api_key(&a.key) && !is_api_key("eyJhbGciOi"));
    }

    #[test]
    fn scopes_are_checked() {
        let ok = scopes(&["messages:write".into(), "messages:write".into()]).unwrap();
        assert_eq!(ok, vec!["messages:write"]);
        assert!(scopes(&[]).is_err());
        assert!(scopes(&["messages:delete".into()]).is_err());
        let key = ApiKey {
            id: "key_1".into(),
            name: "n".into(),
            prefix: "sk_abcdef".into(),
            scopes: ok,
            created_by: "ann".into(),
            created_at: "2026-12-01T00:00:00.000Z".into(),
            revoked_at: None,
        };
        assert!(key.require("messages:write").is_ok());
        assert_eq!(
            key.require("streams:write").unwrap_err().kind,
            crate::error::ErrorKind::Forbidden
        );
    }
}
