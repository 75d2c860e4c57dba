//! Conversations and their messages: posting (which may start a conversation or
//! reopen it), opening, status changes, and binding an anonymous session.

use diesel::prelude::*;

use super::{outbox, Write, WriteError};
use crate::db::convert::{self, owner_of};
use crate::db::models::{AttachmentRow, ConversationRow, MessageRow};
use crate::db::reads::{attachments_of, find_conversation_row};
use crate::db::schema::{attachments, conversations, messages};
use crate::db::DbConnection;
use crate::domain::conversation::{
    apply_change, relabel, Conversation, Owner, Status, StatusChange, AT_CAPACITY,
};
use crate::domain::message::now_millis;
use crate::domain::writes::{
    AutoResolve, BindAnonymous, Change, Changed, NewConversation, Open, Opened, Post, Posted, Rate,
    Relabel, SetCustomer, Snooze, Timing, WakeSnoozed,
};
use crate::domain::{Author, Caller, Message, SenderKind};
use crate::error::{AppError, ErrorKind};

fn closed() -> AppError {
    AppError::new(ErrorKind::Conflict, "Conversation is closed")
}

/// The conversation's row, locked until the transaction ends: another node's write
/// to it waits until ours commits, so what we read (its seq, status, owner) stays true
/// while we write. A no-op update takes the row lock on either backend (SQLite has
/// one writer anyway).
pub(super) fn locked_row(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<ConversationRow>, WriteError> {
    diesel::update(conversations::table.find(id))
        .set(conversations::last_seq.eq(conversations::last_seq))
        .execute(conn)?;
    Ok(find_conversation_row(conn, id)?)
}

/// The conversation (locked), if the caller may use it.
pub(super) fn accessible(
    conn: &mut DbConnection,
    id: &str,
    caller: &Caller,
) -> Result<ConversationRow, WriteError> {
    let c = locked_row(conn, id)?.ok_or_else(AppError::conversation_not_found)?;
    if !caller.may_access(&owner_of(&c)) {
        return Err(AppError::access_denied().into());
    }
    Ok(c)
}

/// An anonymous session from before bindings belongs to the first browser that uses
/// it now (`conv` is left as stored when it is not such a session): whether this call
/// bound it.
fn bind_anonymous(
    conn: &mut DbConnection,
    conv: &mut ConversationRow,
    binding: &str,
) -> Result<bool, WriteError> {
    if owner_of(conv) != Owner::Anonymous(None) {
        return Ok(false);
    }
    let updated = diesel::update(conversations::table.find(&conv.id))
        .filter(conversations::anon_key.is_null())
        .set(conversations::anon_key.eq(binding))
        .execute(conn)?;
    if updated == 1 {
        conv.anon_key = Some(binding.to_owned());
    } else if let Some(now) = find_conversation_row(conn, &conv.id)? {
        // Bound meanwhile (by another node): that binding stands.
        *conv = now;
    }
    Ok(updated == 1)
}

fn system_author() -> Author {
    Author {
        id: "system".into(),
        kind: SenderKind::System,
        name: "System".into(),
    }
}

/// Append a message with the conversation's next seq, keeping `conv` (read locked in
/// this transaction, `locked_row`) current. The lock makes the read-then-write safe
/// with several nodes writing; a rolled-back savepoint takes its seq with it, so seq
/// stays gap-free.
pub(super) fn insert_message(
    conn: &mut DbConnection,
    conv: &mut ConversationRow,
    author: &Author,
    content: &str,
    message_type: &str,
    client_id: Option<&str>,
    private: bool,
) -> Result<MessageRow, WriteError> {
    let now = now_millis();
    let seq = conv.last_seq + 1;
    diesel::update(conversations::table.find(&conv.id))
        .set((
            conversations::last_seq.eq(seq),
            conversations::updated_at.eq(now),
        ))
        .execute(conn)?;
    conv.last_seq = seq;
    conv.updated_at = now;
    let row = MessageRow {
        id: uuid::Uuid::new_v4().to_string(),
        conversation_id: conv.id.clone(),
        seq,
        sender_id: author.id.clone(),
        sender_kind: author.kind.as_str().to_owned(),
        sender_name: author.name.clone(),
        content: content.to_owned(),
        message_type: message_type.to_owned(),
        client_id: client_id.map(str::to_owned),
        created_at: now,
        private,
    };
    diesel::insert_into(messages::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// A new conversation's row; `None` when one with this id exists already (started by
/// another node since we looked).
fn insert_conversation(
    conn: &mut DbConnection,
    id: &str,
    new: &NewConversation,
) -> Result<Option<ConversationRow>, WriteError> {
    let now = now_millis();
    let row = ConversationRow {
        id: id.to_owned(),
        customer_user_id: new.owner.user_id().map(str::to_owned),
        customer_name: new.customer_name.clone(),
        subject: new.subject.clone(),
        category: new.category.clone(),
        priority: new.priority.clone(),
        conversation_type: new.kind.clone(),
        status: Status::Waiting.as_str().to_owned(),
        assigned_agent_id: None,
        last_seq: 0,
        created_at: now,
        updated_at: now,
        guest_id: new.owner.guest_id().map(str::to_owned),
        anon_key: new.owner.anon_key().map(str::to_owned),
        first_response_at: None,
        labels: String::new(),
        rating: None,
        rating_comment: None,
        rated_at: None,
        snoozed_until: None,
        contact_email: None,
        customer_context: None,
        customer_attributes: convert::stored_attributes(&new.attributes),
    };
    // Each backend's own connection: the multi-backend one has no ON CONFLICT.
    let insert = diesel::insert_into(conversations::table)
        .values(&row)
        .on_conflict_do_nothing();
    let inserted = match conn {
        DbConnection::Pg(c) => insert.execute(c)?,
        DbConnection::Sqlite(c) => insert.execute(c)?,
    };
    Ok((inserted == 1).then_some(row))
}

/// Several nodes may auto-assign to one agent at once: the agent's active
/// conversations are counted under a lock of the agent's own (on PostgreSQL a
/// transaction-scoped advisory lock; SQLite has one writer), so the capacity holds.
fn within_capacity(
    conn: &mut DbConnection,
    agent_id: &str,
    capacity: i64,
) -> Result<(), WriteError> {
    if let DbConnection::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))::text")
            .bind::<diesel::sql_types::Text, _>(agent_id)
            .execute(c)?;
    }
    let load: i64 = conversations::table
        .filter(conversations::assigned_agent_id.eq(agent_id))
        .filter(conversations::status.eq(Status::Active.as_str()))
        .count()
        .get_result(conn)?;
    if load >= capacity {
        return Err(AppError::new(ErrorKind::Conflict, AT_CAPACITY).into());
    }
    Ok(())
}

