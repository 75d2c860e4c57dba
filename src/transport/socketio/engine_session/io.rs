//! What a `SocketHandler` may do with its socket while it handles something: emit,
//! ack, ask for acks, run futures, disconnect.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use bytes::Bytes;
use bytestring::ByteString;
use serde_json::{json, Value};

use super::{AckAnswer, CloseReason, SioSession, Transport, WAIT_LIMIT};
use crate::transport::socketio::packet::{self, Frame, Kind};
use crate::transport::socketio::SocketHandler;

/// What a handler may do with its socket while it handles something.
pub struct Io<'a, H: SocketHandler> {
    pub(super) session: &'a mut SioSession<H>,
    pub(super) ctx: &'a mut Context<SioSession<H>>,
    pub(super) socket: u64,
    pub(super) nsp: Arc<str>,
}

impl<H: SocketHandler> Io<'_, H> {
    /// This socket's id (unique per server: also its connection id in the app).
    pub fn id(&self) -> u64 {
        self.socket
    }

    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// Connection state recovery: this socket's private id, and how long its state is
    /// kept once the socket is lost (`None`: recovery is off).
    pub fn recovery(&self) -> Option<(&str, std::time::Duration)> {
        let window = self.session.engine.settings.recovery?;
        let socket = self.session.sockets.get(&self.socket)?;
        Some((socket.pid.as_str(), window))
    }

    /// Frames waiting to go out to this client, and how many it may have before it
    /// counts as stuck (for pacing bulk sends).
    pub fn queued(&self) -> (usize, usize) {
        let queued = match &self.session.transport {
            Transport::Polling { queue, .. } => queue.len(),
            Transport::WebSocket(out) => out.queued(),
        };
        (queued, self.session.engine.settings.outbound_queue)
    }

    pub fn address(&self) -> Addr<SioSession<H>> {
        self.ctx.address()
    }

    /// Emit an event with one argument.
    pub fn emit(&mut self, event: &str, data: &Value) {
        let text = packet::encode_event(&self.nsp, event, &[data]);
        self.session.send_frame(Frame::Text(text.into()), self.ctx);
    }

    /// Send pre-encoded Engine.IO messages (several joined by `\x1e`), shared by every
    /// recipient of a broadcast.
    pub fn send_encoded(&mut self, encoded: &ByteString) {
        self.session.send_encoded(encoded, self.ctx);
    }

    /// Emit an event with any arguments; `parts` are the binary attachments its
    /// arguments refer to by `{"_placeholder":true,"num":n}` (BINARY_EVENT).
    pub fn emit_with_parts(&mut self, event: &str, args: Vec<Value>, parts: Vec<Bytes>) {
        let mut array = Vec::with_capacity(args.len() + 1);
        array.push(Value::String(event.to_owned()));
        array.extend(args);
        let frames =
            packet::encode_binary(Kind::Event, &self.nsp, None, &Value::Array(array), parts);
        for frame in frames {
            self.session.send_frame(frame, self.ctx);
        }
    }

    /// Answer the client's ack request.
    pub fn ack(&mut self, id: u64, args: Vec<Value>) {
        self.ack_with_parts(id, args, Vec::new());
    }

    /// Answer an ack request with binary attachments (BINARY_ACK).
    pub fn ack_with_parts(&mut self, id: u64, args: Vec<Value>, parts: Vec<Bytes>) {
        let frames =
            packet::encode_binary(Kind::Ack, &self.nsp, Some(id), &Value::Array(args), parts);
        for frame in frames {
            self.session.send_frame(frame, self.ctx);
        }
    }

    /// Emit an event and have `then` called with the client's ACK arguments, or with
    /// `None` if none came within `timeout`.
    pub fn emit_with_ack(
        &mut self,
        event: &str,
        data: &Value,
        timeout: Duration,
        then: impl FnOnce(&mut H, &mut Io<'_, H>, AckAnswer) + 'static,
    ) {
        let Some(socket) = self.session.sockets.get_mut(&self.socket) else {
            return;
        };
        let id = socket.next_ack;
        socket.next_ack += 1;
        socket.acks.insert(id, Box::new(then));
        let array = json!([event, data]);
        let text = packet::encode_sio(Kind::Event, &self.nsp, Some(id), Some(&array));
        self.session.send_frame(Frame::Text(text.into()), self.ctx);
        let sock = self.socket;
        self.ctx.run_later(timeout, move |act, ctx| {
            let callback = act.sockets.get_mut(&sock).and_then(|s| s.acks.remove(&id));
            if let Some(callback) = callback {
                act.with_socket(sock, ctx, |h, io| callback(h, io, None));
            }
        });
    }

    /// Run `fut`, then `then` with its output, while other packets go on being handled.
    pub fn spawn<T: 'static>(
        &mut self,
        fut: impl std::future::Future<Output = T> + 'static,
        then: impl FnOnce(&mut H, &mut Io<'_, H>, T) + 'static,
    ) {
        let sock = self.socket;
        let f = fut
            .into_actor(&*self.session)
            .map(move |out, act, ctx| act.with_socket(sock, ctx, |h, io| then(h, io, out)));
        self.ctx.spawn(f);
    }

    /// Like `spawn`, but this session's later packets wait until it is done (joins and
    /// registrations they depend on). Past `WAIT_LIMIT` the session is closed.
    pub fn wait<T: 'static>(
        &mut self,
        fut: impl std::future::Future<Output = T> + 'static,
        then: impl FnOnce(&mut H, &mut Io<'_, H>, T) + 'static,
    ) {
        let sock = self.socket;
        self.session.waits += 1;
        let fut = tokio::time::timeout(WAIT_LIMIT, fut);
        let f = fut
            .into_actor(&*self.session)
            .map(move |out, act, ctx| match out {
                Ok(out) => {
                    act.with_socket(sock, ctx, |h, io| then(h, io, out));
                    act.wait_done(ctx);
                }
                Err(_) => act.protocol_error("a request took too long", ctx),
            });
        // Spawned, not `ctx.wait`: deliveries and polls go on meanwhile; only this
        // session's incoming packets wait (the backlog).
        self.ctx.spawn(f);
    }

    /// End this socket from the server side (a DISCONNECT packet to the client).
    pub fn disconnect(&mut self) {
        let text = packet::encode_sio(Kind::Disconnect, &self.nsp, None, None);
        self.session.send_frame(Frame::Text(text.into()), self.ctx);
        // At once, so a CONNECT right behind it finds the namespace free; the handler,
        // checked out while it runs, is closed when it returns (`with_socket`).
        self.session
            .drop_socket(self.socket, CloseReason::ServerDisconnect, self.ctx);
    }

    /// The carrier the session uses now, as the metrics name it.
    pub fn carrier(&self) -> crate::metrics::Transport {
        self.session.carrier()
    }

    /// Why the session is ending, when it is and the session knows.
    pub fn ended(&self) -> Option<crate::metrics::Ended> {
        self.session.ended
    }

    /// End the whole Engine.IO session (for a broken or over-limit connection).
    pub fn close_session(&mut self) {
        self.session.close(CloseReason::TransportLost, self.ctx);
    }
}
