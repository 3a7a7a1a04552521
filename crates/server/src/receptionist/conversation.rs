//! One turn of the conversation loop (SPEC §6), after the webhook is verified: the greeting on
//! `/twilio/voice`, a reply per `/twilio/gather`, the final status on `/twilio/status`. Each turn
//! is stored with the TwiML that answered it, keyed by (CallSid, turn number): a retried delivery
//! gets the same TwiML back and adds nothing, and a restarted server carries on from the rows.

use std::sync::Arc;

use switchboard_engines::llm::ChatOptions;
use switchboard_memory::caller::valid_user_id;
use switchboard_memory::relevance::Query;
use switchboard_memory::service::{self as memory_service, ContextLimits};
use switchboard_receptionist::responder::{Decision, NO_SPEECH_REPLY, Prepared};
use switchboard_receptionist::template::ActionHook;
use switchboard_receptionist::twiml::Response;
use switchboard_store::clock::now_ms;
use switchboard_store::ingest;
use switchboard_store::repo::live_calls::{self, LiveCall, Turn};
use switchboard_store::{StoreResult, TenantScope};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What an unknown, unconfigured or suspended number says.
pub const UNROUTED_REPLY: &str = "Thank you for calling. We are not able to take your call on this number right now. Please try again later. Goodbye.";
const GENERIC_VOICE: &str = "Polly.Joanna";
const GENERIC_LANGUAGE: &str = "en-US";
const TAKE_MESSAGE: &str =
    "Please tell me your name, your number and your message, and someone will call you back.";

/// The TwiML for a number that no active, configured tenant answers.
pub fn unrouted() -> String {
    Response::new()
        .say(UNROUTED_REPLY, GENERIC_VOICE, GENERIC_LANGUAGE)
        .hangup()
        .render()
}

/// The webhook fields a turn needs.
pub struct CallInfo<'a> {
    pub call_sid: &'a str,
    pub from: &'a str,
    pub to: &'a str,
}

fn gather_url(turn: i64) -> String {
    format!("/twilio/gather?turn={turn}")
}

/// Says `text` while listening for turn `next`; hangs up if the caller says nothing.
fn listen(prepared: &Prepared, text: &str, next: i64) -> String {
    let s = &prepared.settings;
    Response::new()
        .gather(
            &gather_url(next),
            Some((text, &s.voice, &s.language)),
            &s.language,
        )
        .say(NO_SPEECH_REPLY, &s.voice, &s.language)
        .hangup()
        .render()
}

/// The TwiML that speaks `decision` and goes on to turn `next`.
fn render(prepared: &Prepared, decision: &Decision, next: i64) -> String {
    let s = &prepared.settings;
    let say = || Response::new().say(&decision.reply, &s.voice, &s.language);
    match decision.action {
        ActionHook::HangUp => say().hangup().render(),
        ActionHook::Escalate => match &s.escalation_number {
            Some(number) => say().dial(number).render(),
            // Nobody to transfer to: the promise becomes a message.
            None => listen(
                prepared,
                &format!("{} {TAKE_MESSAGE}", decision.reply),
                next,
            ),
        },
        ActionHook::TakeMessage
        | ActionHook::OfferScheduling
        | ActionHook::SendSms
        | ActionHook::None => listen(prepared, &decision.reply, next),
    }
}

fn turn_row(seq: i64, caller_text: &str, decision: &Decision, twiml: String) -> Turn {
    Turn {
        seq,
        caller_text: caller_text.to_owned(),
        reply: decision.reply.clone(),
        source: decision.source.as_str().to_owned(),
        matched: decision.matched.clone(),
        score: f64::from(decision.score),
        action: decision.action.as_str().to_owned(),
        twiml,
        at: now_ms(),
    }
}

/// Stores the turn, or — when a duplicate delivery stored it first — returns the stored TwiML.
async fn store_turn(
    state: &AppState,
    scope: &TenantScope,
    call: &CallInfo<'_>,
    turn: Turn,
) -> ApiResult<String> {
    let mut tx = state.db.write(scope).await?;
    live_calls::start(&mut tx, call.call_sid, call.from, call.to).await?;
    let twiml = if live_calls::add_turn(&mut tx, call.call_sid, &turn).await? {
        turn.twiml
    } else {
        live_calls::turn(&mut tx, call.call_sid, turn.seq)
            .await?
            .map(|t| t.twiml)
            .unwrap_or(turn.twiml)
    };
    tx.commit().await?;
    Ok(twiml)
}

