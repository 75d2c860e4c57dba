//! ChatServer message handlers.

use actix::prelude::*;
use tokio::sync::oneshot;

use super::*;
use crate::actors::db_sync::{LoadConversation, LoadMessagesAfter, Persist, WriteDone};
use crate::db::queries::{AppendMessage, WriteOp, WriteOutcome};
use crate::domain::{text, Author, Caller, SenderKind};

impl Handler<JoinAsCustomer> for ChatServer {
    type Result = ResponseActFuture<Self, Result<(), AppError>>;

    fn handle(&mut self, msg: JoinAsCustomer, _: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        let session_id = msg.session_id.clone();
        Box::pin(
            async move { db.read(LoadConversation(session_id)).await }
                .into_actor(self)
                .map(move |res, act, _| {
                    let conversation = res??;
                    let owner = conversation
                        .as_ref()
                        .and_then(|c| c.customer_user_id.as_deref());
                    if !msg.caller.may_access(owner) {
                        return Err(AppError::forbidden("Access denied to this session"));
                    }
                    act.attach(
                        msg.conn,
                        msg.recipient,
                        Role::Customer {
                            session_id: msg.session_id,
                        },
                    );
                    Ok(())
                }),
        )
    }
}

impl Handler<JoinAsStaff> for ChatServer {
    type Result = Result<(), AppError>;

    fn handle(&mut self, msg: JoinAsStaff, _: &mut Context<Self>) -> Self::Result {
        let Caller::Staff(identity) = msg.caller else {
            return Err(AppError::forbidden("Insufficient permissions"));
        };
        self.attach(
            msg.conn,
            msg.recipient,
            Role::Staff {
                user_id: identity.user_id,
            },
        );
        Ok(())
    }
}

impl Handler<Leave> for ChatServer {
    type Result = ();
    fn handle(&mut self, msg: Leave, _: &mut Context<Self>) {
        self.detach(msg.conn);
    }
}

impl Handler<PostMessage> for ChatServer {
    type Result = ResponseFuture<Result<ChatMessage, AppError>>;

    fn handle(&mut self, msg: PostMessage, ctx: &mut Context<Self>) -> Self::Result {
        let prepared = (|| {
            let session_id = text::session_id(&msg.session_id)?.to_owned();
            let content = text::message_text(&msg.text, self.limits.max_message_chars)?;
            let client_id = text::client_id(msg.client_id.as_deref())?;
            let author = author_for(&msg.caller, msg.post_as, &session_id)?;
            self.allow_post(&author.id)?;
            Ok(AppendMessage {
                conversation_id: session_id,
                author,
                caller: msg.caller,
                content,
                message_type: "text",
                client_id,
                create_if_missing: msg.post_as == PostAs::Customer,
            })
        })();
        let append = match prepared {
            Ok(a) => a,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        self.next_tag += 1;
        let tag = self.next_tag;
        let (reply, rx) = oneshot::channel();
        self.pending.insert(
            tag,
            PendingPost {
                origin: msg.origin,
                post_as: msg.post_as,
                reply,
            },
        );
        self.db.writer.do_send(Persist {
            tag,
            op: WriteOp::AppendMessage(append),
            reply_to: ctx.address().recipient(),
        });
        Box::pin(async move { rx.await.unwrap_or_else(|_| Err(AppError::internal())) })
    }
}

/// The server sets who wrote a message from the caller's verified identity.
fn author_for(caller: &Caller, post_as: PostAs, session_id: &str) -> Result<Author, AppError> {
    match (post_as, caller) {
        (PostAs::Staff, Caller::Staff(i)) => Ok(Author {
            id: i.user_id.clone(),
            kind: if i.is_admin() {
                SenderKind::Admin
            } else {
                SenderKind::Agent
            },
            name: i.name.clone(),
        }),
        (PostAs::Staff, _) => Err(AppError::forbidden("Insufficient permissions")),
        (PostAs::Customer, Caller::Anonymous) => Ok(Author {
            // An anonymous session is its own sender: its id is the bearer secret.
            id: session_id.to_owned(),
            kind: SenderKind::Guest,
            name: caller.display_name().to_owned(),
        }),
        (PostAs::Customer, Caller::User(i) | Caller::Staff(i)) => Ok(Author {
            id: i.user_id.clone(),
            kind: SenderKind::Customer,
            name: i.name.clone(),
        }),
    }
}

/// Outcomes arrive in commit order, so deliveries go out in seq order.
impl Handler<WriteDone> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: WriteDone, _: &mut Context<Self>) {
        let Some(pending) = self.pending.remove(&msg.tag) else {
            return;
        };
        let result = msg.result.map(|outcome| match outcome {
            WriteOutcome::Appended { message, duplicate } => {
                let message = ChatMessage::from(message);
                if !duplicate {
                    self.fan_out(&message, pending.post_as, pending.origin);
                }
                message
            }
        });
        let _ = pending.reply.send(result);
    }
}

impl Handler<FetchHistory> for ChatServer {
    type Result = ResponseFuture<Result<History, AppError>>;

    fn handle(&mut self, msg: FetchHistory, _: &mut Context<Self>) -> Self::Result {
        let db = self.db.clone();
        let max_page = self.limits.max_history_page;
        Box::pin(async move {
            let session_id = text::session_id(&msg.session_id)?.to_owned();
            if msg.limit < 1 || msg.limit > max_page {
                return Err(AppError::validation(format!(
                    "limit must be between 1 and {max_page}"
                )));
            }
            if msg.after_seq < 0 {
                return Err(AppError::validation("after_seq must not be negative"));
            }
            let conversation = db
                .read(LoadConversation(session_id.clone()))
                .await??
                .ok_or_else(|| AppError::not_found("Session not found"))?;
            if !msg
                .caller
                .may_access(conversation.customer_user_id.as_deref())
            {
                return Err(AppError::forbidden("Access denied to this session"));
            }
            // One extra row tells whether there is more after this page.
            let mut rows = db
                .read(LoadMessagesAfter {
                    conversation_id: session_id,
                    after_seq: msg.after_seq,
                    limit: msg.limit + 1,
                })
                .await??;
            let has_more = rows.len() as i64 > msg.limit;
            rows.truncate(msg.limit as usize);
            Ok(History {
                messages: rows.into_iter().map(ChatMessage::from).collect(),
                has_more,
            })
        })
    }
}

impl Handler<GetStats> for ChatServer {
    type Result = MessageResult<GetStats>;
    fn handle(&mut self, _: GetStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.stats())
    }
}
