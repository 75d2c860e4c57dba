//! The live stream as seed 002 describes it: its public state, pinned products and chat.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// A live stream, as stored: started, and (once over) ended with its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stream {
    pub id: String,
    pub title: String,
    pub description: String,
    pub stream_url: String,
    pub quality: String,
    pub started_by: String,
    pub started_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub peak_viewers: i64,
    pub likes: i64,
}

/// Seed 002's `streamData`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamView {
    pub stream_id: String,
    pub title: String,
    pub description: String,
    pub start_time: String,
    pub viewer_count: usize,
    pub likes: usize,
    pub liked_by: Vec<String>,
    pub stream_url: String,
    pub quality: String,
}

/// A live stream's chat rules: what staff set for the stream, from the settings'
/// defaults at its start. Staff are exempt from slow mode and the rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatSettings {
    /// One line per this many seconds per viewer (0: off).
    pub slow_mode_seconds: u64,
    /// The longest line.
    pub max_chars: u32,
    /// Lines a viewer may write a minute (0: no limit).
    pub per_minute: u32,
}

impl ChatSettings {
    /// Refuse settings outside what the server allows.
    pub fn checked(self) -> Result<ChatSettings, crate::error::AppError> {
        use crate::error::AppError;
        if self.slow_mode_seconds > 3600 {
            return Err(AppError::validation("seconds must be between 0 and 3600"));
        }
        if !(1..=2000).contains(&self.max_chars) {
            return Err(AppError::validation("maxChars must be between 1 and 2000"));
        }
        if self.per_minute > 600 {
            return Err(AppError::validation("perMinute must be between 0 and 600"));
        }
        Ok(self)
    }
}

/// The line pinned above the live chat: a chat line, or an announcement by staff;
/// until a time, or until unpinned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PinnedMessage {
    /// The chat line's id (an announcement has one of its own).
    pub id: String,
    pub username: String,
    pub message: String,
    pub is_admin: bool,
    /// Who pinned it.
    pub pinned_by: String,
    /// When it unpins itself (ISO 8601), if it does.
    pub until: Option<String>,
}

impl PinnedMessage {
    /// Its time has passed.
    pub fn expired(&self, now: NaiveDateTime) -> bool {
        self.until
            .as_deref()
            .and_then(super::message::parse_iso)
            .is_some_and(|u| u <= now)
    }
}

/// The reactions a viewer may send, in the order counts are listed.
pub const REACTIONS: [&str; 6] = ["❤️", "👍", "😂", "😮", "🔥", "👏"];

/// Taps per reaction (indexed as `REACTIONS`) over one interval.
pub type ReactionCounts = [u64; REACTIONS.len()];

/// Which reaction this is, if it is one.
pub fn reaction(emoji: &str) -> Option<usize> {
    REACTIONS.iter().position(|r| *r == emoji)
}

/// Seed 002's current state (`GET /api/live/streams/current`): whether a stream is
/// live, and if so its `streamData` and pinned products.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    pub is_active: bool,
    pub stream_data: Option<StreamView>,
    pub pinned_products: Vec<PinnedProduct>,
}

impl LiveState {
    pub fn of(current: Option<(StreamView, std::sync::Arc<Vec<PinnedProduct>>)>) -> Self {
        match current {
            Some((stream, pinned)) => LiveState {
                is_active: true,
                stream_data: Some(stream),
                pinned_products: pinned.as_ref().clone(),
            },
            None => LiveState {
                is_active: false,
                stream_data: None,
                pinned_products: Vec::new(),
            },
        }
    }
}

/// A running stream as stored: enough to resume it after a restart.
#[derive(Debug, Clone)]
pub struct StoredStream {
    pub stream: Stream,
    pub liked_by: Vec<String>,
    pub pinned: Vec<PinnedProduct>,
    pub pinned_message: Option<PinnedMessage>,
    /// The latest chat lines, oldest first, with each line's author.
    pub chat: Vec<(ChatLine, String)>,
}

/// Seed 002's pinned product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PinnedProduct {
    pub product_id: String,
    pub name: String,
    pub price: f64,
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub display_order: i64,
}

/// One line of stream chat, as broadcast and kept in the recent history.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatLine {
    pub id: String,
    pub username: String,
    pub message: String,
    pub is_admin: bool,
    pub timestamp: String,
}
