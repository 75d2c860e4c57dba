//! Stream chat, likes and moderation: lines broadcast at once and stored behind them,
//! likes once per person, and staff's deletes, mutes and slow mode.

use actix::prelude::*;

use super::messages::*;
use super::*;

impl Handler<ToggleLike> for LiveStream {
    type Result = Result<bool, AppError>;
    fn handle(&mut self, msg: ToggleLike, _: &mut Context<Self>) -> Self::Result {
        let live = self.live.as_ref().ok_or_else(no_stream)?;
        let liked = !live.liked.contains(&msg.liker);
        self.commit(StreamSync::Like {
            liker: msg.liker,
            liked,
        });
        if liked {
            self.metrics.stream_likes.inc();
        }
        Ok(liked)
    }
}

/// The longest a message stays pinned by itself: a week.
const MAX_PIN_SECS: u64 = 7 * 86_400;

impl Handler<PinMessage> for LiveStream {
    type Result = Result<Option<crate::domain::stream::PinnedMessage>, AppError>;
    fn handle(&mut self, msg: PinMessage, ctx: &mut Context<Self>) -> Self::Result {
        staff_only(&msg.caller)?;
        let stream_id = self.live_as(msg.stream_id.as_deref())?.row.id.clone();
        let now = now_millis();
        let until = match msg.seconds {
            None => None,
            Some(s) if (1..=MAX_PIN_SECS).contains(&s) => {
                Some(iso_timestamp(now + chrono::Duration::seconds(s as i64)))
            }
            Some(_) => {
                return Err(AppError::validation(format!(
                    "durationSeconds must be between 1 and {MAX_PIN_SECS}"
                )))
            }
        };
        let pinned_by = msg.caller.display_name().to_owned();
        let pinned = match msg.pin {
            None => None,
            Some(Pin::Line { message_id }) => {
                let line = self
                    .history
                    .iter()
                    .find(|l| l.id == message_id)
                    .ok_or_else(|| AppError::not_found("Message not found"))?;
                Some(crate::domain::stream::PinnedMessage {
                    id: line.id.clone(),
                    username: line.username.clone(),
                    message: line.message.clone(),
                    is_admin: line.is_admin,
                    pinned_by,
                    until,
                })
            }
            Some(Pin::Announcement { text }) => Some(crate::domain::stream::PinnedMessage {
                id: uuid::Uuid::new_v4().to_string(),
                username: pinned_by.clone(),
                message: text::message_text(&text, MAX_CHAT_CHARS)?,
                is_admin: true,
                pinned_by,
                until,
            }),
        };
        let store = writes::SetPinnedMessage {
            stream_id,
            message: pinned.clone(),
        };
        self.write(ctx, store, |_, _, stored| {
            if let Err(e) = stored {
                log::warn!("the pinned message was not stored: {e}");
            }
        });
        self.commit(StreamSync::PinnedMessage(pinned.clone()));
        self.metrics
            .moderated(if pinned.is_some() { "pin" } else { "unpin" });
        Ok(pinned)
    }
}

impl Handler<React> for LiveStream {
    type Result = Result<(), AppError>;
    fn handle(&mut self, msg: React, _: &mut Context<Self>) -> Self::Result {
        if self.live.is_none() {
            return Err(no_stream());
        }
        let i = crate::domain::stream::reaction(&msg.emoji).ok_or_else(|| {
            AppError::validation("Unknown reaction").with_detail(format!(
                "emoji must be one of {}",
                crate::domain::stream::REACTIONS.join(" ")
            ))
        })?;
        self.reactions[i] = self.reactions[i].saturating_add(1);
        self.metrics.stream_reactions.inc();
        Ok(())
    }
}

impl Handler<SendChat> for LiveStream {
    type Result = Result<(), AppError>;
    fn handle(&mut self, msg: SendChat, ctx: &mut Context<Self>) -> Self::Result {
        let stream_id = self
            .live
            .as_ref()
            .map(|l| l.row.id.clone())
            .ok_or_else(no_stream)?;
        let max_chars = self.moderation.settings.max_chars as usize;
        let message = text::message_text(&msg.text, max_chars)?;
        self.check_moderation(&msg.caller, &msg.sender_id)?;
        let username = match &msg.caller {
            Caller::Staff(_) | Caller::User(_) => msg.caller.display_name().to_owned(),
            _ => text::optional_field(
                "username",
                msg.username
                    .as_deref()
                    .map(|u| truncate(u, MAX_USERNAME_CHARS))
                    .as_deref(),
                MAX_USERNAME_CHARS,
            )?
            .unwrap_or_else(|| "Guest".to_owned()),
        };
        let now = now_millis();
        let line = ChatLine {
            id: uuid::Uuid::new_v4().to_string(),
            username,
            message,
            is_admin: msg.caller.is_staff(),
            timestamp: iso_timestamp(now),
        };
        // Stream chat is broadcast at once and stored behind it: it is ephemeral talk,
        // not support history, and a slow disk must not stall the stream.
        let store = writes::StoreStreamChat {
            id: line.id.clone(),
            stream_id,
            sender_id: msg.sender_id.clone(),
            username: line.username.clone(),
            message: line.message.clone(),
            is_admin: line.is_admin,
            created_at: now,
        };
        self.write(ctx, store, |_, _, stored| {
            if let Err(e) = stored {
                log::warn!("a stream chat line was not stored: {e}");
            }
        });
        self.commit(StreamSync::Chat {
            line,
            sender: msg.sender_id,
        });
        self.metrics.stream_chat_lines.inc();
        Ok(())
    }
}

