//! The statements DbSync runs. Writes arrive in batches and commit in one
//! transaction, each write in its own savepoint so one rejected write does not
//! undo its neighbours.

use diesel::prelude::*;

use super::models::{ConversationRow, MessageRow};
use super::schema::{conversations, messages};
use super::{DbConnection, DbError};
use crate::domain::message::now_millis;
use crate::domain::{Author, Caller};
use crate::error::AppError;

/// A domain write.
#[derive(Debug, Clone)]
pub enum WriteOp {
    AppendMessage(AppendMessage),
}

/// Store one message in a conversation, creating the conversation for a customer's first message.
#[derive(Debug, Clone)]
pub struct AppendMessage {
    pub conversation_id: String,
    pub author: Author,
    /// The identity the access rule is checked against.
    pub caller: Caller,
    pub content: String,
    pub message_type: &'static str,
    pub client_id: Option<String>,
    /// Customers start conversations; staff can only write to existing ones.
    pub create_if_missing: bool,
}

#[derive(Debug, Clone)]
pub enum WriteOutcome {
    /// `duplicate`: the client id was seen before and this is the original message.
    Appended {
        message: MessageRow,
        duplicate: bool,
    },
}

/// A write refused by a domain rule, or a storage failure.
#[derive(Debug)]
pub enum WriteError {
    Rejected(AppError),
    Db(DbError),
}

impl From<diesel::result::Error> for WriteError {
    fn from(e: diesel::result::Error) -> Self {
        WriteError::Db(DbError::Query(e))
    }
}

impl From<WriteError> for AppError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Rejected(e) => e,
            WriteError::Db(e) => e.into(),
        }
    }
}

/// Apply a batch in one transaction. The outer error means nothing was committed.
pub fn apply_batch(
    conn: &mut DbConnection,
    ops: &[WriteOp],
) -> Result<Vec<Result<WriteOutcome, AppError>>, DbError> {
    conn.transaction::<_, DbError, _>(|conn| {
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            let r = conn.transaction::<_, WriteError, _>(|conn| apply_one(conn, op));
            match r {
                Ok(outcome) => results.push(Ok(outcome)),
                Err(WriteError::Rejected(e)) => results.push(Err(e)),
                Err(WriteError::Db(e)) => return Err(e),
            }
        }
        Ok(results)
    })
}

fn apply_one(conn: &mut DbConnection, op: &WriteOp) -> Result<WriteOutcome, WriteError> {
    match op {
        WriteOp::AppendMessage(m) => append_message(conn, m),
    }
}

fn append_message(conn: &mut DbConnection, m: &AppendMessage) -> Result<WriteOutcome, WriteError> {
    let now = now_millis();
    match find_conversation(conn, &m.conversation_id).map_err(WriteError::Db)? {
        Some(conv) => {
            if !m.caller.may_access(conv.customer_user_id.as_deref()) {
                return Err(WriteError::Rejected(AppError::forbidden(
                    "Access denied to this session",
                )));
            }
        }
        None if m.create_if_missing => {
            diesel::insert_into(conversations::table)
                .values(&ConversationRow {
                    id: m.conversation_id.clone(),
                    customer_user_id: m.caller.user_id().map(str::to_owned),
                    customer_name: m.author.name.clone(),
                    subject: None,
                    category: None,
                    priority: "normal".into(),
                    conversation_type: "general".into(),
                    status: "waiting".into(),
                    assigned_agent_id: None,
                    last_seq: 0,
                    created_at: now,
                    updated_at: now,
                })
                .execute(conn)?;
        }
        None => {
            return Err(WriteError::Rejected(AppError::not_found(
                "Session not found",
            )))
        }
    }

    if let Some(client_id) = &m.client_id {
        let existing = messages::table
            .filter(messages::conversation_id.eq(&m.conversation_id))
            .filter(messages::sender_id.eq(&m.author.id))
            .filter(messages::client_id.eq(client_id))
            .select(MessageRow::as_select())
            .first(conn)
            .optional()?;
        if let Some(message) = existing {
            return Ok(WriteOutcome::Appended {
                message,
                duplicate: true,
            });
        }
    }

    // The single writer makes this read-increment safe; seq stays gap-free because a
    // failed write rolls back its savepoint, increment included.
    diesel::update(conversations::table.find(&m.conversation_id))
        .set((
            conversations::last_seq.eq(conversations::last_seq + 1),
            conversations::updated_at.eq(now),
        ))
        .execute(conn)?;
    let seq: i64 = conversations::table
        .find(&m.conversation_id)
        .select(conversations::last_seq)
        .first(conn)?;

    let row = MessageRow {
        id: uuid::Uuid::new_v4().to_string(),
        conversation_id: m.conversation_id.clone(),
        seq,
        sender_id: m.author.id.clone(),
        sender_kind: m.author.kind.as_str().to_owned(),
        sender_name: m.author.name.clone(),
        content: m.content.clone(),
        message_type: m.message_type.to_owned(),
        client_id: m.client_id.clone(),
        created_at: now,
    };
    diesel::insert_into(messages::table)
        .values(&row)
        .execute(conn)?;
    Ok(WriteOutcome::Appended {
        message: row,
        duplicate: false,
    })
}

pub fn find_conversation(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<ConversationRow>, DbError> {
    Ok(conversations::table
        .find(id)
        .select(ConversationRow::as_select())
        .first(conn)
        .optional()?)
}

/// Messages with `seq > after_seq`, oldest first, at most `limit`.
pub fn messages_after(
    conn: &mut DbConnection,
    conversation_id: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, DbError> {
    Ok(messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .filter(messages::seq.gt(after_seq))
        .order(messages::seq.asc())
        .limit(limit)
        .select(MessageRow::as_select())
        .load(conn)?)
}

/// Cheap round-trip used by `/health`.
pub fn ping(conn: &mut DbConnection) -> Result<(), DbError> {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>("1"))
        .execute(conn)
        .map(|_| ())
        .map_err(DbError::from)
}
