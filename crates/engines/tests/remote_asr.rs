//! The remote engine against a loopback server speaking OpenAI's transcription API
//! (`POST /v1/audio/transcriptions`, multipart, `verbose_json`).

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use secrecy::SecretString;
use switchboard_engines::asr::{AsrConfig, AsrError, RemoteAsrConfig};
use switchboard_engines::audio::{DecodedAudio, encode_wav_pcm16};

#[derive(Default)]
struct Seen {
    fields: Vec<(String, String)>,
    authorization: Option<String>,
    file_bytes: usize,
}

/// Serves `/v1/audio/transcriptions` with `mode` and returns its base URL.
fn server(mode: &'static str, seen: Arc<Mutex<Seen>>) -> String {
    let app = axum::Router::new()
        .route("/v1/audio/transcriptions", post(transcribe))
        .with_state((mode, seen));
    format!("{}/v1", support::serve_on_loopback(app))
}

async fn transcribe(
    State((mode, seen)): State<(&'static str, Arc<Mutex<Seen>>)>,
    headers: HeaderMap,
    mut form: Multipart,
) -> axum::response::Response {
    let mut record = Seen {
        authorization: headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string()),
        ..Seen::default()
    };
    while let Some(field) = form.next_field().await.unwrap() {
        let name = field.name().unwrap().to_string();
        if name == "file" {
            record.file_bytes = field.bytes().await.unwrap().len();
        } else {
            record.fields.push((name, field.text().await.unwrap()));
        }
    }
    *seen.lock().unwrap() = record;
    match mode {
        "ok" => axum::Json(serde_json::json!({
            "task": "transcribe", "language": "english", "duration": 4.0,
            "text": "Hello there. How can I help?",
            "segments": [
                {"id": 0, "seek": 0, "start": 0.0, "end": 1.5, "text": " Hello there.", "tokens": [1], "temperature": 0.0,
                 "avg_logprob": -0.1, "compression_ratio": 1.0, "no_speech_prob": 0.01},
                {"id": 1, "seek": 0, "start": 1.5, "end": 3.2, "text": " How can I help?", "tokens": [2], "temperature": 0.0,
                 "avg_logprob": -0.3, "compression_ratio": 1.0, "no_speech_prob": 0.02},
                {"id": 2, "seek": 0, "start": 3.2, "end": 4.0, "text": " Thank you.", "tokens": [3], "temperature": 0.0,
                 "avg_logprob": -1.5, "compression_ratio": 1.0, "no_speech_prob": 0.95}
            ]
        }))
        .into_response(),
        "busy" => (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "slow down").into_response(),
        "bad" => (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({"error": {"message": "Invalid file format.", "type": "invalid_request_error"}})),
        )
            .into_response(),
        _ => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            StatusCode::OK.into_response()
        }
    }
}

fn audio() -> DecodedAudio {
    let tone: Vec<f32> = (0..64_000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
    DecodedAudio {
        source_rate: 16_000,
        channels: vec![tone],
    }
}

fn engine(
    base_url: String,
    timeout: Duration,
) -> std::sync::Arc<dyn switchboard_engines::asr::SpeechToText> {
    AsrConfig::Remote(RemoteAsrConfig {
        base_url,
        model: "whisper-1".into(),
        api_key: Some(SecretString::from("sk-test-planted-secret")),
        timeout,
    })
    .build()
    .unwrap()
}

#[test]
fn segments_become_utterances() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let url = server("ok", seen.clone());
    let transcript = engine(url, Duration::from_secs(5))
        .transcribe(&audio())
        .unwrap();
    let texts: Vec<_> = transcript
        .utterances
        .iter()
        .map(|u| u.text.as_str())
        .collect();
    // The third segment is marked as no speech.
    assert_eq!(texts, ["Hello there.", "How can I help?"]);
    assert_eq!(
        (
            transcript.utterances[1].start_ms,
            transcript.utterances[1].end_ms
        ),
        (1500, 3200)
    );
    assert!((transcript.utterances[0].confidence - (-0.1f32).exp()).abs() < 1e-4);
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.authorization.as_deref(),
        Some("Bearer sk-test-planted-secret")
    );
    assert!(
        seen.fields
            .contains(&("response_format".into(), "verbose_json".into()))
    );
    assert!(seen.fields.contains(&("model".into(), "whisper-1".into())));
    assert_eq!(
        seen.file_bytes,
        encode_wav_pcm16(&audio().channels[0], 16_000).len()
    );
}

#[test]
fn rate_limits_and_timeouts_are_retryable_and_bad_requests_are_not() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let busy = engine(server("busy", seen.clone()), Duration::from_secs(5))
        .transcribe(&audio())
        .unwrap_err();
    assert!(busy.retryable(), "{busy}");
    let slow = engine(server("slow", seen.clone()), Duration::from_millis(300))
        .transcribe(&audio())
        .unwrap_err();
    assert!(slow.retryable(), "{slow}");
    let bad = engine(server("bad", seen), Duration::from_secs(5))
        .transcribe(&audio())
        .unwrap_err();
    assert!(
        matches!(&bad, AsrError::Failed(m) if m == "Invalid file format."),
        "{bad}"
    );
    for err in [busy, slow, bad] {
        assert!(!format!("{err} {err:?}").contains("planted-secret"));
    }
}
