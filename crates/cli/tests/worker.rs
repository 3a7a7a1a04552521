//! Crash safety with a real worker process: `switchboard worker` is killed with SIGKILL in the
//! middle of transcribing; after its lease runs out another worker finishes the call, leaving
//! exactly one set of artifacts. Needs the models and espeak-ng (skips without them unless
//! SWITCHBOARD_REQUIRE_MODEL_TESTS=1).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
/// Model and tool checks that skip, unless SWITCHBOARD_REQUIRE_MODEL_TESTS=1.
#[path = "../../engines/tests/support/mod.rs"]
mod support;

use common::ok;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn command(data: &Path, models: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SWITCHBOARD_DATA_DIR", data)
        .env(
            "WHISPER_MODEL",
            models.join("models/whisper/ggml-tiny.en-q8_0.bin"),
        )
        .env(
            "EMBEDDING_MODEL_DIR",
            models.join("models/all-MiniLM-L6-v2"),
        )
        .env(
            "VOICE_MODEL",
            models.join("models/voice/resemblyzer-pretrained.pt"),
        );
    command
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(files_under(&path));
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn a_worker_killed_mid_stage_loses_nothing() {
    let Some(models) = support::models_data_dir() else {
        return;
    };
    if !support::have_tools(&["espeak-ng"]) {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let calls = data.path().join("calls");
    std::fs::create_dir_all(&calls).unwrap();
    support::speak(
        "Thank you for calling. I will read your policy details now. Your policy covers the house, \
         the garden, the garage and the contents of every room. The renewal date is the first of March. \
         I will send you a confirmation email today, and you will receive the documents by post next week.",
        &calls.join("long.wav"),
    );
    ok(command(data.path(), &models)
        .args([
            "tenant",
            "create",
            "crash",
            "--name",
            "Crash Co",
            "--admin-email",
            "a@crash.example",
        ])
        .env("SWITCHBOARD_ADMIN_PASSWORD", "a-long-password-1")
        .output()
        .unwrap());
    ok(command(data.path(), &models)
        .args(["import"])
        .arg(&calls)
        .args(["--tenant", "crash"])
        .output()
        .unwrap());

    // A worker with a short lease starts transcribing; it is killed as soon as it has begun.
    let mut worker = command(data.path(), &models)
        .args(["worker", "--concurrency", "1"])
        .env("JOB_LEASE_SECS", "2")
        .env("RUST_LOG", "info")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(worker.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            Instant::now() < deadline,
            "the worker never started a stage"
        );
        let line = lines.next().expect("worker output").unwrap();
        if line.contains("stage started") && line.contains("transcribe") {
            break;
        }
    }
    worker.kill().unwrap(); // SIGKILL
    worker.wait().unwrap();
    let results = data.path().join("objects/results/crash");
    assert!(
        !results.join("final").exists(),
        "killed before the call was finished"
    );

    // Once the dead worker's lease has run out, another worker takes the job over and finishes.
    std::thread::sleep(Duration::from_millis(2500));
    let out = ok(command(data.path(), &models)
        .args(["worker", "--until-idle"])
        .output()
        .unwrap());
    assert!(out.contains("4 pipeline jobs ran"), "{out}");
    let artifacts: Vec<String> = files_under(&results)
        .iter()
        .map(|p| {
            p.strip_prefix(&results)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let kinds: Vec<&str> = artifacts
        .iter()
        .map(|a| a.split('/').next().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "raw").count(),
        1,
        "{artifacts:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "enriched").count(),
        1,
        "{artifacts:?}"
    );
    assert_eq!(
        artifacts
            .iter()
            .filter(|a| a.starts_with("final/v1.0/"))
            .count(),
        1,
        "{artifacts:?}"
    );
    assert_eq!(
        artifacts
            .iter()
            .filter(|a| a.starts_with("final/v2.0-flat/calls/"))
            .count(),
        1,
        "{artifacts:?}"
    );
    let record_path = files_under(&results.join("final/v1.0")).remove(0);
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(record_path).unwrap()).unwrap();
    let text = record["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["text"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    assert!(text.contains("renewal"), "{text}");
    assert!(
        record["next_steps"][0]["text"]
            .as_str()
            .unwrap()
            .contains("I will"),
        "{}",
        record["next_steps"]
    );
    // Nothing is left in the queue.
    let again = ok(command(data.path(), &models)
        .args(["worker", "--until-idle"])
        .output()
        .unwrap());
    assert!(again.contains("0 pipeline jobs ran"), "{again}");
}

/// The first line `switchboard worker` prints, then the worker is stopped.
fn worker_banner(data: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SWITCHBOARD_DATA_DIR", data)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut worker = command.spawn().unwrap();
    let line = BufReader::new(worker.stdout.take().unwrap())
        .lines()
        .next()
        .expect("a line from the worker")
        .unwrap();
    worker.kill().unwrap();
    worker.wait().unwrap();
    line
}

#[test]
fn workers_share_the_cores_among_their_model_computations() {
    let data = tempfile::tempdir().unwrap();
    let cores = std::thread::available_parallelism().unwrap().get();
    let expected = (cores / 2).max(1);
    let line = worker_banner(data.path(), &["worker", "--concurrency", "2"], &[]);
    assert!(
        line.contains(&format!("model threads per computation: {expected})")),
        "{line}"
    );
    let line = worker_banner(
        data.path(),
        &["worker", "--concurrency", "2"],
        &[("MODEL_THREADS", "3")],
    );
    assert!(line.contains("model threads per computation: 3)"), "{line}");
    // candle's own variable, set by the user, wins over the setting.
    let line = worker_banner(
        data.path(),
        &["worker", "--concurrency", "2"],
        &[("MODEL_THREADS", "3"), ("RAYON_NUM_THREADS", "5")],
    );
    assert!(line.contains("model threads per computation: 5)"), "{line}");
    let line = worker_banner(
        data.path(),
        &["worker", "--concurrency", "2"],
        &[("CANDLE_NUM_THREADS", "4")],
    );
    assert!(line.contains("model threads per computation: 4)"), "{line}");
}

#[test]
fn an_unknown_embedding_precision_is_refused_with_the_choices() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["worker", "--until-idle"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SWITCHBOARD_DATA_DIR", data.path())
        .env("EMBEDDING_PRECISION", "f16")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("EMBEDDING_PRECISION must be `bf16` or `f32`, not \"f16\""),
        "{stderr}"
    );
}