fn set_status(
    conn: &mut DbConnection,
    conv: &mut ConversationRow,
    status: Status,
    agent: Option<String>,
) -> Result<(), WriteError> {
    let now = now_millis();
    diesel::update(conversations::table.find(&conv.id))
        .set((
            conversations::status.eq(status.as_str()),
            conversations::assigned_agent_id.eq(&agent),
            conversations::updated_at.eq(now),
        ))
        .execute(conn)?;
    conv.status = status.as_str().to_owned();
    conv.assigned_agent_id = agent;
    conv.updated_at = now;
    Ok(())
}

/// A staff message may be the conversation's first reply to a customer: then it is
/// marked so, and the time since the first customer message is the first response.
fn first_response(
    conn: &mut DbConnection,
    conv: &ConversationRow,
    reply: &MessageRow,
) -> Result<Option<Timing>, WriteError> {
    let staff = matches!(
        SenderKind::parse(&reply.sender_kind),
        Some(SenderKind::Agent | SenderKind::Admin)
    );
    // A private note answers nobody.
    if !staff || reply.private || conv.first_response_at.is_some() {
        return Ok(None);
    }
    let customer_kinds = [SenderKind::Customer.as_str(), SenderKind::Guest.as_str()];
    let asked: Option<chrono::NaiveDateTime> = messages::table
        .filter(messages::conversation_id.eq(&conv.id))
        .filter(messages::sender_kind.eq_any(customer_kinds))
        .order(messages::seq.asc())
        .select(messages::created_at)
        .first(conn)
        .optional()?;
    // Staff who write before the customer has are not answering anyone yet.
    let Some(asked) = asked else {
        return Ok(None);
    };
    diesel::update(conversations::table.find(&conv.id))
        .set(conversations::first_response_at.eq(reply.created_at))
        .execute(conn)?;
    Ok(Some(Timing::FirstResponse(Timing::between(
        asked,
        reply.created_at,
    ))))
}

