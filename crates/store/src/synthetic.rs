//! Synthetic published calls for dashboard benchmarks (issue 6, P5) and load tests: calls rows,
//! their flat result rows and two QA rows each, spread over a date range and a set of agents,
//! from a seeded generator (the same seed gives the same rows). Inserted in multi-row statements,
//! so a million calls take about a minute rather than an hour of single inserts.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::QueryBuilder;

use crate::repo::analytics::DAY_MS;
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
        let mut calls = QueryBuilder::new(
            "INSERT INTO calls (tenant_id, id, source, content_sha256, audio_format, audio_bytes, meta, \
             status, result_version, created_at, updated_at) ",
        );
        calls.push_values(&batch, |mut b, c| {
            b.push_bind(tenant.clone())
                .push_bind(c.id.clone())
                .push_bind("synthetic")
                .push_bind(format!("{:0>64}", c.id))
                .push_bind("wav")
                .push_bind((c.seconds * 16_000.0) as i64)
                .push_bind("{}")
                .push_bind("published")
                .push_bind(1_i64)
                .push_bind(c.started_at)
                .push_bind(c.started_at);
        });
        calls.build().persistent(false).execute(tx.conn()).await?;
        let mut results = QueryBuilder::new(
            "INSERT INTO call_results (tenant_id, call_id, version, started_at, ended_at, duration_seconds, \
             direction, calling_party, called_party, agent_id, sentiment_label, sentiment_score, \
             agent_sentiment_score, customer_sentiment_score, positive_score, neutral_score, negative_score, \
             mixed_score, transcript_word_count, utterance_count, agent_talk_ratio, non_talk_seconds, \
             interruptions, qa_overall_pass, qa_score, summary, model_tokens, row_json, updated_at) ",
        );
        results.push_values(&batch, |mut b, c| {
            let positive = c.score.max(0.0);
            let negative = (-c.score).max(0.0);
            b.push_bind(tenant.clone())
                .push_bind(c.id.clone())
                .push_bind(1_i64)
                .push_bind(c.started_at)
                .push_bind(c.started_at + (c.seconds * 1000.0) as i64)
                .push_bind(c.seconds)
                .push_bind(c.direction)
                .push_bind("+14155550100")
                .push_bind(c.agent.clone().unwrap_or_else(|| "+18005550100".into()))
                .push_bind(c.agent.clone())
                .push_bind(c.label)
                .push_bind(c.score)
                .push_bind(c.agent_score)
                .push_bind(Some(c.score))
                .push_bind(positive)
                .push_bind(1.0 - positive - negative)
                .push_bind(negative)
                .push_bind(0.0_f64)
                .push_bind((c.seconds * 2.2) as i64)
                .push_bind((c.seconds / 6.0) as i64 + 1)
                .push_bind(Some(0.55_f64))
                .push_bind(c.seconds * 0.1)
                .push_bind(1_i64)
                .push_bind(i64::from(c.pass))
                .push_bind(c.rules.iter().filter(|r| **r).count() as f64 / 2.0)
                .push_bind("Synthetic call.")
                .push_bind(0_i64)
                .push_bind(format!(r#"{{"call_id":"{}"}}"#, c.id))
                .push_bind(c.started_at);
        });
        results.build().persistent(false).execute(tx.conn()).await?;
        let mut qa = QueryBuilder::new(
            "INSERT INTO qa_results (tenant_id, call_id, rule_id, rule_name, passed, reason, \
             evidence_start_ms, started_at) ",
        );
        let verdicts = batch.iter().flat_map(|c| {
            RULES
                .iter()
                .zip(c.rules)
                .map(move |(rule, passed)| (c, rule, passed))
        });
        qa.push_values(verdicts, |mut b, (c, (rule_id, rule_name), passed)| {
            b.push_bind(tenant.clone())
                .push_bind(c.id.clone())
                .push_bind(*rule_id)
                .push_bind(*rule_name)
                .push_bind(i64::from(passed))
                .push_bind("synthetic")
                .push_bind(Some(0_i64))
                .push_bind(c.started_at);
        });
        qa.build().persistent(false).execute(tx.conn()).await?;
        tx.commit().await?;
        written += n;
    }
    Ok(written)
}
