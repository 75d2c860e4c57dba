//! The viewers of `--mode stream`, each client thread's share driven by one plain event
//! loop (mio for readiness, tungstenite for the WebSocket), without an async runtime:
//! what a frame costs the load generator is then its read and its parse.
//!
//! The loop rests a millisecond between looks at its sockets (unless many had something
//! to read) rather than sleeping in the kernel until one is readable. Over loopback a server's send runs the receiving side's TCP
//! and wakes its reader; a viewer on another machine costs the server neither, and a
//! sleeping load generator would have the server pay a wake-up for most of its writes.
//! A frame is then timed up to a millisecond late, never early.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

use super::*;

/// How often a viewer chats (if it is a chatter) and reacts (if at all).
#[derive(Clone, Copy)]
pub struct Pace {
    pub chat: Option<Duration>,
    pub react: Option<Duration>,
    /// Where in its interval this chatter writes (0 to 1): chatters take turns, as a
    /// crowd does, rather than all writing in the same instant.
    pub phase: f64,
}

/// The fields of a frame the viewers look at, read without building a JSON tree.
#[derive(serde::Deserialize)]
struct Seen<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(default, borrow)]
    message: Option<&'a str>,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    counts: Option<Counts>,
}

#[derive(serde::Deserialize)]
struct Counts {
    #[serde(rename = "❤️", default)]
    hearts: u64,
}

/// A viewer's socket. Once a read comes back short, the kernel had no more: further
/// reads say they would block without asking it again, until the event loop sees the
/// socket readable (epoll is edge-triggered, so data that comes later is an event of
/// its own). That saves a read that fails for every frame.
struct Socket {
    tcp: TcpStream,
    /// Non-blocking, and watched by the event loop (after the handshake).
    watched: bool,
    drained: bool,
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.drained {
            return Err(ErrorKind::WouldBlock.into());
        }
        let n = self.tcp.read(buf)?;
        self.drained = self.watched && n < buf.len();
        Ok(n)
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tcp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tcp.flush()
    }
}

struct Viewer {
    ws: WebSocket<Socket>,
    pace: Pace,
    /// Ended (closed or failed): why.
    failed: Option<String>,
}

/// Something a viewer does at a time: write a chat line, or tap a reaction.
#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Act {
    Chat,
    React,
}

/// Sockets at most read per look; more are read on the next one.
const EVENTS: usize = 1024;
/// Bytes read from a socket at a time.
const READ_BUFFER: usize = 1024;
/// Sockets with something to read below which the loop rests before it looks again:
/// when more are, it looks again at once (a saturated run reads as fast as it can).
const BUSY: usize = 64;
/// How long the loop rests when its sockets had little to read.
const TICK: Duration = Duration::from_millis(1);

/// Open a viewer's WebSocket and register it on a session of its own (blocking, before
/// the run starts).
fn open(url: &str, session: &str) -> Result<WebSocket<Socket>, String> {
    let tcp = TcpStream::connect(authority(url)).map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    // tungstenite zeroes its read buffer before each read: 1 KiB, not its default
    // 128 KiB, for frames of a few hundred bytes.
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let socket = Socket {
        tcp,
        watched: false,
        drained: false,
    };
    let (mut ws, _) = tungstenite::client::client_with_config(url, socket, Some(config))
        .map_err(|e| format!("WebSocket handshake: {e}"))?;
    let register = json!({"type": "register", "sessionId": session});
    ws.send(Message::text(register.to_string()))
        .map_err(|e| format!("register: {e}"))?;
    loop {
        match ws.read().map_err(|e| format!("registration: {e}"))? {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).unwrap_or_default();
                if v["type"] == "registered" {
                    break;
                }
                return Err(format!("registration failed: {v}"));
            }
            Message::Close(_) => return Err("registration: connection closed".into()),
            _ => {}
        }
    }
    ws.get_mut()
        .tcp
        .set_nonblocking(true)
        .map_err(|e| e.to_string())?;
    ws.get_mut().watched = true;
    Ok(ws)
}

/// Whether a WebSocket error only means the socket has nothing more for now.
fn would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(e) if e.kind() == ErrorKind::WouldBlock)
}

/// Count what one frame says.
fn seen(text: &str, s: &mut Samples) {
    s.frames += 1;
    let Ok(v) = serde_json::from_str::<Seen>(text) else {
        return;
    };
    match v.kind {
        "chat_message" => {
            if let Some(sent) = v.message.and_then(|t| t.parse::<u64>().ok()) {
                s.to_staff_us.push(now_us().saturating_sub(sent));
            }
        }
        "stream_update" => s.round_trip_us.push(0),
        "reactions" => {
            s.reaction_frames += 1;
            s.reactions_seen += v.counts.map_or(0, |c| c.hearts);
        }
        "chat_skipped" => s.skipped += v.count.unwrap_or(0),
        "error" => s.errors += 1,
        _ => {}
    }
}

