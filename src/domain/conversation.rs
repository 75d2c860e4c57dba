//! Conversations: who owns one, its status machine, and who may change it how.
//! (Seed 001's ticket, seed 003's conversation, seed 004's session, seed 000's sessionId.)

use chrono::NaiveDateTime;

use crate::error::{AppError, ErrorKind};

use super::Caller;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Status {
    Waiting,
    Active,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Waiting,
        Status::Active,
        Status::Resolved,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Active => "active",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// `waiting → active → resolved → closed`; a resolved conversation can be reopened;
    /// anything open can be closed; closed is final.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        matches!(
            (self, next),
            (Waiting, Active)
                | (Waiting, Closed)
                | (Active, Resolved)
                | (Active, Closed)
                | (Resolved, Active)
                | (Resolved, Closed)
        )
    }
}

/// Seed 003's conversation types.
pub const CONVERSATION_TYPES: [&str; 3] = ["general", "onboarding", "call_request"];
pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

/// A conversation, as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Conversation {
    pub id: String,
    pub owner: Owner,
    pub customer_name: String,
    pub subject: Option<String>,
    pub category: Option<String>,
    pub priority: String,
    /// One of `CONVERSATION_TYPES`.
    pub kind: String,
    pub status: Status,
    pub assigned_agent_id: Option<String>,
    /// The seq of its last message (seqs run from 1 without gaps).
    pub last_seq: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Staff's labels, sorted (`label`); customers never see them.
    pub labels: Vec<String>,
    /// The customer's rating, once resolved.
    pub rating: Option<Rating>,
    /// Out of staff's inbox until then (or until the customer writes).
    pub snoozed_until: Option<NaiveDateTime>,
    /// Who the customer is (staff see it).
    pub customer: super::customer::CustomerInfo,
}

/// Which conversations a staff listing shows by their snooze.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Snoozed {
    /// All (the seeds' listings, which have no word for it).
    #[default]
    Any,
    /// Those not snoozed now (the desk's inbox).
    Hide,
    /// Only those snoozed now.
    Only,
}

/// The desk's inbox by status: `snoozed` (a view, not a status) lists the snoozed ones,
/// any other the ones not snoozed.
pub fn desk_view(status: Option<String>) -> (Option<String>, Snoozed) {
    match status.as_deref() {
        Some("snoozed") => (None, Snoozed::Only),
        _ => (status, Snoozed::Hide),
    }
}

/// The longest a conversation may be snoozed.
pub const MAX_SNOOZE_DAYS: i64 = 90;

/// A time to snooze until, as given (`Date.toISOString()`), checked against `now`.
pub fn snooze_until(until: &str, now: NaiveDateTime) -> Result<NaiveDateTime, AppError> {
    let t = super::message::parse_iso(until).ok_or_else(|| {
        AppError::validation("until must be a time like 2026-12-24T09:00:00.000Z")
    })?;
    if t <= now || t > now + chrono::Duration::days(MAX_SNOOZE_DAYS) {
        return Err(AppError::validation(format!(
            "until must be in the next {MAX_SNOOZE_DAYS} days"
        )));
    }
    Ok(t)
}

/// A customer's rating of a resolved conversation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rating {
    /// 1 to 5.
    pub score: u8,
    pub comment: Option<String>,
    pub rated_at: NaiveDateTime,
}

/// A rating's score and comment as given, checked.
pub fn rating(score: i64, comment: Option<&str>) -> Result<(u8, Option<String>), AppError> {
    if !(1..=5).contains(&score) {
        return Err(AppError::validation("rating must be 1 to 5"));
    }
    let comment = super::text::optional_field("comment", comment, 2000)?;
    Ok((score as u8, comment.filter(|c| !c.is_empty())))
}

/// Most labels on one conversation.
pub const MAX_LABELS: usize = 20;

/// A label as stored (trimmed, lowercased), or why it is refused.
pub fn label(s: &str) -> Result<String, AppError> {
    let s = s.trim().to_lowercase();
    let ok = (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(s)
    } else {
        Err(AppError::validation(
            "A label is 1 to 32 letters, digits, - or _",
        ))
    }
}

