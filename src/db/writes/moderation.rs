//! The live chat's standing rules and the moderation log: each action is logged with
//! who did it, in the same transaction as the change it makes.

use diesel::prelude::*;

use super::{Write, WriteError};
use crate::db::schema::{
    stream_bans, stream_blocked_terms, stream_moderation_log as log, stream_moderators,
};
use crate::db::DbConnection;
use crate::domain::message::{now_millis, parse_iso};
use crate::domain::moderation::RuleChange;
use crate::domain::writes::LogModeration;
use crate::error::AppError;

/// A time the server wrote (ISO 8601); anything else is a bug, not input.
fn time(iso: &str) -> Result<chrono::NaiveDateTime, WriteError> {
    parse_iso(iso).ok_or_else(|| WriteError::Rejected(AppError::internal()))
}

impl Write for LogModeration {
    type Outcome = ();

    fn apply(&self, conn: &mut DbConnection) -> Result<(), WriteError> {
        match &self.change {
            None => {}
            Some(RuleChange::AddModerator(m)) => {
                diesel::delete(stream_moderators::table.find(&m.user_id)).execute(conn)?;
                diesel::insert_into(stream_moderators::table)
                    .values((
                        stream_moderators::user_id.eq(&m.user_id),
                        stream_moderators::name.eq(&m.name),
                        stream_moderators::added_by.eq(&m.added_by),
                        stream_moderators::added_at.eq(time(&m.added_at)?),
                    ))
                    .execute(conn)?;
            }
            Some(RuleChange::RemoveModerator { user_id }) => {
                diesel::delete(stream_moderators::table.find(user_id)).execute(conn)?;
            }
            Some(RuleChange::Ban(b)) => {
                let until = b.until.as_deref().map(time).transpose()?;
                diesel::delete(stream_bans::table.find(&b.user_id)).execute(conn)?;
                diesel::insert_into(stream_bans::table)
                    .values((
                        stream_bans::user_id.eq(&b.user_id),
                        stream_bans::name.eq(&b.name),
                        stream_bans::reason.eq(&b.reason),
                        stream_bans::until.eq(until),
                        stream_bans::banned_by.eq(&b.banned_by),
                        stream_bans::created_at.eq(time(&b.created_at)?),
                    ))
                    .execute(conn)?;
            }
            Some(RuleChange::Lift { user_id }) => {
                diesel::delete(stream_bans::table.find(user_id)).execute(conn)?;
            }
            Some(RuleChange::BlockedTerms(terms)) => {
                diesel::delete(stream_blocked_terms::table).execute(conn)?;
                let now = now_millis();
                for term in terms {
                    diesel::insert_into(stream_blocked_terms::table)
                        .values((
                            stream_blocked_terms::term.eq(term),
                            stream_blocked_terms::added_by.eq(&self.entry.by_name),
                            stream_blocked_terms::added_at.eq(now),
                        ))
                        .execute(conn)?;
                }
            }
        }
        let e = &self.entry;
        diesel::insert_into(log::table)
            .values((
                log::id.eq(&e.id),
                log::action.eq(&e.action),
                log::subject.eq(&e.subject),
                log::detail.eq(&e.detail),
                log::by_id.eq(&e.by_id),
                log::by_name.eq(&e.by_name),
                log::stream_id.eq(&e.stream_id),
                log::created_at.eq(time(&e.created_at)?),
            ))
            .execute(conn)?;
        Ok(())
    }
}
