//! Who may open WebSockets and poll Socket.IO: cross-site WebSocket hijacking and DNS
//! rebinding guards.
//!
//! - With `ALLOWED_ORIGINS`, a browser's `Origin` must be on that list (`*`: any).
//! - Without it, the `Origin` must be the server's own public address: `PUBLIC_URL`,
//!   else the loopback names and the listen address.
//! - The `Host` header must name that public address too, when `PUBLIC_URL` is set or
//!   no origins are configured: a page on `http://evil.example:3000` whose name was
//!   made to resolve to this server sends `Origin` and `Host` of `evil.example`, which
//!   agree with each other but name nobody we serve.
//!
//! A request without `Origin` is not a browser's (browsers always send it on
//! WebSocket upgrades and cross-origin requests), so no cookie of a user's can ride
//! on it; its `Host` is still checked.

use std::net::SocketAddr;

/// One address the server is reached by.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Site {
    /// `Some(true)` for https only, `Some(false)` for http only, `None` for either.
    secure: Option<bool>,
    host: String,
    port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPolicy {
    /// ALLOWED_ORIGINS, without trailing slashes; `*` alone means any.
    allowed: Vec<String>,
    public: Vec<Site>,
    check_host: bool,
}

/// Why a request was refused, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Origin(String),
    Host(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Origin(o) => write!(f, "Origin {o:?} is not allowed (ALLOWED_ORIGINS, PUBLIC_URL)"),
            Refusal::Host(h) => write!(
                f,
                "Host {h:?} is not this server's public address (set PUBLIC_URL to the address people use)"
            ),
        }
    }
}

const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

impl OriginPolicy {
    /// `listen`: the bound address (its port, when 0 was asked for, is the real one).
    pub fn new(
        allowed_origins: &[String],
        public_url: Option<&str>,
        listen: SocketAddr,
    ) -> Result<Self, String> {
        let allowed: Vec<String> = allowed_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        let public = match public_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => vec![parse_url(url)
                .ok_or_else(|| format!("PUBLIC_URL {url:?} is not an http(s):// URL"))?],
            None => {
                let listen_host = match listen.ip() {
                    std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                    ip => ip.to_string(),
                };
                let mut names: Vec<String> = LOOPBACK_NAMES.map(str::to_owned).to_vec();
                if !listen.ip().is_unspecified() && !names.contains(&listen_host) {
                    names.push(listen_host);
                }
                names
                    .into_iter()
                    .map(|host| Site {
                        secure: None,
                        host,
                        port: listen.port(),
                    })
                    .collect()
            }
        };
        Ok(OriginPolicy {
            check_host: public_url.is_some_and(|u| !u.trim().is_empty()) || allowed.is_empty(),
            allowed,
            public,
        })
    }

    /// Any origin, any host (for embedding the Socket.IO layer where the app checks).
    pub fn any() -> Self {
        OriginPolicy {
            allowed: vec!["*".into()],
            public: Vec::new(),
            check_host: false,
        }
    }

    pub fn check(&self, origin: Option<&str>, host: Option<&str>) -> Result<(), Refusal> {
        if self.check_host {
            if let Some(host) = host {
                let named = parse_authority(host)
                    .is_some_and(|(h, port)| self.public.iter().any(|s| s.is_host(&h, port)));
                if !named {
                    return Err(Refusal::Host(host.to_owned()));
                }
            }
        }
        let Some(origin) = origin else {
            return Ok(());
        };
        let normal = origin.trim().trim_end_matches('/').to_ascii_lowercase();
        let ok = if self.allowed.is_empty() {
            parse_url(&normal).is_some_and(|o| self.public.iter().any(|s| s.is_origin(&o)))
        } else {
            self.allowed.iter().any(|a| a == "*" || *a == normal)
        };
        if ok {
            Ok(())
        } else {
            Err(Refusal::Origin(origin.to_owned()))
        }
    }

    pub fn allows(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        self.check(origin, host).is_ok()
    }

    /// Where people reach the server, for links printed at start; `fallback` is the
    /// listen address, served over `scheme`.
    pub fn public_base(&self, fallback: SocketAddr, scheme: &str) -> String {
        match self.public.first() {
            Some(s) if self.public.len() == 1 => {
                let scheme = if s.secure == Some(true) {
                    "https"
                } else {
                    "http"
                };
                let default = if s.secure == Some(true) { 443 } else { 80 };
                match s.port == default {
                    true => format!("{scheme}://{}", s.host),
                    false => format!("{scheme}://{}:{}", s.host, s.port),
                }
            }
            _ => format!("{scheme}://{fallback}"),
        }
    }
}

impl Site {
    fn is_host(&self, host: &str, port: Option<u16>) -> bool {
        // A Host without a port names the scheme's default port.
        let port_ok = match port {
            Some(p) => p == self.port,
            None => match self.secure {
                Some(true) => self.port == 443,
                Some(false) => self.port == 80,
                None => self.port == 80 || self.port == 443,
            },
        };
        port_ok && self.host == host
    }

