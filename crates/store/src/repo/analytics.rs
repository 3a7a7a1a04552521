//! Dashboard analytics (SPEC §5): every figure is an SQL aggregate over the published rows
//! (`call_results`, `qa_results`) of one tenant and a start-time range, so the pages and the JSON
//! API read the same numbers and nothing is computed from a sample.
//!
//! Days are UTC days (`started_at / 86 400 000`). Sentiment averages skip calls whose party had no
//! speech (NULL scores); rates are `None` when there is nothing to divide by.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{StoreResult, TenantTx};

pub const DAY_MS: i64 = 86_400_000;

/// Start times `[from_ms, to_ms)`, Unix milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    pub from_ms: i64,
    pub to_ms: i64,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Overview {
    pub total_calls: i64,
    pub total_duration_seconds: f64,
    pub average_duration_seconds: Option<f64>,
    /// Mean of the calls' agent sentiment scores (−1 … 1).
    pub average_agent_sentiment: Option<f64>,
    pub qa_passed: i64,
    /// `qa_passed / total_calls`.
    pub qa_pass_rate: Option<f64>,
    /// Calls per direction: inbound, outbound, internal, unknown (always all four, in that order).
    pub directions: Vec<Count>,
    /// Calls per overall sentiment label: POSITIVE, NEUTRAL, NEGATIVE, MIXED (all four, in order).
    pub sentiments: Vec<Count>,
    /// One entry per UTC day that has calls, oldest first.
    pub daily: Vec<DayVolume>,
    /// Up to five agents each: most calls; highest average agent sentiment; most failed QA calls.
    pub top_agents_by_volume: Vec<AgentStats>,
    pub top_agents_by_sentiment: Vec<AgentStats>,
    pub agents_with_most_qa_failures: Vec<AgentStats>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Count {
    pub key: String,
    pub calls: i64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DayVolume {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub calls: i64,
    pub qa_passed: i64,
    pub qa_failed: i64,
    pub average_agent_sentiment: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AgentStats {
    pub agent_id: String,
    pub calls: i64,
    pub total_duration_seconds: f64,
    pub average_duration_seconds: f64,
    pub average_sentiment: Option<f64>,
    pub qa_passed: i64,
    pub qa_failed: i64,
    pub qa_pass_rate: f64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RuleFailures {
    pub rule_id: String,
    pub rule_name: String,
    pub failures: i64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AgentDetail {
    #[serde(flatten)]
    pub stats: AgentStats,
    /// The agent's calls and sentiment per UTC day, oldest first.
    pub daily: Vec<DayVolume>,
    /// Failed verdicts per QA rule, most first.
    pub qa_failures_by_rule: Vec<RuleFailures>,
}

pub const DIRECTIONS: [&str; 4] = ["inbound", "outbound", "internal", "unknown"];
pub const SENTIMENTS: [&str; 4] = ["POSITIVE", "NEUTRAL", "NEGATIVE", "MIXED"];
const TOP: usize = 5;

/// `YYYY-MM-DD` of a UTC day number.
pub fn day_label(day: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(day * 86_400)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_default()
}

fn counts_by(keys: &[&str], row: &AnyRow, prefix: &str) -> StoreResult<Vec<Count>> {
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            Ok(Count {
                key: (*key).to_owned(),
                calls: row.try_get(format!("{prefix}{i}").as_str())?,
            })
        })
        .collect()
}

fn case_counts(column: &str, keys: &[&str], prefix: &str) -> String {
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            format!(
                "CAST(COALESCE(SUM(CASE WHEN {column} = '{key}' THEN 1 ELSE 0 END), 0) AS BIGINT) AS {prefix}{i}"
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn overview(tx: &mut TenantTx, range: TimeRange) -> StoreResult<Overview> {
    let tenant = tx.tenant().clone();
    let totals = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(duration_seconds), 0) AS DOUBLE PRECISION) AS duration, \
         CAST(AVG(agent_sentiment_score) AS DOUBLE PRECISION) AS agent_sentiment, \
         CAST(COALESCE(SUM(qa_overall_pass), 0) AS BIGINT) AS passed, {}, {} \
         FROM call_results WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3",
        case_counts("direction", &DIRECTIONS, "d"),
        case_counts("sentiment_label", &SENTIMENTS, "s"),
    )))
    .bind(tenant.as_str())
    .bind(range.from_ms)
    .bind(range.to_ms)
    .fetch_one(tx.conn())
    .await?;
    let total_calls: i64 = totals.try_get("n")?;
    let total_duration_seconds: f64 = totals.try_get("duration")?;
    let qa_passed: i64 = totals.try_get("passed")?;
    let agents = agent_stats(tx, range, None, None).await?;
    let mut by_volume = agents.clone();
    sort_agents(&mut by_volume, AgentOrder::Calls);
    let mut by_sentiment: Vec<AgentStats> = agents
        .iter()
        .filter(|a| a.average_sentiment.is_some())
        .cloned()
        .collect();
    sort_agents(&mut by_sentiment, AgentOrder::Sentiment);
    let mut by_failures: Vec<AgentStats> =
        agents.iter().filter(|a| a.qa_failed > 0).cloned().collect();
    by_failures.sort_by(|a, b| {
        b.qa_failed
            .cmp(&a.qa_failed)
            .then(a.agent_id.cmp(&b.agent_id))
    });
    Ok(Overview {
        total_calls,
        total_duration_seconds,
        average_duration_seconds: (total_calls > 0)
            .then(|| total_duration_seconds / total_calls as f64),
        average_agent_sentiment: totals.try_get("agent_sentiment")?,
        qa_passed,
        qa_pass_rate: (total_calls > 0).then(|| qa_passed as f64 / total_calls as f64),
        directions: counts_by(&DIRECTIONS, &totals, "d")?,
        sentiments: counts_by(&SENTIMENTS, &totals, "s")?,
        daily: daily(tx, range, None).await?,
        top_agents_by_volume: by_volume.into_iter().take(TOP).collect(),
        top_agents_by_sentiment: by_sentiment.into_iter().take(TOP).collect(),
        agents_with_most_qa_failures: by_failures.into_iter().take(TOP).collect(),
    })
}

