//! The WebSocket transport of an Engine.IO session: one connection actor per socket
//! (actix-web-actors, like every connection), which hands whole messages to its
//! session and writes the frames the session gives it. The session may live on
//! another worker thread (an upgrade from polling arrives wherever it arrives), so the
//! two talk by messages: `Inbound` one way, `Out` through the socket's bounded mailbox
//! the other.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use actix::dev::SendError;
use actix::prelude::*;
use actix_web::{HttpRequest, HttpResponse};
use actix_web_actors::ws::{self, CloseCode, CloseReason, ProtocolError};
use bytes::Bytes;
use bytestring::ByteString;

use super::packet::Frame;
use crate::transport::fragments::{self, FragmentError, Fragments};
use crate::transport::{handover, ws_io};

/// What the socket hands its session.
#[derive(Debug)]
pub enum InboundItem {
    Text(ByteString),
    Binary(Bytes),
    /// The socket closed or broke; always the last item.
    Closed,
    /// The socket was refused with this close code (1009 for a message over
    /// `maxPayload`, 1002 for fragments out of order, 1007 for text not UTF-8).
    Refused(u16),
}

/// One item for the session.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Inbound(pub InboundItem);

/// A frame for the client, or the end.
#[derive(Message)]
#[rtype(result = "()")]
pub enum Out {
    Frame(Frame),
    /// Close without a code (the session is over, or this socket is not wanted).
    End,
}

static SOCKET_IDS: AtomicU64 = AtomicU64::new(1);

/// A session's handle on a WebSocket: frames go out through the socket actor's
/// bounded mailbox, which is the client's outbound queue.
#[derive(Clone)]
pub struct SocketOut {
    recipient: Recipient<Out>,
    /// Frames handed over and not yet written.
    queued: Arc<AtomicUsize>,
    id: u64,
}

impl SocketOut {
    /// Queue a frame; false when the queue is full (the client is not reading).
    pub fn try_send(&self, frame: Frame) -> bool {
        let sent = self.recipient.try_send(Out::Frame(frame)).is_ok();
        if sent {
            self.queued.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    /// Close the socket (it is closed at once, whatever is queued).
    pub fn end(&self) {
        self.recipient.do_send(Out::End);
    }

    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    pub fn same_socket(&self, other: &SocketOut) -> bool {
        self.id == other.id
    }
}

/// Where a socket's messages go: its session, once it is known.
pub type SessionInbox = Recipient<Inbound>;

/// Attach the socket to its session (sent right after the upgrade is accepted).
#[derive(Message)]
#[rtype(result = "()")]
pub struct AttachSession(pub SessionInbox);

pub struct SioSocket {
    session: Option<SessionInbox>,
    /// Messages that came before the session was attached.
    early: Vec<InboundItem>,
    fragments: Fragments,
    queued: Arc<AtomicUsize>,
    max_payload: usize,
    outbound_queue: usize,
    /// A close frame has gone out; the session has been told the socket is over.
    closed: bool,
    told: bool,
}

/// Accept a WebSocket upgrade; its messages go to the session attached to it.
pub fn accept(
    req: &HttpRequest,
    max_payload: usize,
    outbound_queue: usize,
) -> Result<(HttpResponse, SocketOut, Addr<SioSocket>), actix_web::Error> {
    let queued = Arc::new(AtomicUsize::new(0));
    let socket = SioSocket {
        session: None,
        early: Vec::new(),
        fragments: Fragments::new(max_payload),
        queued: queued.clone(),
        max_payload,
        outbound_queue,
        closed: false,
        told: false,
    };
    let (res, addr) = handover::accept(req, max_payload, socket, None)?;
    let out = SocketOut {
        recipient: addr.clone().recipient(),
        queued,
        id: SOCKET_IDS.fetch_add(1, Ordering::Relaxed),
    };
    Ok((res, out, addr))
}

impl SioSocket {
    /// Hand a message to the session: at once while its mailbox has room, else
    /// waiting for it (which pushes back on a client that sends faster than its
    /// session handles). Order is kept either way: there is one sender.
    fn hand_over(&mut self, item: InboundItem, ctx: &mut ws::WebsocketContext<Self>) {
        let Some(session) = &self.session else {
            return self.early.push(item);
        };
        if matches!(item, InboundItem::Closed | InboundItem::Refused(_)) {
            self.told = true;
        }
        match session.try_send(Inbound(item)) {
            Ok(()) => {}
            Err(SendError::Full(msg)) => {
                let sent = session.send(msg);
                ctx.wait(actix::fut::wrap_future(sent).map(
                    |res, _, ctx: &mut ws::WebsocketContext<Self>| {
                        if res.is_err() {
                            ctx.stop();
                        }
                    },
                ));
            }
            Err(SendError::Closed(_)) => ctx.stop(),
        }
    }

    fn close(&mut self, code: Option<u16>, ctx: &mut ws::WebsocketContext<Self>) {
        if !self.closed {
            self.closed = true;
            ctx.close(code.map(|c| CloseReason {
                code: CloseCode::from(c),
                description: None,
            }));
        }
        ctx.stop();
    }

    /// A message this transport refuses: the close code, and the session told why.
    fn refuse(&mut self, code: u16, ctx: &mut ws::WebsocketContext<Self>) {
        self.hand_over(InboundItem::Refused(code), ctx);
        self.close(Some(code), ctx);
    }
}

impl Actor for SioSocket {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // The mailbox is the client's outbound queue (`SocketOut::try_send`).
        ctx.set_mailbox_capacity(self.outbound_queue.max(1));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        if let (Some(session), false) = (&self.session, self.told) {
            session.do_send(Inbound(InboundItem::Closed));
        }
    }
}

impl Handler<AttachSession> for SioSocket {
    type Result = ();
    fn handle(&mut self, msg: AttachSession, ctx: &mut Self::Context) {
        self.session = Some(msg.0);
        for item in std::mem::take(&mut self.early) {
            self.hand_over(item, ctx);
        }
    }
}

impl Handler<Out> for SioSocket {
    type Result = ();
    fn handle(&mut self, msg: Out, ctx: &mut Self::Context) {
        match msg {
            Out::Frame(frame) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                match frame {
                    Frame::Text(t) => ctx.text(t),
                    Frame::Binary(b) => ctx.binary(b),
                    Frame::Pong(p) => ctx.pong(&p),
                    Frame::Close(code) => self.close(Some(code), ctx),
                }
            }
            Out::End => {
                // The session is done with this socket: it need not hear of its close.
                self.told = true;
                self.close(None, ctx);
            }
        }
    }
}

