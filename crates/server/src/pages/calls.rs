//! The calls list with search and filters, its CSV export, and one call's page (SPEC §5.5–5.6).

use std::collections::BTreeSet;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::IntoResponse;
use serde_json::Value;
use switchboard_pipeline::qa::Verdict;
use switchboard_pipeline::record::FinalRecord;
use switchboard_store::clock::now_ms;
use switchboard_store::repo::calls::{self, CallFilter, CallListing};

use super::format::{datetime, minutes_seconds, percent, query_string, score, segment, timestamp};
use super::session::{Nav, PageUser};
use super::{PageResult, Pager, error_page};
use crate::error::{ApiError, ApiResult};
use crate::range::{DateRange, RangeQuery};
use crate::routes::calls::{ListQuery, final_record};
use crate::state::AppState;

pub const PAGE_SIZE: i64 = 50;
/// The most rows one CSV export holds.
const EXPORT_MAX: i64 = 10_000;

/// One call in a table.
pub struct CallRow {
    pub href: String,
    pub call_id: String,
    pub started: String,
    pub agent: String,
    pub direction: String,
    pub duration: String,
    pub sentiment: String,
    pub qa: &'static str,
    pub qa_score: String,
    pub status: String,
    /// Values of the page's dynamic columns (`qa_<rule>`, `meta_<field>`), in their order.
    pub extras: Vec<String>,
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The tenant's own columns present in these rows: its QA rules, then extra metadata.
pub fn dynamic_columns(listings: &[CallListing]) -> Vec<String> {
    let mut qa = BTreeSet::new();
    let mut meta = BTreeSet::new();
    for listing in listings {
        if let Some(Value::Object(row)) = listing.result.as_ref().map(|r| &r.row) {
            for key in row.keys() {
                if key.starts_with("qa_") && key != "qa_overall_pass" && key != "qa_score" {
                    qa.insert(key.clone());
                } else if key.starts_with("meta_") {
                    meta.insert(key.clone());
                }
            }
        }
    }
    qa.into_iter().chain(meta).collect()
}

impl CallRow {
    pub fn new(listing: &CallListing, columns: &[String]) -> CallRow {
        let call = &listing.call;
        let result = listing.result.as_ref();
        CallRow {
            href: format!("/calls/{}", segment(&call.id)),
            call_id: call.id.clone(),
            started: result.map_or_else(|| datetime(call.created_at), |r| datetime(r.started_at)),
            agent: result.and_then(|r| r.agent_id.clone()).unwrap_or_default(),
            direction: result.map(|r| r.direction.clone()).unwrap_or_default(),
            duration: result
                .map(|r| minutes_seconds(r.duration_seconds))
                .unwrap_or_default(),
            sentiment: result
                .map(|r| {
                    format!(
                        "{} ({})",
                        r.sentiment_label.to_lowercase(),
                        score(Some(r.sentiment_score))
                    )
                })
                .unwrap_or_default(),
            qa: match result.map(|r| r.qa_overall_pass) {
                Some(true) => "pass",
                Some(false) => "fail",
                None => "",
            },
            qa_score: result
                .map(|r| percent(Some(r.qa_score)))
                .unwrap_or_default(),
            status: call.status.clone(),
            extras: columns
                .iter()
                .map(|c| cell(result.and_then(|r| r.row.get(c))))
                .collect(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "calls.html")]
struct CallsPage {
    nav: Nav,
    range: DateRange,
    query: ListQuery,
    total: i64,
    rows: Vec<CallRow>,
    columns: Vec<String>,
    pager: Pager,
    export: String,
}

/// The list filter with the page's date range applied (default: the last 30 days).
fn page_filter(query: &ListQuery) -> ApiResult<(DateRange, CallFilter)> {
    let range = RangeQuery {
        from: query.from.clone(),
        to: query.to.clone(),
    }
    .resolve(now_ms())?;
    let mut filter = query.filter()?;
    // Unpublished calls have no start time yet; a status filter other than `published` shows
    // them whatever the range.
    let dated = filter.status.is_none() || filter.status.as_deref() == Some("published");
    filter.started_from = dated.then_some(range.range.from_ms);
    filter.started_before = dated.then_some(range.range.to_ms);
    Ok((range, filter))
}

async fn listings(
    state: &AppState,
    user: &PageUser,
    filter: &CallFilter,
) -> ApiResult<(Vec<CallListing>, i64)> {
    let mut tx = state.db.read(&user.auth.0).await?;
    let rows = calls::list_with_results(&mut tx, filter).await?;
    let total = calls::count(&mut tx, filter).await?;
    tx.commit().await?;
    Ok((rows, total))
}

pub async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(mut query): Query<ListQuery>,
) -> PageResult {
    let nav = user.nav("calls");
    query.limit = Some(PAGE_SIZE);
    let result = async {
        let (range, filter) = page_filter(&query)?;
        let (found, total) = listings(&state, &user, &filter).await?;
        Ok::<_, ApiError>((range, found, total))
    }
    .await;
    let (range, found, total) = result.map_err(|err| error_page(user.nav("calls"), err))?;
    let columns = dynamic_columns(&found);
    let rows = found.iter().map(|l| CallRow::new(l, &columns)).collect();
    let mut export_query = query.clone();
    export_query.limit = None;
    export_query.offset = None;
    let pager = Pager::new(
        "/calls",
        &query,
        query.offset.unwrap_or(0),
        PAGE_SIZE,
        total,
        |q, offset| {
            let mut q = q.clone();
            q.offset = Some(offset);
            q.limit = None;
            q
        },
    );
    Ok(CallsPage {
        nav,
        range,
        export: format!("/calls.csv{}", query_string(&export_query)),
        query,
        total,
        rows,
        columns,
        pager,
    }
    .into_response())
}

/// The current view of the calls list as CSV (every matching call, up to 10 000).
pub async fn export(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let result = async {
        let (_, mut filter) = page_filter(&query)?;
        let mut all = Vec::new();
        filter.limit = 500;
        filter.offset = 0;
        let mut tx = state.db.read(&user.auth.0).await?;
        loop {
            let page = calls::list_with_results(&mut tx, &filter).await?;
            let done = (page.len() as i64) < filter.limit;
            all.extend(page);
            if done || all.len() as i64 >= EXPORT_MAX {
                break;
            }
            filter.offset += filter.limit;
        }
        tx.commit().await?;
        all.truncate(EXPORT_MAX as usize);
        Ok::<_, ApiError>(all)
    }
    .await;
    let all = result.map_err(|err| error_page(user.nav("calls"), err))?;
    let columns = dynamic_columns(&all);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "call_id",
        "status",
        "started_at",
        "agent_id",
        "direction",
        "duration_seconds",
        "sentiment_label",
        "sentiment_score",
        "qa_overall_pass",
        "qa_score",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    header.extend(columns.iter().cloned());
    let _ = writer.write_record(&header);
    for listing in &all {
        let r = listing.result.as_ref();
        let mut record = vec![
            listing.call.id.clone(),
            listing.call.status.clone(),
            r.map(|r| datetime(r.started_at)).unwrap_or_default(),
            r.and_then(|r| r.agent_id.clone()).unwrap_or_default(),
            r.map(|r| r.direction.clone()).unwrap_or_default(),
            r.map(|r| format!("{:.1}", r.duration_seconds))
                .unwrap_or_default(),
            r.map(|r| r.sentiment_label.clone()).unwrap_or_default(),
            r.map(|r| format!("{:.3}", r.sentiment_score))
                .unwrap_or_default(),
            r.map(|r| r.qa_overall_pass.to_string()).unwrap_or_default(),
            r.map(|r| format!("{:.3}", r.qa_score)).unwrap_or_default(),
        ];
        record.extend(columns.iter().map(|c| cell(r.and_then(|r| r.row.get(c)))));
        let _ = writer.write_record(&record);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"calls.csv\""),
        ],
        bytes,
    )
        .into_response())
}

