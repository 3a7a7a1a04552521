//! Analyse (SPEC §4.4): `enriched` + metadata + the tenant's ai-config and qa-config →
//! `final/v1.0/<call_id>.json` (and a copy per result version). Summary and next steps come
//! from the platform's language model when the tenant's ai-config asks for it and one is
//! configured; otherwise from the embedded default (extractive summary, rule-based next steps).

use std::time::Instant;

use switchboard_core::TenantId;
use switchboard_engines::embeddings::Embedder;
use switchboard_engines::llm::{LanguageModel, LlmError, Message};
use switchboard_store::queue::ClaimedJob;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{
    StageError, blocking, enriched_name, final_name, final_version_name, finish, json_bytes,
    load_call, put_all, read_json,
};
use crate::config::QaConfig;
use crate::config::ai::{AiConfig, ModelEngine};
use crate::embedding_memo::EmbeddingMemo;
use crate::engines::Engines;
use crate::parties;
use crate::qa::{self, CallView, QaError, transcript_text};
use crate::record::{
    CallFacts, EnrichedCall, FINAL_SCHEMA_VERSION, FinalRecord, ModelUse, Provenance, Utterance,
};
use crate::stage::Stage;
use crate::summary::{self, NextStep, Summary};
use crate::worker::Pipeline;

pub(super) async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), StageError> {
    let started = Instant::now();
    let call = load_call(pipeline, job).await?;
    let objects = pipeline.storage.tenant(&job.scope)?;
    let enriched: EnrichedCall = read_json(&objects, &enriched_name(&call.id)).await?;
    let ai = super::ai_config(&objects).await?;
    let rubric = super::qa_config(&objects).await?;
    let facts = call_facts(&call.meta, call.created_at, enriched.duration_ms, &ai);

    let (ai_config_version, qa_config_version) = (ai.version, rubric.version);
    let engines = pipeline.engines.clone();
    let tenant = job.scope.tenant().clone();
    // The engines block: the call's data goes to a blocking thread and comes back analysed.
    let (analysis, enriched) = blocking(move || {
        let analysis = analyse(&engines, &tenant, &ai, &rubric, &enriched)?;
        Ok((analysis, enriched))
    })
    .await?;
    let Analysis {
        summary,
        next_steps,
        qa,
        embedding_model,
        language_model,
        tokens,
    } = analysis;
    let record = FinalRecord {
        schema_version: FINAL_SCHEMA_VERSION.into(),
        call_id: call.id.clone(),
        tenant_id: job.scope.tenant().to_string(),
        result_version: call.result_version,
        call: facts,
        metadata: call.meta.clone(),
        language: enriched.language.clone(),
        provenance: Provenance {
            asr: enriched.asr.clone(),
            sentiment: enriched.sentiment_engine.clone(),
            embeddings: Some(embedding_model),
            language_model,
            summary_method: summary.method.clone(),
            pipeline_version: env!("CARGO_PKG_VERSION").into(),
            ai_config_version,
            qa_config_version,
            transcribe_ms: enriched.transcribe_ms,
            enrich_ms: enriched.elapsed_ms,
            analyse_ms: started.elapsed().as_millis() as u64,
            model_tokens: tokens,
            analysed_at: OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .unwrap_or_default(),
            redaction: enriched.redaction.clone(),
            diarization: enriched.diarization.clone(),
        },
        transcript: enriched.utterances,
        sentiment: enriched.sentiment,
        metrics: enriched.metrics,
        summary,
        next_steps,
        qa,
    };
    // The same document twice: this result version's, kept, and the current one.
    let bytes = json_bytes(&final_name(&call.id), &record)?;
    put_all(
        &objects,
        vec![
            (
                final_version_name(&call.id, call.result_version),
                bytes.clone(),
            ),
            (final_name(&call.id), bytes),
        ],
    )
    .await?;
    finish(pipeline, job, Stage::Analyse, None).await?;
    Ok(())
}

/// What the engines make of an enriched call.
struct Analysis {
    summary: Summary,
    next_steps: Vec<NextStep>,
    qa: crate::qa::QaResult,
    embedding_model: String,
    language_model: Option<ModelUse>,
    tokens: u64,
}

