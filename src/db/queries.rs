//! The statements DbSync runs. Writes arrive in batches and commit in one
//! transaction, each write in its own savepoint so one rejected write does not
//! undo its neighbours. Domain rules come from `domain`; this module applies them
//! atomically with the rows they depend on.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;

use super::models::{
    AttachmentRow, AuthCodeRow, ConversationRow, GuestRow, MessageRow, ReadCursorRow,
    StreamChatRow, StreamRow,
};
use super::schema::{
    attachments, auth_codes, conversations, guests, live_streams, messages, read_cursors,
    stream_chat,
};
use super::{DbConnection, DbError};
use crate::domain::auth_code::{Refusal, MAX_ATTEMPTS};
use crate::domain::conversation::{apply_change, participant_id, Owner, Status, StatusChange};
use crate::domain::message::now_millis;
use crate::domain::{Author, Caller, SenderKind};
use crate::error::{AppError, ErrorKind};

/// A domain write.
#[derive(Debug, Clone)]
pub enum WriteOp {
    Post(PostOp),
    Open(OpenOp),
    Change(ChangeOp),
    MarkRead(ReadOp),
    IssueGuest(String),
    /// Files already on disk, not yet linked to a message.
    StoreAttachments(Vec<AttachmentRow>),
    /// A live stream started.
    StartStream(StreamRow),
    /// A live stream ended, with its final figures.
    StopStream {
        id: String,
        peak_viewers: i64,
        likes: i64,
    },
    /// A line of stream chat.
    StreamChat(StreamChatRow),
    /// Forget unsent uploads (their message was refused); answers the files no row uses now.
    DiscardUploads(Vec<String>),
    /// Store a code, and post its message to the conversation in the same transaction.
    IssueCode {
        code: AuthCodeRow,
        author: Author,
        text: String,
    },
    /// Check a code; attempts are counted even when it fails.
    VerifyCode {
        code_hash: String,
        holder: CodeHolder,
    },
    /// Bind an anonymous session from before bindings to a browser, unless one was
    /// bound first; answers the row as it now is.
    BindAnonymous {
        conversation_id: String,
        binding: String,
    },
}

/// What a new conversation is about and whose it is.
#[derive(Debug, Clone)]
pub struct NewConversation {
    pub owner: Owner,
    pub customer_name: String,
    pub subject: Option<String>,
    pub category: Option<String>,
    pub priority: String,
    pub conversation_type: String,
}

/// Store one message. A customer's first message on a native session creates it (`create`).
#[derive(Debug, Clone)]
pub struct PostOp {
    pub conversation_id: String,
    pub author: Author,
    /// The identity the access rule is checked against.
    pub caller: Caller,
    pub content: String,
    /// `None`: text, or image/file when it carries attachments.
    pub message_type: Option<String>,
    pub client_id: Option<String>,
    pub create: Option<NewConversation>,
    /// Uploaded, unlinked attachments of this author to link to the message.
    pub attachment_ids: Vec<String>,
}

/// Start a conversation, or with `reuse_open` return the owner's open one of that type.
#[derive(Debug, Clone)]
pub struct OpenOp {
    pub id: String,
    pub conversation: NewConversation,
    pub reuse_open: bool,
    pub initial_message: Option<(Author, String)>,
}

