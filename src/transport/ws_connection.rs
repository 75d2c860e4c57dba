//! One actor per raw WebSocket: the connection, whatever protocol it speaks. It owns
//! the socket and nothing else: heartbeat, frame and message size (fragments put back
//! together), the per-connection rate bucket, and the bounded outbound queue (its
//! mailbox). What the messages mean is its `FrameHandler`'s business, as a namespace's
//! is a `SocketHandler`'s on Socket.IO; a dialect delivers events to its connections by
//! implementing `Handler<…>` for `WsConnection<ItsHandler>`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_web::{HttpRequest, HttpResponse};
use actix_web_actors::ws::{self, CloseCode, CloseReason, ProtocolError};

use crate::actors::delivery::ChatLane;
use crate::drain::{Drain, Restart};
use crate::metrics::{Ended, Metrics, Transport};
use crate::rate_limit::TokenBucket;
use crate::transport::fragments::{self, FragmentError, Fragments};
use crate::transport::{handover, ws_io};

/// The limits of one connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub heartbeat_interval: Duration,
    /// Silence (no frame, no pong) after which the connection is closed.
    pub client_timeout: Duration,
    /// Largest frame, and largest message put together from fragments.
    pub max_message_bytes: usize,
    pub rate_per_sec: f64,
    pub rate_burst: f64,
    /// Messages queued for the client before it counts as stuck.
    pub outbound_queue: usize,
}

/// A connection's protocol.
pub trait FrameHandler: Sized + Unpin + 'static {
    /// The connection's id, for the log.
    fn id(&self) -> u64;
    /// A whole text message, within the rate limit.
    fn on_text(&mut self, text: &str, ctx: &mut WsContext<Self>);
    /// A whole binary message, within the rate limit.
    fn on_binary(&mut self, ctx: &mut WsContext<Self>);
    /// A text message over the rate limit (it is dropped).
    fn on_rate_limited(&mut self, ctx: &mut WsContext<Self>);
    /// The connection has ended.
    fn on_stop(&mut self);
    /// The server's metrics, and the dialect they count this connection under.
    fn metrics(&self) -> &Metrics;
    /// Where the connection is known, to be told when the server restarts.
    fn drain(&self) -> &Drain;
    fn dialect(&self) -> &'static str;
    /// Why the handler ended the connection, if it did.
    fn ending(&self) -> Option<Ended> {
        None
    }
    /// Frames it has sent, for the session's access line.
    fn frames_sent(&self) -> u64;
    /// Stream chat the writer takes straight to the socket, if the connection watches.
    fn lane(&self) -> Option<Arc<ChatLane>> {
        None
    }
}

pub type WsContext<H> = ws::WebsocketContext<WsConnection<H>>;

pub struct WsConnection<H: FrameHandler> {
    pub handler: H,
    limits: Limits,
    last_seen: Instant,
    bucket: TokenBucket,
    fragments: Fragments,
    /// Why the connection ended, once it has (for the metrics and the access line).
    ended: Option<Ended>,
    /// For the access line: when it opened, frames received, the client's close code.
    opened: Instant,
    received: u64,
    client_code: Option<u16>,
}

/// Answer an upgrade request with a connection running `handler`.
pub fn start<H: FrameHandler>(
    handler: H,
    limits: Limits,
    req: &HttpRequest,
) -> Result<HttpResponse, actix_web::Error> {
    let lane = handler.lane();
    let conn = WsConnection {
        handler,
        limits,
        last_seen: Instant::now(),
        bucket: TokenBucket::new(limits.rate_per_sec, limits.rate_burst),
        fragments: Fragments::new(limits.max_message_bytes),
        ended: None,
        opened: Instant::now(),
        received: 0,
        client_code: None,
    };
    handover::accept(req, limits.max_message_bytes, conn, lane).map(|(res, _)| res)
}

