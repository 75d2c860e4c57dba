//! Read-only ChatServer requests. Each checks access, then reads through DbSync
//! without holding up the actor; only presence comes from memory.

use actix::prelude::*;

use super::*;
use crate::db::models::ConversationRow;
use crate::db::queries::{self, ConversationFilter};
use crate::db::{DbConnection, DbError};
use crate::domain::anonymous::{self, SessionSecrets};
use crate::domain::conversation::{
    is_guest_id_shape, participant_id, Owner, Status, CONVERSATION_TYPES,
};

/// Largest page of conversations.
const MAX_CONVERSATION_PAGE: i64 = 100;

/// The conversation, if `caller` may see it.
async fn accessible(db: &Db, id: String, caller: &Caller) -> Result<ConversationRow, AppError> {
    accessible_with(db, id, caller, None).await
}

/// The conversation, if `caller` may see it, or if it is an anonymous session and
/// `proof` holds its secret.
async fn accessible_with(
    db: &Db,
    id: String,
    caller: &Caller,
    proof: Option<(&SessionSecrets, &str)>,
) -> Result<ConversationRow, AppError> {
    crate::domain::text::session_id(&id)?;
    let row = db
        .query(move |c| queries::find_conversation(c, &id))
        .await?
        .ok_or_else(queries::conversation_not_found)?;
    let owner = Owner::of(&row);
    let caller = match proof {
        Some((secrets, secret)) => {
            let (o, s) = (Some(&owner), Some(secret));
            anonymous::acting_for(caller.clone(), None, &row.id, o, s, secrets)
        }
        None => caller.clone(),
    };
    if !caller.may_access(&owner) {
        return Err(AppError::forbidden("Access denied to this conversation"));
    }
    Ok(row)
}

/// Unread count for `participant` and the last message.
fn decorate(
    c: &mut DbConnection,
    row: ConversationRow,
    participant: &str,
) -> Result<ConversationView, DbError> {
    let unread = queries::unread_count(c, &row.id, participant)?;
    let last = queries::last_message(c, &row.id)?.map(ChatMessage::from);
    Ok(ConversationView {
        row,
        unread_count: Some(unread),
        last_message: last,
    })
}

/// One conversation as `caller` sees it.
pub(super) async fn conversation_for(
    db: Db,
    id: String,
    caller: Caller,
) -> Result<ConversationView, AppError> {
    let row = accessible(&db, id, &caller).await?;
    let participant = participant_id(&caller, &row.id);
    db.query(move |c| decorate(c, row, &participant)).await
}

fn check_page(limit: i64, max: i64) -> Result<(), AppError> {
    if !(1..=max).contains(&limit) {
        return Err(AppError::validation(format!(
            "limit must be between 1 and {max}"
        )));
    }
    Ok(())
}

impl Handler<FetchHistory> for ChatServer {
    type Result = ResponseFuture<Result<History, AppError>>;

    fn handle(&mut self, msg: FetchHistory, _: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        let max = self.limits.max_history_page;
        Box::pin(async move {
            let (limit, start) = match msg.page {
                HistoryPage::After { seq, limit } | HistoryPage::Before { seq, limit } => {
                    (limit, seq)
                }
                HistoryPage::Offset { offset, limit } => (limit, offset),
            };
            check_page(limit, max)?;
            if start < 0 {
                return Err(AppError::validation("offset and seq must not be negative"));
            }
            let row = accessible(&db, msg.conversation_id, &msg.caller).await?;
            let page = msg.page;
            db.query(move |c| {
                // One extra row tells whether there is more in the paging direction.
                let (rows, has_more) = match page {
                    HistoryPage::After { seq, .. } => {
                        trim_after(queries::messages_after(c, &row.id, seq, limit + 1)?, limit)
                    }
                    HistoryPage::Offset { offset, .. } => trim_after(
                        queries::messages_page(c, &row.id, offset, limit + 1)?,
                        limit,
                    ),
                    HistoryPage::Before { seq, .. } => {
                        let mut rows = queries::messages_before(c, &row.id, seq, limit + 1)?;
                        let more = rows.len() as i64 > limit;
                        if more {
                            rows.remove(0); // the extra one is the oldest
                        }
                        (rows, more)
                    }
                };
                let cursors: Vec<(String, i64)> = queries::read_cursors_of(c, &row.id)?
                    .into_iter()
                    .map(|r| (r.participant_id, r.last_read_seq))
                    .collect();
                // Seqs are gap-free from 1 and messages are never deleted: no COUNT needed.
                let total = row.last_seq;
                let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
                let files = queries::attachments_of(c, &ids)?;
                let messages = rows
                    .into_iter()
                    .map(|r| {
                        ChatMessage::from(r)
                            .with_readers(&cursors)
                            .with_attachments(&files)
                    })
                    .collect();
                Ok(History {
                    messages,
                    has_more,
                    total,
                })
            })
            .await
        })
    }
}

impl Handler<GetAttachment> for ChatServer {
    type Result = ResponseFuture<Result<crate::db::models::AttachmentRow, AppError>>;

