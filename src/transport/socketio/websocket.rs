//! The WebSocket transport: a reader and a writer task on the socket's own worker
//! thread, bridged to the session actor (which, after an upgrade from polling, may live
//! on another thread) by messages one way and a bounded channel the other.

use actix::prelude::*;
use actix_ws::{Message, ProtocolError};
use bytes::Bytes;
use bytestring::ByteString;
use tokio::sync::mpsc;

use super::packet::Frame;
use super::session::SioSession;
use super::SocketHandler;
use crate::transport::fragments::{self, FragmentError, Fragments};

#[derive(Debug)]
pub enum InboundItem {
    Text(ByteString),
    Binary(Bytes),
    /// The socket closed or broke; always the last item.
    Closed,
    /// The connection is ended with this close code: 1009 for a message over
    /// `maxPayload`, 1002 for fragments out of order, 1007 for text not UTF-8.
    Refused(u16),
}

/// One frame from the session's WebSocket.
#[derive(Message)]
#[rtype(result = "()")]
pub struct WsIn(pub InboundItem);

impl<H: SocketHandler> Handler<WsIn> for SioSession<H> {
    type Result = ();
    fn handle(&mut self, msg: WsIn, ctx: &mut Self::Context) {
        self.on_websocket(msg.0, ctx);
    }
}

/// The inbound half of an accepted WebSocket, started once its session is known.
pub struct Reader {
    stream: actix_ws::MessageStream,
    max_payload: usize,
    /// For WebSocket-level pongs, which the writer sends. Weak: when the session drops
    /// its sender, the writer must end and close the socket.
    out: mpsc::WeakSender<Frame>,
}

impl Reader {
    pub fn start<H: SocketHandler>(self, session: Addr<SioSession<H>>) {
        let stream = self.stream.max_frame_size(self.max_payload);
        let fragments = Fragments::new(self.max_payload);
        actix_rt::spawn(read(stream, fragments, session, self.out));
    }
}

/// Start the writer for an accepted WebSocket; frames for it go into the returned sender.
pub fn bridge(
    ws: actix_ws::Session,
    stream: actix_ws::MessageStream,
    max_payload: usize,
    queue: usize,
) -> (mpsc::Sender<Frame>, Reader) {
    let (tx, rx) = mpsc::channel(queue.max(1));
    actix_rt::spawn(write(ws, rx));
    let reader = Reader {
        stream,
        max_payload,
        out: tx.downgrade(),
    };
    (tx, reader)
}

async fn write(mut ws: actix_ws::Session, mut rx: mpsc::Receiver<Frame>) {
    while let Some(frame) = rx.recv().await {
        let sent = match frame {
            Frame::Text(t) => ws.text(t).await,
            Frame::Binary(b) => ws.binary(b).await,
            Frame::Pong(p) => ws.pong(&p).await,
            Frame::Close(code) => {
                let reason = actix_ws::CloseReason::from(actix_ws::CloseCode::from(code));
                let _ = ws.close(Some(reason)).await;
                return;
            }
        };
        if sent.is_err() {
            return;
        }
    }
    // The session dropped its sender: it is over.
    let _ = ws.close(None).await;
}

async fn read<H: SocketHandler>(
    mut stream: actix_ws::MessageStream,
    mut fragments: Fragments,
    session: Addr<SioSession<H>>,
    out: mpsc::WeakSender<Frame>,
) {
    loop {
        let item = match stream.recv().await {
            Some(Ok(Message::Text(_) | Message::Binary(_))) if fragments.in_progress() => {
                InboundItem::Refused(FragmentError::Protocol("").close_code())
            }
            Some(Ok(Message::Text(t))) => InboundItem::Text(t),
            Some(Ok(Message::Binary(b))) => InboundItem::Binary(b),
            Some(Ok(Message::Continuation(item))) => match fragments.push(item) {
                Ok(None) => continue,
                Ok(Some(fragments::Message::Text(t))) => InboundItem::Text(t),
                Ok(Some(fragments::Message::Binary(b))) => InboundItem::Binary(b),
                Err(e) => InboundItem::Refused(e.close_code()),
            },
            Some(Ok(Message::Ping(p))) => {
                if let Some(out) = out.upgrade() {
                    let _ = out.try_send(Frame::Pong(p));
                }
                continue;
            }
            Some(Ok(Message::Pong(_) | Message::Nop)) => continue,
            Some(Err(ProtocolError::Overflow)) => {
                InboundItem::Refused(FragmentError::TooLarge.close_code())
            }
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => InboundItem::Closed,
        };
        let last = matches!(item, InboundItem::Closed | InboundItem::Refused(_));
        // Waiting for each frame to be handled keeps order and pushes back on a fast sender.
        if session.send(WsIn(item)).await.is_err() || last {
            return;
        }
    }
}
