//! Published results (SPEC §4.5): the flat call row and the flat QA rows of a call's current
//! result version, kept for the dashboard's queries. Publishing replaces a call's rows, so
//! running it twice leaves one set.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::rollups::{Counted, RollupChanges};
use crate::clock::now_ms;
use crate::{StoreError, StoreResult, TenantTx};

/// The flat call row. `row` is the whole row as published (with the tenant's `qa_<rule>` and
/// extra metadata columns); the typed fields are the ones the dashboard filters and sums.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CallResultRow {
    pub call_id: String,
    pub version: i64,
    /// Unix milliseconds.
    pub started_at: i64,
    pub ended_at: i64,
    pub duration_seconds: f64,
    pub direction: String,
    pub calling_party: Option<String>,
    pub called_party: Option<String>,
    pub agent_id: Option<String>,
    pub sentiment_label: String,
    pub sentiment_score: f64,
    pub agent_sentiment_score: Option<f64>,
    pub customer_sentiment_score: Option<f64>,
    pub positive_score: f64,
    pub neutral_score: f64,
    pub negative_score: f64,
    pub mixed_score: f64,
    pub transcript_word_count: i64,
    pub utterance_count: i64,
    pub agent_talk_ratio: Option<f64>,
    pub non_talk_seconds: f64,
    pub interruptions: i64,
    pub qa_overall_pass: bool,
    pub qa_score: f64,
    pub summary: String,
    pub model_tokens: i64,
    pub row: serde_json::Value,
}

/// One call × QA rule. `passed` is `None` when the rule did not apply.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct QaResultRow {
    pub call_id: String,
    pub rule_id: String,
    pub rule_name: String,
    pub passed: Option<bool>,
    pub reason: String,
    pub evidence_start_ms: Option<i64>,
}

pub(crate) const CALL_COLUMNS: &str = "call_id, version, started_at, ended_at, duration_seconds, direction, calling_party, \
    called_party, agent_id, sentiment_label, sentiment_score, agent_sentiment_score, customer_sentiment_score, \
    positive_score, neutral_score, negative_score, mixed_score, transcript_word_count, utterance_count, \
    agent_talk_ratio, non_talk_seconds, interruptions, qa_overall_pass, qa_score, summary, model_tokens, row_json";

