//! The analytics JSON API (SPEC §5): the business overview, the agent explorer and one agent.
//! The dashboard pages render the same structs, so a page and the API never disagree.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use switchboard_store::clock::now_ms;
use switchboard_store::repo::analytics::{self, AgentDetail, AgentOrder, AgentStats, Overview};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::TenantAuth;
use crate::range::{DateRange, RangeQuery};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct OverviewView {
    /// The range the figures cover (`from`, `to`: inclusive UTC dates).
    #[schema(value_type = Object)]
    pub range: DateRange,
    /// KPIs, directions, sentiments, daily volume and QA, top agents.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub overview: Overview,
}

pub async fn load_overview(
    state: &AppState,
    auth: &TenantAuth,
    range: &DateRange,
) -> ApiResult<Overview> {
    let mut tx = state.db.read(&auth.0).await?;
    let overview = analytics::overview(&mut tx, range.range).await?;
    tx.commit().await?;
    Ok(overview)
}

#[utoipa::path(get, path = "/api/v1/analytics/overview", tag = "tenant", params(RangeQuery),
    responses((status = 200, body = OverviewView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn overview(
    State(state): State<AppState>,
    auth: TenantAuth,
    Query(query): Query<RangeQuery>,
) -> ApiResult<Json<OverviewView>> {
    let range = query.resolve(now_ms())?;
    let overview = load_overview(&state, &auth, &range).await?;
    Ok(Json(OverviewView { range, overview }))
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, IntoParams)]
pub struct AgentsQuery {
    /// Agent ids containing this text (case-insensitive).
    pub q: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `calls` (default, most first), `sentiment` (highest first), `qa` (lowest pass rate first)
    /// or `agent`.
    pub order: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl AgentsQuery {
    pub fn range(&self) -> RangeQuery {
        RangeQuery {
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }

    pub fn order(&self) -> ApiResult<AgentOrder> {
        match self.order.as_deref().unwrap_or("calls") {
            "calls" | "" => Ok(AgentOrder::Calls),
            "sentiment" => Ok(AgentOrder::Sentiment),
            "qa" => Ok(AgentOrder::QaPassRate),
            "agent" => Ok(AgentOrder::AgentId),
            _ => Err(ApiError::bad_request(
                "order must be calls, sentiment, qa or agent",
            )),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AgentsView {
    #[schema(value_type = Object)]
    pub range: DateRange,
    /// Agents matching the search, in all.
    pub total: i64,
    #[schema(value_type = Vec<Object>)]
    pub agents: Vec<AgentStats>,
}

pub async fn load_agents(
    state: &AppState,
    auth: &TenantAuth,
    query: &AgentsQuery,
) -> ApiResult<AgentsView> {
    let range = query.range().resolve(now_ms())?;
    let order = query.order()?;
    let mut tx = state.db.read(&auth.0).await?;
    let (agents, total) = analytics::agents(
        &mut tx,
        range.range,
        query.q.as_deref().map(str::trim),
        order,
        query.limit.unwrap_or(50),
        query.offset.unwrap_or(0),
    )
    .await?;
    tx.commit().await?;
    Ok(AgentsView {
        range,
        total,
        agents,
    })
}

#[utoipa::path(get, path = "/api/v1/agents", tag = "tenant", params(AgentsQuery),
    responses((status = 200, body = AgentsView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn agents(
    State(state): State<AppState>,
    auth: TenantAuth,
    Query(query): Query<AgentsQuery>,
) -> ApiResult<Json<AgentsView>> {
    Ok(Json(load_agents(&state, &auth, &query).await?))
}

#[derive(Serialize, ToSchema)]
pub struct AgentView {
    #[schema(value_type = Object)]
    pub range: DateRange,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub agent: AgentDetail,
}

pub async fn load_agent(
    state: &AppState,
    auth: &TenantAuth,
    agent_id: &str,
    range: &DateRange,
) -> ApiResult<AgentDetail> {
    let mut tx = state.db.read(&auth.0).await?;
    let agent = analytics::agent(&mut tx, &agent_id.to_lowercase(), range.range).await?;
    tx.commit().await?;
    agent.ok_or_else(|| ApiError::not_found("agent"))
}

#[utoipa::path(get, path = "/api/v1/agents/{id}", tag = "tenant",
    params(("id" = String, Path, description = "agent id (an address or number)"), RangeQuery),
    responses((status = 200, body = AgentView), (status = 404, description = "no published calls of this agent in the range", body = ErrorBody)))]
pub async fn agent(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
    Query(query): Query<RangeQuery>,
) -> ApiResult<Json<AgentView>> {
    let range = query.resolve(now_ms())?;
    let agent = load_agent(&state, &auth, &id, &range).await?;
    Ok(Json(AgentView { range, agent }))
}
