//! Conversations and their messages: posting, opening, status changes and
//! auto-assignment, read receipts and typing. Each write's outcome comes back in
//! commit order, and only then are its events delivered, so everyone sees a
//! conversation in seq order.

use actix::prelude::*;

use super::*;
use crate::actors::cluster::NextTurn;
use crate::db::reads;
use crate::domain::conversation::AT_CAPACITY;
use crate::domain::conversation::{Conversation, StatusChange, CONVERSATION_TYPES, PRIORITIES};
use crate::domain::writes::{self, NewConversation, ReadTarget};
use crate::domain::{text, ChangeKind};

/// Auto-assignment tries another agent this many times when the one it chose filled
/// up meanwhile (on another node).
const ASSIGN_TRIES: u32 = 3;

impl ChatServer {
    /// A support figure this node's write completed.
    fn timed(&self, timing: Option<writes::Timing>) {
        let m = &self.metrics;
        match timing {
            Some(writes::Timing::QueueWait(s)) => m.queue_wait.observe(s),
            Some(writes::Timing::FirstResponse(s)) => m.first_response.observe(s),
            Some(writes::Timing::Resolution(s)) => m.resolution.observe(s),
            None => {}
        }
    }

    /// A message committed here: to this node's connections and the other nodes.
    pub(super) fn announce_message(&mut self, message: ChatMessage, origin: Option<ConnId>) {
        self.metrics.message(message.author.kind.as_str());
        if self.cluster.is_some() {
            let room = message.conversation_id.clone();
            let event = Event::MessagePosted {
                message: message.clone(),
            };
            self.publish(&Arc::new(Outbound::new(event)), Some(&room), true);
        }
        self.deliver_message(message, origin);
    }

    fn announce_conversation(
        &mut self,
        conversation: Conversation,
        change: ChangeKind,
        origin: Option<ConnId>,
        by: Option<(String, String)>,
    ) {
        let room = conversation.id.clone();
        let event = Event::ConversationChanged {
            conversation: Box::new(conversation.into()),
            change,
            by,
        };
        self.deliver(event, Some(&room), true, origin, true);
    }

    /// A post committed: tell everyone concerned, in seq order. Answers the message.
    fn posted(
        &mut self,
        ctx: &mut Context<Self>,
        origin: Option<ConnId>,
        posted: writes::Posted,
    ) -> Result<(ChatMessage, bool), AppError> {
        let writes::Posted {
            conversation,
            mut messages,
            duplicate,
            created,
            bound,
            timing,
            woke,
        } = posted;
        let answer = messages
            .last()
            .cloned()
            .map(|m| (m, duplicate))
            .ok_or_else(AppError::internal);
        if duplicate {
            return answer;
        }
        self.timed(timing);
        // A post may have bound an anonymous session from before bindings:
        // listeners from other browsers go, on every node.
        if bound {
            self.decide_owner(&conversation.id, &conversation.owner.clone());
        }
        if created {
            self.stored_as(&conversation.id, &conversation.owner.clone());
        }
        if let Some(first) = messages.first() {
            self.arrived(&conversation, first, origin, ctx);
        }
        if woke {
            self.snoozed(conversation.clone(), origin);
        }
        // A reopening note comes first: then the status change, then the message.
        if messages.len() > 1 {
            self.announce_message(messages.remove(0), origin);
            self.announce_conversation(conversation, ChangeKind::StatusChanged, origin, None);
        }
        for message in messages {
            self.announce_message(message, origin);
        }
        answer
    }

    /// A conversation reaches the staff's inbox with its first message (seq 1, of any
    /// kind): one a widget opened empty was not announced then. `message` is the first
    /// one just written, or a later one; whether it was the first.
    fn announce_arrival(
        &mut self,
        conversation: &Conversation,
        message: &ChatMessage,
        origin: Option<ConnId>,
    ) -> bool {
        let first = message.seq == 1;
        if first {
            self.announce_conversation(conversation.clone(), ChangeKind::Created, origin, None);
        }
        first
    }

    /// As `announce_arrival`, and a conversation that arrived is offered to an agent.
    pub(super) fn arrived(
        &mut self,
        conversation: &Conversation,
        message: &ChatMessage,
        origin: Option<ConnId>,
        ctx: &mut Context<Self>,
    ) {
        if self.announce_arrival(conversation, message, origin) {
            self.auto_assign(conversation.id.clone(), ctx);
        }
    }

