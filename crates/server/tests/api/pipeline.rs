//! The call-intelligence pipeline through the API: upload → transcribe → enrich → analyse →
//! publish on the real default models (whisper tiny.en, MiniLM), per-tenant rubrics,
//! re-analysis, failures with reasons and admin retries, a worker that dies mid-job, tenant
//! isolation of every new route. Tests that need the models or espeak-ng skip without them,
//! unless SWITCHBOARD_REQUIRE_MODEL_TESTS=1 (CI).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};
use switchboard_core::Area;
use switchboard_engines::VaderSentiment;
use switchboard_engines::asr::{AsrConfig, WhisperConfig};
use switchboard_engines::audio::{DecodeLimits, TARGET_RATE, decode, wav_i16};
use switchboard_engines::embeddings::Embedder;
use switchboard_engines::embeddings::minilm::MiniLm;
use switchboard_engines::models::ModelFiles;
use switchboard_engines::voice::VoiceEmbedder;
use switchboard_engines::voice::resemblyzer::Resemblyzer;
use switchboard_pipeline::{Engines, LazyEngine, Pipeline, PipelineSettings};
use switchboard_store::group_commit::GroupCommit;
use switchboard_store::queue;

use crate::fixtures::{corrupt_wav, wav};
use crate::harness::{Auth, TestApp};

/// The engines' test helpers: model and tool checks that skip, unless
/// SWITCHBOARD_REQUIRE_MODEL_TESTS=1, and a loopback server.
#[path = "../../../engines/tests/support/mod.rs"]
pub(crate) mod support;

/// The default model files, when they and espeak-ng (which speaks the test calls) are here.
pub(crate) fn models_and_voice() -> Option<ModelFiles> {
    let data = support::models_data_dir()?;
    support::have_tools(&["espeak-ng"]).then(|| ModelFiles::under(&data))
}

pub(crate) fn pipeline(app: &TestApp, whisper: PathBuf, minilm: Option<PathBuf>) -> Pipeline {
    let embedder = match minilm {
        Some(dir) => LazyEngine::new(move || {
            MiniLm::load(&dir)
                .map(|m| Arc::new(m) as Arc<dyn Embedder>)
                .map_err(|e| e.to_string())
        }),
        None => LazyEngine::new(|| Err("no embedding model in this test".into())),
    };
    // The voice encoder of the fetched models, for mono recordings.
    let voice = std::env::var_os("SWITCHBOARD_TEST_MODELS")
        .map(|d| ModelFiles::under(std::path::Path::new(&d)).voice_encoder())
        .unwrap_or_default();
    let voices = LazyEngine::new(move || {
        Resemblyzer::load(&voice)
            .map(|m| Arc::new(m) as Arc<dyn VoiceEmbedder>)
            .map_err(|e| e.to_string())
    });
    let asr = AsrConfig::Whisper(WhisperConfig {
        model: whisper,
        threads: 2,
        language: None,
    });
    Pipeline {
        db: app.db.clone(),
        storage: app.storage.clone(),
        engines: Arc::new(Engines {
            asr: LazyEngine::new(move || asr.clone().build().map_err(|e| e.to_string())),
            sentiment: Arc::new(VaderSentiment::new()),
            rubric_vectors: Default::default(),
            embedder,
            voices,
            language_model: None,
        }),
        settings: PipelineSettings {
            lease: Duration::from_secs(60),
            ..PipelineSettings::default()
        },
        messaging: None,
        ends: GroupCommit::new(app.db.clone()),
    }
}

/// 16 kHz mono speech from espeak-ng.
fn speak(text: &str) -> Vec<f32> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.wav");
    support::speak(text, &path);
    decode(&std::fs::read(&path).unwrap(), DecodeLimits::default())
        .unwrap()
        .mixdown()
}

const AGENT_1: &str =
    "Thank you for calling Demo Insurance, my name is Sarah. How can I help you today?";
