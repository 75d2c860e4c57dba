//! WebSockets leave the HTTP connection here. actix-http gives every HTTP/1 request
//! that asks for `Upgrade: websocket` to this service, with the connection itself;
//! the request still goes through the application (routes, origin checks, cookies,
//! the log) as any other, and when its handler accepts the upgrade (`accept`), the
//! answer carries the actor's context. This service writes the 101, takes the socket
//! out of the HTTP connection, and runs the WebSocket on it (`ws_io`); the HTTP
//! connection, with its buffers, is done. Any other answer is written as it is, and
//! the connection closed.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use actix::prelude::*;
use actix_codec::Framed;
use actix_http::body::{BodySize, BoxBody, MessageBody};
use actix_http::h1::{Codec, Message};
use actix_http::{ConnectionType, Request, Response, StatusCode};
use actix_service::{fn_factory, fn_service, Service, ServiceFactory};
use actix_web::dev::ServiceResponse;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};
use actix_web_actors::ws::{self, ProtocolError, WebsocketContext};
use bytes::BytesMut;
use futures_util::SinkExt;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::actors::delivery::ChatLane;
use crate::error::AppError;
use crate::transport::ws_io::{self, Frames, Outbound, Wire};

/// Put on requests that came through this service: their connection can be handed
/// over.
struct Upgradable;

/// An accepted upgrade's actor, waiting for its socket.
struct Handover {
    wire: Wire,
    out: Outbound,
    lane: Option<Arc<ChatLane>>,
}

/// Accept a WebSocket upgrade with `actor`, which gets the socket's frames (of at
/// most `max_frame` bytes) once the 101 has been written. The actor's address is
/// live at once: what is sent to it waits in its mailbox. The writer also takes the
/// `lane`'s stream chat, if given, straight to the socket.
pub fn accept<A>(
    req: &HttpRequest,
    max_frame: usize,
    actor: A,
    lane: Option<Arc<ChatLane>>,
) -> Result<(HttpResponse, Addr<A>), actix_web::Error>
where
    A: Actor<Context = WebsocketContext<A>> + StreamHandler<Result<ws::Message, ProtocolError>>,
{
    let mut res = ws::handshake(req)?;
    if req.extensions().get::<Upgradable>().is_none() {
        // Only HTTP/1 connections reach this service (HTTP/2 has no Upgrade).
        return Err(actix_web::error::ErrorBadRequest(
            "WebSocket upgrades need an HTTP/1.1 connection",
        ));
    }
    let wire = Wire::default();
    let frames = Frames::new(wire.clone(), max_frame);
    let addr = Rc::new(Cell::new(None));
    let slot = addr.clone();
    // The factory runs at once, before the actor starts: its address, and its frames
    // as a stream of the context.
    let out = WebsocketContext::with_factory(futures_util::stream::pending(), move |ctx| {
        slot.set(Some(ctx.address()));
        ctx.add_stream(frames);
        actor
    });
    let addr = addr
        .take()
        .ok_or_else(|| actix_web::error::ErrorInternalServerError("no actor address"))?;
    let mut res = res.finish();
    res.extensions_mut().insert(Handover {
        wire,
        out: Box::pin(out),
        lane,
    });
    Ok((res, addr))
}

/// The upgrade service over the application `app` (a second instance of it, on the
/// same worker as the HTTP service), with at most `max_open` WebSockets per worker.
pub fn service<T, S, B>(
    app: S,
    max_open: usize,
) -> impl ServiceFactory<
    (Request, Framed<T, Codec>),
    Config = (),
    Response = (),
    Error = actix_web::Error,
    InitError = (),
>
where
    T: AsyncRead + AsyncWrite + Unpin + 'static,
    S: ServiceFactory<
            Request,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
        > + 'static,
    S::InitError: std::fmt::Debug,
    B: MessageBody + 'static,
{
    let app = Rc::new(app);
    fn_factory(move || {
        let app = app.clone();
        async move {
            let app = Rc::new(app.new_service(()).await.map_err(|e| {
                log::error!("the upgrade service's application did not start: {e:?}");
            })?);
            let open = Rc::new(Cell::new(0usize));
            Ok(fn_service(move |(req, framed)| {
                serve(app.clone(), open.clone(), max_open, req, framed)
            }))
        }
    })
}

/// Counts a worker's open WebSockets.
struct Open(Rc<Cell<usize>>);

impl Open {
    fn new(count: Rc<Cell<usize>>) -> Open {
        count.set(count.get() + 1);
        Open(count)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

async fn serve<T, S, B>(
    app: Rc<S>,
    open: Rc<Cell<usize>>,
    max_open: usize,
    req: Request,
    mut framed: Framed<T, Codec>,
) -> Result<(), actix_web::Error>
where
    T: AsyncRead + AsyncWrite + Unpin + 'static,
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    if open.get() >= max_open {
        log::warn!("refused a WebSocket: {max_open} open on this worker (MAX_CONNECTIONS)");
        answer(framed, AppError::unavailable().error_response().into()).await;
        return Ok(());
    }
    // Counted from now: upgrades that wait inside the application (Socket.IO's ask
    // their session) must not all pass the check above at once.
    let open = Open::new(open);
    req.extensions_mut().insert(Upgradable);
    let mut res: Response<BoxBody> = match app.call(req).await {
        Ok(res) => res.into_parts().1.map_into_boxed_body().into(),
        Err(e) => e.error_response().into(),
    };
    let handover = res.extensions_mut().remove::<Handover>();
    let Some(Handover { wire, out, lane }) =
        handover.filter(|_| res.status() == StatusCode::SWITCHING_PROTOCOLS)
    else {
        if res.status() == StatusCode::SWITCHING_PROTOCOLS {
            log::error!("an upgrade was answered 101 without `handover::accept`");
            res = AppError::internal().error_response().into();
        }
        answer(framed, res).await;
        return Ok(());
    };
    let (head, _) = res.into_parts();
    if let Err(e) = framed.send(Message::Item((head, BodySize::None))).await {
        log::info!("a WebSocket's 101 could not be written: {e}");
        return Ok(());
    }
    let parts = framed.into_parts();
    // Frames the client sent right behind its request; the 8 KB buffer they came in
    // is not kept.
    let early = match parts.read_buf.is_empty() {
        true => BytesMut::new(),
        false => BytesMut::from(&parts.read_buf[..]),
    };
    actix_rt::spawn(async move {
        ws_io::run(wire, Box::new(parts.io), early, out, lane).await;
        drop(open);
    });
    Ok(())
}

/// Write an answer that is not an upgrade, and close the connection.
async fn answer<T>(mut framed: Framed<T, Codec>, res: Response<BoxBody>)
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let (mut head, body) = res.into_parts();
    head.head_mut().set_connection_type(ConnectionType::Close);
    let body = actix_http::body::to_bytes(body).await.unwrap_or_default();
    let sent = async {
        framed
            .feed(Message::Item((head, BodySize::Sized(body.len() as u64))))
            .await?;
        framed.feed(Message::Chunk(Some(body))).await?;
        framed.send(Message::Chunk(None)).await?;
        framed.close().await
    };
    match sent.await {
        // Closing with unread data (a body, early frames) would reset the connection,
        // and the client might lose the answer.
        Ok(()) => ws_io::linger(&mut framed.into_parts().io).await,
        Err(e) => log::info!("an answer to an upgrade request could not be written: {e}"),
    }
}
