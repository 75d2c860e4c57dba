//! Wire dialects: each translates its frames to the domain's typed commands and
//! encodes domain events back. The native `/ws` protocol, and seeds 001, 003 and 004
//! over Socket.IO (`sio`), with the REST shapes of 003 (`support`) and 004 (`session`).

pub mod native;
pub mod session;
pub mod sio;
pub mod support;

/// Index of a dialect in an `Outbound`'s per-dialect encoding cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialectId {
    Native = 0,
    /// Seed 001's "ticket" events on namespace `/`.
    Ticket = 1,
    /// Seed 003's events on namespace `/support`.
    Support = 2,
    /// Seed 004's "session" events on namespace `/`.
    Session = 3,
}

pub const DIALECT_COUNT: usize = 4;