const CUSTOMER_1: &str =
    "Hi, I moved house last month and I need to change the address on my policy.";
const AGENT_2: &str = "For security, could you confirm your date of birth please?";
const CUSTOMER_2: &str = "Sure, it is the fourth of July nineteen eighty.";
const AGENT_3: &str =
    "Thank you. I have updated your policy and I will send you a confirmation email today.";

/// Uploads the spoken stereo call with its metadata; the accepted call's id.
pub(crate) async fn upload_call(app: &TestApp, token: &str) -> String {
    let uploaded = app
        .upload(
            token,
            &[
                ("audio", Some("call.wav"), stereo_call()),
                ("meta", None, meta()),
            ],
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::ACCEPTED, "{}", uploaded.text);
    uploaded.body["call_id"].as_str().unwrap().to_owned()
}

/// A stereo call: agent on channel 0, customer on channel 1, turns one after another.
fn stereo_call() -> Vec<u8> {
    let turns = [
        (0, AGENT_1),
        (1, CUSTOMER_1),
        (0, AGENT_2),
        (1, CUSTOMER_2),
        (0, AGENT_3),
    ];
    let mut channels = [Vec::<f32>::new(), Vec::<f32>::new()];
    let mut cursor = 0;
    for (channel, text) in turns {
        let speech = speak(text);
        let end = cursor + speech.len();
        for track in channels.iter_mut() {
            track.resize(end + TARGET_RATE as usize * 3 / 4, 0.0);
        }
        channels[channel][cursor..end].copy_from_slice(&speech);
        cursor = end + TARGET_RATE as usize * 3 / 4;
    }
    let interleaved: Vec<i16> = channels[0]
        .iter()
        .zip(&channels[1])
        .flat_map(|(a, c)| [a, c].map(|s| (s.clamp(-1.0, 1.0) * 32767.0) as i16))
        .collect();
    wav_i16(TARGET_RATE, 2, &interleaved)
}

fn meta() -> Vec<u8> {
    json!({
        "calling_party": "+14155550101",
        "called_party": "+18005550100",
        "started_at": "2026-11-20T10:00:00Z",
        "agent": {"id": "agent-sarah", "email": "Sarah@demo.example"},
        "queue": "policy-changes",
        "channels": {"0": "agent", "1": "customer"}
    })
    .to_string()
    .into_bytes()
}

pub(crate) const AI_CONFIG: &str = r#"{
  "version": 1, "language": "en",
  "summary_instructions": "Summarise the call.", "next_steps_instructions": "List the follow-ups.",
  "summary_sentences": 2, "model": {"engine": "embedded"},
  "agents": {"domains": ["demo.example"], "numbers": ["+18005550100"]}
}"#;

const QA_CONFIG: &str = r#"{
  "version": 1, "pass": {"mode": "all_required"},
  "rules": [
    {"id": "greeting", "name": "Greets", "required": true, "kind": "keyword", "speaker": "agent",
     "within_seconds": 15, "phrases": ["thank you for calling"]},
    {"id": "verification", "name": "Verifies identity", "required": true, "kind": "semantic",
     "speaker": "agent", "threshold": 0.5, "examples": ["Can you confirm your date of birth?"]},
    {"id": "no_swearing", "name": "No swearing", "kind": "keyword", "must": "not_say", "phrases": ["damn"]},
    {"id": "talk_ratio", "name": "Lets the customer talk", "kind": "metric",
     "metric": "agent_talk_ratio", "op": "<=", "value": 0.95},
    {"id": "ends_well", "name": "Customer ends neutral or better", "kind": "sentiment",
     "speaker": "customer", "at": "end", "op": ">=", "value": "NEUTRAL"},
    {"id": "resolved", "name": "Resolved", "kind": "llm", "question": "Was the issue resolved?"}
  ]
}"#;