    /// A status change committed: its note, then the conversation as it now is.
    fn changed(
        &mut self,
        origin: Option<ConnId>,
        by: Option<(String, String)>,
        changed: writes::Changed,
    ) -> ConversationView {
        self.timed(changed.timing);
        // A status change on an empty conversation is its first message, but nobody
        // is to be offered a conversation that has just been changed by hand.
        self.announce_arrival(&changed.conversation, &changed.system, origin);
        self.announce_message(changed.system, origin);
        let conversation = changed.conversation;
        self.announce_conversation(conversation.clone(), ChangeKind::StatusChanged, origin, by);
        conversation.into()
    }

    /// Resolve the conversations whose customer has been quiet for `after` (one sweep
    /// at a time; every node sweeps, and each conversation is resolved once).
    pub(super) fn auto_resolve(&mut self, after: Duration, ctx: &mut Context<Self>) {
        if self.resolving {
            return;
        }
        let Ok(after_chrono) = chrono::Duration::from_std(after) else {
            return;
        };
        self.resolving = true;
        let minutes = (after.as_secs_f64() / 60.0).round().max(1.0) as u64;
        let unit = if minutes == 1 { "minute" } else { "minutes" };
        let sweep = writes::AutoResolve {
            quiet_since: crate::domain::message::now_millis() - after_chrono,
            note: format!(
                "Conversation resolved automatically: no reply from the customer for {minutes} {unit}"
            ),
            limit: 100,
        };
        self.write(ctx, sweep, |act, _, resolved| {
            act.resolving = false;
            match resolved {
                Ok(resolved) => {
                    for changed in resolved {
                        act.changed(None, None, changed);
                    }
                }
                Err(e) => log::warn!("auto-resolve could not run: {e}"),
            }
        });
    }

    /// Give a new conversation to the next online agent (round-robin) under capacity.
    fn auto_assign(&mut self, conversation_id: String, ctx: &mut Context<Self>) {
        self.try_auto_assign(conversation_id, ASSIGN_TRIES, ctx);
    }

    /// One try; an agent another node filled meanwhile (the write refuses it) leaves
    /// `tries - 1` more, with the loads read again.
    fn try_auto_assign(&mut self, conversation_id: String, tries: u32, ctx: &mut Context<Self>) {
        if tries == 0 {
            return;
        }
        // Agents, not admins, on every node, who say they are online and have room,
        // in a stable order, each with their capacity.
        let agents: Vec<(String, String, i64)> = self
            .available_agents()
            .into_iter()
            .map(|(id, name)| {
                let capacity = self.capacity_of(&id);
                (id, name, capacity)
            })
            .filter(|(_, _, capacity)| *capacity > 0)
            .collect();
        if agents.is_empty() {
            return;
        }
        let db = self.db.clone();
        let ids: Vec<String> = agents.iter().map(|(id, _, _)| id.clone()).collect();
        // Cluster mode: the round-robin's turn is shared by the nodes.
        let turn = self.cluster.as_ref().map(|c| c.send(NextTurn));
        async move {
            let turn = match turn {
                Some(turn) => turn.await.ok().flatten(),
                None => None,
            };
            (turn, db.query(move |c| reads::active_loads(c, &ids)).await)
        }
        .into_actor(self)
        .map(move |(turn, loads), act, ctx| {
            let Ok(loads) = loads else { return };
            let n = agents.len();
            let start = turn.map_or(act.next_agent, |t| t as usize % n);
            let free = (0..n)
                .map(|k| (start + k) % n)
                .find(|&i| loads.get(i).is_some_and(|(_, l)| *l < agents[i].2));
            let Some(i) = free else { return };
            act.next_agent = i + 1;
            let (agent_id, agent_name, capacity) = agents[i].clone();
            // The server assigns with an admin's authority.
            let system = Caller::Staff(crate::auth::Identity::server("Auto-assign"));
            let change = writes::Change {
                conversation_id: conversation_id.clone(),
                caller: system,
                change: StatusChange::AutoAssign {
                    agent_id,
                    agent_name,
                    capacity,
                },
            };
            // Refused when an agent accepted it meanwhile: nothing to tell.
            act.write(ctx, change, move |act, ctx, changed| match changed {
                Ok(changed) => {
                    act.changed(None, None, changed);
                }
                Err(e) if e.message == AT_CAPACITY => {
                    act.try_auto_assign(conversation_id, tries - 1, ctx)
                }
                Err(_) => {}
            });
        })
        .spawn(ctx);
    }

