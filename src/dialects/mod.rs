//! Wire dialects: each translates its frames to the domain's typed commands and
//! encodes domain events back. The native `/ws` protocol, and seeds 001, 003 and 004
//! over Socket.IO (`sio`), with the REST shapes of 003 (`support`) and 004 (`session`).

pub mod chat_sessions;
pub mod native;
pub mod sio;
pub mod support;

/// The dialects: each has its own slot in an event's frame cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DialectId {
    Native,
    /// Seed 001's "ticket" events on namespace `/`.
    Ticket,
    /// Seed 003's events on namespace `/support`.
    Support,
    /// Seed 004's "session" events on namespace `/`.
    Session,
}

impl DialectId {
    /// As the metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            DialectId::Native => "native",
            DialectId::Ticket => "ticket",
            DialectId::Support => "support",
            DialectId::Session => "session",
        }
    }

    pub fn encoding(self) -> crate::domain::Encoding {
        crate::domain::Encoding(self as u8)
    }
}
