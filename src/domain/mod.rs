//! The support-chat domain shared by every dialect: who is calling, what they may
//! see, what a message is, and how client text is cleaned. No I/O here.

pub mod access;
pub mod agent;
pub mod anonymous;
pub mod api_key;
pub mod auth_code;
pub mod backend;
pub mod canned;
pub mod conversation;
pub mod customer;
pub mod event;
pub mod files;
pub mod message;
pub mod moderation;
pub mod office_hours;
pub mod search;
pub mod stream;
pub mod text;
pub mod transcript;
pub mod webhook;
pub mod widget_look;
pub mod writes;

pub use access::Caller;
pub use event::{Audience, ChangeKind, Encoding, Event, Outbound, RelayKind, Signal};
pub use message::{Author, Message, SenderKind};