async fn stored_turn(
    state: &AppState,
    scope: &TenantScope,
    call_sid: &str,
    seq: i64,
) -> StoreResult<(Option<Turn>, Option<Arc<Prepared>>)> {
    let mut tx = state.db.read(scope).await?;
    let turn = live_calls::turn(&mut tx, call_sid, seq).await?;
    let prepared = match turn {
        Some(_) => None,
        None => state.receptionist.prepared(&mut tx).await?,
    };
    tx.commit().await?;
    Ok((turn, prepared))
}

/// `/twilio/voice`: the greeting (turn 0).
pub async fn greet(state: &AppState, scope: &TenantScope, call: CallInfo<'_>) -> ApiResult<String> {
    let (stored, prepared) = stored_turn(state, scope, call.call_sid, 0).await?;
    if let Some(turn) = stored {
        return Ok(turn.twiml);
    }
    let Some(prepared) = prepared else {
        return Ok(unrouted());
    };
    let decision = prepared.greeting();
    let twiml = render(&prepared, &decision, 1);
    tracing::info!(tenant.id = %scope.tenant(), call_sid = call.call_sid, "live call started");
    store_turn(state, scope, &call, turn_row(0, "", &decision, twiml)).await
}

/// `/twilio/gather?turn=N`: the reply to the caller's N-th utterance.
pub async fn reply(
    state: &AppState,
    scope: &TenantScope,
    call: CallInfo<'_>,
    seq: i64,
    speech: &str,
) -> ApiResult<String> {
    if seq < 1 {
        return Err(ApiError::bad_request("turn must be 1 or more"));
    }
    let (stored, prepared) = stored_turn(state, scope, call.call_sid, seq).await?;
    if let Some(turn) = stored {
        return Ok(turn.twiml);
    }
    let Some(prepared) = prepared else {
        return Ok(unrouted());
    };
    let speech = speech.trim();
    if speech.is_empty() {
        // Nothing heard: ask again for the same turn, storing nothing.
        return Ok(listen(
            &prepared,
            "Sorry, I didn't catch that. Could you say it again?",
            seq,
        ));
    }
    let decision = decide(state, scope, &prepared, &call, speech).await?;
    let twiml = render(&prepared, &decision, seq + 1);
    tracing::info!(
        tenant.id = %scope.tenant(),
        call_sid = call.call_sid,
        turn = seq,
        source = decision.source.as_str(),
        matched = decision.matched.as_deref().unwrap_or(""),
        "receptionist turn"
    );
    store_turn(state, scope, &call, turn_row(seq, speech, &decision, twiml)).await
}