/// Calls per UTC day in the range, of one agent or of all.
async fn daily(
    tx: &mut TenantTx,
    range: TimeRange,
    agent: Option<&str>,
) -> StoreResult<Vec<DayVolume>> {
    let tenant = tx.tenant().clone();
    // Two statements rather than `($4 IS NULL OR agent_id = $4)`, which keeps SQLite from using
    // the (tenant, agent, started_at) index.
    let agent_clause = if agent.is_some() {
        "AND agent_id = $4"
    } else {
        ""
    };
    let query = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT started_at / 86400000 AS day, COUNT(*) AS n, \
         CAST(COALESCE(SUM(qa_overall_pass), 0) AS BIGINT) AS passed, \
         CAST(AVG(agent_sentiment_score) AS DOUBLE PRECISION) AS sentiment \
         FROM call_results WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3 \
         {agent_clause} GROUP BY started_at / 86400000 ORDER BY day"
    )))
    .bind(tenant.as_str())
    .bind(range.from_ms)
    .bind(range.to_ms);
    let query = match agent {
        Some(agent) => query.bind(agent.to_owned()),
        None => query,
    };
    let rows = query.fetch_all(tx.conn()).await?;
    rows.iter()
        .map(|row| {
            let calls: i64 = row.try_get("n")?;
            let passed: i64 = row.try_get("passed")?;
            Ok(DayVolume {
                day: day_label(row.try_get("day")?),
                calls,
                qa_passed: passed,
                qa_failed: calls - passed,
                average_agent_sentiment: row.try_get("sentiment")?,
            })
        })
        .collect()
}

/// Per-agent figures over the range (calls without an identified agent are left out), ordered
/// by agent id; `search` keeps agent ids containing it (case-insensitive), `agent` one agent.
async fn agent_stats(
    tx: &mut TenantTx,
    range: TimeRange,
    search: Option<&str>,
    agent: Option<&str>,
) -> StoreResult<Vec<AgentStats>> {
    let tenant = tx.tenant().clone();
    let mut conditions = String::new();
    let mut next = 4;
    if search.is_some() {
        conditions.push_str(&format!(" AND LOWER(agent_id) LIKE ${next} ESCAPE '\\'"));
        next += 1;
    }
    if agent.is_some() {
        conditions.push_str(&format!(" AND agent_id = ${next}"));
    }
    let query = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT agent_id, COUNT(*) AS n, CAST(SUM(duration_seconds) AS DOUBLE PRECISION) AS duration, \
         CAST(AVG(agent_sentiment_score) AS DOUBLE PRECISION) AS sentiment, \
         CAST(SUM(qa_overall_pass) AS BIGINT) AS passed \
         FROM call_results WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3 \
         AND agent_id IS NOT NULL{conditions} GROUP BY agent_id ORDER BY agent_id"
    )))
    .bind(tenant.as_str())
    .bind(range.from_ms)
    .bind(range.to_ms);
    let query = match search {
        Some(search) => query.bind(super::calls::like_pattern(search)),
        None => query,
    };
    let query = match agent {
        Some(agent) => query.bind(agent.to_owned()),
        None => query,
    };
    let rows = query.fetch_all(tx.conn()).await?;
    rows.iter()
        .map(|row| {
            let calls: i64 = row.try_get("n")?;
            let duration: f64 = row.try_get("duration")?;
            let passed: i64 = row.try_get("passed")?;
            Ok(AgentStats {
                agent_id: row.try_get("agent_id")?,
                calls,
                total_duration_seconds: duration,
                average_duration_seconds: duration / calls.max(1) as f64,
                average_sentiment: row.try_get("sentiment")?,
                qa_passed: passed,
                qa_failed: calls - passed,
                qa_pass_rate: passed as f64 / calls.max(1) as f64,
            })
        })
        .collect()
}

