//! Caller memory (SPEC §7): memories, call summaries, caller profiles, personality metrics and
//! their running averages, per tenant and caller (`user_id`, an E.164 number). Every statement
//! binds the transaction's tenant; the memory crate decides what to store.

use std::collections::BTreeMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::repo::new_id;
use crate::{StoreError, StoreResult, TenantTx};

/// The conversation thread of one caller with one tenant: `customer_<tenant>_user_<digits>`
/// (SPEC §7).
pub fn thread_id(tenant: &str, user_id: &str) -> String {
    format!("customer_{tenant}_user_{}", user_id.trim_start_matches('+'))
}

/// The most rows any list returns.
pub const MAX_LIST: i64 = 500;

#[derive(Clone, Debug, PartialEq)]
pub struct Memory {
    pub id: String,
    pub user_id: String,
    pub content: String,
    /// `api`, or `call:<call id>` for a memory a processed call produced.
    pub source: String,
    pub call_id: Option<String>,
    /// The quantised embedding (see the memory crate), when one was computed.
    pub embedding: Option<Vec<u8>>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CallSummary {
    pub call_id: String,
    pub user_id: String,
    pub thread_id: String,
    pub summary: String,
    pub topics: Vec<String>,
    pub turns: i64,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CallerProfile {
    pub user_id: String,
    /// The template's caller-profile fields that are known.
    pub fields: BTreeMap<String, String>,
    pub quick_bio: String,
    /// Calls processed into memory.
    pub calls: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub updated_at: i64,
}

/// One call's personality metrics, or (in [`PersonalityAverages`]) their means.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PersonalityScores {
    pub sentiment: f64,
    pub talkativeness: f64,
    pub formality: f64,
    pub patience: f64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PersonalityMetrics {
    pub call_id: String,
    #[serde(flatten)]
    pub scores: PersonalityScores,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PersonalityAverages {
    pub calls: i64,
    #[serde(flatten)]
    pub scores: PersonalityScores,
    pub updated_at: i64,
}

fn memory_from_row(row: &AnyRow) -> StoreResult<Memory> {
    Ok(Memory {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        content: row.try_get("content")?,
        source: row.try_get("source")?,
        call_id: row.try_get("call_id")?,
        embedding: row.try_get("embedding")?,
        created_at: row.try_get("created_at")?,
    })
}

fn summary_from_row(row: &AnyRow) -> StoreResult<CallSummary> {
    let topics: String = row.try_get("topics")?;
    Ok(CallSummary {
        call_id: row.try_get("call_id")?,
        user_id: row.try_get("user_id")?,
        thread_id: row.try_get("thread_id")?,
        summary: row.try_get("summary")?,
        topics: serde_json::from_str(&topics)
            .map_err(|_| StoreError::Corrupt("a call summary's topics".into()))?,
        turns: row.try_get("turns")?,
        created_at: row.try_get("created_at")?,
    })
}

fn scores_from_row(row: &AnyRow) -> StoreResult<PersonalityScores> {
    Ok(PersonalityScores {
        sentiment: row.try_get("sentiment")?,
        talkativeness: row.try_get("talkativeness")?,
        formality: row.try_get("formality")?,
        patience: row.try_get("patience")?,
    })
}

const MEMORY_COLUMNS: &str = "id, user_id, content, source, call_id, embedding, created_at";

/// Stores a memory; returns its id.
pub async fn add_memory(tx: &mut TenantTx, memory: &Memory) -> StoreResult<String> {
    let tenant = tx.tenant().clone();
    let id = if memory.id.is_empty() {
        new_id()
    } else {
        memory.id.clone()
    };
    sqlx::query(
        "INSERT INTO memories (tenant_id, id, user_id, content, source, call_id, embedding, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant.as_str())
    .bind(&id)
    .bind(&memory.user_id)
    .bind(&memory.content)
    .bind(&memory.source)
    .bind(memory.call_id.as_deref())
    .bind(memory.embedding.as_deref())
    .bind(memory.created_at)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// The caller's memories, newest first.
pub async fn memories(tx: &mut TenantTx, user_id: &str, limit: i64) -> StoreResult<Vec<Memory>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMORY_COLUMNS} FROM memories WHERE tenant_id = $1 AND user_id = $2 \
         ORDER BY created_at DESC, id LIMIT $3"
    )))
    .bind(tenant.as_str())
    .bind(user_id)
    .bind(limit.clamp(1, MAX_LIST))
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(memory_from_row).collect()
}

