//! Agents' availability and capacity (stored, and shared by the nodes through their
//! events), who auto-assignment may pick, and telling each waiting customer their
//! place in the queue as it moves. The queue is read from the database, so every
//! node tells the same places.

use super::*;
use crate::db::reads;
use crate::domain::agent::{expected_wait, AgentSettings, Availability, Waiting};
use crate::domain::message::iso_timestamp;
use crate::domain::writes::SetAgent;

/// How often the queue is looked at again when it may have moved.
pub(super) const QUEUE_TICK: Duration = Duration::from_secs(1);

/// The most waiting customers one read of the queue covers.
const QUEUE_READ: i64 = 1000;

/// A place in the queue as a customer is told it: (position, expected wait).
type Place = (Option<usize>, Option<i64>);

/// A customer's connection in a conversation's room.
type Seat = (ConnId, String);

/// Whether the queue may have moved, and what each waiting customer here was told.
#[derive(Default)]
pub(super) struct QueueWatch {
    moved: bool,
    reading: bool,
    told: HashMap<Seat, Place>,
}

impl QueueWatch {
    /// An event that may move the queue or change its pace.
    pub fn observe(&mut self, event: &Event) {
        if matches!(
            event,
            Event::ConversationChanged { .. }
                | Event::AgentChanged { .. }
                | Event::StaffPresence { .. }
        ) {
            self.moved = true;
        }
    }

    pub fn moved(&mut self) {
        self.moved = true;
    }
}

impl ChatServer {
    pub(super) fn settings_of(&self, user_id: &str) -> AgentSettings {
        self.agents.get(user_id).copied().unwrap_or_default()
    }

    /// Staff of any role connected on any node who say they are online, once each,
    /// sorted by id: who answers customers now.
    fn answering_staff(&self) -> Vec<StaffMember> {
        let mut staff: Vec<StaffMember> = self
            .local_staff()
            .into_iter()
            .chain(self.remote_staff.values().cloned())
            .filter(|m| self.settings_of(&m.id).availability == Availability::Online)
            .collect();
        staff.sort_by(|a, b| a.id.cmp(&b.id));
        staff.dedup_by(|a, b| a.id == b.id);
        staff
    }

    /// The agents (not admins) among them: whom auto-assignment picks from.
    pub(super) fn available_agents(&self) -> Vec<(String, String)> {
        self.answering_staff()
            .into_iter()
            .filter(|m| m.role == "agent")
            .map(|m| (m.id, m.name))
            .collect()
    }

    pub(super) fn capacity_of(&self, user_id: &str) -> i64 {
        self.settings_of(user_id)
            .capacity_or(self.limits.auto_assign_capacity)
    }

    /// Read every agent's settings (at start, and after a Redis outage).
    pub(super) fn load_agents(&mut self, ctx: &mut Context<Self>) {
        let db = self.db.clone();
        async move { db.query(reads::agents).await }
            .into_actor(self)
            .map(|result, act, _| match result {
                Ok(agents) => {
                    act.agents = agents.into_iter().collect();
                    act.queue.moved();
                }
                Err(e) => log::warn!("agents' settings could not be read yet: {e}"),
            })
            .spawn(ctx);
    }

    /// The queue may have moved: read it, and tell each waiting customer here their
    /// place (only when it changed), and those who left it that they did.
    pub(super) fn tell_queue(&mut self, ctx: &mut Context<Self>) {
        if !self.queue.moved || self.queue.reading {
            return;
        }
        self.queue.moved = false;
        let customers_here = self
            .conns
            .values()
            .any(|c| !c.caller.is_staff() && !c.rooms.is_empty());
        if !customers_here && self.queue.told.is_empty() {
            return;
        }
        self.queue.reading = true;
        let db = self.db.clone();
        async move {
            db.query(|c| Ok((reads::queue(c, QUEUE_READ)?, reads::recent_answer_secs(c)?)))
                .await
        }
        .into_actor(self)
        .map(|result, act, _| {
            act.queue.reading = false;
            match result {
                Ok((waiting, recent)) => act.place_customers(&waiting, recent),
                Err(_) => act.queue.moved = true,
            }
        })
        .spawn(ctx);
    }

