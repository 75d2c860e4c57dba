//! `--mode stream`: a live stream, N viewers, K chatters at a rate; every line timed at
//! every viewer.

use super::*;

/// How often a viewer chats (if it is a chatter) and reacts (if at all).
#[derive(Clone, Copy)]
struct Pace {
    chat: Option<Duration>,
    react: Option<Duration>,
    /// Where in its interval this chatter writes (0 to 1): chatters take turns, as a
    /// crowd does, rather than all writing in the same instant.
    phase: f64,
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

fn every(per_sec: f64) -> Option<Duration> {
    (per_sec > 0.0).then(|| Duration::from_secs_f64(1.0 / per_sec))
}

/// One viewer: connects, registers, chats if it is a chatter, reacts at its pace, and
/// times every chat line.
async fn run_viewer(
    url: String,
    k: usize,
    pace: Pace,
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
    let mut next_send = pace.chat.map(|e| Instant::now() + e.mul_f64(pace.phase));
    // Taps spread over the first interval, so that viewers do not tap in step.
    let mut next_react = pace
        .react
        .map(|e| Instant::now() + e.mul_f64((k % 100) as f64 / 100.0));
    loop {
        let due = |t: Option<Instant>| t.filter(|t| *t < end);
        let until = [due(next_send), due(next_react), Some(grace)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(grace);
        if Instant::now() >= grace {
            break;
        }
        match tokio::time::timeout_at(until.into(), conn.next()).await {
            Err(_) => {
                let now = Instant::now();
                if let (Some(t), Some(e)) = (due(next_send).filter(|t| now >= *t), pace.chat) {
                    send(
                        &mut conn,
                        json!({"type": "chat_message", "message": now_us().to_string()}),
                    )
                    .await?;
                    next_send = Some(t + e);
                }
                if let (Some(t), Some(e)) = (due(next_react).filter(|t| now >= *t), pace.react) {
                    send(&mut conn, json!({"type": "reaction", "emoji": "❤️"})).await?;
                    s.reactions_sent += 1;
                    next_react = Some(t + e);
                }
            }
            Ok(Some(Ok(Frame::Text(b)))) => {
                s.frames += 1;
                let Ok(v) = serde_json::from_slice::<Seen>(&b) else {
                    continue;
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

pub fn run_stream(args: &Args, keys: &JwtKeys) {
    let http = health_url(&args.node(0, 0))
        .trim_end_matches("/health")
        .to_owned();
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
    let published = count_publishes(args, start, end);
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (args, tx) = (args.clone(), tx.clone());
            std::thread::spawn(move || {
                actix_rt::System::new().block_on(async move {
                    let viewers = (t..args.viewers).step_by(threads).map(|k| {
                        let pace = Pace {
                            phase: k as f64 / args.chatters.max(1) as f64,
                            chat: every(args.rate).filter(|_| k < args.chatters),
                            react: every(args.reactions),
                        };
                        run_viewer(args.node(k, 0), k, pace, start, end)
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
        "viewers: {} ({} failed) on {} node(s), chatters: {} at {}/s, threads: {}, measured: {:.0}s",
        args.viewers,
        failed,
        args.urls().len(),
        args.chatters,
        args.rate,
        threads,
        secs
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
    if args.reactions > 0.0 {
        println!(
            "reactions tapped: {} ({:.0}/s); reactions frames per viewer per second: {:.1}; taps shown to one viewer on average: {:.0}",
            all.reactions_sent,
            all.reactions_sent as f64 / secs,
            all.reaction_frames as f64 / args.viewers.max(1) as f64 / secs,
            all.reactions_seen as f64 / args.viewers.max(1) as f64
        );
    }
    println!("chat lines skipped for slow viewers: {}", all.skipped);
    println!("errors: {}", all.errors);
    report_publishes(published, sent as usize);
}
