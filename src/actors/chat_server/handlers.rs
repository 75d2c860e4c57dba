//! ChatServer command handlers: joining, posting, status changes, read state, typing.
//! Writes go to DbWriter; their outcomes come back as `WriteDone` in commit order, and
//! only then are events delivered, so everyone sees a conversation in seq order.

use actix::prelude::*;
use tokio::sync::oneshot;

use super::*;
use crate::actors::db_sync::{Persist, WriteDone};
use crate::db::models::{AttachmentRow, AuthCodeRow, ConversationRow};
use crate::db::queries::CodeHolder;
use crate::db::queries::{
    self, ChangeOp, NewConversation, OpenOp, PostOp, ReadOp, WriteOp, WriteOutcome,
};
use crate::domain::auth_code::{self, Refusal};
use crate::domain::conversation::{
    new_guest_id, Owner, StatusChange, CONVERSATION_TYPES, PRIORITIES,
};
use crate::domain::{anonymous, text, Author, ChangeKind, SenderKind};

async fn answer<T>(rx: oneshot::Receiver<Result<T, AppError>>) -> Result<T, AppError> {
    rx.await.unwrap_or_else(|_| Err(AppError::internal()))
}

impl ChatServer {
    /// Queue a write; `reply` is answered once it has committed (or failed).
    fn persist(
        &mut self,
        ctx: &mut Context<Self>,
        origin: Option<ConnId>,
        op: WriteOp,
        reply: PendingReply,
    ) {
        self.next_tag += 1;
        let tag = self.next_tag;
        self.pending.insert(tag, Pending { origin, reply });
        self.db.writer.do_send(Persist {
            tag,
            op,
            reply_to: ctx.address().recipient(),
        });
    }

    /// Queue a write and answer the request with its outcome, once committed.
    fn request<T: 'static>(
        &mut self,
        ctx: &mut Context<Self>,
        origin: Option<ConnId>,
        op: WriteOp,
        reply: impl FnOnce(oneshot::Sender<Result<T, AppError>>) -> PendingReply,
    ) -> ResponseFuture<Result<T, AppError>> {
        let (tx, rx) = oneshot::channel();
        self.persist(ctx, origin, op, reply(tx));
        Box::pin(answer(rx))
    }

    fn announce_message(&mut self, message: ChatMessage, origin: Option<ConnId>) {
        let room = message.session_id.clone();
        self.deliver(
            Event::MessagePosted { message },
            Some(&room),
            true,
            origin,
            true,
        );
    }

    /// Give a new conversation to the next online agent (round-robin) under capacity.
    fn auto_assign(&mut self, conversation_id: String, ctx: &mut Context<Self>) {
        let capacity = self.limits.auto_assign_capacity;
        if capacity <= 0 {
            return;
        }
        // Agents, not admins, in a stable order.
        let mut agents: Vec<(String, String)> = self
            .staff
            .values()
            .filter_map(|tabs| tabs.iter().next())
            .filter_map(|c| self.conns.get(c))
            .filter_map(|c| match &c.caller {
                Caller::Staff(i) if !i.is_admin() => {
                    Some((i.user_id.clone(), c.caller.display_name().to_owned()))
                }
                _ => None,
            })
            .collect();
        if agents.is_empty() {
            return;
        }
        agents.sort();
        let db = self.db.clone();
        let ids: Vec<String> = agents.iter().map(|(id, _)| id.clone()).collect();
        async move { db.query(move |c| queries::active_loads(c, &ids)).await }
            .into_actor(self)
            .map(move |loads, act, ctx| {
                let Ok(loads) = loads else { return };
                let n = agents.len();
                let free = (0..n)
                    .map(|k| (act.next_agent + k) % n)
                    .find(|&i| loads.get(i).is_some_and(|(_, l)| *l < capacity));
                let Some(i) = free else { return };
                act.next_agent = i + 1;
                let (agent_id, agent_name) = agents[i].clone();
                // The server assigns with an admin's authority.
                let system = Caller::Staff(crate::auth::Identity {
                    user_id: "system".into(),
                    name: Some("Auto-assign".into()),
                    role: "admin".into(),
                    expires_at: i64::MAX,
                });
                let op = ChangeOp {
                    conversation_id,
                    caller: system,
                    change: StatusChange::AutoAssign {
                        agent_id,
                        agent_name,
                    },
                };
                let (tx, _) = oneshot::channel();
                act.persist(
                    ctx,
                    None,
                    WriteOp::Change(op),
                    PendingReply::Change(tx, None),
                );
            })
            .spawn(ctx);
    }

    fn announce_conversation(
        &mut self,
        row: ConversationRow,
        change: ChangeKind,
        origin: Option<ConnId>,
        by: Option<(String, String)>,
    ) {
        let room = row.id.clone();
        let event = Event::ConversationChanged {
            conversation: Box::new(row.into()),
            change,
            by,
        };
        self.deliver(event, Some(&room), true, origin, true);
    }
}

