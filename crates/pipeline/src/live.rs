//! Live receptionist calls in the pipeline (SPEC §6 "after the call"). The status webhook hands a
//! completed call over as a call row with source `live` (the CallSid as its provider recording
//! id, no audio) and two jobs:
//!
//! - `transcribe`, which for a live call builds the transcript from the stored turns instead of
//!   running speech-to-text — the receptionist on channel 0 (agent), the caller on channel 1
//!   (customer) — after which enrich, analyse and publish run as for any call, so the call shows
//!   on the dashboard beside recorded ones;
//! - `remember`, which processes the conversation into caller memory (summary, profile, memories,
//!   personality) under the call's tenant, keyed by the CallSid.
//!
//! Both are idempotent: a stage's artifact is the same each time, and memory processing of a
//! CallSid already processed changes nothing.
//!
//! Times: a turn row records when its webhook arrived, i.e. when the caller stopped speaking.
//! Each caller line is placed to end there and each reply to start there, with durations from
//! word counts at 150 words per minute (0.4 s a word); lines never overlap.

use switchboard_engines::asr::EngineInfo;
use switchboard_memory::caller::valid_user_id;
use switchboard_memory::conversation::{Conversation, Message};
use switchboard_memory::service::{self, CallInput, ProfileSpec};
use switchboard_store::queue::ClaimedJob;
use switchboard_store::repo::calls::Call;
use switchboard_store::repo::live_calls::{self, LiveCall, Turn};

use crate::record::{RawTranscript, Speaker, Utterance};
use crate::stages::{StageError, blocking};
use crate::worker::Pipeline;

pub use switchboard_store::ingest::REMEMBER_JOB;

const MS_PER_WORD: u64 = 400;
/// Speech recognised by Twilio's `<Gather input="speech">`; the receptionist's own words.
pub const LIVE_ENGINE: &str = "twilio-gather";

