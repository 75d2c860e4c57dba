//! Connection transports, which know nothing of chat: the raw WebSocket connection
//! actor (`ws_connection`, over a `FrameHandler`) and Socket.IO (`socketio`, Engine.IO
//! sessions with namespaces, over a `SocketHandler`); and what both check on the way
//! in (origins, the browser-key cookie, fragments).

pub mod browser_key;
pub mod fragments;
pub mod handover;
pub mod http_server;
pub mod origin;
pub mod socketio;
pub mod tls;
pub mod ws_connection;
pub mod ws_io;

/// What the transports take from the configuration, shared by every connection (as
/// `web::Data`).
#[derive(Debug, Clone)]
pub struct ConnSettings {
    /// Each WebSocket connection's limits.
    pub limits: ws_connection::Limits,
    /// Who may open WebSockets (and poll Socket.IO): Origin and Host checks.
    pub origins: origin::OriginPolicy,
    /// The browser-key cookie's attributes.
    pub cookie: browser_key::CookieSettings,
}
