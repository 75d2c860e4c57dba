//! A Socket.IO server on actix: Engine.IO v4 (long-polling and WebSocket, with the
//! upgrade between them) and Socket.IO v5 (namespaces, events, acks both ways, binary
//! attachments, connection state recovery). It knows nothing of chat: a
//! `SocketHandler` gives each namespace's sockets their meaning.
//!
//! The small API: `SocketHandler::serves` names the namespaces, `connect` accepts or
//! refuses a CONNECT (with the handshake `auth`), `on_event` gets each EVENT, and `Io`
//! emits, acks, emits with an ack, runs futures, and disconnects. Broadcasts are
//! encoded once by the caller and shared (`Io::send_encoded`).

pub mod engine_session;
pub mod packet;
pub mod websocket;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde_json::{json, Value};

pub use engine_session::{CloseReason, IncomingEvent, Io, SioSession};

use crate::client_addr::TrustedProxies;
use crate::transport::origin::OriginPolicy;

#[derive(Debug, Clone)]
pub struct Settings {
    pub ping_interval: Duration,
    pub ping_timeout: Duration,
    /// Largest message, and largest polling POST body, in bytes.
    pub max_payload: usize,
    /// A session that connects no namespace in this time is closed.
    pub connect_timeout: Duration,
    /// Frames queued for one client before it counts as stuck and is dropped.
    pub outbound_queue: usize,
    /// Connection state recovery: how long a lost socket's state is kept for its
    /// client to recover it. `None` turns recovery off: CONNECT replies carry no `pid`
    /// and nothing is kept (as in the reference server without the option).
    pub recovery: Option<Duration>,
    /// Origin and Host checks for every request (polling's CORS follows them).
    pub origins: OriginPolicy,
    /// Whose word on the client's address is taken.
    pub proxies: TrustedProxies,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// A CONNECT to a namespace.
pub struct ConnectRequest<H: SocketHandler> {
    pub nsp: String,
    /// The new socket's id, unique per server.
    pub socket_id: u64,
    /// The handshake `auth` payload (an object; `{}` when none was sent).
    pub auth: Value,
    /// The state of the socket this client lost, if it asked to recover it in time,
    /// and the offset of the last event it received (the last argument of an event
    /// whose final argument is a string: `SocketHandler` decides what offsets mean).
    pub restored: Option<H::Parked>,
    pub offset: Option<String>,
    pub session: Addr<SioSession<H>>,
    pub remote_ip: Option<IpAddr>,
}

/// A refused CONNECT: `{message, data}` in the CONNECT_ERROR packet.
#[derive(Debug, Clone)]
pub struct ConnectError {
    pub message: String,
    pub data: Option<Value>,
}

impl ConnectError {
    pub fn to_json(&self) -> Value {
        match &self.data {
            Some(data) => json!({"message": self.message, "data": data}),
            None => json!({"message": self.message}),
        }
    }
}

/// What a namespace does with its sockets: one value per connected socket.
pub trait SocketHandler: Sized + Unpin + 'static {
    /// What handlers share (addresses, settings).
    type App: Send + Sync + 'static;
    /// A lost socket's state, kept for connection state recovery.
    type Parked: Send + 'static;

    fn serves(nsp: &str) -> bool;

    /// Accept (with whether `restored` state was taken up) or refuse a CONNECT.
    fn connect(
        app: &Self::App,
        req: ConnectRequest<Self>,
    ) -> LocalBoxFuture<'static, Result<(Self, bool), ConnectError>>;

