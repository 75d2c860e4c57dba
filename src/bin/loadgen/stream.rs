//! `--mode stream`: a live stream, N viewers, K chatters at a rate; every line timed at
//! every viewer.

use super::viewers::{self, Pace};
use super::*;

fn every(per_sec: f64) -> Option<Duration> {
    (per_sec > 0.0).then(|| Duration::from_secs_f64(1.0 / per_sec))
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
    let run = format!("{:x}", now_us());
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (args, run, tx) = (args.clone(), run.clone(), tx.clone());
            std::thread::spawn(move || {
                let mine = (t..args.viewers)
                    .step_by(threads)
                    .map(|k| {
                        let pace = Pace {
                            phase: k as f64 / args.chatters.max(1) as f64,
                            chat: every(args.rate).filter(|_| k < args.chatters),
                            react: every(args.reactions),
                        };
                        (k, args.node(k, 0), pace)
                    })
                    .collect();
                let _ = tx.send(viewers::run_thread(&run, mine, start, end));
            })
        })
        .collect();
    drop(tx);
    let (mut all, mut failed) = (Samples::default(), 0);
    for (s, failures) in rx {
        all.merge(s);
        for e in failures {
            failed += 1;
            if failed <= 3 {
                eprintln!("viewer failed: {e}");
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
