//! A mono recording's speakers (SPEC §4.2): the voice encoder tells the two voices apart, and
//! the first to speak is the agent on an inbound call and the customer on an outbound one
//! (direction from the tenant's agent numbers). Real whisper, MiniLM and Resemblyzer.

use http::StatusCode;
use serde_json::{Value, json};
use switchboard_core::Area;
use switchboard_engines::audio::{DecodeLimits, TARGET_RATE, decode, wav_i16};

use crate::harness::{TestApp, TestTenant};
use crate::pipeline::support;
use crate::pipeline::{AI_CONFIG, models_and_voice, pipeline, put_config};

const AGENT_NUMBER: &str = "+18005550100";
const CUSTOMER_NUMBER: &str = "+14155550101";

/// Who speaks each line: a male and a female espeak-ng voice.
const LINES: [(&str, &str); 4] = [
    (
        "en",
        "Thank you for calling Demo Insurance, my name is Sarah. How can I help you today?",
    ),
    (
        "en+f3",
        "Hi, I moved house last month and I need to change the address on my policy.",
    ),
    (
        "en",
        "I can help with that. For security, could you confirm your date of birth please?",
    ),
    ("en+f3", "Sure, it is the fourth of July nineteen eighty."),
];

/// The lines one after another on one channel, 0.7 s apart.
fn mono_call() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("line.wav");
    let mut samples = Vec::new();
    for (voice, text) in LINES {
        support::run(
            "espeak-ng",
            &["-v", voice, "-s", "150", "-w", path.to_str().unwrap(), text],
        );
        let speech = decode(&std::fs::read(&path).unwrap(), DecodeLimits::default())
            .unwrap()
            .mixdown();
        samples.extend(speech.iter().map(|s| (s.clamp(-1.0, 1.0) * 32767.0) as i16));
        samples.extend(std::iter::repeat_n(0, TARGET_RATE as usize * 7 / 10));
    }
    wav_i16(TARGET_RATE, 1, &samples)
}

/// The accepted call's id.
async fn upload(
    app: &TestApp,
    tenant: &TestTenant,
    audio: Vec<u8>,
    calling: &str,
    called: &str,
) -> String {
    assert_eq!(
        put_config(app, &tenant.admin_token, "ai", AI_CONFIG)
            .await
            .status,
        StatusCode::OK
    );
    let meta = json!({
        "calling_party": calling, "called_party": called, "started_at": "2026-11-20T10:00:00Z",
    });
    let uploaded = app
        .upload(
            &tenant.admin_token,
            &[
                ("audio", Some("mono.wav"), audio),
                ("meta", None, meta.to_string().into_bytes()),
            ],
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::ACCEPTED, "{}", uploaded.text);
    uploaded.body["call_id"].as_str().unwrap().to_owned()
}

/// The call's published record.
async fn record(app: &TestApp, tenant: &TestTenant, id: &str) -> Value {
    let detail = app
        .get(&format!("/api/v1/calls/{id}"), &tenant.member_token)
        .await;
    assert_eq!(detail.body["status"], "published", "{}", detail.text);
    detail.body["record"].clone()
}

/// The speaker of the utterance that contains `words`.
fn speaker_of(record: &Value, words: &str) -> String {
    record["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["text"].as_str().unwrap().to_lowercase().contains(words))
        .unwrap_or_else(|| panic!("no utterance says {words:?}: {}", record["transcript"]))
        ["speaker"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_mono_calls_speakers_come_from_their_voices() {
    let Some(files) = models_and_voice() else {
        return;
    };
    let app = TestApp::new().await;
    let inbound = app.tenant("mono-in").await;
    let outbound = app.tenant("mono-out").await;
    let audio = mono_call();
    let call_in = upload(&app, &inbound, audio.clone(), CUSTOMER_NUMBER, AGENT_NUMBER).await;
    let call_out = upload(&app, &outbound, audio, AGENT_NUMBER, CUSTOMER_NUMBER).await;
    let pipeline = pipeline(&app, files.whisper_tiny_en(), Some(files.minilm_dir()));
    assert_eq!(pipeline.run_until_idle("test").await.unwrap(), 8);

    // Inbound: the first voice answered, so it is the agent's.
    let record_in = record(&app, &inbound, &call_in).await;
    assert_eq!(record_in["call"]["direction"], "inbound");
    assert_eq!(speaker_of(&record_in, "thank you for calling"), "agent");
    assert_eq!(speaker_of(&record_in, "moved house"), "customer");
    assert_eq!(speaker_of(&record_in, "security"), "agent");
    // whisper writes "fourth" or "4th".
    assert_eq!(speaker_of(&record_in, "of july"), "customer");
    let ratio = record_in["metrics"]["agent_talk_ratio"].as_f64().unwrap();
    assert!((0.4..0.8).contains(&ratio), "agent talk ratio {ratio}");

    // Outbound: the same recording, but the first voice is the customer answering.
    let record_out = record(&app, &outbound, &call_out).await;
    assert_eq!(record_out["call"]["direction"], "outbound");
    assert_eq!(speaker_of(&record_out, "thank you for calling"), "customer");
    assert_eq!(speaker_of(&record_out, "moved house"), "agent");

    // The raw transcript says how the speakers were told apart.
    let objects = app
        .storage
        .tenant(&app.scope(&inbound.admin_token).await)
        .unwrap();
    let raw: Value = serde_json::from_slice(
        &objects
            .get(Area::Results, &format!("raw/{call_in}.json"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        raw["diarization"],
        json!({"method": "voices", "model": "resemblyzer-0.1.4", "voices": 2})
    );
    assert_eq!(raw["channels"], 1);
    // And the record's provenance names the voice encoder.
    assert_eq!(record_in["provenance"]["diarization"], raw["diarization"]);
}
