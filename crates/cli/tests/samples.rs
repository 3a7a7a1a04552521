//! `switchboard samples generate` makes stereo and μ-law calls with sidecars and known
//! transcripts; with the models fetched, whisper's word error rate on them is bounded, their mono
//! mixes' two voices are told apart, and the figures are printed (they go in BENCHMARKS.md).

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use switchboard_engines::asr::word_error_rate as wer;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn required() -> bool {
    std::env::var("SWITCHBOARD_REQUIRE_MODEL_TESTS").is_ok_and(|v| v == "1")
}

fn run(data: &Path, args: &[&str]) -> String {
    let output = Command::new(BIN)
        .args(args)
        .env("SWITCHBOARD_DATA_DIR", data)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn generated_calls_have_sidecars_transcripts_and_transcribe() {
    let tools = ["espeak-ng", "text2wave", "sox"];
    if let Some(missing) = tools
        .iter()
        .find(|t| Command::new(t).arg("--help").output().is_err())
    {
        assert!(!required(), "{missing} is required");
        eprintln!("skipped: {missing} is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("samples");
    run(
        dir.path(),
        &["samples", "generate", "--out", out.to_str().unwrap()],
    );

    let transcripts: Vec<_> = std::fs::read_dir(out.join("transcripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(transcripts.len(), 5);
    for variant in ["16k", "8k-ulaw", "mono-8k-ulaw"] {
        for t in &transcripts {
            let id = t.file_stem().unwrap().to_str().unwrap();
            let wav = std::fs::read(out.join(variant).join(format!("{id}.wav"))).unwrap();
            // RIFF header: channels at 22, sample rate at 24, format tag at 20 (7 = μ-law).
            let channels = u16::from_le_bytes([wav[22], wav[23]]);
            let rate = u32::from_le_bytes([wav[24], wav[25], wav[26], wav[27]]);
            let mono = variant.starts_with("mono");
            assert_eq!(channels, if mono { 1 } else { 2 }, "{variant}/{id}");
            assert_eq!(rate, if variant == "16k" { 16_000 } else { 8_000 });
            let meta: Value = serde_json::from_slice(
                &std::fs::read(out.join(variant).join(format!("{id}.json"))).unwrap(),
            )
            .unwrap();
            for field in [
                "calling_party",
                "called_party",
                "started_at",
                "ended_at",
                "direction",
                "agent",
            ] {
                assert!(!meta[field].is_null(), "{id}: {field}");
            }
            // A mono recording has no channel map and is a recording of its own.
            assert_eq!(meta["channels"].is_null(), mono, "{variant}/{id}");
            assert_eq!(
                meta["provider_recording_id"]
                    .as_str()
                    .unwrap()
                    .ends_with("-mono"),
                mono
            );
        }
    }

    let Some(models) = std::env::var_os("SWITCHBOARD_TEST_MODELS") else {
        assert!(!required(), "SWITCHBOARD_TEST_MODELS must be set");
        return;
    };
    let models = Path::new(&models);
    let mut total = (0.0, 0);
    for variant in ["16k", "8k-ulaw"] {
        for t in &transcripts {
            let known: Value = serde_json::from_slice(&std::fs::read(t).unwrap()).unwrap();
            let id = known["id"].as_str().unwrap();
            let json = run(
                models,
                &[
                    "transcribe",
                    "--json",
                    out.join(variant)
                        .join(format!("{id}.wav"))
                        .to_str()
                        .unwrap(),
                ],
            );
            let got: Value = serde_json::from_str(&json).unwrap();
            for (channel, speaker) in [(0, "agent"), (1, "customer")] {
                let reference: Vec<&str> = known["turns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|turn| turn["channel"] == channel)
                    .map(|turn| turn["text"].as_str().unwrap())
                    .collect();
                let hypothesis: Vec<&str> = got["utterances"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|u| u["channel"] == channel)
                    .map(|u| u["text"].as_str().unwrap())
                    .collect();
                let w = wer(&reference.join(" "), &hypothesis.join(" "));
                let voice = known["voices"][speaker].as_str().unwrap();
                println!("WER {variant} {voice} {id} {speaker}: {w:.3}");
                total = (total.0 + w, total.1 + 1);
            }
        }
    }
    let mean = total.0 / f64::from(total.1);
    println!("mean WER {mean:.3}");
    assert!(mean < 0.35, "mean WER {mean}");

    // In mono — the generated telephone variant, and the 16 kHz call mixed down — the two voices
    // are told apart: each utterance's speaker against the scripted turn it overlaps most,
    // weighted by duration (speaker 0 is whoever spoke first).
    let mut agreement = (0.0, 0.0);
    for variant in ["16k mixed", "mono-8k-ulaw"] {
        for t in &transcripts {
            let known: Value = serde_json::from_slice(&std::fs::read(t).unwrap()).unwrap();
            let id = known["id"].as_str().unwrap();
            let mono = if variant == "16k mixed" {
                let mixed = dir.path().join(format!("{id}-mono.wav"));
                let stereo = out.join("16k").join(format!("{id}.wav"));
                let sox = Command::new("sox")
                    .args([stereo.as_os_str(), mixed.as_os_str()])
                    .args(["channels", "1"])
                    .status()
                    .unwrap();
                assert!(sox.success());
                mixed
            } else {
                out.join(variant).join(format!("{id}.wav"))
            };
            let got: Value = serde_json::from_str(&run(
                models,
                &["transcribe", "--json", mono.to_str().unwrap()],
            ))
            .unwrap();
            let (right, total) = speaker_agreement(&known, &got);
            println!("speakers {variant} {id}: {:.3} of talk time", right / total);
            agreement = (agreement.0 + right, agreement.1 + total);
        }
    }
    let share = agreement.0 / agreement.1;
    println!("speakers told apart on mono mixes: {share:.3} of talk time");
    assert!(share > 0.95, "mono speaker agreement {share}");
}

/// Talk time (ms) whose voice label matches the script, and all talk time.
fn speaker_agreement(known: &Value, got: &Value) -> (f64, f64) {
    let turns = known["turns"].as_array().unwrap();
    let utterances = got["utterances"].as_array().unwrap();
    let labels = got["speakers"]
        .as_array()
        .expect("a mono transcript has speakers");
    assert_eq!(labels.len(), utterances.len());
    let ms = |v: &Value| v.as_f64().unwrap();
    let scripted = |u: &Value| {
        turns
            .iter()
            .max_by(|a, b| {
                let overlap = |t: &Value| {
                    ms(&t["end_ms"]).min(ms(&u["end_ms"]))
                        - ms(&t["start_ms"]).max(ms(&u["start_ms"]))
                };
                overlap(a).total_cmp(&overlap(b))
            })
            .map(|t| t["speaker"].as_str().unwrap())
            .unwrap()
    };
    let first = scripted(&utterances[0]);
    let (mut right, mut total) = (0.0, 0.0);
    for (u, label) in utterances.iter().zip(labels) {
        let length = ms(&u["end_ms"]) - ms(&u["start_ms"]);
        let same_as_first = scripted(u) == first;
        if same_as_first == (label.as_u64() == Some(0)) {
            right += length;
        }
        total += length;
    }
    (right, total)
}