/// The call's stored live call and turns, read under the job's tenant.
async fn live_rows(
    pipeline: &Pipeline,
    job: &ClaimedJob,
    call: &Call,
) -> Result<(LiveCall, Vec<Turn>), StageError> {
    let call_sid = call
        .provider_recording_id
        .as_deref()
        .ok_or_else(|| StageError::permanent("a live call without its CallSid"))?;
    let mut tx = pipeline.db.read(&job.scope).await?;
    let live = live_calls::get(&mut tx, call_sid).await?;
    let turns = live_calls::turns(&mut tx, call_sid).await?;
    tx.commit().await?;
    let live =
        live.ok_or_else(|| StageError::permanent(format!("live call {call_sid} is not stored")))?;
    Ok((live, turns))
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// The transcript of a live call from its turns.
pub fn transcript(call_id: &str, language: &str, live: &LiveCall, turns: &[Turn]) -> RawTranscript {
    let mut utterances: Vec<Utterance> = Vec::new();
    let mut cursor = 0u64;
    let push = |speaker: Speaker, text: &str, start: u64, utterances: &mut Vec<Utterance>| {
        let end = start + words(text).max(1) * MS_PER_WORD;
        utterances.push(Utterance {
            index: utterances.len(),
            speaker,
            channel: if speaker == Speaker::Agent { 0 } else { 1 },
            start_ms: start,
            end_ms: end,
            text: text.trim().to_owned(),
            confidence: 1.0,
        });
        end
    };
    for turn in turns {
        let at = (turn.at - live.started_at).max(0) as u64;
        let caller = turn.caller_text.trim();
        if !caller.is_empty() {
            let start = at
                .saturating_sub(words(caller).max(1) * MS_PER_WORD)
                .max(cursor);
            cursor = push(Speaker::Customer, caller, start, &mut utterances);
        }
        if !turn.reply.trim().is_empty() {
            cursor = push(Speaker::Agent, &turn.reply, at.max(cursor), &mut utterances);
        }
    }
    let stated = live.duration_seconds.unwrap_or(0).max(0) as u64 * 1000;
    RawTranscript {
        call_id: call_id.to_owned(),
        language: language.to_owned(),
        engine: EngineInfo {
            engine: LIVE_ENGINE.into(),
            model: "receptionist".into(),
        },
        duration_ms: stated.max(cursor),
        channels: 2,
        utterances,
        diarization: None,
        elapsed_ms: 0,
    }
}

/// The transcribe stage's input for a live call.
pub(crate) async fn live_transcript(
    pipeline: &Pipeline,
    job: &ClaimedJob,
    call: &Call,
    language: &str,
) -> Result<RawTranscript, StageError> {
    let (live, turns) = live_rows(pipeline, job, call).await?;
    Ok(transcript(&call.id, language, &live, &turns))
}

/// The conversation as the memory service reads it.
fn conversation(turns: &[Turn]) -> Option<Conversation> {
    let messages: Vec<Message> = turns
        .iter()
        .flat_map(|t| {
            [
                ("user", t.caller_text.as_str()),
                ("assistant", t.reply.as_str()),
            ]
            .into_iter()
            .filter(|(_, text)| !text.trim().is_empty())
            .map(|(role, text)| Message {
                role: role.into(),
                content: text
                    .chars()
                    .take(switchboard_memory::conversation::MAX_MESSAGE_CHARS)
                    .collect(),
            })
        })
        .take(switchboard_memory::conversation::MAX_MESSAGES)
        .collect();
    Conversation::parse(&messages).ok()
}

/// The `remember` job: the live call into the caller's memory. A caller without an E.164 number
/// (withheld, "anonymous") has no memory to keep; the job ends with a note in the log.
pub(crate) async fn remember(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), StageError> {
    let call = crate::stages::load_call(pipeline, job).await?;
    let (live, mut turns) = live_rows(pipeline, job, &call).await?;
    // A tenant that redacts transcripts keeps card numbers and the like out of memory too.
    let objects = pipeline.storage.tenant(&job.scope)?;
    let entities = crate::stages::ai_config(&objects)
        .await?
        .redaction
        .active()
        .to_vec();
    if !entities.is_empty() {
        for turn in &mut turns {
            turn.caller_text = crate::redact::redact(&turn.caller_text, &entities).0;
            turn.reply = crate::redact::redact(&turn.reply, &entities).0;
        }
    }
    if !valid_user_id(&live.from_number) {
        tracing::info!(tenant.id = %job.scope.tenant(), call_sid = %live.call_sid, "caller number withheld or not E.164; nothing to remember");
        return finish(pipeline, job).await;
    }
    let Some(conversation) = conversation(&turns) else {
        return finish(pipeline, job).await;
    };
    // The scenario categories the receptionist matched are the call's topics.
    let topics: Vec<String> = turns
        .iter()
        .filter(|t| t.source == "scenario")
        .filter_map(|t| t.matched.clone())
        .fold(Vec::new(), |mut acc, m| {
            if !acc.contains(&m) {
                acc.push(m);
            }
            acc
        });
    let input = CallInput {
        user_id: live.from_number.clone(),
        call_id: Some(live.call_sid.clone()),
        conversation,
        profile: Default::default(),
        topics: Some(topics),
        at_ms: live.ended_at.unwrap_or(live.started_at),
    };
    let spec = {
        let mut tx = pipeline.db.read(&job.scope).await?;
        let spec = ProfileSpec::for_tenant(&mut tx).await?;
        tx.commit().await?;
        spec
    };
    let engines = pipeline.engines.clone();
    let tenant = job.scope.tenant().as_str().to_owned();
    let spec2 = spec.clone();
    let prepared = blocking(move || {
        // Memories are kept without vectors when MiniLM cannot load; ranking then uses words.
        let embedder = engines.embedder.get().ok();
        Ok(service::prepare(
            &tenant,
            &input,
            &spec2,
            engines.sentiment.as_ref(),
            embedder.as_deref(),
        ))
    })
    .await?;
    let mut tx = pipeline.db.write(&job.scope).await?;
    if !switchboard_store::queue::complete_in(&mut tx, job).await? {
        return Ok(());
    }
    service::save(&mut tx, prepared, &spec).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a job that had nothing to write, in a transaction shared with the jobs ending beside it.
async fn finish(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), StageError> {
    let end = switchboard_store::queue::Completion(job.clone());
    pipeline.ends.commit(std::sync::Arc::new(end)).await?;
    Ok(())
}
