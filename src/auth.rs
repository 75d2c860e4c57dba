//! JWT identity: verification (HS256 only, `exp` enforced), both claim shapes the
//! seeds use, the secret's life cycle, and minting for operators and tests.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Clock skew allowed between the host application and us when a token is checked:
/// `exp` may have passed and `nbf` may lie ahead by this much. Open connections still
/// end at `exp` itself.
pub const LEEWAY_SECS: u64 = 5;

/// The user id the server itself acts under (`Identity::server`).
pub const SERVER_USER_ID: &str = "system";

/// Roles that work the support inbox. `admin` also manages.
pub const STAFF_ROLES: [&str; 4] = ["admin", "staff", "agent", "support"];

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub user_id: String,
    /// The token's `name`/`username`, if it had one.
    pub name: Option<String>,
    pub role: String,
    /// The token's `exp` (Unix seconds): connections end when it passes.
    pub expires_at: i64,
    /// The shop's `attributes` claim (an order number, a plan), kept with the
    /// customer's conversations for staff to see.
    #[serde(default)]
    pub attributes: Attributes,
}

/// Names are shown to others: no control characters, bounded.
fn clean_name(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect::<String>()
        .trim()
        .to_owned()
}

impl Identity {
    pub fn is_staff(&self) -> bool {
        STAFF_ROLES.contains(&self.role.as_str())
    }
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }

    /// The server itself acting with an admin's authority (auto-assign, automatic
    /// replies), under `name`.
    pub fn server(name: &str) -> Identity {
        Identity {
            user_id: SERVER_USER_ID.into(),
            name: Some(name.to_owned()),
            role: "admin".into(),
            expires_at: i64::MAX,
            attributes: Default::default(),
        }
    }

    /// Has the token's `exp` passed? (Connections end then; see `LEEWAY_SECS`.)
    pub fn expired(&self) -> bool {
        self.expires_at <= chrono::Utc::now().timestamp()
    }
}

/// The shop's attributes for a customer (an order number, a plan): names to texts.
pub type Attributes = BTreeMap<String, String>;

/// Most attributes kept, and the longest name and value.
const MAX_ATTRIBUTES: usize = 30;
const MAX_NAME: usize = 64;
const MAX_VALUE: usize = 500;

/// The `attributes` claim of a customer's token: an object of strings, numbers and
/// booleans. The token is the shop's and already verified, so what does not fit is
/// left out (and logged) rather than refusing the customer.
pub fn attributes_from_claim(claim: &serde_json::Value) -> Attributes {
    let Some(object) = claim.as_object() else {
        log::debug!("token attributes claim is not an object; ignored");
        return Attributes::new();
    };
    let mut kept = Attributes::new();
    for (name, value) in object {
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => {
                log::debug!("token attribute {name} is not a string, number or boolean; ignored");
                continue;
            }
        };
        let clean = |s: &str, max: usize| -> String {
            s.chars()
                .filter(|c| !c.is_control())
                .take(max)
                .collect::<String>()
                .trim()
                .to_owned()
        };
        let (name, text) = (clean(name, MAX_NAME), clean(&text, MAX_VALUE));
        if name.is_empty() || kept.len() >= MAX_ATTRIBUTES {
            continue;
        }
        kept.insert(name, text);
    }
    kept
}

/// Seed 000's `{user:{id, role, username}}`.
#[derive(Debug, Serialize, Deserialize)]
struct UserClaim {
    #[serde(deserialize_with = "string_or_number")]
    id: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

/// Accepts both claim shapes; minted tokens carry both so every seed frontend can read them.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<UserClaim>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    exp: i64,
    /// The shop's own facts about the customer: `{"orderNumber": "A-1001", "plan": "pro"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attributes: Option<serde_json::Value>,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom(
            "user id must be a string or number",
        )),
    }
}

/// Verifies tokens with one pinned algorithm and key.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_exp = true;
        // A token is not good before its `nbf`, when it has one.
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Verify a token and extract who it names. Any failure is "Authentication failed".
    pub fn verify(&self, token: &str) -> Result<Identity, AppError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| {
            log::debug!("token rejected: {e}");
            AppError::auth_failed()
        })?;
        let c = data.claims;
        let (user_id, role, name) = match c.user {
            Some(u) => (Some(u.id), u.role.or(c.role), u.username.or(c.name)),
            None => (c.sub, c.role, c.name),
        };
        // Claims are the host's, but still input: ids must be plain, names are cleaned.
        let user_id = user_id
            .filter(|id| !id.is_empty() && id.len() <= 128 && !id.chars().any(char::is_control))
            .ok_or_else(AppError::auth_failed)?;
        let role = role.unwrap_or_else(|| "customer".to_owned());
        let name = name.map(|n| clean_name(&n)).filter(|n| !n.is_empty());
        let attributes = c
            .attributes
            .as_ref()
            .map(attributes_from_claim)
            .unwrap_or_default();
        Ok(Identity {
            user_id,
            name,
            role,
            expires_at: c.exp,
            attributes,
        })
    }

    /// Mint a token carrying both claim shapes.
    pub fn mint(&self, user_id: &str, role: &str, name: &str, ttl: Duration) -> String {
        self.mint_with(user_id, role, name, ttl, None)
    }

    /// `mint`, with the shop's `attributes` claim.
    pub fn mint_with(
        &self,
        user_id: &str,
        role: &str,
        name: &str,
        ttl: Duration,
        attributes: Option<serde_json::Value>,
    ) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            user: Some(UserClaim {
                id: user_id.to_owned(),
                role: Some(role.to_owned()),
                username: Some(name.to_owned()),
            }),
            sub: Some(user_id.to_owned()),
            role: Some(role.to_owned()),
            name: Some(name.to_owned()),
            iat: Some(now),
            exp: now + ttl.as_secs() as i64,
            attributes,
        };
        // Encoding HS256 claims of JSON values cannot fail.
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding of plain claims")
    }
}

/// The secret to use: the configured one, else the one kept in the data directory,
/// else a new random one written there with mode 0600. Returns whether it was generated.
pub fn resolve_secret(
    configured: Option<&str>,
    data_dir: &Path,
) -> std::io::Result<(String, SecretSource)> {
    if let Some(s) = configured.filter(|s| !s.is_empty()) {
        return Ok((s.to_owned(), SecretSource::Configured));
    }
    let path = data_dir.join("jwt_secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            return Ok((existing, SecretSource::DataDir));
        }
    }
    std::fs::create_dir_all(data_dir)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?
    };
    file.write_all(secret.as_bytes())?;
    log::warn!(
        "JWT_SECRET is not set: generated a random secret and stored it in {} (mode 0600)",
        path.display()
    );
    Ok((secret, SecretSource::Generated))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    Configured,
    DataDir,
    Generated,
}

/// Extract `Bearer <token>` from an Authorization header value.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let h = header?.trim();
    let token = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))?
        .trim();
    (!token.is_empty()).then_some(token)
}
