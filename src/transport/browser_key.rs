//! The browser-key cookie (`domain::anonymous`): each browser gets a random key in an
//! HttpOnly cookie on its first WebSocket upgrade or REST answer, and sends it back by
//! itself on every later one, so an anonymous session can be bound to it.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;

use crate::domain::anonymous::{binding_of, is_browser_key, new_browser_key, BROWSER_COOKIE};

/// How the cookie is set. Embedding the widget on another site needs
/// `SameSite=None`, which browsers accept only with `Secure` (HTTPS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieSettings {
    pub same_site: SameSite,
    /// PUBLIC_URL is https.
    pub secure: bool,
    /// This server serves TLS itself.
    pub tls: bool,
}

/// This request's browser key: the cookie's, or a new one to set.
#[derive(Debug, Clone)]
pub struct BrowserKey {
    key: String,
    /// Not from the request: the answer must set the cookie.
    pub issued: bool,
}

impl BrowserKey {
    pub fn of(req: &HttpRequest) -> Self {
        match req.cookie(BROWSER_COOKIE) {
            Some(c) if is_browser_key(c.value()) => BrowserKey {
                key: c.value().to_owned(),
                issued: false,
            },
            _ => BrowserKey {
                key: new_browser_key(),
                issued: true,
            },
        }
    }

    /// What an anonymous session stores of this browser.
    pub fn binding(&self) -> String {
        binding_of(&self.key)
    }

    /// The cookie for an answer to `req`: `Secure` when the client came over HTTPS
    /// (to this server's TLS, or to a trusted proxy that says so), or PUBLIC_URL is
    /// https, or SameSite=None needs it.
    pub fn cookie(
        &self,
        settings: CookieSettings,
        req: &HttpRequest,
        proxies: &crate::client_addr::TrustedProxies,
    ) -> Cookie<'static> {
        let peer = req.peer_addr().map(|a| a.ip());
        let https = settings.tls || proxies.forwarded_proto(peer, req.headers()) == Some("https");
        Cookie::build(BROWSER_COOKIE, self.key.clone())
            .path("/")
            .http_only(true)
            .same_site(settings.same_site)
            .secure(settings.secure || https || settings.same_site == SameSite::None)
            .max_age(actix_web::cookie::time::Duration::days(365))
            .finish()
    }
}
