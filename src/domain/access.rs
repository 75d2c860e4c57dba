//! Who may use a conversation: its customer and staff, nobody else.

use super::conversation::Owner;
use crate::auth::Identity;

/// The identity behind a request or connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Staff(Identity),
    /// A signed-in customer.
    User(Identity),
    /// A guest the server issued an id to (seed 003).
    Guest(String),
    /// No (valid) token: the conversation id itself is the bearer secret.
    Anonymous,
}

impl Caller {
    pub fn from_identity(identity: Option<Identity>) -> Self {
        match identity {
            Some(id) if id.is_staff() => Caller::Staff(id),
            Some(id) => Caller::User(id),
            None => Caller::Anonymous,
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Caller::Staff(_))
    }

    pub fn user_id(&self) -> Option<&str> {
        match self {
            Caller::Staff(i) | Caller::User(i) => Some(&i.user_id),
            Caller::Guest(_) | Caller::Anonymous => None,
        }
    }

    /// The name staff see for this customer (seed 000: username, else "Customer").
    pub fn display_name(&self) -> &str {
        match self {
            Caller::Staff(i) => i.name.as_deref().unwrap_or(&i.user_id),
            // Seed 000: `req.user?.username || 'Customer'`.
            Caller::User(i) => i.name.as_deref().unwrap_or("Customer"),
            Caller::Guest(_) => "Guest",
            Caller::Anonymous => "Customer",
        }
    }

    /// May this caller read and write a conversation that belongs to `owner`?
    /// Staff: any. Otherwise only its owner; an anonymous conversation's id is its secret.
    pub fn may_access(&self, owner: &Owner) -> bool {
        match (self, owner) {
            (Caller::Staff(_), _) | (_, Owner::Anonymous) => true,
            (Caller::User(i), Owner::User(u)) => &i.user_id == u,
            (Caller::Guest(g), Owner::Guest(o)) => g == o,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(id: &str, role: &str) -> Identity {
        Identity {
            user_id: id.into(),
            name: Some(id.into()),
            role: role.into(),
            expires_at: i64::MAX,
        }
    }

    #[test]
    fn access_rules() {
        let staff = Caller::from_identity(Some(ident("s", "support")));
        let alice = Caller::from_identity(Some(ident("alice", "customer")));
        let anon = Caller::Anonymous;
        let bob_owns = Owner::User("bob".into());
        let alice_owns = Owner::User("alice".into());
        let guest_owns = Owner::Guest("guest_1".into());
        assert!(staff.may_access(&bob_owns));
        assert!(alice.may_access(&alice_owns));
        assert!(!alice.may_access(&bob_owns));
        assert!(alice.may_access(&Owner::Anonymous));
        assert!(anon.may_access(&Owner::Anonymous));
        assert!(!anon.may_access(&alice_owns));
        assert!(Caller::Guest("guest_1".into()).may_access(&guest_owns));
        assert!(!Caller::Guest("guest_2".into()).may_access(&guest_owns));
        assert!(!alice.may_access(&guest_owns));
    }
}
