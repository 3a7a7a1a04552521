//! The caller directory (SPEC §8 "caller profiles"): what caller memory knows of the tenant's
//! callers — list and search, one caller with their profile, personality, summaries and
//! memories, and erasure of all of it when a caller asks to be forgotten (admins). Tenant staff
//! use it from the dashboard; the receptionist's own reads stay on the memory API (SPEC §7).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use switchboard_memory::service::MemoryView;
use switchboard_store::repo::callers::{self, CallerPage, Forgotten};
use switchboard_store::repo::memory::{
    self as repo, CallSummary, CallerProfile, PersonalityAverages,
};
use utoipa::{IntoParams, ToSchema};

use super::memory::check_user_id;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::TenantAuth;
use crate::state::AppState;

/// Summaries and memories shown with one caller.
pub const DETAIL_ROWS: i64 = 50;

#[derive(Deserialize, IntoParams, Clone, Debug, Default, Serialize)]
pub struct CallersQuery {
    /// Part of the caller's number or quick bio (case-insensitive).
    pub q: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl CallersQuery {
    pub fn page(&self) -> ApiResult<(i64, i64)> {
        let limit = self.limit.unwrap_or(50);
        let offset = self.offset.unwrap_or(0);
        if !(1..=200).contains(&limit) || offset < 0 {
            return Err(ApiError::bad_request(
                "limit is 1 to 200 and offset is 0 or more",
            ));
        }
        Ok((limit, offset))
    }
}

pub async fn load_callers(
    state: &AppState,
    auth: &TenantAuth,
    query: &CallersQuery,
) -> ApiResult<CallerPage> {
    let (limit, offset) = query.page()?;
    let mut tx = state.db.read(&auth.0).await?;
    let page = callers::list(&mut tx, query.q.as_deref(), limit, offset).await?;
    tx.commit().await?;
    Ok(page)
}

#[utoipa::path(get, path = "/api/v1/callers", tag = "memory", params(CallersQuery),
    responses((status = 200, description = "callers, most recently heard from first, with the total matching", body = Object),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: TenantAuth,
    Query(query): Query<CallersQuery>,
) -> ApiResult<Json<CallerPage>> {
    load_callers(&state, &auth, &query).await.map(Json)
}

#[derive(Serialize, ToSchema)]
pub struct CallerDetail {
    #[schema(value_type = Object)]
    pub profile: CallerProfile,
    /// Means over the caller's processed calls.
    #[schema(value_type = Option<Object>)]
    pub personality: Option<PersonalityAverages>,
    /// Newest first, at most 50.
    #[schema(value_type = Vec<Object>)]
    pub summaries: Vec<CallSummary>,
    /// Newest first, at most 50.
    #[schema(value_type = Vec<Object>)]
    pub memories: Vec<MemoryView>,
}

pub async fn load_caller(
    state: &AppState,
    auth: &TenantAuth,
    user_id: &str,
) -> ApiResult<CallerDetail> {
    check_user_id(user_id)?;
    let mut tx = state.db.read(&auth.0).await?;
    let profile = repo::profile(&mut tx, user_id)
        .await?
        .ok_or_else(|| ApiError::not_found("caller"))?;
    let personality = repo::personality_averages(&mut tx, user_id).await?;
    let summaries = repo::summaries(&mut tx, user_id, DETAIL_ROWS).await?;
    let memories = repo::memories(&mut tx, user_id, DETAIL_ROWS).await?;
    tx.commit().await?;
    Ok(CallerDetail {
        profile,
        personality,
        summaries,
        memories: memories.iter().map(MemoryView::from).collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/callers/{user_id}", tag = "memory",
    params(("user_id" = String, Path, description = "the caller's E.164 number")),
    responses((status = 200, body = CallerDetail), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(user_id): Path<String>,
) -> ApiResult<Json<CallerDetail>> {
    load_caller(&state, &auth, &user_id).await.map(Json)
}

#[utoipa::path(delete, path = "/api/v1/callers/{user_id}", tag = "memory",
    params(("user_id" = String, Path, description = "the caller's E.164 number")),
    responses((status = 200, description = "what was erased: the caller's memories, summaries, personality and profile", body = Object),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "memory knows nothing of this caller", body = ErrorBody)))]
pub async fn forget(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Forgotten>> {
    let admin = auth.admin()?;
    check_user_id(&user_id)?;
    let mut tx = state.db.write(&auth.0).await?;
    let forgotten = callers::forget(&mut tx, admin, &user_id).await?;
    if !forgotten.any() {
        return Err(ApiError::not_found("caller"));
    }
    tx.commit().await?;
    // The number is the caller's identity: it stays out of the log.
    tracing::info!(tenant.id = %auth.0.tenant(), memories = forgotten.memories, summaries = forgotten.summaries, "caller forgotten");
    Ok(Json(forgotten))
}