/// Close the connection with `code`, and stop.
pub fn close<H: FrameHandler>(ctx: &mut WsContext<H>, code: CloseCode, why: Option<&str>) {
    ctx.close(Some(CloseReason {
        code,
        description: why.map(str::to_owned),
    }));
    ctx.stop();
}

/// Run `fut`, then `then` on the handler with its output; the connection's later
/// messages are handled meanwhile.
pub fn spawn<H: FrameHandler, T: 'static>(
    ctx: &mut WsContext<H>,
    fut: impl std::future::Future<Output = T> + 'static,
    then: impl FnOnce(&mut H, &mut WsContext<H>, T) + 'static,
) {
    let f = actix::fut::wrap_future::<_, WsConnection<H>>(fut)
        .map(move |out, act, ctx| then(&mut act.handler, ctx, out));
    ctx.spawn(f);
}

/// Like `spawn`, but the connection's later messages wait until it is done (a
/// registration they depend on).
pub fn wait<H: FrameHandler, T: 'static>(
    ctx: &mut WsContext<H>,
    fut: impl std::future::Future<Output = T> + 'static,
    then: impl FnOnce(&mut H, &mut WsContext<H>, T) + 'static,
) {
    let f = actix::fut::wrap_future::<_, WsConnection<H>>(fut)
        .map(move |out, act, ctx| then(&mut act.handler, ctx, out));
    ctx.wait(f);
}

/// Call `then` on the handler after `delay`, unless cancelled with the handle.
pub fn later<H: FrameHandler>(
    ctx: &mut WsContext<H>,
    delay: Duration,
    then: impl FnOnce(&mut H, &mut WsContext<H>) + 'static,
) -> SpawnHandle {
    ctx.run_later(delay, move |act, ctx| then(&mut act.handler, ctx))
}

impl<H: FrameHandler> WsConnection<H> {
    /// Say why the connection ends (the first reason given counts).
    pub fn ending(&mut self, why: Ended) {
        self.ended.get_or_insert(why);
    }

    fn message(&mut self, text: Option<&str>, bytes: usize, ctx: &mut WsContext<H>) {
        self.handler.metrics().websocket.received(bytes);
        self.received += 1;
        if !self.bucket.try_take() {
            self.handler.metrics().rate_limited("frames");
            // Text gets an answer; binary floods, which the protocol has no use for,
            // are dropped without one.
            if text.is_some() {
                self.handler.on_rate_limited(ctx);
            }
            return;
        }
        match text {
            Some(text) => self.handler.on_text(text, ctx),
            None => self.handler.on_binary(ctx),
        }
    }

    /// The server restarts: 1012, so the client reconnects (to another node, or to
    /// this one's successor).
    fn restart(&mut self, ctx: &mut WsContext<H>) {
        self.ending(Ended::ServerRestart);
        close(ctx, CloseCode::Restart, Some("service restart"));
    }

    fn too_large(&mut self, ctx: &mut WsContext<H>) {
        self.ending(Ended::TooLarge);
        log::info!(
            "a WebSocket message over {} bytes",
            self.limits.max_message_bytes
        );
        close(ctx, CloseCode::Size, Some("message too large"));
    }

    fn refuse(&mut self, code: CloseCode, why: &str, ctx: &mut WsContext<H>) {
        self.ending(Ended::ProtocolError);
        log::info!("connection {}: protocol error: {why}", self.handler.id());
        close(ctx, code, None);
    }
}