pub(crate) async fn put_config(
    app: &TestApp,
    token: &str,
    which: &str,
    body: &str,
) -> crate::harness::Response {
    let request = http::Request::put(format!("/api/v1/config/{which}"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_owned()))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn a_call_flows_from_upload_to_published_on_the_real_models() {
    let Some(files) = models_and_voice() else {
        return;
    };
    let app = TestApp::new().await;
    let a = app.tenant("pipe-a").await;
    let b = app.tenant("pipe-b").await;
    assert_eq!(
        put_config(&app, &a.admin_token, "ai", AI_CONFIG)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        put_config(&app, &a.admin_token, "qa", QA_CONFIG)
            .await
            .status,
        StatusCode::OK
    );

    let call_id = upload_call(&app, &a.admin_token).await;
    let detail = app
        .get(&format!("/api/v1/calls/{call_id}"), &a.member_token)
        .await;
    assert_eq!(detail.body["status"], "received");
    assert_eq!(detail.body["jobs"][0]["kind"], "transcribe");
    assert_eq!(detail.body["jobs"][0]["state"], "ready");

    // A worker claims the first job and dies (its lease runs out): nothing is lost.
    let dying = queue::claim(&app.db, "dying", Duration::from_millis(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dying.kind, "transcribe");
    tokio::time::sleep(Duration::from_millis(20)).await;

    let pipeline = pipeline(&app, files.whisper_tiny_en(), Some(files.minilm_dir()));
    let ran = pipeline.run_until_idle("test").await.unwrap();
    assert_eq!(ran, 4, "transcribe, enrich, analyse, publish");
    assert!(
        !queue::complete(&app.db, &dying).await.unwrap(),
        "the dead worker's lease is gone"
    );

    let detail = app
        .get(&format!("/api/v1/calls/{call_id}"), &a.member_token)
        .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert_eq!(detail.body["status"], "published", "{}", detail.text);
    let jobs = detail.body["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 4);
    assert!(jobs.iter().all(|j| j["state"] == "done"), "{jobs:?}");
    assert_eq!(
        jobs.iter().find(|j| j["kind"] == "transcribe").unwrap()["attempts"],
        2
    );

    let record = &detail.body["record"];
    assert_eq!(record["schema_version"], "1.0");
    assert_eq!(record["tenant_id"], "pipe-a");
    assert_eq!(record["result_version"], 1);
    // Who and when: the agent from the metadata, inbound because the called number is the agent's.
    assert_eq!(record["call"]["direction"], "inbound");
    assert_eq!(record["call"]["agent_id"], "sarah@demo.example");
    assert_eq!(record["call"]["started_at"], "2026-11-20T10:00:00Z");
    // The transcript: five turns, speakers from the channels, in order.
    let transcript = record["transcript"].as_array().unwrap();
    let speakers: Vec<&str> = transcript
        .iter()
        .map(|u| u["speaker"].as_str().unwrap())
        .collect();
    assert!(transcript.len() >= 5, "{transcript:?}");
    assert_eq!(speakers.first(), Some(&"agent"));
    assert!(speakers.contains(&"customer"));
    let agent_text = transcript
        .iter()
        .filter(|u| u["speaker"] == "agent")
        .map(|u| u["text"].as_str().unwrap().to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(agent_text.contains("thank you for calling"), "{agent_text}");
    for u in transcript {
        assert!(u["sentiment"]["label"].is_string());
        assert!(u["end_ms"].as_u64() >= u["start_ms"].as_u64());
    }
    // Metrics: both spoke, there are pauses between turns, nobody cut in.
    let metrics = &record["metrics"];
    let ratio = metrics["agent_talk_ratio"].as_f64().unwrap();
    assert!((0.4..0.8).contains(&ratio), "agent talk ratio {ratio}");
    assert!(
        metrics["non_talk_ms"].as_u64().unwrap() >= 2000,
        "{metrics}"
    );
    assert_eq!(metrics["interruptions"], 0);
    assert_eq!(record["sentiment"]["quarters"].as_array().unwrap().len(), 4);
    // Summary and next steps: extractive, attributed, and the agent's commitment found.
    assert_eq!(record["summary"]["method"], "extractive");
    assert_eq!(record["summary"]["sentences"].as_array().unwrap().len(), 2);
    let steps: Vec<&str> = record["next_steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("Agent: I will send you a confirmation")),
        "{steps:?}"
    );
    // QA: each rule's verdict, with reasons and evidence.
    let verdict = |id: &str| {
        record["qa"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(verdict("greeting")["verdict"], "passed");
    assert_eq!(verdict("greeting")["evidence"][0]["speaker"], "agent");
    assert_eq!(
        verdict("verification")["verdict"],
        "passed",
        "{}",
        verdict("verification")
    );
    assert!(
        verdict("verification")["evidence"][0]["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("birth"),
        "{} {}",
        verdict("verification"),
        serde_json::to_string(&record["transcript"]).unwrap()
    );
    assert_eq!(verdict("no_swearing")["verdict"], "passed");
    assert_eq!(verdict("talk_ratio")["verdict"], "passed");
    assert_eq!(
        verdict("resolved")["verdict"],
        "not_applicable",
        "no hosted model: no verdict"
    );
    assert_eq!(record["qa"]["overall_pass"], true);
    assert_eq!(record["provenance"]["asr"]["engine"], "whisper.cpp");
    assert_eq!(
        record["provenance"]["diarization"],
        json!({"method": "channels", "voices": 2})
    );
    assert!(
        record["provenance"]["embeddings"]
            .as_str()
            .unwrap()
            .contains("MiniLM")
    );

    // Artifacts in the tenant's results area, flat rows in CSV and in the dashboard tables.
    let scope = app.scope(&a.admin_token).await;
    let objects = app.storage.tenant(&scope).unwrap();
    for name in [
        format!("raw/{call_id}.json"),
        format!("enriched/{call_id}.json"),
        format!("final/v1.0/{call_id}.json"),
        format!("final/v1.0-history/{call_id}/1.json"),
    ] {
        objects
            .get(Area::Results, &name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let csv = objects
        .get(
            Area::Results,
            &format!("final/v2.0-flat/calls/{call_id}.csv"),
        )
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_ref());
    let headers = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let cell = |name: &str| {
        row.get(
            headers
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("no column {name}")),
        )
        .unwrap()
        .to_owned()
    };
    assert_eq!(cell("call_id"), call_id);
    assert_eq!(cell("direction"), "inbound");
    assert_eq!(cell("qa_greeting"), "pass");
    assert_eq!(cell("qa_resolved"), "n/a");
    assert_eq!(cell("meta_queue"), "policy-changes");
    assert_eq!(
        &headers.iter().take(3).collect::<Vec<_>>(),
        &["call_id", "tenant_id", "started_at"]
    );
    let qa_csv = objects
        .get(Area::Results, &format!("final/v2.0-flat/qa/{call_id}.csv"))
        .await
        .unwrap();
    assert_eq!(
        csv::Reader::from_reader(qa_csv.as_ref()).records().count(),
        6
    );
    assert_eq!(app.count_rows("call_results", "pipe-a").await, 1);
    assert_eq!(app.count_rows("qa_results", "pipe-a").await, 6);

    // The list filters on the published result.
    for (query, expected) in [
        ("direction=inbound", 1),
        ("direction=outbound", 0),
        ("agent=sarah@demo.example", 1),
        ("from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z", 1),
        ("from=2026-11-21T00:00:00Z", 0),
        ("status=published", 1),
    ] {
        let listed = app
            .get(&format!("/api/v1/calls?{query}"), &a.member_token)
            .await;
        assert_eq!(
            listed.body.as_array().map(Vec::len),
            Some(expected),
            "{query}: {}",
            listed.text
        );
    }
    let bad = app
        .get("/api/v1/calls?from=yesterday", &a.member_token)
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );

    // Usage, derived from the records.
    let usage = app.get("/api/v1/usage", &a.member_token).await;
    assert_eq!(usage.body["calls"], 1);
    assert_eq!(usage.body["published_calls"], 1);
    assert!(
        usage.body["audio_seconds"].as_f64().unwrap() > 10.0,
        "{}",
        usage.text
    );
    assert!(usage.body["bytes_stored"].as_i64().unwrap() > 100_000);

    // Tenant B sees none of it, and cannot act on it.
    assert_eq!(
        app.get(&format!("/api/v1/calls/{call_id}"), &b.admin_token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let cross = app
        .post(
            "/api/v1/calls/reanalyse",
            &b.admin_token,
            json!({"call_ids": [call_id]}),
        )
        .await;
    assert_eq!(cross.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post(
            &format!("/api/v1/calls/{call_id}/retry"),
            &b.admin_token,
            json!({})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/usage", &b.member_token).await.body["calls"],
        0
    );
    assert!(
        app.get("/api/v1/calls?status=published", &b.member_token)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.get("/api/v1/config/qa", &b.member_token).await.body["rules"][0]["id"],
        "greeting"
    );
    assert_eq!(
        app.get("/api/v1/config/qa", &b.member_token).await.body["rules"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "B keeps the default rubric"
    );

    // A rubric change, then a re-analysis: a new result version; the old one is kept.
    let mut rubric: Value = serde_json::from_str(QA_CONFIG).unwrap();
    rubric["rules"].as_array_mut().unwrap().push(json!(
        {"id": "apology", "name": "Apologises", "required": true, "kind": "keyword", "speaker": "agent", "phrases": ["sorry"]}));
    assert_eq!(
        put_config(&app, &a.admin_token, "qa", &rubric.to_string())
            .await
            .status,
        StatusCode::OK
    );
    let member_try = app
        .post("/api/v1/calls/reanalyse", &a.member_token, json!({}))
        .await;
    assert_eq!(member_try.status, StatusCode::FORBIDDEN);
    let queued = app
        .post("/api/v1/calls/reanalyse", &a.admin_token, json!({}))
        .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.text);
    assert_eq!(queued.body["queued"], json!([call_id]));
    assert_eq!(
        pipeline.run_until_idle("test").await.unwrap(),
        2,
        "analyse and publish again"
    );
    let detail = app
        .get(&format!("/api/v1/calls/{call_id}"), &a.member_token)
        .await;
    assert_eq!(detail.body["status"], "published");
    assert_eq!(detail.body["result_version"], 2);
    assert_eq!(detail.body["record"]["result_version"], 2);
    assert_eq!(
        detail.body["record"]["qa"]["overall_pass"], false,
        "the new required rule fails"
    );
    let old = objects
        .get(
            Area::Results,
            &format!("final/v1.0-history/{call_id}/1.json"),
        )
        .await
        .unwrap();
    let old: Value = serde_json::from_slice(&old).unwrap();
    assert_eq!(old["qa"]["overall_pass"], true);
    assert_eq!(old["qa"]["rules"].as_array().unwrap().len(), 6);
    assert_eq!(
        app.count_rows("call_results", "pipe-a").await,
        1,
        "replaced, not duplicated"
    );
    assert_eq!(app.count_rows("qa_results", "pipe-a").await, 7);
    let transcribed_again = detail.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "transcribe")
        .unwrap()["attempts"]
        .clone();
    assert_eq!(
        transcribed_again, 2,
        "re-analysis does not transcribe again"
    );
}

#[tokio::test]
async fn corrupt_audio_fails_with_its_reason_and_an_admin_can_retry() {
    let app = TestApp::new().await;
    let a = app.tenant("pipe-corrupt").await;
    let uploaded = app
        .upload(
            &a.admin_token,
            &[("audio", Some("bad.wav"), corrupt_wav(3))],
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::ACCEPTED, "{}", uploaded.text);
    let call_id = uploaded.body["call_id"].as_str().unwrap().to_owned();
    let good = app
        .upload(&a.admin_token, &[("audio", Some("ok.wav"), wav(9, 400))])
        .await;
    let good_id = good.body["call_id"].as_str().unwrap().to_owned();

    // The decoder fails before any model is needed: no model files in this test.
    let pipeline = pipeline(&app, PathBuf::from("/nonexistent/ggml.bin"), None);
    pipeline.run_until_idle("test").await.unwrap();
    let detail = app
        .get(&format!("/api/v1/calls/{call_id}"), &a.member_token)
        .await;
    assert_eq!(detail.body["status"], "failed", "{}", detail.text);
    assert_eq!(detail.body["failure_stage"], "transcribe");
    assert_eq!(
        detail.body["failure_attempts"], 1,
        "no retry can fix corrupt audio"
    );
    let reason = detail.body["failure_reason"].as_str().unwrap();
    assert!(
        reason.contains("audio_corrupt") || reason.contains("audio_unsupported"),
        "{reason}"
    );
    assert_eq!(detail.body["jobs"][0]["state"], "dead");

    // The good call is not held up by the bad one; its model is missing, which is retryable
    // and says which setting to fix.
    let other = app
        .get(&format!("/api/v1/calls/{good_id}"), &a.member_token)
        .await;
    assert_eq!(other.body["status"], "received", "{}", other.text);
    assert_eq!(other.body["jobs"][0]["state"], "ready");
    let last_error = other.body["jobs"][0]["last_error"].as_str().unwrap();
    assert!(last_error.contains("WHISPER_MODEL"), "{last_error}");
    assert_eq!(
        app.get("/api/v1/calls?status=failed", &a.member_token)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Retry: members may not; a call that has not failed cannot be; the admin's retry queues the
    // failed stage again with fresh attempts.
    let path = format!("/api/v1/calls/{call_id}/retry");
    assert_eq!(
        app.post(&path, &a.member_token, json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    let not_failed = app
        .post(
            &format!("/api/v1/calls/{good_id}/retry"),
            &a.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(
        (not_failed.status, not_failed.code()),
        (StatusCode::CONFLICT, "not_failed")
    );
    let retried = app.post(&path, &a.admin_token, json!({})).await;
    assert_eq!(retried.status, StatusCode::ACCEPTED, "{}", retried.text);
    assert_eq!(retried.body["status"], "received");
    assert!(retried.body["failure_reason"].is_null());
    let detail = app
        .get(&format!("/api/v1/calls/{call_id}"), &a.member_token)
        .await;
    assert_eq!(detail.body["jobs"][0]["state"], "ready");
    assert_eq!(detail.body["jobs"][0]["attempts"], 0);
    // Still corrupt: it fails again, with the same clear reason.
    pipeline.run_until_idle("test").await.unwrap();
    let detail = app
        .get(&format!("/api/v1/calls/{call_id}"), &a.member_token)
        .await;
    assert_eq!(detail.body["status"], "failed");
}

#[tokio::test]
async fn configuration_is_validated_listed_and_kept_per_tenant() {
    let app = TestApp::new().await;
    let a = app.tenant("conf-a").await;
    let b = app.tenant("conf-b").await;
    let default = app.get("/api/v1/config/qa", &a.member_token).await;
    assert_eq!(default.status, StatusCode::OK);
    assert_eq!(default.body["version"], 1);
    let ai = app.get("/api/v1/config/ai", &a.member_token).await;
    assert_eq!(ai.body["model"]["engine"], "embedded");

    let invalid = r#"{"version": 1, "pass": {"mode": "weighted", "threshold": 2}, "rules": [
        {"id": "x", "name": "X", "kind": "keyword", "phrases": []},
        {"id": "x", "name": "Y", "kind": "metric", "metric": "agent_talk_ratio", "op": "<=", "value": 0.7},
        {"id": "z", "name": "Z", "kind": "crystal_ball"}]}"#;
    let rejected = put_config(&app, &a.admin_token, "qa", invalid).await;
    assert_eq!(
        (rejected.status, rejected.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_config"),
        "{}",
        rejected.text
    );
    let problems = rejected.body["error"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(
        rejected.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was saved")
    );
    assert_eq!(
        app.get("/api/v1/config/qa", &a.member_token).await.body,
        default.body,
        "nothing saved"
    );
    let not_json = put_config(&app, &a.admin_token, "ai", "{nope").await;
    assert_eq!(not_json.status, StatusCode::UNPROCESSABLE_ENTITY);

    let rubric = r#"{"version": 1, "pass": {"mode": "all_required"}, "rules": [
        {"id": "greet", "name": "Greets", "required": true, "kind": "keyword", "phrases": ["hello"]}]}"#;
    assert_eq!(
        put_config(&app, &a.member_token, "qa", rubric).await.status,
        StatusCode::FORBIDDEN
    );
    let saved = put_config(&app, &a.admin_token, "qa", rubric).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(
        app.get("/api/v1/config/qa", &a.member_token).await.body["rules"][0]["id"],
        "greet"
    );
    // B's rubric is its own.
    assert_eq!(
        app.get("/api/v1/config/qa", &b.member_token).await.body,
        default.body
    );
    assert_eq!(
        app.call("GET", "/api/v1/config/qa", Auth::None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

/// A loopback server speaking OpenAI's chat-completions format: QA questions get a "yes" citing
/// utterance 1, anything else a summary with one next step.
fn fake_openai() -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(|axum::Json(body): axum::Json<Value>| async move {
            let asked = body["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["content"].as_str().unwrap_or("").contains("Question:"));
            let content = if asked {
                json!({"answer": "yes", "reason": "The agent refunded the duplicate charge.", "evidence": [1]})
            } else {
                json!({"summary": "The customer was charged twice; the agent refunded it.",
                       "next_steps": ["Refund the duplicate charge today"]})
            };
            axum::Json(json!({
                "choices": [{"message": {"role": "assistant", "content": content.to_string()}}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20}
            }))
        }),
    );
    format!("{}/v1", support::serve_on_loopback(app))
}

#[tokio::test]
async fn a_hosted_model_writes_the_summary_and_answers_llm_rules() {
    use switchboard_engines::Sentiment;
    use switchboard_engines::asr::EngineInfo;
    use switchboard_engines::llm::{HttpLlmConfig, LanguageModel, OpenAiCompatible};
    use switchboard_pipeline::record::{EnrichedCall, EnrichedUtterance, Speaker, Utterance};
    use switchboard_pipeline::{metrics, sentiment};

    let Some(data) = support::models_data_dir() else {
        return;
    };
    let app = TestApp::new().await;
    let a = app.tenant("hosted-a").await;
    let ai = AI_CONFIG.replace("\"embedded\"", "\"platform\"");
    assert_eq!(
        put_config(&app, &a.admin_token, "ai", &ai).await.status,
        StatusCode::OK
    );
    let rubric = r#"{"version": 1, "pass": {"mode": "all_required"}, "rules": [
        {"id": "resolved", "name": "Resolved", "required": true, "kind": "llm", "question": "Was the issue resolved?"}]}"#;
    assert_eq!(
        put_config(&app, &a.admin_token, "qa", rubric).await.status,
        StatusCode::OK
    );
    let uploaded = app
        .upload(&a.admin_token, &[("audio", Some("a.wav"), wav(5, 400))])
        .await;
    let call_id = uploaded.body["call_id"].as_str().unwrap().to_owned();

    // The call arrives transcribed (as a live call would): its enriched artifact is written and
    // analysis queued, so this test needs no speech-to-text.
    let scope = app.scope(&a.admin_token).await;
    let transcribing = queue::claim(&app.db, "setup", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert!(queue::complete(&app.db, &transcribing).await.unwrap());
    let lines = [
        (Speaker::Customer, "I was charged twice this month."),
        (
            Speaker::Agent,
            "I am sorry, I have refunded the duplicate charge.",
        ),
    ];
    let utterances: Vec<Utterance> = lines
        .iter()
        .enumerate()
        .map(|(i, (speaker, text))| Utterance {
            index: i,
            speaker: *speaker,
            channel: usize::from(*speaker == Speaker::Customer),
            start_ms: i as u64 * 3000,
            end_ms: i as u64 * 3000 + 2500,
            text: (*text).into(),
            confidence: 0.9,
        })
        .collect();
    let vader = VaderSentiment::new();
    let enriched: Vec<EnrichedUtterance> = utterances
        .iter()
        .map(|u| EnrichedUtterance {
            utterance: u.clone(),
            sentiment: switchboard_engines::SentimentEngine::score(&vader, &u.text) as Sentiment,
        })
        .collect();
    let artifact = EnrichedCall {
        call_id: call_id.clone(),
        language: "en".into(),
        asr: EngineInfo {
            engine: "live".into(),
            model: "none".into(),
        },
        sentiment_engine: "vader".into(),
        duration_ms: 6000,
        sentiment: sentiment::summarise(&enriched, 6000),
        metrics: metrics::compute(&utterances, 6000),
        utterances: enriched,
        transcribe_ms: 0,
        elapsed_ms: 0,
        redaction: None,
        diarization: None,
    };
    let objects = app.storage.tenant(&scope).unwrap();
    objects
        .put(
            Area::Results,
            &format!("enriched/{call_id}.json"),
            serde_json::to_vec(&artifact).unwrap().into(),
        )
        .await
        .unwrap();
    let mut tx = app.db.write(&scope).await.unwrap();
    queue::requeue(&mut tx, "analyse", &call_id).await.unwrap();
    switchboard_store::repo::calls::set_status(&mut tx, &call_id, "enriched")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let files = ModelFiles::under(&data);
    let mut pipeline = pipeline(&app, files.whisper_tiny_en(), Some(files.minilm_dir()));
    let config = HttpLlmConfig::new(fake_openai(), "test-model", None);
    let engines = Arc::get_mut(&mut pipeline.engines).unwrap();
    // Built on first use, on a blocking thread, as the CLI's engines are.
    engines.language_model = Some(LazyEngine::new(move || {
        OpenAiCompatible::new(config.clone())
            .map(|m| Arc::new(m) as Arc<dyn LanguageModel>)
            .map_err(|e| e.to_string())
    }));
    assert_eq!(
        pipeline.run_until_idle("test").await.unwrap(),
        2,
        "analyse and publish"
    );

    let detail = app
        .get(&format!("/api/v1/calls/{call_id}"), &a.member_token)
        .await;
    assert_eq!(detail.body["status"], "published", "{}", detail.text);
    let record = &detail.body["record"];
    assert_eq!(record["summary"]["method"], "language_model");
    assert_eq!(
        record["summary"]["text"],
        "The customer was charged twice; the agent refunded it."
    );
    assert_eq!(
        record["next_steps"][0]["text"],
        "Refund the duplicate charge today"
    );
    let rule = &record["qa"]["rules"][0];
    assert_eq!(rule["verdict"], "passed");
    assert_eq!(rule["reason"], "The agent refunded the duplicate charge.");
    assert_eq!(rule["evidence"][0]["speaker"], "agent");
    assert_eq!(
        record["provenance"]["language_model"]["model"],
        "test-model"
    );
    assert_eq!(
        record["provenance"]["model_tokens"], 240,
        "summary + one rule, 120 tokens each"
    );
    assert_eq!(
        app.get("/api/v1/usage", &a.member_token).await.body["model_tokens"],
        240
    );
}