    /// The write for a `PostMessage`, with every rule on its input applied.
    fn prepare_post(&mut self, msg: PostMessage) -> Result<writes::Post, AppError> {
        let conversation_id = match msg.caller {
            Caller::Anonymous(_) => text::anonymous_session_id(&msg.conversation_id)?,
            _ => text::session_id(&msg.conversation_id)?,
        }
        .to_owned();
        crate::domain::files::check_count(msg.attachment_ids.len())?;
        let private = msg.post_as == PostAs::Note;
        if private && !msg.attachment_ids.is_empty() {
            return Err(AppError::validation(
                "A private note carries no attachments",
            ));
        }
        // A message may be only its files.
        let content = if msg.text.trim().is_empty() && !msg.attachment_ids.is_empty() {
            String::new()
        } else {
            text::message_text(&msg.text, self.limits.max_message_chars)?
        };
        let client_id = text::client_id(msg.client_id.as_deref())?;
        let message_type = match msg.post_as {
            PostAs::System => Some("system".to_owned()),
            _ => msg
                .message_type
                .as_deref()
                .map(|t| text::message_type(Some(t)))
                .transpose()?,
        };
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
            kind: "general".into(),
            attributes: msg.caller.attributes(),
        });
        Ok(writes::Post {
            conversation_id,
            author,
            caller: msg.caller,
            content,
            message_type,
            client_id,
            create,
            attachment_ids: msg.attachment_ids,
            private,
        })
    }
}

impl Handler<PostMessage> for ChatServer {
    type Result = ResponseFuture<Result<ChatMessage, AppError>>;

    fn handle(&mut self, msg: PostMessage, ctx: &mut Context<Self>) -> Self::Result {
        let posted = self.handle(PostOnce(msg), ctx);
        Box::pin(async move { posted.await.map(|(message, _)| message) })
    }
}

impl Handler<PostOnce> for ChatServer {
    type Result = ResponseFuture<Result<(ChatMessage, bool), AppError>>;

