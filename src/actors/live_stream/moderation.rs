//! Moderating the live chat: who may write (bans, timeouts, slow mode, the rate,
//! blocked terms), who may moderate (staff, and the moderators a host names), and the
//! log of every action with who took it. The standing rules (`ChannelRules`) outlast
//! the stream; slow mode and the limits are the stream's.

use actix::prelude::*;

use super::messages::*;
use super::*;
use crate::domain::moderation::{blocked_term, Ban, LogEntry, Moderator, RuleChange, MAX_TERMS};

/// Who may moderate, and how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Power {
    Staff,
    /// Deletes lines, times out and bans viewers (not staff, not other moderators).
    Moderator,
}

/// Who takes a moderation action, as the log names them, and how much they may do.
pub(super) struct Acting {
    power: Power,
    id: String,
    name: String,
}

impl LiveStream {
    /// Whether the caller may moderate, and how much: staff, or a moderator (by the id
    /// they write as, and under the name staff listed them).
    pub(super) fn acting(&self, caller: &Caller, actor: Option<&str>) -> Result<Acting, AppError> {
        if caller.is_staff() {
            return Ok(Acting {
                power: Power::Staff,
                id: caller.user_id().unwrap_or_default().to_owned(),
                name: caller.display_name().to_owned(),
            });
        }
        let now = iso_timestamp(now_millis());
        // A moderator who is banned or timed out moderates no more meanwhile.
        let moderator = actor
            .filter(|a| self.rules.ban_on(a, &now).is_none())
            .and_then(|a| self.rules.moderators.get(a));
        if let Some(m) = moderator {
            return Ok(Acting {
                power: Power::Moderator,
                id: m.user_id.clone(),
                name: m.name.clone(),
            });
        }
        Err(staff_only(caller)
            .err()
            .unwrap_or_else(AppError::insufficient_permissions))
    }

    /// What a connection that writes as `who` is told when it arrives: that it may
    /// moderate, or that it is banned or timed out.
    pub(super) fn standing_of(&self, who: &str) -> Vec<Event> {
        let mut events = Vec::new();
        if self.rules.is_moderator(who) {
            events.push(Event::ChatRole { moderator: true });
        }
        if let Some(ban) = self.rules.ban_on(who, &iso_timestamp(now_millis())) {
            events.push(banned(ban));
        }
        events
    }

