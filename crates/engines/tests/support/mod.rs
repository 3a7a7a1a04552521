//! Helpers for tests that need external tools (espeak-ng, sox, lame) or model files.
//!
//! Those tests skip with a message when what they need is absent, unless
//! `SWITCHBOARD_REQUIRE_MODEL_TESTS=1` (set by `scripts/test`, so CI cannot skip them).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn required() -> bool {
    std::env::var("SWITCHBOARD_REQUIRE_MODEL_TESTS").is_ok_and(|v| v == "1")
}

/// Returns false (and says why) when the test should be skipped.
pub fn have_tools(tools: &[&str]) -> bool {
    for tool in tools {
        let found = Command::new(tool).arg("--version").output().is_ok();
        if !found {
            assert!(
                !required(),
                "{tool} is required (SWITCHBOARD_REQUIRE_MODEL_TESTS=1)"
            );
            eprintln!("skipped: {tool} is not installed");
            return false;
        }
    }
    true
}

/// The data directory holding `models/` (from `switchboard models fetch`), if set.
pub fn models_data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SWITCHBOARD_TEST_MODELS").map(PathBuf::from);
    if dir.is_none() {
        assert!(
            !required(),
            "SWITCHBOARD_TEST_MODELS must name a data dir with fetched models"
        );
        eprintln!("skipped: SWITCHBOARD_TEST_MODELS is not set");
    }
    dir
}

pub fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Speaks `text` into a 22 kHz mono WAV with espeak-ng.
pub fn speak(text: &str, out: &Path) {
    run(
        "espeak-ng",
        &["-s", "150", "-w", out.to_str().unwrap(), text],
    );
}

/// Serves `app` on a loopback port from a thread with its own runtime (the engines are
/// blocking clients) and returns `http://<addr>`.
pub fn serve_on_loopback(app: axum::Router) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}