    fn is_origin(&self, origin: &Site) -> bool {
        let scheme_ok = match (self.secure, origin.secure) {
            (None, _) => true,
            (a, b) => a == b,
        };
        scheme_ok && self.host == origin.host && self.port == origin.port
    }
}

/// `http(s)://host[:port][/…]`, host lowercased, port defaulted by scheme.
fn parse_url(url: &str) -> Option<Site> {
    let (scheme, rest) = url.split_once("://")?;
    let secure = match scheme.to_ascii_lowercase().as_str() {
        "http" => false,
        "https" => true,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = parse_authority(authority)?;
    Some(Site {
        secure: Some(secure),
        host,
        port: port.unwrap_or(if secure { 443 } else { 80 }),
    })
}

/// `host[:port]` or `[v6][:port]`, host lowercased; no user info.
fn parse_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let authority = authority.trim();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (format!("[{}]", v6.to_ascii_lowercase()), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_ascii_lowercase(), Some(p.parse().ok()?)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    (!host.is_empty()).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen() -> SocketAddr {
        "127.0.0.1:3000".parse().unwrap()
    }

    #[test]
    fn the_default_is_loopback_and_the_listen_address() {
        let p = OriginPolicy::new(&[], None, listen()).unwrap();
        for (origin, host) in [
            (Some("http://127.0.0.1:3000"), Some("127.0.0.1:3000")),
            (Some("http://localhost:3000/"), Some("localhost:3000")),
            (Some("https://[::1]:3000"), Some("[::1]:3000")),
            (None, Some("127.0.0.1:3000")),
            (None, None),
        ] {
            assert!(p.allows(origin, host), "{origin:?} {host:?}");
        }
        // DNS rebinding: Origin and Host agree, and name a stranger.
        assert_eq!(
            p.check(Some("http://evil.example:3000"), Some("evil.example:3000")),
            Err(Refusal::Host("evil.example:3000".into()))
        );
        assert!(!p.allows(None, Some("evil.example:3000")));
        // Another site's page, on our own host.
        assert_eq!(
            p.check(Some("http://evil.example"), Some("127.0.0.1:3000")),
            Err(Refusal::Origin("http://evil.example".into()))
        );
        assert!(!p.allows(Some("http://127.0.0.1:3001"), Some("127.0.0.1:3000")));
        assert!(!p.allows(None, Some("127.0.0.1:3001")));
    }

    #[test]
    fn a_public_url_is_the_only_address() {
        let p = OriginPolicy::new(&[], Some("https://chat.example.com/"), listen()).unwrap();
        assert!(p.allows(Some("https://chat.example.com"), Some("chat.example.com")));
        assert!(p.allows(
            Some("https://CHAT.example.com"),
            Some("chat.example.com:443")
        ));
        assert!(!p.allows(Some("http://chat.example.com"), Some("chat.example.com")));
        assert!(!p.allows(None, Some("127.0.0.1:3000")));
        assert!(!p.allows(Some("https://evil.example"), Some("evil.example")));
        assert_eq!(p.public_base(listen(), "http"), "https://chat.example.com");
        assert!(OriginPolicy::new(&[], Some("chat.example.com"), listen()).is_err());
        let with_port = OriginPolicy::new(&[], Some("http://10.0.0.5:8080"), listen()).unwrap();
        assert!(with_port.allows(Some("http://10.0.0.5:8080"), Some("10.0.0.5:8080")));
        assert!(!with_port.allows(None, Some("10.0.0.5")));
    }

    #[test]
    fn an_allow_list_decides_origins() {
        let list = vec!["https://shop.example".to_owned()];
        let p = OriginPolicy::new(&list, None, listen()).unwrap();
        assert!(p.allows(Some("https://shop.example/"), Some("chat.example.com")));
        assert!(!p.allows(Some("https://evil.example"), Some("chat.example.com")));
        assert!(p.allows(None, Some("anything")));
        let any = OriginPolicy::new(&["*".to_owned()], None, listen()).unwrap();
        assert!(any.allows(Some("https://any"), Some("x")));
        // With PUBLIC_URL as well, Host must name it.
        let both = OriginPolicy::new(&list, Some("https://chat.example.com"), listen()).unwrap();
        assert!(both.allows(Some("https://shop.example"), Some("chat.example.com")));
        assert!(!both.allows(Some("https://shop.example"), Some("evil.example")));
    }

    #[test]
    fn listening_on_all_interfaces_adds_no_name() {
        let p = OriginPolicy::new(&[], None, "0.0.0.0:3000".parse().unwrap()).unwrap();
        assert!(p.allows(None, Some("localhost:3000")));
        assert!(!p.allows(None, Some("0.0.0.0:3000")));
        assert!(!p.allows(None, Some("192.168.1.5:3000")));
    }
}
