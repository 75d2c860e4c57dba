//! Who may use a conversation: its customer and staff, nobody else.

use crate::auth::Identity;

/// The identity behind a request or connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Staff(Identity),
    /// A signed-in customer.
    User(Identity),
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
            Caller::Anonymous => None,
        }
    }

    /// The name staff see for this customer (seed 000: username, else "Customer").
    pub fn display_name(&self) -> &str {
        match self {
            Caller::Staff(i) | Caller::User(i) => &i.name,
            Caller::Anonymous => "Customer",
        }
    }

    /// May this caller read and write a conversation owned by `owner`
    /// (the signed-in customer it was started by; `None` for an anonymous one)?
    pub fn may_access(&self, owner: Option<&str>) -> bool {
        match (self, owner) {
            (Caller::Staff(_), _) => true,
            (_, None) => true,
            (Caller::User(i), Some(owner)) => i.user_id == owner,
            (Caller::Anonymous, Some(_)) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(id: &str, role: &str) -> Identity {
        Identity {
            user_id: id.into(),
            name: id.into(),
            role: role.into(),
        }
    }

    #[test]
    fn access_rules() {
        let staff = Caller::from_identity(Some(ident("s", "support")));
        let alice = Caller::from_identity(Some(ident("alice", "customer")));
        let anon = Caller::Anonymous;
        assert!(staff.may_access(Some("bob")));
        assert!(alice.may_access(Some("alice")));
        assert!(!alice.may_access(Some("bob")));
        assert!(alice.may_access(None));
        assert!(anon.may_access(None));
        assert!(!anon.may_access(Some("alice")));
    }
}
