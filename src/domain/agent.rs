//! Agents' availability and capacity, and the queue of customers waiting for one.

use chrono::NaiveDateTime;

use crate::error::AppError;

/// What an agent says of themself. Auto-assignment gives conversations to online
/// agents only; away and busy agents keep what they have.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Availability {
    #[default]
    Online,
    Away,
    Busy,
}

impl Availability {
    pub const ALL: [Availability; 3] =
        [Availability::Online, Availability::Away, Availability::Busy];

    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Online => "online",
            Availability::Away => "away",
            Availability::Busy => "busy",
        }
    }

    pub fn parse(s: &str) -> Result<Availability, AppError> {
        Availability::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| AppError::validation("availability must be one of: online, away, busy"))
    }
}

/// An agent's stored settings; an agent never set has the defaults (online, the
/// server's `AUTO_ASSIGN_CAPACITY`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentSettings {
    pub availability: Availability,
    /// Active conversations auto-assignment gives them at most (`None`: the default).
    pub capacity: Option<i64>,
}

impl AgentSettings {
    /// Their capacity, `default` unless an admin set one.
    pub fn capacity_or(&self, default: i64) -> i64 {
        self.capacity.unwrap_or(default)
    }
}

/// The most any agent's capacity may be.
pub const MAX_CAPACITY: i64 = 100;

/// A capacity an admin sets: 0 (never auto-assigned) to `MAX_CAPACITY`.
pub fn capacity(n: i64) -> Result<i64, AppError> {
    if (0..=MAX_CAPACITY).contains(&n) {
        Ok(n)
    } else {
        Err(AppError::validation(format!(
            "capacity must be between 0 and {MAX_CAPACITY}"
        )))
    }
}

/// A customer waiting for an agent: a waiting, unassigned conversation with a
/// message, in the order they arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub conversation_id: String,
    pub customer_name: String,
    pub since: NaiveDateTime,
}

/// The expected wait at `position` (1 is next), in seconds: each agent available takes
/// the next customer after the recent time to a first answer. `None` when there is
/// no recent answer to go by.
pub fn expected_wait(
    position: usize,
    agents: usize,
    recent_answer_secs: Option<f64>,
) -> Option<i64> {
    let per_customer = recent_answer_secs?;
    let rounds = position.div_ceil(agents.max(1));
    Some((rounds as f64 * per_customer).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_reads_back_and_refuses_others() {
        for a in Availability::ALL {
            assert_eq!(Availability::parse(a.as_str()).unwrap(), a);
        }
        assert!(Availability::parse("asleep").is_err());
    }

    #[test]
    fn the_expected_wait_grows_with_the_place_and_shrinks_with_agents() {
        assert_eq!(expected_wait(1, 1, Some(60.0)), Some(60));
        assert_eq!(expected_wait(3, 1, Some(60.0)), Some(180));
        assert_eq!(expected_wait(3, 2, Some(60.0)), Some(120));
        assert_eq!(expected_wait(1, 0, Some(30.0)), Some(30));
        assert_eq!(expected_wait(2, 1, None), None);
    }

    #[test]
    fn capacities_are_bounded() {
        assert!(capacity(-1).is_err() && capacity(101).is_err());
        assert_eq!(capacity(0).unwrap(), 0);
    }
}
