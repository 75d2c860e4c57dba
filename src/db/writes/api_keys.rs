//! API keys, as admins make and revoke them.

use diesel::prelude::*;

use super::{Write, WriteError};
use crate::db::models::ApiKeyRow;
use crate::db::schema::api_keys;
use crate::db::DbConnection;
use crate::domain::message::now_millis;
use crate::domain::writes::{CreateApiKey, RevokeApiKey};

impl Write for CreateApiKey {
    type Outcome = ApiKeyRow;

    fn apply(&self, conn: &mut DbConnection) -> Result<ApiKeyRow, WriteError> {
        let row = ApiKeyRow {
            id: self.id.clone(),
            name: self.name.clone(),
            prefix: self.prefix.clone(),
            key_hash: self.hash.clone(),
            scopes: self.scopes.join(" "),
            created_by: self.created_by.clone(),
            created_at: now_millis(),
            revoked_at: None,
        };
        diesel::insert_into(api_keys::table)
            .values(&row)
            .execute(conn)?;
        Ok(row)
    }
}

impl Write for RevokeApiKey {
    type Outcome = Option<ApiKeyRow>;

    fn apply(&self, conn: &mut DbConnection) -> Result<Option<ApiKeyRow>, WriteError> {
        // A key revoked before keeps its first revocation time.
        diesel::update(api_keys::table.find(&self.id))
            .filter(api_keys::revoked_at.is_null())
            .set(api_keys::revoked_at.eq(now_millis()))
            .execute(conn)?;
        Ok(api_keys::table
            .find(&self.id)
            .select(ApiKeyRow::as_select())
            .first(conn)
            .optional()?)
    }
}
