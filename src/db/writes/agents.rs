//! Agents' settings, as they and admins change them.

use diesel::prelude::*;

use super::{Write, WriteError};
use crate::db::models::AgentRow;
use crate::db::schema::agents;
use crate::db::DbConnection;
use crate::domain::agent::AgentSettings;
use crate::domain::message::now_millis;
use crate::domain::writes::SetAgent;

impl Write for SetAgent {
    type Outcome = AgentSettings;

    fn apply(&self, conn: &mut DbConnection) -> Result<AgentSettings, WriteError> {
        let existing: Option<AgentRow> = agents::table
            .find(&self.user_id)
            .select(AgentRow::as_select())
            .first(conn)
            .optional()?;
        let before = existing
            .as_ref()
            .map(AgentSettings::from)
            .unwrap_or_default();
        let row = AgentRow {
            user_id: self.user_id.clone(),
            availability: self
                .availability
                .unwrap_or(before.availability)
                .as_str()
                .to_owned(),
            capacity: self.capacity.unwrap_or(before.capacity),
            updated_at: now_millis(),
        };
        match existing {
            Some(_) => diesel::update(agents::table.find(&self.user_id))
                .set(&row)
                .execute(conn)?,
            None => diesel::insert_into(agents::table)
                .values(&row)
                .execute(conn)?,
        };
        Ok(AgentSettings::from(&row))
    }
}
