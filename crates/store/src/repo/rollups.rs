//! Per-day rollups of the published call rows (migration 0010, ADR 0011): the dashboard's
//! overview and agent figures sum these small tables instead of a tenant's result rows.
//!
//! The rollups change only in the transaction that changes `call_results` ([`super::results::replace`]
//! subtracts the call's old row and adds its new one; the synthetic generator adds its batches),
//! so they always equal the sums over the rows. Changes are netted per key and written in key
//! order, so two publishes on PostgreSQL lock shared rollup rows in the same order and cannot
//! deadlock; a key whose call count falls to zero is deleted, so a day without calls has no row.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;

use super::analytics::DAY_MS;
use super::results::CallResultRow;
use crate::db::{AnyQuery, values_sql};
use crate::{StoreResult, TenantTx};

/// The fields of a published call row that the rollups sum.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Counted {
    pub started_at: i64,
    pub direction: String,
    pub sentiment_label: String,
    pub agent_id: Option<String>,
    pub duration_seconds: f64,
    pub agent_sentiment_score: Option<f64>,
    pub qa_overall_pass: bool,
}

impl From<&CallResultRow> for Counted {
    fn from(row: &CallResultRow) -> Counted {
        Counted {
            started_at: row.started_at,
            direction: row.direction.clone(),
            sentiment_label: row.sentiment_label.clone(),
            agent_id: row.agent_id.clone(),
            duration_seconds: row.duration_seconds,
            agent_sentiment_score: row.agent_sentiment_score,
            qa_overall_pass: row.qa_overall_pass,
        }
    }
}

/// One rollup row's figures, or a change to them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Sums {
    calls: i64,
    duration_seconds: f64,
    agent_sentiment_sum: f64,
    agent_sentiment_calls: i64,
    qa_passed: i64,
}

impl Sums {
    fn of(call: &Counted, sign: i64) -> Sums {
        Sums {
            calls: sign,
            duration_seconds: sign as f64 * call.duration_seconds,
            agent_sentiment_sum: sign as f64 * call.agent_sentiment_score.unwrap_or(0.0),
            agent_sentiment_calls: sign * i64::from(call.agent_sentiment_score.is_some()),
            qa_passed: sign * i64::from(call.qa_overall_pass),
        }
    }

    fn add(&mut self, other: Sums) {
        self.calls += other.calls;
        self.duration_seconds += other.duration_seconds;
        self.agent_sentiment_sum += other.agent_sentiment_sum;
        self.agent_sentiment_calls += other.agent_sentiment_calls;
        self.qa_passed += other.qa_passed;
    }

    fn is_zero(&self) -> bool {
        *self == Sums::default()
    }
}

type DayKey = (i64, String, String);
type AgentKey = (i64, String);

/// Changes to a tenant's rollups, netted per key.
#[derive(Default)]
pub(crate) struct RollupChanges {
    days: BTreeMap<DayKey, Sums>,
    agents: BTreeMap<AgentKey, Sums>,
}

/// Rows per multi-row upsert (8 or 9 values each, well under both backends' parameter limits).
const CHUNK: usize = 500;

const DAY_UPSERT: &str = "INSERT INTO call_day_rollups (tenant_id, day, direction, sentiment_label, calls, \
     duration_seconds, agent_sentiment_sum, agent_sentiment_calls, qa_passed) ";
const DAY_CONFLICT: &str = " ON CONFLICT (tenant_id, day, direction, sentiment_label) DO UPDATE SET \
     calls = call_day_rollups.calls + excluded.calls, \
     duration_seconds = call_day_rollups.duration_seconds + excluded.duration_seconds, \
     agent_sentiment_sum = call_day_rollups.agent_sentiment_sum + excluded.agent_sentiment_sum, \
     agent_sentiment_calls = call_day_rollups.agent_sentiment_calls + excluded.agent_sentiment_calls, \
     qa_passed = call_day_rollups.qa_passed + excluded.qa_passed";
const AGENT_UPSERT: &str = "INSERT INTO agent_day_rollups (tenant_id, day, agent_id, calls, \
     duration_seconds, agent_sentiment_sum, agent_sentiment_calls, qa_passed) ";
const AGENT_CONFLICT: &str = " ON CONFLICT (tenant_id, day, agent_id) DO UPDATE SET \
     calls = agent_day_rollups.calls + excluded.calls, \
     duration_seconds = agent_day_rollups.duration_seconds + excluded.duration_seconds, \
     agent_sentiment_sum = agent_day_rollups.agent_sentiment_sum + excluded.agent_sentiment_sum, \
     agent_sentiment_calls = agent_day_rollups.agent_sentiment_calls + excluded.agent_sentiment_calls, \
     qa_passed = agent_day_rollups.qa_passed + excluded.qa_passed";

impl RollupChanges {
    /// Counts a newly published row.
    pub fn add(&mut self, call: &Counted) {
        self.push(call, 1);
    }

    /// Takes back a row that is being replaced.
    pub fn remove(&mut self, call: &Counted) {
        self.push(call, -1);
    }

    fn push(&mut self, call: &Counted, sign: i64) {
        let day = call.started_at.div_euclid(DAY_MS);
        let sums = Sums::of(call, sign);
        self.days
            .entry((day, call.direction.clone(), call.sentiment_label.clone()))
            .or_default()
            .add(sums);
        if let Some(agent) = &call.agent_id {
            self.agents
                .entry((day, agent.clone()))
                .or_default()
                .add(sums);
        }
    }