/// The memories one processed call produced, in the order they were stored.
pub async fn call_memories(tx: &mut TenantTx, call_id: &str) -> StoreResult<Vec<Memory>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMORY_COLUMNS} FROM memories WHERE tenant_id = $1 AND call_id = $2 \
         ORDER BY created_at, id"
    )))
    .bind(tenant.as_str())
    .bind(call_id)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(memory_from_row).collect()
}

/// Deletes one of the tenant's memories; `false` when it has none with this id.
pub async fn delete_memory(tx: &mut TenantTx, id: &str) -> StoreResult<bool> {
    let tenant = tx.tenant().clone();
    let done = sqlx::query("DELETE FROM memories WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a processed call's summary; `false` when this call was processed before (the key
/// that makes processing idempotent).
pub async fn add_summary(tx: &mut TenantTx, summary: &CallSummary) -> StoreResult<bool> {
    let tenant = tx.tenant().clone();
    let topics = serde_json::to_string(&summary.topics).unwrap_or_else(|_| "[]".into());
    let done = sqlx::query(
        "INSERT INTO call_summaries (tenant_id, call_id, user_id, thread_id, summary, topics, turns, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, call_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(&summary.call_id)
    .bind(&summary.user_id)
    .bind(&summary.thread_id)
    .bind(&summary.summary)
    .bind(topics)
    .bind(summary.turns)
    .bind(summary.created_at)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The caller's latest summaries, newest first.
pub async fn summaries(
    tx: &mut TenantTx,
    user_id: &str,
    limit: i64,
) -> StoreResult<Vec<CallSummary>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(
        "SELECT call_id, user_id, thread_id, summary, topics, turns, created_at FROM call_summaries \
         WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at DESC, call_id LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(user_id)
    .bind(limit.clamp(1, MAX_LIST))
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(summary_from_row).collect()
}

pub async fn summary(tx: &mut TenantTx, call_id: &str) -> StoreResult<Option<CallSummary>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(
        "SELECT call_id, user_id, thread_id, summary, topics, turns, created_at FROM call_summaries \
         WHERE tenant_id = $1 AND call_id = $2",
    )
    .bind(tenant.as_str())
    .bind(call_id)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(summary_from_row).transpose()
}

/// The columns [`profile_from_row`] reads.
pub(crate) const PROFILE_COLUMNS: &str =
    "user_id, fields, quick_bio, calls, first_seen, last_seen, updated_at";

pub(crate) fn profile_from_row(row: &AnyRow) -> StoreResult<CallerProfile> {
    let fields: String = row.try_get("fields")?;
    Ok(CallerProfile {
        user_id: row.try_get("user_id")?,
        fields: serde_json::from_str(&fields)
            .map_err(|_| StoreError::Corrupt("a caller profile's fields".into()))?,
        quick_bio: row.try_get("quick_bio")?,
        calls: row.try_get("calls")?,
        first_seen: row.try_get("first_seen")?,
        last_seen: row.try_get("last_seen")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn profile(tx: &mut TenantTx, user_id: &str) -> StoreResult<Option<CallerProfile>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PROFILE_COLUMNS} FROM caller_profiles WHERE tenant_id = $1 AND user_id = $2"
    )))
    .bind(tenant.as_str())
    .bind(user_id)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(profile_from_row).transpose()
}

/// Writes the caller's profile (one per tenant × caller).
pub async fn put_profile(tx: &mut TenantTx, profile: &CallerProfile) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    let fields = serde_json::to_string(&profile.fields).unwrap_or_else(|_| "{}".into());
    sqlx::query(
        "INSERT INTO caller_profiles (tenant_id, user_id, fields, quick_bio, calls, first_seen, last_seen, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, user_id) DO UPDATE SET \
         fields = excluded.fields, quick_bio = excluded.quick_bio, calls = excluded.calls, \
         first_seen = excluded.first_seen, last_seen = excluded.last_seen, updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(&profile.user_id)
    .bind(fields)
    .bind(&profile.quick_bio)
    .bind(profile.calls)
    .bind(profile.first_seen)
    .bind(profile.last_seen)
    .bind(profile.updated_at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// How many calls of this caller were processed.
pub async fn summary_count(tx: &mut TenantTx, user_id: &str) -> StoreResult<i64> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM call_summaries WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant.as_str())
    .bind(user_id)
    .fetch_one(tx.conn())
    .await?;
    Ok(row.try_get("n")?)
}

/// Records one call's metrics and recomputes the caller's averages from all of them.
pub async fn add_personality(
    tx: &mut TenantTx,
    user_id: &str,
    metrics: &PersonalityMetrics,
) -> StoreResult<PersonalityAverages> {
    let tenant = tx.tenant().clone();
    let s = metrics.scores;
    sqlx::query(
        "INSERT INTO personality_metrics (tenant_id, call_id, user_id, sentiment, talkativeness, formality, patience, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, call_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(&metrics.call_id)
    .bind(user_id)
    .bind(s.sentiment)
    .bind(s.talkativeness)
    .bind(s.formality)
    .bind(s.patience)
    .bind(metrics.created_at)
    .execute(tx.conn())
    .await?;
    let row = sqlx::query(
        "SELECT COUNT(*) AS calls, AVG(sentiment) AS sentiment, AVG(talkativeness) AS talkativeness, \
         AVG(formality) AS formality, AVG(patience) AS patience \
         FROM personality_metrics WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant.as_str())
    .bind(user_id)
    .fetch_one(tx.conn())
    .await?;
    let averages = PersonalityAverages {
        calls: row.try_get("calls")?,
        scores: scores_from_row(&row)?,
        updated_at: metrics.created_at,
    };
    let a = averages.scores;
    sqlx::query(
        "INSERT INTO personality_averages (tenant_id, user_id, calls, sentiment, talkativeness, formality, patience, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, user_id) DO UPDATE SET \
         calls = excluded.calls, sentiment = excluded.sentiment, talkativeness = excluded.talkativeness, \
         formality = excluded.formality, patience = excluded.patience, updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(user_id)
    .bind(averages.calls)
    .bind(a.sentiment)
    .bind(a.talkativeness)
    .bind(a.formality)
    .bind(a.patience)
    .bind(averages.updated_at)
    .execute(tx.conn())
    .await?;
    Ok(averages)
}

pub async fn personality_averages(
    tx: &mut TenantTx,
    user_id: &str,
) -> StoreResult<Option<PersonalityAverages>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(
        "SELECT calls, sentiment, talkativeness, formality, patience, updated_at \
         FROM personality_averages WHERE tenant_id = $1 AND user_id = $2",
    )
    .bind(tenant.as_str())
    .bind(user_id)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|row| {
        Ok(PersonalityAverages {
            calls: row.try_get("calls")?,
            scores: scores_from_row(&row)?,
            updated_at: row.try_get("updated_at")?,
        })
    })
    .transpose()
}

/// One call's metrics.
pub async fn call_personality(
    tx: &mut TenantTx,
    call_id: &str,
) -> StoreResult<Option<PersonalityMetrics>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {METRICS_COLUMNS} FROM personality_metrics WHERE tenant_id = $1 AND call_id = $2"
    )))
    .bind(tenant.as_str())
    .bind(call_id)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(metrics_from_row).transpose()
}

/// The columns [`metrics_from_row`] reads.
const METRICS_COLUMNS: &str = "call_id, sentiment, talkativeness, formality, patience, created_at";

fn metrics_from_row(row: &AnyRow) -> StoreResult<PersonalityMetrics> {
    Ok(PersonalityMetrics {
        call_id: row.try_get("call_id")?,
        scores: scores_from_row(row)?,
        created_at: row.try_get("created_at")?,
    })
}

/// The caller's per-call metrics, newest first.
pub async fn personality_metrics(
    tx: &mut TenantTx,
    user_id: &str,
    limit: i64,
) -> StoreResult<Vec<PersonalityMetrics>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {METRICS_COLUMNS} FROM personality_metrics WHERE tenant_id = $1 AND user_id = $2 \
         ORDER BY created_at DESC, call_id LIMIT $3"
    )))
    .bind(tenant.as_str())
    .bind(user_id)
    .bind(limit.clamp(1, MAX_LIST))
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(metrics_from_row).collect()
}