    /// The CONNECT reply has gone out; events may follow.
    fn on_connected(&mut self, io: &mut Io<'_, Self>);

    fn on_event(&mut self, io: &mut Io<'_, Self>, event: IncomingEvent);

    /// The socket is gone; what it returns is kept for recovery if the transport was lost.
    fn on_close(self, io: &mut Io<'_, Self>, reason: CloseReason) -> Option<Self::Parked>;

    /// May this request open a new session (a per-client limit, say)?
    fn admit(app: &Self::App, req: &HttpRequest) -> bool;

    /// Several processes: keep a socket's state where any of them can recover it, for
    /// `window`. Called when a socket is lost, and by a handler whose socket lives
    /// (so that a process that dies leaves its sockets' states behind).
    fn share_parked(_app: &Self::App, _pid: &str, _parked: &Self::Parked, _window: Duration) {}

    /// Several processes: take the state that one of them kept under `pid`.
    fn take_shared(_app: &Self::App, _pid: &str) -> LocalBoxFuture<'static, Option<Self::Parked>> {
        Box::pin(async { None })
    }

    /// The socket ended for good (not lost): no process may recover it.
    fn drop_shared(_app: &Self::App, _pid: &str) {}
}

/// The Engine.IO errors of the specification, with their HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineError {
    pub code: u8,
    pub message: &'static str,
    pub status: u16,
}

impl EngineError {
    pub const UNKNOWN_TRANSPORT: Self = Self::new(0, "Transport unknown", 400);
    pub const UNKNOWN_SID: Self = Self::new(1, "Session ID unknown", 400);
    pub const BAD_HANDSHAKE_METHOD: Self = Self::new(2, "Bad handshake method", 400);
    pub const BAD_REQUEST: Self = Self::new(3, "Bad request", 400);
    pub const FORBIDDEN: Self = Self::new(4, "Forbidden", 403);
    pub const UNSUPPORTED_PROTOCOL_VERSION: Self =
        Self::new(5, "Unsupported protocol version", 400);
    /// Not in the spec's list: a POST over `maxPayload`.
    pub const PAYLOAD_TOO_LARGE: Self = Self::new(3, "Payload too large", 413);
    pub const TOO_MANY_REQUESTS: Self = Self::new(3, "Too many requests", 429);
    /// Nor this: a new session while the server restarts (the client retries).
    pub const RESTARTING: Self = Self::new(3, "Server restarting", 503);

    const fn new(code: u8, message: &'static str, status: u16) -> Self {
        EngineError {
            code,
            message,
            status,
        }
    }
}

/// 128 random bits, hex: session ids, socket ids and recovery ids.
pub fn random_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The server's Socket.IO state: open sessions and recoverable sockets.
pub struct Engine<H: SocketHandler> {
    pub settings: Settings,
    pub app: H::App,
    sessions: Mutex<HashMap<String, Addr<SioSession<H>>>>,
    parked: Mutex<HashMap<String, (Instant, H::Parked)>>,
    ids: Arc<AtomicU64>,
    /// Set on a restart: new sessions are refused (their clients retry elsewhere).
    restarting: AtomicBool,
}

impl<H: SocketHandler> Engine<H> {
    /// `ids` hands out socket ids; share it with other transports so ids never collide.
    pub fn new(settings: Settings, app: H::App, ids: Arc<AtomicU64>) -> Arc<Self> {
        Arc::new(Engine {
            settings,
            app,
            sessions: Mutex::new(HashMap::new()),
            parked: Mutex::new(HashMap::new()),
            ids,
            restarting: AtomicBool::new(false),
        })
    }

    fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }

    /// The server restarts: every session closes its transport, and its client
    /// reconnects (recovering its state where another process shares it); how many.
    pub fn restart_all(&self) -> usize {
        self.restarting.store(true, Ordering::SeqCst);
        let sessions: Vec<_> = match self.sessions.lock() {
            Ok(s) => s.values().cloned().collect(),
            Err(_) => Vec::new(),
        };
        for session in &sessions {
            session.do_send(crate::drain::Restart);
        }
        sessions.len()
    }

    /// Sessions still open (a restart waits for them).
    pub fn open(&self) -> usize {
        self.sessions.lock().map_or(0, |s| s.len())
    }

    fn find(&self, sid: &str) -> Option<Addr<SioSession<H>>> {
        self.sessions.lock().ok()?.get(sid).cloned()
    }

    fn forget(&self, sid: &str) {
        if let Ok(mut s) = self.sessions.lock() {
            s.remove(sid);
        }
    }

