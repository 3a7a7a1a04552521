//! Enrich (SPEC §4.3): `raw` → `enriched/<call_id>.json` with sentiment per utterance, the
//! aggregates and the conversation metrics; when the tenant's ai-config turns on PII redaction,
//! the utterance texts are redacted here (after sentiment and metrics are taken from the words as
//! spoken), so every later artifact, the published rows and the dashboard see only the redacted
//! text. The `raw` artifact keeps the transcript as recognised, for a re-run of this stage.

use std::time::Instant;

use switchboard_store::queue::ClaimedJob;

use super::{StageError, enriched_name, finish, raw_name, read_json, write_json};
use crate::record::{EnrichedCall, EnrichedUtterance, RawTranscript};
use crate::redact::{self, Applied, Entity, Replaced};
use crate::stage::Stage;
use crate::worker::Pipeline;
use crate::{metrics, sentiment};

pub(super) async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), StageError> {
    let started = Instant::now();
    let objects = pipeline.storage.tenant(&job.scope)?;
    let raw: RawTranscript = read_json(&objects, &raw_name(&job.call_id)).await?;
    let ai = super::ai_config(&objects).await?;
    let engine = pipeline.engines.sentiment.clone();
    let texts: Vec<&str> = raw.utterances.iter().map(|u| u.text.as_str()).collect();
    let scores = engine.score_batch(&texts);
    let mut utterances: Vec<EnrichedUtterance> = raw
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
    let sentiment = sentiment::summarise(&utterances, metrics.duration_ms);
    let redaction = redact_all(&mut utterances, ai.redaction.active());
    let enriched = EnrichedCall {
        call_id: raw.call_id.clone(),
        language: raw.language,
        asr: raw.engine,
        sentiment_engine: engine.name().to_owned(),
        duration_ms: metrics.duration_ms,
        sentiment,
        utterances,
        metrics,
        transcribe_ms: raw.elapsed_ms,
        elapsed_ms: started.elapsed().as_millis() as u64,
        redaction,
        diarization: raw.diarization,
    };
    write_json(&objects, &enriched_name(&job.call_id), &enriched).await?;
    finish(pipeline, job, Stage::Enrich, None).await?;
    Ok(())
}

/// Redacts every utterance's text; `None` when the tenant redacts nothing.
fn redact_all(utterances: &mut [EnrichedUtterance], entities: &[Entity]) -> Option<Applied> {
    if entities.is_empty() {
        return None;
    }
    let mut replaced = Replaced::default();
    for u in utterances.iter_mut() {
        let (text, n) = redact::redact(&u.utterance.text, entities);
        u.utterance.text = text;
        replaced.add(n);
    }
    Some(Applied {
        entities: entities.to_vec(),
        replaced,
    })
}
