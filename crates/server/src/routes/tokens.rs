//! A tenant's API tokens: list (any member sees metadata), create and revoke (admins).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchboard_store::repo::tokens;
use utoipa::ToSchema;

use super::views::{RoleView, TokenView};
use crate::error::{ApiResult, AppJson, ErrorBody};
use crate::extract::TenantAuth;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/tokens", tag = "tenant",
    responses((status = 200, body = Vec<TokenView>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> ApiResult<Json<Vec<TokenView>>> {
    let mut tx = state.db.read(&auth.0).await?;
    let tokens = tokens::list(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct NewToken {
    pub name: String,
    pub role: RoleView,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: TokenView,
    /// The bearer credential. Shown once; only its digest is stored.
    pub secret: String,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "tenant", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: TenantAuth,
    AppJson(body): AppJson<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let admin = auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    let (token, secret) = tokens::create(&mut tx, admin, &body.name, body.role.into()).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: token.into(),
            secret,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tenant",
    params(("id" = String, Path, description = "token id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let admin = auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    tokens::revoke(&mut tx, admin, &id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
