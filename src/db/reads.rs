//! Every read, answered in domain values: conversations and their views, history
//! pages, lookups of guests, files and messages, and past streams.

use diesel::prelude::*;

use super::convert;
use super::models::{AttachmentRow, ConversationRow, MessageRow, StreamChatRow, StreamRow};
use super::schema::{
    attachments, conversations, guests, live_streams, messages, read_cursors, stream_chat,
};
use super::{DbConnection, DbError};
use crate::domain::conversation::{Conversation, ConversationView, Owner, Snoozed, Status};
use crate::domain::message::{AttachmentFile, HistoryPage, Message, Notes};
use crate::domain::stream::Stream;

pub(super) fn find_conversation_row(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<ConversationRow>, DbError> {
    Ok(conversations::table
        .find(id)
        .select(ConversationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_conversation(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<Conversation>, DbError> {
    Ok(find_conversation_row(conn, id)?.map(Into::into))
}

/// The attachments of these messages.
pub(super) fn attachments_of(
    conn: &mut DbConnection,
    message_ids: &[String],
) -> Result<Vec<AttachmentRow>, DbError> {
    Ok(attachments::table
        .filter(attachments::message_id.eq_any(message_ids))
        .order(attachments::created_at.asc())
        .select(AttachmentRow::as_select())
        .load(conn)?)
}

/// A file and what decides who may have it.
pub fn find_attachment(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<AttachmentFile>, DbError> {
    let row = attachments::table
        .find(id)
        .select(AttachmentRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|r| AttachmentFile {
        sha256: r.sha256.clone(),
        conversation_id: r.conversation_id.clone(),
        uploader_id: r.uploader_id.clone(),
        attachment: r.into(),
    }))
}

/// The conversation a message belongs to (seed 003 reads by message id alone); a
/// private note is no message there.
pub fn conversation_of_message(
    conn: &mut DbConnection,
    message_id: &str,
) -> Result<Option<String>, DbError> {
    Ok(messages::table
        .filter(messages::id.eq(message_id))
        .filter(messages::private.eq(false))
        .select(messages::conversation_id)
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

pub(super) fn read_cursor(
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

/// Everyone's read position in a conversation: (participant, last seq read).
fn read_cursors_of(
    conn: &mut DbConnection,
    conversation_id: &str,
) -> Result<Vec<(String, i64)>, DbError> {
    Ok(read_cursors::table
        .filter(read_cursors::conversation_id.eq(conversation_id))
        .select((read_cursors::participant_id, read_cursors::last_read_seq))
        .load(conn)?)
}

/// One page of a conversation's messages, oldest first, each with its readers and
/// files; and whether there is more in the paging direction.
pub fn history(
    conn: &mut DbConnection,
    conversation_id: &str,
    page: HistoryPage,
    notes: Notes,
) -> Result<(Vec<Message>, bool), DbError> {
    let base = || {
        let q = messages::table
            .filter(messages::conversation_id.eq(conversation_id.to_owned()))
            .select(MessageRow::as_select())
            .into_boxed();
        match notes {
            Notes::Shown => q,
            Notes::Hidden => q.filter(messages::private.eq(false)),
        }
    };
    // One extra row tells whether there is more.
    let (rows, has_more) = match page {
        HistoryPage::After { seq, limit } => {
            let rows = base()
                .filter(messages::seq.gt(seq))
                .order(messages::seq.asc())
                .limit(limit + 1)
                .load(conn)?;
            trim_after(rows, limit)
        }
        HistoryPage::Offset { offset, limit } => {
            let rows = base()
                .order(messages::seq.asc())
                .offset(offset)
                .limit(limit + 1)
                .load(conn)?;
            trim_after(rows, limit)
        }
        HistoryPage::Before { seq, limit } => {
            let mut rows: Vec<MessageRow> = base()
                .filter(messages::seq.lt(seq))
                .order(messages::seq.desc())
                .limit(limit + 1)
                .load(conn)?;
            let more = rows.len() as i64 > limit;
            rows.truncate(limit as usize);
            rows.reverse();
            (rows, more)
        }
    };
    Ok((with_details(conn, conversation_id, rows)?, has_more))
}

/// One conversation's message rows with their files and readers.
fn with_details(
    conn: &mut DbConnection,
    conversation_id: &str,
    rows: Vec<MessageRow>,
) -> Result<Vec<Message>, DbError> {
    let cursors = read_cursors_of(conn, conversation_id)?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let files = attachments_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| convert::message(r, &files).with_readers(&cursors))
        .collect())
}

/// The conversations changed since `since`, and their messages written since then,
/// conversation by conversation in seq order (at most `per_conversation` each): what
/// a node may have missed while Redis was away.
pub fn written_since(
    conn: &mut DbConnection,
    since: chrono::NaiveDateTime,
    per_conversation: i64,
) -> Result<(Vec<Conversation>, Vec<Message>), DbError> {
    let active: Vec<ConversationRow> = conversations::table
        .filter(conversations::updated_at.ge(since))
        .select(ConversationRow::as_select())
        .load(conn)?;
    let mut all = Vec::new();
    for c in &active {
        let rows: Vec<MessageRow> = messages::table
            .filter(messages::conversation_id.eq(&c.id))
            .filter(messages::created_at.ge(since))
            .order(messages::seq.asc())
            .limit(per_conversation)
            .select(MessageRow::as_select())
            .load(conn)?;
        all.extend(with_details(conn, &c.id, rows)?);
    }
    Ok((active.into_iter().map(Into::into).collect(), all))
}

/// Keep the first `limit` rows of an ascending page fetched with one extra.
fn trim_after(mut rows: Vec<MessageRow>, limit: i64) -> (Vec<MessageRow>, bool) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    (rows, more)
}

/// How many private notes a conversation holds.
pub fn note_count(conn: &mut DbConnection, conversation_id: &str) -> Result<i64, DbError> {
    Ok(messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .filter(messages::private.eq(true))
        .count()
        .get_result(conn)?)
}

/// The last message everyone may read (a note is not what the inbox previews).
fn last_message(
    conn: &mut DbConnection,
    conversation_id: &str,
) -> Result<Option<Message>, DbError> {
    Ok(messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .filter(messages::private.eq(false))
        .order(messages::seq.desc())
        .select(MessageRow::as_select())
        .first(conn)
        .optional()?
        .map(Into::into))
}

/// Messages `participant` has not read: after its cursor, written by someone else.
fn unread_count(
    conn: &mut DbConnection,
    conversation_id: &str,
    participant: &str,
) -> Result<i64, DbError> {
    let cursor = read_cursor(conn, conversation_id, participant)?.unwrap_or(0);
    Ok(messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .filter(messages::seq.gt(cursor))
        .filter(messages::sender_id.ne(participant))
        .filter(messages::private.eq(false))
        .count()
        .get_result(conn)?)
}

/// A conversation as `participant` sees it: its unread count and last message.
pub fn view_for(
    conn: &mut DbConnection,
    conversation: Conversation,
    participant: &str,
) -> Result<ConversationView, DbError> {
    let unread = unread_count(conn, &conversation.id, participant)?;
    let last = last_message(conn, &conversation.id)?;
    Ok(ConversationView {
        conversation,
        unread_count: Some(unread),
        last_message: last,
    })
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
    /// `None`: every conversation with a message (staff: a conversation reaches the
    /// inbox with its first message, not when a widget opens it).
    pub owner: Option<Owner>,
    /// Any of these statuses; empty for all.
    pub statuses: Vec<String>,
    /// Only those with this label.
    pub label: Option<String>,
    /// By their snooze, as of `now` (`Snoozed::Any`: not looked at).
    pub snoozed: (Snoozed, chrono::NaiveDateTime),
    pub conversation_type: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

/// Most recently active first, with the total count for pagination.
pub fn list_conversations(
    conn: &mut DbConnection,
    f: &ConversationFilter,
) -> Result<(Vec<Conversation>, i64), DbError> {
    let query = || {
        let mut q = conversations::table.into_boxed();
        match &f.owner {
            None => q = q.filter(conversations::last_seq.gt(0)),
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
        if let Some(l) = &f.label {
            q = q.filter(conversations::labels.like(convert::label_pattern(l)));
        }
        let (snoozed, now) = f.snoozed;
        match snoozed {
            Snoozed::Any => {}
            Snoozed::Hide => {
                q = q.filter(
                    conversations::snoozed_until
                        .is_null()
                        .or(conversations::snoozed_until.le(now)),
                )
            }
            Snoozed::Only => q = q.filter(conversations::snoozed_until.gt(now)),
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<ConversationRow> = query()
        .order((conversations::updated_at.desc(), conversations::id.asc()))
        .offset(f.offset)
        .limit(f.limit)
        .select(ConversationRow::as_select())
        .load(conn)?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

/// Past streams, newest first.
pub fn past_streams(conn: &mut DbConnection, limit: i64) -> Result<Vec<Stream>, DbError> {
    let rows: Vec<StreamRow> = live_streams::table
        .filter(live_streams::ended_at.is_not_null())
        .order(live_streams::started_at.desc())
        .limit(limit)
        .select(StreamRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
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

/// Whether a stream has ended (a stream not stored counts as ended).
pub fn stream_ended(conn: &mut DbConnection, stream_id: &str) -> Result<bool, DbError> {
    let ended: Option<Option<chrono::NaiveDateTime>> = live_streams::table
        .find(stream_id)
        .select(live_streams::ended_at)
        .first(conn)
        .optional()?;
    Ok(ended.is_none_or(|e| e.is_some()))
}

/// Conversations by status, for the metrics (a status with none is 0).
pub fn conversation_counts(conn: &mut DbConnection) -> Result<Vec<(Status, i64)>, DbError> {
    let rows: Vec<(String, i64)> = conversations::table
        .group_by(conversations::status)
        .select((conversations::status, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(Status::ALL
        .into_iter()
        .map(|s| {
            let n = rows
                .iter()
                .find(|(r, _)| r == s.as_str())
                .map_or(0, |r| r.1);
            (s, n)
        })
        .collect())
}

/// Each agent's active conversations, for the metrics.
pub fn agent_load(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, DbError> {
    let rows: Vec<(Option<String>, i64)> = conversations::table
        .filter(conversations::status.eq(Status::Active.as_str()))
        .filter(conversations::assigned_agent_id.is_not_null())
        .group_by(conversations::assigned_agent_id)
        .select((conversations::assigned_agent_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(agent, n)| Some((agent?, n)))
        .collect())
}

/// The stream that was live when the server stopped, if one was: to resume it.
pub fn running_stream(
    conn: &mut DbConnection,
    history: i64,
) -> Result<Option<crate::domain::stream::StoredStream>, DbError> {
    type Running = (StreamRow, String, String, Option<String>);
    let row: Option<Running> = live_streams::table
        .filter(live_streams::ended_at.is_null())
        .order(live_streams::started_at.desc())
        .select((
            StreamRow::as_select(),
            live_streams::liked_by,
            live_streams::pinned,
            live_streams::pinned_message,
        ))
        .first(conn)
        .optional()?;
    let Some((row, liked_by, pinned, pinned_message)) = row else {
        return Ok(None);
    };
    let mut lines: Vec<StreamChatRow> = stream_chat::table
        .filter(stream_chat::stream_id.eq(&row.id))
        .order(stream_chat::created_at.desc())
        .limit(history)
        .select(StreamChatRow::as_select())
        .load(conn)?;
    lines.reverse();
    // What the server itself wrote: unreadable JSON is a bug, not a reason to lose
    // the stream.
    let parsed = |what: &str, json: &str| {
        log::error!("stream {}: stored {what} unreadable: {json:.80}", row.id);
    };
    let liked_by = serde_json::from_str(&liked_by).unwrap_or_else(|_| {
        parsed("likers", &liked_by);
        Vec::new()
    });
    let pinned = serde_json::from_str(&pinned).unwrap_or_else(|_| {
        parsed("pins", &pinned);
        Vec::new()
    });
    let pinned_message = pinned_message.and_then(|m| {
        serde_json::from_str(&m)
            .map_err(|_| parsed("pinned message", &m))
            .ok()
    });
    Ok(Some(crate::domain::stream::StoredStream {
        stream: row.into(),
        liked_by,
        pinned,
        pinned_message,
        chat: lines.into_iter().map(convert::chat_line).collect(),
    }))
}

/// Every webhook endpoint, oldest first.
pub fn webhook_endpoints(
    conn: &mut DbConnection,
) -> Result<Vec<super::models::WebhookEndpointRow>, DbError> {
    use super::schema::webhook_endpoints as e;
    Ok(e::table
        .order(e::created_at.asc())
        .select(super::models::WebhookEndpointRow::as_select())
        .load(conn)?)
}

/// One webhook endpoint.
pub fn webhook_endpoint(
    conn: &mut DbConnection,
    id: &str,
) -> Result<Option<super::models::WebhookEndpointRow>, DbError> {
    use super::schema::webhook_endpoints as e;
    Ok(e::table
        .find(id)
        .select(super::models::WebhookEndpointRow::as_select())
        .first(conn)
        .optional()?)
}

/// Whether any webhook delivery is due (a cheap look before claiming some).
pub fn webhooks_due(conn: &mut DbConnection) -> Result<bool, DbError> {
    use super::schema::webhook_deliveries as d;
    let now = crate::domain::message::now_millis();
    let due: Option<i64> = d::table
        .filter(d::status.eq("pending"))
        .filter(d::next_attempt_at.le(now))
        .select(d::pos)
        .first(conn)
        .optional()?;
    Ok(due.is_some())
}

/// An endpoint's deliveries, newest first, before `before` (a `pos`), in `status`.
pub fn webhook_deliveries(
    conn: &mut DbConnection,
    endpoint_id: &str,
    status: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<super::models::DeliveryRow>, DbError> {
    use super::schema::webhook_deliveries as d;
    let mut q = d::table.filter(d::endpoint_id.eq(endpoint_id)).into_boxed();
    if let Some(status) = status {
        q = q.filter(d::status.eq(status.to_owned()));
    }
    if let Some(before) = before {
        q = q.filter(d::pos.lt(before));
    }
    Ok(q.order(d::pos.desc())
        .limit(limit)
        .select(super::models::DeliveryRow::as_select())
        .load(conn)?)
}

/// Every API key, newest first.
pub fn api_keys(conn: &mut DbConnection) -> Result<Vec<super::models::ApiKeyRow>, DbError> {
    use super::schema::api_keys as k;
    Ok(k::table
        .order(k::created_at.desc())
        .select(super::models::ApiKeyRow::as_select())
        .load(conn)?)
}

/// Every canned response, by shortcut.
pub fn canned_responses(conn: &mut DbConnection) -> Result<Vec<super::models::CannedRow>, DbError> {
    use super::schema::canned_responses as c;
    Ok(c::table
        .order(c::shortcut.asc())
        .select(super::models::CannedRow::as_select())
        .load(conn)?)
}

/// A desk setting's JSON document, when an admin set it.
pub fn desk_setting(conn: &mut DbConnection, name: &str) -> Result<Option<String>, DbError> {
    use super::schema::desk_settings as s;
    Ok(s::table
        .find(name)
        .select(s::value)
        .first(conn)
        .optional()?)
}

/// The key with this hash, revoked or not.
pub fn api_key_by_hash(
    conn: &mut DbConnection,
    hash: &str,
) -> Result<Option<super::models::ApiKeyRow>, DbError> {
    use super::schema::api_keys as k;
    Ok(k::table
        .filter(k::key_hash.eq(hash))
        .select(super::models::ApiKeyRow::as_select())
        .first(conn)
        .optional()?)
}

/// Which conversations the server API lists: by creation, oldest first, after a cursor.
#[derive(Debug, Clone, Default)]
pub struct ConversationsAfter {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub customer_id: Option<String>,
    pub guest_id: Option<String>,
    pub assignee: Option<String>,
    /// After this (created_at, id).
    pub after: Option<(chrono::NaiveDateTime, String)>,
    pub limit: i64,
}

/// One page of conversations, and whether more follow.
pub fn conversations_page(
    conn: &mut DbConnection,
    f: &ConversationsAfter,
) -> Result<(Vec<Conversation>, bool), DbError> {
    use super::schema::conversations as c;
    let mut q = c::table.select(ConversationRow::as_select()).into_boxed();
    if let Some(v) = &f.status {
        q = q.filter(c::status.eq(v.clone()));
    }
    if let Some(v) = &f.kind {
        q = q.filter(c::conversation_type.eq(v.clone()));
    }
    if let Some(v) = &f.customer_id {
        q = q.filter(c::customer_user_id.eq(v.clone()));
    }
    if let Some(v) = &f.guest_id {
        q = q.filter(c::guest_id.eq(v.clone()));
    }
    if let Some(v) = &f.assignee {
        q = q.filter(c::assigned_agent_id.eq(v.clone()));
    }
    if let Some((at, id)) = &f.after {
        q = q.filter(
            c::created_at
                .gt(*at)
                .or(c::created_at.eq(*at).and(c::id.gt(id.clone()))),
        );
    }
    let mut rows: Vec<ConversationRow> = q
        .order((c::created_at.asc(), c::id.asc()))
        .limit(f.limit + 1)
        .load(conn)?;
    let has_more = rows.len() as i64 > f.limit;
    rows.truncate(f.limit as usize);
    Ok((rows.into_iter().map(Into::into).collect(), has_more))
}

/// The live chat's standing rules: moderators, bans and timeouts not yet over, and
/// blocked terms.
pub fn channel_rules(
    conn: &mut DbConnection,
) -> Result<crate::domain::moderation::ChannelRules, DbError> {
    use super::schema::{stream_bans as b, stream_blocked_terms as t, stream_moderators as m};
    use crate::domain::message::iso_timestamp;
    use crate::domain::moderation::{Ban, ChannelRules, Moderator};
    let moderators = m::table
        .select((m::user_id, m::name, m::added_by, m::added_at))
        .load::<(String, String, String, chrono::NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(user_id, name, added_by, at)| Moderator {
            user_id,
            name,
            added_by,
            added_at: iso_timestamp(at),
        })
        .collect();
    let now = crate::domain::message::now_millis();
    type BanRow = (
        String,
        String,
        String,
        Option<chrono::NaiveDateTime>,
        String,
        chrono::NaiveDateTime,
    );
    let bans = b::table
        .filter(b::until.is_null().or(b::until.gt(now)))
        .select((
            b::user_id,
            b::name,
            b::reason,
            b::until,
            b::banned_by,
            b::created_at,
        ))
        .load::<BanRow>(conn)?
        .into_iter()
        .map(|(user_id, name, reason, until, banned_by, at)| Ban {
            user_id,
            name,
            reason,
            until: until.map(iso_timestamp),
            banned_by,
            created_at: iso_timestamp(at),
        })
        .collect();
    let terms: Vec<String> = t::table.order(t::term.asc()).select(t::term).load(conn)?;
    Ok(ChannelRules::new(moderators, bans, &terms))
}

/// The moderation log, newest first.
pub fn moderation_log(
    conn: &mut DbConnection,
    limit: i64,
) -> Result<Vec<crate::domain::moderation::LogEntry>, DbError> {
    use super::schema::stream_moderation_log as l;
    type Row = (
        String,
        String,
        Option<String>,
        String,
        String,
        String,
        Option<String>,
        chrono::NaiveDateTime,
    );
    let rows: Vec<Row> = l::table
        .order((l::created_at.desc(), l::id.desc()))
        .limit(limit)
        .select((
            l::id,
            l::action,
            l::subject,
            l::detail,
            l::by_id,
            l::by_name,
            l::stream_id,
            l::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, action, subject, detail, by_id, by_name, stream_id, at)| {
                crate::domain::moderation::LogEntry {
                    id,
                    action,
                    subject,
                    detail,
                    by_id,
                    by_name,
                    stream_id,
                    created_at: crate::domain::message::iso_timestamp(at),
                }
            },
        )
        .collect())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Messages whose text has every word of `q` (as word prefixes), newest first, with
/// the total; sign-in codes are never found. One query, each backend's full text.
pub fn search_messages(
    conn: &mut DbConnection,
    q: &crate::domain::search::Query,
    offset: i64,
    limit: i64,
) -> Result<(Vec<super::models::SearchHit>, i64), DbError> {
    use diesel::sql_types::{BigInt, Text};
    const COLUMNS: &str = "m.id, m.conversation_id, m.seq, m.sender_kind, m.sender_name, \
        m.created_at, m.private, c.customer_name";
    const EXCLUDED: &str = "m.message_type <> 'auth_code'";
    match conn {
        DbConnection::Sqlite(c) => {
            let from = format!(
                "FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid \
                 JOIN conversations c ON c.id = m.conversation_id \
                 WHERE messages_fts MATCH ?1 AND {EXCLUDED}"
            );
            let total = diesel::sql_query(format!("SELECT COUNT(*) AS n {from}"))
                .bind::<Text, _>(q.fts5())
                .get_result::<Count>(c)?
                .n;
            let hits = diesel::sql_query(format!(
                "SELECT {COLUMNS}, snippet(messages_fts, 0, char(2), char(3), '…', 24) AS snippet \
                 {from} ORDER BY m.created_at DESC, m.seq DESC LIMIT ?2 OFFSET ?3"
            ))
            .bind::<Text, _>(q.fts5())
            .bind::<BigInt, _>(limit)
            .bind::<BigInt, _>(offset)
            .load(c)?;
            Ok((hits, total))
        }
        DbConnection::Pg(c) => {
            let from = format!(
                "FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE to_tsvector('simple', m.content) @@ to_tsquery('simple', $1) AND {EXCLUDED}"
            );
            let total = diesel::sql_query(format!("SELECT COUNT(*) AS n {from}"))
                .bind::<Text, _>(q.tsquery())
                .get_result::<Count>(c)?
                .n;
            let hits = diesel::sql_query(format!(
                "SELECT {COLUMNS}, ts_headline('simple', m.content, to_tsquery('simple', $1), \
                 'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=30, MinWords=10') AS snippet \
                 {from} ORDER BY m.created_at DESC, m.seq DESC LIMIT $2 OFFSET $3"
            ))
            .bind::<Text, _>(q.tsquery())
            .bind::<BigInt, _>(limit)
            .bind::<BigInt, _>(offset)
            .load(c)?;
            Ok((hits, total))
        }
    }
}

/// Conversations (with a message) whose customer's name holds `q`, or whose id, user
/// id or guest id is `q`; most recently active first.
pub fn search_conversations(
    conn: &mut DbConnection,
    q: &str,
    limit: i64,
) -> Result<Vec<Conversation>, DbError> {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("%{}%", escaped.to_lowercase());
    let rows: Vec<ConversationRow> = conversations::table
        .filter(conversations::last_seq.gt(0))
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(customer_name) LIKE ")
                .bind::<diesel::sql_types::Text, _>(pattern)
                .sql(" ESCAPE '\\'")
                .or(conversations::id.eq(q))
                .or(conversations::customer_user_id.eq(q))
                .or(conversations::guest_id.eq(q)),
        )
        .order((conversations::updated_at.desc(), conversations::id.asc()))
        .limit(limit)
        .select(ConversationRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Every agent's stored settings, by user id.
pub fn agents(
    conn: &mut DbConnection,
) -> Result<Vec<(String, crate::domain::agent::AgentSettings)>, DbError> {
    use super::schema::agents as a;
    let rows: Vec<super::models::AgentRow> = a::table
        .select(super::models::AgentRow::as_select())
        .load(conn)?;
    Ok(rows.iter().map(|r| (r.user_id.clone(), r.into())).collect())
}

/// Customers waiting for an agent, first come first: waiting, unassigned
/// conversations with a message (at most `limit`).
pub fn queue(
    conn: &mut DbConnection,
    limit: i64,
) -> Result<Vec<crate::domain::agent::Waiting>, DbError> {
    let rows: Vec<(String, String, chrono::NaiveDateTime)> = conversations::table
        .filter(conversations::status.eq(Status::Waiting.as_str()))
        .filter(conversations::assigned_agent_id.is_null())
        .filter(conversations::last_seq.gt(0))
        .order((conversations::created_at.asc(), conversations::id.asc()))
        .limit(limit)
        .select((
            conversations::id,
            conversations::customer_name,
            conversations::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(conversation_id, customer_name, since)| crate::domain::agent::Waiting {
                conversation_id,
                customer_name,
                since,
            },
        )
        .collect())
}

/// The recent time to a first answer, in seconds: the mean over the last 50
/// conversations answered (`None` before any was).
pub fn recent_answer_secs(conn: &mut DbConnection) -> Result<Option<f64>, DbError> {
    let rows: Vec<(chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)> = conversations::table
        .filter(conversations::first_response_at.is_not_null())
        .order(conversations::first_response_at.desc())
        .limit(50)
        .select((conversations::created_at, conversations::first_response_at))
        .load(conn)?;
    let secs: Vec<f64> = rows
        .into_iter()
        .filter_map(|(asked, answered)| {
            answered.map(|a| (a - asked).num_milliseconds().max(0) as f64 / 1000.0)
        })
        .collect();
    Ok((!secs.is_empty()).then(|| secs.iter().sum::<f64>() / secs.len() as f64))
}

/// Whether some conversation's snooze ran out by `now`.
pub fn snooze_due(conn: &mut DbConnection, now: chrono::NaiveDateTime) -> Result<bool, DbError> {
    let due: Option<String> = conversations::table
        .filter(conversations::snoozed_until.le(now))
        .select(conversations::id)
        .first(conn)
        .optional()?;
    Ok(due.is_some())
}