/// A customer registration, once its conversation (if any) has been read.
enum Admission {
    Now(JoinAsCustomer),
    /// A session from before bindings, being bound to this browser.
    AfterBind(
        JoinAsCustomer,
        oneshot::Receiver<Result<ConversationRow, AppError>>,
    ),
}

impl ChatServer {
    /// May this customer register on the session? Claims new sessions, and binds an
    /// unbound anonymous one.
    fn admit_customer(
        &mut self,
        row: Option<ConversationRow>,
        mut msg: JoinAsCustomer,
        ctx: &mut Context<Self>,
    ) -> Result<Admission, AppError> {
        let room = msg.session_id.clone();
        let owner = match &row {
            Some(conversation) => Some(Owner::of(conversation)),
            None => self.claims.get(&room).cloned(),
        };
        msg.caller = anonymous::acting_for(
            msg.caller,
            msg.browser.as_deref(),
            &room,
            owner.as_ref(),
            msg.session_secret.as_deref(),
            &self.secrets,
        );
        let denied = || AppError::forbidden("Access denied to this conversation");
        match (owner, &msg.caller) {
            // A stored session from before bindings: this browser binds it.
            (Some(Owner::Anonymous(None)), Caller::Anonymous(Some(binding))) if row.is_some() => {
                let op = WriteOp::BindAnonymous {
                    conversation_id: room,
                    binding: binding.clone(),
                };
                let (tx, rx) = oneshot::channel();
                self.persist(ctx, None, op, PendingReply::Bound(tx));
                return Ok(Admission::AfterBind(msg, rx));
            }
            // Nothing stored yet: a signed-in customer from another browser takes a
            // session over from browsers that only claimed it (their listeners go).
            (Some(Owner::Anonymous(_)), Caller::User(_)) if row.is_none() => {
                self.claim(&room, Owner::for_caller(&msg.caller));
            }
            (Some(owner), caller) if !caller.may_access(&owner) => return Err(denied()),
            (Some(_), _) => {}
            // The first customer on a new session claims it.
            (None, caller) if !caller.is_staff() => {
                let owner = Owner::for_caller(caller);
                self.claim(&room, owner);
            }
            (None, _) => {}
        }
        Ok(Admission::Now(msg))
    }

    fn claim(&mut self, room: &str, owner: Owner) {
        self.enforce_access(room, &owner);
        self.claims.insert(room.to_owned(), owner);
    }

    /// Register the admitted customer.
    fn seat_customer(&mut self, msg: JoinAsCustomer) -> Seated {
        let session_secret = match &msg.caller {
            Caller::Anonymous(Some(binding)) => Some(self.secrets.issue(&msg.session_id, binding)),
            _ => None,
        };
        self.attach(msg.conn, msg.recipient, msg.caller.clone());
        self.join_room(msg.conn, &msg.session_id);
        Seated {
            caller: msg.caller,
            session_secret,
        }
    }
}

impl Handler<JoinAsCustomer> for ChatServer {
    type Result = ResponseActFuture<Self, Result<Seated, AppError>>;

