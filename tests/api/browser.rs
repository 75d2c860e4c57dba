//! The bundled pages in a real browser: headless Chromium (Debian's `chromium`) driven
//! by playwright-core, against the real server. Screenshots go to `target/screenshots/`.
//! Without `/usr/bin/chromium` these tests say so and pass, unless
//! `SB_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs it) makes that a failure.

use crate::helpers::spawn_app;
use crate::node;

const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_available() -> bool {
    if std::path::Path::new(CHROMIUM).exists() {
        return true;
    }
    assert!(
        std::env::var("SB_REQUIRE_BROWSER").is_err(),
        "SB_REQUIRE_BROWSER is set but {CHROMIUM} is missing (apt-get install chromium)"
    );
    eprintln!("skipping browser tests: {CHROMIUM} is not installed (apt-get install chromium)");
    false
}

/// Run one file of `tests/browser/` against a fresh server.
async fn run(file: &'static str, mut env: Vec<(&'static str, String)>) {
    if !browser_available() {
        return;
    }
    let app = spawn_app().await;
    env.push(("SB_CHROMIUM", CHROMIUM.into()));
    node::run("browser", file, &app, env).await;
}

#[actix_web::test]
async fn support_conversation_between_widget_and_console() {
    run("support.test.js", vec![]).await;
}

/// The test starts and restarts its own server process (the binary cargo built), so
/// it can kill it under the pages and bring it back on the same port and data.
#[actix_web::test]
async fn pages_reconnect_after_a_server_restart() {
    let bin = ("SB_BIN", env!("CARGO_BIN_EXE_switchboard").into());
    run("restart.test.js", vec![bin]).await;
}

#[actix_web::test]
async fn live_stream_between_host_and_viewer() {
    run("live.test.js", vec![]).await;
}

#[actix_web::test]
async fn console_tools_and_the_widget_on_a_phone() {
    run("console.test.js", vec![]).await;
}

#[actix_web::test]
async fn team_desk_in_the_console_and_the_widget() {
    run("desk.test.js", vec![]).await;
}

#[actix_web::test]
async fn office_hours_customer_details_and_the_widgets_look() {
    run("desk_widget.test.js", vec![]).await;
}

#[actix_web::test]
async fn accessibility_of_every_page_by_axe() {
    run("a11y.test.js", vec![]).await;
}
