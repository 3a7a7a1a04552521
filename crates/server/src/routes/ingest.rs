//! Provider ingestion on demand, and its history, for the credential's tenant.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use switchboard_ingest::{Provider, SyncContext, sync_tenant};
use switchboard_store::repo::syncs::{self, SyncRun};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::TenantAuth;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct SyncRunView {
    pub id: String,
    pub provider: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// Recordings newly stored.
    pub fetched: i64,
    /// Recordings already stored.
    pub skipped: i64,
    /// Recordings that failed; the next run retries them.
    pub failed: i64,
    /// Why the whole run failed, if it did.
    pub error: Option<String>,
    /// Per-recording failures (`recording_id`, `reason`), at most 50.
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<serde_json::Value>,
}

impl From<SyncRun> for SyncRunView {
    fn from(run: SyncRun) -> Self {
        SyncRunView {
            id: run.id,
            provider: run.provider,
            started_at: run.started_at,
            finished_at: run.finished_at,
            fetched: run.fetched,
            skipped: run.skipped,
            failed: run.failed,
            error: run.error,
            errors: run.errors,
        }
    }
}

fn provider(name: &str) -> Result<Provider, ApiError> {
    Provider::parse(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_provider",
            format!("no connector named {name:?}"),
        )
    })
}

#[utoipa::path(post, path = "/api/v1/ingest/{provider}/run", tag = "tenant",
    params(("provider" = String, Path, description = "connector name, e.g. `oak`")),
    responses((status = 200, description = "the finished run (a failed run says why in `error`)", body = SyncRunView),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(name): Path<String>,
) -> ApiResult<Json<SyncRunView>> {
    auth.admin()?;
    let provider = provider(&name)?;
    let mut ctx = SyncContext::new(
        state.db.clone(),
        state.storage.clone(),
        state.keyring.clone(),
    );
    ctx.request_timeout = state.config.provider_timeout;
    let run = sync_tenant(&ctx, &auth.0, provider).await?;
    Ok(Json(run.into()))
}

#[utoipa::path(get, path = "/api/v1/ingest/{provider}/runs", tag = "tenant",
    params(("provider" = String, Path, description = "connector name")),
    responses((status = 200, body = Vec<SyncRunView>), (status = 403, body = ErrorBody)))]
pub async fn runs(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<SyncRunView>>> {
    auth.admin()?;
    let provider = provider(&name)?;
    let mut tx = state.db.read(&auth.0).await?;
    let history = syncs::runs(&mut tx, provider.name(), 100).await?;
    tx.commit().await?;
    Ok(Json(history.into_iter().map(SyncRunView::from).collect()))
}