    fn handle(&mut self, msg: JoinAsCustomer, _: &mut Context<Self>) -> Self::Result {
        if msg.caller.is_anonymous() {
            if let Err(e) = text::anonymous_session_id(&msg.session_id) {
                return Box::pin(fut::ready(Err(e)));
            }
        }
        let db = self.db.clone();
        let id = msg.session_id.clone();
        let found = async move { db.query(move |c| queries::find_conversation(c, &id)).await };
        Box::pin(found.into_actor(self).then(move |found, act, ctx| {
            let admitted = found.and_then(|row| act.admit_customer(row, msg, ctx));
            let ready = async move {
                match admitted? {
                    Admission::Now(msg) => Ok((msg, None)),
                    Admission::AfterBind(msg, bound) => {
                        // Another browser may have bound it first.
                        let owner = Owner::of(&answer(bound).await?);
                        match msg.caller.may_access(&owner) {
                            true => Ok((msg, Some(owner))),
                            false => Err(AppError::forbidden("Access denied to this conversation")),
                        }
                    }
                }
            };
            ready.into_actor(act).map(|ready, act, _| {
                let (msg, bound) = ready?;
                // Now that it is bound, listeners from other browsers go.
                if let Some(owner) = bound {
                    act.enforce_access(&msg.session_id, &owner);
                }
                Ok(act.seat_customer(msg))
            })
        }))
    }
}

impl Handler<JoinAsStaff> for ChatServer {
    type Result = Result<(), AppError>;

    fn handle(&mut self, msg: JoinAsStaff, _: &mut Context<Self>) -> Self::Result {
        if !msg.caller.is_staff() {
            return Err(AppError::forbidden("Insufficient permissions"));
        }
        self.attach(msg.conn, msg.recipient, msg.caller);
        Ok(())
    }
}

impl Handler<Attach> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: Attach, _: &mut Context<Self>) {
        self.attach(msg.conn, msg.recipient, msg.caller);
    }
}

impl Handler<JoinConversation> for ChatServer {
    type Result = ResponseActFuture<Self, Result<Joined, AppError>>;

    fn handle(&mut self, msg: JoinConversation, _: &mut Context<Self>) -> Self::Result {
        let Some(caller) = self.conns.get(&msg.conn).map(|c| c.caller.clone()) else {
            return Box::pin(fut::ready(Err(AppError::not_registered())));
        };
        let view = reads::conversation_for(self.db.clone(), msg.conversation_id.clone(), caller);
        Box::pin(view.into_actor(self).map(move |view, act, _| {
            let conversation = view?;
            act.join_room(msg.conn, &msg.conversation_id);
            Ok(Joined {
                conversation,
                participants: act.participants(&msg.conversation_id),
            })
        }))
    }
}

impl Handler<LeaveConversation> for ChatServer {
    type Result = Result<(), AppError>;
    fn handle(&mut self, msg: LeaveConversation, _: &mut Context<Self>) -> Self::Result {
        self.leave_room(msg.conn, &msg.conversation_id);
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
            let conversation_id = match msg.caller {
                Caller::Anonymous(_) => text::anonymous_session_id(&msg.conversation_id)?,
                _ => text::session_id(&msg.conversation_id)?,
            }
            .to_owned();
            if msg.attachment_ids.len() > crate::attachments::MAX_FILES {
                return Err(AppError::validation(format!(
                    "At most {} files per message",
                    crate::attachments::MAX_FILES
                )));
            }
            // A message may be only its files.
            let content = if msg.text.trim().is_empty() && !msg.attachment_ids.is_empty() {
                String::new()
            } else {
                text::message_text(&msg.text, self.limits.max_message_chars)?
            };
            let client_id = text::client_id(msg.client_id.as_deref())?;
            let message_type = msg
                .message_type
                .as_deref()
                .map(|t| text::message_type(Some(t)))
                .transpose()?;
            let author = author_for(&msg.caller, msg.post_as, &conversation_id)?;
            self.allow_post(&author)?;
            // A customer's first message on a native session starts the conversation,
            // owned by whoever claimed the session (the access check then applies).
            let owner = self
                .claims
                .get(&conversation_id)
                .cloned()
                .unwrap_or_else(|| Owner::for_caller(&msg.caller));
            let create = (msg.post_as == PostAs::Customer).then(|| NewConversation {
                owner,
                customer_name: author.name.clone(),
                subject: None,
                category: None,
                priority: "normal".into(),
                conversation_type: "general".into(),
            });
            Ok(PostOp {
                conversation_id,
                author,
                caller: msg.caller,
                content,
                message_type,
                client_id,
                create,
                attachment_ids: msg.attachment_ids,
            })
        })();
        let op = match prepared {
            Ok(op) => op,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        self.request(ctx, msg.origin, WriteOp::Post(op), PendingReply::Post)
    }
}

