//! The ChatServer actor: who is connected (customer sessions, staff), and the routing
//! of every support-chat event to the right connections. It owns in-memory state only;
//! storage goes through DbSync, and it holds `Recipient`s, so any transport can register.

mod handlers;
pub mod messages;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use actix::dev::SendError;
use actix::prelude::*;
use tokio::sync::oneshot;

pub use messages::*;

use crate::actors::db_sync::Db;
use crate::domain::{Event, Message as ChatMessage, Outbound};
use crate::error::{AppError, ErrorKind};
use crate::rate_limit::TokenBucket;

/// Limits the ChatServer enforces on every dialect's input.
#[derive(Debug, Clone, Copy)]
pub struct ChatLimits {
    pub max_message_chars: usize,
    pub max_history_page: i64,
    /// Posts per second, and burst, per author over all connections and REST.
    pub post_rate_per_sec: f64,
    pub post_burst: f64,
}

enum Role {
    Customer { session_id: String },
    Staff { user_id: String },
}

struct Conn {
    recipient: Recipient<Deliver>,
    role: Role,
}

/// A post waiting for its commit.
struct PendingPost {
    origin: Option<ConnId>,
    post_as: PostAs,
    reply: oneshot::Sender<Result<ChatMessage, AppError>>,
}

pub struct ChatServer {
    db: Db,
    limits: ChatLimits,
    conns: HashMap<ConnId, Conn>,
    /// Customer connections by session id.
    sessions: HashMap<String, HashSet<ConnId>>,
    /// Staff connections by user id (several tabs each).
    staff: HashMap<String, HashSet<ConnId>>,
    pending: HashMap<u64, PendingPost>,
    /// Post-rate buckets by author id; full ones are dropped periodically.
    post_buckets: HashMap<String, TokenBucket>,
    next_tag: u64,
    evicted: u64,
}

impl ChatServer {
    pub fn new(db: Db, limits: ChatLimits) -> Self {
        ChatServer {
            db,
            limits,
            conns: HashMap::new(),
            sessions: HashMap::new(),
            staff: HashMap::new(),
            pending: HashMap::new(),
            post_buckets: HashMap::new(),
            next_tag: 0,
            evicted: 0,
        }
    }

    fn attach(&mut self, conn: ConnId, recipient: Recipient<Deliver>, role: Role) {
        self.detach(conn);
        match &role {
            Role::Customer { session_id } => {
                self.sessions
                    .entry(session_id.clone())
                    .or_default()
                    .insert(conn);
            }
            Role::Staff { user_id } => {
                self.staff.entry(user_id.clone()).or_default().insert(conn);
            }
        }
        self.conns.insert(conn, Conn { recipient, role });
    }

    fn detach(&mut self, conn: ConnId) {
        let Some(old) = self.conns.remove(&conn) else {
            return;
        };
        let (index, key) = match &old.role {
            Role::Customer { session_id } => (&mut self.sessions, session_id),
            Role::Staff { user_id } => (&mut self.staff, user_id),
        };
        if let Some(set) = index.get_mut(key) {
            set.remove(&conn);
            if set.is_empty() {
                index.remove(key);
            }
        }
    }

    fn session_conns(&self, session_id: &str) -> impl Iterator<Item = ConnId> + '_ {
        self.sessions.get(session_id).into_iter().flatten().copied()
    }

    fn staff_conns(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.staff.values().flatten().copied()
    }

    /// Hand one shared event to each connection, skipping `except`. A connection whose
    /// bounded mailbox is full is a slow consumer: it is told to go and forgotten here,
    /// so it can never hold up or grow the memory of anyone else.
    fn deliver(&mut self, targets: Vec<ConnId>, except: Option<ConnId>, event: Event) {
        let out = Deliver(Arc::new(Outbound::new(event)));
        let mut gone = Vec::new();
        for id in targets {
            if Some(id) == except {
                continue;
            }
            let Some(conn) = self.conns.get(&id) else {
                continue;
            };
            match conn.recipient.try_send(out.clone()) {
                Ok(()) => {}
                Err(SendError::Full(_)) => {
                    log::warn!("connection {id} is not keeping up; disconnecting it");
                    conn.recipient
                        .do_send(Deliver(Arc::new(Outbound::new(Event::Disconnect {
                            reason: "outbound queue full",
                        }))));
                    self.evicted += 1;
                    gone.push(id);
                }
                Err(SendError::Closed(_)) => gone.push(id),
            }
        }
        for id in gone {
            self.detach(id);
        }
    }

    /// Route a committed message to everyone who should see it now.
    fn fan_out(&mut self, message: &ChatMessage, post_as: PostAs, origin: Option<ConnId>) {
        let mut targets: Vec<ConnId> = self.session_conns(&message.session_id).collect();
        targets.extend(self.staff_conns());
        let event = match post_as {
            PostAs::Customer => Event::CustomerMessage {
                message: message.clone(),
            },
            PostAs::Staff => Event::StaffReply {
                message: message.clone(),
            },
        };
        self.deliver(targets, origin, event);
    }

    /// Per-identity rate limit on posts, whatever the transport.
    fn allow_post(&mut self, author_id: &str) -> Result<(), AppError> {
        let limits = self.limits;
        let bucket = self
            .post_buckets
            .entry(author_id.to_owned())
            .or_insert_with(|| TokenBucket::new(limits.post_rate_per_sec, limits.post_burst));
        if bucket.try_take() {
            Ok(())
        } else {
            Err(AppError::new(ErrorKind::RateLimited, "Rate limit exceeded"))
        }
    }

    fn stats(&self) -> Stats {
        let customer_connections = self.sessions.values().map(HashSet::len).sum();
        let staff_connections = self.staff.values().map(HashSet::len).sum();
        Stats {
            connections: self.conns.len(),
            customer_connections,
            staff_connections,
            customer_sessions: self.sessions.len(),
            staff_online: self.staff.len(),
            slow_consumers_evicted: self.evicted,
        }
    }
}

impl Actor for ChatServer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Connections and HTTP handlers on every worker thread send here.
        ctx.set_mailbox_capacity(4096);
        ctx.run_interval(Duration::from_secs(60), |act, _| {
            act.post_buckets.retain(|_, b| !b.is_full())
        });
    }
}
