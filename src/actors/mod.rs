//! The central actors (DESIGN.md §1).

pub mod chat_server;
pub mod cluster;
pub mod db_sync;
pub mod delivery;
pub mod housekeeping;
pub mod live_stream;
pub mod webhook_sender;