    /// Bans and timeouts, slow mode (counted from the writer's last line, on any node),
    /// the rate (the lines of the last minute) and blocked terms. Staff are exempt from
    /// all; moderators from slow mode and the rate.
    pub(super) fn check_moderation(
        &self,
        caller: &Caller,
        sender: &str,
        text: &[&str],
    ) -> Result<(), AppError> {
        if caller.is_staff() {
            return Ok(());
        }
        if let Some(ban) = self.rules.ban_on(sender, &iso_timestamp(now_millis())) {
            return Err(match &ban.until {
                None => AppError::forbidden("You are banned from this chat"),
                Some(until) => {
                    AppError::forbidden("You are timed out").with_detail(format!("until {until}"))
                }
            });
        }
        if text.iter().any(|t| self.rules.blocked.find(t).is_some()) {
            return Err(AppError::validation(
                "Your message was not sent: it contains a blocked term",
            ));
        }
        if self.rules.is_moderator(sender) {
            return Ok(());
        }
        let now = std::time::Instant::now();
        let m = &self.moderation;
        let recent = m.recent.get(sender);
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

    /// Store the action in the log, with who took it and the change it makes to the
    /// standing rules, which is made (here and on every node) once it is stored. The
    /// answer says when; whoever does not wait for it drops it, and the rest happens
    /// all the same.
    pub(super) fn record(
        &mut self,
        ctx: &mut Context<Self>,
        by: &Acting,
        action: &str,
        subject: Option<String>,
        detail: String,
        change: Option<RuleChange>,
    ) -> ResponseFuture<Result<(), AppError>> {
        let entry = LogEntry {
            id: uuid::Uuid::new_v4().to_string(),
            action: action.to_owned(),
            subject,
            detail,
            by_id: by.id.clone(),
            by_name: by.name.clone(),
            stream_id: self.live.as_ref().map(|l| l.row.id.clone()),
            created_at: iso_timestamp(now_millis()),
        };
        let write = writes::LogModeration {
            change: change.clone(),
            entry,
        };
        let stored = self.request(ctx, write, move |act, _, ()| {
            if let Some(change) = change {
                act.commit(StreamSync::Rules(change));
            }
        });
        Box::pin(async move {
            let stored = stored.await;
            if let Err(e) = &stored {
                log::warn!("a moderation action was not stored: {e}");
            }
            stored
        })
    }

    /// Log an action that nobody waits for (its failure is still logged).
    pub(super) fn record_behind(
        &mut self,
        ctx: &mut Context<Self>,
        by: &Acting,
        action: &str,
        subject: Option<String>,
        detail: String,
    ) {
        let stored = self.record(ctx, by, action, subject, detail, None);
        ctx.spawn(actix::fut::wrap_future(stored).map(|_, _: &mut Self, _| ()));
    }

    /// Record a change to the rules; answers with it once it is stored and made.
    fn change(
        &mut self,
        ctx: &mut Context<Self>,
        by: &Acting,
        detail: String,
        change: RuleChange,
    ) -> ResponseFuture<Result<RuleChange, AppError>> {
        let made = change.clone();
        let (action, subject) = (change.action(), change.user_id().map(str::to_owned));
        self.metrics.moderated(match &change {
            RuleChange::AddModerator(_) | RuleChange::RemoveModerator { .. } => "moderator",
            other => other.action(),
        });
        let stored = self.record(ctx, by, action, subject, detail, Some(change));
        Box::pin(async move { stored.await.map(|()| made) })
    }

    /// A change to the rules, from this node or another: the viewers it concerns that
    /// are here are told.
    pub(super) fn rules_changed(&mut self, change: RuleChange) {
        self.rules.apply(&change);
        // Staff keep their lists current whoever made the change.
        self.send_where(|v| v.staff, Event::RulesChanged(change.clone()));
        match change {
            RuleChange::Ban(ban) => self.send_to_writer(&ban.user_id.clone(), banned(&ban)),
            RuleChange::Lift { user_id } => self.send_to_writer(&user_id, Event::ChatBanLifted),
            RuleChange::AddModerator(m) => {
                self.send_to_writer(&m.user_id, Event::ChatRole { moderator: true })
            }
            RuleChange::RemoveModerator { user_id } => {
                self.send_to_writer(&user_id, Event::ChatRole { moderator: false })
            }
            RuleChange::BlockedTerms(_) => {}
        }
    }

    /// Whether `who` is staff, as far as this node knows (their lines, their
    /// connections): staff are never timed out, banned, or made moderators.
    fn is_staff_writer(&self, who: &str) -> bool {
        self.moderation.staff_writers.contains(who)
            || self
                .viewers
                .values()
                .any(|v| v.staff && v.who.as_deref() == Some(who))
    }

    /// The viewer a command is about: the id they write as, and their name. Never
    /// staff.
    fn target(&self, target: Target) -> Result<(String, String), AppError> {
        let (who, name) = self.target_of(target)?;
        if self.is_staff_writer(&who) {
            return Err(AppError::forbidden("That is staff, who are not moderated"));
        }
        Ok((who, name))
    }

    fn target_of(&self, target: Target) -> Result<(String, String), AppError> {
        match target {
            Target::Viewer { user_id, name } => {
                let name = text::optional_field("name", name.as_deref(), MAX_USERNAME_CHARS)?;
                let name = name.unwrap_or_else(|| user_id.clone());
                Ok((user_id, name))
            }
            // A recent line, even one just deleted (its author is kept with it).
            Target::Line { message_id } => {
                let author = self
                    .moderation
                    .authors
                    .iter()
                    .find(|(id, _)| *id == message_id)
                    .map(|(_, a)| a.clone())
                    .ok_or_else(|| AppError::not_found("Message not found"))?;
                let line = self.history.iter().find(|l| l.id == message_id);
                let name = line.map_or_else(|| author.clone(), |l| l.username.clone());
                Ok((author, name))
            }
        }
    }

    /// Time out (`seconds`) or ban (`None`) a viewer.
    fn restrict(
        &mut self,
        ctx: &mut Context<Self>,
        by: &Acting,
        target: Target,
        seconds: Option<u64>,
        reason: String,
    ) -> Result<ResponseFuture<Result<RuleChange, AppError>>, AppError> {
        let (user_id, name) = self.target(target)?;
        if by.power == Power::Moderator && self.rules.is_moderator(&user_id) {
            return Err(AppError::forbidden(
                "Only staff can time out or ban a moderator",
            ));
        }
        let reason = text::optional_field("reason", Some(&reason), 200)?.unwrap_or_default();
        let now = now_millis();
        let until = match seconds {
            None => None,
            Some(s) if (1..=MAX_TIMEOUT_SECS).contains(&s) => {
                Some(iso_timestamp(now + chrono::Duration::seconds(s as i64)))
            }
            Some(_) => {
                return Err(AppError::validation(format!(
                    "durationSeconds must be between 1 and {MAX_TIMEOUT_SECS}"
                )))
            }
        };
        let ban = Ban {
            user_id: user_id.clone(),
            name,
            reason: reason.clone(),
            until,
            banned_by: by.name.clone(),
            created_at: iso_timestamp(now),
        };
        let detail = match seconds {
            Some(s) => format!("{s} s {reason}").trim().to_owned(),
            None => reason,
        };
        Ok(self.change(ctx, by, detail, RuleChange::Ban(ban)))
    }
}

fn banned(ban: &Ban) -> Event {
    Event::ChatBanned {
        until: ban.until.clone(),
        reason: ban.reason.clone(),
    }
}

impl Handler<Moderate> for LiveStream {
    type Result = Result<ChatSettings, AppError>;

