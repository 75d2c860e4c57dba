//! Who may use a conversation: its customer and staff, nobody else.

use super::conversation::Owner;
use crate::auth::Identity;

/// The identity behind a request or connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Caller {
    Staff(Identity),
    /// A signed-in customer.
    User(Identity),
    /// A guest the server issued an id to (seed 003).
    Guest(String),
    /// No (valid) token. It may prove which browser it is: the binding of its browser
    /// key, which anonymous sessions (seed 000) belong to (`domain::anonymous`).
    Anonymous(Option<String>),
}

impl Caller {
    pub fn from_identity(identity: Option<Identity>) -> Self {
        match identity {
            Some(id) if id.is_staff() => Caller::Staff(id),
            Some(id) => Caller::User(id),
            None => Caller::Anonymous(None),
        }
    }

    /// No token, whichever browser.
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Caller::Anonymous(_))
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Caller::Staff(_))
    }

    pub fn user_id(&self) -> Option<&str> {
        match self {
            Caller::Staff(i) | Caller::User(i) => Some(&i.user_id),
            Caller::Guest(_) | Caller::Anonymous(_) => None,
        }
    }

    /// The shop's attributes from a signed-in customer's token (none for others).
    pub fn attributes(&self) -> crate::auth::Attributes {
        match self {
            Caller::User(i) => i.attributes.clone(),
            _ => Default::default(),
        }
    }

    /// The name staff see for this customer (seed 000: username, else "Customer").
    pub fn display_name(&self) -> &str {
        match self {
            Caller::Staff(i) => i.name.as_deref().unwrap_or(&i.user_id),
            // Seed 000: `req.user?.username || 'Customer'`.
            Caller::User(i) => i.name.as_deref().unwrap_or("Customer"),
            Caller::Guest(_) => "Guest",
            Caller::Anonymous(_) => "Customer",
        }
    }

    /// May this caller read and write a conversation that belongs to `owner`?
    /// Staff: any. Otherwise only its owner; an anonymous session, the browser it is
    /// bound to. (One from before bindings is nobody's until a registration or a
    /// message binds it: `db::queries::bind_anonymous`.)
    pub fn may_access(&self, owner: &Owner) -> bool {
        match (self, owner) {
            (Caller::Staff(_), _) => true,
            (Caller::User(i), Owner::User(u)) => &i.user_id == u,
            (Caller::Guest(g), Owner::Guest(o)) => g == o,
            (Caller::Anonymous(Some(b)), Owner::Anonymous(Some(o))) => b == o,
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
            attributes: Default::default(),
        }
    }

    #[test]
    fn access_rules() {
        let staff = Caller::from_identity(Some(ident("s", "support")));
        let alice = Caller::from_identity(Some(ident("alice", "customer")));
        let anon = Caller::Anonymous(Some("browser-a".into()));
        let bob_owns = Owner::User("bob".into());
        let alice_owns = Owner::User("alice".into());
        let guest_owns = Owner::Guest("guest_1".into());
        let a_browser = Owner::Anonymous(Some("browser-a".into()));
        assert!(staff.may_access(&bob_owns));
        assert!(staff.may_access(&a_browser));
        assert!(alice.may_access(&alice_owns));
        assert!(!alice.may_access(&bob_owns));
        // An anonymous session: its browser only (and staff).
        assert!(!alice.may_access(&a_browser));
        assert!(anon.may_access(&a_browser));
        assert!(!Caller::Anonymous(Some("browser-b".into())).may_access(&a_browser));
        assert!(!Caller::Anonymous(None).may_access(&a_browser));
        assert!(!anon.may_access(&Owner::Anonymous(None)));
        assert!(!anon.may_access(&alice_owns));
        assert!(Caller::Guest("guest_1".into()).may_access(&guest_owns));
        assert!(!Caller::Guest("guest_2".into()).may_access(&guest_owns));
        assert!(!alice.may_access(&guest_owns));
    }
}