pub struct Line {
    pub index: usize,
    pub speaker: &'static str,
    pub speaker_title: &'static str,
    pub start_seconds: String,
    pub time: String,
    pub text: String,
    pub sentiment: String,
}

pub struct QaLine {
    pub rule: String,
    pub kind: String,
    pub verdict: &'static str,
    pub class: &'static str,
    pub reason: String,
    /// (anchor, time) of each evidence utterance.
    pub evidence: Vec<(String, String)>,
}

pub struct SentimentLine {
    pub who: String,
    pub label: String,
    pub score: String,
    pub positive: String,
    pub neutral: String,
    pub negative: String,
    pub mixed: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "call.html")]
struct CallPage {
    nav: Nav,
    id: String,
    status: String,
    failure: Option<String>,
    facts: Vec<(String, String)>,
    /// `None` for a live receptionist call (no recording).
    audio: Option<String>,
    record: Option<RecordView>,
}

struct RecordView {
    summary: String,
    next_steps: Vec<String>,
    lines: Vec<Line>,
    qa: Vec<QaLine>,
    qa_overall: &'static str,
    qa_score: String,
    sentiments: Vec<SentimentLine>,
    quarters_chart: String,
    counts: Vec<(String, String)>,
}

fn sentiment_line(
    who: &str,
    s: &switchboard_pipeline::sentiment::SentimentAggregate,
) -> SentimentLine {
    SentimentLine {
        who: who.to_owned(),
        label: s.label.as_str().to_lowercase(),
        score: score(Some(s.score)),
        positive: format!("{:.2}", s.positive),
        neutral: format!("{:.2}", s.neutral),
        negative: format!("{:.2}", s.negative),
        mixed: format!("{:.2}", s.mixed),
    }
}

