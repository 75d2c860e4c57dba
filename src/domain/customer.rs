//! Who the customer is, beside their conversation: the page and browser the widget
//! says they write from, an email they left, and the attributes the shop gives them
//! in their token's claims.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::text::optional_field;
use crate::error::AppError;

/// What the widget tells of the customer's page and browser (each part optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerContext {
    pub page_url: Option<String>,
    pub page_title: Option<String>,
    pub browser: Option<String>,
    /// An IANA time zone: staff see the customer's local time from it.
    pub time_zone: Option<String>,
    /// When the customer's widget first said so.
    pub seen_at: NaiveDateTime,
}

impl CustomerContext {
    /// The same page, browser and zone, whenever told.
    pub fn same_place(&self, other: &CustomerContext) -> bool {
        (
            &self.page_url,
            &self.page_title,
            &self.browser,
            &self.time_zone,
        ) == (
            &other.page_url,
            &other.page_title,
            &other.browser,
            &other.time_zone,
        )
    }

    /// A context as a client gives it, checked; `seen_at` is `now`.
    pub fn parse(
        page_url: Option<&str>,
        page_title: Option<&str>,
        browser: Option<&str>,
        time_zone: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<CustomerContext, AppError> {
        let page_url = optional_field("pageUrl", page_url, 2048)?;
        if let Some(url) = &page_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(AppError::validation("pageUrl must be an http(s) URL"));
            }
        }
        let time_zone = optional_field("timeZone", time_zone, 64)?;
        if let Some(tz) = &time_zone {
            tz.parse::<chrono_tz::Tz>().map_err(|_| {
                AppError::validation("timeZone must be an IANA time zone, like Europe/Berlin")
            })?;
        }
        Ok(CustomerContext {
            page_url,
            page_title: optional_field("pageTitle", page_title, 300)?,
            browser: optional_field("browser", browser, 200)?,
            time_zone,
            seen_at: now,
        })
    }
}

pub use crate::auth::{attributes_from_claim, Attributes};

/// All of it, as kept with a conversation (staff see it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerInfo {
    /// Left with a message while the desk was closed.
    pub email: Option<String>,
    pub context: Option<CustomerContext>,
    pub attributes: Attributes,
}

/// An email address a customer leaves: one `@`, something either side, a dot in the
/// domain, no spaces; bounded. (Whether it reaches anyone is the reply's test.)
pub fn email(raw: &str) -> Result<String, AppError> {
    let e = raw.trim();
    let bad = || AppError::validation("email must be an address like name@example.com");
    if e.len() > 254 || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    match e.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            Ok(e.to_owned())
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email(" ann@shop.example ").unwrap(), "ann@shop.example");
        for bad in [
            "",
            "ann",
            "ann@",
            "@shop.example",
            "ann@shop",
            "a b@shop.example",
            "a@b@c.de",
            "ann@.example",
        ] {
            assert!(email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn attributes_keep_scalars_only() {
        let claim = serde_json::json!({"orderNumber": "A-1001", "plan": "pro", "seats": 5,
            "vip": true, "nested": {"x": 1}, "list": [1], "": "no name", "bell\u{7}": "x\u{0}y"});
        let kept = attributes_from_claim(&claim);
        assert_eq!(kept["orderNumber"], "A-1001");
        assert_eq!(kept["seats"], "5");
        assert_eq!(kept["vip"], "true");
        assert_eq!(kept["bell"], "xy");
        assert!(
            !kept.contains_key("nested") && !kept.contains_key("list") && !kept.contains_key("")
        );
        assert!(attributes_from_claim(&serde_json::json!("plan")).is_empty());
    }

    #[test]
    fn contexts_are_checked() {
        let now = chrono::NaiveDateTime::default();
        let c = CustomerContext::parse(
            Some("https://shop.example/cart"),
            Some(" Cart "),
            Some("Chrome 131"),
            Some("Europe/Berlin"),
            now,
        )
        .unwrap();
        assert_eq!(c.page_title.as_deref(), Some("Cart"));
        assert!(
            CustomerContext::parse(Some("javascript:alert(1)"), None, None, None, now).is_err()
        );
        assert!(CustomerContext::parse(None, None, None, Some("Nowhere/Else"), now).is_err());
        assert!(CustomerContext::parse(None, Some(&"t".repeat(301)), None, None, now).is_err());
    }
}