/// What a status change completes: a first agent (the queue wait) or a resolution,
/// each timed from the conversation's start.
fn status_timing(conv: &ConversationRow, before: Option<Status>, after: Status) -> Option<Timing> {
    let since_start = Timing::between(conv.created_at, now_millis());
    match (before, after) {
        (Some(Status::Waiting), Status::Active) => Some(Timing::QueueWait(since_start)),
        (Some(b), Status::Resolved) if b != Status::Resolved => {
            Some(Timing::Resolution(since_start))
        }
        _ => None,
    }
}

/// The author's uploaded files with these ids, none yet attached to a message.
fn unlinked_attachments(
    conn: &mut DbConnection,
    ids: &[String],
    uploader: &str,
) -> Result<Vec<AttachmentRow>, WriteError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<AttachmentRow> = attachments::table
        .filter(attachments::id.eq_any(ids))
        .filter(attachments::uploader_id.eq(uploader))
        .filter(attachments::message_id.is_null())
        .select(AttachmentRow::as_select())
        .load(conn)?;
    if rows.len() != ids.len() {
        let e = AppError::validation("Unknown attachment")
            .with_detail("attachments must be your own uploads, not yet sent");
        return Err(e.into());
    }
    Ok(rows)
}

impl Write for Post {
    type Outcome = Posted;

    fn apply(&self, conn: &mut DbConnection) -> Result<Posted, WriteError> {
        let p = self;
        let (mut conv, created) = match locked_row(conn, &p.conversation_id)? {
            Some(c) => (c, false),
            None => match &p.create {
                Some(new) => match insert_conversation(conn, &p.conversation_id, new)? {
                    Some(row) => (row, true),
                    // Another node started it meanwhile: post into theirs.
                    None => (
                        locked_row(conn, &p.conversation_id)?
                            .ok_or_else(AppError::conversation_not_found)?,
                        false,
                    ),
                },
                None => return Err(AppError::conversation_not_found().into()),
            },
        };
        let bound = match &p.caller {
            Caller::Anonymous(Some(binding)) => bind_anonymous(conn, &mut conv, binding)?,
            _ => false,
        };
        if !p.caller.may_access(&owner_of(&conv)) {
            return Err(AppError::access_denied().into());
        }
        if let Some(client_id) = &p.client_id {
            let existing = messages::table
                .filter(messages::conversation_id.eq(&p.conversation_id))
                .filter(messages::sender_id.eq(&p.author.id))
                .filter(messages::client_id.eq(client_id))
                .select(MessageRow::as_select())
                .first(conn)
                .optional()?;
            if let Some(original) = existing {
                let files = attachments_of(conn, std::slice::from_ref(&original.id))?;
                return Ok(Posted {
                    conversation: conv.into(),
                    messages: vec![convert::message(original, &files)],
                    duplicate: true,
                    created,
                    bound,
                    timing: None,
                    woke: false,
                });
            }
        }
        let status = Status::parse(&conv.status).unwrap_or(Status::Waiting);
        if status == Status::Closed {
            return Err(closed().into());
        }
        let mut added: Vec<Message> = Vec::with_capacity(2);
        if p.author.kind.is_customer() && status == Status::Resolved {
            // A customer writing again reopens a resolved conversation.
            let agent = conv.assigned_agent_id.clone();
            set_status(conn, &mut conv, Status::Active, agent)?;
            let note = "Conversation reopened";
            let row = insert_message(
                conn,
                &mut conv,
                &system_author(),
                note,
                "system",
                None,
                false,
            )?;
            added.push(row.into());
        }
        // A customer writing brings a snoozed conversation back to the inbox.
        let woke = p.author.kind.is_customer() && conv.snoozed_until.is_some();
        if woke {
            conv.snoozed_until = None;
            diesel::update(conversations::table.find(&conv.id))
                .set(conversations::snoozed_until.eq(None::<chrono::NaiveDateTime>))
                .execute(conn)?;
        }
        let files = unlinked_attachments(conn, &p.attachment_ids, &p.author.id)?;
        let message_type = match &p.message_type {
            Some(t) => t.clone(),
            None if files.is_empty() => "text".to_owned(),
            None if files.iter().all(|f| f.content_type.starts_with("image/")) => {
                "image".to_owned()
            }
            None => "file".to_owned(),
        };
        let row = insert_message(
            conn,
            &mut conv,
            &p.author,
            &p.content,
            &message_type,
            p.client_id.as_deref(),
            p.private,
        )?;
        let timing = first_response(conn, &conv, &row)?;
        if !files.is_empty() {
            diesel::update(attachments::table.filter(attachments::id.eq_any(&p.attachment_ids)))
                .set((
                    attachments::message_id.eq(&row.id),
                    attachments::conversation_id.eq(&conv.id),
                ))
                .execute(conn)?;
        }
        // Most messages carry no files: no need to look.
        let files = if files.is_empty() {
            Vec::new()
        } else {
            attachments_of(conn, std::slice::from_ref(&row.id))?
        };
        added.push(convert::message(row, &files));
        let conversation: Conversation = conv.into();
        if created {
            outbox::conversation_created(conn, &conversation)?;
        }
        outbox::status_changed(conn, &conversation, status)?;
        for message in &added {
            outbox::message_created(conn, message)?;
        }
        Ok(Posted {
            conversation,
            messages: added,
            duplicate: false,
            created,
            bound,
            timing,
            woke,
        })
    }
}

