//! `switchboard worker` and the in-process workers of `serve`: the pipeline with the engines the
//! settings choose, loaded on first use.

use std::sync::Arc;
use std::time::Duration;

use switchboard_engines::VaderSentiment;
use switchboard_pipeline::{Engines, LazyEngine, Pipeline, PipelineSettings};
use switchboard_store::group_commit::GroupCommit;
use tokio::sync::watch;

use crate::context::Context;
use crate::settings::Settings;

pub fn engines(settings: &Settings) -> anyhow::Result<Engines> {
    let asr = settings.asr()?;
    let llm = settings.llm()?;
    let hosted = !matches!(llm, switchboard_engines::llm::LlmConfig::Local { .. });
    #[cfg(feature = "models")]
    let embedder = {
        let dir = settings.embedding_model_dir();
        let precision = settings.embedding_precision()?;
        LazyEngine::new(move || {
            switchboard_engines::embeddings::minilm::MiniLm::load_at(&dir, precision)
                .map(|m| Arc::new(m) as Arc<dyn switchboard_engines::embeddings::Embedder>)
                .map_err(|e| e.to_string())
        })
    };
    #[cfg(not(feature = "models"))]
    let embedder = LazyEngine::new(|| {
        Err("this build has no embedding engine (build with the default `models` feature)".into())
    });
    #[cfg(feature = "models")]
    let voices = {
        let path = settings.voice_model();
        LazyEngine::new(move || {
            switchboard_engines::voice::resemblyzer::Resemblyzer::load(&path)
                .map(|m| Arc::new(m) as Arc<dyn switchboard_engines::voice::VoiceEmbedder>)
                .map_err(|e| e.to_string())
        })
    };
    #[cfg(not(feature = "models"))]
    let voices = LazyEngine::new(|| {
        Err("this build has no voice encoder (build with the default `models` feature)".into())
    });
    Ok(Engines {
        asr: LazyEngine::new(move || asr.clone().build().map_err(|e| e.to_string())),
        sentiment: Arc::new(VaderSentiment::new()),
        rubric_vectors: Default::default(),
        embedder,
        voices,
        // The embedded model is for drafting only; QA verdicts and summaries need a hosted one.
        language_model: hosted
            .then(|| LazyEngine::new(move || llm.clone().build().map_err(|e| e.to_string()))),
    })
}

/// The pipeline on `engines` (shared with the receptionist in `serve`, so models load once).
pub fn pipeline(context: &Context, engines: Arc<Engines>) -> Arc<Pipeline> {
    let settings = &context.settings;
    Arc::new(Pipeline {
        db: context.db.clone(),
        storage: context.storage.clone(),
        engines,
        settings: PipelineSettings {
            lease: Duration::from_secs(settings.job_lease_secs.max(1)),
            poll: Duration::from_secs(1),
            max_audio_seconds: settings.max_audio_seconds,
            light_slots: None,
        },
        messaging: Some(switchboard_pipeline::sms::Messaging::new(
            Arc::new(context.keyring.clone()),
            settings.platform_twilio(),
            &settings.twilio_api_url,
        )),
        ends: GroupCommit::new(context.db.clone()),
    })
}

/// The worker name: host and process, so a lease names who holds it.
pub fn worker_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".into());
    format!("{host}-{}", std::process::id())
}

/// Runs `concurrency` workers until Ctrl-C / SIGTERM; each finishes its current job first.
/// With `until_idle`, runs the jobs that are due and exits.
pub async fn run(context: Context, concurrency: usize, until_idle: bool) -> anyhow::Result<()> {
    let pipeline = pipeline(&context, Arc::new(engines(&context.settings)?));
    if until_idle {
        let ran = pipeline.run_until_idle(&worker_name()).await?;
        println!("{ran} pipeline jobs ran; none is due now");
        return Ok(());
    }
    let (stop, stopped) = watch::channel(false);
    let workers = tokio::spawn(pipeline.run_workers(worker_name(), concurrency, stopped));
    println!(
        "{concurrency} pipeline workers running, and {concurrency} light slots for the stages after speech-to-text (model threads per computation: {}); Ctrl-C stops them after their current jobs",
        switchboard_engines::model_threads::in_force()
            .map_or("all cores".into(), |n| n.to_string())
    );
    super::serve::shutdown_signal().await;
    let _ = stop.send(true);
    workers.await?;
    Ok(())
}