/// `labels` with `add` added and `remove` removed, sorted; refused past `MAX_LABELS`.
pub fn relabel(
    labels: &[String],
    add: &[String],
    remove: &[String],
) -> Result<Vec<String>, AppError> {
    let mut out: std::collections::BTreeSet<String> = labels.iter().cloned().collect();
    out.extend(add.iter().cloned());
    for r in remove {
        out.remove(r);
    }
    if out.len() > MAX_LABELS {
        return Err(AppError::validation(format!(
            "A conversation has at most {MAX_LABELS} labels"
        )));
    }
    Ok(out.into_iter().collect())
}

/// A conversation as someone sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConversationView {
    pub conversation: Conversation,
    /// Unread for the caller, where the view was made for one.
    pub unread_count: Option<i64>,
    pub last_message: Option<super::Message>,
}

impl From<Conversation> for ConversationView {
    fn from(conversation: Conversation) -> Self {
        ConversationView {
            conversation,
            unread_count: None,
            last_message: None,
        }
    }
}

/// A new guest id: `guest_<unix-ms>_<128 random bits>` (seed 003's shape), unguessable,
/// so it works as the guest's bearer secret.
pub fn new_guest_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "guest_{}_{}",
        chrono::Utc::now().timestamp_millis(),
        hex::encode(bytes)
    )
}

/// Does `id` look like one of our guest ids? (Existence is checked against the database.)
pub fn is_guest_id_shape(id: &str) -> bool {
    let mut parts = id.splitn(3, '_');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some("guest"), Some(ms), Some(rand)) if !ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit())
            && rand.len() == 32 && rand.bytes().all(|b| b.is_ascii_hexdigit())
    )
}

/// Who a conversation belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Owner {
    User(String),
    Guest(String),
    /// Seed 000's anonymous session, with the browser binding it belongs to (`None`:
    /// not bound yet).
    Anonymous(Option<String>),
}

impl Owner {
    /// The owner a caller gets when it starts a conversation.
    pub fn for_caller(caller: &Caller) -> Owner {
        match caller {
            Caller::User(i) | Caller::Staff(i) => Owner::User(i.user_id.clone()),
            Caller::Guest(g) => Owner::Guest(g.clone()),
            Caller::Anonymous(binding) => Owner::Anonymous(binding.clone()),
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        match self {
            Owner::User(u) => Some(u),
            _ => None,
        }
    }

    pub fn guest_id(&self) -> Option<&str> {
        match self {
            Owner::Guest(g) => Some(g),
            _ => None,
        }
    }

    /// An anonymous session's browser binding.
    pub fn anon_key(&self) -> Option<&str> {
        match self {
            Owner::Anonymous(b) => b.as_deref(),
            _ => None,
        }
    }
}

/// The id a caller's read cursor and sent messages are kept under in a conversation.
pub fn participant_id(caller: &Caller, conversation_id: &str) -> String {
    match caller {
        Caller::Staff(i) | Caller::User(i) => i.user_id.clone(),
        Caller::Guest(g) => g.clone(),
        // An anonymous session is its own customer.
        Caller::Anonymous(_) => conversation_id.to_owned(),
    }
}

/// A requested change of status or assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusChange {
    /// An agent takes a waiting conversation (first accept wins).
    Accept,
    /// Assign to an agent: an admin assigns anyone; an agent may assign only itself.
    Assign {
        agent_id: String,
        agent_name: String,
    },
    /// Move to a status.
    Set(Status),
    /// The server gives a waiting, unassigned conversation to an agent with fewer
    /// than `capacity` active ones (counted when it is written); if an agent accepted
    /// it meanwhile, or the agent is full, nothing changes.
    AutoAssign {
        agent_id: String,
        agent_name: String,
        capacity: i64,
    },
}

/// The refusal of an auto-assignment to an agent who filled up meanwhile.
pub const AT_CAPACITY: &str = "The agent is at capacity";

/// What a permitted change does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEffect {
    pub status: Status,
    pub assigned_agent_id: Option<String>,
    /// The system message recording the change.
    pub note: String,
}

fn conflict(message: impl Into<std::borrow::Cow<'static, str>>) -> AppError {
    AppError::new(ErrorKind::Conflict, message)
}

