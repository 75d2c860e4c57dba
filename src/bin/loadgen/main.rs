//! Load generator: N customer/staff pairs chatting over `/ws`.
//!
//! Each pair runs a closed loop: the customer sends a `customer_message`, staff member k
//! (who, as the seeds specify, receives every customer's messages) answers its own
//! customer with a `staff_message`, and the customer sends the next one on the reply.
//! Reports stored messages/s, frames delivered/s, one-way and round-trip latency
//! percentiles, and the server's group-commit batch size.
//!
//! `--mode stream` instead starts a live stream and connects `--viewers` viewers, of which
//! `--chatters` send stream chat at `--rate` messages/s each; it reports chat messages
//! delivered/s to viewers and the delivery latency.
//!
//! `--mode sio` runs the pairs over Socket.IO (WebSocket transport) in seed 004's
//! dialect: each customer and its agent join their session on namespace `/`, and the
//! customer's `send_message` is answered by the agent's. Unlike `/ws` staff, a seed
//! 004 agent hears only the sessions it joined, so there is no all-staff fan-out.
//!
//! `--mode idle` connects `--connections` customers over `/ws`, registers each on a
//! session of its own and holds them: the server's resident memory before and after
//! (`--server-pid`) gives the cost of an idle connection.
//!
//! Several `--url`s, comma-separated, drive a cluster: clients are spread over the
//! nodes, and a pair's customer and staff member are on different nodes, so every
//! delivery crosses from one node to another. With `--redis-url`, the Redis `PUBLISH`es
//! made during the run are counted, per message.
//!
//! Start the server with rate limits raised, then for example:
//!   loadgen --url ws://127.0.0.1:3000/ws --data-dir ./data --pairs 100 --duration 20s
//!   loadgen --mode stream --viewers 1000 --chatters 10 --rate 2 --duration 15s
//!
//! and `--reactions 1` makes every viewer tap a reaction once a second as well.

mod idle;
mod pairs;
mod sio;
mod stream;
mod viewers;

use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use awc::ws::{self, Frame};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use switchboard::auth::{resolve_secret, JwtKeys};

#[derive(Parser, Debug, Clone)]
#[command(about = "Drive N customer/staff pairs over /ws and report throughput and latency")]
struct Args {
    /// WebSocket URL of the server; several, comma-separated, for the nodes of a
    /// cluster.
    #[arg(long, default_value = "ws://127.0.0.1:3000/ws")]
    url: String,
    /// The cluster's Redis, to count the `PUBLISH`es a run makes.
    #[arg(long)]
    redis_url: Option<String>,
    /// `pairs` (support chat over /ws), `sio` (the same over Socket.IO), `stream`
    /// (live-stream chat) or `idle` (connections registered and held: memory).
    #[arg(long, default_value = "pairs")]
    mode: String,
    /// Customer/staff pairs.
    #[arg(long, default_value_t = 50)]
    pairs: usize,
    /// Stream mode: viewers connected.
    #[arg(long, default_value_t = 1000)]
    viewers: usize,
    /// Stream mode: viewers who chat.
    #[arg(long, default_value_t = 10)]
    chatters: usize,
    /// Stream mode: messages per second per chatter.
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    /// Stream mode: reactions (❤️) per second per viewer, every viewer (0: none).
    #[arg(long, default_value_t = 0.0)]
    reactions: f64,
    /// How long to measure, after everyone has connected.
    #[arg(long, default_value = "15s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Client threads, each with its own event loop and share of the pairs.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// The server's JWT secret, to mint staff tokens (else read from --data-dir).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// The server's data directory, where it keeps a generated secret.
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    data_dir: std::path::PathBuf,
    /// Idle mode: connections registered and held.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Idle mode: the server's process id, whose resident memory is read.
    #[arg(long)]
    server_pid: Option<u32>,
}

impl Args {
    /// The nodes' WebSocket URLs (one for a single server).
    fn urls(&self) -> Vec<String> {
        self.url
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The URL for client `k` of a run, `hop` nodes on from its own.
    fn node(&self, k: usize, hop: usize) -> String {
        let urls = self.urls();
        urls[(k + hop) % urls.len()].clone()
    }
}

/// `PUBLISH` calls Redis has served so far (`INFO commandstats`).
fn publishes(redis_url: Option<&str>) -> Option<u64> {
    let client = redis::Client::open(redis_url?).ok()?;
    let mut conn = client.get_connection().ok()?;
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut conn)
        .ok()?;
    let line = info.lines().find(|l| l.starts_with("cmdstat_publish:"));
    line.map_or(Some(0), |l| {
        let calls = l.split_once("calls=")?.1.split(',').next()?;
        calls.parse().ok()
    })
}

