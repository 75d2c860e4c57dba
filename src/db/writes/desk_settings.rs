//! The desk's settings, one JSON document by name.

use diesel::prelude::*;

use super::{Write, WriteError};
use crate::db::schema::desk_settings;
use crate::db::DbConnection;
use crate::domain::message::now_millis;
use crate::domain::writes::SaveSetting;

impl Write for SaveSetting {
    type Outcome = ();

    /// Replaced whole (in the writer's transaction, so no reader sees it missing).
    fn apply(&self, conn: &mut DbConnection) -> Result<(), WriteError> {
        diesel::delete(desk_settings::table.find(&self.name)).execute(conn)?;
        if let Some(value) = &self.value {
            diesel::insert_into(desk_settings::table)
                .values((
                    desk_settings::name.eq(&self.name),
                    desk_settings::value.eq(value),
                    desk_settings::updated_at.eq(now_millis()),
                ))
                .execute(conn)?;
        }
        Ok(())
    }
}
