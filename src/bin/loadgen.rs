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
//! Start the server with rate limits raised, then for example:
//!   loadgen --url ws://127.0.0.1:3000/ws --data-dir ./data --pairs 100 --duration 20s
//!   loadgen --mode stream --viewers 1000 --chatters 10 --rate 2 --duration 15s

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
    /// WebSocket URL of the server.
    #[arg(long, default_value = "ws://127.0.0.1:3000/ws")]
    url: String,
    /// `pairs` (support chat over /ws), `sio` (the same over Socket.IO) or `stream`
    /// (live-stream chat).
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
}

#[derive(Default)]
struct Samples {
    to_staff_us: Vec<u64>,
    to_customer_us: Vec<u64>,
    round_trip_us: Vec<u64>,
    frames: u64,
    errors: u64,
}

impl Samples {
    fn merge(&mut self, o: Samples) {
        self.to_staff_us.extend(o.to_staff_us);
        self.to_customer_us.extend(o.to_customer_us);
        self.round_trip_us.extend(o.round_trip_us);
        self.frames += o.frames;
        self.errors += o.errors;
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

/// A Socket.IO client over the WebSocket transport, namespace `/`, as far as the load
/// test needs: connect with a token, emit, receive events, answer pings.
async fn sio_connect(ws_url: &str, token: &str) -> Result<Conn, String> {
    let base = ws_url.trim_end_matches("/ws");
    let mut conn = connect(&format!("{base}/socket.io/?EIO=4&transport=websocket")).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    sio_raw(&mut conn, deadline, |t| t.starts_with('0')).await?;
    conn.send(ws::Message::Text(
        format!("40{}", json!({ "token": token })).into(),
    ))
    .await
    .map_err(|e| e.to_string())?;
    sio_raw(&mut conn, deadline, |t| t.starts_with("40")).await?;
    Ok(conn)
}

/// The next Engine.IO text packet matching `want` (answering pings on the way).
async fn sio_raw(
    conn: &mut Conn,
    until: Instant,
    want: impl Fn(&str) -> bool,
) -> Result<String, String> {
    loop {
        let left = until
            .checked_duration_since(Instant::now())
            .ok_or("timed out")?;
        match tokio::time::timeout(left, conn.next()).await {
            Ok(Some(Ok(Frame::Text(b)))) => {
                let text = String::from_utf8_lossy(&b).into_owned();
                if text == "2" {
                    let _ = conn.send(ws::Message::Text("3".into())).await;
                } else if want(&text) {
                    return Ok(text);
                }
            }
            Ok(Some(Ok(_))) => {}
            _ => return Err("connection closed".into()),
        }
    }
}

/// The next EVENT: its name and first argument.
async fn sio_event(conn: &mut Conn, until: Instant) -> Option<(String, Value)> {
    let text = sio_raw(conn, until, |t| t.starts_with("42")).await.ok()?;
    let Value::Array(mut args) = serde_json::from_str(&text[2..]).ok()? else {
        return None;
    };
    let data = if args.len() > 1 {
        args.swap_remove(1)
    } else {
        Value::Null
    };
    Some((args.first()?.as_str()?.to_owned(), data))
}

async fn sio_emit(conn: &mut Conn, event: &str, data: Value) -> Result<(), String> {
    conn.send(ws::Message::Text(
        format!("42{}", json!([event, data])).into(),
    ))
    .await
    .map_err(|e| e.to_string())
}

/// A seed 004 session: REST creates it, both sides join it over Socket.IO.
async fn run_sio_pair(
    url: String,
    customer_token: String,
    agent_token: String,
    start: Instant,
    end: Instant,
) -> Result<Samples, String> {
    let http = health_url(&url).trim_end_matches("/health").to_owned();
    let mut resp = awc::Client::new()
        .post(format!("{http}/api/v1/chat/sessions"))
        .insert_header(("Authorization", format!("Bearer {customer_token}")))
        .send_json(&json!({"subject": "loadgen"}))
        .await
        .map_err(|e| e.to_string())?;
    let body: Value = resp.json().await.map_err(|e| e.to_string())?;
    let session = body["data"]["id"]
        .as_str()
        .ok_or_else(|| format!("no session: {body}"))?
        .to_owned();
    let join = json!({ "session_id": session });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut agent = sio_connect(&url, &agent_token).await?;
    sio_emit(&mut agent, "join_session", join.clone()).await?;
    let mut customer = sio_connect(&url, &customer_token).await?;
    sio_emit(&mut customer, "join_session", join).await?;
    for conn in [&mut agent, &mut customer] {
        while sio_event(conn, deadline).await.ok_or("join failed")?.0 != "session_joined" {}
    }
    tokio::time::sleep_until(start.into()).await;

    let grace = end + Duration::from_secs(2);
    let agent_loop = async {
        let mut s = Samples::default();
        while let Some((event, data)) = sio_event(&mut agent, grace).await {
            s.frames += 1;
            let m = &data["message"];
            match event.as_str() {
                "new_message" if m["sender_role"] == "customer" => {
                    if let Some(sent) = m["content"].as_str().and_then(|t| t.parse::<u64>().ok()) {
                        s.to_staff_us.push(now_us().saturating_sub(sent));
                    }
                    let reply = json!({"session_id": session, "content": now_us().to_string()});
                    if sio_emit(&mut agent, "send_message", reply).await.is_err() {
                        break;
                    }
                }
                "error" => s.errors += 1,
                _ => {}
            }
        }
        s
    };
    let customer_loop = async {
        let mut s = Samples::default();
        while Instant::now() < end {
            let sent_at = Instant::now();
            let msg = json!({"session_id": session, "content": now_us().to_string()});
            if sio_emit(&mut customer, "send_message", msg).await.is_err() {
                break;
            }
            let mut replied = false;
            while let Some((event, data)) = sio_event(&mut customer, grace).await {
                s.frames += 1;
                let m = &data["message"];
                match event.as_str() {
                    "new_message" if m["sender_role"] == "agent" => {
                        if let Some(sent) =
                            m["content"].as_str().and_then(|t| t.parse::<u64>().ok())
                        {
                            s.to_customer_us.push(now_us().saturating_sub(sent));
                        }
                        s.round_trip_us.push(sent_at.elapsed().as_micros() as u64);
                        replied = true;
                        break;
                    }
                    "error" => s.errors += 1,
                    _ => {}
                }
            }
            if !replied {
                break;
            }
        }
        s
    };
    let (mut a, b) = futures_util::join!(agent_loop, customer_loop);
    a.merge(b);
    Ok(a)
}

async fn run_pair(
    url: String,
    k: usize,
    run: String,
    token: String,
    start: Instant,
    end: Instant,
) -> Result<Samples, String> {
    let session = format!("lg-{run}-{k}");
    let staff_id = format!("lg-staff-{run}-{k}");
    let mut staff = connect(&url).await?;
    register(
        &mut staff,
        json!({"type": "register_admin", "userId": staff_id, "token": token}),
        "admin_registered",
    )
    .await?;
    let mut customer = connect(&url).await?;
    register(
        &mut customer,
        json!({"type": "register", "sessionId": session}),
        "registered",
    )
    .await?;
    tokio::time::sleep_until(start.into()).await;

    let grace = end + Duration::from_secs(2);
    let staff_loop = async {
        let mut s = Samples::default();
        while let Some(v) = recv(&mut staff, grace).await {
            s.frames += 1;
            match v["type"].as_str() {
                Some("customer_message") if v["sessionId"] == session.as_str() => {
                    if let Some(sent) = v["message"].as_str().and_then(|t| t.parse::<u64>().ok()) {
                        s.to_staff_us.push(now_us().saturating_sub(sent));
                    }
                    let reply = json!({"type": "staff_message", "sessionId": session, "content": now_us().to_string()});
                    if send(&mut staff, reply).await.is_err() {
                        break;
                    }
                }
                Some("error") => s.errors += 1,
                _ => {}
            }
        }
        s
    };
    let customer_loop = async {
        let mut s = Samples::default();
        while Instant::now() < end {
            let sent_at = Instant::now();
            if send(
                &mut customer,
                json!({"type": "customer_message", "message": now_us().to_string()}),
            )
            .await
            .is_err()
            {
                break;
            }
            let mut replied = false;
            while let Some(v) = recv(&mut customer, grace).await {
                s.frames += 1;
                match v["type"].as_str() {
                    Some("staff_reply") => {
                        if let Some(sent) =
                            v["message"].as_str().and_then(|t| t.parse::<u64>().ok())
                        {
                            s.to_customer_us.push(now_us().saturating_sub(sent));
                        }
                        s.round_trip_us.push(sent_at.elapsed().as_micros() as u64);
                        replied = true;
                        break;
                    }
                    Some("error") => s.errors += 1,
                    _ => {}
                }
            }
            if !replied {
                break;
            }
        }
        s
    };
    let (mut a, b) = futures_util::join!(staff_loop, customer_loop);
    a.merge(b);
    Ok(a)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn health_url(ws_url: &str) -> String {
    let http = ws_url
        .replacen("ws://", "http://", 1)
        .replacen("wss://", "https://", 1);
    match http.split_once("://") {
        Some((scheme, rest)) => format!(
            "{scheme}://{}/health",
            rest.split('/').next().unwrap_or(rest)
        ),
        None => http,
    }
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

/// One viewer: connects, registers, chats if it is a chatter, and times every chat line.
async fn run_viewer(
    url: String,
    k: usize,
    chatter: bool,
    rate: f64,
    start: Instant,
    end: Instant,
) -> Result<Samples, String> {
    let mut conn = connect(&url).await?;
    register(
        &mut conn,
        json!({"type": "register", "sessionId": format!("lg-viewer-{k}-{}", now_us())}),
        "registered",
    )
    .await?;
    tokio::time::sleep_until(start.into()).await;
    let grace = end + Duration::from_secs(2);
    let mut s = Samples::default();
    let mut next_send = if chatter { Some(Instant::now()) } else { None };
    let every = Duration::from_secs_f64(1.0 / rate.max(0.001));
    loop {
        let until = match next_send {
            Some(t) if t < end => t.min(grace),
            _ => grace,
        };
        if Instant::now() >= grace {
            break;
        }
        match tokio::time::timeout_at(until.into(), conn.next()).await {
            Err(_) => {
                if let Some(t) = next_send.filter(|t| Instant::now() >= *t && *t < end) {
                    send(
                        &mut conn,
                        json!({"type": "chat_message", "message": now_us().to_string()}),
                    )
                    .await?;
                    next_send = Some(t + every);
                }
            }
            Ok(Some(Ok(Frame::Text(b)))) => {
                s.frames += 1;
                let Ok(v) = serde_json::from_slice::<Value>(&b) else {
                    continue;
                };
                match v["type"].as_str() {
                    Some("chat_message") => {
                        if let Some(sent) =
                            v["message"].as_str().and_then(|t| t.parse::<u64>().ok())
                        {
                            s.to_staff_us.push(now_us().saturating_sub(sent));
                        }
                    }
                    Some("stream_update") => s.round_trip_us.push(0),
                    Some("error") => s.errors += 1,
                    _ => {}
                }
            }
            Ok(Some(Ok(Frame::Ping(p)))) => {
                let _ = conn.send(ws::Message::Pong(p)).await;
            }
            Ok(Some(Ok(_))) => {}
            Ok(_) => return Err("connection closed".into()),
        }
    }
    Ok(s)
}

/// Start or stop the live stream over REST as staff.
fn stream_control(http: &str, token: &str, stop: Option<&str>) -> Result<String, String> {
    let (http, token) = (http.to_owned(), token.to_owned());
    let stop = stop.map(str::to_owned);
    actix_rt::System::new().block_on(async move {
        let client = awc::Client::new();
        let req = match &stop {
            None => client.post(format!("{http}/api/live/streams")),
            Some(id) => client.post(format!("{http}/api/live/streams/{id}/stop")),
        }
        .insert_header(("Authorization", format!("Bearer {token}")));
        let mut resp = match stop {
            None => {
                req.send_json(&json!({"title": "loadgen", "quality": "720p"}))
                    .await
            }
            Some(_) => req.send().await,
        }
        .map_err(|e| e.to_string())?;
        let body: Value = resp.json().await.map_err(|e| e.to_string())?;
        body["data"]["streamId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("stream control failed: {body}"))
    })
}

fn run_stream(args: &Args, keys: &JwtKeys) {
    let http = health_url(&args.url).trim_end_matches("/health").to_owned();
    let token = keys.mint(
        "loadgen-host",
        "admin",
        "Load Host",
        Duration::from_secs(3600),
    );
    let stream_id = match stream_control(&http, &token, None) {
        Ok(id) => id,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(1);
        }
    };
    let threads = args.threads.max(1);
    let start = Instant::now()
        + Duration::from_secs(3)
        + Duration::from_millis(2 * args.viewers as u64 / threads as u64);
    let end = start + args.duration;
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (args, tx) = (args.clone(), tx.clone());
            std::thread::spawn(move || {
                actix_rt::System::new().block_on(async move {
                    let viewers = (t..args.viewers).step_by(threads).map(|k| {
                        run_viewer(
                            args.url.clone(),
                            k,
                            k < args.chatters,
                            args.rate,
                            start,
                            end,
                        )
                    });
                    for r in futures_util::future::join_all(viewers).await {
                        let _ = tx.send(r);
                    }
                })
            })
        })
        .collect();
    drop(tx);
    let (mut all, mut failed) = (Samples::default(), 0);
    for r in rx {
        match r {
            Ok(s) => all.merge(s),
            Err(e) => {
                failed += 1;
                if failed <= 3 {
                    eprintln!("viewer failed: {e}");
                }
            }
        }
    }
    for h in handles {
        let _ = h.join();
    }
    let _ = stream_control(&http, &token, Some(&stream_id));
    let secs = args.duration.as_secs_f64();
    all.to_staff_us.sort_unstable();
    let sent = (args.chatters as f64 * args.rate * secs).round();
    println!(
        "viewers: {} ({} failed), chatters: {} at {}/s, threads: {}, measured: {:.0}s",
        args.viewers, failed, args.chatters, args.rate, threads, secs
    );
    println!(
        "chat messages sent: ~{sent:.0}; delivered to viewers: {} ({:.0}/s)",
        all.to_staff_us.len(),
        all.to_staff_us.len() as f64 / secs
    );
    println!(
        "delivery latency   p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms",
        percentile(&all.to_staff_us, 0.5),
        percentile(&all.to_staff_us, 0.99),
        percentile(&all.to_staff_us, 1.0)
    );
    println!(
        "stream_update frames per viewer per second: {:.1} (coalesced)",
        all.round_trip_us.len() as f64 / args.viewers.max(1) as f64 / secs
    );
    println!("errors: {}", all.errors);
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
    if args.mode == "stream" {
        return run_stream(&args, &keys);
    }
    let run = format!("{:x}", now_us());
    let health = health_url(&args.url);
    let before = fetch_health(&health);

    // Everyone connects first; the clock starts together for all threads.
    let start = Instant::now()
        + Duration::from_secs(2)
        + Duration::from_millis(20 * args.pairs as u64 / args.threads.max(1) as u64);
    let end = start + args.duration;
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
                        let url = args.url.clone();
                        let (run, sio) = (run.clone(), args.mode == "sio");
                        async move {
                            if sio {
                                run_sio_pair(url, customer, token, start, end).await
                            } else {
                                run_pair(url, k, run, token, start, end).await
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
        "mode: {}, pairs: {} ({} failed), threads: {}, measured: {:.0}s",
        args.mode, args.pairs, failed, args.threads, secs
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