impl Write for Open {
    type Outcome = Opened;

    fn apply(&self, conn: &mut DbConnection) -> Result<Opened, WriteError> {
        let o = self;
        if o.reuse_open {
            let mut q = conversations::table
                .filter(conversations::conversation_type.eq(&o.conversation.kind))
                .filter(conversations::status.ne(Status::Closed.as_str()))
                .into_boxed();
            q = match &o.conversation.owner {
                Owner::User(u) => q.filter(conversations::customer_user_id.eq(u.clone())),
                Owner::Guest(g) => q.filter(conversations::guest_id.eq(g.clone())),
                Owner::Anonymous(_) => return Err(AppError::token_required().into()),
            };
            let existing = q
                .order(conversations::updated_at.desc())
                .select(ConversationRow::as_select())
                .first(conn)
                .optional()?;
            if let Some(conversation) = existing {
                return Ok(Opened {
                    conversation: conversation.into(),
                    messages: Vec::new(),
                    created: false,
                });
            }
        }
        // A new id: nobody else has it.
        let mut conversation =
            insert_conversation(conn, &o.id, &o.conversation)?.ok_or_else(AppError::internal)?;
        let mut messages: Vec<Message> = Vec::new();
        if let Some((author, text)) = &o.initial_message {
            // The server API may open with a system note: typed as the server's own.
            let kind = if author.kind == SenderKind::System {
                "system"
            } else {
                "text"
            };
            let row = insert_message(conn, &mut conversation, author, text, kind, None, false)?;
            messages.push(row.into());
        }
        let conversation: Conversation = conversation.into();
        outbox::conversation_created(conn, &conversation)?;
        for message in &messages {
            outbox::message_created(conn, message)?;
        }
        Ok(Opened {
            conversation,
            messages,
            created: true,
        })
    }
}

impl Write for Change {
    type Outcome = Changed;

    fn apply(&self, conn: &mut DbConnection) -> Result<Changed, WriteError> {
        if let StatusChange::AutoAssign {
            agent_id, capacity, ..
        } = &self.change
        {
            within_capacity(conn, agent_id, *capacity)?;
        }
        let conv = accessible(conn, &self.conversation_id, &self.caller)?;
        let effect = apply_change(&conv.clone().into(), &self.caller, &self.change)?;
        record_change(
            conn,
            conv,
            effect.status,
            effect.assigned_agent_id,
            &effect.note,
        )
    }
}

