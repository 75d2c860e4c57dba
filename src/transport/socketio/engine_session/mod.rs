//! One actor per Engine.IO session: its transport (long-polling, WebSocket, and the
//! upgrade between them), heartbeat, size limits, and the Socket.IO namespaces
//! multiplexed on it. What a namespace's events mean is its `SocketHandler`'s business.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use bytestring::ByteString;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::packet::{self, EnginePacket, Frame, Kind, SioPacket};
use super::websocket::SocketOut;
use crate::metrics::{Ended, Transport as Carrier};

mod io;
mod transports;

use super::{random_id, Engine, EngineError, SocketHandler};
pub use io::Io;
pub use transports::{Kill, Poll, PollData, Upgrade};

/// Packets held while a CONNECT or join completes, at most.
const MAX_BACKLOG: usize = 256;

/// A CONNECT or join that takes longer than this ends the session.
const WAIT_LIMIT: Duration = Duration::from_secs(15);

/// CONNECTs per session: namespaces come and go, but each costs an identity check.
const MAX_CONNECTS: u32 = 16;

/// An upgrade probe must finish within this (as in the reference server).
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(10);

/// On a restart mid-upgrade, how long the client may take to move to its WebSocket.
const RESTART_UPGRADE_GRACE: Duration = Duration::from_secs(2);

/// Why a namespace socket ended; only a lost transport keeps its state for recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client disconnected the namespace (a deliberate `socket.disconnect()`).
    ClientDisconnect,
    /// The server ended it.
    ServerDisconnect,
    /// The connection ended under it: closed, heartbeat timeout, network error, a slow
    /// reader, or a protocol error. As in the reference server, recoverable.
    TransportLost,
}

/// An EVENT from the client, with its binary parts.
#[derive(Debug)]
pub struct IncomingEvent {
    pub name: String,
    pub args: Vec<Value>,
    pub binaries: Vec<Bytes>,
    pub ack: Option<u64>,
}

/// The client's answer to our ack request: its arguments and their binary parts;
/// `None` if it did not answer in time.
pub type AckAnswer = Option<(Vec<Value>, Vec<Bytes>)>;

