//! Platform routes: onboard, list, get, suspend, resume and delete tenants, and the audited read
//! of a tenant's team. Only [`PlatformAuth`] reaches them.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchboard_core::TenantId;
use switchboard_store::onboarding::{self, OnboardRequest, PurgeReport};
use switchboard_store::repo::{phone_numbers, templates, tenants, users};
use switchboard_store::scope::AuditedAccess;
use utoipa::{IntoParams, ToSchema};

use super::views::{TenantView, UserView, generated_password};
use crate::error::{ApiError, ApiResult, AppJson, ErrorBody};
use crate::extract::{PlatformAuth, RequestId};
use crate::state::AppState;

fn tenant_id(raw: &str) -> Result<TenantId, ApiError> {
    TenantId::parse(raw).map_err(|err| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_tenant_id",
            err.to_string(),
        )
    })
}

#[derive(Deserialize, ToSchema)]
pub struct NewTenantBody {
    /// Lowercase letters, digits and '-', 3–63 characters; immutable.
    pub id: String,
    pub name: String,
    pub industry_template: Option<String>,
    pub plan: Option<String>,
    /// A bucket of its own (S3 only). Default: `PER_TENANT_BUCKETS`.
    pub dedicated_storage: Option<bool>,
    pub admin_email: String,
    /// Generated (and returned once) when absent.
    pub admin_password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OnboardedView {
    pub tenant: TenantView,
    pub admin: UserView,
    /// Present only when the server generated the admin's password. Shown once.
    pub admin_initial_password: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/platform/tenants", tag = "platform", request_body = NewTenantBody,
    responses((status = 201, body = OnboardedView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_tenant(
    State(state): State<AppState>,
    PlatformAuth(admin): PlatformAuth,
    AppJson(body): AppJson<NewTenantBody>,
) -> ApiResult<(StatusCode, Json<OnboardedView>)> {
    let generated = body.admin_password.is_none().then(generated_password);
    // An industry template names the receptionist template cloned at onboarding; check it first.
    if let Some(template) = &body.industry_template {
        let mut tx = state.db.platform(&admin).await?;
        let found = templates::platform_get(&mut tx, template, None).await?;
        tx.commit().await?;
        if found.is_none() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "unknown_template",
                format!("no industry template {template:?} (GET /api/v1/templates lists them)"),
            ));
        }
    }
    let template = body.industry_template.clone();
    let request = OnboardRequest {
        id: tenant_id(&body.id)?,
        name: body.name,
        industry_template: body.industry_template,
        plan: body.plan,
        dedicated_storage: body.dedicated_storage,
        admin_email: body.admin_email,
        admin_password: body
            .admin_password
            .or_else(|| generated.clone())
            .unwrap_or_default(),
    };
    let onboarded = onboarding::onboard(&state.db, &state.storage, &admin, request).await?;
    if let Some(template) = template {
        let scope = admin
            .open_tenant(
                &state.db,
                &onboarded.tenant.id,
                AuditedAccess {
                    action: "write",
                    resource: "receptionist",
                    reason: "onboarding: clone the industry template",
                    request_id: None,
                },
            )
            .await?;
        crate::receptionist::clone_at_onboarding(&state.db, &scope, &template).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(OnboardedView {
            tenant: onboarded.tenant.into(),
            admin: onboarded.admin.into(),
            admin_initial_password: generated,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/platform/tenants", tag = "platform",
    responses((status = 200, body = Vec<TenantView>), (status = 403, body = ErrorBody)))]
pub async fn list_tenants(
    State(state): State<AppState>,
    PlatformAuth(admin): PlatformAuth,
) -> ApiResult<Json<Vec<TenantView>>> {
    let mut tx = state.db.platform(&admin).await?;
    let all = tenants::list(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(all.into_iter().map(TenantView::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/platform/tenants/{id}", tag = "platform",
    params(("id" = String, Path, description = "tenant id")),
    responses((status = 200, body = TenantView), (status = 404, body = ErrorBody)))]
pub async fn get_tenant(
    State(state): State<AppState>,
    PlatformAuth(admin): PlatformAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<TenantView>> {
    let id = tenant_id(&id)?;
    let mut tx = state.db.platform(&admin).await?;
    let tenant = tenants::get(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("tenant"))?;
    tx.commit().await?;
    Ok(Json(tenant.into()))
}

#[utoipa::path(post, path = "/api/v1/platform/tenants/{id}/suspend", tag = "platform",
    params(("id" = String, Path, description = "tenant id")),
    responses((status = 200, body = TenantView), (status = 404, body = ErrorBody)))]
pub async fn suspend(
    State(state): State<AppState>,
    PlatformAuth(admin): PlatformAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<TenantView>> {
    let tenant = onboarding::set_active(&state.db, &admin, &tenant_id(&id)?, false).await?;
    Ok(Json(tenant.into()))
}

#[utoipa::path(post, path = "/api/v1/platform/tenants/{id}/resume", tag = "platform",
    params(("id" = String, Path, description = "tenant id")),
    responses((status = 200, body = TenantView), (status = 404, body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    PlatformAuth(admin): PlatformAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<TenantView>> {
    let tenant = onboarding::set_active(&state.db, &admin, &tenant_id(&id)?, true).await?;
    Ok(Json(tenant.into()))
}

#[derive(Serialize, ToSchema)]
pub struct PurgeView {
    /// Rows deleted per table.
    pub rows: std::collections::BTreeMap<String, u64>,
    pub objects: u64,
}

impl From<PurgeReport> for PurgeView {
    fn from(report: PurgeReport) -> Self {
        PurgeView {
            rows: report.rows,
            objects: report.objects,
        }
    }
}

#[utoipa::path(delete, path = "/api/v1/platform/tenants/{id}", tag = "platform",
    params(("id" = String, Path, description = "tenant id")),
    responses((status = 200, body = PurgeView), (status = 404, body = ErrorBody)))]
pub async fn delete_tenant(
    State(state): State<AppState>,
    PlatformAuth(admin): PlatformAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<PurgeView>> {
    let report =
        onboarding::delete_tenant(&state.db, &state.storage, &admin, &tenant_id(&id)?).await?;
    Ok(Json(report.into()))
}

#[derive(Deserialize, IntoParams)]
pub struct Reason {
    /// Why the platform administrator reads this tenant's data (goes into the tenant's audit log).
    pub reason: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/platform/tenants/{id}/users", tag = "platform",
    params(("id" = String, Path, description = "tenant id"), Reason),
    responses((status = 200, body = Vec<UserView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn tenant_users(
    State(state): State<AppState>,
    PlatformAuth(admin): PlatformAuth,
    Path(id): Path<String>,
    Query(query): Query<Reason>,
    RequestId(request_id): RequestId,
) -> ApiResult<Json<Vec<UserView>>> {
    let id = tenant_id(&id)?;
    let reason = query
        .reason
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "reason_required",
                "reading a tenant's data needs ?reason=…",
            )
        })?;
    let scope = admin
        .open_tenant(
            &state.db,
            &id,
            AuditedAccess {
                action: "read",
                resource: "users",
                reason: &reason,
                request_id: request_id.as_deref(),
            },
        )
        .await?;
    let mut tx = state.db.read(&scope).await?;
    let team = users::list(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(team.into_iter().map(UserView::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/platform/tenants/{id}/phone-numbers", tag = "platform",
    params(("id" = String, Path, description = "tenant id")),
    responses((status = 200, body = Vec<String>), (status = 403, body = ErrorBody)))]
pub async fn list_numbers(
    State(state): State<AppState>,
    PlatformAuth(admin): PlatformAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<String>>> {
    let id = tenant_id(&id)?;
    let mut tx = state.db.platform(&admin).await?;
    let numbers = phone_numbers::list_for(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(Json(numbers))
}

#[utoipa::path(put, path = "/api/v1/platform/tenants/{id}/phone-numbers/{number}", tag = "platform",
    params(("id" = String, Path, description = "tenant id"), ("number" = String, Path, description = "E.164 number")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, description = "another tenant owns it", body = ErrorBody)))]
pub async fn assign_number(
    State(state): State<AppState>,
    PlatformAuth(admin): PlatformAuth,
    Path((id, number)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = tenant_id(&id)?;
    let mut tx = state.db.platform(&admin).await?;
    tenants::get(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("tenant"))?;
    phone_numbers::assign(&mut tx, &number, &id).await?;
    tx.commit().await?;
    tracing::info!(tenant.id = %id, number, "phone number assigned");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/platform/tenants/{id}/phone-numbers/{number}", tag = "platform",
    params(("id" = String, Path, description = "tenant id"), ("number" = String, Path, description = "E.164 number")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn release_number(
    State(state): State<AppState>,
    PlatformAuth(admin): PlatformAuth,
    Path((id, number)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = tenant_id(&id)?;
    let mut tx = state.db.platform(&admin).await?;
    phone_numbers::release(&mut tx, &number, &id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/platform/templates", tag = "platform", request_body = Object,
    responses((status = 201, description = "published"), (status = 409, description = "that version exists", body = ErrorBody),
        (status = 422, description = "invalid; every problem listed", body = ErrorBody)))]
pub async fn publish_template(
    State(state): State<AppState>,
    PlatformAuth(admin): PlatformAuth,
    body: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let template = switchboard_receptionist::Template::parse(&body)
        .map_err(|problems| ApiError::invalid_document("the template", problems))?;
    let stored = serde_json::to_string_pretty(&template).map_err(|_| ApiError::internal())?;
    let mut tx = state.db.platform(&admin).await?;
    let created = templates::publish(
        &mut tx,
        &template.id,
        template.version,
        &template.name,
        &stored,
    )
    .await?;
    tx.commit().await?;
    if !created {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "template {} version {} is already published",
                template.id, template.version
            ),
        ));
    }
    tracing::info!(
        template = template.id,
        version = template.version,
        "template published"
    );
    Ok(StatusCode::CREATED)
}
