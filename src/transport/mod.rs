//! Connection transports: raw WebSocket (`ws_session`, the only actix-web-actors
//! code) and Socket.IO (`socketio`, Engine.IO sessions with namespaces).

pub mod browser_key;
pub mod fragments;
pub mod origin;
pub mod socketio;
pub mod ws_session;
