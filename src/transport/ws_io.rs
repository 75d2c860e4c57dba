//! How a WebSocket actor's context reads and writes its socket, once the HTTP
//! connection has handed the socket over (`handover`): frames are decoded straight
//! from the socket, and the frames the actor writes go straight to it, as does the
//! stream chat in the connection's lane (written without running the actor). Nothing is
//! buffered for an idle connection: actix-http's HTTP/1 dispatcher, which carried
//! WebSockets before, holds an 8 KB read and an 8 KB write buffer for the life of
//! every connection, most of what an idle WebSocket cost.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll, Wake, Waker};
use std::time::Duration;

use actix_http::ws::{Codec, Frame, Message, ProtocolError};
use bytes::{Buf, Bytes, BytesMut};
use bytestring::ByteString;
use futures_util::task::AtomicWaker;
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio_util::codec::{Decoder, Encoder};

use crate::actors::delivery::ChatLane;

/// What a WebSocket runs over: a TCP stream (or anything that reads and writes).
pub trait Duplex: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Duplex for T {}

/// The encoded frames an actor's context gives out (actix-web-actors'
/// `WebsocketContext` stream).
pub type Outbound = Pin<Box<dyn Stream<Item = Result<Bytes, actix_web::Error>>>>;

/// Bytes read from the socket per call, when a frame is incomplete.
const READ_CHUNK: usize = 8 * 1024;
/// Written-but-unsent bytes past which the actor is not run until the client reads:
/// its mailbox then fills, and the central actors cut it off as stuck.
const WRITE_HIGH_WATER: usize = 64 * 1024;
/// How long a closing connection may take to send its last frames and hear the
/// client's end of the stream.
const LINGER: Duration = Duration::from_secs(1);

struct Socket {
    io: RefCell<Box<dyn Duplex>>,
    /// Bytes that came with the upgrade request (frames a client sent at once).
    early: Cell<BytesMut>,
}

/// The socket, shared by the reading half (`Frames`, polled inside the actor's
/// context) and the writing half (`run`, which polls that context). One thread, and
/// neither holds the socket across a poll of the other. Empty until the handover.
#[derive(Clone, Default)]
pub struct Wire(Rc<OnceCell<Socket>>);

/// The frames a client sends, decoded from the socket. The socket is read only when
/// no whole frame is in hand, so a client that sends faster than its actor handles
/// waits in TCP flow control, not in server memory.
pub struct Frames {
    wire: Wire,
    buf: BytesMut,
    codec: Codec,
    started: bool,
    done: bool,
}

impl Frames {
    /// Frames of at most `max_frame` bytes; a larger one is `ProtocolError::Overflow`.
    pub fn new(wire: Wire, max_frame: usize) -> Frames {
        Frames {
            wire,
            buf: BytesMut::new(),
            codec: Codec::new().max_size(max_frame),
            started: false,
            done: false,
        }
    }

    fn end(
        &mut self,
        item: Option<Result<Message, ProtocolError>>,
    ) -> Poll<Option<Result<Message, ProtocolError>>> {
        self.done = true;
        self.buf = BytesMut::new();
        Poll::Ready(item)
    }
}

/// Why a text message that is not UTF-8 is refused (close 1007).
pub const NOT_UTF8: &str = "a text message that is not UTF-8";

/// A text frame that is not UTF-8, as the error `Frames` gives.
#[derive(Debug)]
struct NotUtf8;

impl std::fmt::Display for NotUtf8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(NOT_UTF8)
    }
}

impl std::error::Error for NotUtf8 {}

/// Whether `Frames` ended on a text frame that is not UTF-8.
pub fn is_not_utf8(e: &ProtocolError) -> bool {
    matches!(e, ProtocolError::Io(e) if e.get_ref().is_some_and(|inner| inner.is::<NotUtf8>()))
}

fn message(frame: Frame) -> Result<Message, ProtocolError> {
    Ok(match frame {
        Frame::Text(data) => {
            Message::Text(ByteString::try_from(data).map_err(|_| {
                ProtocolError::Io(io::Error::new(io::ErrorKind::InvalidData, NotUtf8))
            })?)
        }
        Frame::Binary(data) => Message::Binary(data),
        Frame::Ping(p) => Message::Ping(p),
        Frame::Pong(p) => Message::Pong(p),
        Frame::Close(reason) => Message::Close(reason),
        Frame::Continuation(item) => Message::Continuation(item),
    })
}