fn record_view(record: &FinalRecord) -> RecordView {
    let lines = record
        .transcript
        .iter()
        .map(|u| Line {
            index: u.utterance.index,
            speaker: u.utterance.speaker.as_str(),
            speaker_title: u.utterance.speaker.title(),
            start_seconds: format!("{:.2}", u.utterance.start_ms as f64 / 1000.0),
            time: timestamp(u.utterance.start_ms),
            text: u.utterance.text.clone(),
            sentiment: format!(
                "{} {}",
                u.sentiment.label.as_str().to_lowercase(),
                score(Some(u.sentiment.score))
            ),
        })
        .collect();
    let qa = record
        .qa
        .rules
        .iter()
        .map(|rule| {
            let (verdict, class) = match rule.verdict {
                Verdict::Passed => ("pass", "pass"),
                Verdict::Failed => ("fail", "fail"),
                Verdict::NotApplicable => ("n/a", "na"),
            };
            QaLine {
                rule: rule.rule_name.clone(),
                kind: rule.kind.clone(),
                verdict,
                class,
                reason: rule.reason.clone(),
                evidence: rule
                    .evidence
                    .iter()
                    .map(|e| (format!("#u{}", e.utterance_index), timestamp(e.start_ms)))
                    .collect(),
            }
        })
        .collect();
    let s = &record.sentiment;
    let mut sentiments = vec![sentiment_line("Overall", &s.overall)];
    if let Some(agent) = &s.agent {
        sentiments.push(sentiment_line("Agent", agent));
    }
    if let Some(customer) = &s.customer {
        sentiments.push(sentiment_line("Customer", customer));
    }
    let labels: Vec<String> = s
        .quarters
        .iter()
        .map(|q| format!("Q{}", q.quarter))
        .collect();
    let pick = |f: fn(&switchboard_pipeline::sentiment::QuarterSentiment) -> Option<f64>| {
        s.quarters.iter().map(f).collect::<Vec<_>>()
    };
    let quarters_chart = super::charts::lines(
        "quarters",
        "Sentiment through the call",
        "quarter of the call",
        "score",
        &labels,
        &[
            (
                "Agent",
                super::charts::BLUE,
                pick(|q| q.agent.as_ref().map(|a| a.score)),
            ),
            (
                "Customer",
                super::charts::ORANGE,
                pick(|q| q.customer.as_ref().map(|a| a.score)),
            ),
            (
                "Overall",
                super::charts::GREY,
                pick(|q| q.overall.as_ref().map(|a| a.score)),
            ),
        ],
        (-1.0, 1.0),
    );
    let m = &record.metrics;
    let counts = vec![
        ("Words".to_owned(), m.word_count.to_string()),
        ("Utterances".to_owned(), m.utterance_count.to_string()),
        ("Agent talk ratio".to_owned(), percent(m.agent_talk_ratio)),
        (
            "Non-talk time".to_owned(),
            minutes_seconds(m.non_talk_ms as f64 / 1000.0),
        ),
        ("Interruptions".to_owned(), m.interruptions.to_string()),
        (
            "Words per minute".to_owned(),
            m.words_per_minute
                .map_or_else(|| "–".into(), |w| format!("{w:.0}")),
        ),
    ];
    RecordView {
        summary: record.summary.text.clone(),
        next_steps: record.next_steps.iter().map(|n| n.text.clone()).collect(),
        lines,
        qa,
        qa_overall: if record.qa.overall_pass {
            "pass"
        } else {
            "fail"
        },
        qa_score: percent(Some(record.qa.score)),
        sentiments,
        quarters_chart,
        counts,
    }
}

