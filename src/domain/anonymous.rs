//! Anonymous sessions (seed 000): the client picks the session id, so the id alone
//! must not be enough to use it. A session belongs to the browser that first used
//! it: every browser gets a random key in an HttpOnly cookie, and the session stores
//! the hash of that key (its binding). Later use of the session needs the same key,
//! or the session's secret, which the server derives from the binding and hands out
//! in `registered` (for clients without cookies).

use hmac::{Hmac, Mac};

use super::conversation::Owner;
use super::Caller;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The browser-key cookie.
pub const BROWSER_COOKIE: &str = "sb_key";

/// A new browser key: 128 random bits, hex.
pub fn new_browser_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Is this a key we could have issued? (Anything else in the cookie is replaced.)
pub fn is_browser_key(raw: &str) -> bool {
    raw.len() == 32 && raw.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What a session stores of the browser it belongs to: the key itself never is.
pub fn binding_of(browser_key: &str) -> String {
    hex::encode(Sha256::digest(format!("sb-browser:{browser_key}")))
}

/// Session secrets: HMAC-SHA256 under a key derived from the server's secret, so
/// the server can check one without storing it, and a leaked table gives none.
#[derive(Clone)]
pub struct SessionSecrets {
    key: Vec<u8>,
}

impl std::fmt::Debug for SessionSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionSecrets(..)")
    }
}

impl SessionSecrets {
    pub fn new(server_secret: &str) -> Self {
        SessionSecrets {
            key: Sha256::digest(format!("anonymous-session-secrets:{server_secret}")).to_vec(),
        }
    }

    fn mac(&self, session_id: &str, binding: &str) -> Hmac<Sha256> {
        // Any key length is fine for HMAC.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(session_id.as_bytes());
        mac.update(b"\0");
        mac.update(binding.as_bytes());
        mac
    }

    /// The secret of a session bound to `binding`.
    pub fn issue(&self, session_id: &str, binding: &str) -> String {
        hex::encode(self.mac(session_id, binding).finalize().into_bytes())
    }

    /// Is `secret` that session's? (Compared in constant time.)
    pub fn verify(&self, session_id: &str, binding: &str, secret: &str) -> bool {
        match hex::decode(secret.trim()) {
            Ok(bytes) => self.mac(session_id, binding).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

/// Who acts on an anonymous session bound to some browser: a caller from that browser
/// (its cookie's `browser` binding, signed in or not: the session stays the browser's),
/// or one who presents the session's `secret`, acts as that browser. Any other caller
/// is left as it was, and the access rule decides.
pub fn acting_for(
    caller: Caller,
    browser: Option<&str>,
    session_id: &str,
    owner: Option<&Owner>,
    secret: Option<&str>,
    secrets: &SessionSecrets,
) -> Caller {
    let Some(Owner::Anonymous(Some(bound))) = owner else {
        return caller;
    };
    let customer = matches!(caller, Caller::Anonymous(_) | Caller::User(_));
    let own_browser = browser == Some(bound.as_str());
    let proven = secret.is_some_and(|s| secrets.verify(session_id, bound, s));
    if customer && (own_browser || proven) {
        Caller::Anonymous(Some(bound.clone()))
    } else {
        caller
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_bindings_and_secrets() {
        let key = new_browser_key();
        assert!(is_browser_key(&key));
        assert!(!is_browser_key("session_1796113419177"));
        assert_ne!(binding_of(&key), binding_of(&new_browser_key()));
        let secrets = SessionSecrets::new("server secret");
        let binding = binding_of(&key);
        let s = secrets.issue("session_1", &binding);
        assert!(secrets.verify("session_1", &binding, &s));
        assert!(!secrets.verify("session_2", &binding, &s));
        assert!(!secrets.verify("session_1", &binding_of("other"), &s));
        assert!(!secrets.verify("session_1", &binding, "zz"));
        assert!(!SessionSecrets::new("another server").verify("session_1", &binding, &s));
        // A secret makes the caller the session's browser; a wrong one changes nothing.
        let owner = Some(Owner::Anonymous(Some(binding.clone())));
        let stranger_key = binding_of("stranger");
        let stranger = Caller::Anonymous(Some(stranger_key.clone()));
        let act = |caller: &Caller, browser: &str, secret: Option<&str>| {
            let o = owner.as_ref();
            acting_for(
                caller.clone(),
                Some(browser),
                "session_1",
                o,
                secret,
                &secrets,
            )
        };
        let own = Caller::Anonymous(Some(binding.clone()));
        assert_eq!(act(&stranger, &stranger_key, Some(&s)), own);
        assert_eq!(act(&stranger, &stranger_key, Some("00")), stranger);
        assert_eq!(act(&stranger, &stranger_key, None), stranger);
        // Signed in, from the session's own browser: still the browser's session.
        let user = Caller::User(crate::auth::Identity {
            user_id: "u".into(),
            name: None,
            role: "customer".into(),
            expires_at: i64::MAX,
            attributes: Default::default(),
        });
        assert_eq!(act(&user, &binding, None), own);
        assert_eq!(act(&user, &stranger_key, None), user);
    }
}
