//! Read-only ChatServer requests. Each checks access, then reads through DbSync
//! without holding up the actor; only presence comes from memory.

use actix::prelude::*;

use super::*;
use crate::db::reads::{self, ConversationFilter};
use crate::domain::anonymous::{self, SessionSecrets};
use crate::domain::conversation::Conversation;
use crate::domain::conversation::{
    is_guest_id_shape, participant_id, Owner, Status, CONVERSATION_TYPES,
};

/// Largest page of conversations.
const MAX_CONVERSATION_PAGE: i64 = 100;

/// The conversation, if `caller` may see it.
async fn accessible(db: &Db, id: String, caller: &Caller) -> Result<Conversation, AppError> {
    accessible_with(db, id, caller, None).await
}

/// The conversation, if `caller` may see it, or if it is an anonymous session and
/// `proof` holds its secret.
async fn accessible_with(
    db: &Db,
    id: String,
    caller: &Caller,
    proof: Option<(&SessionSecrets, &str)>,
) -> Result<Conversation, AppError> {
    crate::domain::text::session_id(&id)?;
    let row = db
        .query(move |c| reads::find_conversation(c, &id))
        .await?
        .ok_or_else(AppError::conversation_not_found)?;
    let owner = row.owner.clone();
    let caller = match proof {
        Some((secrets, secret)) => {
            let (o, s) = (Some(&owner), Some(secret));
            anonymous::acting_for(caller.clone(), None, &row.id, o, s, secrets)
        }
        None => caller.clone(),
    };
    if !caller.may_access(&owner) {
        return Err(AppError::access_denied());
    }
    Ok(row)
}

/// One conversation as `caller` sees it.
pub(super) async fn conversation_for(
    db: Db,
    id: String,
    caller: Caller,
) -> Result<ConversationView, AppError> {
    let row = accessible(&db, id, &caller).await?;
    let participant = participant_id(&caller, &row.id);
    db.query(move |c| reads::view_for(c, row, &participant))
        .await
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
            let notes = match msg.caller.is_staff() {
                true => msg.notes,
                false => Notes::Hidden,
            };
            let (messages, has_more, total) = db
                .query(move |c| {
                    let (messages, more) = reads::history(c, &row.id, page, notes)?;
                    // Seqs are gap-free from 1 and messages are never deleted: only
                    // the notes hidden need counting.
                    let total = match notes {
                        Notes::Shown => row.last_seq,
                        Notes::Hidden => row.last_seq - reads::note_count(c, &row.id)?,
                    };
                    Ok((messages, more, total))
                })
                .await?;
            Ok(History {
                messages,
                has_more,
                total,
            })
        })
    }
}

impl Handler<GetAttachment> for ChatServer {
    type Result = ResponseFuture<Result<crate::domain::message::AttachmentFile, AppError>>;

    /// Attached files: whoever may see the conversation. Unsent uploads: their uploader.
    fn handle(&mut self, msg: GetAttachment, _: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        let secrets = self.secrets.clone();
        Box::pin(async move {
            let missing = || AppError::not_found("Attachment not found");
            let id = msg.id.clone();
            let row = db
                .query(move |c| reads::find_attachment(c, &id))
                .await?
                .ok_or_else(missing)?;
            match &row.conversation_id {
                Some(conversation) => {
                    let proof = msg.session_secret.as_deref().map(|s| (&secrets, s));
                    accessible_with(&db, conversation.clone(), &msg.caller, proof).await?;
                }
                None if super::identity::uploader_id(&msg.caller).as_deref()
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
                Caller::Staff(_) => msg.customer.clone(),
                Caller::Anonymous(_) => return Err(AppError::token_required()),
                other => Some(Owner::for_caller(other)),
            };
            let label = match (&msg.caller, msg.label.as_deref()) {
                (_, None | Some("")) => None,
                (Caller::Staff(_), Some(l)) => Some(crate::domain::conversation::label(l)?),
                (_, Some(_)) => return Err(AppError::insufficient_permissions()),
            };
            let snoozed = match &msg.caller {
                Caller::Staff(_) => msg.snoozed,
                _ => crate::domain::conversation::Snoozed::Any,
            };
            let filter = ConversationFilter {
                owner,
                statuses,
                label,
                snoozed: (snoozed, crate::domain::message::now_millis()),
                conversation_type: msg.conversation_type,
                offset: msg.offset,
                limit: msg.limit,
            };
            let caller = msg.caller;
            db.query(move |c| {
                let (rows, total) = reads::list_conversations(c, &filter)?;
                let items = rows
                    .into_iter()
                    .map(|row| {
                        let participant = participant_id(&caller, &row.id);
                        reads::view_for(c, row, &participant)
                    })
                    .collect::<Result<_, _>>()?;
                Ok(ConversationList { items, total })
            })
            .await
        })
    }
}

/// Conversations a customer search lists at most.
const CUSTOMER_HITS: i64 = 10;

impl Handler<Search> for ChatServer {
    type Result = ResponseFuture<Result<SearchResults, AppError>>;

    fn handle(&mut self, msg: Search, _: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        Box::pin(async move {
            if !msg.caller.is_staff() {
                return Err(AppError::insufficient_permissions());
            }
            check_page(msg.limit, MAX_CONVERSATION_PAGE)?;
            if msg.offset < 0 {
                return Err(AppError::validation("offset must not be negative"));
            }
            let q = crate::domain::search::Query::parse(&msg.q)?;
            let participant = participant_id(&msg.caller, "");
            let (offset, limit) = (msg.offset, msg.limit);
            db.query(move |c| {
                let (hits, total) = reads::search_messages(c, &q, offset, limit)?;
                let conversations = match offset {
                    0 => reads::search_conversations(c, &q.text, CUSTOMER_HITS)?
                        .into_iter()
                        .map(|row| reads::view_for(c, row, &participant))
                        .collect::<Result<_, _>>()?,
                    _ => Vec::new(),
                };
                Ok(SearchResults {
                    conversations,
                    has_more: offset + (hits.len() as i64) < total,
                    messages: hits.into_iter().map(Into::into).collect(),
                    total,
                })
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
        // Here and on the other nodes (cluster mode), once each.
        let mut by_id: BTreeMap<String, StaffMember> = self.remote_staff.clone();
        by_id.extend(self.local_staff().into_iter().map(|m| (m.id.clone(), m)));
        let staff = by_id
            .into_values()
            .map(|m| Participant {
                role: if m.role == "admin" { "admin" } else { "agent" },
                id: m.id,
                name: m.name,
            })
            .collect();
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
            if db.query(move |c| reads::guest_exists(c, &id)).await? {
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