    /// Attached files: whoever may see the conversation. Unsent uploads: their uploader.
    fn handle(&mut self, msg: GetAttachment, _: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        let secrets = self.secrets.clone();
        Box::pin(async move {
            let missing = || AppError::not_found("Attachment not found");
            let id = msg.id.clone();
            let row = db
                .query(move |c| queries::find_attachment(c, &id))
                .await?
                .ok_or_else(missing)?;
            match &row.conversation_id {
                Some(conversation) => {
                    let proof = msg.session_secret.as_deref().map(|s| (&secrets, s));
                    accessible_with(&db, conversation.clone(), &msg.caller, proof).await?;
                }
                None if super::handlers::uploader_id(&msg.caller).as_deref()
                    == Some(row.uploader_id.as_str()) => {}
                None => return Err(missing()),
            }
            Ok(row)
        })
    }
}

impl Handler<GetConversation> for ChatServer {
    type Result = ResponseFuture<Result<ConversationView, AppError>>;

    fn handle(&mut self, msg: GetConversation, _: &mut Context<Self>) -> Self::Result {
        Box::pin(conversation_for(
            self.db.clone(),
            msg.conversation_id,
            msg.caller,
        ))
    }
}

impl Handler<ListConversations> for ChatServer {
    type Result = ResponseFuture<Result<ConversationList, AppError>>;

    fn handle(&mut self, msg: ListConversations, _: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        Box::pin(async move {
            check_page(msg.limit, MAX_CONVERSATION_PAGE)?;
            if msg.offset < 0 {
                return Err(AppError::validation("page and offset must not be negative"));
            }
            // `open` (seed 003's example) means not yet resolved.
            let statuses: Vec<String> = match msg.status.as_deref() {
                None | Some("") => Vec::new(),
                Some("open") => vec![
                    Status::Waiting.as_str().into(),
                    Status::Active.as_str().into(),
                ],
                Some(s) => vec![Status::parse(s)
                    .ok_or_else(|| {
                        AppError::validation(
                            "status must be one of: open, waiting, active, resolved, closed",
                        )
                    })?
                    .as_str()
                    .to_owned()],
            };
            if let Some(t) = &msg.conversation_type {
                if !CONVERSATION_TYPES.contains(&t.as_str()) {
                    return Err(AppError::validation(
                        "type must be one of: general, onboarding, call_request",
                    ));
                }
            }
            let owner = match &msg.caller {
                Caller::Staff(_) => None,
                Caller::Anonymous(_) => return Err(AppError::token_required()),
                other => Some(Owner::for_caller(other)),
            };
            let filter = ConversationFilter {
                owner,
                statuses,
                conversation_type: msg.conversation_type,
                offset: msg.offset,
                limit: msg.limit,
            };
            let caller = msg.caller;
            db.query(move |c| {
                let (rows, total) = queries::list_conversations(c, &filter)?;
                let items = rows
                    .into_iter()
                    .map(|row| {
                        let participant = participant_id(&caller, &row.id);
                        decorate(c, row, &participant)
                    })
                    .collect::<Result<_, _>>()?;
                Ok(ConversationList { items, total })
            })
            .await
        })
    }
}

impl Handler<GetParticipants> for ChatServer {
    type Result = ResponseActFuture<Self, Result<Vec<Participant>, AppError>>;

    fn handle(&mut self, msg: GetParticipants, _: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        let id = msg.conversation_id.clone();
        Box::pin(
            async move { accessible(&db, id, &msg.caller).await }
                .into_actor(self)
                .map(move |row, act, _| Ok(act.participants(&row?.id))),
        )
    }
}

impl Handler<GetOnlineStaff> for ChatServer {
    type Result = MessageResult<GetOnlineStaff>;

    fn handle(&mut self, _: GetOnlineStaff, _: &mut Context<Self>) -> Self::Result {
        let mut staff: Vec<Participant> = self
            .staff
            .values()
            .filter_map(|tabs| tabs.iter().next())
            .filter_map(|conn| self.conns.get(conn))
            .filter_map(|c| match &c.caller {
                Caller::Staff(i) => Some(Participant {
                    id: i.user_id.clone(),
                    role: role_of(&c.caller),
                    name: c.caller.display_name().to_owned(),
                }),
                _ => None,
            })
            .collect();
        staff.sort_by(|a, b| a.id.cmp(&b.id));
        MessageResult(staff)
    }
}

impl Handler<VerifyGuest> for ChatServer {
    type Result = ResponseFuture<Result<Caller, AppError>>;

    fn handle(&mut self, msg: VerifyGuest, _: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        Box::pin(async move {
            let unknown = || AppError::new(ErrorKind::AuthFailed, "Unknown guest id");
            if !is_guest_id_shape(&msg.0) {
                return Err(unknown());
            }
            let id = msg.0.clone();
            if db.query(move |c| queries::guest_exists(c, &id)).await? {
                Ok(Caller::Guest(msg.0))
            } else {
                Err(unknown())
            }
        })
    }
}

impl Handler<GetStats> for ChatServer {
    type Result = MessageResult<GetStats>;
    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.stats())
    }
}

/// Keep the first `limit` rows of an ascending page fetched with one extra.
fn trim_after(
    mut rows: Vec<crate::db::models::MessageRow>,
    limit: i64,
) -> (Vec<crate::db::models::MessageRow>, bool) {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    (rows, more)
}