/// How the agent explorer orders its list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AgentOrder {
    /// Most calls first.
    #[default]
    Calls,
    /// Highest average sentiment first.
    Sentiment,
    /// Lowest QA pass rate first.
    QaPassRate,
    AgentId,
}

fn sort_agents(agents: &mut [AgentStats], order: AgentOrder) {
    match order {
        AgentOrder::Calls => {
            agents.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.agent_id.cmp(&b.agent_id)))
        }
        AgentOrder::Sentiment => agents.sort_by(|a, b| {
            b.average_sentiment
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&a.average_sentiment.unwrap_or(f64::NEG_INFINITY))
                .then(a.agent_id.cmp(&b.agent_id))
        }),
        AgentOrder::QaPassRate => agents.sort_by(|a, b| {
            a.qa_pass_rate
                .total_cmp(&b.qa_pass_rate)
                .then(a.agent_id.cmp(&b.agent_id))
        }),
        AgentOrder::AgentId => agents.sort_by(|a, b| a.agent_id.cmp(&b.agent_id)),
    }
}

/// Every agent of the explorer's search, in `order` (for its CSV export).
pub async fn all_agents(
    tx: &mut TenantTx,
    range: TimeRange,
    search: Option<&str>,
    order: AgentOrder,
) -> StoreResult<Vec<AgentStats>> {
    let mut all = agent_stats(tx, range, search.filter(|s| !s.is_empty()), None).await?;
    sort_agents(&mut all, order);
    Ok(all)
}

/// A page of the agent explorer, and how many agents match in all.
pub async fn agents(
    tx: &mut TenantTx,
    range: TimeRange,
    search: Option<&str>,
    order: AgentOrder,
    limit: i64,
    offset: i64,
) -> StoreResult<(Vec<AgentStats>, i64)> {
    let all = all_agents(tx, range, search, order).await?;
    let total = all.len() as i64;
    let page = all
        .into_iter()
        .skip(offset.max(0) as usize)
        .take(limit.clamp(1, 500) as usize)
        .collect();
    Ok((page, total))
}

/// One agent's figures, trends and QA failures over the range; `None` when the agent has no
/// published calls in it.
pub async fn agent(
    tx: &mut TenantTx,
    agent_id: &str,
    range: TimeRange,
) -> StoreResult<Option<AgentDetail>> {
    let Some(stats) = agent_stats(tx, range, None, Some(agent_id))
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(
        "SELECT rule_id, MIN(rule_name) AS rule_name, COUNT(*) AS n FROM qa_results \
         WHERE tenant_id = $1 AND passed = 0 AND call_id IN (SELECT call_id FROM call_results \
         WHERE tenant_id = $1 AND agent_id = $2 AND started_at >= $3 AND started_at < $4) \
         GROUP BY rule_id ORDER BY n DESC, rule_id",
    )
    .bind(tenant.as_str())
    .bind(agent_id)
    .bind(range.from_ms)
    .bind(range.to_ms)
    .fetch_all(tx.conn())
    .await?;
    let qa_failures_by_rule = rows
        .iter()
        .map(|row| {
            Ok(RuleFailures {
                rule_id: row.try_get("rule_id")?,
                rule_name: row.try_get("rule_name")?,
                failures: row.try_get("n")?,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(Some(AgentDetail {
        stats,
        daily: daily(tx, range, Some(agent_id)).await?,
        qa_failures_by_rule,
    }))
}
