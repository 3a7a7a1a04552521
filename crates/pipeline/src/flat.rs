//! Flat rows (SPEC §4.5): one call row with the fixed columns, a `qa_<rule_id>` column per rule
//! of the tenant's rubric (`pass`, `fail` or `n/a`) and the provider's extra metadata columns
//! (`meta_<field>`), plus one QA row per rule. Written as CSV (and Parquet, `flat_parquet`) to
//! `final/v2.0-flat/` and into the dashboard tables.

use serde_json::{Map, Value, json};
use switchboard_store::repo::results::{CallResultRow, QaResultRow};

use crate::qa::Verdict;
use crate::record::FinalRecord;

/// Fixed columns of the flat call row, in order.
pub const CALL_COLUMNS: &[&str] = &[
    "call_id",
    "tenant_id",
    "started_at",
    "ended_at",
    "duration_seconds",
    "direction",
    "calling_party",
    "called_party",
    "agent_id",
    "sentiment_label",
    "sentiment_score",
    "agent_sentiment_score",
    "customer_sentiment_score",
    "positive_score",
    "neutral_score",
    "negative_score",
    "mixed_score",
    "transcript_word_count",
    "utterance_count",
    "agent_talk_ratio",
    "non_talk_seconds",
    "interruptions",
    "qa_overall_pass",
    "qa_score",
    "summary",
];

pub const QA_COLUMNS: &[&str] = &[
    "call_id",
    "tenant_id",
    "rule_id",
    "rule_name",
    "passed",
    "reason",
    "evidence_start_ms",
];

fn rounded(value: f64) -> Value {
    json!((value * 10_000.0).round() / 10_000.0)
}

fn verdict_cell(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "pass",
        Verdict::Failed => "fail",
        Verdict::NotApplicable => "n/a",
    }
}

/// Metadata fields that become `meta_<field>` columns: scalars the SPEC columns do not cover.
fn extra_metadata(metadata: &Value) -> Map<String, Value> {
    const COVERED: &[&str] = &[
        "normalised",
        "calling_party",
        "called_party",
        "started_at",
        "ended_at",
        "direction",
        "provider_recording_id",
    ];
    let mut out = Map::new();
    if let Some(map) = metadata.as_object() {
        for (key, value) in map {
            let safe = key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if COVERED.contains(&key.as_str()) || !safe || key.len() > 64 {
                continue;
            }
            if matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
                out.insert(format!("meta_{key}"), value.clone());
            }
        }
    }
    out
}

/// The call row: (column, value) in column order.
pub fn call_row(record: &FinalRecord) -> Vec<(String, Value)> {
    let s = &record.sentiment;
    let m = &record.metrics;
    let mut row = Vec::new();
    let mut put = |k: &str, v: Value| {
        row.push((k.to_owned(), v));
    };
    put("call_id", json!(record.call_id));
    put("tenant_id", json!(record.tenant_id));
    put("started_at", json!(record.call.started_at));
    put("ended_at", json!(record.call.ended_at));
    put("duration_seconds", rounded(record.call.duration_seconds));
    put("direction", json!(record.call.direction));
    put("calling_party", json!(record.call.calling_party));
    put("called_party", json!(record.call.called_party));
    put("agent_id", json!(record.call.agent_id));
    put("sentiment_label", json!(s.overall.label.as_str()));
    put("sentiment_score", rounded(s.overall.score));
    put(
        "agent_sentiment_score",
        s.agent.as_ref().map_or(Value::Null, |a| rounded(a.score)),
    );
    put(
        "customer_sentiment_score",
        s.customer
            .as_ref()
            .map_or(Value::Null, |a| rounded(a.score)),
    );
    put("positive_score", rounded(s.overall.positive));
    put("neutral_score", rounded(s.overall.neutral));
    put("negative_score", rounded(s.overall.negative));
    put("mixed_score", rounded(s.overall.mixed));
    put("transcript_word_count", json!(m.word_count));
    put("utterance_count", json!(m.utterance_count));
    put(
        "agent_talk_ratio",
        m.agent_talk_ratio.map_or(Value::Null, rounded),
    );
    put("non_talk_seconds", rounded(m.non_talk_ms as f64 / 1000.0));
    put("interruptions", json!(m.interruptions));
    put("qa_overall_pass", json!(record.qa.overall_pass));
    put("qa_score", rounded(record.qa.score));
    put("summary", json!(record.summary.text));
    for rule in &record.qa.rules {
        put(
            &format!("qa_{}", rule.rule_id),
            json!(verdict_cell(rule.verdict)),
        );
    }
    for (key, value) in extra_metadata(&record.metadata) {
        put(&key, value);
    }
    row
}