    /// Writes the changes in the transaction that changed the rows.
    pub async fn apply(self, tx: &mut TenantTx) -> StoreResult<()> {
        let tenant = tx.tenant().as_str().to_owned();
        let emptied_days: BTreeSet<i64> = self
            .days
            .iter()
            .filter(|(_, s)| s.calls < 0)
            .map(|((day, _, _), _)| *day)
            .chain(
                self.agents
                    .iter()
                    .filter(|(_, s)| s.calls < 0)
                    .map(|((day, _), _)| *day),
            )
            .collect();
        upsert(
            tx,
            DAY_UPSERT,
            DAY_CONFLICT,
            3,
            self.days,
            |query, (day, direction, label)| {
                query.bind(*day).bind(direction.clone()).bind(label.clone())
            },
        )
        .await?;
        upsert(
            tx,
            AGENT_UPSERT,
            AGENT_CONFLICT,
            2,
            self.agents,
            |query, (day, agent)| query.bind(*day).bind(agent.clone()),
        )
        .await?;
        for day in emptied_days {
            for table in ["call_day_rollups", "agent_day_rollups"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE tenant_id = $1 AND day = $2 AND calls <= 0"
                )))
                .bind(tenant.as_str())
                .bind(day)
                .execute(tx.conn())
                .await?;
            }
        }
        Ok(())
    }
}

/// Adds the non-zero `rows` to a rollup table, one multi-row upsert per chunk: the tenant, the
/// key columns `bind_key` binds (`key_columns` of them), then the five sums.
async fn upsert<K>(
    tx: &mut TenantTx,
    insert: &str,
    conflict: &str,
    key_columns: usize,
    rows: BTreeMap<K, Sums>,
    bind_key: for<'q> fn(AnyQuery<'q>, &K) -> AnyQuery<'q>,
) -> StoreResult<()> {
    let tenant = tx.tenant().as_str().to_owned();
    let rows: Vec<(K, Sums)> = rows.into_iter().filter(|(_, s)| !s.is_zero()).collect();
    for chunk in rows.chunks(CHUNK) {
        let sql = values_sql(tx.backend(), insert, chunk.len(), 1 + key_columns + 5) + conflict;
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (key, sums) in chunk {
            query = bind_key(query.bind(tenant.clone()), key)
                .bind(sums.calls)
                .bind(sums.duration_seconds)
                .bind(sums.agent_sentiment_sum)
                .bind(sums.agent_sentiment_calls)
                .bind(sums.qa_passed);
        }
        query.persistent(false).execute(tx.conn()).await?;
    }
    Ok(())
}

/// The call's published row as the rollups counted it, if it has one.
pub(crate) async fn counted(tx: &mut TenantTx, call_id: &str) -> StoreResult<Option<Counted>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(
        "SELECT started_at, direction, sentiment_label, agent_id, duration_seconds, \
         agent_sentiment_score, qa_overall_pass FROM call_results WHERE tenant_id = $1 AND call_id = $2",
    )
    .bind(tenant.as_str())
    .bind(call_id)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|row| {
        let pass: i64 = row.try_get("qa_overall_pass")?;
        Ok(Counted {
            started_at: row.try_get("started_at")?,
            direction: row.try_get("direction")?,
            sentiment_label: row.try_get("sentiment_label")?,
            agent_id: row.try_get("agent_id")?,
            duration_seconds: row.try_get("duration_seconds")?,
            agent_sentiment_score: row.try_get("agent_sentiment_score")?,
            qa_overall_pass: pass != 0,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(day: i64, agent: Option<&str>, score: Option<f64>, pass: bool) -> Counted {
        Counted {
            started_at: day * DAY_MS + 5,
            direction: "inbound".into(),
            sentiment_label: "POSITIVE".into(),
            agent_id: agent.map(str::to_owned),
            duration_seconds: 60.0,
            agent_sentiment_score: score,
            qa_overall_pass: pass,
        }
    }

    #[test]
    fn republishing_the_same_row_nets_to_nothing() {
        let row = call(20_000, Some("a@x"), Some(0.5), true);
        let mut changes = RollupChanges::default();
        changes.remove(&row);
        changes.add(&row);
        assert!(changes.days.values().all(Sums::is_zero));
        assert!(changes.agents.values().all(Sums::is_zero));
    }

    #[test]
    fn a_call_counts_on_its_day_and_for_its_agent_only_when_it_has_one() {
        let mut changes = RollupChanges::default();
        changes.add(&call(20_000, Some("a@x"), Some(0.5), true));
        changes.add(&call(20_000, None, None, false));
        let day = &changes.days[&(20_000, "inbound".into(), "POSITIVE".into())];
        assert_eq!(
            *day,
            Sums {
                calls: 2,
                duration_seconds: 120.0,
                agent_sentiment_sum: 0.5,
                agent_sentiment_calls: 1,
                qa_passed: 1,
            }
        );
        assert_eq!(changes.agents.len(), 1);
        assert_eq!(changes.agents[&(20_000, "a@x".into())].calls, 1);
    }
}