    fn handle(&mut self, msg: Moderate, ctx: &mut Context<Self>) -> Self::Result {
        let by = self.acting(&msg.caller, msg.actor.as_deref())?;
        self.live_as(msg.stream_id.as_deref())?;
        match msg.cmd {
            ModerateCmd::Delete { message_id } => {
                let line = self.history.iter().find(|l| l.id == message_id);
                let line = line.ok_or_else(|| AppError::not_found("Message not found"))?;
                if line.is_admin && by.power != Power::Staff {
                    return Err(AppError::forbidden("Only staff delete staff's lines"));
                }
                let detail = format!("{}: {}", line.username, truncate(&line.message, 80));
                self.commit(StreamSync::ChatDeleted {
                    message_id: message_id.clone(),
                });
                self.record_behind(ctx, &by, "delete", Some(message_id), detail);
                self.metrics.moderated("delete");
            }
            ModerateCmd::Settings {
                slow_mode_seconds,
                max_chars,
                per_minute,
            } => {
                if by.power != Power::Staff {
                    return Err(AppError::insufficient_permissions());
                }
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
                let detail = format!(
                    "slow mode {} s, at most {} characters, {} lines a minute",
                    settings.slow_mode_seconds, settings.max_chars, settings.per_minute
                );
                self.record_behind(ctx, &by, "chat_settings", None, detail);
            }
        }
        Ok(self.moderation.settings)
    }
}

impl Handler<ChangeRules> for LiveStream {
    type Result = ResponseFuture<Result<RuleChange, AppError>>;

    fn handle(&mut self, msg: ChangeRules, ctx: &mut Context<Self>) -> Self::Result {
        match self.change_rules(msg, ctx) {
            Ok(done) => done,
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}

impl LiveStream {
    fn change_rules(
        &mut self,
        msg: ChangeRules,
        ctx: &mut Context<Self>,
    ) -> Result<ResponseFuture<Result<RuleChange, AppError>>, AppError> {
        let by = self.acting(&msg.caller, msg.actor.as_deref())?;
        let staff = || match by.power {
            Power::Staff => Ok(()),
            Power::Moderator => Err(AppError::insufficient_permissions()),
        };
        let by = &by;
        match msg.cmd {
            RuleCmd::Timeout {
                target,
                seconds,
                reason,
            } => self.restrict(ctx, by, target, Some(seconds), reason),
            RuleCmd::Ban { target, reason } => self.restrict(ctx, by, target, None, reason),
            RuleCmd::Lift { target } => {
                let (user_id, _) = self.target_of(target)?;
                let now = iso_timestamp(now_millis());
                if self.rules.ban_on(&user_id, &now).is_none() {
                    return Err(AppError::not_found("No ban or timeout on that viewer"));
                }
                // A moderator lifts viewers' bans, not a moderator's (their own included).
                if by.power == Power::Moderator && self.rules.is_moderator(&user_id) {
                    return Err(AppError::forbidden("Only staff can lift a moderator's ban"));
                }
                let change = RuleChange::Lift { user_id };
                Ok(self.change(ctx, by, String::new(), change))
            }
            RuleCmd::AddModerator { target } => {
                staff()?;
                let (user_id, name) = self.target(target)?;
                let change = RuleChange::AddModerator(Moderator {
                    user_id,
                    name: name.clone(),
                    added_by: by.name.clone(),
                    added_at: iso_timestamp(now_millis()),
                });
                Ok(self.change(ctx, by, name, change))
            }
            RuleCmd::RemoveModerator { user_id } => {
                staff()?;
                if !self.rules.is_moderator(&user_id) {
                    return Err(AppError::not_found("Not a moderator"));
                }
                let change = RuleChange::RemoveModerator { user_id };
                Ok(self.change(ctx, by, String::new(), change))
            }
            RuleCmd::BlockedTerms { terms } => {
                staff()?;
                let mut list = terms
                    .iter()
                    .map(|t| blocked_term(t))
                    .collect::<Result<Vec<_>, _>>()?;
                list.sort();
                list.dedup();
                if list.len() > MAX_TERMS {
                    return Err(AppError::validation(format!(
                        "At most {MAX_TERMS} blocked terms"
                    )));
                }
                let detail = format!("{} terms", list.len());
                Ok(self.change(ctx, by, detail, RuleChange::BlockedTerms(list)))
            }
        }
    }
}

impl Handler<GetRules> for LiveStream {
    type Result = Result<RulesView, AppError>;

    fn handle(&mut self, msg: GetRules, _: &mut Context<Self>) -> Self::Result {
        staff_only(&msg.caller)?;
        Ok(RulesView {
            moderators: self.rules.moderator_list(),
            bans: self.rules.active_bans(&iso_timestamp(now_millis())),
            blocked_terms: self.rules.blocked.list(),
        })
    }
}
