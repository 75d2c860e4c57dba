//! Stream chat, likes, reactions and the pinned message: lines broadcast at once and
//! stored behind them, likes once per person.

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
        let by = self.acting(&msg.caller, None)?;
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
        let action = if pinned.is_some() { "pin" } else { "unpin" };
        self.metrics.moderated(action);
        let (subject, detail) = match &pinned {
            Some(p) => (Some(p.id.clone()), truncate(&p.message, 80)),
            None => (None, String::new()),
        };
        self.record_behind(ctx, &by, action, subject, detail);
        Ok(pinned)
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
        self.check_moderation(&msg.caller, &msg.sender_id, &[&message, &username])?;
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
