//! Benchmark P3 (issue 7): Twilio webhook → TwiML latency with 100 concurrent simulated calls,
//! driven in-process through the real router (signature check, tenant routing, stored turns,
//! matching). Each call: greeting, a knowledge question, two scenario utterances, the status
//! callback. With `SWITCHBOARD_TEST_MODELS` (a data dir holding `models/`) matching uses MiniLM
//! embeddings; without, lexical only. `BENCH_LLM=1` also times unmatched utterances answered by
//! the embedded language model (SmolLM2) with the receptionist's time limit.
//!
//!   SWITCHBOARD_TEST_MODELS=target/test-models cargo bench -p switchboard-server --bench receptionist

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::Request;
use switchboard_engines::VaderSentiment;
use switchboard_engines::embeddings::Embedder;
use switchboard_engines::llm::LanguageModel;
use switchboard_pipeline::{Engines, LazyEngine};
use switchboard_server::receptionist::{Receptionist, clone_at_onboarding, documents};
use switchboard_store::auth::twilio::{PlatformTwilio, signature};
use switchboard_store::repo::{phone_numbers, receptionist};
use tower::ServiceExt;

const TOKEN: &str = "bench-token";
const NUMBER: &str = "+18005550202";
const BASE: &str = "http://localhost";

fn engines(models: Option<PathBuf>, llm: bool) -> Option<Arc<Engines>> {
    let models = models?;
    let minilm = models.join("models/all-MiniLM-L6-v2");
    let gguf = std::fs::read_dir(models.join("models/smollm2"))
        .ok()
        .and_then(|mut d| {
            d.find_map(|e| {
                e.ok()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "gguf"))
            })
        });
    Some(Arc::new(Engines {
        asr: LazyEngine::new(|| Err("no speech-to-text in this benchmark".into())),
        sentiment: Arc::new(VaderSentiment::new()),
        rubric_vectors: Default::default(),
        embedder: LazyEngine::new(move || {
            switchboard_engines::embeddings::minilm::MiniLm::load(&minilm)
                .map(|m| Arc::new(m) as Arc<dyn Embedder>)
                .map_err(|e| e.to_string())
        }),
        voices: LazyEngine::new(|| Err("no voice encoder in this benchmark".into())),
        language_model: llm.then(|| {
            LazyEngine::new(move || {
                let path = gguf.clone().ok_or("no SmolLM2 GGUF under models/smollm2")?;
                switchboard_engines::llm::local::LocalLlm::load(&path)
                    .map(|m| Arc::new(m) as Arc<dyn LanguageModel>)
                    .map_err(|e| e.to_string())
            })
        }),
    }))
}

async fn post(app: &axum::Router, path: &str, params: &[(&str, &str)]) -> Duration {
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let sig = signature(TOKEN, &format!("{BASE}{path}"), &params);
    let request = Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", "localhost")
        .header("x-twilio-signature", sig)
        .body(Body::from(serde_urlencoded::to_string(&params).unwrap()))
        .unwrap();
    let at = Instant::now();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    assert!(status.is_success(), "{path}: {status}");
    at.elapsed()
}

/// One simulated call; the latencies of its matching turns. `pace`: the caller's speaking time
/// before each utterance (a real `<Gather>` waits for speech), varied per call; zero for a burst.
async fn call(
    app: axum::Router,
    sid: String,
    utterances: Vec<&'static str>,
    pace: Duration,
    seed: usize,
) -> Vec<Duration> {
    let base = [
        ("CallSid", sid.as_str()),
        ("From", "+14155550100"),
        ("To", NUMBER),
    ];
    let mut times = vec![post(&app, "/twilio/voice", &base).await];
    for (i, text) in utterances.iter().enumerate() {
        if !pace.is_zero() {
            // 0.5× to 1.5× the pace, spread deterministically over the calls.
            let factor = 0.5 + ((seed * 7 + i * 13) % 100) as f64 / 100.0;
            tokio::time::sleep(pace.mul_f64(factor)).await;
        }
        let path = format!("/twilio/gather?turn={}", i + 1);
        let mut params = base.to_vec();
        params.push(("SpeechResult", text));
        times.push(post(&app, &path, &params).await);
    }
    let mut params = base.to_vec();
    params.extend([("CallStatus", "completed"), ("CallDuration", "30")]);
    post(&app, "/twilio/status", &params).await;
    times
}

