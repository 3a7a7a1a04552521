//! Provider credentials of a tenant (secret store entries), write-only: `PUT` stores the fields,
//! `GET` says which fields are set and when, never a value. Tenant admins only.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use switchboard_store::repo::secrets::{self, SecretInfo};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, AppJson, ErrorBody};
use crate::extract::TenantAuth;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct CredentialView {
    pub provider: String,
    /// The names of the fields that are set. Values are never returned.
    pub fields: Vec<String>,
    /// Counts writes.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<SecretInfo> for CredentialView {
    fn from(info: SecretInfo) -> Self {
        CredentialView {
            provider: info.provider,
            fields: info.fields,
            version: info.version,
            created_at: info.created_at,
            updated_at: info.updated_at,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/credentials", tag = "tenant",
    responses((status = 200, body = Vec<CredentialView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> ApiResult<Json<Vec<CredentialView>>> {
    auth.admin()?;
    let mut tx = state.db.read(&auth.0).await?;
    let all = secrets::list(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(all.into_iter().map(CredentialView::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/credentials/{provider}", tag = "tenant",
    params(("provider" = String, Path, description = "provider name, e.g. `oak`")),
    responses((status = 200, body = CredentialView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(provider): Path<String>,
) -> ApiResult<Json<CredentialView>> {
    auth.admin()?;
    let mut tx = state.db.read(&auth.0).await?;
    let info = secrets::describe(&mut tx, &provider).await?;
    tx.commit().await?;
    Ok(Json(
        info.ok_or_else(|| ApiError::not_found("credential"))?
            .into(),
    ))
}

#[utoipa::path(put, path = "/api/v1/credentials/{provider}", tag = "tenant",
    params(("provider" = String, Path, description = "provider name, e.g. `oak`")),
    request_body(content = BTreeMap<String, String>, description = "the credential's fields, e.g. base_url, client_id, client_secret, username, password"),
    responses((status = 200, body = CredentialView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(provider): Path<String>,
    AppJson(fields): AppJson<BTreeMap<String, String>>,
) -> ApiResult<Json<CredentialView>> {
    let admin = auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    let info = secrets::put(&mut tx, admin, &state.keyring, &provider, fields).await?;
    tx.commit().await?;
    Ok(Json(info.into()))
}

#[utoipa::path(delete, path = "/api/v1/credentials/{provider}", tag = "tenant",
    params(("provider" = String, Path, description = "provider name")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(provider): Path<String>,
) -> ApiResult<StatusCode> {
    let admin = auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    secrets::delete(&mut tx, admin, &provider).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
