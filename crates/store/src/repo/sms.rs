//! SMS follow-ups of live calls (migration 0011): at most one per call record, written with the
//! `sms` job that sends it, then marked sent (with the provider's message sid) or skipped.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::now_ms;
use crate::{StoreResult, TenantTx};

/// The job kind that sends a queued message.
pub const SMS_JOB: &str = "sms";

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SmsMessage {
    pub call_id: String,
    pub call_sid: String,
    pub scenario_id: String,
    pub to_number: String,
    pub from_number: String,
    pub body: String,
    /// `queued`, `sent`, `skipped` or `failed` (its job is dead).
    pub status: String,
    pub provider_sid: Option<String>,
    /// Why it was skipped, or the last failed attempt's error.
    pub error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const COLUMNS: &str = "call_id, call_sid, scenario_id, to_number, from_number, body, status, \
     provider_sid, error, created_at, sent_at";

fn from_row(row: &AnyRow) -> StoreResult<SmsMessage> {
    Ok(SmsMessage {
        call_id: row.try_get("call_id")?,
        call_sid: row.try_get("call_sid")?,
        scenario_id: row.try_get("scenario_id")?,
        to_number: row.try_get("to_number")?,
        from_number: row.try_get("from_number")?,
        body: row.try_get("body")?,
        status: row.try_get("status")?,
        provider_sid: row.try_get("provider_sid")?,
        error: row.try_get("error")?,
        created_at: row.try_get("created_at")?,
        sent_at: row.try_get("sent_at")?,
    })
}

/// Writes the call's message (`status` `queued`, or `skipped` with its reason in `error`);
/// `false` when the call already has one.
pub async fn add(tx: &mut TenantTx, message: &SmsMessage) -> StoreResult<bool> {
    let tenant = tx.tenant().clone();
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sms_messages (tenant_id, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10, NULL) \
         ON CONFLICT DO NOTHING"
    )))
    .bind(tenant.as_str())
    .bind(&message.call_id)
    .bind(&message.call_sid)
    .bind(&message.scenario_id)
    .bind(&message.to_number)
    .bind(&message.from_number)
    .bind(&message.body)
    .bind(&message.status)
    .bind(message.error.as_deref())
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The message of a call record.
pub async fn get(tx: &mut TenantTx, call_id: &str) -> StoreResult<Option<SmsMessage>> {
    one(tx, "call_id", call_id).await
}

/// The message of a live call, by its CallSid.
pub async fn for_call_sid(tx: &mut TenantTx, call_sid: &str) -> StoreResult<Option<SmsMessage>> {
    one(tx, "call_sid", call_sid).await
}

async fn one(tx: &mut TenantTx, column: &str, value: &str) -> StoreResult<Option<SmsMessage>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sms_messages WHERE tenant_id = $1 AND {column} = $2"
    )))
    .bind(tenant.as_str())
    .bind(value)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The provider accepted the message.
pub async fn mark_sent(tx: &mut TenantTx, call_id: &str, provider_sid: &str) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    sqlx::query(
        "UPDATE sms_messages SET status = 'sent', provider_sid = $1, error = NULL, sent_at = $2 \
         WHERE tenant_id = $3 AND call_id = $4",
    )
    .bind(provider_sid)
    .bind(now_ms())
    .bind(tenant.as_str())
    .bind(call_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Keeps a failed attempt's error beside the message; `gave_up` (the job is dead) marks it
/// `failed`, otherwise it stays `queued` for the retry.
pub async fn note_failure(
    tx: &mut TenantTx,
    call_id: &str,
    error: &str,
    gave_up: bool,
) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    sqlx::query(
        "UPDATE sms_messages SET error = $1, status = $2 \
         WHERE tenant_id = $3 AND call_id = $4 AND status IN ('queued', 'failed')",
    )
    .bind(error)
    .bind(if gave_up { "failed" } else { "queued" })
    .bind(tenant.as_str())
    .bind(call_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Puts a failed message back to `queued` (an admin's retry, with its job queued again by the
/// caller); `false` when the message is not `failed`.
pub async fn requeue(tx: &mut TenantTx, call_id: &str) -> StoreResult<bool> {
    let tenant = tx.tenant().clone();
    let done = sqlx::query(
        "UPDATE sms_messages SET status = 'queued' \
         WHERE tenant_id = $1 AND call_id = $2 AND status = 'failed'",
    )
    .bind(tenant.as_str())
    .bind(call_id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}