#[derive(Debug, Clone)]
pub struct ChangeOp {
    pub conversation_id: String,
    pub caller: Caller,
    pub change: StatusChange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadTarget {
    All,
    UpToSeq(i64),
    Ids(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct ReadOp {
    pub conversation_id: String,
    pub caller: Caller,
    pub target: ReadTarget,
}

#[derive(Debug, Clone)]
pub enum WriteOutcome {
    /// `messages`: the rows this post added, in seq order (a reopening note, then the
    /// message), or the original message alone when `duplicate`.
    /// `created`: this post started the conversation; `attachments`: the post's files.
    Posted {
        conversation: ConversationRow,
        messages: Vec<MessageRow>,
        attachments: Vec<AttachmentRow>,
        duplicate: bool,
        created: bool,
    },
    Opened {
        conversation: ConversationRow,
        messages: Vec<MessageRow>,
        created: bool,
    },
    Changed {
        conversation: ConversationRow,
        system: MessageRow,
    },
    Read {
        conversation: ConversationRow,
        participant_id: String,
        up_to_seq: i64,
        changed: bool,
    },
    GuestIssued(String),
    AttachmentsStored(Vec<AttachmentRow>),
    CodeIssued {
        code: AuthCodeRow,
        message: MessageRow,
    },
    StreamStarted(StreamRow),
    StreamStopped(StreamRow),
    StreamChatStored,
    UploadsDiscarded {
        unused_files: Vec<String>,
    },
    /// A refused code is still a successful write: its attempt was counted.
    CodeChecked(Result<AuthCodeRow, Refusal>),
    Bound(ConversationRow),
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

impl From<AppError> for WriteError {
    fn from(e: AppError) -> Self {
        WriteError::Rejected(e)
    }
}

impl From<DbError> for WriteError {
    fn from(e: DbError) -> Self {
        WriteError::Db(e)
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
    write_transaction(conn, |conn| {
        let mut results = Vec::with_capacity(ops.len());
        for op in ops {
            let r = conn.transaction::<_, WriteError, _>(|conn| apply_one(conn, op));
            // Each write's savepoint has rolled back on failure, so the others still
            // commit; but an outage (a full disk, a lost connection) is the batch's: it
            // ends the transaction, and DbSync reports it.
            match r {
                Ok(outcome) => results.push(Ok(outcome)),
                Err(WriteError::Rejected(e)) => results.push(Err(e)),
                Err(WriteError::Db(e)) if super::health::outage(&e).is_some() => return Err(e),
                Err(WriteError::Db(e)) => results.push(Err(e.into())),
            }
        }
        Ok(results)
    })
}

/// One write transaction. On SQLite it takes the write lock at `BEGIN IMMEDIATE`: a
/// deferred transaction that reads first cannot become a writer once another
/// connection (the health probe, a maintenance script) has committed since, and
/// fails at once with "database is locked", without waiting.
fn write_transaction<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    type Manager = <DbConnection as Connection>::TransactionManager;
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Pg(_) => Manager::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // A failed rollback leaves the connection broken: the pool drops it.
            if let Err(rollback) = Manager::rollback_transaction(conn) {
                log::debug!("rollback failed: {rollback}");
            }
            Err(e)
        }
    }
}

fn apply_one(conn: &mut DbConnection, op: &WriteOp) -> Result<WriteOutcome, WriteError> {
    match op {
        WriteOp::Post(p) => post(conn, p),
        WriteOp::Open(o) => open(conn, o),
        WriteOp::Change(c) => change(conn, c),
        WriteOp::MarkRead(r) => mark_read(conn, r),
        WriteOp::IssueCode { code, author, text } => {
            let conversation_id = code
                .conversation_id
                .as_deref()
                .ok_or_else(conversation_not_found)?;
            let mut conv =
                find_conversation(conn, conversation_id)?.ok_or_else(conversation_not_found)?;
            if conv.status == Status::Closed.as_str() {
                return Err(AppError::new(ErrorKind::Conflict, "Conversation is closed").into());
            }
            diesel::insert_into(auth_codes::table)
                .values(code)
                .execute(conn)?;
            let message = insert_message(conn, &mut conv, author, text, "auth_code", None)?;
            Ok(WriteOutcome::CodeIssued {
                code: code.clone(),
                message,
            })
        }
        WriteOp::VerifyCode { code_hash, holder } => verify_code(conn, code_hash, holder),
        WriteOp::BindAnonymous {
            conversation_id,
            binding,
        } => {
            let mut conv =
                find_conversation(conn, conversation_id)?.ok_or_else(conversation_not_found)?;
            bind_anonymous(conn, &mut conv, binding)?;
            Ok(WriteOutcome::Bound(conv))
        }
        WriteOp::StartStream(row) => {
            diesel::insert_into(live_streams::table)
                .values(row)
                .execute(conn)?;
            Ok(WriteOutcome::StreamStarted(row.clone()))
        }
        WriteOp::StopStream {
            id,
            peak_viewers,
            likes,
        } => {
            diesel::update(live_streams::table.find(id))
                .set((
                    live_streams::ended_at.eq(Some(now_millis())),
                    live_streams::peak_viewers.eq(peak_viewers),
                    live_streams::likes.eq(likes),
                ))
                .execute(conn)?;
            let row = live_streams::table
                .find(id)
                .select(StreamRow::as_select())
                .first(conn)?;
            Ok(WriteOutcome::StreamStopped(row))
        }
        WriteOp::StreamChat(row) => {
            diesel::insert_into(stream_chat::table)
                .values(row)
                .execute(conn)?;
            Ok(WriteOutcome::StreamChatStored)
        }
        WriteOp::DiscardUploads(ids) => {
            let unsent = attachments::table
                .filter(attachments::id.eq_any(ids))
                .filter(attachments::message_id.is_null());
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
            Ok(WriteOutcome::UploadsDiscarded { unused_files })
        }
        WriteOp::StoreAttachments(rows) => {
            for row in rows {
                diesel::insert_into(attachments::table)
                    .values(row)
                    .execute(conn)?;
            }
            Ok(WriteOutcome::AttachmentsStored(rows.clone()))
        }
        WriteOp::IssueGuest(id) => {
            diesel::insert_into(guests::table)
                .values(&GuestRow {
                    id: id.clone(),
                    created_at: now_millis(),
                })
                .execute(conn)?;
            Ok(WriteOutcome::GuestIssued(id.clone()))
        }
    }
}

pub fn conversation_not_found() -> AppError {
    AppError::not_found("Conversation not found")
}

fn access_denied() -> AppError {
    AppError::forbidden("Access denied to this conversation")
}

/// The conversation, if the caller may use it.
fn accessible(
    conn: &mut DbConnection,
    id: &str,
    caller: &Caller,
) -> Result<ConversationRow, WriteError> {
    let c = find_conversation(conn, id)?.ok_or_else(conversation_not_found)?;
    if !caller.may_access(&Owner::of(&c)) {
        return Err(access_denied().into());
    }
    Ok(c)
}

/// An anonymous session from before bindings belongs to the first browser that uses
/// it now (`conv` is left as stored when it is not such a session).
fn bind_anonymous(
    conn: &mut DbConnection,
    conv: &mut ConversationRow,
    binding: &str,
) -> Result<(), WriteError> {
    if Owner::of(conv) != Owner::Anonymous(None) {
        return Ok(());
    }
    let updated = diesel::update(conversations::table.find(&conv.id))
        .filter(conversations::anon_key.is_null())
        .set(conversations::anon_key.eq(binding))
        .execute(conn)?;
    if updated == 1 {
        conv.anon_key = Some(binding.to_owned());
    } else if let Some(now) = find_conversation(conn, &conv.id)? {
        // Bound meanwhile (by another node): that binding stands.
        *conv = now;
    }
    Ok(())
}

fn system_author() -> Author {
    Author {
        id: "system".into(),
        kind: SenderKind::System,
        name: "System".into(),
    }
}

/// Append a message with the conversation's next seq, keeping `conv` (read in this
/// transaction) current. The single writer makes the read-then-write safe; a rolled-back
/// savepoint takes its seq with it, so seq stays gap-free.
fn insert_message(
    conn: &mut DbConnection,
    conv: &mut ConversationRow,
    author: &Author,
    content: &str,
    message_type: &str,
    client_id: Option<&str>,
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
    };
    diesel::insert_into(messages::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

fn insert_conversation(
    conn: &mut DbConnection,
    id: &str,
    new: &NewConversation,
) -> Result<ConversationRow, WriteError> {
    let now = now_millis();
    let row = ConversationRow {
        id: id.to_owned(),
        customer_user_id: new.owner.user_id().map(str::to_owned),
        customer_name: new.customer_name.clone(),
        subject: new.subject.clone(),
        category: new.category.clone(),
        priority: new.priority.clone(),
        conversation_type: new.conversation_type.clone(),
        status: Status::Waiting.as_str().to_owned(),
        assigned_agent_id: None,
        last_seq: 0,
        created_at: now,
        updated_at: now,
        guest_id: new.owner.guest_id().map(str::to_owned),
        anon_key: new.owner.anon_key().map(str::to_owned),
    };
    diesel::insert_into(conversations::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
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

fn post(conn: &mut DbConnection, p: &PostOp) -> Result<WriteOutcome, WriteError> {
    let (mut conv, created) = match find_conversation(conn, &p.conversation_id)? {
        Some(c) => (c, false),
        None => match &p.create {
            Some(new) => (insert_conversation(conn, &p.conversation_id, new)?, true),
            None => return Err(conversation_not_found().into()),
        },
    };
    if let Caller::Anonymous(Some(binding)) = &p.caller {
        bind_anonymous(conn, &mut conv, binding)?;
    }
    if !p.caller.may_access(&Owner::of(&conv)) {
        return Err(access_denied().into());
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
            let attachments = attachments_of(conn, std::slice::from_ref(&original.id))?;
            return Ok(WriteOutcome::Posted {
                conversation: conv,
                messages: vec![original],
                attachments,
                duplicate: true,
                created,
            });
        }
    }
    let status = Status::parse(&conv.status).unwrap_or(Status::Waiting);
    if status == Status::Closed {
        return Err(AppError::new(ErrorKind::Conflict, "Conversation is closed").into());
    }
    let mut added = Vec::with_capacity(2);
    let customer = matches!(p.author.kind, SenderKind::Customer | SenderKind::Guest);
    if customer && status == Status::Resolved {
        // A customer writing again reopens a resolved conversation.
        let agent = conv.assigned_agent_id.clone();
        set_status(conn, &mut conv, Status::Active, agent)?;
        added.push(insert_message(
            conn,
            &mut conv,
            &system_author(),
            "Conversation reopened",
            "system",
            None,
        )?);
    }
    let files = unlinked_attachments(conn, &p.attachment_ids, &p.author.id)?;
    let message_type = match &p.message_type {
        Some(t) => t.clone(),
        None if files.is_empty() => "text".to_owned(),
        None if files.iter().all(|f| f.content_type.starts_with("image/")) => "image".to_owned(),
        None => "file".to_owned(),
    };
    let message = insert_message(
        conn,
        &mut conv,
        &p.author,
        &p.content,
        &message_type,
        p.client_id.as_deref(),
    )?;
    if !files.is_empty() {
        diesel::update(attachments::table.filter(attachments::id.eq_any(&p.attachment_ids)))
            .set((
                attachments::message_id.eq(&message.id),
                attachments::conversation_id.eq(&conv.id),
            ))
            .execute(conn)?;
    }
    // Most messages carry no files: no need to look.
    let attachments = if files.is_empty() {
        Vec::new()
    } else {
        attachments_of(conn, std::slice::from_ref(&message.id))?
    };
    added.push(message);
    Ok(WriteOutcome::Posted {
        conversation: conv,
        messages: added,
        attachments,
        duplicate: false,
        created,
    })
}

/// Accept a code once; count wrong guesses against the named person's live codes.
/// Whom a code is checked for: exactly one of a user and a guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeHolder {
    User(String),
    Guest(String),
}

/// Accept a code once, for the person it was issued to. Every refusal uses up one of
/// that person's attempts, so guessing is bounded per person whatever the address.
fn verify_code(
    conn: &mut DbConnection,
    code_hash: &str,
    holder: &CodeHolder,
) -> Result<WriteOutcome, WriteError> {
    let now = now_millis();
    let of_holder = || {
        let q = auth_codes::table.into_boxed();
        match holder {
            CodeHolder::User(u) => q.filter(auth_codes::user_id.eq(u.clone())),
            CodeHolder::Guest(g) => q.filter(auth_codes::guest_id.eq(g.clone())),
        }
    };
    let found = of_holder()
        .filter(auth_codes::code_hash.eq(code_hash))
        .order(auth_codes::created_at.desc())
        .select(AuthCodeRow::as_select())
        .first(conn)
        .optional()?;
    // Locked when the holder's newest live code has had too many wrong guesses; a fresh
    // code from staff unlocks. Once locked, no answer says more than that.
    let locked = of_holder()
        .filter(auth_codes::used_at.is_null())
        .filter(auth_codes::expires_at.gt(now))
        .order(auth_codes::created_at.desc())
        .select(auth_codes::attempts)
        .first::<i32>(conn)
        .optional()?
        .is_some_and(|attempts| attempts >= MAX_ATTEMPTS);
    let checked = match found {
        _ if locked => Err(Refusal::TooManyAttempts),
        Some(c) if c.used_at.is_some() => Err(Refusal::Used),
        Some(c) if c.expires_at <= now => Err(Refusal::Expired),
        Some(c) => {
            diesel::update(auth_codes::table.find(&c.id))
                .set(auth_codes::used_at.eq(Some(now)))
                .execute(conn)?;
            Ok(c)
        }
        None => Err(Refusal::Invalid),
    };
    if checked.is_err() {
        let live: Vec<String> = of_holder()
            .filter(auth_codes::used_at.is_null())
            .filter(auth_codes::expires_at.gt(now))
            .select(auth_codes::id)
            .load(conn)?;
        diesel::update(auth_codes::table.filter(auth_codes::id.eq_any(live)))
            .set(auth_codes::attempts.eq(auth_codes::attempts + 1))
            .execute(conn)?;
    }
    Ok(WriteOutcome::CodeChecked(checked))
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

fn open(conn: &mut DbConnection, o: &OpenOp) -> Result<WriteOutcome, WriteError> {
    if o.reuse_open {
        let mut q = conversations::table
            .filter(conversations::conversation_type.eq(&o.conversation.conversation_type))
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
            return Ok(WriteOutcome::Opened {
                conversation,
                messages: Vec::new(),
                created: false,
            });
        }
    }
    let mut conversation = insert_conversation(conn, &o.id, &o.conversation)?;
    let mut messages = Vec::new();
    if let Some((author, text)) = &o.initial_message {
        messages.push(insert_message(
            conn,
            &mut conversation,
            author,
            text,
            "text",
            None,
        )?);
    }
    Ok(WriteOutcome::Opened {
        conversation,
        messages,
        created: true,
    })
}

fn change(conn: &mut DbConnection, c: &ChangeOp) -> Result<WriteOutcome, WriteError> {
    let mut conv = accessible(conn, &c.conversation_id, &c.caller)?;
    let effect = apply_change(&conv, &c.caller, &c.change)?;
    set_status(conn, &mut conv, effect.status, effect.assigned_agent_id)?;
    let system = insert_message(
        conn,
        &mut conv,
        &system_author(),
        &effect.note,
        "system",
        None,
    )?;
    Ok(WriteOutcome::Changed {
        conversation: conv,
        system,
    })
}

fn mark_read(conn: &mut DbConnection, r: &ReadOp) -> Result<WriteOutcome, WriteError> {
    let conv = accessible(conn, &r.conversation_id, &r.caller)?;
    let participant = participant_id(&r.caller, &conv.id);
    let wanted = match &r.target {
        ReadTarget::All => conv.last_seq,
        ReadTarget::UpToSeq(seq) => (*seq).clamp(0, conv.last_seq),
        ReadTarget::Ids(ids) => {
            let found: Option<i64> = messages::table
                .filter(messages::conversation_id.eq(&conv.id))
                .filter(messages::id.eq_any(ids))
                .select(diesel::dsl::max(messages::seq))
                .first(conn)?;
            found.ok_or_else(|| AppError::not_found("No such messages in this conversation"))?
        }
    };
    let current = read_cursor(conn, &conv.id, &participant)?;
    let changed = wanted > current.unwrap_or(0);
    if changed {
        let row = ReadCursorRow {
            conversation_id: conv.id.clone(),
            participant_id: participant.clone(),
            last_read_seq: wanted,
            updated_at: now_millis(),
        };
        if current.is_some() {
            diesel::update(read_cursors::table.find((&conv.id, &participant)))
                .set((
                    read_cursors::last_read_seq.eq(wanted),
                    read_cursors::updated_at.eq(row.updated_at),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(read_cursors::table)
                .values(&row)
                .execute(conn)?;
        }
    }
    let up_to_seq = wanted.max(current.unwrap_or(0));
    Ok(WriteOutcome::Read {
        conversation: conv,
        participant_id: participant,
        up_to_seq,
        changed,
    })
}

// ---------------------------------------------------------------- reads

/// The attachments of these messages.
pub fn attachments_of(
    conn: &mut DbConnection,
    message_ids: &[String],
) -> Result<Vec<AttachmentRow>, DbError> {
    Ok(attachments::table
        .filter(attachments::message_id.eq_any(message_ids))
        .order(attachments::created_at.asc())
        .select(AttachmentRow::as_select())
        .load(conn)?)
}

pub fn find_attachment(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<AttachmentRow>, DbError> {
    Ok(attachments::table
        .find(id)
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()?)
}

/// The conversation a message belongs to (seed 003 reads by message id alone).
pub fn conversation_of_message(
    conn: &mut DbConnection,
    message_id: &str,
) -> Result<Option<String>, DbError> {
    Ok(messages::table
        .filter(messages::id.eq(message_id))
        .select(messages::conversation_id)
        .first(conn)
        .optional()?)
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

pub fn guest_exists(conn: &mut DbConnection, id: &str) -> Result<bool, DbError> {
    Ok(guests::table
        .find(id)
        .select(guests::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

pub fn read_cursor(
    conn: &mut DbConnection,
    conversation_id: &str,
    participant: &str,
) -> Result<Option<i64>, DbError> {
    Ok(read_cursors::table
        .find((conversation_id, participant))
        .select(read_cursors::last_read_seq)
        .first(conn)
        .optional()?)
}

pub fn read_cursors_of(
    conn: &mut DbConnection,
    conversation_id: &str,
) -> Result<Vec<ReadCursorRow>, DbError> {
    Ok(read_cursors::table
        .filter(read_cursors::conversation_id.eq(conversation_id))
        .select(ReadCursorRow::as_select())
        .load(conn)?)
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

/// The `limit` messages just before `before_seq`, oldest first.
pub fn messages_before(
    conn: &mut DbConnection,
    conversation_id: &str,
    before_seq: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, DbError> {
    let mut rows: Vec<MessageRow> = messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .filter(messages::seq.lt(before_seq))
        .order(messages::seq.desc())
        .limit(limit)
        .select(MessageRow::as_select())
        .load(conn)?;
    rows.reverse();
    Ok(rows)
}

/// Messages by position, oldest first (limit/offset and page/limit paging).
pub fn messages_page(
    conn: &mut DbConnection,
    conversation_id: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, DbError> {
    Ok(messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .order(messages::seq.asc())
        .offset(offset)
        .limit(limit)
        .select(MessageRow::as_select())
        .load(conn)?)
}

pub fn last_message(
    conn: &mut DbConnection,
    conversation_id: &str,
) -> Result<Option<MessageRow>, DbError> {
    Ok(messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .order(messages::seq.desc())
        .select(MessageRow::as_select())
        .first(conn)
        .optional()?)
}

/// Messages `participant` has not read: after its cursor, written by someone else.
pub fn unread_count(
    conn: &mut DbConnection,
    conversation_id: &str,
    participant: &str,
) -> Result<i64, DbError> {
    let cursor = read_cursor(conn, conversation_id, participant)?.unwrap_or(0);
    Ok(messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .filter(messages::seq.gt(cursor))
        .filter(messages::sender_id.ne(participant))
        .count()
        .get_result(conn)?)
}

/// Active conversations assigned to each of these agents.
pub fn active_loads(
    conn: &mut DbConnection,
    agents: &[String],
) -> Result<Vec<(String, i64)>, DbError> {
    agents
        .iter()
        .map(|a| {
            let n: i64 = conversations::table
                .filter(conversations::assigned_agent_id.eq(a))
                .filter(conversations::status.eq(Status::Active.as_str()))
                .count()
                .get_result(conn)?;
            Ok((a.clone(), n))
        })
        .collect()
}

/// Which conversations a listing covers.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    /// `None`: every conversation (staff).
    pub owner: Option<Owner>,
    /// Any of these statuses; empty for all.
    pub statuses: Vec<String>,
    pub conversation_type: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

/// Most recently active first, with the total count for pagination.
pub fn list_conversations(
    conn: &mut DbConnection,
    f: &ConversationFilter,
) -> Result<(Vec<ConversationRow>, i64), DbError> {
    let query = || {
        let mut q = conversations::table.into_boxed();
        match &f.owner {
            None => {}
            Some(Owner::User(u)) => q = q.filter(conversations::customer_user_id.eq(u.clone())),
            Some(Owner::Guest(g)) => q = q.filter(conversations::guest_id.eq(g.clone())),
            Some(Owner::Anonymous(_)) => q = q.filter(conversations::id.eq("")),
        }
        if !f.statuses.is_empty() {
            q = q.filter(conversations::status.eq_any(f.statuses.clone()));
        }
        if let Some(t) = &f.conversation_type {
            q = q.filter(conversations::conversation_type.eq(t.clone()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query()
        .order((conversations::updated_at.desc(), conversations::id.asc()))
        .offset(f.offset)
        .limit(f.limit)
        .select(ConversationRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Past streams, newest first.
pub fn past_streams(conn: &mut DbConnection, limit: i64) -> Result<Vec<StreamRow>, DbError> {
    Ok(live_streams::table
        .filter(live_streams::ended_at.is_not_null())
        .order(live_streams::started_at.desc())
        .limit(limit)
        .select(StreamRow::as_select())
        .load(conn)?)
}

/// A stream's stored chat, oldest first.
pub fn stream_chat_of(
    conn: &mut DbConnection,
    stream_id: &str,
) -> Result<Vec<StreamChatRow>, DbError> {
    Ok(stream_chat::table
        .filter(stream_chat::stream_id.eq(stream_id))
        .order(stream_chat::created_at.asc())
        .select(StreamChatRow::as_select())
        .load(conn)?)
}
