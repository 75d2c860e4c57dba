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
pub mod ws_connection;
pub mod ws_io;