impl StreamHandler<Result<ws::Message, ProtocolError>> for SioSocket {
    fn handle(&mut self, item: Result<ws::Message, ProtocolError>, ctx: &mut Self::Context) {
        let item = match item {
            Ok(ws::Message::Text(_) | ws::Message::Binary(_)) if self.fragments.in_progress() => {
                return self.refuse(FragmentError::Protocol("").close_code(), ctx);
            }
            Ok(ws::Message::Text(t)) => InboundItem::Text(t),
            Ok(ws::Message::Binary(b)) => InboundItem::Binary(b),
            Ok(ws::Message::Continuation(item)) => match self.fragments.push(item) {
                Ok(None) => return,
                Ok(Some(fragments::Message::Text(t))) => InboundItem::Text(t),
                Ok(Some(fragments::Message::Binary(b))) => InboundItem::Binary(b),
                Err(e) => return self.refuse(e.close_code(), ctx),
            },
            Ok(ws::Message::Ping(p)) => return ctx.pong(&p),
            Ok(ws::Message::Pong(_) | ws::Message::Nop) => return,
            Err(ProtocolError::Overflow) => {
                log::info!(
                    "a Socket.IO WebSocket message over {} bytes",
                    self.max_payload
                );
                return self.refuse(FragmentError::TooLarge.close_code(), ctx);
            }
            Ok(ws::Message::Close(reason)) => {
                // Answer the client's close, then the session hears of it.
                self.closed = true;
                ctx.close(reason);
                InboundItem::Closed
            }
            Err(e) if ws_io::is_not_utf8(&e) => {
                return self.refuse(FragmentError::NotUtf8.close_code(), ctx);
            }
            Err(_) => InboundItem::Closed,
        };
        let last = matches!(item, InboundItem::Closed);
        self.hand_over(item, ctx);
        if last {
            ctx.stop();
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        ctx.stop();
    }
}