    fn park(&self, pid: String, parked: H::Parked) {
        let Some(window) = self.settings.recovery else {
            return;
        };
        H::share_parked(&self.app, &pid, &parked, window);
        if let Ok(mut p) = self.parked.lock() {
            p.retain(|_, (at, _)| at.elapsed() < window);
            p.insert(pid, (Instant::now(), parked));
        }
    }

    /// A socket ended for good: it is not to be recovered anywhere.
    fn unshare(&self, pid: &str) {
        if self.settings.recovery.is_some() {
            H::drop_shared(&self.app, pid);
        }
    }

    /// The state parked under `pid`. The shared copy (several processes) comes first:
    /// it is this process's own last one, or newer if the client was recovered by
    /// another process since; the copy here serves when there is no shared one.
    async fn unpark(&self, pid: &str) -> Option<H::Parked> {
        let window = self.settings.recovery?;
        let here = self.parked.lock().ok().and_then(|mut all| {
            all.retain(|_, (at, _)| at.elapsed() < window);
            all.remove(pid)
        });
        match H::take_shared(&self.app, pid).await {
            Some(shared) => Some(shared),
            None => here.map(|(_, parked)| parked),
        }
    }

    fn start_session(
        self: &Arc<Self>,
        websocket: Option<websocket::SocketOut>,
        remote_ip: Option<IpAddr>,
    ) -> (String, Addr<SioSession<H>>, packet::Frame) {
        let sid = random_id();
        let session = SioSession::new(sid.clone(), self.clone(), websocket, remote_ip);
        let open = session.open_packet();
        let addr = session.start();
        if let Ok(mut s) = self.sessions.lock() {
            s.insert(sid.clone(), addr.clone());
        }
        (sid, addr, open)
    }
}

#[derive(serde::Deserialize)]
struct EngineQuery {
    #[serde(rename = "EIO")]
    eio: Option<String>,
    transport: Option<String>,
    sid: Option<String>,
}

fn error_response(e: EngineError, cors: &Option<String>) -> HttpResponse {
    let mut res =
        HttpResponseBuilder::new(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST));
    add_cors(&mut res, cors);
    res.json(json!({"code": e.code, "message": e.message}))
}

/// Polling is plain HTTP, so browsers need CORS to reach it from another origin; the
/// allow-list is the one WebSocket upgrades are checked against.
fn add_cors(res: &mut HttpResponseBuilder, origin: &Option<String>) {
    if let Some(origin) = origin {
        res.insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.as_str()))
            .insert_header((header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true"))
            .insert_header((header::VARY, "Origin"));
    }
}

/// `/socket.io/`: every Engine.IO request, both transports.
pub async fn endpoint<H: SocketHandler>(
    req: HttpRequest,
    body: web::Payload,
    engine: web::Data<Arc<Engine<H>>>,
) -> HttpResponse {
    let engine = engine.get_ref().clone();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    if let Err(why) = engine.settings.origins.check(origin.as_deref(), host) {
        log::warn!("refused a Socket.IO request: {why}");
        return error_response(EngineError::FORBIDDEN, &None);
    }
    if req.method() == Method::OPTIONS {
        let mut res = HttpResponse::NoContent();
        add_cors(&mut res, &origin);
        return res
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"))
            .finish();
    }
    let query = web::Query::<EngineQuery>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or(EngineQuery {
            eio: None,
            transport: None,
            sid: None,
        });
    if query.eio.as_deref() != Some("4") {
        return error_response(EngineError::UNSUPPORTED_PROTOCOL_VERSION, &origin);
    }
    let websocket = match query.transport.as_deref() {
        Some("polling") => false,
        Some("websocket") => true,
        _ => return error_response(EngineError::UNKNOWN_TRANSPORT, &origin),
    };
    let result = match (query.sid, websocket) {
        (None, _) if req.method() != Method::GET => Err(EngineError::BAD_HANDSHAKE_METHOD),
        (None, _) if engine.restarting.load(Ordering::SeqCst) => Err(EngineError::RESTARTING),
        (None, _) if !H::admit(&engine.app, &req) => Err(EngineError::TOO_MANY_REQUESTS),
        (None, false) => {
            let (_, _, open) = engine.start_session(None, peer_ip(&engine, &req));
            Ok(text_response(packet::encode_payload(&[open]), &origin))
        }
        (None, true) => websocket_open(&engine, &req),
        (Some(sid), websocket) => match engine.find(&sid) {
            None => Err(EngineError::UNKNOWN_SID),
            Some(session) if websocket => websocket_upgrade(&engine, session, &req).await,
            Some(session) if req.method() == Method::GET => poll(session, &origin).await,
            Some(session) if req.method() == Method::POST => {
                post(&engine, session, body, &origin).await
            }
            Some(_) => Err(EngineError::BAD_REQUEST),
        },
    };
    result.unwrap_or_else(|e| error_response(e, &origin))
}