pub fn qa_rows(record: &FinalRecord) -> Vec<QaResultRow> {
    record
        .qa
        .rules
        .iter()
        .map(|rule| QaResultRow {
            call_id: record.call_id.clone(),
            rule_id: rule.rule_id.clone(),
            rule_name: rule.rule_name.clone(),
            passed: match rule.verdict {
                Verdict::Passed => Some(true),
                Verdict::Failed => Some(false),
                Verdict::NotApplicable => None,
            },
            reason: rule.reason.clone(),
            evidence_start_ms: rule.evidence.first().map(|e| e.start_ms as i64),
        })
        .collect()
}

/// An RFC 3339 time as Unix milliseconds; `None` when it does not parse.
pub fn rfc3339_ms(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn millis(rfc3339: &str) -> i64 {
    rfc3339_ms(rfc3339).unwrap_or(0)
}

/// The dashboard table's row.
pub fn call_result_row(record: &FinalRecord, model_tokens: u64) -> CallResultRow {
    let s = &record.sentiment;
    let m = &record.metrics;
    CallResultRow {
        call_id: record.call_id.clone(),
        version: record.result_version,
        started_at: millis(&record.call.started_at),
        ended_at: millis(&record.call.ended_at),
        duration_seconds: record.call.duration_seconds,
        direction: record.call.direction.clone(),
        calling_party: record.call.calling_party.clone(),
        called_party: record.call.called_party.clone(),
        agent_id: record.call.agent_id.clone(),
        sentiment_label: s.overall.label.as_str().to_owned(),
        sentiment_score: s.overall.score,
        agent_sentiment_score: s.agent.as_ref().map(|a| a.score),
        customer_sentiment_score: s.customer.as_ref().map(|a| a.score),
        positive_score: s.overall.positive,
        neutral_score: s.overall.neutral,
        negative_score: s.overall.negative,
        mixed_score: s.overall.mixed,
        transcript_word_count: m.word_count as i64,
        utterance_count: m.utterance_count as i64,
        agent_talk_ratio: m.agent_talk_ratio,
        non_talk_seconds: m.non_talk_ms as f64 / 1000.0,
        interruptions: m.interruptions as i64,
        qa_overall_pass: record.qa.overall_pass,
        qa_score: record.qa.score,
        summary: record.summary.text.clone(),
        model_tokens: model_tokens as i64,
        row: Value::Object(call_row(record).into_iter().collect()),
    }
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A CSV with a header line: the row's columns in order.
pub fn call_csv(row: &[(String, Value)]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(row.iter().map(|(k, _)| k))?;
    out.write_record(row.iter().map(|(_, v)| cell(v)))?;
    out.into_inner().map_err(|e| e.into_error().into())
}

pub fn qa_csv(tenant: &str, rows: &[QaResultRow]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(QA_COLUMNS)?;
    for row in rows {
        out.write_record([
            row.call_id.as_str(),
            tenant,
            &row.rule_id,
            &row.rule_name,
            match row.passed {
                Some(true) => "true",
                Some(false) => "false",
                None => "",
            },
            &row.reason,
            &row.evidence_start_ms
                .map(|ms| ms.to_string())
                .unwrap_or_default(),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}
