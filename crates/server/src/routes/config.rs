//! A tenant's configuration documents (SPEC §3, §4.4): `GET|PUT /api/v1/config/ai` and
//! `/api/v1/config/qa`. Any member reads; admins write. A PUT is validated against the
//! document's schema first, and every problem is listed; nothing is saved on error. The stored
//! document is the one sent (its own formatting), so what a user reads back is what they wrote.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use switchboard_core::Area;
use switchboard_pipeline::config::{AiConfig, ConfigProblems, QaConfig};
use switchboard_store::StoreError;
use switchboard_store::onboarding::{DEFAULT_AI_CONFIG, DEFAULT_QA_CONFIG};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::TenantAuth;
use crate::state::AppState;

const MAX_CONFIG_BYTES: usize = 256 * 1024;

struct Document {
    name: &'static str,
    default: &'static str,
    validate: fn(&[u8]) -> Result<(), ConfigProblems>,
}

const AI: Document = Document {
    name: "ai-config.json",
    default: DEFAULT_AI_CONFIG,
    validate: |bytes| AiConfig::parse(bytes).map(|_| ()),
};

const QA: Document = Document {
    name: "qa-config.json",
    default: DEFAULT_QA_CONFIG,
    validate: |bytes| QaConfig::parse(bytes).map(|_| ()),
};

async fn read(
    state: &AppState,
    auth: &TenantAuth,
    doc: &Document,
) -> ApiResult<Json<serde_json::Value>> {
    let objects = state.storage.tenant(&auth.0)?;
    let bytes = match objects.get(Area::Config, doc.name).await {
        Ok(bytes) => bytes,
        Err(StoreError::NotFound(_)) => Bytes::from_static(doc.default.as_bytes()),
        Err(err) => return Err(err.into()),
    };
    let value = serde_json::from_slice(&bytes).map_err(|_| ApiError::internal())?;
    Ok(Json(value))
}

async fn write(
    state: &AppState,
    auth: &TenantAuth,
    doc: &Document,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    auth.admin()?;
    if body.len() > MAX_CONFIG_BYTES {
        return Err(ApiError::new(
            http::StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("{} has at most {MAX_CONFIG_BYTES} bytes", doc.name),
        ));
    }
    (doc.validate)(&body).map_err(|problems| ApiError::invalid_document(doc.name, problems.0))?;
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::internal())?;
    let objects = state.storage.tenant(&auth.0)?;
    objects.put(Area::Config, doc.name, body).await?;
    tracing::info!(tenant.id = %auth.0.tenant(), document = doc.name, "configuration saved");
    Ok(Json(value))
}

#[utoipa::path(get, path = "/api/v1/config/ai", tag = "tenant",
    responses((status = 200, description = "ai-config.json (schema version 1)", body = Object), (status = 401, body = ErrorBody)))]
pub async fn get_ai(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> ApiResult<Json<serde_json::Value>> {
    read(&state, &auth, &AI).await
}

#[utoipa::path(put, path = "/api/v1/config/ai", tag = "tenant", request_body = Object,
    responses((status = 200, description = "saved", body = Object), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid; every problem listed, nothing saved", body = ErrorBody)))]
pub async fn put_ai(
    State(state): State<AppState>,
    auth: TenantAuth,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    write(&state, &auth, &AI, body).await
}

#[utoipa::path(get, path = "/api/v1/config/qa", tag = "tenant",
    responses((status = 200, description = "qa-config.json (schema version 1)", body = Object), (status = 401, body = ErrorBody)))]
pub async fn get_qa(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> ApiResult<Json<serde_json::Value>> {
    read(&state, &auth, &QA).await
}

#[utoipa::path(put, path = "/api/v1/config/qa", tag = "tenant", request_body = Object,
    responses((status = 200, description = "saved", body = Object), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid; every problem listed, nothing saved", body = ErrorBody)))]
pub async fn put_qa(
    State(state): State<AppState>,
    auth: TenantAuth,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    write(&state, &auth, &QA, body).await
}

/// The tenant's QA rubric as stored (or the default), for the settings page.
pub async fn qa_document(state: &AppState, auth: &TenantAuth) -> ApiResult<serde_json::Value> {
    read(state, auth, &QA).await.map(|Json(value)| value)
}