/// Steps 0–4 of the responder, with the utterance embedded when an embedder is loaded and the
/// language model asked (bounded by `llm_timeout`) when nothing else matched.
async fn decide(
    state: &AppState,
    scope: &TenantScope,
    prepared: &Arc<Prepared>,
    call: &CallInfo<'_>,
    speech: &str,
) -> ApiResult<Decision> {
    let engines = state.receptionist.engines().cloned();
    let embedding = match (&engines, prepared.semantic()) {
        (Some(engines), true) => {
            let text = prepared.normalize(speech);
            let engines = engines.clone();
            tokio::task::spawn_blocking(move || {
                engines
                    .embedder
                    .get()
                    .ok()
                    .and_then(|e| e.embed(&text).ok())
            })
            .await
            .ok()
            .flatten()
        }
        _ => None,
    };
    if let Some(decision) = prepared.decide(speech, embedding.as_deref()) {
        return Ok(decision);
    }
    // Below the escalation threshold (decide escalates above it); carried on the decision.
    let urgency = prepared.urgency(speech);
    let model = engines
        .as_ref()
        .filter(|_| prepared.settings.use_language_model)
        .and_then(|e| e.language_model.as_ref().map(|_| e.clone()));
    let Some(engines) = model else {
        return Ok(prepared.fallback(urgency));
    };
    // The conversation so far, and what this tenant's memory knows of the caller (SPEC §6
    // "caller context": profile, quick bio, recent summaries, memories relevant to what was
    // just said) — read only here, where a model will use it.
    let (history, caller) = {
        let mut tx = state.db.read(scope).await?;
        let turns = live_calls::turns(&mut tx, call.call_sid).await?;
        let caller = if valid_user_id(call.from) {
            let query = Query {
                text: speech,
                embedding: embedding.as_deref(),
            };
            let context = memory_service::context(
                &mut tx,
                call.from,
                Some(query),
                ContextLimits::default(),
                now_ms(),
            )
            .await?;
            Some(context.prompt_lines().join("\n"))
        } else {
            None
        };
        tx.commit().await?;
        let history: Vec<(String, String)> = turns
            .into_iter()
            .filter(|t| t.seq > 0)
            .map(|t| (t.caller_text, t.reply))
            .collect();
        (history, caller)
    };
    let messages = prepared.language_model_messages(caller.as_deref(), &history, speech);
    let asked = tokio::task::spawn_blocking(move || {
        let model = engines.language_model.as_ref()?.get().ok()?;
        let options = ChatOptions {
            max_tokens: 80,
            temperature: 0.3,
        };
        model.chat(&messages, &options).ok()
    });
    let completion = tokio::time::timeout(state.receptionist.llm_timeout, asked)
        .await
        .ok()
        .and_then(Result::ok)
        .flatten();
    Ok(completion
        .and_then(|c| prepared.language_model_decision(&c.text, urgency))
        .unwrap_or_else(|| prepared.fallback(urgency)))
}

/// `/twilio/status`: records the final status once; returns whether this delivery was the first.
pub async fn finish(
    state: &AppState,
    scope: &TenantScope,
    call: CallInfo<'_>,
    status: &str,
    duration_seconds: Option<i64>,
) -> ApiResult<bool> {
    let mut tx = state.db.write(scope).await?;
    live_calls::start(&mut tx, call.call_sid, call.from, call.to).await?;
    let first = live_calls::finish(&mut tx, call.call_sid, status, duration_seconds).await?;
    // A completed call goes to the pipeline (its dashboard record), into caller memory and, when
    // it promised one, to an SMS follow-up, in this transaction: the final status and the hand-off commit together or not at all.
    if first && status == "completed" {
        let live = live_calls::get(&mut tx, call.call_sid)
            .await?
            .ok_or(switchboard_store::StoreError::NotFound("live call"))?;
        let call_id = ingest::accept_live(&mut tx, call.call_sid, hand_off_meta(&live)).await?;
        super::follow_up::queue_sms(&mut tx, &live, &call_id).await?;
    }
    tx.commit().await?;
    if first {
        tracing::info!(tenant.id = %scope.tenant(), call_sid = call.call_sid, status, "live call ended");
    }
    Ok(first)
}

/// The agent id live calls carry on the dashboard.
pub const RECEPTIONIST_AGENT: &str = "ai-receptionist";

/// The call metadata of a live call, in the provider-metadata shape the pipeline reads.
fn hand_off_meta(live: &LiveCall) -> serde_json::Map<String, serde_json::Value> {
    let rfc3339 = |ms: i64| {
        time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
    };
    let mut meta = serde_json::Map::new();
    meta.insert("call_sid".into(), live.call_sid.clone().into());
    meta.insert("from".into(), live.from_number.clone().into());
    meta.insert("to".into(), live.to_number.clone().into());
    meta.insert("direction".into(), "inbound".into());
    meta.insert("agent".into(), RECEPTIONIST_AGENT.into());
    meta.insert("channel".into(), "receptionist".into());
    if let Some(started) = rfc3339(live.started_at) {
        meta.insert("started_at".into(), started.into());
    }
    if let Some(ended) = live.ended_at.and_then(rfc3339) {
        meta.insert("ended_at".into(), ended.into());
    }
    if let Some(seconds) = live.duration_seconds {
        meta.insert("duration_seconds".into(), seconds.into());
    }
    meta
}
