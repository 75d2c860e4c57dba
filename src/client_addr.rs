//! The client's address behind reverse proxies. Only a connection from a trusted proxy
//! (`TRUSTED_PROXIES`) may say who the client is, in `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`; the client is the right-most address there that is not itself a
//! trusted proxy (everything left of it could be made up by the client). Anyone else
//! is taken at their word of nothing: their own address.

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Addresses (`10.0.0.5`, `::1`) and networks (`10.0.0.0/8`).
    pub fn parse(list: &[String]) -> Result<Self, String> {
        list.iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("TRUSTED_PROXIES: {s:?} is not an address or a network"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Who the client is, for a connection from `peer` with these headers.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer.map(canonical)?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let mut client = peer;
        for hop in forwarded_for(headers).iter().rev() {
            match hop {
                // The proxy says it does not know (or hides it): the proxy it is.
                None => break,
                Some(ip) => {
                    client = *ip;
                    if !self.trusts(*ip) {
                        break;
                    }
                }
            }
        }
        Some(client)
    }

    /// The scheme the client used, as a trusted proxy says (`Forwarded: proto=` or
    /// `X-Forwarded-Proto`, the nearest proxy's word); `None` from anyone else.
    pub fn forwarded_proto(
        &self,
        peer: Option<IpAddr>,
        headers: &HeaderMap,
    ) -> Option<&'static str> {
        if !peer.map(canonical).is_some_and(|p| self.trusts(p)) {
            return None;
        }
        let last = |name: &str| {
            headers
                .get_all(name)
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .last()
                .map(|s| s.trim().to_owned())
        };
        let proto = match last("forwarded") {
            Some(element) => element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("proto"))
                .map(|(_, v)| v.trim().trim_matches('"').to_owned()),
            None => last("x-forwarded-proto"),
        }?;
        match proto.to_ascii_lowercase().as_str() {
            "https" => Some("https"),
            "http" => Some("http"),
            _ => None,
        }
    }
}

/// An IPv4 address mapped into IPv6 is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The hops the proxies recorded, left (farthest) to right: from `Forwarded` if
/// present, else `X-Forwarded-For`. `None` for a hop that is not an address
/// (`unknown`, an obfuscated name, garbage).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| node(v.trim().trim_matches('"')))
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|hop| node(hop.trim()))
        .collect()
}

/// An address, perhaps with a port, IPv6 perhaps in brackets.
fn node(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Some(canonical(addr.ip()));
    }
    s.strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .and_then(|ip| ip.parse::<IpAddr>().ok())
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn only_a_trusted_proxy_names_the_scheme() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into()]).unwrap();
        let proxy = ip("10.0.0.2");
        let h = headers(&[("x-forwarded-proto", "https")]);
        assert_eq!(proxies.forwarded_proto(proxy, &h), Some("https"));
        assert_eq!(proxies.forwarded_proto(ip("203.0.113.9"), &h), None);
        let h = headers(&[(
            "forwarded",
            "for=1.2.3.4;proto=http, for=5.6.7.8;proto=https",
        )]);
        assert_eq!(proxies.forwarded_proto(proxy, &h), Some("https"));
        let h = headers(&[("x-forwarded-proto", "gopher")]);
        assert_eq!(proxies.forwarded_proto(proxy, &h), None);
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let t = trusted(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(t.client_ip(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        assert_eq!(
            TrustedProxies::default().client_ip(ip("10.0.0.1"), &h),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let t = trusted(&["10.0.0.0/8", "::1"]);
        // The client made up the first entry; the trusted 10.0.0.2 recorded 198.51.100.7.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.2")]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("198.51.100.7"));
        assert_eq!(t.client_ip(ip("::1"), &h), ip("198.51.100.7"));
        // Several header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "198.51.100.8"),
        ]);
        assert_eq!(t.client_ip(ip("10.0.0.1"), &h), ip("198.51.100.8"));
    }

    #[test]
    fn forwarded_comes_first_and_is_parsed_as_the_rfc_writes_it() {
        let t = trusted(&["127.0.0.1"]);
        let h = headers(&[
            (
                "forwarded",
                r#"for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711""#,
            ),
            ("x-forwarded-for", "9.9.9.9"),
        ]);
        assert_eq!(t.client_ip(ip("127.0.0.1"), &h), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(t.client_ip(ip("127.0.0.1"), &h), ip("127.0.0.1"));
    }

    #[test]
    fn mapped_ipv4_and_bad_entries() {
        let t = trusted(&["127.0.0.1"]);
        let h = headers(&[("x-forwarded-for", "198.51.100.7, not-an-ip")]);
        assert_eq!(t.client_ip(ip("::ffff:127.0.0.1"), &h), ip("127.0.0.1"));
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy.local".into()]).is_err());
    }
}