/// The server sets who wrote a message from the caller's verified identity.
fn author_for(caller: &Caller, post_as: PostAs, conversation_id: &str) -> Result<Author, AppError> {
    let name = caller.display_name().to_owned();
    match (post_as, caller) {
        (PostAs::Staff, Caller::Staff(i)) => Ok(Author {
            id: i.user_id.clone(),
            kind: if i.is_admin() {
                SenderKind::Admin
            } else {
                SenderKind::Agent
            },
            name,
        }),
        (PostAs::Staff, _) => Err(AppError::forbidden("Insufficient permissions")),
        // An anonymous session is its own sender: its id is the bearer secret.
        (PostAs::Customer, Caller::Anonymous(_)) => Ok(Author {
            id: conversation_id.to_owned(),
            kind: SenderKind::Guest,
            name,
        }),
        (PostAs::Customer, Caller::Guest(g)) => Ok(Author {
            id: g.clone(),
            kind: SenderKind::Guest,
            name,
        }),
        (PostAs::Customer, Caller::User(i) | Caller::Staff(i)) => Ok(Author {
            id: i.user_id.clone(),
            kind: SenderKind::Customer,
            name,
        }),
    }
}

impl Handler<ChangeConversation> for ChatServer {
    type Result = ResponseFuture<Result<ConversationView, AppError>>;

    fn handle(&mut self, msg: ChangeConversation, ctx: &mut Context<Self>) -> Self::Result {
        let by = (
            participant_id(&msg.caller, &msg.conversation_id),
            msg.caller.display_name().to_owned(),
        );
        let op = ChangeOp {
            conversation_id: msg.conversation_id,
            caller: msg.caller,
            change: msg.change,
        };
        self.request(ctx, msg.origin, WriteOp::Change(op), |tx| {
            PendingReply::Change(tx, Some(by))
        })
    }
}

impl Handler<MarkRead> for ChatServer {
    type Result = ResponseFuture<Result<ReadReceipt, AppError>>;

    fn handle(&mut self, msg: MarkRead, ctx: &mut Context<Self>) -> Self::Result {
        let ids = match &msg.target {
            queries::ReadTarget::Ids(ids) if ids.is_empty() || ids.len() > 500 => {
                return Box::pin(async {
                    Err(AppError::validation("message_ids must hold 1 to 500 ids"))
                })
            }
            queries::ReadTarget::Ids(ids) => Some(ids.clone()),
            _ => None,
        };
        let op = ReadOp {
            conversation_id: msg.conversation_id,
            caller: msg.caller,
            target: msg.target,
        };
        self.request(ctx, msg.origin, WriteOp::MarkRead(op), |tx| {
            PendingReply::Read(tx, ids)
        })
    }
}

impl Handler<SetTyping> for ChatServer {
    type Result = Result<(), AppError>;

    fn handle(&mut self, msg: SetTyping, _: &mut Context<Self>) -> Self::Result {
        let in_room = self
            .conns
            .get(&msg.conn)
            .is_some_and(|c| c.rooms.contains(&msg.conversation_id));
        if !in_room {
            return Err(AppError::forbidden("Join the conversation first"));
        }
        let Some(p) = self.participant(msg.conn, &msg.conversation_id) else {
            return Err(AppError::not_registered());
        };
        let key = (msg.conversation_id.clone(), p.id.clone());
        let changed = if msg.typing {
            let expires = Instant::now() + self.limits.typing_ttl;
            self.typing
                .insert(
                    key,
                    Typing {
                        conn: msg.conn,
                        name: p.name.clone(),
                        expires,
                    },
                )
                .is_none()
        } else {
            self.typing.remove(&key).is_some()
        };
        // Refreshes only extend the expiry; others hear about changes.
        if changed {
            let event = Event::Typing {
                conversation_id: msg.conversation_id.clone(),
                participant_id: p.id,
                name: p.name,
                typing: msg.typing,
                expired: false,
            };
            self.deliver_except_origin(event, &msg.conversation_id, msg.conn);
        }
        Ok(())
    }
}

impl Handler<OpenConversation> for ChatServer {
    type Result = ResponseFuture<Result<Opened, AppError>>;

