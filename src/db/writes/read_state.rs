//! Read cursors: "read up to seq N" per conversation and participant.

use diesel::prelude::*;

use super::conversations::accessible;
use super::{Write, WriteError};
use crate::db::models::ReadCursorRow;
use crate::db::reads::read_cursor;
use crate::db::schema::{messages, read_cursors};
use crate::db::DbConnection;
use crate::domain::conversation::participant_id;
use crate::domain::message::now_millis;
use crate::domain::writes::{MarkRead, ReadMarked, ReadTarget};
use crate::error::AppError;

impl Write for MarkRead {
    type Outcome = ReadMarked;

    fn apply(&self, conn: &mut DbConnection) -> Result<ReadMarked, WriteError> {
        let conv = accessible(conn, &self.conversation_id, &self.caller)?;
        let participant = participant_id(&self.caller, &conv.id);
        let wanted = match &self.target {
            ReadTarget::All => conv.last_seq,
            ReadTarget::UpToSeq(seq) => (*seq).clamp(0, conv.last_seq),
            ReadTarget::Ids(ids) => {
                let found: Option<i64> = messages::table
                    .filter(messages::conversation_id.eq(&conv.id))
                    .filter(messages::id.eq_any(ids))
                    // Notes are not for the seeds' clients, which read by id.
                    .filter(messages::private.eq(false))
                    .select(diesel::dsl::max(messages::seq))
                    .first(conn)?;
                found.ok_or_else(|| AppError::not_found("No such messages in this conversation"))?
            }
        };
        let current = read_cursor(conn, &conv.id, &participant)?;
        let changed = wanted > current.unwrap_or(0);
        if changed {
            let updated_at = now_millis();
            if current.is_some() {
                diesel::update(read_cursors::table.find((&conv.id, &participant)))
                    .set((
                        read_cursors::last_read_seq.eq(wanted),
                        read_cursors::updated_at.eq(updated_at),
                    ))
                    .execute(conn)?;
            } else {
                let row = ReadCursorRow {
                    conversation_id: conv.id.clone(),
                    participant_id: participant.clone(),
                    last_read_seq: wanted,
                    updated_at,
                };
                diesel::insert_into(read_cursors::table)
                    .values(&row)
                    .execute(conn)?;
            }
        }
        let up_to_seq = wanted.max(current.unwrap_or(0));
        if changed {
            super::outbox::message_read(conn, &conv.id, &participant, up_to_seq)?;
        }
        Ok(ReadMarked {
            conversation: conv.into(),
            participant_id: participant,
            up_to_seq,
            changed,
        })
    }
}
