//! `--mode idle`: connections registered and held, and what they cost the server in
//! resident memory.

use super::*;

/// The resident set of a process, in bytes (Linux `/proc`).
fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

pub fn run_idle(args: &Args) {
    let run = format!("{:x}", now_us());
    let n = args.connections;
    let threads = args.threads.max(1);
    let before = args.server_pid.and_then(rss);
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
    let hold_for = args.duration + Duration::from_secs(600);
    for t in 0..threads {
        let (url, run, ready_tx) = (args.node(0, 0), run.clone(), ready_tx.clone());
        std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let until = Instant::now() + hold_for;
                let mine: Vec<usize> = (t..n).step_by(threads).collect();
                // At most 100 connecting at once per thread; then all are held.
                let connected: Vec<Conn> = futures_util::stream::iter(mine)
                    .map(|k| {
                        let (url, run, ready) = (url.clone(), run.clone(), ready_tx.clone());
                        async move {
                            let session = format!("lg-idle-{run}-{k:08}");
                            let frame = json!({"type": "register", "sessionId": session});
                            let conn = match connect(&url).await {
                                Ok(mut c) => {
                                    register(&mut c, frame, "registered").await.map(|()| c)
                                }
                                Err(e) => Err(e),
                            };
                            match conn {
                                Ok(c) => {
                                    let _ = ready.send(Ok(()));
                                    Some(c)
                                }
                                Err(e) => {
                                    let _ = ready.send(Err(e));
                                    None
                                }
                            }
                        }
                    })
                    .buffer_unordered(100)
                    .filter_map(|c| async move { c })
                    .collect()
                    .await;
                // Answer pings and drain whatever comes, until the end.
                let held = connected
                    .into_iter()
                    .map(|mut conn| async move { while recv(&mut conn, until).await.is_some() {} });
                futures_util::future::join_all(held).await;
            })
        });
    }
    drop(ready_tx);
    let (mut ok, mut failed) = (0usize, 0usize);
    for r in ready_rx.iter().take(n) {
        match r {
            Ok(()) => ok += 1,
            Err(e) => {
                failed += 1;
                if failed <= 5 {
                    eprintln!("connection failed: {e}");
                }
            }
        }
    }
    // Let the server settle (allocator, timers) before reading its memory.
    std::thread::sleep(args.duration.min(Duration::from_secs(30)));
    let after = args.server_pid.and_then(rss);
    println!("mode: idle, connections: {ok} registered ({failed} failed), threads: {threads}");
    match (before, after) {
        (Some(b), Some(a)) => {
            let per = a.saturating_sub(b) as f64 / ok.max(1) as f64;
            println!(
                "server RSS: {:.1} MB before, {:.1} MB after: {:.2} KB per idle connection",
                b as f64 / 1e6,
                a as f64 / 1e6,
                per / 1024.0
            );
        }
        _ => println!("server RSS: not read (give --server-pid)"),
    }
    // The held connections end with the process.
    std::process::exit(0);
}