    fn handle(&mut self, msg: OpenConversation, ctx: &mut Context<Self>) -> Self::Result {
        let prepared = (|| {
            if msg.caller.is_anonymous() {
                return Err(AppError::token_required());
            }
            let conversation_type = one_of(
                "type",
                msg.conversation_type.as_deref(),
                &CONVERSATION_TYPES,
                "general",
            )?;
            let priority = one_of("priority", msg.priority.as_deref(), &PRIORITIES, "normal")?;
            let subject = text::optional_field("subject", msg.subject.as_deref(), 200)?;
            let category = text::optional_field("category", msg.category.as_deref(), 100)?;
            let author = author_for(&msg.caller, PostAs::Customer, "")?;
            let initial_message = match msg.initial_message.as_deref() {
                Some(t) if !t.trim().is_empty() => {
                    self.allow_post(&author)?;
                    Some((
                        author.clone(),
                        text::message_text(t, self.limits.max_message_chars)?,
                    ))
                }
                _ => None,
            };
            Ok(OpenOp {
                id: uuid::Uuid::new_v4().to_string(),
                conversation: NewConversation {
                    owner: Owner::for_caller(&msg.caller),
                    customer_name: author.name,
                    subject,
                    category,
                    priority,
                    conversation_type,
                },
                reuse_open: msg.reuse_open,
                initial_message,
            })
        })();
        let op = match prepared {
            Ok(op) => op,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        self.request(ctx, None, WriteOp::Open(op), PendingReply::Open)
    }
}

fn one_of(
    field: &str,
    value: Option<&str>,
    allowed: &[&str],
    default: &str,
) -> Result<String, AppError> {
    match value {
        None | Some("") => Ok(default.to_owned()),
        Some(v) if allowed.contains(&v) => Ok(v.to_owned()),
        Some(_) => Err(AppError::validation(format!(
            "{field} must be one of: {}",
            allowed.join(", ")
        ))),
    }
}

impl Handler<IssueGuest> for ChatServer {
    type Result = ResponseFuture<Result<String, AppError>>;

    fn handle(&mut self, _: IssueGuest, ctx: &mut Context<Self>) -> Self::Result {
        self.request(
            ctx,
            None,
            WriteOp::IssueGuest(new_guest_id()),
            PendingReply::Guest,
        )
    }
}

impl Handler<RegisterUploads> for ChatServer {
    type Result = ResponseFuture<Result<Vec<crate::domain::message::Attachment>, AppError>>;

    fn handle(&mut self, msg: RegisterUploads, ctx: &mut Context<Self>) -> Self::Result {
        // Uploads belong to the identity that will send them (a signed-in user or a guest).
        let Some(uploader) = uploader_id(&msg.caller) else {
            return Box::pin(async { Err(AppError::token_required()) });
        };
        // An upload counts like a post against its uploader's rate.
        let kind = if matches!(msg.caller, Caller::Guest(_)) {
            SenderKind::Guest
        } else {
            SenderKind::Customer
        };
        let author = Author {
            id: uploader.clone(),
            kind,
            name: String::new(),
        };
        if let Err(e) = self.allow_post(&author) {
            return Box::pin(async move { Err(e) });
        }
        let now = crate::domain::message::now_millis();
        let rows = msg
            .files
            .into_iter()
            .map(|(sha256, file_name, content_type, size)| AttachmentRow {
                id: uuid::Uuid::new_v4().to_string(),
                message_id: None,
                conversation_id: None,
                uploader_id: uploader.clone(),
                sha256,
                file_name,
                content_type,
                size,
                created_at: now,
            })
            .collect();
        self.request(
            ctx,
            None,
            WriteOp::StoreAttachments(rows),
            PendingReply::Uploads,
        )
    }
}

/// Who uploads are kept under: the same id the caller's messages carry.
pub fn uploader_id(caller: &Caller) -> Option<String> {
    // An anonymous caller's id is its session's, which an upload does not name.
    (!caller.is_anonymous()).then(|| participant_id(caller, ""))
}

impl Handler<DiscardUploads> for ChatServer {
    type Result = ResponseFuture<Result<Vec<String>, AppError>>;

    fn handle(&mut self, msg: DiscardUploads, ctx: &mut Context<Self>) -> Self::Result {
        self.request(
            ctx,
            None,
            WriteOp::DiscardUploads(msg.0),
            PendingReply::Discarded,
        )
    }
}

impl Handler<IssueAuthCode> for ChatServer {
    type Result = ResponseFuture<Result<IssuedCode, AppError>>;