/// Replaces the call's published rows with these, and moves the call from its old row's place
/// in the dashboard rollups to the new one's.
pub async fn replace(
    tx: &mut TenantTx,
    call: &CallResultRow,
    qa: &[QaResultRow],
) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    let mut changes = RollupChanges::default();
    if let Some(old) = super::rollups::counted(tx, &call.call_id).await? {
        changes.remove(&old);
    }
    changes.add(&Counted::from(call));
    changes.apply(tx).await?;
    for table in ["call_results", "qa_results"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE tenant_id = $1 AND call_id = $2"
        )))
        .bind(tenant.as_str())
        .bind(&call.call_id)
        .execute(tx.conn())
        .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO call_results (tenant_id, {CALL_COLUMNS}, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)"
    )))
    .bind(tenant.as_str())
    .bind(&call.call_id)
    .bind(call.version)
    .bind(call.started_at)
    .bind(call.ended_at)
    .bind(call.duration_seconds)
    .bind(&call.direction)
    .bind(call.calling_party.as_deref())
    .bind(call.called_party.as_deref())
    .bind(call.agent_id.as_deref())
    .bind(&call.sentiment_label)
    .bind(call.sentiment_score)
    .bind(call.agent_sentiment_score)
    .bind(call.customer_sentiment_score)
    .bind(call.positive_score)
    .bind(call.neutral_score)
    .bind(call.negative_score)
    .bind(call.mixed_score)
    .bind(call.transcript_word_count)
    .bind(call.utterance_count)
    .bind(call.agent_talk_ratio)
    .bind(call.non_talk_seconds)
    .bind(call.interruptions)
    .bind(i64::from(call.qa_overall_pass))
    .bind(call.qa_score)
    .bind(&call.summary)
    .bind(call.model_tokens)
    .bind(call.row.to_string())
    .bind(now_ms())
    // sqlx's Any driver sends a NULL f64 as a float4 parameter (its Real/Double NULL mapping is
    // swapped, sqlx#4284), so a statement cached after a NULL rejects the next call's f64 on
    // PostgreSQL ("incorrect binary data format"). Unprepared, each insert is typed afresh.
    .persistent(false)
    .execute(tx.conn())
    .await?;
    for row in qa {
        sqlx::query(
            "INSERT INTO qa_results (tenant_id, call_id, rule_id, rule_name, passed, reason, evidence_start_ms, started_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(tenant.as_str())
        .bind(&row.call_id)
        .bind(&row.rule_id)
        .bind(&row.rule_name)
        .bind(row.passed.map(i64::from))
        .bind(&row.reason)
        .bind(row.evidence_start_ms)
        .bind(call.started_at)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

pub(crate) fn call_from_row(row: &AnyRow) -> StoreResult<CallResultRow> {
    let json: String = row.try_get("row_json")?;
    let pass: i64 = row.try_get("qa_overall_pass")?;
    Ok(CallResultRow {
        call_id: row.try_get("call_id")?,
        version: row.try_get("version")?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        duration_seconds: row.try_get("duration_seconds")?,
        direction: row.try_get("direction")?,
        calling_party: row.try_get("calling_party")?,
        called_party: row.try_get("called_party")?,
        agent_id: row.try_get("agent_id")?,
        sentiment_label: row.try_get("sentiment_label")?,
        sentiment_score: row.try_get("sentiment_score")?,
        agent_sentiment_score: row.try_get("agent_sentiment_score")?,
        customer_sentiment_score: row.try_get("customer_sentiment_score")?,
        positive_score: row.try_get("positive_score")?,
        neutral_score: row.try_get("neutral_score")?,
        negative_score: row.try_get("negative_score")?,
        mixed_score: row.try_get("mixed_score")?,
        transcript_word_count: row.try_get("transcript_word_count")?,
        utterance_count: row.try_get("utterance_count")?,
        agent_talk_ratio: row.try_get("agent_talk_ratio")?,
        non_talk_seconds: row.try_get("non_talk_seconds")?,
        interruptions: row.try_get("interruptions")?,
        qa_overall_pass: pass != 0,
        qa_score: row.try_get("qa_score")?,
        summary: row.try_get("summary")?,
        model_tokens: row.try_get("model_tokens")?,
        row: serde_json::from_str(&json)
            .map_err(|_| StoreError::Invalid("corrupt call result row".into()))?,
    })
}

pub async fn get(tx: &mut TenantTx, call_id: &str) -> StoreResult<Option<CallResultRow>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CALL_COLUMNS} FROM call_results WHERE tenant_id = $1 AND call_id = $2"
    )))
    .bind(tenant.as_str())
    .bind(call_id)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(call_from_row).transpose()
}

/// The QA rows of one call, by rule id.
pub async fn qa_for_call(tx: &mut TenantTx, call_id: &str) -> StoreResult<Vec<QaResultRow>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(
        "SELECT call_id, rule_id, rule_name, passed, reason, evidence_start_ms FROM qa_results \
         WHERE tenant_id = $1 AND call_id = $2 ORDER BY rule_id",
    )
    .bind(tenant.as_str())
    .bind(call_id)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let passed: Option<i64> = row.try_get("passed")?;
            Ok(QaResultRow {
                call_id: row.try_get("call_id")?,
                rule_id: row.try_get("rule_id")?,
                rule_name: row.try_get("rule_name")?,
                passed: passed.map(|p| p != 0),
                reason: row.try_get("reason")?,
                evidence_start_ms: row.try_get("evidence_start_ms")?,
            })
        })
        .collect()
}

/// A tenant's usage, derived from its calls and results, so a retried stage never counts twice.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Usage {
    pub calls: i64,
    pub published_calls: i64,
    pub audio_seconds: f64,
    pub model_tokens: i64,
    /// Recordings as stored (bytes).
    pub bytes_stored: i64,
}

pub async fn usage(tx: &mut TenantTx) -> StoreResult<Usage> {
    let tenant = tx.tenant().clone();
    let calls = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(audio_bytes), 0) AS BIGINT) AS bytes FROM calls WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_one(tx.conn())
    .await?;
    let results = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(duration_seconds), 0) AS DOUBLE PRECISION) AS seconds, \
         CAST(COALESCE(SUM(model_tokens), 0) AS BIGINT) AS tokens FROM call_results WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_one(tx.conn())
    .await?;
    Ok(Usage {
        calls: calls.try_get("n")?,
        bytes_stored: calls.try_get("bytes")?,
        published_calls: results.try_get("n")?,
        audio_seconds: results.try_get("seconds")?,
        model_tokens: results.try_get("tokens")?,
    })
}
