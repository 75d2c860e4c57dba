//! How a session's packets travel: long-polling requests, the WebSocket, and the
//! upgrade from one to the other (2probe, 3probe, a noop to the pending poll, 5).

use actix::prelude::*;
use tokio::sync::oneshot;

use super::{CloseReason, SioSession, Transport, UPGRADE_TIMEOUT};
use crate::transport::socketio::packet::{self, EnginePacket, Frame};
use crate::transport::socketio::websocket::{Inbound, InboundItem, SocketOut};
use crate::transport::socketio::{EngineError, SocketHandler};

/// A long-polling GET: answered with queued packets now, or when some arrive.
#[derive(Message)]
#[rtype(result = "Result<oneshot::Receiver<Result<String, EngineError>>, EngineError>")]
pub struct Poll;

impl<H: SocketHandler> Handler<Poll> for SioSession<H> {
    type Result = Result<oneshot::Receiver<Result<String, EngineError>>, EngineError>;

    fn handle(&mut self, _: Poll, ctx: &mut Self::Context) -> Self::Result {
        let probed = self.probed;
        let Transport::Polling { queue, poll } = &mut self.transport else {
            return Err(EngineError::BAD_REQUEST);
        };
        if poll.as_ref().is_some_and(|p| p.is_closed()) {
            *poll = None;
        }
        if poll.is_some() {
            // Two polls at once: the spec says the session is over.
            self.close(CloseReason::TransportLost, ctx);
            return Err(EngineError::BAD_REQUEST);
        }
        let (tx, rx) = oneshot::channel();
        if probed {
            // Upgrading: the client is pausing polling and needs this poll to end.
            let _ = tx.send(Ok("6".to_owned()));
        } else if queue.is_empty() {
            *poll = Some(tx);
        } else {
            let _ = tx.send(Ok(packet::encode_payload(&std::mem::take(queue))));
        }
        Ok(rx)
    }
}

/// A long-polling POST body.
#[derive(Message)]
#[rtype(result = "Result<(), EngineError>")]
pub struct PollData(pub String);

impl<H: SocketHandler> Handler<PollData> for SioSession<H> {
    type Result = Result<(), EngineError>;

    fn handle(&mut self, msg: PollData, ctx: &mut Self::Context) -> Self::Result {
        if !matches!(self.transport, Transport::Polling { .. }) && self.probe.is_none() {
            return Err(EngineError::BAD_REQUEST);
        }
        match packet::decode_payload(&msg.0) {
            Ok(packets) => {
                for p in packets {
                    if self.closed {
                        break;
                    }
                    self.on_engine_packet(p, ctx);
                }
                Ok(())
            }
            Err(e) => {
                self.protocol_error(e.0, ctx);
                Err(EngineError::BAD_REQUEST)
            }
        }
    }
}

/// The session ends (the HTTP layer refused an over-large body, say).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Kill;

impl<H: SocketHandler> Handler<Kill> for SioSession<H> {
    type Result = ();
    fn handle(&mut self, _: Kill, ctx: &mut Self::Context) {
        self.close(CloseReason::TransportLost, ctx);
    }
}

/// A WebSocket that wants to take over a polling session.
#[derive(Message)]
#[rtype(result = "Result<(), EngineError>")]
pub struct Upgrade(pub SocketOut);

impl<H: SocketHandler> Handler<Upgrade> for SioSession<H> {
    type Result = Result<(), EngineError>;

    fn handle(&mut self, msg: Upgrade, ctx: &mut Self::Context) -> Self::Result {
        if !matches!(self.transport, Transport::Polling { .. }) || self.probe.is_some() {
            return Err(EngineError::BAD_REQUEST);
        }
        let probe = msg.0;
        self.probe = Some(probe.clone());
        ctx.run_later(UPGRADE_TIMEOUT, move |act, _| {
            // Still probing with this socket: give up on it.
            if act.probe.as_ref().is_some_and(|p| p.same_socket(&probe)) {
                probe.end();
                act.probe = None;
                act.probed = false;
            }
        });
        Ok(())
    }
}

impl<H: SocketHandler> SioSession<H> {
    /// A frame from the session's WebSocket (direct, or probing for an upgrade).
    pub(super) fn on_websocket(&mut self, item: InboundItem, ctx: &mut Context<Self>) {
        if self.closed {
            return;
        }
        let packet = match item {
            InboundItem::Text(t) => packet::decode_text(&t),
            InboundItem::Binary(b) => Ok(EnginePacket::BinaryMessage(b)),
            InboundItem::Closed => {
                if self.probe.take().is_some() && !self.restart_after_upgrade {
                    self.probed = false;
                    return;
                }
                return self.close(CloseReason::TransportLost, ctx);
            }
            // The socket has closed itself with the code.
            InboundItem::Refused(code) => {
                return self.protocol_error(&format!("WebSocket message refused ({code})"), ctx);
            }
        };
        let packet = match packet {
            Ok(p) => p,
            Err(e) => return self.protocol_error(e.0, ctx),
        };
        let Some(probe) = self.probe.clone() else {
            return self.on_engine_packet(packet, ctx);
        };
        // The upgrade handshake: 2probe → 3probe, a noop ends the pending poll, then
        // the client's 5 switches transports.
        match packet {
            EnginePacket::Ping(data) if data == "probe" => {
                let _ = probe.try_send(Frame::Text("3probe".into()));
                self.probed = true;
                self.end_poll_with_noop();
            }
            EnginePacket::Upgrade => {
                self.end_poll_with_noop();
                self.probe = None;
                self.probed = false;
                let metrics = self.engine.settings.metrics.clone();
                metrics.connection(self.carrier(), -1);
                let old = std::mem::replace(&mut self.transport, Transport::WebSocket(probe));
                metrics.connection(self.carrier(), 1);
                if let Transport::Polling { queue, .. } = old {
                    for frame in queue {
                        self.send_frame(frame, ctx);
                    }
                }
                if self.restart_after_upgrade {
                    self.close(CloseReason::TransportLost, ctx);
                }
            }
            _ => self.protocol_error("unexpected packet during upgrade", ctx),
        }
    }

    pub(super) fn end_poll_with_noop(&mut self) {
        if let Transport::Polling { poll, .. } = &mut self.transport {
            if let Some(poll) = poll.take() {
                let _ = poll.send(Ok("6".to_owned()));
            }
        }
    }
}

impl<H: SocketHandler> Handler<Inbound> for SioSession<H> {
    type Result = ();
    fn handle(&mut self, msg: Inbound, ctx: &mut Self::Context) {
        self.on_websocket(msg.0, ctx);
    }
}