    fn handle(&mut self, msg: IssueAuthCode, ctx: &mut Context<Self>) -> Self::Result {
        let Caller::Staff(_) = &msg.caller else {
            return Box::pin(async { Err(AppError::forbidden("Admin access required")) });
        };
        let author = match author_for(&msg.caller, PostAs::Staff, &msg.conversation_id) {
            Ok(a) => a,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let code = auth_code::new_code();
        let now = crate::domain::message::now_millis();
        let expires = now
            + chrono::Duration::from_std(self.limits.auth_code_ttl)
                .unwrap_or(chrono::Duration::minutes(10));
        let row = AuthCodeRow {
            id: uuid::Uuid::new_v4().to_string(),
            code_hash: auth_code::hash(&self.code_pepper, &code),
            conversation_id: Some(msg.conversation_id),
            user_id: msg.user_id,
            guest_id: msg.guest_id,
            device_info: msg.device_info,
            created_by: author.id.clone(),
            attempts: 0,
            expires_at: expires,
            used_at: None,
            created_at: now,
        };
        let text = format!("Your verification code is {code}");
        self.request(
            ctx,
            None,
            WriteOp::IssueCode {
                code: row,
                author,
                text,
            },
            |tx| PendingReply::CodeIssued(tx, code),
        )
    }
}

impl Handler<VerifyAuthCode> for ChatServer {
    type Result = ResponseFuture<Result<VerifiedCode, AppError>>;

    fn handle(&mut self, msg: VerifyAuthCode, ctx: &mut Context<Self>) -> Self::Result {
        let code = msg.code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Box::pin(async { Err(AppError::validation("code must be 6 digits")) });
        }
        let holder = match (msg.user_id, msg.guest_id) {
            (Some(u), None) => CodeHolder::User(u),
            (None, Some(g)) => CodeHolder::Guest(g),
            _ => {
                return Box::pin(async {
                    Err(AppError::validation(
                        "Give exactly one of userId and guestId",
                    ))
                })
            }
        };
        let op = WriteOp::VerifyCode {
            code_hash: auth_code::hash(&self.code_pepper, code),
            holder,
        };
        self.request(ctx, None, op, PendingReply::CodeChecked)
    }
}

impl PendingReply {
    fn fail(self, e: AppError) {
        // A requester that went away needs no answer.
        match self {
            PendingReply::Post(tx) => drop(tx.send(Err(e))),
            PendingReply::Open(tx) => drop(tx.send(Err(e))),
            PendingReply::Change(tx, _) => drop(tx.send(Err(e))),
            PendingReply::Read(tx, _) => drop(tx.send(Err(e))),
            PendingReply::Guest(tx) => drop(tx.send(Err(e))),
            PendingReply::Uploads(tx) => drop(tx.send(Err(e))),
            PendingReply::CodeIssued(tx, _) => drop(tx.send(Err(e))),
            PendingReply::CodeChecked(tx) => drop(tx.send(Err(e))),
            PendingReply::Discarded(tx) => drop(tx.send(Err(e))),
            PendingReply::Bound(tx) => drop(tx.send(Err(e))),
        }
    }
}

/// Outcomes arrive in commit order, so deliveries go out in seq order.
impl Handler<WriteDone> for ChatServer {
    type Result = ();

