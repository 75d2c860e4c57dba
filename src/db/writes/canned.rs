//! Canned responses, as admins make, change and delete them.

use diesel::prelude::*;

use super::{Write, WriteError};
use crate::db::models::CannedRow;
use crate::db::schema::canned_responses;
use crate::db::DbConnection;
use crate::domain::canned::taken;
use crate::domain::message::now_millis;
use crate::domain::writes::{DeleteCanned, SaveCanned};

/// Whether a response other than `id` has `shortcut`.
fn shortcut_taken(conn: &mut DbConnection, shortcut: &str, id: &str) -> QueryResult<bool> {
    let other: Option<String> = canned_responses::table
        .filter(canned_responses::shortcut.eq(shortcut))
        .filter(canned_responses::id.ne(id))
        .select(canned_responses::id)
        .first(conn)
        .optional()?;
    Ok(other.is_some())
}

impl Write for SaveCanned {
    type Outcome = Option<CannedRow>;

    fn apply(&self, conn: &mut DbConnection) -> Result<Option<CannedRow>, WriteError> {
        if let Some(s) = &self.shortcut {
            if shortcut_taken(conn, s, &self.id)? {
                return Err(taken().into());
            }
        }
        let existing: Option<CannedRow> = canned_responses::table
            .find(&self.id)
            .select(CannedRow::as_select())
            .first(conn)
            .optional()?;
        let row = match (existing, self.create) {
            (None, true) => CannedRow {
                id: self.id.clone(),
                shortcut: self.shortcut.clone().unwrap_or_default(),
                content: self.content.clone().unwrap_or_default(),
                created_by: self.by.clone(),
                updated_at: now_millis(),
            },
            (Some(old), false) => CannedRow {
                shortcut: self.shortcut.clone().unwrap_or(old.shortcut),
                content: self.content.clone().unwrap_or(old.content),
                updated_at: now_millis(),
                ..old
            },
            _ => return Ok(None),
        };
        if self.create {
            diesel::insert_into(canned_responses::table)
                .values(&row)
                .execute(conn)?;
        } else {
            diesel::update(canned_responses::table.find(&self.id))
                .set(&row)
                .execute(conn)?;
        }
        Ok(Some(row))
    }
}

impl Write for DeleteCanned {
    type Outcome = bool;

    fn apply(&self, conn: &mut DbConnection) -> Result<bool, WriteError> {
        Ok(diesel::delete(canned_responses::table.find(&self.id)).execute(conn)? > 0)
    }
}