    fn place_customers(&mut self, waiting: &[Waiting], recent: Option<f64>) {
        let agents = self.available_agents().len();
        let places: HashMap<&str, usize> = waiting
            .iter()
            .enumerate()
            .map(|(i, w)| (w.conversation_id.as_str(), i + 1))
            .collect();
        let mut now: HashMap<Seat, Place> = HashMap::new();
        for (&id, conn) in &self.conns {
            if conn.caller.is_staff() {
                continue;
            }
            for room in &conn.rooms {
                if let Some(&p) = places.get(room.as_str()) {
                    now.insert(
                        (id, room.clone()),
                        (Some(p), expected_wait(p, agents, recent)),
                    );
                }
            }
        }
        // Out of the queue (an agent has them, or it closed): told once.
        let left: Vec<Seat> = self
            .queue
            .told
            .keys()
            .filter(|k| !now.contains_key(*k))
            .cloned()
            .collect();
        for (conn, room) in left {
            self.tell_place(conn, room, (None, None));
        }
        let changed: Vec<(Seat, Place)> = now
            .iter()
            .filter(|(k, v)| self.queue.told.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for ((conn, room), place) in changed {
            self.tell_place(conn, room, place);
        }
        self.queue.told = now;
    }

    fn tell_place(
        &mut self,
        conn: ConnId,
        room: String,
        (position, wait): (Option<usize>, Option<i64>),
    ) {
        self.deliver_to(
            conn,
            Event::QueuePosition {
                conversation_id: room,
                position,
                expected_wait: wait,
            },
        );
    }

    /// An agent as the desk shows them; `active` from the database.
    fn agent_state(&self, id: &str, active: i64) -> AgentState {
        let member = self
            .local_staff()
            .into_iter()
            .chain(self.remote_staff.values().cloned())
            .find(|m| m.id == id);
        let settings = self.settings_of(id);
        AgentState {
            id: id.to_owned(),
            online: member.is_some(),
            name: member.as_ref().map(|m| m.name.clone()),
            role: member.map(|m| m.role),
            availability: settings.availability,
            capacity: settings.capacity_or(self.limits.auto_assign_capacity),
            capacity_set: settings.capacity.is_some(),
            active,
        }
    }

    /// Staff online anywhere, and agents whose settings were ever changed, by id.
    fn known_agents(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .local_staff()
            .into_iter()
            .chain(self.remote_staff.values().cloned())
            .map(|m| m.id)
            .chain(self.agents.keys().cloned())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

impl Handler<ChangeAgent> for ChatServer {
    type Result = ResponseFuture<Result<AgentState, AppError>>;

    fn handle(&mut self, msg: ChangeAgent, ctx: &mut Context<Self>) -> Self::Result {
        let allowed = match &msg.caller {
            Caller::Staff(me) if me.is_admin() => Ok(()),
            Caller::Staff(_) if msg.capacity.is_some() => {
                Err(AppError::forbidden("Only admins set an agent's capacity"))
            }
            Caller::Staff(me) if me.user_id == msg.user_id => Ok(()),
            Caller::Staff(_) => Err(AppError::forbidden("Agents set their own availability")),
            _ => Err(AppError::insufficient_permissions()),
        };
        let checked = allowed.and_then(|()| match msg.capacity {
            Some(Some(n)) => crate::domain::agent::capacity(n).map(|_| ()),
            _ => Ok(()),
        });
        if let Err(e) = checked {
            return Box::pin(async move { Err(e) });
        }
        let user_id = msg.user_id.clone();
        let write = SetAgent {
            user_id: msg.user_id,
            availability: msg.availability,
            capacity: msg.capacity,
        };
        let db = self.db.clone();
        let changed = self.request(ctx, write, move |act, _, settings| {
            act.agents.insert(user_id.clone(), settings);
            let event = Event::AgentChanged {
                user_id: user_id.clone(),
                settings,
            };
            act.deliver(event, None, true, None, true);
            user_id
        });
        let me = ctx.address();
        Box::pin(async move {
            let user_id = changed.await?;
            let ids = vec![user_id.clone()];
            let active = db.query(move |c| reads::active_loads(c, &ids)).await?;
            let active = active.first().map_or(0, |(_, n)| *n);
            me.send(AgentStateOf { user_id, active })
                .await
                .map_err(AppError::from)
        })
    }
}

/// An agent's state as this actor knows it (their load read already).
#[derive(Message)]
#[rtype(result = "AgentState")]
struct AgentStateOf {
    user_id: String,
    active: i64,
}

impl Handler<AgentsAvailable> for ChatServer {
    type Result = usize;

    /// Any staff role answers a customer; only agents are auto-assigned.
    fn handle(&mut self, _: AgentsAvailable, _: &mut Context<Self>) -> usize {
        self.answering_staff().len()
    }
}

impl Handler<AgentStateOf> for ChatServer {
    type Result = MessageResult<AgentStateOf>;

    fn handle(&mut self, msg: AgentStateOf, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.agent_state(&msg.user_id, msg.active))
    }
}

impl Handler<GetDesk> for ChatServer {
    type Result = ResponseActFuture<Self, Result<DeskState, AppError>>;

    fn handle(&mut self, msg: GetDesk, _: &mut Context<Self>) -> Self::Result {
        let ids = self.known_agents();
        let agents_available = self.available_agents().len();
        let db = self.db.clone();
        let staff = msg.caller.is_staff();
        Box::pin(
            async move {
                if !staff {
                    return Err(AppError::insufficient_permissions());
                }
                db.query(move |c| {
                    Ok((
                        reads::queue(c, QUEUE_READ)?,
                        reads::recent_answer_secs(c)?,
                        reads::active_loads(c, &ids)?,
                    ))
                })
                .await
            }
            .into_actor(self)
            .map(move |read, act, _| {
                let (waiting, recent, loads) = read?;
                let queue = waiting
                    .into_iter()
                    .enumerate()
                    .map(|(i, w)| Queued {
                        position: i + 1,
                        session_id: w.conversation_id,
                        customer_name: w.customer_name,
                        waiting_since: iso_timestamp(w.since),
                        expected_wait_seconds: expected_wait(i + 1, agents_available, recent),
                    })
                    .collect();
                let agents = loads
                    .into_iter()
                    .map(|(id, active)| act.agent_state(&id, active))
                    .collect();
                Ok(DeskState { queue, agents })
            }),
        )
    }
}
