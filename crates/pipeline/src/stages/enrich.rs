//! Enrich (SPEC §4.3): `raw` → `enriched/<call_id>.json` with sentiment per utterance, the
//! aggregates and the conversation metrics.

use std::time::Instant;

use switchboard_store::queue::ClaimedJob;

use super::{StageError, enriched_name, finish, raw_name, read_json, write_json};
use crate::record::{EnrichedCall, EnrichedUtterance, RawTranscript};
use crate::stage::Stage;
use crate::worker::Pipeline;
use crate::{metrics, sentiment};

pub(super) async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), StageError> {
    let started = Instant::now();
    let objects = pipeline.storage.tenant(&job.scope)?;
    let raw: RawTranscript = read_json(&objects, &raw_name(&job.call_id)).await?;
    let engine = pipeline.engines.sentiment.clone();
    let texts: Vec<&str> = raw.utterances.iter().map(|u| u.text.as_str()).collect();
    let scores = engine.score_batch(&texts);
    let utterances: Vec<EnrichedUtterance> = raw
        .utterances
        .iter()
        .cloned()
        .zip(scores)
        .map(|(utterance, sentiment)| EnrichedUtterance {
            utterance,
            sentiment,
        })
        .collect();
    let metrics = metrics::compute(&raw.utterances, raw.duration_ms);
    let enriched = EnrichedCall {
        call_id: raw.call_id.clone(),
        language: raw.language,
        asr: raw.engine,
        sentiment_engine: engine.name().to_owned(),
        duration_ms: metrics.duration_ms,
        sentiment: sentiment::summarise(&utterances, metrics.duration_ms),
        utterances,
        metrics,
        transcribe_ms: raw.elapsed_ms,
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    write_json(&objects, &enriched_name(&job.call_id), &enriched).await?;
    finish(pipeline, job, Stage::Enrich, None).await?;
    Ok(())
}