/// The client's address (behind a trusted proxy, the one it names).
fn peer_ip<H: SocketHandler>(engine: &Engine<H>, req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr().map(|a| a.ip());
    engine.settings.proxies.client_ip(peer, req.headers())
}

fn text_response(body: String, origin: &Option<String>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    add_cors(&mut res, origin);
    res.content_type("text/plain; charset=UTF-8").body(body)
}

/// The 101 response, the session's handle on the socket, and the socket itself.
type AcceptedWebSocket = (
    HttpResponse,
    websocket::SocketOut,
    Addr<websocket::SioSocket>,
);

fn accept_websocket<H: SocketHandler>(
    engine: &Engine<H>,
    req: &HttpRequest,
) -> Result<AcceptedWebSocket, EngineError> {
    let s = &engine.settings;
    websocket::accept(req, s.max_payload, s.outbound_queue).map_err(|_| EngineError::BAD_REQUEST)
}

fn websocket_open<H: SocketHandler>(
    engine: &Arc<Engine<H>>,
    req: &HttpRequest,
) -> Result<HttpResponse, EngineError> {
    let (res, out, socket) = accept_websocket(engine, req)?;
    // The open packet goes first, before the session can queue anything else.
    let (_, addr, open) = engine.start_session(Some(out.clone()), peer_ip(engine, req));
    out.try_send(open);
    socket.do_send(websocket::AttachSession(addr.recipient()));
    Ok(res)
}

async fn websocket_upgrade<H: SocketHandler>(
    engine: &Arc<Engine<H>>,
    session: Addr<SioSession<H>>,
    req: &HttpRequest,
) -> Result<HttpResponse, EngineError> {
    let (res, out, socket) = accept_websocket(engine, req)?;
    match session.send(engine_session::Upgrade(out.clone())).await {
        Ok(Ok(())) => socket.do_send(websocket::AttachSession(session.recipient())),
        // Already upgraded, or another probe under way: as in the reference server,
        // this socket is accepted and closed at once.
        Ok(Err(_)) => out.end(),
        Err(_) => return Err(EngineError::UNKNOWN_SID),
    }
    Ok(res)
}

async fn poll<H: SocketHandler>(
    session: Addr<SioSession<H>>,
    origin: &Option<String>,
) -> Result<HttpResponse, EngineError> {
    let rx = session
        .send(engine_session::Poll)
        .await
        .map_err(|_| EngineError::UNKNOWN_SID)??;
    let body = rx.await.map_err(|_| EngineError::BAD_REQUEST)??;
    Ok(text_response(body, origin))
}

async fn post<H: SocketHandler>(
    engine: &Engine<H>,
    session: Addr<SioSession<H>>,
    mut body: web::Payload,
    origin: &Option<String>,
) -> Result<HttpResponse, EngineError> {
    let limit = engine.settings.max_payload;
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| EngineError::BAD_REQUEST)?;
        if buf.len() + chunk.len() > limit {
            session.do_send(engine_session::Kill);
            return Err(EngineError::PAYLOAD_TOO_LARGE);
        }
        buf.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(buf.to_vec()).map_err(|_| {
        session.do_send(engine_session::Kill);
        EngineError::BAD_REQUEST
    })?;
    session
        .send(engine_session::PollData(text))
        .await
        .map_err(|_| EngineError::UNKNOWN_SID)??;
    let mut res = HttpResponse::Ok();
    add_cors(&mut res, origin);
    Ok(res.content_type("text/html").body("ok"))
}
