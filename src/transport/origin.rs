//! Cross-site WebSocket hijacking guard: the `Origin` of an upgrade must be allowed.

/// Browsers always send `Origin`; its absence means a non-browser client, which
/// cookies cannot be ridden by, so it is allowed. With no allow-list configured,
/// only the server's own host (as the request's `Host` names it) is allowed.
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin else { return true };
    let origin = origin.trim().trim_end_matches('/');
    if allowed.is_empty() {
        let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
        return host.is_some_and(|h| h.eq_ignore_ascii_case(origin_host));
    }
    allowed.iter().any(|a| {
        let a = a.trim().trim_end_matches('/');
        a == "*" || a.eq_ignore_ascii_case(origin)
    })
}

#[cfg(test)]
mod tests {
    use super::origin_allowed;

    #[test]
    fn same_host_by_default() {
        assert!(origin_allowed(None, Some("a:3000"), &[]));
        assert!(origin_allowed(Some("http://a:3000"), Some("a:3000"), &[]));
        assert!(!origin_allowed(
            Some("http://evil.example"),
            Some("a:3000"),
            &[]
        ));
        assert!(!origin_allowed(Some("http://a:3000"), None, &[]));
    }

    #[test]
    fn allow_list() {
        let list = vec!["https://shop.example".to_owned()];
        assert!(origin_allowed(
            Some("https://shop.example/"),
            Some("x"),
            &list
        ));
        assert!(!origin_allowed(
            Some("https://evil.example"),
            Some("x"),
            &list
        ));
        assert!(origin_allowed(
            Some("https://any"),
            Some("x"),
            &["*".to_owned()]
        ));
    }
}