/// Count the `PUBLISH`es made while the run is measured (from `start` to `end`).
fn count_publishes(
    args: &Args,
    start: Instant,
    end: Instant,
) -> std::thread::JoinHandle<Option<u64>> {
    let redis_url = args.redis_url.clone();
    std::thread::spawn(move || {
        std::thread::sleep(start.saturating_duration_since(Instant::now()));
        let before = publishes(redis_url.as_deref())?;
        std::thread::sleep(end.saturating_duration_since(Instant::now()));
        Some(publishes(redis_url.as_deref())?.saturating_sub(before))
    })
}

/// Print the `PUBLISH`es counted, per message delivered.
fn report_publishes(counted: std::thread::JoinHandle<Option<u64>>, messages: usize) {
    if let Ok(Some(n)) = counted.join() {
        println!(
            "redis PUBLISH while measured: {n} ({:.2} per message, whatever its recipients)",
            n as f64 / messages.max(1) as f64
        );
    }
}

#[derive(Default)]
struct Samples {
    to_staff_us: Vec<u64>,
    to_customer_us: Vec<u64>,
    round_trip_us: Vec<u64>,
    frames: u64,
    errors: u64,
    /// Stream mode: reactions tapped, `reactions` frames received, and the taps they
    /// counted.
    reactions_sent: u64,
    reaction_frames: u64,
    reactions_seen: u64,
    /// Stream mode: chat lines the server skipped for a slow viewer (`chat_skipped`).
    skipped: u64,
}

impl Samples {
    fn merge(&mut self, o: Samples) {
        self.to_staff_us.extend(o.to_staff_us);
        self.to_customer_us.extend(o.to_customer_us);
        self.round_trip_us.extend(o.round_trip_us);
        self.frames += o.frames;
        self.errors += o.errors;
        self.reactions_sent += o.reactions_sent;
        self.reaction_frames += o.reaction_frames;
        self.reactions_seen += o.reactions_seen;
        self.skipped += o.skipped;
    }
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

type Conn = actix_codec::Framed<awc::BoxedSocket, ws::Codec>;

async fn connect(url: &str) -> Result<Conn, String> {
    let (_, framed) = awc::Client::new()
        .ws(url)
        .max_frame_size(1 << 20)
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(framed)
}

async fn send(conn: &mut Conn, v: Value) -> Result<(), String> {
    conn.send(ws::Message::Text(v.to_string().into()))
        .await
        .map_err(|e| e.to_string())
}

/// Next JSON text frame (answering pings), or None at the deadline / on close.
async fn recv(conn: &mut Conn, until: Instant) -> Option<Value> {
    loop {
        let left = until.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, conn.next()).await {
            Ok(Some(Ok(Frame::Text(b)))) => return serde_json::from_slice(&b).ok(),
            Ok(Some(Ok(Frame::Ping(p)))) => {
                let _ = conn.send(ws::Message::Pong(p)).await;
            }
            Ok(Some(Ok(_))) => {}
            _ => return None,
        }
    }
}

