//! Synthetic published calls for dashboard benchmarks (issue 6, P5) and load tests: calls rows,
//! their flat result rows and two QA rows each, spread over a date range and a set of agents,
//! from a seeded generator (the same seed gives the same rows). Inserted in multi-row statements,
//! so a million calls take about a minute rather than an hour of single inserts.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::values_sql;
use crate::repo::analytics::DAY_MS;
use crate::repo::rollups::{Counted, RollupChanges};
use crate::{Db, StoreResult, TenantScope};

#[derive(Clone, Debug)]
pub struct SyntheticCalls {
    pub calls: usize,
    /// Start times are spread uniformly over the `days` days before `until_ms`.
    pub days: i64,
    pub until_ms: i64,
    pub agents: usize,
    pub seed: u64,
}

const BATCH: usize = 500;

const RULES: [(&str, &str); 2] = [
    ("greeting", "Greets the caller"),
    ("empathy", "Shows empathy"),
];

struct Generated {
    id: String,
    started_at: i64,
    seconds: f64,
    direction: &'static str,
    agent: Option<String>,
    label: &'static str,
    score: f64,
    agent_score: Option<f64>,
    pass: bool,
    rules: [bool; 2],
}

fn generate(rng: &mut StdRng, spec: &SyntheticCalls, index: usize) -> Generated {
    let from = spec.until_ms - spec.days * DAY_MS;
    let score: f64 = rng.random_range(-1.0..1.0);
    let rules = [rng.random_bool(0.85), rng.random_bool(0.75)];
    Generated {
        id: format!("syn{:013}{:016x}", index, spec.seed),
        started_at: rng.random_range(from..spec.until_ms),
        seconds: rng.random_range(20.0..900.0),
        direction: match rng.random_range(0..100) {
            0..55 => "inbound",
            55..90 => "outbound",
            90..95 => "internal",
            _ => "unknown",
        },
        agent: (!rng.random_bool(0.05)).then(|| {
            format!(
                "agent{:04}@bench.example",
                rng.random_range(0..spec.agents.max(1))
            )
        }),
        label: match score {
            s if s >= 0.25 => "POSITIVE",
            s if s <= -0.25 => "NEGATIVE",
            s if s.abs() < 0.05 => "MIXED",
            _ => "NEUTRAL",
        },
        score,
        agent_score: Some((score + rng.random_range(-0.3..0.3)).clamp(-1.0, 1.0)),
        pass: rules[0] && rules[1],
        rules,
    }
}