impl Stream for Frames {
    type Item = Result<Message, ProtocolError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        // The context is polled only by `run`, which sets the socket first.
        let wire = this.wire.0.clone();
        let Some(socket) = wire.get() else {
            return Poll::Pending;
        };
        if !this.started {
            this.started = true;
            this.buf = socket.early.take();
        }
        loop {
            match this.codec.decode(&mut this.buf) {
                Ok(Some(frame)) => return Poll::Ready(Some(message(frame))),
                Ok(None) => {}
                Err(e) => return this.end(Some(Err(e))),
            }
            if this.buf.is_empty() {
                // An idle connection holds no read buffer.
                this.buf = BytesMut::new();
            }
            // Read into the stack, not into a reserved buffer: a connection waiting
            // for its next frame then holds no memory for it.
            let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut chunk = ReadBuf::uninit(&mut chunk);
            let read = {
                let mut io = socket.io.borrow_mut();
                ready!(Pin::new(&mut **io).poll_read(cx, &mut chunk))
            };
            this.buf.extend_from_slice(chunk.filled());
            match read.map(|()| chunk.filled().len()) {
                Ok(0) if this.buf.is_empty() => return this.end(None),
                Ok(0) => {
                    let eof = io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the connection closed inside a frame",
                    );
                    return this.end(Some(Err(ProtocolError::Io(eof))));
                }
                Ok(_) => {}
                Err(e) => return this.end(Some(Err(ProtocolError::Io(e)))),
            }
        }
    }
}

/// How the pump ended.
enum End {
    /// The actor stopped; its last frames are queued.
    Closed,
    /// The socket failed.
    Broken,
}

/// Run the connection: put the socket on the wire, then write what the context
/// gives out, and the stream chat that waits in `lane`, until the actor stops; and
/// close the socket.
pub async fn run(
    wire: Wire,
    io: Box<dyn Duplex>,
    early: BytesMut,
    out: Outbound,
    lane: Option<Arc<ChatLane>>,
) {
    let socket = Socket {
        io: RefCell::new(io),
        early: Cell::new(early),
    };
    if wire.0.set(socket).is_err() {
        return;
    }
    let actor = Arc::new(ActorWake {
        woken: AtomicBool::new(true),
        task: AtomicWaker::new(),
    });
    let mut conn = Conn {
        actor_waker: Waker::from(actor.clone()),
        actor,
        wire,
        queue: Queue::default(),
        out,
        lane,
    };
    let end = std::future::poll_fn(|cx| conn.pump(cx)).await;
    let Conn {
        wire,
        mut queue,
        out,
        ..
    } = conn;
    // The context is done (or the socket is): drop it, and with it the actor and its
    // `Frames`, which leaves the socket to us alone.
    drop(out);
    let io = Rc::try_unwrap(wire.0)
        .ok()
        .and_then(OnceCell::into_inner)
        .map(|socket| socket.io.into_inner());
    if let (End::Closed, Some(mut io)) = (end, io) {
        let _ = tokio::time::timeout(LINGER, close(&mut *io, &mut queue)).await;
    }
}

/// Frames given out and not yet written: usually one chunk (the context encodes all
/// it has into one), more only while the client is slow to read.
#[derive(Default)]
struct Queue {
    head: Option<Bytes>,
    rest: VecDeque<Bytes>,
    bytes: usize,
}

impl Queue {
    fn push(&mut self, chunk: Bytes) {
        self.bytes += chunk.len();
        if self.head.is_none() {
            self.head = Some(chunk);
        } else {
            self.rest.push_back(chunk);
        }
    }

    /// Write what the socket takes now: `Ready(Ok)` once all is written.
    fn poll_write(&mut self, io: &mut dyn Duplex, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(head) = self.head.as_mut() {
            let n = ready!(Pin::new(&mut *io).poll_write(cx, head))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            head.advance(n);
            self.bytes -= n;
            if head.is_empty() {
                self.head = self.rest.pop_front();
            }
        }
        if self.rest.capacity() > 0 {
            // An idle connection holds no queue.
            self.rest = VecDeque::new();
        }
        Pin::new(io).poll_flush(cx)
    }
}

/// Frame the stream chat that waits in the lane, all of it in one chunk; whether any
/// did.
fn take_lane(lane: &ChatLane, queue: &mut Queue, cx: &Context<'_>) -> bool {
    let mut frames = BytesMut::new();
    let mut codec = Codec::new();
    let mut failed = false;
    let any = lane.take_texts(cx, |text| {
        failed |= codec.encode(Message::Text(text), &mut frames).is_err();
    });
    if failed {
        log::warn!("a stream chat line could not be framed");
    }
    if !frames.is_empty() {
        queue.push(frames.freeze());
    }
    any
}

/// Whether the actor was woken (by its mailbox, its timers or its socket) since its
/// context last ran. The writer also wakes for stream chat and for the socket's room
/// to write, and then has no need to run the actor.
struct ActorWake {
    woken: AtomicBool,
    /// The connection's task.
    task: AtomicWaker,
}

impl Wake for ActorWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// A running connection, as its writer sees it.
struct Conn {
    wire: Wire,
    queue: Queue,
    out: Outbound,
    lane: Option<Arc<ChatLane>>,
    /// Whether the actor was woken, and the waker its context runs with.
    actor: Arc<ActorWake>,
    actor_waker: Waker,
}

