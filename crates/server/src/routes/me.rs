//! `GET /api/v1/me`: who the credential is.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::views::RoleView;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::TenantAuth;

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub tenant_id: String,
    /// The acting principal, e.g. `user:ana@acme.test` or `token:<id>`.
    pub actor: String,
    pub role: RoleView,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "tenant",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn me(TenantAuth(scope): TenantAuth) -> ApiResult<Json<Me>> {
    Ok(Json(Me {
        tenant_id: scope.tenant().to_string(),
        actor: scope.actor().to_string(),
        role: scope.role().into(),
    }))
}