/// Check a change against the status machine and the caller's role.
pub fn apply_change(
    c: &Conversation,
    caller: &Caller,
    change: &StatusChange,
) -> Result<ChangeEffect, AppError> {
    let current = c.status;
    if current == Status::Closed {
        return Err(conflict("Conversation is closed"));
    }
    let name = caller.display_name().to_owned();
    match change {
        StatusChange::Accept => {
            let Caller::Staff(agent) = caller else {
                return Err(AppError::forbidden(
                    "Only support staff can accept conversations",
                ));
            };
            if let Some(existing) = &c.assigned_agent_id {
                if existing != &agent.user_id || current != Status::Waiting {
                    return Err(
                        conflict("Conversation already accepted").with_detail(existing.clone())
                    );
                }
            }
            if current != Status::Waiting {
                return Err(conflict(format!(
                    "Cannot accept a conversation that is {}",
                    current.as_str()
                )));
            }
            Ok(ChangeEffect {
                status: Status::Active,
                assigned_agent_id: Some(agent.user_id.clone()),
                note: format!("{name} joined the conversation"),
            })
        }
        StatusChange::Assign {
            agent_id,
            agent_name,
        } => {
            let Caller::Staff(me) = caller else {
                return Err(AppError::forbidden(
                    "Only support staff can assign conversations",
                ));
            };
            if !me.is_admin() {
                if agent_id != &me.user_id {
                    return Err(AppError::forbidden(
                        "Only admins can assign conversations to others",
                    ));
                }
                // An agent taking a conversation is an accept: the first one wins.
                if let Some(existing) = c.assigned_agent_id.as_ref().filter(|a| *a != &me.user_id) {
                    return Err(
                        conflict("Conversation already accepted").with_detail(existing.clone())
                    );
                }
            }
            let status = if current == Status::Waiting {
                Status::Active
            } else {
                current
            };
            Ok(ChangeEffect {
                status,
                assigned_agent_id: Some(agent_id.clone()),
                note: if agent_id == &me.user_id {
                    format!("{name} joined the conversation")
                } else {
                    format!("Conversation assigned to {agent_name}")
                },
            })
        }
        StatusChange::AutoAssign {
            agent_id,
            agent_name,
            ..
        } => {
            if current != Status::Waiting || c.assigned_agent_id.is_some() {
                return Err(conflict("Conversation already accepted"));
            }
            Ok(ChangeEffect {
                status: Status::Active,
                assigned_agent_id: Some(agent_id.clone()),
                note: format!("Conversation assigned to {agent_name}"),
            })
        }
        StatusChange::Set(next) => {
            if current == Status::Waiting && *next == Status::Active {
                // Someone has to take it: accept or assign, not a bare status change.
                return Err(conflict(
                    "Accept or assign the conversation to make it active",
                ));
            }
            if *next == current {
                return Err(conflict(format!(
                    "Conversation is already {}",
                    current.as_str()
                )));
            }
            if !current.can_become(*next) {
                return Err(conflict(format!(
                    "Cannot change status from {} to {}",
                    current.as_str(),
                    next.as_str()
                )));
            }
            // Customers may only wind their own conversation down.
            if !caller.is_staff() && !matches!(next, Status::Resolved | Status::Closed) {
                return Err(AppError::forbidden(
                    "Only support staff can set that status",
                ));
            }
            let note = match next {
                Status::Active => format!("Conversation reopened by {name}"),
                Status::Resolved => format!("Conversation resolved by {name}"),
                Status::Closed => format!("Conversation closed by {name}"),
                Status::Waiting => format!("Conversation returned to the queue by {name}"),
            };
            let assigned = c.assigned_agent_id.clone();
            Ok(ChangeEffect {
                status: *next,
                assigned_agent_id: assigned,
                note,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Identity;

    fn conv(status: &str, agent: Option<&str>) -> Conversation {
        let now = chrono::Utc::now().naive_utc();
        Conversation {
            id: "c".into(),
            owner: Owner::User("cust".into()),
            customer_name: "Cust".into(),
            subject: None,
            category: None,
            priority: "normal".into(),
            kind: "general".into(),
            status: Status::parse(status).expect("a status"),
            assigned_agent_id: agent.map(Into::into),
            last_seq: 0,
            created_at: now,
            updated_at: now,
            labels: Vec::new(),
            rating: None,
            snoozed_until: None,
            customer: Default::default(),
        }
    }

    #[test]
    fn labels_are_lowercase_words_kept_sorted_and_few() {
        assert_eq!(label(" VIP ").unwrap(), "vip");
        for bad in ["", "two words", "a,b", "ünï", &"x".repeat(33)] {
            assert!(label(bad).is_err(), "{bad:?}");
        }
        let have = vec!["refund".to_owned(), "vip".to_owned()];
        let next = relabel(&have, &["late".into(), "vip".into()], &["refund".into()]).unwrap();
        assert_eq!(next, ["late", "vip"]);
        let many: Vec<String> = (0..=MAX_LABELS).map(|i| format!("l{i}")).collect();
        assert!(relabel(&[], &many, &[]).is_err());
    }

    fn staff(id: &str, role: &str) -> Caller {
        Caller::Staff(Identity {
            user_id: id.into(),
            name: Some(id.into()),
            role: role.into(),
            expires_at: i64::MAX,
            attributes: Default::default(),
        })
    }

    #[test]
    fn guest_ids() {
        let id = new_guest_id();
        assert!(is_guest_id_shape(&id), "{id}");
        assert!(!is_guest_id_shape("guest_1234567890_abc123"));
        assert!(!is_guest_id_shape(
            "user_1_00000000000000000000000000000000"
        ));
    }

    #[test]
    fn status_machine() {
        use Status::*;
        assert!(Waiting.can_become(Active));
        assert!(Resolved.can_become(Active));
        assert!(!Closed.can_become(Active));
        assert!(!Waiting.can_become(Resolved));
        assert!(!Active.can_become(Waiting));
    }

    #[test]
    fn first_accept_wins() {
        let c = conv("waiting", None);
        let e = apply_change(&c, &staff("a", "agent"), &StatusChange::Accept).unwrap();
        assert_eq!(e.status, Status::Active);
        let taken = conv("active", Some("a"));
        let err = apply_change(&taken, &staff("b", "agent"), &StatusChange::Accept).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
        let closed = conv("closed", None);
        assert_eq!(
            apply_change(&closed, &staff("b", "agent"), &StatusChange::Accept)
                .unwrap_err()
                .message,
            "Conversation is closed"
        );
    }

    #[test]
    fn waiting_becomes_active_only_by_being_taken() {
        let waiting = conv("waiting", None);
        let err = apply_change(
            &waiting,
            &staff("a", "agent"),
            &StatusChange::Set(Status::Active),
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Conflict);
        let auto = StatusChange::AutoAssign {
            agent_id: "a".into(),
            agent_name: "A".into(),
            capacity: 1,
        };
        assert_eq!(
            apply_change(&waiting, &staff("system", "admin"), &auto)
                .unwrap()
                .status,
            Status::Active
        );
        let taken = conv("active", Some("b"));
        assert_eq!(
            apply_change(&taken, &staff("system", "admin"), &auto)
                .unwrap_err()
                .kind,
            ErrorKind::Conflict
        );
    }

    #[test]
    fn roles() {
        let c = conv("active", Some("a"));
        let customer = Caller::User(Identity {
            user_id: "cust".into(),
            name: Some("C".into()),
            role: "customer".into(),
            expires_at: i64::MAX,
            attributes: Default::default(),
        });
        assert!(apply_change(&c, &customer, &StatusChange::Set(Status::Closed)).is_ok());
        assert!(apply_change(&c, &customer, &StatusChange::Accept).is_err());
        let assign_other = StatusChange::Assign {
            agent_id: "b".into(),
            agent_name: "B".into(),
        };
        assert_eq!(
            apply_change(&c, &staff("a", "agent"), &assign_other)
                .unwrap_err()
                .kind,
            ErrorKind::Forbidden
        );
        assert!(apply_change(&c, &staff("boss", "admin"), &assign_other).is_ok());
        let take_over = StatusChange::Assign {
            agent_id: "b".into(),
            agent_name: "B".into(),
        };
        assert_eq!(
            apply_change(&c, &staff("b", "agent"), &take_over)
                .unwrap_err()
                .kind,
            ErrorKind::Conflict
        );
        assert_eq!(
            apply_change(
                &conv("waiting", None),
                &staff("a", "agent"),
                &StatusChange::Set(Status::Resolved)
            )
            .unwrap_err()
            .message,
            "Cannot change status from waiting to resolved"
        );
    }
}
