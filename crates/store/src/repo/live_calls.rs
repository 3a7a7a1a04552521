//! Live receptionist calls and their turns, by Twilio CallSid. Turns are numbered from 1; the
//! (call, turn) key makes a retried webhook delivery find the stored turn instead of adding one,
//! and a restarted server continues a call from these rows.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::now_ms;
use crate::{StoreResult, TenantTx};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LiveCall {
    pub call_sid: String,
    pub from_number: String,
    pub to_number: String,
    /// `in-progress` until Twilio's status callback names a final status (`completed`, `busy`,
    /// `no-answer`, `failed`, `canceled`).
    pub status: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub duration_seconds: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Turn {
    pub seq: i64,
    pub caller_text: String,
    pub reply: String,
    pub source: String,
    pub matched: Option<String>,
    pub score: f64,
    pub action: String,
    /// The TwiML that answered, returned again for a duplicate delivery.
    #[serde(skip)]
    pub twiml: String,
    pub at: i64,
}

fn call_from_row(row: &AnyRow) -> StoreResult<LiveCall> {
    Ok(LiveCall {
        call_sid: row.try_get("call_sid")?,
        from_number: row.try_get("from_number")?,
        to_number: row.try_get("to_number")?,
        status: row.try_get("status")?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        duration_seconds: row.try_get("duration_seconds")?,
    })
}

fn turn_from_row(row: &AnyRow) -> StoreResult<Turn> {
    Ok(Turn {
        seq: row.try_get("seq")?,
        caller_text: row.try_get("caller_text")?,
        reply: row.try_get("reply")?,
        source: row.try_get("source")?,
        matched: row.try_get("matched")?,
        score: row.try_get("score")?,
        action: row.try_get("action")?,
        twiml: row.try_get("twiml")?,
        at: row.try_get("at")?,
    })
}

const CALL_COLUMNS: &str =
    "call_sid, from_number, to_number, status, started_at, ended_at, duration_seconds";
const TURN_COLUMNS: &str = "seq, caller_text, reply, source, matched, score, action, twiml, at";

/// Records a call's start; a second delivery of the same CallSid changes nothing. Returns
/// whether the row is new.
pub async fn start(tx: &mut TenantTx, call_sid: &str, from: &str, to: &str) -> StoreResult<bool> {
    let tenant = tx.tenant().clone();
    let done = sqlx::query(
        "INSERT INTO live_calls (tenant_id, call_sid, from_number, to_number, status, started_at) \
         VALUES ($1, $2, $3, $4, 'in-progress', $5) ON CONFLICT (tenant_id, call_sid) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(call_sid)
    .bind(from)
    .bind(to)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(tx: &mut TenantTx, call_sid: &str) -> StoreResult<Option<LiveCall>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CALL_COLUMNS} FROM live_calls WHERE tenant_id = $1 AND call_sid = $2"
    )))
    .bind(tenant.as_str())
    .bind(call_sid)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(call_from_row).transpose()
}

/// The tenant's latest calls, newest first.
pub async fn list(tx: &mut TenantTx, limit: i64, offset: i64) -> StoreResult<Vec<LiveCall>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CALL_COLUMNS} FROM live_calls WHERE tenant_id = $1 \
         ORDER BY started_at DESC, call_sid LIMIT $2 OFFSET $3"
    )))
    .bind(tenant.as_str())
    .bind(limit)
    .bind(offset)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(call_from_row).collect()
}

pub async fn turns(tx: &mut TenantTx, call_sid: &str) -> StoreResult<Vec<Turn>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TURN_COLUMNS} FROM live_turns WHERE tenant_id = $1 AND call_sid = $2 ORDER BY seq"
    )))
    .bind(tenant.as_str())
    .bind(call_sid)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(turn_from_row).collect()
}

pub async fn turn(tx: &mut TenantTx, call_sid: &str, seq: i64) -> StoreResult<Option<Turn>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TURN_COLUMNS} FROM live_turns WHERE tenant_id = $1 AND call_sid = $2 AND seq = $3"
    )))
    .bind(tenant.as_str())
    .bind(call_sid)
    .bind(seq)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(turn_from_row).transpose()
}

/// Stores a turn unless that turn number exists (a duplicate delivery that raced this one);
/// returns whether it was stored.
pub async fn add_turn(tx: &mut TenantTx, call_sid: &str, turn: &Turn) -> StoreResult<bool> {
    let tenant = tx.tenant().clone();
    let done = sqlx::query(
        "INSERT INTO live_turns (tenant_id, call_sid, seq, caller_text, reply, source, matched, score, action, twiml, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (tenant_id, call_sid, seq) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(call_sid)
    .bind(turn.seq)
    .bind(&turn.caller_text)
    .bind(&turn.reply)
    .bind(&turn.source)
    .bind(turn.matched.as_deref())
    .bind(turn.score)
    .bind(&turn.action)
    .bind(&turn.twiml)
    .bind(turn.at)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records Twilio's final status; returns whether this delivery changed it (the first one).
pub async fn finish(
    tx: &mut TenantTx,
    call_sid: &str,
    status: &str,
    duration_seconds: Option<i64>,
) -> StoreResult<bool> {
    let tenant = tx.tenant().clone();
    let done = sqlx::query(
        "UPDATE live_calls SET status = $1, ended_at = $2, duration_seconds = $3 \
         WHERE tenant_id = $4 AND call_sid = $5 AND status = 'in-progress'",
    )
    .bind(status)
    .bind(now_ms())
    .bind(duration_seconds)
    .bind(tenant.as_str())
    .bind(call_sid)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}