async fn round(
    app: &axum::Router,
    label: &str,
    calls: usize,
    utterances: Vec<&'static str>,
    pace: Duration,
) {
    let started = Instant::now();
    let handles: Vec<_> = (0..calls)
        .map(|i| {
            let sid = format!("CA{}{i:06}", label.len());
            tokio::spawn(call(app.clone(), sid, utterances.clone(), pace, i))
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let wall = started.elapsed();
    all.sort();
    println!(
        "{label}: {calls} concurrent calls, {} webhook requests in {:.2} s — p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        all.len(),
        wall.as_secs_f64(),
        support::percentile(&all, 0.5).as_secs_f64() * 1e3,
        support::percentile(&all, 0.99).as_secs_f64() * 1e3,
        all.last().unwrap().as_secs_f64() * 1e3,
    );
}

fn main() {
    let runtime = support::runtime();
    runtime.block_on(async {
        let env = support::env("rcpt").await;
        switchboard_server::receptionist::seed_builtin_templates(&env.db, &env.operator)
            .await
            .unwrap();
        let scope = env.tenant("bench").await;
        clone_at_onboarding(&env.db, &scope, "plumbing-hvac")
            .await
            .unwrap();
        let admin = scope.admin().unwrap();
        let mut tx = env.db.write(&scope).await.unwrap();
        let (mut settings, _) = documents::settings(&mut tx).await.unwrap().unwrap();
        for (k, v) in [
            ("company_name", "Acme Plumbing"),
            ("business_hours", "8 to 5"),
            ("service_call_price", "$89"),
            ("service_area", "Springfield"),
        ] {
            settings.variables.insert(k.into(), v.into());
        }
        documents::save(&mut tx, admin, &settings).await.unwrap();
        for (q, a) in [
            ("Do you offer senior discounts?", "Yes, ten percent off."),
            ("Do you offer financing?", "Yes, on new systems."),
            ("Are your technicians licensed?", "Every one of them."),
        ] {
            receptionist::add_knowledge(&mut tx, admin, q, a)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let mut tx = env.db.platform(&env.operator).await.unwrap();
        phone_numbers::assign(&mut tx, NUMBER, scope.tenant())
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let models = std::env::var_os("SWITCHBOARD_TEST_MODELS").map(PathBuf::from);
        let llm = std::env::var("BENCH_LLM").as_deref() == Ok("1");
        let semantic = models.is_some();
        let twilio = PlatformTwilio {
            account_sid: None,
            auth_token: TOKEN.to_owned().into(),
        };
        let app = env.router_with(Receptionist::new(engines(models, llm), Some(twilio)));
        let knowledge_and_scenarios = vec![
            "um do you have a discount for seniors",
            "my kitchen drain is clogged",
            "how much is a service call",
        ];
        // Warm-up: loads the model and prepares the tenant's matcher.
        let burst = Duration::ZERO;
        round(&app, "warm-up", 1, knowledge_and_scenarios.clone(), burst).await;
        let mode = if semantic {
            "MiniLM + lexical"
        } else {
            "lexical only"
        };
        let label = format!("knowledge/scenario ({mode}), burst: all turns at once");
        round(&app, &label, 100, knowledge_and_scenarios.clone(), burst).await;
        let label = format!("knowledge/scenario ({mode}), paced: 3 s of speech per turn");
        round(
            &app,
            &label,
            100,
            knowledge_and_scenarios,
            Duration::from_secs(3),
        )
        .await;
        if llm {
            // One call alone: its second request is the language model's turn (the max).
            let label = "language model (SmolLM2, 4 s limit), 1 call";
            round(&app, label, 1, vec!["tell me a joke about pipes"], burst).await;
            let label = "language model (SmolLM2, 4 s limit), 10 calls";
            round(&app, label, 10, vec!["tell me a joke about pipes"], burst).await;
        }
    });
}
