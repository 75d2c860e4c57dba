//! Live streams (seed 002): started, stopped with their figures, and their chat.

use diesel::prelude::*;

use super::{Write, WriteError};
use crate::db::models::{StreamChatRow, StreamRow};
use crate::db::schema::{live_streams, stream_chat};
use crate::db::DbConnection;
use crate::domain::message::now_millis;
use crate::domain::stream::Stream;
use crate::domain::writes::{
    CheckpointStream, SetPinnedMessage, StartStream, StopStream, StoreStreamChat,
};
use crate::error::AppError;

impl Write for StartStream {
    type Outcome = Stream;

    fn apply(&self, conn: &mut DbConnection) -> Result<Stream, WriteError> {
        diesel::insert_into(live_streams::table)
            .values(&StreamRow::from(&self.stream))
            .execute(conn)?;
        super::outbox::stream_event(conn, "stream.started", &self.stream)?;
        Ok(self.stream.clone())
    }
}

impl Write for StopStream {
    type Outcome = Stream;

    fn apply(&self, conn: &mut DbConnection) -> Result<Stream, WriteError> {
        diesel::update(live_streams::table.find(&self.id))
            .set((
                live_streams::ended_at.eq(Some(now_millis())),
                live_streams::peak_viewers.eq(self.peak_viewers),
                live_streams::likes.eq(self.likes),
            ))
            .execute(conn)?;
        let row = live_streams::table
            .find(&self.id)
            .select(StreamRow::as_select())
            .first(conn)?;
        let stream: Stream = row.into();
        super::outbox::stream_event(conn, "stream.stopped", &stream)?;
        Ok(stream)
    }
}

impl Write for CheckpointStream {
    type Outcome = ();

    fn apply(&self, conn: &mut DbConnection) -> Result<(), WriteError> {
        let json = |v: serde_json::Result<String>| v.map_err(|_| AppError::internal());
        diesel::update(
            live_streams::table
                .find(&self.id)
                .filter(live_streams::ended_at.is_null()),
        )
        .set((
            live_streams::peak_viewers.eq(self.peak_viewers),
            live_streams::likes.eq(self.liked_by.len() as i64),
            live_streams::liked_by.eq(json(serde_json::to_string(&self.liked_by))?),
            live_streams::pinned.eq(json(serde_json::to_string(&self.pinned))?),
        ))
        .execute(conn)?;
        Ok(())
    }
}

impl Write for SetPinnedMessage {
    type Outcome = ();

    fn apply(&self, conn: &mut DbConnection) -> Result<(), WriteError> {
        let json = self
            .message
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|_| AppError::internal())?;
        diesel::update(live_streams::table.find(&self.stream_id))
            .set(live_streams::pinned_message.eq(json))
            .execute(conn)?;
        Ok(())
    }
}

impl Write for StoreStreamChat {
    type Outcome = ();

    fn apply(&self, conn: &mut DbConnection) -> Result<(), WriteError> {
        let row = StreamChatRow {
            id: self.id.clone(),
            stream_id: self.stream_id.clone(),
            sender_id: self.sender_id.clone(),
            username: self.username.clone(),
            message: self.message.clone(),
            is_admin: self.is_admin,
            created_at: self.created_at,
        };
        diesel::insert_into(stream_chat::table)
            .values(&row)
            .execute(conn)?;
        Ok(())
    }
}
