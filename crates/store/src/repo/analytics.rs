//! Dashboard analytics (SPEC §5): every figure is an SQL aggregate over the published rows of one
//! tenant and a start-time range, so the pages and the JSON API read the same numbers and nothing
//! is computed from a sample.
//!
//! The whole UTC days of a range are read from the per-day rollups (`call_day_rollups`,
//! `agent_day_rollups`, kept equal to the rows by [`super::rollups`]); the partial days at its
//! edges, when a range is given in times rather than dates, from `call_results` itself. Days are
//! UTC days (`started_at / 86 400 000`). Sentiment averages skip calls whose party had no speech
//! (NULL scores); rates are `None` when there is nothing to divide by.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::AnyQuery;
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

/// `SUM(calls)` per value of `column`, as `{prefix}0`, `{prefix}1`, ….
fn case_counts(column: &str, keys: &[&str], prefix: &str) -> String {
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            format!(
                "CAST(COALESCE(SUM(CASE WHEN {column} = '{key}' THEN calls ELSE 0 END), 0) AS BIGINT) AS {prefix}{i}"
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns every rollup source yields, and their sums.
const SUMS: &str = "CAST(COALESCE(SUM(calls), 0) AS BIGINT) AS n, \
     CAST(COALESCE(SUM(duration_seconds), 0) AS DOUBLE PRECISION) AS duration, \
     CAST(COALESCE(SUM(agent_sentiment_sum), 0) AS DOUBLE PRECISION) AS sentiment_sum, \
     CAST(COALESCE(SUM(agent_sentiment_calls), 0) AS BIGINT) AS sentiment_calls, \
     CAST(COALESCE(SUM(qa_passed), 0) AS BIGINT) AS passed";

/// Which rollup a source reads: the tenant's days, or its agents' days.
#[derive(Clone, Copy)]
enum Rollup {
    Days,
    Agents,
}

impl Rollup {
    fn table(self) -> &'static str {
        match self {
            Rollup::Days => "call_day_rollups",
            Rollup::Agents => "agent_day_rollups",
        }
    }

    /// The key columns besides the day.
    fn keys(self) -> &'static str {
        match self {
            Rollup::Days => "direction, sentiment_label",
            Rollup::Agents => "agent_id",
        }
    }
}

/// `(SELECT day, <keys>, calls, duration_seconds, agent_sentiment_sum, agent_sentiment_calls,
/// qa_passed …) AS s` over the range: the rollup rows of its whole days, and the result rows of
/// its partial days shaped like rollup rows. `conditions` (e.g. `AND agent_id = $4`) apply to
/// every part; the range is bound from `$first` on, in [`Source::binds`] order.
struct Source {
    sql: String,
    binds: Vec<i64>,
}

impl Source {
    fn new(rollup: Rollup, range: TimeRange, conditions: &str, first: usize) -> Source {
        let mut parts = Vec::new();
        let mut binds = Vec::new();
        let param = |value: i64, binds: &mut Vec<i64>| {
            binds.push(value);
            format!("${}", first + binds.len() - 1)
        };
        let first_day =
            range.from_ms.div_euclid(DAY_MS) + i64::from(range.from_ms.rem_euclid(DAY_MS) != 0);
        let end_day = range.to_ms.div_euclid(DAY_MS);
        let edges = if first_day < end_day {
            let (from, to) = (param(first_day, &mut binds), param(end_day, &mut binds));
            parts.push(format!(
                "SELECT day, {keys}, calls, duration_seconds, agent_sentiment_sum, agent_sentiment_calls, \
                 qa_passed FROM {table} WHERE tenant_id = $1 AND day >= {from} AND day < {to}{conditions}",
                keys = rollup.keys(),
                table = rollup.table(),
            ));
            [
                (range.from_ms, first_day * DAY_MS),
                (end_day * DAY_MS, range.to_ms),
            ]
        } else {
            [(range.from_ms, range.to_ms), (0, 0)]
        };
        let agent_only = match rollup {
            Rollup::Days => "",
            Rollup::Agents => " AND agent_id IS NOT NULL",
        };
        for (from_ms, to_ms) in edges.into_iter().filter(|(from, to)| from < to) {
            let (from, to) = (param(from_ms, &mut binds), param(to_ms, &mut binds));
            parts.push(format!(
                "SELECT started_at / 86400000 AS day, {keys}, 1 AS calls, duration_seconds, \
                 COALESCE(agent_sentiment_score, 0) AS agent_sentiment_sum, \
                 CASE WHEN agent_sentiment_score IS NULL THEN 0 ELSE 1 END AS agent_sentiment_calls, \
                 qa_overall_pass AS qa_passed FROM call_results \
                 WHERE tenant_id = $1 AND started_at >= {from} AND started_at < {to}{agent_only}{conditions}",
                keys = rollup.keys(),
            ));
        }
        Source {
            sql: format!("({}) AS s", parts.join(" UNION ALL ")),
            binds,
        }
    }

