//! Connection transports. `ws_session` is the only actix-web-actors code.

pub mod origin;
pub mod ws_session;
