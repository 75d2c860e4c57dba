//! Events the central actors route to connections. Each is encoded at most once per
//! dialect, on first use, and the bytes are shared by every recipient of that dialect.

use std::sync::OnceLock;

use bytestring::ByteString;

use super::Message;
use crate::dialects::{DialectId, DIALECT_COUNT};

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A customer wrote in a conversation (to staff, and the customer's other connections).
    CustomerMessage { message: Message },
    /// Staff replied (to the customer's connections, and to the other staff).
    StaffReply { message: Message },
    /// The server drops this connection (its outbound queue overflowed). Not encoded.
    Disconnect { reason: &'static str },
}

/// An event on its way to many connections.
#[derive(Debug)]
pub struct Outbound {
    pub event: Event,
    encoded: [OnceLock<Option<ByteString>>; DIALECT_COUNT],
}

impl Outbound {
    pub fn new(event: Event) -> Self {
        Outbound {
            event,
            encoded: Default::default(),
        }
    }

    /// The frame for `dialect`, encoding it on first use. `None` if that dialect has no such frame.
    pub fn encoded(
        &self,
        dialect: DialectId,
        encode: impl FnOnce(&Event) -> Option<ByteString>,
    ) -> Option<ByteString> {
        self.encoded[dialect as usize]
            .get_or_init(|| encode(&self.event))
            .clone()
    }
}