/// Blocking: runs the embedding model and, when the tenant asks for it, the platform's model.
fn analyse(
    engines: &Engines,
    tenant: &TenantId,
    ai: &AiConfig,
    rubric: &QaConfig,
    enriched: &EnrichedCall,
) -> Result<Analysis, StageError> {
    let model_embedder = engines.embedder.get().map_err(StageError::retry)?;
    // Each utterance is embedded once for the summary and every semantic rule; the rubric's
    // examples once per tenant until the rubric changes.
    let call_memo = EmbeddingMemo::for_one_call();
    let embedder = call_memo.embedder(tenant, model_embedder.as_ref());
    let rubric_embedder = engines
        .rubric_vectors
        .embedder(tenant, model_embedder.as_ref());
    let model = match (ai.model.engine, &engines.language_model) {
        (ModelEngine::Platform, Some(lazy)) => Some(lazy.get().map_err(StageError::retry)?),
        _ => None,
    };
    let plain: Vec<Utterance> = enriched
        .utterances
        .iter()
        .map(|u| u.utterance.clone())
        .collect();
    let (summary, next_steps, summary_tokens) =
        write_summary(ai, enriched, &plain, &embedder, model.as_deref())?;
    let view = CallView {
        utterances: &enriched.utterances,
        metrics: &enriched.metrics,
        duration_ms: enriched.duration_ms,
        embedder: Some(&embedder),
        rubric_embedder: Some(&rubric_embedder),
        language_model: model.as_deref(),
    };
    let (qa, qa_tokens) = qa::evaluate(rubric, &view).map_err(|e| match e {
        QaError::LanguageModel(e) if !e.retryable() => StageError::permanent(e.to_string()),
        other => StageError::retry(other.to_string()),
    })?;
    Ok(Analysis {
        summary,
        next_steps,
        qa,
        embedding_model: embedder.model().to_owned(),
        language_model: model.as_ref().map(|m| {
            let info = m.info();
            ModelUse {
                engine: info.engine,
                model: info.model,
            }
        }),
        tokens: summary_tokens + qa_tokens,
    })
}

/// Summary and next steps, and the model tokens they cost.
fn write_summary(
    ai: &AiConfig,
    enriched: &EnrichedCall,
    utterances: &[Utterance],
    embedder: &dyn Embedder,
    model: Option<&dyn LanguageModel>,
) -> Result<(Summary, Vec<NextStep>, u64), StageError> {
    if let (Some(model), false) = (model, utterances.is_empty()) {
        match model_summary(ai, enriched, model) {
            Ok(done) => return Ok(done),
            // A model that keeps answering off-schema: fall back to the embedded method rather
            // than publish nothing or something made up.
            Err(LlmError::InvalidJson(why)) => {
                tracing::warn!(reason = %why, "the language model gave no valid summary; using the extractive one");
            }
            Err(e) if e.retryable() => return Err(StageError::retry(e.to_string())),
            Err(e) => return Err(StageError::permanent(e.to_string())),
        }
    }
    let summary = summary::extractive(utterances, ai.summary_sentences, embedder)
        .map_err(|e| StageError::retry(e.to_string()))?;
    Ok((summary, summary::rule_based_next_steps(utterances), 0))
}

fn model_summary(
    ai: &AiConfig,
    enriched: &EnrichedCall,
    model: &dyn LanguageModel,
) -> Result<(Summary, Vec<NextStep>, u64), LlmError> {
    let schema = serde_json::json!({
        "type": "object",
        "required": ["summary", "next_steps"],
        "properties": {
            "summary": {"type": "string"},
            "next_steps": {"type": "array", "items": {"type": "string"}}
        }
    });
    let messages = [
        Message::system(format!(
            "You analyse recorded customer calls. Answer in the language \"{}\". Use only what the transcript says.\n\
             Summary: {}\nNext steps: {}",
            ai.language, ai.summary_instructions, ai.next_steps_instructions
        )),
        Message::user(format!(
            "Transcript:\n{}",
            transcript_text(&enriched.utterances)
        )),
    ];
    let (value, usage) = model.json(&messages, &schema)?;
    let text = value["summary"].as_str().unwrap_or("").trim().to_owned();
    if text.is_empty() {
        return Err(LlmError::InvalidJson("the summary is empty".into()));
    }
    let mut steps: Vec<NextStep> = value["next_steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| NextStep {
            text: s.to_owned(),
            owner: None,
            utterance_index: None,
            start_ms: None,
        })
        .collect();
    if steps.is_empty() {
        steps.push(NextStep {
            text: summary::NO_NEXT_STEPS.into(),
            owner: None,
            utterance_index: None,
            start_ms: None,
        });
    }
    Ok((
        Summary {
            text,
            sentences: Vec::new(),
            method: "language_model".into(),
        },
        steps,
        usage.input_tokens + usage.output_tokens,
    ))
}

/// Start time from the metadata (RFC 3339, or Unix seconds), else when the call was received.
fn call_facts(
    meta: &serde_json::Value,
    created_at_ms: i64,
    duration_ms: u64,
    ai: &AiConfig,
) -> CallFacts {
    let normalised = &meta["normalised"];
    let stated = match &normalised["started_at"] {
        serde_json::Value::String(s) => OffsetDateTime::parse(s, &Rfc3339).ok(),
        serde_json::Value::Number(n) => n
            .as_i64()
            .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok()),
        _ => None,
    };
    let started = stated.unwrap_or_else(|| {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(created_at_ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    });
    let ended = started + time::Duration::milliseconds(duration_ms as i64);
    let parties = parties::identify(meta, &ai.agents);
    CallFacts {
        started_at: started.format(&Rfc3339).unwrap_or_default(),
        ended_at: ended.format(&Rfc3339).unwrap_or_default(),
        duration_seconds: duration_ms as f64 / 1000.0,
        direction: parties.direction,
        calling_party: parties.calling_party,
        called_party: parties.called_party,
        agent_id: parties.agent_id,
    }
}
