//! The agent explorer (searchable, paginated, exportable) and one agent's page (SPEC §5.3–5.4).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::IntoResponse;
use switchboard_store::clock::now_ms;
use switchboard_store::repo::analytics;
use switchboard_store::repo::calls::{self, CallFilter};

use super::calls::{CallRow, PAGE_SIZE, dynamic_columns};
use super::charts;
use super::format::{minutes_seconds, percent, query_string, score, segment};
use super::overview::{AgentRow, Kpi, daily_charts};
use super::session::{Nav, PageUser};
use super::{PageResult, Pager, error_page};
use crate::error::ApiError;
use crate::range::{DateRange, RangeQuery};
use crate::routes::analytics::{AgentsQuery, load_agent, load_agents};
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "agents.html")]
struct AgentsPage {
    nav: Nav,
    range: DateRange,
    q: String,
    order: String,
    total: i64,
    rows: Vec<AgentRow>,
    pager: Pager,
    export: String,
}

pub async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(mut query): Query<AgentsQuery>,
) -> PageResult {
    query.limit = Some(PAGE_SIZE);
    let view = load_agents(&state, &user.auth, &query)
        .await
        .map_err(|err| error_page(user.nav("agents"), err))?;
    let mut export_query = query.clone();
    export_query.limit = None;
    export_query.offset = None;
    let pager = Pager::new(
        "/agents",
        &query,
        query.offset.unwrap_or(0),
        PAGE_SIZE,
        view.total,
        |q, offset| AgentsQuery {
            offset: Some(offset),
            limit: None,
            ..q.clone()
        },
    );
    Ok(AgentsPage {
        nav: user.nav("agents"),
        rows: view
            .agents
            .iter()
            .map(|a| AgentRow::new(a, &view.range))
            .collect(),
        range: view.range,
        q: query.q.clone().unwrap_or_default(),
        order: query.order.clone().unwrap_or_else(|| "calls".into()),
        total: view.total,
        pager,
        export: format!("/agents.csv{}", query_string(&export_query)),
    }
    .into_response())
}

/// The current agent list as CSV (every matching agent).
pub async fn export(
    State(state): State<AppState>,
    user: PageUser,
    Query(query): Query<AgentsQuery>,
) -> PageResult {
    let rows = async {
        let range = query.range().resolve(now_ms())?;
        let order = query.order()?;
        let mut tx = state.db.read(&user.auth.0).await?;
        let rows = analytics::all_agents(
            &mut tx,
            range.range,
            query.q.as_deref().map(str::trim),
            order,
        )
        .await?;
        tx.commit().await?;
        Ok::<_, ApiError>(rows)
    }
    .await
    .map_err(|err| error_page(user.nav("agents"), err))?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record([
        "agent_id",
        "calls",
        "total_duration_seconds",
        "average_duration_seconds",
        "average_sentiment",
        "qa_passed",
        "qa_failed",
        "qa_pass_rate",
    ]);
    for a in &rows {
        let _ = writer.write_record([
            a.agent_id.clone(),
            a.calls.to_string(),
            format!("{:.1}", a.total_duration_seconds),
            format!("{:.1}", a.average_duration_seconds),
            a.average_sentiment
                .map(|s| format!("{s:.3}"))
                .unwrap_or_default(),
            a.qa_passed.to_string(),
            a.qa_failed.to_string(),
            format!("{:.3}", a.qa_pass_rate),
        ]);
    }
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"agents.csv\""),
        ],
        writer.into_inner().unwrap_or_default(),
    )
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "agent.html")]
struct AgentPage {
    nav: Nav,
    range: DateRange,
    agent_id: String,
    kpis: Vec<Kpi>,
    charts: Vec<String>,
    rows: Vec<CallRow>,
    columns: Vec<String>,
    pager: Pager,
    calls_link: String,
}

#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct AgentPageQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub offset: Option<i64>,
}

pub async fn detail(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Query(query): Query<AgentPageQuery>,
) -> PageResult {
    let nav = || user.nav("agents");
    let agent_id = id.to_lowercase();
    let result = async {
        let range = RangeQuery {
            from: query.from.clone(),
            to: query.to.clone(),
        }
        .resolve(now_ms())?;
        let agent = load_agent(&state, &user.auth, &agent_id, &range).await?;
        let filter = CallFilter {
            agent: Some(agent_id.clone()),
            started_from: Some(range.range.from_ms),
            started_before: Some(range.range.to_ms),
            limit: PAGE_SIZE,
            offset: query.offset.unwrap_or(0),
            ..CallFilter::default()
        };
        let mut tx = state.db.read(&user.auth.0).await?;
        let listings = calls::list_with_results(&mut tx, &filter).await?;
        tx.commit().await?;
        Ok::<_, ApiError>((range, agent, listings))
    }
    .await;
    let (range, agent, listings) = result.map_err(|err| error_page(nav(), err))?;
    let s = &agent.stats;
    let kpis = vec![
        Kpi {
            label: "Calls",
            value: s.calls.to_string(),
            hint: format!("{} to {}", range.from, range.to),
        },
        Kpi {
            label: "Average duration",
            value: minutes_seconds(s.average_duration_seconds),
            hint: "minutes:seconds".into(),
        },
        Kpi {
            label: "Average sentiment",
            value: score(s.average_sentiment),
            hint: "the agent's own speech".into(),
        },
        Kpi {
            label: "QA pass rate",
            value: percent(Some(s.qa_pass_rate)),
            hint: format!("{} passed, {} failed", s.qa_passed, s.qa_failed),
        },
    ];
    let labels: Vec<String> = agent.daily.iter().map(|d| d.day[5..].to_owned()).collect();
    let sentiment = charts::lines(
        "agent-sentiment",
        "Sentiment trend",
        "day",
        "average sentiment",
        &labels,
        &[(
            "Agent",
            charts::BLUE,
            agent
                .daily
                .iter()
                .map(|d| d.average_agent_sentiment)
                .collect(),
        )],
        (-1.0, 1.0),
    );
    let failures = charts::horizontal_bars(
        "agent-failures",
        "QA failures by rule",
        "failed calls",
        &agent
            .qa_failures_by_rule
            .iter()
            .map(|r| (r.rule_name.clone(), r.failures as f64, charts::VERMILLION))
            .collect::<Vec<_>>(),
    );
    let (volume, _) = daily_charts(&agent.daily, "agent");
    let columns = dynamic_columns(&listings);
    let pager = Pager::new(
        &format!("/agents/{}", segment(&agent_id)),
        &query,
        query.offset.unwrap_or(0),
        PAGE_SIZE,
        s.calls,
        |q, offset| AgentPageQuery {
            offset: Some(offset),
            ..q.clone()
        },
    );
    Ok(AgentPage {
        nav: nav(),
        calls_link: format!(
            "/calls?agent={}&from={}&to={}",
            segment(&agent_id),
            range.from,
            range.to
        ),
        agent_id,
        kpis,
        charts: vec![sentiment, failures, volume],
        rows: listings.iter().map(|l| CallRow::new(l, &columns)).collect(),
        columns,
        pager,
        range,
    }
    .into_response())
}