fn facts(
    call: &switchboard_store::repo::calls::Call,
    record: Option<&FinalRecord>,
) -> Vec<(String, String)> {
    let mut out = vec![
        ("Call".to_owned(), call.id.clone()),
        ("Source".to_owned(), call.source.clone()),
        ("Received".to_owned(), datetime(call.created_at)),
    ];
    if let Some(record) = record {
        let c = &record.call;
        out.extend([
            ("Started".to_owned(), c.started_at.clone()),
            ("Ended".to_owned(), c.ended_at.clone()),
            ("Duration".to_owned(), minutes_seconds(c.duration_seconds)),
            ("Direction".to_owned(), c.direction.clone()),
            (
                "Calling party".to_owned(),
                c.calling_party.clone().unwrap_or_default(),
            ),
            (
                "Called party".to_owned(),
                c.called_party.clone().unwrap_or_default(),
            ),
            ("Agent".to_owned(), c.agent_id.clone().unwrap_or_default()),
            (
                "Result version".to_owned(),
                record.result_version.to_string(),
            ),
        ]);
        if let Value::Object(meta) = &record.metadata {
            for (key, value) in meta {
                if !matches!(value, Value::Object(_) | Value::Array(_)) {
                    out.push((key.clone(), cell(Some(value))));
                }
            }
        }
    }
    out
}

pub async fn detail(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let nav = || user.nav("calls");
    let call = async {
        let mut tx = state.db.read(&user.auth.0).await?;
        let call = calls::get(&mut tx, &id).await?;
        tx.commit().await?;
        call.ok_or_else(|| ApiError::not_found("call"))
    }
    .await
    .map_err(|err| error_page(nav(), err))?;
    let record: Option<FinalRecord> = final_record(&state, &user.auth, &call)
        .await
        .map_err(|err| error_page(nav(), err))?;
    let failure = (call.status == "failed").then(|| {
        format!(
            "{} failed after {} attempt(s): {}",
            call.failure_stage.clone().unwrap_or_default(),
            call.failure_attempts.unwrap_or(0),
            call.failure_reason.clone().unwrap_or_default()
        )
    });
    Ok(CallPage {
        nav: nav(),
        audio: (call.audio_format != switchboard_store::ingest::NO_AUDIO)
            .then(|| format!("/api/v1/calls/{}/audio", segment(&call.id))),
        facts: facts(&call, record.as_ref()),
        id: call.id.clone(),
        status: call.status.clone(),
        failure,
        record: record.as_ref().map(record_view),
    }
    .into_response())
}