    fn handle(&mut self, msg: PostOnce, ctx: &mut Context<Self>) -> Self::Result {
        let origin = msg.0.origin;
        match self.prepare_post(msg.0) {
            Ok(post) => {
                let posted = self.request(ctx, post, move |act, ctx, p| act.posted(ctx, origin, p));
                Box::pin(async move { posted.await? })
            }
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}

/// The server sets who wrote a message from the caller's verified identity.
pub(super) fn author_for(
    caller: &Caller,
    post_as: PostAs,
    conversation_id: &str,
) -> Result<Author, AppError> {
    let name = caller.display_name().to_owned();
    match (post_as, caller) {
        (PostAs::Staff | PostAs::Note, Caller::Staff(i)) => Ok(Author {
            id: i.user_id.clone(),
            kind: if i.is_admin() {
                SenderKind::Admin
            } else {
                SenderKind::Agent
            },
            name,
        }),
        (PostAs::Bot | PostAs::System, Caller::Staff(i)) => Ok(Author {
            id: i.user_id.clone(),
            kind: if post_as == PostAs::Bot {
                SenderKind::Bot
            } else {
                SenderKind::System
            },
            name,
        }),
        (PostAs::Staff | PostAs::Note | PostAs::Bot | PostAs::System, _) => {
            Err(AppError::insufficient_permissions())
        }
        // An anonymous session is its own sender.
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
        let change = writes::Change {
            conversation_id: msg.conversation_id,
            caller: msg.caller,
            change: msg.change,
        };
        let origin = msg.origin;
        self.request(ctx, change, move |act, _, changed| {
            act.changed(origin, Some(by), changed)
        })
    }
}

impl Handler<ChangeLabels> for ChatServer {
    type Result = ResponseFuture<Result<ConversationView, AppError>>;

    /// Labels are staff's: the change goes to staff connections only, on every node.
    fn handle(&mut self, msg: ChangeLabels, ctx: &mut Context<Self>) -> Self::Result {
        let labels = |ls: &[String]| {
            ls.iter()
                .map(|l| crate::domain::conversation::label(l))
                .collect()
        };
        let checked = match (msg.caller.is_staff(), labels(&msg.add), labels(&msg.remove)) {
            (false, _, _) => Err(AppError::insufficient_permissions()),
            (true, Ok(add), Ok(remove)) => Ok((add, remove)),
            (true, Err(e), _) | (true, _, Err(e)) => Err(e),
        };
        let (add, remove) = match checked {
            Ok(lists) => lists,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let write = writes::Relabel {
            conversation_id: msg.conversation_id,
            add,
            remove,
        };
        let by = (
            participant_id(&msg.caller, ""),
            msg.caller.display_name().to_owned(),
        );
        let origin = msg.origin;
        self.request(ctx, write, move |act, _, conversation| {
            let event = Event::ConversationChanged {
                conversation: Box::new(conversation.clone().into()),
                change: ChangeKind::Labels,
                by: Some(by),
            };
            act.deliver(event, None, true, origin, true);
            conversation.into()
        })
    }
}

impl Handler<SnoozeConversation> for ChatServer {
    type Result = ResponseFuture<Result<ConversationView, AppError>>;

    fn handle(&mut self, msg: SnoozeConversation, ctx: &mut Context<Self>) -> Self::Result {
        let now = crate::domain::message::now_millis();
        let until = match (msg.caller.is_staff(), msg.until.as_deref()) {
            (false, _) => Err(AppError::insufficient_permissions()),
            (true, None) => Ok(None),
            (true, Some(t)) => crate::domain::conversation::snooze_until(t, now).map(Some),
        };
        let until = match until {
            Ok(u) => u,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let write = writes::Snooze {
            conversation_id: msg.conversation_id,
            until,
        };
        let origin = msg.origin;
        self.request(ctx, write, move |act, _, conversation| {
            act.snoozed(conversation.clone(), origin);
            conversation.into()
        })
    }
}

impl ChatServer {
    /// A conversation was snoozed or woke: every staff connection, on every node, hears.
    pub(super) fn snoozed(&mut self, conversation: Conversation, origin: Option<ConnId>) {
        let event = Event::ConversationChanged {
            conversation: Box::new(conversation.into()),
            change: ChangeKind::Snoozed,
            by: None,
        };
        self.deliver(event, None, true, origin, true);
    }

    /// Wake the conversations whose snooze ran out (every node asks; each wakes once).
    /// A read first: the write (a transaction) is asked for only when one is due.
    pub(super) fn wake_snoozed(&mut self, ctx: &mut Context<Self>) {
        if self.waking {
            return;
        }
        self.waking = true;
        let now = crate::domain::message::now_millis();
        let db = self.db.clone();
        async move { db.query(move |c| reads::snooze_due(c, now)).await }
            .into_actor(self)
            .map(move |due, act, ctx| match due {
                Ok(true) => act.write_wakes(now, ctx),
                Ok(false) => act.waking = false,
                Err(e) => {
                    act.waking = false;
                    log::warn!("snoozed conversations could not be read: {e}");
                }
            })
            .spawn(ctx);
    }

    fn write_wakes(&mut self, now: chrono::NaiveDateTime, ctx: &mut Context<Self>) {
        let wake = writes::WakeSnoozed { now };
        self.write(ctx, wake, |act, _, woke| {
            act.waking = false;
            match woke {
                Ok(woke) => {
                    for conversation in woke {
                        act.snoozed(conversation, None);
                    }
                }
                Err(e) => log::warn!("snoozed conversations could not be woken: {e}"),
            }
        });
    }
}

impl Handler<RateConversation> for ChatServer {
    type Result = ResponseFuture<Result<ConversationView, AppError>>;

    /// Stored once; the room and every staff connection hear of it.
    fn handle(&mut self, msg: RateConversation, ctx: &mut Context<Self>) -> Self::Result {
        let checked = match msg.caller.is_staff() {
            true => Err(AppError::forbidden(
                "Only the customer rates a conversation",
            )),
            false => crate::domain::conversation::rating(msg.score, msg.comment.as_deref()),
        };
        let (score, comment) = match checked {
            Ok(r) => r,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let write = writes::Rate {
            conversation_id: msg.conversation_id,
            caller: msg.caller,
            score,
            comment,
        };
        let origin = msg.origin;
        self.request(ctx, write, move |act, _, conversation| {
            act.metrics.rated(score);
            let room = conversation.id.clone();
            let event = Event::ConversationChanged {
                conversation: Box::new(conversation.clone().into()),
                change: ChangeKind::Rated,
                by: None,
            };
            act.deliver(event, Some(&room), true, origin, true);
            conversation.into()
        })
    }
}

impl Handler<SetCustomerDetails> for ChatServer {
    type Result = ResponseFuture<Result<ConversationView, AppError>>;

    fn handle(&mut self, msg: SetCustomerDetails, ctx: &mut Context<Self>) -> Self::Result {
        let attributes = matches!(msg.caller, Caller::User(_)).then(|| msg.caller.attributes());
        let write = writes::SetCustomer {
            conversation_id: msg.conversation_id,
            caller: msg.caller,
            email: msg.email,
            context: msg.context,
            attributes,
        };
        let origin = msg.origin;
        self.request(ctx, write, move |act, _, (conversation, changed)| {
            if changed {
                let event = Event::ConversationChanged {
                    conversation: Box::new(conversation.clone().into()),
                    change: ChangeKind::Customer,
                    by: None,
                };
                act.deliver(event, None, true, origin, true);
            }
            conversation.into()
        })
    }
}

impl Handler<MarkRead> for ChatServer {
    type Result = ResponseFuture<Result<ReadReceipt, AppError>>;

    fn handle(&mut self, msg: MarkRead, ctx: &mut Context<Self>) -> Self::Result {
        let ids = match &msg.target {
            ReadTarget::Ids(ids) if ids.is_empty() || ids.len() > 500 => {
                return Box::pin(async {
                    Err(AppError::validation("message_ids must hold 1 to 500 ids"))
                })
            }
            ReadTarget::Ids(ids) => Some(ids.clone()),
            _ => None,
        };
        let mark = writes::MarkRead {
            conversation_id: msg.conversation_id,
            caller: msg.caller,
            target: msg.target,
        };
        let origin = msg.origin;
        self.request(ctx, mark, move |act, _, read| {
            let room = read.conversation.id;
            if read.changed {
                let event = Event::Read {
                    conversation_id: room.clone(),
                    participant_id: read.participant_id.clone(),
                    up_to_seq: read.up_to_seq,
                    message_ids: ids,
                };
                act.deliver(event, Some(&room), false, origin, false);
            }
            ReadReceipt {
                conversation_id: room,
                participant_id: read.participant_id,
                up_to_seq: read.up_to_seq,
            }
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

impl ChatServer {
    /// The write for an `OpenConversation`, with every rule on its input applied.
    fn prepare_open(&mut self, msg: &OpenConversation) -> Result<writes::Open, AppError> {
        if msg.caller.is_anonymous() {
            return Err(AppError::token_required());
        }
        let kind = one_of(
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
                let writer = match &msg.initial_author {
                    Some((caller, post_as)) => author_for(caller, *post_as, "")?,
                    None => author.clone(),
                };
                self.allow_post(&writer)?;
                Some((
                    writer,
                    text::message_text(t, self.limits.max_message_chars)?,
                ))
            }
            _ => None,
        };
        Ok(writes::Open {
            id: uuid::Uuid::new_v4().to_string(),
            conversation: NewConversation {
                owner: Owner::for_caller(&msg.caller),
                customer_name: author.name,
                subject,
                category,
                priority,
                kind,
                attributes: msg.caller.attributes(),
            },
            reuse_open: msg.reuse_open,
            initial_message,
        })
    }
}

impl Handler<OpenConversation> for ChatServer {
    type Result = ResponseFuture<Result<Opened, AppError>>;

    fn handle(&mut self, msg: OpenConversation, ctx: &mut Context<Self>) -> Self::Result {
        let open = match self.prepare_open(&msg) {
            Ok(open) => open,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        self.request(ctx, open, |act, ctx, opened| {
            // Opened empty, it waits for its first message to reach the inbox.
            if let Some(first) = opened.messages.first() {
                act.arrived(&opened.conversation, first, None, ctx);
            }
            for message in opened.messages {
                act.announce_message(message, None);
            }
            Opened {
                conversation: opened.conversation.into(),
                created: opened.created,
            }
        })
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