    fn bind<'q>(&self, mut query: AnyQuery<'q>) -> AnyQuery<'q> {
        for value in &self.binds {
            query = query.bind(*value);
        }
        query
    }
}

/// `sum / calls`, or `None` without calls.
fn average(sum: f64, calls: i64) -> Option<f64> {
    (calls > 0).then(|| sum / calls as f64)
}

pub async fn overview(tx: &mut TenantTx, range: TimeRange) -> StoreResult<Overview> {
    let tenant = tx.tenant().clone();
    let source = Source::new(Rollup::Days, range, "", 2);
    let totals = source
        .bind(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {SUMS}, {}, {} FROM {}",
                case_counts("direction", &DIRECTIONS, "d"),
                case_counts("sentiment_label", &SENTIMENTS, "s"),
                source.sql,
            )))
            .bind(tenant.as_str()),
        )
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
        average_agent_sentiment: average(
            totals.try_get("sentiment_sum")?,
            totals.try_get("sentiment_calls")?,
        ),
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
    // The agent's own rollup (its index serves `agent_id = $2`) or the tenant's days.
    let (rollup, conditions) = match agent {
        Some(_) => (Rollup::Agents, " AND agent_id = $2"),
        None => (Rollup::Days, ""),
    };
    let source = Source::new(rollup, range, conditions, 3);
    let query = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT day, {SUMS} FROM {} GROUP BY day ORDER BY day",
        source.sql
    )))
    .bind(tenant.as_str())
    .bind(agent.unwrap_or_default().to_owned());
    let rows = source.bind(query).fetch_all(tx.conn()).await?;
    rows.iter()
        .map(|row| {
            let calls: i64 = row.try_get("n")?;
            let passed: i64 = row.try_get("passed")?;
            Ok(DayVolume {
                day: day_label(row.try_get("day")?),
                calls,
                qa_passed: passed,
                qa_failed: calls - passed,
                average_agent_sentiment: average(
                    row.try_get("sentiment_sum")?,
                    row.try_get("sentiment_calls")?,
                ),
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
    // `$2` is the search pattern and `$3` the agent; either is bound (empty) even when unused.
    let mut conditions = String::new();
    if search.is_some() {
        conditions.push_str(" AND LOWER(agent_id) LIKE $2 ESCAPE '\\'");
    }
    if agent.is_some() {
        conditions.push_str(" AND agent_id = $3");
    }
    let source = Source::new(Rollup::Agents, range, &conditions, 4);
    let query = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT agent_id, {SUMS} FROM {} GROUP BY agent_id ORDER BY agent_id",
        source.sql
    )))
    .bind(tenant.as_str())
    .bind(search.map(super::calls::like_pattern).unwrap_or_default())
    .bind(agent.unwrap_or_default().to_owned());
    let rows = source.bind(query).fetch_all(tx.conn()).await?;
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
                average_sentiment: average(
                    row.try_get("sentiment_sum")?,
                    row.try_get("sentiment_calls")?,
                ),
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