    fn handle(&mut self, msg: WriteDone, ctx: &mut Context<Self>) {
        let Some(Pending { origin, reply }) = self.pending.remove(&msg.tag) else {
            return;
        };
        let outcome = match msg.result {
            Ok(o) => o,
            Err(e) => return reply.fail(e),
        };
        match (reply, outcome) {
            (
                PendingReply::Post(tx),
                WriteOutcome::Posted {
                    conversation,
                    messages,
                    attachments,
                    duplicate,
                    created,
                },
            ) => {
                let mut messages: Vec<ChatMessage> = messages
                    .into_iter()
                    .map(|m| ChatMessage::from(m).with_attachments(&attachments))
                    .collect();
                let answer = messages.last().cloned().ok_or_else(AppError::internal);
                if !duplicate {
                    // A post may have bound an anonymous session from before bindings:
                    // listeners from other browsers go.
                    if let owner @ Owner::Anonymous(Some(_)) = Owner::of(&conversation) {
                        self.enforce_access(&conversation.id, &owner);
                    }
                    if created {
                        self.claims.remove(&conversation.id);
                        self.enforce_access(&conversation.id, &Owner::of(&conversation));
                        self.announce_conversation(
                            conversation.clone(),
                            ChangeKind::Created,
                            origin,
                            None,
                        );
                        self.auto_assign(conversation.id.clone(), ctx);
                    }
                    // A reopening note comes first: then the status change, then the message.
                    if messages.len() > 1 {
                        self.announce_message(messages.remove(0), origin);
                        self.announce_conversation(
                            conversation,
                            ChangeKind::StatusChanged,
                            origin,
                            None,
                        );
                    }
                    for message in messages {
                        self.announce_message(message, origin);
                    }
                }
                let _ = tx.send(answer);
            }
            (
                PendingReply::Open(tx),
                WriteOutcome::Opened {
                    conversation,
                    messages,
                    created,
                },
            ) => {
                if created {
                    self.announce_conversation(
                        conversation.clone(),
                        ChangeKind::Created,
                        origin,
                        None,
                    );
                    for row in messages {
                        self.announce_message(ChatMessage::from(row), origin);
                    }
                    self.auto_assign(conversation.id.clone(), ctx);
                }
                let _ = tx.send(Ok(Opened {
                    conversation: conversation.into(),
                    created,
                }));
            }
            (
                PendingReply::Change(tx, by),
                WriteOutcome::Changed {
                    conversation,
                    system,
                },
            ) => {
                self.announce_message(ChatMessage::from(system), origin);
                self.announce_conversation(
                    conversation.clone(),
                    ChangeKind::StatusChanged,
                    origin,
                    by,
                );
                let _ = tx.send(Ok(conversation.into()));
            }
            (
                PendingReply::Read(tx, message_ids),
                WriteOutcome::Read {
                    conversation,
                    participant_id,
                    up_to_seq,
                    changed,
                },
            ) => {
                if changed {
                    let event = Event::Read {
                        conversation_id: conversation.id.clone(),
                        participant_id: participant_id.clone(),
                        up_to_seq,
                        message_ids,
                    };
                    self.deliver(event, Some(&conversation.id), false, origin, false);
                }
                let _ = tx.send(Ok(ReadReceipt {
                    conversation_id: conversation.id,
                    participant_id,
                    up_to_seq,
                }));
            }
            (
                PendingReply::CodeIssued(tx, code),
                WriteOutcome::CodeIssued { code: row, message },
            ) => {
                self.announce_message(ChatMessage::from(message), origin);
                let _ = tx.send(Ok(IssuedCode {
                    code,
                    expires_at: crate::domain::message::iso_timestamp(row.expires_at),
                    conversation_id: row.conversation_id.unwrap_or_default(),
                }));
            }
            (PendingReply::CodeChecked(tx), WriteOutcome::CodeChecked(checked)) => {
                let _ = tx.send(
                    checked
                        .map(|c| VerifiedCode {
                            auth_code_id: c.id,
                            user_id: c.user_id.or(c.guest_id),
                        })
                        .map_err(|r| match r {
                            Refusal::Invalid => {
                                AppError::new(ErrorKind::InvalidCode, "Invalid or expired code")
                            }
                            Refusal::Expired => {
                                AppError::new(ErrorKind::InvalidCode, "Invalid or expired code")
                                    .with_detail("expired")
                            }
                            Refusal::Used => {
                                AppError::new(ErrorKind::InvalidCode, "Code already used")
                            }
                            Refusal::TooManyAttempts => {
                                AppError::new(ErrorKind::RateLimited, "Too many attempts")
                            }
                        }),
                );
            }
            (PendingReply::Discarded(tx), WriteOutcome::UploadsDiscarded { unused_files }) => {
                let _ = tx.send(Ok(unused_files));
            }
            (PendingReply::Uploads(tx), WriteOutcome::AttachmentsStored(rows)) => {
                let _ = tx.send(Ok(rows.into_iter().map(Into::into).collect()));
            }
            (PendingReply::Guest(tx), WriteOutcome::GuestIssued(id)) => {
                let _ = tx.send(Ok(id));
            }
            (PendingReply::Bound(tx), WriteOutcome::Bound(row)) => {
                let _ = tx.send(Ok(row));
            }
            (reply, other) => {
                log::error!("write outcome does not match its request: {other:?}");
                reply.fail(AppError::internal());
            }
        }
    }
}
