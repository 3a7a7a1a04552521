//! Benchmark P2 (issue 4): pipeline throughput after speech-to-text — enrich + analyse (the
//! embedded engines: VADER, MiniLM extractive summary, rule-based next steps, the demo tenants'
//! rubrics with two semantic rules) + publish, in calls/s on the real stages, queue, database and
//! object storage.
//!
//! Setup (not timed): two tenants with the demo's ai-config and rubrics (`all_required` and
//! `weighted`); `BENCH_CALLS` calls (default 200) accepted as small stereo WAVs and run through
//! all four stages once, speech-to-text replaced by the sample dialogues' scripted transcripts
//! (what `switchboard samples generate` speaks). Timed: every call is sent back to `transcribed`
//! with its `enrich` job requeued — what an admin's retry does — and `BENCH_WORKERS` workers
//! (default 2, the machine's cores) drain enrich → analyse → publish, with as many light slots
//! beside them as `switchboard worker` has (`BENCH_LIGHT_SLOTS=0`: none, as before they
//! existed), and their stages' ends in group commits (`BENCH_GROUP_COMMIT=0`: each in its own
//! transaction). The time spent inside the embedding model is measured separately. `BENCH_EMBEDDER=hashed` swaps MiniLM for a bag of
//! hashed words (no model) to show what the stages cost around the model.
//!
//!   SWITCHBOARD_TEST_MODELS=target/test-models cargo bench -p switchboard-server --bench pipeline
//!   eval "$(bash scripts/services.sh)"; BENCH_BACKEND=postgres SWITCHBOARD_TEST_MODELS=… cargo bench …

#[path = "../tests/api/fixtures.rs"]
mod fixtures;
mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use switchboard_core::Area;
use switchboard_engines::VaderSentiment;
use switchboard_engines::asr::{AsrError, EngineInfo, SpeechToText, Transcript, Utterance};
use switchboard_engines::audio::DecodedAudio;
use switchboard_engines::embeddings::{EmbedError, Embedder};
use switchboard_pipeline::{Engines, LazyEngine, Pipeline, PipelineSettings};
use switchboard_store::group_commit::GroupCommit;
use switchboard_store::ingest::{self, NewRecording};
use switchboard_store::repo::calls;
use switchboard_store::{TenantScope, queue};

const DIALOGUES: &str = include_str!("../../cli/src/commands/sample_dialogues.json");
const AI_CONFIG: &str = include_str!("../../cli/src/commands/demo_config/ai.json");
const RUBRICS: [&str; 2] = [
    include_str!("../../cli/src/commands/demo_config/demo-qa.json"),
    include_str!("../../cli/src/commands/demo_config/acme-qa.json"),
];

/// The sample dialogues as transcripts: agent on channel 0, customer on channel 1, each turn
/// timed at 2.5 words per second with a 400 ms pause between turns.
fn scripted_transcripts() -> Vec<Vec<Utterance>> {
    let dialogues: Vec<serde_json::Value> = serde_json::from_str(DIALOGUES).unwrap();
    dialogues
        .iter()
        .map(|dialogue| {
            let mut at = 500;
            let turns = dialogue["turns"].as_array().unwrap();
            turns
                .iter()
                .map(|turn| {
                    let text = turn["text"].as_str().unwrap().to_owned();
                    let length = text.split_whitespace().count() as u64 * 400;
                    let channel = usize::from(turn["speaker"] != "agent");
                    let utterance = Utterance {
                        channel,
                        start_ms: at,
                        end_ms: at + length,
                        text,
                        confidence: 0.9,
                    };
                    at += length + 400;
                    utterance
                })
                .collect()
        })
        .collect()
}

/// Speech-to-text that returns the sample dialogues in turn (the audio is a placeholder).
struct ScriptedAsr {
    transcripts: Vec<Vec<Utterance>>,
    next: AtomicUsize,
}

impl SpeechToText for ScriptedAsr {
    fn info(&self) -> EngineInfo {
        EngineInfo {
            engine: "scripted".into(),
            model: "sample-dialogues".into(),
        }
    }

    fn transcribe_channel(&self, _: &[f32], _: usize) -> Result<Vec<Utterance>, AsrError> {
        unreachable!("transcribe is overridden")
    }

