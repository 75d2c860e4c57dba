//! How the customer widget looks and greets, as admins set it in the console: its
//! colour, side, greeting, team name and avatar. Every widget reads it when it loads.

use serde::{Deserialize, Serialize};

use super::text::optional_field;
use crate::error::AppError;

/// The desk setting it is kept under.
pub const WIDGET_LOOK: &str = "widget";

/// The colour every widget has until an admin picks one (the pages' accent).
pub const DEFAULT_COLOR: &str = "#2563eb";

/// The widget's look on the wire (what `PUT /api/desk/widget` takes and
/// `GET /api/widget` answers); absent fields are the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WidgetLook {
    /// The accent colour: `#rgb` or `#rrggbb`.
    #[serde(default = "default_color")]
    #[schema(example = "#0f766e")]
    pub color: String,
    /// Which bottom corner: `right` or `left`.
    #[serde(default = "default_position")]
    pub position: String,
    /// Shown at the top of the conversation (up to 500 characters).
    #[serde(default)]
    pub greeting: Option<String>,
    /// The widget's title in place of "Support" (up to 60 characters).
    #[serde(default)]
    pub team_name: Option<String>,
    /// An image beside the title: an `https://` URL or a path on this server.
    #[serde(default)]
    pub avatar_url: Option<String>,
}

fn default_color() -> String {
    DEFAULT_COLOR.to_owned()
}

fn default_position() -> String {
    "right".to_owned()
}

impl Default for WidgetLook {
    fn default() -> Self {
        WidgetLook {
            color: default_color(),
            position: default_position(),
            greeting: None,
            team_name: None,
            avatar_url: None,
        }
    }
}

impl WidgetLook {
    /// The look as stored (checked when set; unreadable reads as the default).
    pub fn from_stored(value: &str) -> WidgetLook {
        serde_json::from_str::<WidgetLook>(value)
            .map_err(|e| AppError::validation(e.to_string()))
            .and_then(WidgetLook::checked)
            .inspect_err(|e| log::warn!("the stored widget look is unreadable: {e}"))
            .unwrap_or_default()
    }

    /// The look as given, checked and tidied; every fault named.
    pub fn checked(self) -> Result<WidgetLook, AppError> {
        let color = self.color.trim().to_ascii_lowercase();
        let hex = color.strip_prefix('#').unwrap_or("");
        if !matches!(hex.len(), 3 | 6) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(AppError::validation("color must be like #2563eb"));
        }
        if !["right", "left"].contains(&self.position.as_str()) {
            return Err(AppError::validation("position must be right or left"));
        }
        let avatar_url = optional_field("avatarUrl", self.avatar_url.as_deref(), 2048)?;
        if let Some(url) = &avatar_url {
            let on_this_server = url.starts_with('/') && !url.starts_with("//");
            if !(url.starts_with("https://") || on_this_server) || url.contains(char::is_whitespace)
            {
                return Err(AppError::validation(
                    "avatarUrl must be an https:// URL or a path on this server",
                ));
            }
        }
        Ok(WidgetLook {
            color,
            position: self.position,
            greeting: optional_field("greeting", self.greeting.as_deref(), 500)?,
            team_name: optional_field("teamName", self.team_name.as_deref(), 60)?,
            avatar_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(json: serde_json::Value) -> Result<WidgetLook, AppError> {
        serde_json::from_value::<WidgetLook>(json)
            .expect("shape")
            .checked()
    }

    #[test]
    fn defaults_and_tidying() {
        let l = look(serde_json::json!({"color": " #0F766E ", "teamName": "  Corner Shop  ", "greeting": ""})).unwrap();
        assert_eq!(
            (l.color.as_str(), l.position.as_str()),
            ("#0f766e", "right")
        );
        assert_eq!(
            (l.team_name.as_deref(), l.greeting),
            (Some("Corner Shop"), None)
        );
        assert_eq!(look(serde_json::json!({})).unwrap(), WidgetLook::default());
    }

    #[test]
    fn faults_are_named() {
        let says = |json: serde_json::Value, what: &str| {
            let e = look(json).expect_err("refused").to_string();
            assert!(e.contains(what), "{e}");
        };
        says(serde_json::json!({"color": "red"}), "color must be like");
        says(
            serde_json::json!({"color": "#12345g"}),
            "color must be like",
        );
        says(
            serde_json::json!({"position": "top"}),
            "position must be right or left",
        );
        says(
            serde_json::json!({"avatarUrl": "http://x.example/a.png"}),
            "avatarUrl",
        );
        says(
            serde_json::json!({"avatarUrl": "//x.example/a.png"}),
            "avatarUrl",
        );
        says(
            serde_json::json!({"avatarUrl": "javascript:alert(1)"}),
            "avatarUrl",
        );
        says(
            serde_json::json!({"teamName": "t".repeat(61)}),
            "teamName too long",
        );
        assert!(look(serde_json::json!({"avatarUrl": "/static/favicon.svg"})).is_ok());
        assert!(look(serde_json::json!({"avatarUrl": "https://cdn.example/a.png"})).is_ok());
    }
}
