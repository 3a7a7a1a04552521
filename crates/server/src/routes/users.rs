//! A tenant's team: list (any member), invite, change role, remove (admins).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchboard_store::repo::users;
use utoipa::ToSchema;

use super::views::{RoleView, UserView, generated_password};
use crate::error::{ApiResult, AppJson, ErrorBody};
use crate::extract::TenantAuth;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/users", tag = "tenant",
    responses((status = 200, body = Vec<UserView>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> ApiResult<Json<Vec<UserView>>> {
    let mut tx = state.db.read(&auth.0).await?;
    let users = users::list(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(users.into_iter().map(UserView::from).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct Invite {
    pub email: String,
    pub role: RoleView,
    /// The initial password; generated (and returned once) when absent.
    pub password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Invited {
    pub user: UserView,
    /// Present only when the server generated the password. Shown once.
    pub initial_password: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/users", tag = "tenant", request_body = Invite,
    responses((status = 201, body = Invited), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    auth: TenantAuth,
    AppJson(body): AppJson<Invite>,
) -> ApiResult<(StatusCode, Json<Invited>)> {
    let admin = auth.admin()?;
    let generated = body.password.is_none().then(generated_password);
    let password = body
        .password
        .or_else(|| generated.clone())
        .unwrap_or_default();
    let mut tx = state.db.write(&auth.0).await?;
    let user = users::create(&mut tx, admin, &body.email, body.role.into(), &password).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Invited {
            user: user.into(),
            initial_password: generated,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct RoleChange {
    pub role: RoleView,
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "tenant", request_body = RoleChange,
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
    AppJson(body): AppJson<RoleChange>,
) -> ApiResult<Json<UserView>> {
    let admin = auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    let user = users::set_role(&mut tx, admin, &id, body.role.into()).await?;
    tx.commit().await?;
    Ok(Json(user.into()))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "tenant",
    params(("id" = String, Path, description = "user id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let admin = auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    users::remove(&mut tx, admin, &id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