async fn register(conn: &mut Conn, frame: Value, expect: &str) -> Result<(), String> {
    send(conn, frame).await?;
    match recv(conn, Instant::now() + Duration::from_secs(10)).await {
        Some(v) if v["type"] == expect => Ok(()),
        other => Err(format!("registration failed: {other:?}")),
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// A URL's host and port.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

fn health_url(ws_url: &str) -> String {
    let scheme = match ws_url.starts_with("wss://") || ws_url.starts_with("https://") {
        true => "https",
        false => "http",
    };
    format!("{scheme}://{}/health", authority(ws_url))
}

fn fetch_health(url: &str) -> Option<Value> {
    let url = url.to_owned();
    actix_rt::System::new().block_on(async move {
        awc::Client::new()
            .get(url)
            .send()
            .await
            .ok()?
            .json::<Value>()
            .await
            .ok()
    })
}

fn main() {
    let args = Args::parse();
    let secret = match resolve_secret(args.jwt_secret.as_deref(), &args.data_dir) {
        Ok((s, _)) => s,
        Err(e) => {
            eprintln!("loadgen: no JWT secret: {e}");
            std::process::exit(2);
        }
    };
    let keys = JwtKeys::new(secret.as_bytes());
    match args.mode.as_str() {
        "stream" => return stream::run_stream(&args, &keys),
        "idle" => return idle::run_idle(&args),
        _ => {}
    }
    if args.urls().is_empty() {
        eprintln!("loadgen: no --url");
        std::process::exit(2);
    }
    let run = format!("{:x}", now_us());
    let health = health_url(&args.node(0, 0));
    let before = fetch_health(&health);

    // Everyone connects first; the clock starts together for all threads.
    let start = Instant::now()
        + Duration::from_secs(2)
        + Duration::from_millis(20 * args.pairs as u64 / args.threads.max(1) as u64);
    let end = start + args.duration;
    let published = count_publishes(&args, start, end);
    let (tx, rx) = mpsc::channel();
    let threads: Vec<_> = (0..args.threads.max(1))
        .map(|t| {
            let (args, keys, run, tx) = (args.clone(), keys.clone(), run.clone(), tx.clone());
            std::thread::spawn(move || {
                actix_rt::System::new().block_on(async move {
                    let pairs = (t..args.pairs).step_by(args.threads.max(1)).map(|k| {
                        let token = keys.mint(
                            &format!("lg-staff-{run}-{k}"),
                            "staff",
                            "Load Staff",
                            Duration::from_secs(3600),
                        );
                        let customer = keys.mint(
                            &format!("lg-cust-{run}-{k}"),
                            "customer",
                            "Load Customer",
                            Duration::from_secs(3600),
                        );
                        // In a cluster, the customer and its staff member are on
                        // different nodes.
                        let urls = (args.node(k, 0), args.node(k, 1));
                        let (run, sio) = (run.clone(), args.mode == "sio");
                        async move {
                            if sio {
                                sio::run_sio_pair(urls, customer, token, start, end).await
                            } else {
                                pairs::run_pair(urls, k, run, token, start, end).await
                            }
                        }
                    });
                    for r in futures_util::future::join_all(pairs).await {
                        let _ = tx.send(r);
                    }
                })
            })
        })
        .collect();
    drop(tx);
    let mut all = Samples::default();
    let mut failed = 0;
    for r in rx {
        match r {
            Ok(s) => all.merge(s),
            Err(e) => {
                failed += 1;
                eprintln!("pair failed: {e}");
            }
        }
    }
    for t in threads {
        let _ = t.join();
    }
    let after = fetch_health(&health);

    let secs = args.duration.as_secs_f64();
    let stored = all.to_staff_us.len() + all.to_customer_us.len();
    for v in [
        &mut all.to_staff_us,
        &mut all.to_customer_us,
        &mut all.round_trip_us,
    ] {
        v.sort_unstable();
    }
    println!(
        "mode: {}, pairs: {} ({} failed), nodes: {}, threads: {}, measured: {:.0}s",
        args.mode,
        args.pairs,
        failed,
        args.urls().len(),
        args.threads,
        secs
    );
    println!(
        "messages stored and delivered: {stored} ({:.0}/s)",
        stored as f64 / secs
    );
    println!(
        "frames received by clients:    {} ({:.0}/s)",
        all.frames,
        all.frames as f64 / secs
    );
    for (name, v) in [
        ("customer -> staff", &all.to_staff_us),
        ("staff -> customer", &all.to_customer_us),
        ("round trip", &all.round_trip_us),
    ] {
        println!(
            "{name:<18} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
            percentile(v, 0.5),
            percentile(v, 0.99),
            percentile(v, 1.0)
        );
    }
    println!("errors: {}", all.errors);
    report_publishes(published, stored);
    let gc = |h: &Option<Value>, k: &str| {
        h.as_ref()
            .and_then(|h| h["groupCommit"][k].as_u64())
            .unwrap_or(0)
    };
    let (batches, writes) = (
        gc(&after, "batches").saturating_sub(gc(&before, "batches")),
        gc(&after, "writes").saturating_sub(gc(&before, "writes")),
    );
    if batches > 0 {
        println!(
            "group commit: {writes} writes in {batches} transactions ({:.1} per transaction)",
            writes as f64 / batches as f64
        );
    }
}