impl<H: FrameHandler> Actor for WsConnection<H> {
    type Context = WsContext<H>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // The mailbox is the outbound queue: a central actor's `try_send` fails once
        // it is full, and the connection is cut off as stuck.
        ctx.set_mailbox_capacity(self.limits.outbound_queue);
        let m = self.handler.metrics();
        m.connection(Transport::WebSocket, 1);
        m.connected(Transport::WebSocket, self.handler.dialect());
        if !self
            .handler
            .drain()
            .join(self.handler.id(), ctx.address().recipient())
        {
            return self.restart(ctx);
        }
        // One timer per connection at a 30 s default interval is ~3k wakeups/s at 100k
        // connections: cheap for tokio's timer wheel, and it needs no shared state.
        ctx.run_interval(self.limits.heartbeat_interval, |act, ctx| {
            if act.last_seen.elapsed() > act.limits.client_timeout {
                log::info!("connection {}: heartbeat timed out", act.handler.id());
                act.ending(Ended::HeartbeatTimeout);
                close(ctx, CloseCode::Away, Some("heartbeat timeout"));
            } else {
                ctx.ping(b"");
            }
        });
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.handler.drain().leave(self.handler.id());
        let why = self
            .handler
            .ending()
            .or(self.ended)
            .unwrap_or(Ended::ConnectionLost);
        let m = self.handler.metrics();
        m.disconnected(Transport::WebSocket, self.handler.dialect(), why);
        m.connection(Transport::WebSocket, -1);
        let code = match why {
            Ended::ClientClosed => self.client_code,
            _ => why.close_code(),
        };
        log::info!(
            target: crate::logging::ACCESS,
            conn = self.handler.id(),
            transport = Transport::WebSocket.as_str(),
            dialect = self.handler.dialect(),
            reason = why.as_str(),
            close_code = code.unwrap_or(0),
            frames_in = self.received,
            frames_out = self.handler.frames_sent(),
            ms = self.opened.elapsed().as_millis() as u64;
            "websocket session {} ended: {} after {:.1}s",
            self.handler.id(),
            why.as_str(),
            self.opened.elapsed().as_secs_f64()
        );
        self.handler.on_stop();
    }
}

impl<H: FrameHandler> Handler<Restart> for WsConnection<H> {
    type Result = ();
    fn handle(&mut self, _: Restart, ctx: &mut Self::Context) {
        self.restart(ctx);
    }
}

impl<H: FrameHandler> StreamHandler<Result<ws::Message, ProtocolError>> for WsConnection<H> {
    fn handle(&mut self, item: Result<ws::Message, ProtocolError>, ctx: &mut Self::Context) {
        self.last_seen = Instant::now();
        match item {
            Ok(ws::Message::Text(_) | ws::Message::Binary(_)) if self.fragments.in_progress() => {
                self.refuse(
                    CloseCode::Protocol,
                    "a data frame inside a fragmented message",
                    ctx,
                )
            }
            Ok(ws::Message::Text(text)) => self.message(Some(&text), text.len(), ctx),
            Ok(ws::Message::Binary(b)) => self.message(None, b.len(), ctx),
            Ok(ws::Message::Continuation(item)) => match self.fragments.push(item) {
                Ok(None) => {}
                Ok(Some(fragments::Message::Text(text))) => {
                    self.message(Some(&text), text.len(), ctx)
                }
                Ok(Some(fragments::Message::Binary(b))) => self.message(None, b.len(), ctx),
                Err(FragmentError::TooLarge) => self.too_large(ctx),
                Err(FragmentError::Protocol(why)) => self.refuse(CloseCode::Protocol, why, ctx),
                Err(FragmentError::NotUtf8) => {
                    self.refuse(CloseCode::Invalid, ws_io::NOT_UTF8, ctx)
                }
            },
            // Every data frame costs a token; over the limit, pings go unanswered.
            Ok(ws::Message::Ping(p)) => {
                if self.bucket.try_take() {
                    ctx.pong(&p);
                }
            }
            Ok(ws::Message::Pong(_)) | Ok(ws::Message::Nop) => {}
            Ok(ws::Message::Close(reason)) => {
                self.ending(Ended::ClientClosed);
                self.client_code = reason.as_ref().map(|r| u16::from(r.code));
                ctx.close(reason);
                ctx.stop();
            }
            Err(ProtocolError::Overflow) => self.too_large(ctx),
            Err(e) if ws_io::is_not_utf8(&e) => {
                self.refuse(CloseCode::Invalid, ws_io::NOT_UTF8, ctx)
            }
            Err(e) => self.refuse(CloseCode::Protocol, &e.to_string(), ctx),
        }
    }
}
