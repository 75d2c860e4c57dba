//! Where webhooks go, and how they are sent. A URL must be `http(s)://` and, unless
//! `ALLOW_PRIVATE_WEBHOOKS` says otherwise, resolve only to public addresses (not
//! loopback, private, link-local, shared or unique-local ones), so an admin's typo or
//! a hostile name cannot make the server probe its own network. A delivery follows no
//! redirect, gives up after `TIMEOUT`, and reads at most `BODY_LIMIT` of the answer.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::error::AppError;

/// How long one attempt may take.
pub const TIMEOUT: Duration = Duration::from_secs(15);
/// How much of a receiver's answer is read.
const BODY_LIMIT: usize = 4 * 1024;

fn refused(why: impl Into<String>) -> AppError {
    AppError::validation("Webhook URL not allowed").with_detail(why.into())
}

/// Check `url` before anything is sent to it.
pub async fn check_url(url: &str, allow_private: bool) -> Result<(), AppError> {
    let uri: awc::http::Uri = url
        .parse()
        .map_err(|_| refused(format!("{url:?} is not a URL")))?;
    let secure = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(refused("the URL must start with http:// or https://")),
    };
    if url.len() > 2000 {
        return Err(refused("the URL is longer than 2000 characters"));
    }
    let host = uri
        .host()
        .ok_or_else(|| refused("the URL has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(refused("the URL may not carry a user name or password"));
    }
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let addrs: Vec<IpAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| refused(format!("{host} does not resolve: {e}")))?
        .map(|a| a.ip())
        .collect();
    if addrs.is_empty() {
        return Err(refused(format!("{host} does not resolve")));
    }
    if !allow_private {
        if let Some(ip) = addrs.iter().find(|ip| !is_public(**ip)) {
            return Err(refused(format!(
                "{host} resolves to {ip}, a loopback, private or link-local address \
                 (ALLOW_PRIVATE_WEBHOOKS allows those)"
            )));
        }
    }
    Ok(())
}

/// Whether an address is on the public internet.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                // 100.64.0.0/10, carrier-grade NAT.
                || (a == 100 && (64..128).contains(&b))
                // 192.0.0.0/24 (protocol assignments), 198.18.0.0/15 (benchmarking),
                // 240.0.0.0/4 (reserved).
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), and
            // NAT64 (64:ff9b::/96, 64:ff9b:1::/48), which a DNS64 network routes to it.
            let embedded = v6.to_ipv4_mapped().or_else(|| {
                let tail = std::net::Ipv4Addr::from(((seg[6] as u32) << 16) | seg[7] as u32);
                let compatible = seg[..6].iter().all(|s| *s == 0) && !tail.is_unspecified();
                let nat64 = (seg[0], seg[1]) == (0x64, 0xff9b)
                    && (seg[2..6].iter().all(|s| *s == 0) || seg[2] == 1);
                (compatible || nat64).then_some(tail)
            });
            match embedded {
                Some(v4) => is_public(IpAddr::V4(v4)),
                None => {
                    let first = seg[0];
                    !(v6.is_loopback()
                        || v6.is_unspecified()
                        || v6.is_multicast()
                        // fc00::/7 unique local, fe80::/10 link-local, fec0::/10
                        // site-local (deprecated).
                        || (first & 0xfe00) == 0xfc00
                        || (first & 0xffc0) == 0xfe80
                        || (first & 0xffc0) == 0xfec0)
                }
            }
        }
    }
}

/// What one attempt got.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The receiver's status, or why there was none (timeout, refused, TLS…).
    pub outcome: Result<u16, String>,
    /// The receiver's `Retry-After`, in seconds, if it sent one.
    pub retry_after: Option<u64>,
    pub took: Duration,
}

/// The resolver a delivery connects through: the addresses it hands the connector are
/// the ones it checked, so a name that resolved to a public address when the URL was
/// checked cannot turn private between the check and the connection (DNS rebinding).
struct CheckedResolver {
    allow_private: bool,
}

impl actix_tls::connect::Resolve for CheckedResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> futures_util::future::LocalBoxFuture<
        'a,
        Result<Vec<std::net::SocketAddr>, Box<dyn std::error::Error>>,
    > {
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host, port)).await?.collect();
            if let Some(ip) = self.refused(addrs.iter().map(|a| a.ip())) {
                return Err(format!("{host} resolves to {ip}, a private address").into());
            }
            Ok(addrs)
        })
    }
}

impl CheckedResolver {
    /// The first address a delivery may not go to, if any.
    fn refused(&self, mut addrs: impl Iterator<Item = IpAddr>) -> Option<IpAddr> {
        if self.allow_private {
            return None;
        }
        addrs.find(|ip| !is_public(*ip))
    }
}

/// Sends deliveries: one pooled HTTP client (connections are kept and reused), which
/// connects only to addresses its `CheckedResolver` permits.
#[derive(Clone)]
pub struct Sender {
    client: awc::Client,
    resolver: std::rc::Rc<CheckedResolver>,
}

impl Sender {
    pub fn new(allow_private: bool) -> Sender {
        let tcp = actix_tls::connect::Connector::new(actix_tls::connect::Resolver::custom(
            CheckedResolver { allow_private },
        ));
        let client = awc::Client::builder()
            .connector(awc::Connector::new().connector(tcp.service()))
            .timeout(TIMEOUT)
            .disable_redirects()
            .finish();
        Sender {
            client,
            resolver: std::rc::Rc::new(CheckedResolver { allow_private }),
        }
    }

    /// POST one signed event.
    pub async fn send(
        &self,
        url: &str,
        id: &str,
        timestamp: i64,
        signature: &str,
        body: &[u8],
    ) -> Attempt {
        let started = Instant::now();
        let failed = |why: String| Attempt {
            outcome: Err(why),
            retry_after: None,
            took: started.elapsed(),
        };
        // An address in the URL itself is not looked up: it is checked here.
        let literal = url
            .parse::<awc::http::Uri>()
            .ok()
            .and_then(|u| u.host().map(|h| h.trim_matches(['[', ']']).to_owned()))
            .and_then(|h| h.parse::<IpAddr>().ok());
        if let Some(ip) = literal.and_then(|ip| self.resolver.refused(std::iter::once(ip))) {
            return failed(format!("{ip} is a private address"));
        }
        let sent = self
            .client
            .post(url)
            .insert_header(("content-type", "application/json"))
            .insert_header((
                "user-agent",
                concat!("Switchboard-Webhooks/", env!("CARGO_PKG_VERSION")),
            ))
            .insert_header(("webhook-id", id))
            .insert_header(("webhook-timestamp", timestamp.to_string()))
            .insert_header(("webhook-signature", signature))
            .send_body(body.to_vec())
            .await;
        match sent {
            Ok(mut res) => {
                let retry_after = res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok());
                // The answer itself is not used; a little of it is read so the
                // connection can be reused, and no more.
                let _ = res.body().limit(BODY_LIMIT).await;
                Attempt {
                    outcome: Ok(res.status().as_u16()),
                    retry_after,
                    took: started.elapsed(),
                }
            }
            Err(e) => failed(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::a00:1",
            "::10.0.0.1",
            "::127.0.0.1",
            "fec0::1",
            "192.0.0.8",
            "198.18.0.1",
            "240.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
            "64:ff9b::101:101",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
