//! The SMS follow-up a completed live call promised (SPEC §6 actions): when a turn answered with
//! a `send_sms` scenario, the message — the scenario's `sms` text, or its spoken reply — is filled
//! from the tenant's variables and queued with its `sms` job, in the transaction that records the
//! call's end. The worker sends it (`switchboard_pipeline::sms`).

use switchboard_receptionist::documents;
use switchboard_receptionist::placeholders::{self, MISSING_FALLBACK};
use switchboard_receptionist::template::ActionHook;
use switchboard_store::repo::live_calls::{self, LiveCall};
use switchboard_store::repo::sms::{self, SMS_JOB, SmsMessage};
use switchboard_store::{StoreResult, TenantTx, queue};

/// Queues the call's follow-up, if its conversation promised one; idempotent per call record.
pub async fn queue_sms(tx: &mut TenantTx, live: &LiveCall, call_id: &str) -> StoreResult<()> {
    let turns = live_calls::turns(tx, &live.call_sid).await?;
    let Some(turn) = turns
        .iter()
        .rev()
        .find(|t| t.action == ActionHook::SendSms.as_str())
    else {
        return Ok(());
    };
    let Some((settings, _)) = documents::settings(tx).await? else {
        return Ok(());
    };
    let scenario_id = turn.matched.clone().unwrap_or_default();
    let text = settings
        .scenarios
        .iter()
        .find(|s| s.id == scenario_id)
        .and_then(|s| s.sms.clone())
        .unwrap_or_else(|| turn.reply.clone());
    let filled = placeholders::fill(&text, &settings.reply_variables());
    // Every sentence needed a variable the tenant has not set: nothing worth sending.
    let skipped = (filled.text == MISSING_FALLBACK).then(|| {
        format!(
            "the message needs variable(s) the tenant has not set: {}",
            filled.missing.join(", ")
        )
    });
    let message = SmsMessage {
        call_id: call_id.to_owned(),
        call_sid: live.call_sid.clone(),
        scenario_id,
        to_number: live.from_number.clone(),
        from_number: live.to_number.clone(),
        body: filled.text,
        status: if skipped.is_some() {
            "skipped"
        } else {
            "queued"
        }
        .into(),
        provider_sid: None,
        error: skipped.clone(),
        created_at: 0,
        sent_at: None,
    };
    if sms::add(tx, &message).await? && skipped.is_none() {
        queue::enqueue(tx, SMS_JOB, call_id).await?;
    }
    Ok(())
}
