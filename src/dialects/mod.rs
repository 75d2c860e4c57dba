//! Wire dialects: each translates its frames to the domain's typed commands and
//! encodes domain events back. Only the native `/ws` protocol exists so far.

pub mod native;
pub mod session;
pub mod support;

/// Index of a dialect in an `Outbound`'s per-dialect encoding cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialectId {
    Native = 0,
}

pub const DIALECT_COUNT: usize = 1;
