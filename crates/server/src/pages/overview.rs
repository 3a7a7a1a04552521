//! The business overview (SPEC §5.2): KPI cards, four charts and three agent tables for a date
//! range, all from `GET /api/v1/analytics/overview`'s numbers.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use switchboard_store::clock::now_ms;
use switchboard_store::repo::analytics::{AgentStats, DayVolume};

use super::charts::{self, Series};
use super::format::{hours_minutes, minutes_seconds, percent, score, segment};
use super::session::{Nav, PageUser};
use super::{PageResult, error_page};
use crate::range::{DateRange, RangeQuery};
use crate::routes::analytics::load_overview;
use crate::state::AppState;

pub struct Kpi {
    pub label: &'static str,
    pub value: String,
    pub hint: String,
}

/// One agent in a table: formatted figures and the link to the agent's page.
pub struct AgentRow {
    pub href: String,
    pub agent_id: String,
    pub calls: i64,
    pub average_duration: String,
    pub sentiment: String,
    pub qa_rate: String,
    pub qa_failed: i64,
}

impl AgentRow {
    pub fn new(stats: &AgentStats, range: &DateRange) -> AgentRow {
        AgentRow {
            href: format!(
                "/agents/{}?from={}&to={}",
                segment(&stats.agent_id),
                range.from,
                range.to
            ),
            agent_id: stats.agent_id.clone(),
            calls: stats.calls,
            average_duration: minutes_seconds(stats.average_duration_seconds),
            sentiment: score(stats.average_sentiment),
            qa_rate: percent(Some(stats.qa_pass_rate)),
            qa_failed: stats.qa_failed,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "overview.html")]
struct OverviewPage {
    nav: Nav,
    range: DateRange,
    kpis: Vec<Kpi>,
    charts: Vec<String>,
    top_volume: Vec<AgentRow>,
    top_sentiment: Vec<AgentRow>,
    most_failures: Vec<AgentRow>,
}

/// Calls per day and QA passed/failed per day, as charts.
pub fn daily_charts(daily: &[DayVolume], prefix: &str) -> (String, String) {
    let labels: Vec<String> = daily.iter().map(|d| d.day[5..].to_owned()).collect();
    let volume = charts::bars(
        &format!("{prefix}-volume"),
        "Daily call volume",
        "day",
        "calls",
        &labels,
        &[Series {
            name: "Calls",
            colour: charts::BLUE,
            values: daily.iter().map(|d| d.calls as f64).collect(),
        }],
    );
    let qa = charts::bars(
        &format!("{prefix}-qa"),
        "QA pass/fail per day",
        "day",
        "calls",
        &labels,
        &[
            Series {
                name: "Passed",
                colour: charts::GREEN,
                values: daily.iter().map(|d| d.qa_passed as f64).collect(),
            },
            Series {
                name: "Failed",
                colour: charts::VERMILLION,
                values: daily.iter().map(|d| d.qa_failed as f64).collect(),
            },
        ],
    );
    (volume, qa)
}

pub async fn page(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<RangeQuery>,
) -> PageResult {
    let nav = user.nav("overview");
    let range = match query.resolve(now_ms()) {
        Ok(range) => range,
        Err(err) => return Err(error_page(nav, err)),
    };
    let o = match load_overview(&state, &user.auth, &range).await {
        Ok(o) => o,
        Err(err) => return Err(error_page(nav, err)),
    };
    let count = |key: &str| {
        o.directions
            .iter()
            .find(|d| d.key == key)
            .map_or(0, |d| d.calls)
    };
    let (inbound, outbound) = (count("inbound"), count("outbound"));
    let kpis = vec![
        Kpi {
            label: "Total calls",
            value: o.total_calls.to_string(),
            hint: format!("{} to {}", range.from, range.to),
        },
        Kpi {
            label: "Total duration",
            value: hours_minutes(o.total_duration_seconds),
            hint: "hours:minutes".into(),
        },
        Kpi {
            label: "Average duration",
            value: o
                .average_duration_seconds
                .map_or_else(|| "–".into(), minutes_seconds),
            hint: "minutes:seconds".into(),
        },
        Kpi {
            label: "Average agent sentiment",
            value: score(o.average_agent_sentiment),
            hint: "−1 negative … +1 positive".into(),
        },
        Kpi {
            label: "QA passed",
            value: percent(o.qa_pass_rate),
            hint: format!("{} of {} calls", o.qa_passed, o.total_calls),
        },
        Kpi {
            label: "Inbound : outbound",
            value: format!("{inbound} : {outbound}"),
            hint: percent(
                (inbound + outbound > 0).then(|| inbound as f64 / (inbound + outbound) as f64),
            ) + " inbound",
        },
    ];
    let (volume, qa) = daily_charts(&o.daily, "overview");
    let direction_colours = [charts::BLUE, charts::ORANGE, charts::PURPLE, charts::GREY];
    let directions = charts::horizontal_bars(
        "directions",
        "Direction breakdown",
        "calls",
        &o.directions
            .iter()
            .zip(direction_colours)
            .map(|(d, colour)| (d.key.clone(), d.calls as f64, colour))
            .collect::<Vec<_>>(),
    );
    let sentiment_colours = [
        charts::GREEN,
        charts::SKY,
        charts::VERMILLION,
        charts::ORANGE,
    ];
    let sentiments = charts::horizontal_bars(
        "sentiments",
        "Sentiment distribution",
        "calls",
        &o.sentiments
            .iter()
            .zip(sentiment_colours)
            .map(|(s, colour)| (s.key.to_lowercase(), s.calls as f64, colour))
            .collect::<Vec<_>>(),
    );
    let rows = |agents: &[AgentStats]| agents.iter().map(|a| AgentRow::new(a, &range)).collect();
    Ok(OverviewPage {
        top_volume: rows(&o.top_agents_by_volume),
        top_sentiment: rows(&o.top_agents_by_sentiment),
        most_failures: rows(&o.agents_with_most_qa_failures),
        nav,
        kpis,
        charts: vec![volume, directions, sentiments, qa],
        range,
    }
    .into_response())
}
