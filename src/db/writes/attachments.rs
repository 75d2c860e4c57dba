//! Uploaded files: stored unlinked until a message takes them, or discarded when
//! their message is refused.

use diesel::prelude::*;

use super::{Write, WriteError};
use crate::db::models::AttachmentRow;
use crate::db::schema::attachments;
use crate::db::DbConnection;
use crate::domain::writes::{DiscardUploads, StoreUploads, Unsent, UploadsStored};

impl Write for StoreUploads {
    type Outcome = UploadsStored;

    fn apply(&self, conn: &mut DbConnection) -> Result<UploadsStored, WriteError> {
        let rows: Vec<AttachmentRow> = self
            .uploads
            .iter()
            .map(|u| AttachmentRow {
                id: u.id.clone(),
                message_id: None,
                conversation_id: None,
                uploader_id: u.uploader_id.clone(),
                sha256: u.sha256.clone(),
                file_name: u.file_name.clone(),
                content_type: u.content_type.clone(),
                size: u.size,
                created_at: u.created_at,
            })
            .collect();
        for row in &rows {
            diesel::insert_into(attachments::table)
                .values(row)
                .execute(conn)?;
        }
        Ok(rows.into_iter().map(Into::into).collect())
    }
}

impl Write for DiscardUploads {
    type Outcome = Vec<String>;

    fn apply(&self, conn: &mut DbConnection) -> Result<Vec<String>, WriteError> {
        let unsent = attachments::table
            .filter(attachments::message_id.is_null())
            .into_boxed();
        let unsent = match &self.which {
            Unsent::Ids(ids) => unsent.filter(attachments::id.eq_any(ids)),
            Unsent::Before(at) => unsent.filter(attachments::created_at.lt(*at)),
        };
        let ids: Vec<String> = unsent.select(attachments::id).load(conn)?;
        let unsent = attachments::table.filter(attachments::id.eq_any(&ids));
        let shas: Vec<String> = unsent.clone().select(attachments::sha256).load(conn)?;
        diesel::delete(unsent).execute(conn)?;
        let mut unused_files = Vec::new();
        for sha in shas {
            let still: i64 = attachments::table
                .filter(attachments::sha256.eq(&sha))
                .count()
                .get_result(conn)?;
            if still == 0 && !unused_files.contains(&sha) {
                unused_files.push(sha);
            }
        }
        Ok(unused_files)
    }
}