impl Viewer {
    /// Read every frame waiting on the socket (edge-triggered: until it would block).
    fn read_all(&mut self, s: &mut Samples) {
        self.ws.get_mut().drained = false;
        while self.failed.is_none() {
            match self.ws.read() {
                Ok(Message::Text(t)) => seen(&t, s),
                // tungstenite answers pings itself.
                Ok(Message::Close(_)) => self.failed = Some("connection closed".into()),
                Ok(_) => {}
                Err(e) if would_block(&e) => return,
                Err(e) => self.failed = Some(e.to_string()),
            }
        }
    }

    /// Write a chat line or a tap; whether some of it waits for the socket.
    fn act(&mut self, act: Act, s: &mut Samples) -> bool {
        let frame = match act {
            Act::Chat => json!({"type": "chat_message", "message": now_us().to_string()}),
            Act::React => {
                s.reactions_sent += 1;
                json!({"type": "reaction", "emoji": "❤️"})
            }
        };
        // A frame the socket cannot take now stays in tungstenite's buffer and goes
        // with the next write or flush.
        match self.ws.send(Message::text(frame.to_string())) {
            Ok(()) => false,
            Err(e) if would_block(&e) => true,
            Err(e) => {
                self.failed = Some(e.to_string());
                false
            }
        }
    }

    /// Write what waited for the socket; whether some still does.
    fn flush(&mut self) -> bool {
        match self.ws.flush() {
            Ok(()) => false,
            Err(e) if would_block(&e) => true,
            Err(e) => {
                self.failed = Some(e.to_string());
                false
            }
        }
    }
}

/// One client thread: open its viewers (`(index, URL, pace)`), then from `start` to `end`
/// chat and react at their paces and read every frame, until two seconds after `end`.
/// Returns the samples, and why each viewer that failed did.
pub fn run_thread(
    run: &str,
    mine: Vec<(usize, String, Pace)>,
    start: Instant,
    end: Instant,
) -> (Samples, Vec<String>) {
    let mut s = Samples::default();
    let mut failures = Vec::new();
    let mut viewers = Vec::with_capacity(mine.len());
    let mut due = BinaryHeap::new();
    let Ok(mut poll) = Poll::new() else {
        return (s, vec!["no event loop (epoll)".into()]);
    };
    for (k, url, pace) in mine {
        let ws = match open(&url, &format!("lg-viewer-{run}-{k}")) {
            Ok(ws) => ws,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let token = Token(viewers.len());
        let fd = ws.get_ref().tcp.as_raw_fd();
        if let Err(e) = poll
            .registry()
            .register(&mut SourceFd(&fd), token, Interest::READABLE)
        {
            failures.push(e.to_string());
            continue;
        }
        if let Some(every) = pace.chat {
            due.push(Reverse((
                start + every.mul_f64(pace.phase),
                token.0,
                Act::Chat,
            )));
        }
        if let Some(every) = pace.react {
            // Taps spread over the first interval, so that viewers do not tap in step.
            let at = start + every.mul_f64((k % 100) as f64 / 100.0);
            due.push(Reverse((at, token.0, Act::React)));
        }
        viewers.push(Viewer {
            ws,
            pace,
            failed: None,
        });
    }
    if Instant::now() > start {
        eprintln!("loadgen: connecting took past the start; the first moments are uneven");
    }
    let mut before = Samples::default();
    let grace = end + Duration::from_secs(2);
    let mut events = Events::with_capacity(EVENTS);
    // Viewers with a frame waiting for its socket to take it.
    let mut held: Vec<usize> = Vec::new();
    while Instant::now() < grace {
        let now = Instant::now();
        while let Some(&Reverse((at, i, act))) = due.peek() {
            if at > now || at >= end {
                break;
            }
            due.pop();
            let v = &mut viewers[i];
            if v.act(act, &mut s) {
                held.push(i);
            }
            let every = match act {
                Act::Chat => v.pace.chat,
                Act::React => v.pace.react,
            };
            if let Some(every) = every {
                due.push(Reverse((at + every, i, act)));
            }
        }
        if poll.poll(&mut events, Some(Duration::ZERO)).is_err() {
            failures.push("the event loop failed".into());
            break;
        }
        // Frames before the start (the stream's state as viewers join) are read, not
        // counted.
        let counted = match Instant::now() < start {
            true => &mut before,
            false => &mut s,
        };
        for event in &events {
            viewers[event.token().0].read_all(counted);
        }
        // Frames a full socket held back (rare: chat lines and taps are small).
        held.retain(|&i| viewers[i].flush());
        if events.iter().count() < BUSY {
            std::thread::sleep(TICK);
        }
    }
    for v in &mut viewers {
        let _ = v.ws.close(None);
        let _ = v.ws.flush();
    }
    failures.extend(viewers.into_iter().filter_map(|v| v.failed));
    (s, failures)
}