type AckCallback<H> = Box<dyn FnOnce(&mut H, &mut Io<'_, H>, AckAnswer)>;

struct Socket<H: SocketHandler> {
    nsp: Arc<str>,
    handler: Option<H>,
    /// Our EVENTs waiting for the client's ACK.
    acks: HashMap<u64, AckCallback<H>>,
    next_ack: u64,
    pid: String,
}

enum Transport {
    Polling {
        queue: Vec<Frame>,
        poll: Option<oneshot::Sender<Result<String, EngineError>>>,
    },
    WebSocket(SocketOut),
}

/// A BINARY_EVENT or BINARY_ACK still collecting its attachments.
struct Partial {
    packet: SioPacket,
    parts: Vec<Bytes>,
    /// Bytes so far, the packet's text included.
    bytes: usize,
}

pub struct SioSession<H: SocketHandler> {
    sid: String,
    engine: Arc<Engine<H>>,
    transport: Transport,
    /// A WebSocket probing for the upgrade (before the client's `5`), and whether it
    /// has been answered `3probe` (polls are then ended at once with a noop).
    probe: Option<SocketOut>,
    probed: bool,
    /// The server restarts while the client is upgrading: close once it has moved.
    restart_after_upgrade: bool,
    /// The next ping, and the deadline for the pong to the last one.
    ping_timer: Option<SpawnHandle>,
    pong_deadline: Option<SpawnHandle>,
    sockets: HashMap<u64, Socket<H>>,
    by_nsp: HashMap<Arc<str>, u64>,
    partial: Option<Partial>,
    /// Work that later packets wait for (a CONNECT, a join), and the packets waiting:
    /// a polling POST may carry many packets, which must not overtake it.
    waits: usize,
    backlog: std::collections::VecDeque<(SioPacket, Vec<Bytes>)>,
    /// A socket dropped while its handler was checked out by `with_socket`.
    dropped_while_out: Option<(CloseReason, String, Arc<str>)>,
    /// CONNECTs this session has made; each costs an identity check.
    connects: u32,
    closed: bool,
    /// Why the session ends, once known (for the metrics and the access line).
    ended: Option<Ended>,
    /// For the access line: when it opened, packets received and sent.
    opened: std::time::Instant,
    received: u64,
    sent: u64,
    remote_ip: Option<std::net::IpAddr>,
}

impl<H: SocketHandler> SioSession<H> {
    pub(super) fn new(
        sid: String,
        engine: Arc<Engine<H>>,
        websocket: Option<SocketOut>,
        remote_ip: Option<std::net::IpAddr>,
    ) -> Self {
        let transport = match websocket {
            Some(tx) => Transport::WebSocket(tx),
            None => Transport::Polling {
                queue: Vec::new(),
                poll: None,
            },
        };
        SioSession {
            sid,
            engine,
            transport,
            probe: None,
            probed: false,
            restart_after_upgrade: false,
            ping_timer: None,
            pong_deadline: None,
            sockets: HashMap::new(),
            by_nsp: HashMap::new(),
            partial: None,
            waits: 0,
            backlog: std::collections::VecDeque::new(),
            dropped_while_out: None,
            connects: 0,
            closed: false,
            ended: None,
            opened: std::time::Instant::now(),
            received: 0,
            sent: 0,
            remote_ip,
        }
    }

    /// The carrier, as the metrics name it.
    fn carrier(&self) -> Carrier {
        match self.transport {
            Transport::Polling { .. } => Carrier::SocketIoPolling,
            Transport::WebSocket(_) => Carrier::SocketIoWebSocket,
        }
    }

    /// Say why the session ends (the first reason given counts).
    fn ending(&mut self, why: Ended) {
        self.ended.get_or_insert(why);
    }

    /// The Engine.IO open packet.
    pub(super) fn open_packet(&self) -> Frame {
        let s = &self.engine.settings;
        let upgrades: &[&str] = match self.transport {
            Transport::Polling { .. } => &["websocket"],
            Transport::WebSocket(_) => &[],
        };
        let open = json!({
            "sid": self.sid,
            "upgrades": upgrades,
            "pingInterval": s.ping_interval.as_millis() as u64,
            "pingTimeout": s.ping_timeout.as_millis() as u64,
            "maxPayload": s.max_payload,
        });
        Frame::Text(format!("0{open}").into())
    }

    fn send_frame(&mut self, frame: Frame, ctx: &mut Context<Self>) {
        if self.closed {
            return;
        }
        let limit = self.engine.settings.outbound_queue;
        let bytes = match &frame {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
            Frame::Pong(_) | Frame::Close(_) => 0,
        };
        self.engine
            .settings
            .metrics
            .traffic(self.carrier())
            .sent(bytes);
        self.sent += 1;
        let overflow = match &mut self.transport {
            Transport::Polling { queue, poll } => {
                queue.push(frame);
                // A poll whose request went away (the client gave up) gets nothing.
                if let Some(poll) = poll.take().filter(|p| !p.is_closed()) {
                    let _ = poll.send(Ok(packet::encode_payload(&std::mem::take(queue))));
                }
                queue.len() > limit
            }
            Transport::WebSocket(out) => !out.try_send(frame),
        };
        if overflow {
            log::warn!(
                "socket.io session {} is not keeping up; closing it",
                self.sid
            );
            self.ending(Ended::SlowConsumer);
            self.engine.settings.metrics.outbound_cutoffs.inc();
            self.close(CloseReason::TransportLost, ctx);
        }
    }

    fn send_encoded(&mut self, encoded: &ByteString, ctx: &mut Context<Self>) {
        if !encoded.contains(packet::SEPARATOR) {
            return self.send_frame(Frame::Text(encoded.clone()), ctx);
        }
        for part in encoded.split(packet::SEPARATOR) {
            let frame = Frame::Text(encoded.slice_ref(part));
            self.send_frame(frame, ctx);
        }
    }

    /// Run `f` on a socket's handler (taken out while it runs, so it can use `Io`).
    pub fn with_socket(
        &mut self,
        socket: u64,
        ctx: &mut Context<Self>,
        f: impl FnOnce(&mut H, &mut Io<'_, H>),
    ) {
        let Some(s) = self.sockets.get_mut(&socket) else {
            return;
        };
        let Some(mut handler) = s.handler.take() else {
            return;
        };
        let nsp = s.nsp.clone();
        let mut io = Io {
            session: self,
            ctx,
            socket,
            nsp,
        };
        f(&mut handler, &mut io);
        if let Some(s) = self.sockets.get_mut(&socket) {
            s.handler = Some(handler);
        } else if let Some((reason, pid, nsp)) = self.dropped_while_out.take() {
            // The session closed under the handler (an overflowing queue, say): it
            // still gets its close, so the app forgets it, and may be parked.
            self.finish_socket(handler, socket, nsp, reason, pid, ctx);
        }
    }

    /// Ends every socket, forgets the session, and stops.
    pub(super) fn close(&mut self, reason: CloseReason, ctx: &mut Context<Self>) {
        if self.closed {
            return;
        }
        let ids: Vec<u64> = self.sockets.keys().copied().collect();
        for id in ids {
            self.drop_socket(id, reason, ctx);
        }
        self.closed = true;
        let carrier = self.carrier();
        self.engine.settings.metrics.connection(carrier, -1);
        let why = self.ended.unwrap_or(match reason {
            CloseReason::ClientDisconnect => Ended::ClientClosed,
            CloseReason::ServerDisconnect => Ended::ServerClosed,
            CloseReason::TransportLost => Ended::ConnectionLost,
        });
        log::info!(
            target: crate::logging::ACCESS,
            sid = self.sid.as_str(),
            transport = carrier.as_str(),
            reason = why.as_str(),
            frames_in = self.received,
            frames_out = self.sent,
            ms = self.opened.elapsed().as_millis() as u64;
            "socket.io session {} ended: {} after {:.1}s",
            self.sid,
            why.as_str(),
            self.opened.elapsed().as_secs_f64()
        );
        self.engine.forget(&self.sid);
        match &mut self.transport {
            Transport::Polling { queue, poll } => {
                if let Some(poll) = poll.take() {
                    queue.push(Frame::Text("1".into()));
                    let _ = poll.send(Ok(packet::encode_payload(queue)));
                }
            }
            Transport::WebSocket(out) => out.end(),
        }
        self.transport = Transport::Polling {
            queue: Vec::new(),
            poll: None,
        };
        if let Some(probe) = self.probe.take() {
            probe.end();
        }
        ctx.stop();
    }

    fn drop_socket(&mut self, id: u64, reason: CloseReason, ctx: &mut Context<Self>) {
        let Some(mut socket) = self.sockets.remove(&id) else {
            return;
        };
        self.by_nsp.remove(&socket.nsp);
        match socket.handler.take() {
            Some(handler) => self.finish_socket(handler, id, socket.nsp, reason, socket.pid, ctx),
            // Its handler is running (`with_socket`), which finishes it on return.
            None => self.dropped_while_out = Some((reason, socket.pid, socket.nsp)),
        }
    }

    fn finish_socket(
        &mut self,
        handler: H,
        id: u64,
        nsp: Arc<str>,
        reason: CloseReason,
        pid: String,
        ctx: &mut Context<Self>,
    ) {
        let mut io = Io {
            session: self,
            ctx,
            socket: id,
            nsp,
        };
        let parked = handler.on_close(&mut io, reason);
        match parked {
            Some(parked) if reason == CloseReason::TransportLost => self.engine.park(pid, parked),
            _ => self.engine.unshare(&pid),
        }
    }

    fn on_engine_packet(&mut self, p: EnginePacket, ctx: &mut Context<Self>) {
        let bytes = match &p {
            EnginePacket::Message(text) => text.len(),
            EnginePacket::BinaryMessage(bytes) => bytes.len(),
            _ => 1,
        };
        self.engine
            .settings
            .metrics
            .traffic(self.carrier())
            .received(bytes);
        self.received += 1;
        match p {
            EnginePacket::Pong(_) => {
                if let Some(deadline) = self.pong_deadline.take() {
                    ctx.cancel_future(deadline);
                }
                self.schedule_ping(ctx);
            }
            EnginePacket::Ping(data) => {
                self.send_frame(Frame::Text(format!("3{data}").into()), ctx)
            }
            EnginePacket::Message(text) => self.on_sio_text(&text, ctx),
            EnginePacket::BinaryMessage(bytes) => self.on_sio_binary(bytes, ctx),
            EnginePacket::Close => {
                // A poll still waiting is ended with a noop (the client is closing),
                // as the reference server does; then the session ends.
                self.end_poll_with_noop();
                self.ending(Ended::ClientClosed);
                self.close(CloseReason::TransportLost, ctx)
            }
            EnginePacket::Upgrade | EnginePacket::Noop => {}
        }
    }

    fn protocol_error(&mut self, why: &str, ctx: &mut Context<Self>) {
        log::info!("socket.io session {}: {why}; closing it", self.sid);
        self.ending(Ended::ProtocolError);
        self.close(CloseReason::TransportLost, ctx);
    }

    fn on_sio_text(&mut self, text: &str, ctx: &mut Context<Self>) {
        if self.partial.is_some() {
            return self.protocol_error("text packet while binary parts were due", ctx);
        }
        let packet = match packet::decode_sio(text) {
            Ok(p) => p,
            Err(e) => return self.protocol_error(e.0, ctx),
        };
        if packet.attachments > 0 {
            self.partial = Some(Partial {
                packet,
                parts: Vec::new(),
                bytes: text.len(),
            });
        } else {
            self.on_sio_packet(packet, Vec::new(), ctx);
        }
    }

    fn on_sio_binary(&mut self, bytes: Bytes, ctx: &mut Context<Self>) {
        let limit = self.engine.settings.max_payload;
        let Some(partial) = self.partial.as_mut() else {
            return self.protocol_error("unexpected binary packet", ctx);
        };
        // One packet with its parts is bounded like one message.
        partial.bytes += bytes.len();
        if partial.bytes > limit {
            return self.protocol_error("binary parts over maxPayload", ctx);
        }
        partial.parts.push(bytes);
        if partial.parts.len() == partial.packet.attachments {
            if let Some(Partial { packet, parts, .. }) = self.partial.take() {
                self.on_sio_packet(packet, parts, ctx);
            }
        }
    }

    /// A `wait` finished: packets that arrived meanwhile go on, in order.
    fn wait_done(&mut self, ctx: &mut Context<Self>) {
        self.waits = self.waits.saturating_sub(1);
        while self.waits == 0 && !self.closed {
            let Some((p, parts)) = self.backlog.pop_front() else {
                break;
            };
            self.dispatch(p, parts, ctx);
        }
    }

    fn on_sio_packet(&mut self, p: SioPacket, parts: Vec<Bytes>, ctx: &mut Context<Self>) {
        if self.waits > 0 || !self.backlog.is_empty() {
            if self.backlog.len() >= MAX_BACKLOG {
                return self.protocol_error("too many packets while busy", ctx);
            }
            self.backlog.push_back((p, parts));
            return;
        }
        self.dispatch(p, parts, ctx);
    }

    fn dispatch(&mut self, p: SioPacket, parts: Vec<Bytes>, ctx: &mut Context<Self>) {
        let socket = self.by_nsp.get(p.nsp.as_str()).copied();
        match (p.kind, socket) {
            (Kind::Connect, None) => self.connect(p, ctx),
            // A second CONNECT to a connected namespace changes nothing.
            (Kind::Connect, Some(_)) => {}
            // The Engine.IO connection stays open (and keeps pinging) after the last
            // namespace goes, as in the reference server: the client may connect again.
            (Kind::Disconnect, Some(id)) => {
                self.drop_socket(id, CloseReason::ClientDisconnect, ctx)
            }
            (Kind::Event | Kind::BinaryEvent, Some(id)) => {
                let Some(Value::Array(mut args)) = p.data else {
                    return;
                };
                let name = match args.remove(0) {
                    Value::String(s) => s,
                    _ => return,
                };
                let event = IncomingEvent {
                    name,
                    args,
                    binaries: parts,
                    ack: p.id,
                };
                self.with_socket(id, ctx, |h, io| h.on_event(io, event));
            }
            (Kind::Ack | Kind::BinaryAck, Some(id)) => {
                let callback =
                    p.id.and_then(|ack| self.sockets.get_mut(&id)?.acks.remove(&ack));
                let args = match p.data {
                    Some(Value::Array(a)) => a,
                    _ => Vec::new(),
                };
                if let Some(callback) = callback {
                    self.with_socket(id, ctx, |h, io| callback(h, io, Some((args, parts))));
                }
            }
            // Packets for a namespace the client has not joined are dropped, as the
            // reference server does.
            (_, None) | (Kind::ConnectError, _) => {}
        }
    }

    fn connect(&mut self, p: SioPacket, ctx: &mut Context<Self>) {
        let nsp = p.nsp;
        if !H::serves(&nsp) {
            let err = json!({"message": "Invalid namespace"});
            let text = packet::encode_sio(Kind::ConnectError, &nsp, None, Some(&err));
            return self.send_frame(Frame::Text(text.into()), ctx);
        }
        self.connects += 1;
        if self.connects > MAX_CONNECTS {
            let err = json!({"message": "Too many connections on this session"});
            let text = packet::encode_sio(Kind::ConnectError, &nsp, None, Some(&err));
            return self.send_frame(Frame::Text(text.into()), ctx);
        }
        let mut auth = p.data.unwrap_or_else(|| json!({}));
        // Connection state recovery: the private id we gave this client's last socket.
        let asked = auth
            .as_object_mut()
            .and_then(|a| a.remove("pid"))
            .and_then(|pid| pid.as_str().map(str::to_owned));
        let offset = auth
            .as_object_mut()
            .and_then(|a| a.remove("offset"))
            .and_then(|o| o.as_str().map(str::to_owned));
        let id = self.engine.next_id();
        let (engine, session, remote_ip) = (self.engine.clone(), ctx.address(), self.remote_ip);
        let name = nsp.clone();
        let connect = async move {
            let restored = match &asked {
                Some(pid) => engine.unpark(pid).await,
                None => None,
            };
            let wanted = asked.is_some();
            let old_pid = asked.filter(|_| restored.is_some());
            let request = super::ConnectRequest {
                nsp: name,
                socket_id: id,
                auth,
                restored,
                offset,
                session,
                remote_ip,
            };
            (wanted, old_pid, H::connect(&engine.app, request).await)
        };
        let fut = tokio::time::timeout(WAIT_LIMIT, connect);
        self.waits += 1;
        ctx.spawn(fut.into_actor(self).map(move |res, act, ctx| {
            if act.closed {
                return;
            }
            match res {
                Ok((wanted, old_pid, res)) => {
                    if wanted {
                        let recovered = matches!(res, Ok((_, true)));
                        act.engine.settings.metrics.recovery(recovered);
                    }
                    act.finish_connect(id, nsp, old_pid, res, ctx);
                    act.wait_done(ctx);
                }
                Err(_) => act.protocol_error("CONNECT took too long", ctx),
            }
        }));
    }

    fn finish_connect(
        &mut self,
        id: u64,
        nsp: String,
        old_pid: Option<String>,
        res: Result<(H, bool), super::ConnectError>,
        ctx: &mut Context<Self>,
    ) {
        match res {
            Ok((handler, recovered)) => {
                let nsp: Arc<str> = nsp.into();
                // The same private id tells the client its state was recovered; without
                // recovery there is no private id at all.
                let pid = old_pid.filter(|_| recovered).unwrap_or_else(random_id);
                let reply = match self.engine.settings.recovery {
                    Some(_) => json!({"sid": random_id(), "pid": pid}),
                    None => json!({"sid": random_id()}),
                };
                self.by_nsp.insert(nsp.clone(), id);
                self.sockets.insert(
                    id,
                    Socket {
                        nsp: nsp.clone(),
                        handler: Some(handler),
                        acks: HashMap::new(),
                        next_ack: 0,
                        pid,
                    },
                );
                let text = packet::encode_sio(Kind::Connect, &nsp, None, Some(&reply));
                self.send_frame(Frame::Text(text.into()), ctx);
                self.with_socket(id, ctx, |h, io| h.on_connected(io));
            }
            Err(e) => {
                let text = packet::encode_sio(Kind::ConnectError, &nsp, None, Some(&e.to_json()));
                self.send_frame(Frame::Text(text.into()), ctx);
            }
        }
    }

    /// The next ping goes `pingInterval` after the session opened or the last pong
    /// came; the session ends `pingTimeout` after a ping that gets no pong. Timers for
    /// both deadlines, not a periodic check.
    fn schedule_ping(&mut self, ctx: &mut Context<Self>) {
        if let Some(timer) = self.ping_timer.take() {
            ctx.cancel_future(timer);
        }
        let s = &self.engine.settings;
        let timeout = s.ping_timeout;
        self.ping_timer = Some(ctx.run_later(s.ping_interval, move |act, ctx| {
            act.ping_timer = None;
            act.send_frame(Frame::Text("2".into()), ctx);
            if act.pong_deadline.is_none() {
                act.pong_deadline = Some(ctx.run_later(timeout, |act, ctx| {
                    act.pong_deadline = None;
                    act.ending(Ended::HeartbeatTimeout);
                    act.protocol_error("ping timeout", ctx)
                }));
            }
        }));
    }
}

impl<H: SocketHandler> Actor for SioSession<H> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let s = &self.engine.settings;
        ctx.set_mailbox_capacity(s.outbound_queue);
        s.metrics.connection(self.carrier(), 1);
        ctx.run_later(s.connect_timeout, |act, ctx| {
            if act.sockets.is_empty() {
                act.protocol_error("no namespace connected in time", ctx);
            }
        });
        self.schedule_ping(ctx);
    }

    fn stopped(&mut self, ctx: &mut Self::Context) {
        self.close(CloseReason::TransportLost, ctx);
    }
}

impl<H: SocketHandler> Handler<crate::drain::Restart> for SioSession<H> {
    type Result = ();
    fn handle(&mut self, _: crate::drain::Restart, ctx: &mut Context<Self>) {
        self.ending(Ended::ServerRestart);
        if self.probed {
            // Answered `3probe`, socket.io-client is pausing its polling to move. Ending
            // the probe now would leave it with neither transport (it pauses all the
            // same and hears nothing until its ping timeout), so let it move first.
            self.restart_after_upgrade = true;
            ctx.run_later(RESTART_UPGRADE_GRACE, |act, ctx| {
                act.close(CloseReason::TransportLost, ctx)
            });
            return;
        }
        self.close(CloseReason::TransportLost, ctx);
    }
}
