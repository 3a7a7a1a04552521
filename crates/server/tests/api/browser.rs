//! The dashboard in a real browser: the seeded dataset of `dashboard` is served on loopback and
//! `tests/browser/dashboard.mjs` drives Debian's headless Chromium through it (sign in, the
//! overview shows only A's numbers, an agent, a call with transcript and QA, audio seeking and
//! byte ranges, B's call is 404, a member has no admin navigation). Screenshots of each page,
//! desktop and 360 px wide, land in `target/screenshots/`.
//!
//! It needs `node`, `tests/browser/node_modules` (`npm ci`) and `/usr/bin/chromium`; without
//! them it is skipped, unless `SWITCHBOARD_REQUIRE_BROWSER_TESTS=1` (as `scripts/test` sets).

use std::path::PathBuf;

use crate::dashboard::{ANA, RANGE, add_member, seed};
use crate::harness::{PASSWORD, TestApp};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why the browser cannot run here, if it cannot.
fn missing() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !PathBuf::from(&chromium).exists() {
        return Some(format!("{chromium} is missing (apt install chromium)"));
    }
    if !repo_root()
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        return Some("tests/browser/node_modules is missing (npm ci in tests/browser)".into());
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_headless_chromium() {
    if let Some(why) = missing() {
        if std::env::var("SWITCHBOARD_REQUIRE_BROWSER_TESTS").as_deref() == Ok("1") {
            panic!("the browser test is required but cannot run: {why}");
        }
        eprintln!("skipping the browser test: {why}");
        return;
    }
    let app = TestApp::new().await;
    let (a, b) = (app.tenant("acme").await, app.tenant("globex").await);
    let seeded = seed(&app, &a, &b).await;
    add_member(&app, &a, "mo@acme.test").await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(axum::serve(listener, app.router.clone()).into_future());

    let backend = format!("{:?}", crate::harness::backend()).to_lowercase();
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(180),
        tokio::process::Command::new("node")
            .arg(repo_root().join("tests/browser/dashboard.mjs"))
            .env("BASE_URL", &base)
            .env("RANGE", RANGE)
            .env("TENANT", "acme")
            .env("ADMIN_EMAIL", &a.admin_email)
            .env("MEMBER_EMAIL", "mo@acme.test")
            .env("PASSWORD", PASSWORD)
            .env("AGENT", ANA)
            .env("CALL", &seeded.ids[0])
            .env("OTHER_CALL", &seeded.ids[5])
            .env("OTHER_AGENT", "zed@globex.example")
            // Worked out by hand in `dashboard::seed`.
            .env("EXPECT_CALLS", "4")
            .env("EXPECT_QA", "50%")
            .env("EXPECT_AGENT_CALLS", "2")
            .env("EXPECT_UTTERANCE", "My invoice is wrong")
            .env(
                "SCREENSHOTS",
                repo_root().join("target/screenshots").join(backend),
            )
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the browser test finishes within 3 minutes")
    .expect("node runs");
    server.abort();
    assert!(
        output.status.success(),
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
