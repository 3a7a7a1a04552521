//! `GET /api/v1/audit`: the tenant's audit log, including every platform-admin access to its data.

use axum::Json;
use axum::extract::State;
use switchboard_store::repo::audit;

use super::views::AuditView;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::TenantAuth;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/audit", tag = "tenant",
    responses((status = 200, body = Vec<AuditView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> ApiResult<Json<Vec<AuditView>>> {
    auth.admin()?;
    let mut tx = state.db.read(&auth.0).await?;
    let entries = audit::list(&mut tx, 500).await?;
    tx.commit().await?;
    Ok(Json(entries.into_iter().map(AuditView::from).collect()))
}
