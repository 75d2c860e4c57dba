//! Node test suites under `tests/<suite>/`, run against a real server: Node's test
//! runner, with the server's address, secret and data directory in the environment.
//! `npm ci` runs first if the suite's `node_modules` is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::helpers::TestApp;

fn suite_dir(suite: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(suite)
}

static NPM: Mutex<()> = Mutex::new(());

/// Install a suite's pinned packages once (tests run in parallel).
fn ensure_node_modules(suite: &str) {
    let _guard = NPM.lock().unwrap_or_else(|e| e.into_inner());
    let dir = suite_dir(suite);
    if dir.join("node_modules").is_dir() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("npm must be installed to run the Node test suites");
    assert!(status.success(), "npm ci in tests/{suite} failed");
}

/// Run `tests/<suite>/<file>` against `app`; it must pass, and run at least one test.
pub async fn run(
    suite: &'static str,
    file: &'static str,
    app: &TestApp,
    env: Vec<(&'static str, String)>,
) {
    let secret = app
        .config
        .jwt_secret
        .clone()
        .expect("test config has a secret");
    run_at(
        suite,
        file,
        app.url(""),
        secret,
        app.config.data_dir.clone(),
        env,
    )
    .await;
}

/// Run `tests/<suite>/<file>` against the server at `url` (its JWT secret and data
/// directory given); it must pass, and run at least one test.
pub async fn run_at(
    suite: &'static str,
    file: &'static str,
    url: String,
    secret: String,
    data_dir: PathBuf,
    env: Vec<(&'static str, String)>,
) {
    let out = actix_web::rt::task::spawn_blocking(move || {
        ensure_node_modules(suite);
        let mut cmd = Command::new("node");
        cmd.args([
            "--test",
            "--test-reporter=spec",
            // A bound on a hung file, not a speed check: CI runs every file at once on
            // two cores, and a file of several browser tests may take a minute there.
            "--test-timeout=180000",
            "--test-force-exit",
            file,
        ])
        .current_dir(suite_dir(suite))
        .env("SB_URL", url)
        .env("SB_SECRET", secret)
        .env("SB_DATA_DIR", data_dir)
        .env(
            "SB_SCREENSHOTS",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"),
        );
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output()
            .expect("node must be installed to run the Node test suites")
    })
    .await
    .expect("node runner");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        // The whole output first, then its telling lines again last, where a log's
        // tail (before the backtrace) still shows them.
        eprintln!("{stdout}\n{stderr}");
        let telling: Vec<&str> = stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| {
                [
                    "Error",
                    "waiting for",
                    "locator",
                    "expected",
                    "actual",
                    "not ok",
                ]
                .iter()
                .any(|k| l.contains(k))
            })
            .take(20)
            .collect();
        panic!("{file} failed; in short:\n{}", telling.join("\n"));
    }
    // A run that found no tests must not pass.
    let passed: u32 = stdout
        .lines()
        .find_map(|l| l.trim_start_matches(['ℹ', '#', ' ']).strip_prefix("pass "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(passed > 0, "{file} ran no tests:\n{stdout}");
}