impl Conn {
    fn pump(&mut self, cx: &mut Context<'_>) -> Poll<End> {
        self.actor.task.register(cx.waker());
        let Some(socket) = self.wire.0.get() else {
            return Poll::Ready(End::Broken);
        };
        loop {
            if let Poll::Ready(Err(_)) = self.queue.poll_write(&mut **socket.io.borrow_mut(), cx) {
                return Poll::Ready(End::Broken);
            }
            if self.queue.bytes >= WRITE_HIGH_WATER {
                // The socket's write readiness wakes us; meanwhile stream chat waits in
                // the lane (which skips its oldest lines when full).
                return Poll::Pending;
            }
            // Stream chat first: what the actor gives out after it was queued later.
            if let Some(lane) = &self.lane {
                if take_lane(lane, &mut self.queue, cx) {
                    continue;
                }
            }
            if !self.actor.woken.swap(false, Ordering::AcqRel) {
                return Poll::Pending;
            }
            // Run the actor (it reads the socket through `Frames`).
            match self
                .out
                .as_mut()
                .poll_next(&mut Context::from_waker(&self.actor_waker))
            {
                Poll::Ready(Some(Ok(bytes))) => {
                    self.queue.push(bytes);
                    // It gives out one chunk at a time: ask again.
                    self.actor.woken.store(true, Ordering::Release);
                }
                Poll::Ready(Some(Err(e))) => {
                    log::warn!("a WebSocket frame could not be encoded: {e}");
                    return Poll::Ready(End::Closed);
                }
                Poll::Ready(None) => return Poll::Ready(End::Closed),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Send the last frames, end the stream, and wait for the client to end its own
/// (closing with unread data would reset the connection, and the client might lose
/// the close frame).
async fn close(io: &mut dyn Duplex, queue: &mut Queue) {
    let sent = std::future::poll_fn(|cx| match ready!(queue.poll_write(io, cx)) {
        Ok(()) => Pin::new(&mut *io).poll_shutdown(cx),
        Err(e) => Poll::Ready(Err(e)),
    })
    .await;
    if sent.is_ok() {
        linger(io).await;
    }
}

/// After our end of the stream, read and drop what the client still sends until it
/// ends its own, for at most `LINGER`.
pub async fn linger(io: &mut (impl AsyncRead + Unpin + ?Sized)) {
    let drain = async {
        let mut sink = [0u8; 1024];
        while let Ok(1..) = io.read(&mut sink).await {}
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{FutureExt, StreamExt};
    use tokio::io::AsyncWriteExt;

    /// A connected pair of sockets: (client, server's `Frames` over the other end).
    async fn pair() -> (tokio::net::TcpStream, Frames) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        let wire = Wire::default();
        let socket = Socket {
            io: RefCell::new(Box::new(accepted.unwrap().0)),
            early: Cell::new(BytesMut::new()),
        };
        assert!(wire.0.set(socket).is_ok());
        (client.unwrap(), Frames::new(wire, 1024))
    }

    fn client_frame(text: &str) -> BytesMut {
        let mut out = BytesMut::new();
        Codec::new()
            .client_mode()
            .encode(Message::Text(text.into()), &mut out)
            .unwrap();
        out
    }

    #[tokio::test]
    async fn a_connection_waiting_for_its_next_frame_holds_no_read_buffer() {
        let (mut client, mut frames) = pair().await;
        let frame = client_frame("hello");
        // Half a frame: kept until the rest comes.
        client.write_all(&frame[..4]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(frames.next().now_or_never().is_none());
        assert!(!frames.buf.is_empty());
        client.write_all(&frame[4..]).await.unwrap();
        match frames.next().await {
            Some(Ok(Message::Text(t))) => assert_eq!(&*t, "hello"),
            other => panic!("expected the text frame, got {other:?}"),
        }
        assert!(
            frames.next().now_or_never().is_none(),
            "no frame is waiting"
        );
        assert_eq!(
            frames.buf.capacity(),
            0,
            "an idle connection holds no buffer"
        );
        // Two frames in one packet come out one by one.
        let mut two = client_frame("a");
        two.extend_from_slice(&client_frame("b"));
        client.write_all(&two).await.unwrap();
        for want in ["a", "b"] {
            match frames.next().await {
                Some(Ok(Message::Text(t))) => assert_eq!(&*t, want),
                other => panic!("expected {want}, got {other:?}"),
            }
        }
        assert_eq!(frames.buf.capacity(), 0);
        // A frame over the limit ends the stream with an error; then the stream ends.
        client
            .write_all(&client_frame(&"x".repeat(2000)))
            .await
            .unwrap();
        assert!(matches!(
            frames.next().await,
            Some(Err(ProtocolError::Overflow))
        ));
        assert!(frames.next().await.is_none());
    }
}