impl LiveStream {
    /// Muted viewers, slow mode (counted from the sender's last line, on any node) and
    /// the rate (the lines of the last minute); staff are exempt.
    pub(super) fn check_moderation(&self, caller: &Caller, sender: &str) -> Result<(), AppError> {
        if caller.is_staff() {
            return Ok(());
        }
        let now = std::time::Instant::now();
        let m = &self.moderation;
        let recent = m.recent.get(sender);
        if let Some(until) = m.muted.get(sender).filter(|u| **u > now) {
            let left = until.duration_since(now).as_secs() + 1;
            return Err(AppError::forbidden("You are muted")
                .with_detail(format!("for {left} more seconds")));
        }
        let every = Duration::from_secs(m.settings.slow_mode_seconds);
        if let Some(last) = recent.and_then(|r| r.back()).filter(|_| !every.is_zero()) {
            let since = now.duration_since(*last);
            if since < every {
                let wait = (every - since).as_secs() + 1;
                return Err(AppError::new(ErrorKind::RateLimited, "Slow mode is on")
                    .with_detail(format!("wait {wait} seconds")));
            }
        }
        let per_minute = m.settings.per_minute as usize;
        if let Some(r) = recent.filter(|_| per_minute > 0) {
            let minute = Duration::from_secs(60);
            let in_last_minute = r
                .iter()
                .rev()
                .take_while(|t| now.duration_since(**t) < minute);
            if in_last_minute.count() >= per_minute {
                return Err(
                    AppError::new(ErrorKind::RateLimited, "You are writing too fast")
                        .with_detail(format!("at most {per_minute} lines a minute in this chat")),
                );
            }
        }
        Ok(())
    }
}

impl Handler<Moderate> for LiveStream {
    type Result = Result<ChatSettings, AppError>;

    fn handle(&mut self, msg: Moderate, _: &mut Context<Self>) -> Self::Result {
        staff_only(&msg.caller)?;
        self.live_as(msg.stream_id.as_deref())?;
        let unknown = || AppError::not_found("Message not found");
        match msg.cmd {
            ModerateCmd::Delete { message_id } => {
                if !self.history.iter().any(|l| l.id == message_id) {
                    return Err(unknown());
                }
                self.commit(StreamSync::ChatDeleted { message_id });
                self.metrics.moderated("delete");
            }
            ModerateCmd::Mute {
                message_id,
                seconds,
            } => {
                if !(1..=MAX_MUTE_SECS).contains(&seconds) {
                    return Err(AppError::validation(
                        "durationSeconds must be between 1 and 86400",
                    ));
                }
                let author = self
                    .moderation
                    .authors
                    .iter()
                    .find(|(id, _)| *id == message_id)
                    .map(|(_, a)| a.clone());
                let sender = author.ok_or_else(unknown)?;
                self.commit(StreamSync::Muted { sender, seconds });
                self.metrics.moderated("mute");
            }
            ModerateCmd::Settings {
                slow_mode_seconds,
                max_chars,
                per_minute,
            } => {
                let now = self.moderation.settings;
                let settings = ChatSettings {
                    slow_mode_seconds: slow_mode_seconds.unwrap_or(now.slow_mode_seconds),
                    max_chars: max_chars.unwrap_or(now.max_chars),
                    per_minute: per_minute.unwrap_or(now.per_minute),
                }
                .checked()?;
                self.commit(StreamSync::ChatSettings(settings));
                if settings.slow_mode_seconds != now.slow_mode_seconds {
                    self.metrics.moderated("slow_mode");
                }
                if (settings.max_chars, settings.per_minute) != (now.max_chars, now.per_minute) {
                    self.metrics.moderated("limits");
                }
            }
        }
        Ok(self.moderation.settings)
    }
}