/// A status change as every path records it: the row, the system message saying so,
/// and their webhook events (status, assignment when the agent changed, the message).
fn record_change(
    conn: &mut DbConnection,
    mut conv: ConversationRow,
    status: Status,
    agent: Option<String>,
    note: &str,
) -> Result<Changed, WriteError> {
    let before = Status::parse(&conv.status);
    let previous_agent = conv.assigned_agent_id.clone();
    let timing = status_timing(&conv, before, status);
    set_status(conn, &mut conv, status, agent)?;
    let system = insert_message(
        conn,
        &mut conv,
        &system_author(),
        note,
        "system",
        None,
        false,
    )?;
    let conversation: Conversation = conv.into();
    let system: Message = system.into();
    if let Some(before) = before {
        outbox::status_changed(conn, &conversation, before)?;
    }
    outbox::assigned(conn, &conversation, previous_agent.as_deref())?;
    outbox::message_created(conn, &system)?;
    Ok(Changed {
        conversation,
        system,
        timing,
    })
}

impl Write for BindAnonymous {
    type Outcome = crate::domain::conversation::Conversation;

    fn apply(&self, conn: &mut DbConnection) -> Result<Self::Outcome, WriteError> {
        let mut conv = locked_row(conn, &self.conversation_id)?
            .ok_or_else(AppError::conversation_not_found)?;
        bind_anonymous(conn, &mut conv, &self.binding)?;
        Ok(conv.into())
    }
}

/// An onboarding code's message goes into its conversation like any other.
pub(super) fn post_note(
    conn: &mut DbConnection,
    conversation_id: &str,
    author: &Author,
    text: &str,
    message_type: &str,
) -> Result<(Conversation, Message), WriteError> {
    let mut conv =
        locked_row(conn, conversation_id)?.ok_or_else(AppError::conversation_not_found)?;
    if conv.status == Status::Closed.as_str() {
        return Err(closed().into());
    }
    let message: Message =
        insert_message(conn, &mut conv, author, text, message_type, None, false)?.into();
    outbox::message_created(conn, &message)?;
    Ok((conv.into(), message))
}

impl Write for Relabel {
    type Outcome = Conversation;

    fn apply(&self, conn: &mut DbConnection) -> Result<Conversation, WriteError> {
        let mut conv = locked_row(conn, &self.conversation_id)?
            .ok_or_else(AppError::conversation_not_found)?;
        let now: Conversation = conv.clone().into();
        let labels = relabel(&now.labels, &self.add, &self.remove)?;
        conv.labels = convert::stored_labels(&labels);
        diesel::update(conversations::table.find(&conv.id))
            .set(conversations::labels.eq(&conv.labels))
            .execute(conn)?;
        Ok(conv.into())
    }
}

impl Write for Rate {
    type Outcome = Conversation;

    fn apply(&self, conn: &mut DbConnection) -> Result<Conversation, WriteError> {
        let mut conv = accessible(conn, &self.conversation_id, &self.caller)?;
        let status = Status::parse(&conv.status);
        if !matches!(status, Some(Status::Resolved | Status::Closed)) {
            let e = AppError::new(
                ErrorKind::Conflict,
                "Rate a conversation once it is resolved",
            );
            return Err(e.into());
        }
        if conv.rating.is_some() {
            let e = AppError::new(ErrorKind::Conflict, "This conversation is rated already");
            return Err(e.into());
        }
        conv.rating = Some(i32::from(self.score));
        conv.rating_comment = self.comment.clone();
        conv.rated_at = Some(now_millis());
        diesel::update(conversations::table.find(&conv.id))
            .set((
                conversations::rating.eq(conv.rating),
                conversations::rating_comment.eq(&conv.rating_comment),
                conversations::rated_at.eq(conv.rated_at),
            ))
            .execute(conn)?;
        let conversation: Conversation = conv.into();
        outbox::rated(conn, &conversation)?;
        Ok(conversation)
    }
}

/// Active conversations whose customer has been quiet since `since` (and that started
/// before it), at most `limit`; with `only`, that one alone if it is such.
fn quiet_conversations(
    conn: &mut DbConnection,
    since: chrono::NaiveDateTime,
    only: Option<&str>,
    limit: i64,
) -> Result<Vec<String>, WriteError> {
    let customer_kinds = [SenderKind::Customer.as_str(), SenderKind::Guest.as_str()];
    let spoke_since = messages::table
        .filter(messages::conversation_id.eq(conversations::id))
        .filter(messages::sender_kind.eq_any(customer_kinds))
        .filter(messages::created_at.ge(since));
    let mut q = conversations::table
        .filter(conversations::status.eq(Status::Active.as_str()))
        .filter(conversations::created_at.lt(since))
        .filter(diesel::dsl::not(diesel::dsl::exists(spoke_since)))
        .select(conversations::id)
        .order(conversations::updated_at.asc())
        .limit(limit)
        .into_boxed();
    if let Some(id) = only {
        q = q.filter(conversations::id.eq(id.to_owned()));
    }
    Ok(q.load(conn)?)
}