    fn transcribe(&self, _: &DecodedAudio) -> Result<Transcript, AsrError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed) % self.transcripts.len();
        let utterances = self.transcripts[n].clone();
        Ok(Transcript {
            engine: self.info(),
            duration_ms: utterances.last().map_or(0, |u| u.end_ms + 500),
            utterances,
        })
    }
}

/// MiniLM, with the time spent in it counted.
struct TimedEmbedder {
    inner: Arc<dyn Embedder>,
    nanos: Arc<AtomicU64>,
    texts: Arc<AtomicU64>,
}

impl Embedder for TimedEmbedder {
    fn model(&self) -> &str {
        self.inner.model()
    }

    fn dimension(&self) -> usize {
        self.inner.dimension()
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let at = Instant::now();
        let out = self.inner.embed_batch(texts);
        self.nanos
            .fetch_add(at.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.texts.fetch_add(texts.len() as u64, Ordering::Relaxed);
        out
    }
}

/// Not a model: each word hashed into one of 384 dimensions, normalised. It isolates what the
/// stages, queue, database and storage cost when embedding is (nearly) free.
struct HashedWords;

impl Embedder for HashedWords {
    fn model(&self) -> &str {
        "hashed-words"
    }

    fn dimension(&self) -> usize {
        384
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        use std::hash::{Hash, Hasher};
        Ok(texts
            .iter()
            .map(|text| {
                let mut v = vec![0f32; 384];
                for word in text.split_whitespace() {
                    let mut h = std::collections::hash_map::DefaultHasher::new();
                    word.to_lowercase().hash(&mut h);
                    v[(h.finish() % 384) as usize] += 1.0;
                }
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
                v.iter().map(|x| x / norm).collect()
            })
            .collect())
    }
}

/// Runs the pipeline's workers (the dispatcher `serve` and `worker` run) until `count` calls are
/// published, then stops them.
async fn drain(
    env: &support::BenchEnv,
    scopes: &[TenantScope],
    pipeline: &Arc<Pipeline>,
    workers: usize,
    count: usize,
) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(
        pipeline
            .clone()
            .run_workers("bench".into(), workers, stopped),
    );
    while in_status(env, scopes, "published").await < count {
        assert_eq!(in_status(env, scopes, "failed").await, 0, "a call failed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    running.await.unwrap();
}

/// How many calls of these tenants are in `status`.
async fn in_status(env: &support::BenchEnv, scopes: &[TenantScope], status: &str) -> usize {
    let mut count = 0;
    for scope in scopes {
        let mut tx = env.db.read(scope).await.unwrap();
        count += calls::ids_with_status(&mut tx, status, i64::MAX)
            .await
            .unwrap()
            .len();
        tx.commit().await.unwrap();
    }
    count
}

fn main() {
    let models =
        PathBuf::from(std::env::var_os("SWITCHBOARD_TEST_MODELS").expect(
            "SWITCHBOARD_TEST_MODELS: a data dir holding models/ (switchboard models fetch)",
        ));
    let count: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let workers: usize = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    // As `switchboard worker --concurrency <workers>` sets it (MODEL_THREADS unset).
    let threads = switchboard_engines::model_threads::for_workers(workers, 0);
    // SAFETY: no other thread has started yet (the runtime is built below).
    let threads = unsafe { switchboard_engines::model_threads::apply(threads) };
    eprintln!("model threads per computation: {threads}");
    support::runtime().block_on(run(models, count, workers));
}

async fn run(models: PathBuf, count: usize, workers: usize) {
    let env = support::env("sbpipeline").await;
    let mut scopes = Vec::new();
    for (id, rubric) in ["bench-demo", "bench-acme"].into_iter().zip(RUBRICS) {
        let scope = env.tenant(id).await;
        let objects = env.storage.tenant(&scope).unwrap();
        for (name, text) in [("ai-config.json", AI_CONFIG), ("qa-config.json", rubric)] {
            objects
                .put(Area::Config, name, Bytes::from_static(text.as_bytes()))
                .await
                .unwrap();
        }
        scopes.push(scope);
    }

    let model: Arc<dyn Embedder> = if std::env::var("BENCH_EMBEDDER").as_deref() == Ok("hashed") {
        Arc::new(HashedWords)
    } else {
        Arc::new(
            switchboard_engines::embeddings::minilm::MiniLm::load(
                &models.join("models/all-MiniLM-L6-v2"),
            )
            .expect("MiniLM under $SWITCHBOARD_TEST_MODELS/models"),
        )
    };
    let (nanos, texts) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let embedder: Arc<dyn Embedder> = Arc::new(TimedEmbedder {
        inner: model.clone(),
        nanos: nanos.clone(),
        texts: texts.clone(),
    });
    let asr: Arc<dyn SpeechToText> = Arc::new(ScriptedAsr {
        transcripts: scripted_transcripts(),
        next: AtomicUsize::new(0),
    });
    let pipeline = Arc::new(Pipeline {
        db: env.db.clone(),
        storage: env.storage.clone(),
        engines: Arc::new(Engines {
            asr: LazyEngine::ready(asr),
            sentiment: Arc::new(VaderSentiment::new()),
            rubric_vectors: Default::default(),
            embedder: LazyEngine::ready(embedder),
            voices: LazyEngine::new(|| Err("no voice encoder in this benchmark".into())),
            language_model: None,
        }),
        settings: PipelineSettings {
            lease: Duration::from_secs(300),
            light_slots: std::env::var("BENCH_LIGHT_SLOTS")
                .ok()
                .and_then(|v| v.parse().ok()),
            ..PipelineSettings::default()
        },
        messaging: None,
        // `BENCH_GROUP_COMMIT=0`: every stage's end in its own transaction, as before group
        // commit.
        ends: match std::env::var("BENCH_GROUP_COMMIT")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            Some(in_flight) => GroupCommit::with_batches_in_flight(env.db.clone(), in_flight),
            None => GroupCommit::new(env.db.clone()),
        },
    });

    let mut call_ids: Vec<(usize, String)> = Vec::new();
    for i in 0..count {
        let tenant = i % scopes.len();
        let accepted = ingest::accept(
            &env.db,
            &env.storage,
            &scopes[tenant],
            NewRecording {
                audio: Bytes::from(fixtures::stereo_wav(i as u32, 1_600)),
                meta: Some(serde_json::json!({
                    "direction": "inbound",
                    "calling_party": format!("+1415555{:04}", i % 10_000),
                    "called_party": "+18005550100",
                    "agent": "sarah@demo.example",
                })),
                source: "upload".into(),
                provider_recording_id: None,
            },
        )
        .await
        .unwrap();
        call_ids.push((tenant, accepted.call_id));
    }
    let started = Instant::now();
    drain(&env, &scopes, &pipeline, workers, count).await;
    let first = started.elapsed();

    // The timed run: enrich → analyse → publish again for every call.
    let (embedded_before, texts_before) =
        (nanos.load(Ordering::Relaxed), texts.load(Ordering::Relaxed));
    for (tenant, scope) in scopes.iter().enumerate() {
        let mut tx = env.db.write(scope).await.unwrap();
        for (_, id) in call_ids.iter().filter(|(t, _)| *t == tenant) {
            calls::set_status(&mut tx, id, "transcribed").await.unwrap();
            assert!(queue::requeue(&mut tx, "enrich", id).await.unwrap());
        }
        tx.commit().await.unwrap();
    }
    let started = Instant::now();
    drain(&env, &scopes, &pipeline, workers, count).await;
    let timed = started.elapsed();
    let embedding = Duration::from_nanos(nanos.load(Ordering::Relaxed) - embedded_before);
    let embedded = texts.load(Ordering::Relaxed) - texts_before;

    let backend = if env.postgres { "PostgreSQL" } else { "SQLite" };
    let light = pipeline.settings.light_slots.unwrap_or(workers);
    println!(
        "| {backend} | {} | {count} calls, {workers} workers + {light} light slots | enrich + analyse + publish {:.1} calls/s ({:.1} ms/call) | embedding {:.1} s of {:.1} s wall, {embedded} texts ({:.1} per call) | all four stages, scripted speech-to-text: {:.1} calls/s |",
        model.model(),
        count as f64 / timed.as_secs_f64(),
        timed.as_secs_f64() * 1000.0 / count as f64,
        embedding.as_secs_f64(),
        timed.as_secs_f64(),
        embedded as f64 / count as f64,
        count as f64 / first.as_secs_f64(),
    );
}