/// Inserts the synthetic calls into the scope's tenant; returns how many were written.
pub async fn insert(db: &Db, scope: &TenantScope, spec: &SyntheticCalls) -> StoreResult<usize> {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let tenant = scope.tenant().as_str().to_owned();
    let mut written = 0;
    while written < spec.calls {
        let n = BATCH.min(spec.calls - written);
        let batch: Vec<Generated> = (written..written + n)
            .map(|i| generate(&mut rng, spec, i))
            .collect();
        let mut tx = db.write(scope).await?;
        let calls_sql = values_sql(
            db.backend(),
            "INSERT INTO calls (tenant_id, id, source, content_sha256, audio_format, audio_bytes, meta, \
             status, result_version, created_at, updated_at) ",
            batch.len(),
            11,
        );
        let mut calls = sqlx::query(sqlx::AssertSqlSafe(calls_sql));
        for c in batch.iter() {
            calls = calls
                .bind(tenant.clone())
                .bind(c.id.clone())
                .bind("synthetic")
                .bind(format!("{:0>64}", c.id))
                .bind("wav")
                .bind((c.seconds * 16_000.0) as i64)
                .bind("{}")
                .bind("published")
                .bind(1_i64)
                .bind(c.started_at)
                .bind(c.started_at);
        }
        calls.persistent(false).execute(tx.conn()).await?;
        let results_sql = values_sql(
            db.backend(),
            "INSERT INTO call_results (tenant_id, call_id, version, started_at, ended_at, duration_seconds, \
             direction, calling_party, called_party, agent_id, sentiment_label, sentiment_score, \
             agent_sentiment_score, customer_sentiment_score, positive_score, neutral_score, negative_score, \
             mixed_score, transcript_word_count, utterance_count, agent_talk_ratio, non_talk_seconds, \
             interruptions, qa_overall_pass, qa_score, summary, model_tokens, row_json, updated_at) ",
            batch.len(),
            29,
        );
        let mut results = sqlx::query(sqlx::AssertSqlSafe(results_sql));
        for c in batch.iter() {
            let positive = c.score.max(0.0);
            let negative = (-c.score).max(0.0);
            results = results
                .bind(tenant.clone())
                .bind(c.id.clone())
                .bind(1_i64)
                .bind(c.started_at)
                .bind(c.started_at + (c.seconds * 1000.0) as i64)
                .bind(c.seconds)
                .bind(c.direction)
                .bind("+14155550100")
                .bind(c.agent.clone().unwrap_or_else(|| "+18005550100".into()))
                .bind(c.agent.clone())
                .bind(c.label)
                .bind(c.score)
                .bind(c.agent_score)
                .bind(Some(c.score))
                .bind(positive)
                .bind(1.0 - positive - negative)
                .bind(negative)
                .bind(0.0_f64)
                .bind((c.seconds * 2.2) as i64)
                .bind((c.seconds / 6.0) as i64 + 1)
                .bind(Some(0.55_f64))
                .bind(c.seconds * 0.1)
                .bind(1_i64)
                .bind(i64::from(c.pass))
                .bind(c.rules.iter().filter(|r| **r).count() as f64 / 2.0)
                .bind("Synthetic call.")
                .bind(0_i64)
                .bind(format!(r#"{{"call_id":"{}"}}"#, c.id))
                .bind(c.started_at);
        }
        results.persistent(false).execute(tx.conn()).await?;
        let verdicts: Vec<(&Generated, &(&str, &str), bool)> = batch
            .iter()
            .flat_map(|c| {
                RULES
                    .iter()
                    .zip(c.rules)
                    .map(move |(rule, passed)| (c, rule, passed))
            })
            .collect();
        let qa_sql = values_sql(
            db.backend(),
            "INSERT INTO qa_results (tenant_id, call_id, rule_id, rule_name, passed, reason, \
             evidence_start_ms, started_at) ",
            verdicts.len(),
            8,
        );
        let mut qa = sqlx::query(sqlx::AssertSqlSafe(qa_sql));
        for &(c, (rule_id, rule_name), passed) in verdicts.iter() {
            qa = qa
                .bind(tenant.clone())
                .bind(c.id.clone())
                .bind(*rule_id)
                .bind(*rule_name)
                .bind(i64::from(passed))
                .bind("synthetic")
                .bind(Some(0_i64))
                .bind(c.started_at);
        }
        qa.persistent(false).execute(tx.conn()).await?;
        let mut changes = RollupChanges::default();
        for c in batch.iter() {
            changes.add(&Counted {
                started_at: c.started_at,
                direction: c.direction.to_owned(),
                sentiment_label: c.label.to_owned(),
                agent_id: c.agent.clone(),
                duration_seconds: c.seconds,
                agent_sentiment_score: c.agent_score,
                qa_overall_pass: c.pass,
            });
        }
        changes.apply(&mut tx).await?;
        tx.commit().await?;
        written += n;
    }
    Ok(written)
}

/// Synthetic callers with memory for the caller-memory benchmark (issue 7, P4): per caller a
/// profile, one call summary, personality averages and `memories_per_caller` memories with a
/// 384-byte quantised vector each, created over the `days` before `until_ms`. Caller numbers are
/// `+1555` and seven digits from 0, the same at every tenant (one number calling many tenants
/// is the case isolation must get right).
#[derive(Clone, Debug)]
pub struct SyntheticCallers {
    pub callers: usize,
    pub memories_per_caller: usize,
    pub days: i64,
    pub until_ms: i64,
    pub seed: u64,
}

pub fn caller_number(index: usize) -> String {
    format!("+1555{index:07}")
}

/// Inserts the synthetic callers into the scope's tenant; returns how many were written.
pub async fn insert_callers(
    db: &Db,
    scope: &TenantScope,
    spec: &SyntheticCallers,
) -> StoreResult<usize> {
    const TOPICS: [&str; 6] = [
        "billing question about the last invoice",
        "renewal of the home policy in spring",
        "water heater leaking in the garage",
        "wants a quote for a second car",
        "prefers to be called after five pm",
        "moving to a new address next month",
    ];
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let tenant = scope.tenant().as_str().to_owned();
    let from = spec.until_ms - spec.days * DAY_MS;
    let mut written = 0;
    while written < spec.callers {
        let n = BATCH.min(spec.callers - written);
        let users: Vec<(String, i64)> = (written..written + n)
            .map(|i| (caller_number(i), rng.random_range(from..spec.until_ms)))
            .collect();
        let mut tx = db.write(scope).await?;
        let profiles_sql = values_sql(
            db.backend(),
            "INSERT INTO caller_profiles (tenant_id, user_id, fields, quick_bio, calls, first_seen, last_seen, updated_at) ",
            users.len(),
            8,
        );
        let mut profiles = sqlx::query(sqlx::AssertSqlSafe(profiles_sql));
        for (user, at) in users.iter() {
            profiles = profiles
                .bind(tenant.clone())
                .bind(user.clone())
                .bind(r#"{"name":"Pat Caller","city":"Springfield"}"#)
                .bind("Pat Caller | Springfield")
                .bind(1_i64)
                .bind(*at)
                .bind(*at)
                .bind(*at);
        }
        profiles.persistent(false).execute(tx.conn()).await?;
        let summaries_sql = values_sql(
            db.backend(),
            "INSERT INTO call_summaries (tenant_id, call_id, user_id, thread_id, summary, topics, turns, created_at) ",
            users.len(),
            8,
        );
        let mut summaries = sqlx::query(sqlx::AssertSqlSafe(summaries_sql));
        for (user, at) in users.iter() {
            summaries = summaries.bind(tenant.clone())
                .bind(format!("syn-{user}"))
                .bind(user.clone())
                .bind(crate::repo::memory::thread_id(&tenant, user))
                .bind("Caller: \"I have a question about my policy.\" Outcome: An agent will call back.")
                .bind(r#"["policy"]"#)
                .bind(4_i64)
                .bind(*at);
        }
        summaries.persistent(false).execute(tx.conn()).await?;
        let averages_sql = values_sql(
            db.backend(),
            "INSERT INTO personality_averages (tenant_id, user_id, calls, sentiment, talkativeness, formality, patience, updated_at) ",
            users.len(),
            8,
        );
        let mut averages = sqlx::query(sqlx::AssertSqlSafe(averages_sql));
        for (user, at) in users.iter() {
            averages = averages
                .bind(tenant.clone())
                .bind(user.clone())
                .bind(1_i64)
                .bind(0.2_f64)
                .bind(0.5_f64)
                .bind(0.6_f64)
                .bind(0.9_f64)
                .bind(*at);
        }
        averages.persistent(false).execute(tx.conn()).await?;
        if spec.memories_per_caller > 0 {
            let memories: Vec<(String, String, Vec<u8>, i64)> = users
                .iter()
                .flat_map(|(user, at)| {
                    (0..spec.memories_per_caller)
                        .map(|k| (user.clone(), k, *at))
                        .collect::<Vec<_>>()
                })
                .map(|(user, k, at)| {
                    let vector: Vec<u8> = (0..384).map(|_| rng.random::<u8>()).collect();
                    let content = TOPICS[rng.random_range(0..TOPICS.len())];
                    (
                        format!("{user}-{k}"),
                        format!("{user}|{content}"),
                        vector,
                        at - k as i64,
                    )
                })
                .collect();
            let rows_sql = values_sql(
                db.backend(),
                "INSERT INTO memories (tenant_id, id, user_id, content, source, call_id, embedding, created_at) ",
                memories.len(),
                8,
            );
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(rows_sql));
            for (id, content, vector, at) in memories.iter() {
                let (user, text) = content.split_once('|').unwrap_or_default();
                rows = rows
                    .bind(tenant.clone())
                    .bind(id.clone())
                    .bind(user.to_owned())
                    .bind(text.to_owned())
                    .bind("synthetic")
                    .bind(None::<String>)
                    .bind(vector.clone())
                    .bind(*at);
            }
            rows.persistent(false).execute(tx.conn()).await?;
        }
        tx.commit().await?;
        written += n;
    }
    Ok(written)
}