impl Write for AutoResolve {
    type Outcome = Vec<Changed>;

    fn apply(&self, conn: &mut DbConnection) -> Result<Vec<Changed>, WriteError> {
        let mut resolved = Vec::new();
        for id in quiet_conversations(conn, self.quiet_since, None, self.limit)? {
            let Some(conv) = locked_row(conn, &id)? else {
                continue;
            };
            // Another node resolved it, or the customer wrote, since we looked.
            if quiet_conversations(conn, self.quiet_since, Some(&id), 1)?.is_empty() {
                continue;
            }
            let agent = conv.assigned_agent_id.clone();
            resolved.push(record_change(
                conn,
                conv,
                Status::Resolved,
                agent,
                &self.note,
            )?);
        }
        Ok(resolved)
    }
}

impl Write for Snooze {
    type Outcome = Conversation;

    fn apply(&self, conn: &mut DbConnection) -> Result<Conversation, WriteError> {
        let mut conv = locked_row(conn, &self.conversation_id)?
            .ok_or_else(AppError::conversation_not_found)?;
        conv.snoozed_until = self.until;
        diesel::update(conversations::table.find(&conv.id))
            .set(conversations::snoozed_until.eq(conv.snoozed_until))
            .execute(conn)?;
        Ok(conv.into())
    }
}

impl Write for WakeSnoozed {
    type Outcome = Vec<Conversation>;

    fn apply(&self, conn: &mut DbConnection) -> Result<Vec<Conversation>, WriteError> {
        let due: Vec<String> = conversations::table
            .filter(conversations::snoozed_until.le(self.now))
            .select(conversations::id)
            .limit(500)
            .load(conn)?;
        let mut woke = Vec::with_capacity(due.len());
        for id in due {
            let Some(mut conv) = locked_row(conn, &id)? else {
                continue;
            };
            // Woken (or snoozed again) by someone else since we looked.
            if conv.snoozed_until.is_none_or(|t| t > self.now) {
                continue;
            }
            conv.snoozed_until = None;
            diesel::update(conversations::table.find(&id))
                .set(conversations::snoozed_until.eq(None::<chrono::NaiveDateTime>))
                .execute(conn)?;
            woke.push(conv.into());
        }
        Ok(woke)
    }
}

impl Write for SetCustomer {
    /// The conversation, and whether anything changed (a widget tells the same page on
    /// every reconnect: that writes nothing and tells nobody).
    type Outcome = (Conversation, bool);

    fn apply(&self, conn: &mut DbConnection) -> Result<(Conversation, bool), WriteError> {
        if self.caller.is_staff() {
            return Err(AppError::forbidden("Only the customer tells who they are").into());
        }
        let mut conv = accessible(conn, &self.conversation_id, &self.caller)?;
        let known = Conversation::from(conv.clone()).customer;
        let unchanged = self
            .email
            .as_ref()
            .is_none_or(|e| known.email.as_ref() == Some(e))
            && self
                .context
                .as_ref()
                .is_none_or(|c| known.context.as_ref().is_some_and(|k| k.same_place(c)))
            && self
                .attributes
                .as_ref()
                .is_none_or(|a| known.attributes == *a);
        if unchanged {
            return Ok((conv.into(), false));
        }
        if let Some(email) = &self.email {
            conv.contact_email = Some(email.clone());
        }
        if let Some(context) = &self.context {
            conv.customer_context = Some(serde_json::json!(context).to_string());
        }
        if let Some(attributes) = &self.attributes {
            conv.customer_attributes = convert::stored_attributes(attributes);
        }
        diesel::update(conversations::table.find(&conv.id))
            .set((
                conversations::contact_email.eq(&conv.contact_email),
                conversations::customer_context.eq(&conv.customer_context),
                conversations::customer_attributes.eq(&conv.customer_attributes),
            ))
            .execute(conn)?;
        Ok((conv.into(), true))
    }
}
