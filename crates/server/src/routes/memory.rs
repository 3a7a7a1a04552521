//! The caller-memory API (SPEC §7), at the paths its clients already call: `/memory/store`,
//! `/v1/memories…`, `/v2/…`. The tenant is the one the credential proves (an API token — the
//! receptionist's service token — or a session); a request may also name it (`customer_id` or
//! `tenant_id`, in the body or the query, as older clients do), and a name that differs from the
//! credential's tenant is refused with 403. A request with no credential is refused with
//! `tenant_required`: memory is never read or written without a tenant.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use switchboard_memory::caller::{thread_id, valid_user_id};
use switchboard_memory::conversation::{Conversation, Message};
use switchboard_memory::service::{CallInput, ContextLimits, MemoryView};
use switchboard_store::TenantScope;
use switchboard_store::clock::now_ms;
use switchboard_store::repo::memory as repo;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, AppJson, ErrorBody};
use crate::extract::{TenantAuth, presents_credential};
use crate::memory;
use crate::state::AppState;

const MAX_CONTENT_CHARS: usize = 1000;
const MAX_SOURCE_CHARS: usize = 100;

/// The tenant a memory request acts for.
pub struct MemoryAuth(pub TenantScope);

impl FromRequestParts<AppState> for MemoryAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !presents_credential(parts) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "tenant_required",
                "caller memory is kept per tenant and a tenant is required: send the tenant's API token (Authorization: Bearer …)",
            ));
        }
        TenantAuth::from_request_parts(parts, state)
            .await
            .map(|auth| MemoryAuth(auth.0))
    }
}

impl MemoryAuth {
    /// Refuses a request that names a tenant other than the credential's.
    fn check_named(&self, named: &[Option<&String>]) -> ApiResult<()> {
        for name in named.iter().flatten() {
            if name.as_str() != self.0.tenant().as_str() {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "tenant_mismatch",
                    "the request names a tenant other than the one its credential acts for",
                ));
            }
        }
        Ok(())
    }
}

pub(crate) fn check_user_id(user_id: &str) -> ApiResult<()> {
    if valid_user_id(user_id) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_user_id",
            "user_id must be the caller's number in E.164 form, e.g. +15551234567",
        ))
    }
}

fn check_content(content: &str, source: Option<&String>) -> ApiResult<()> {
    let mut problems = Vec::new();
    if content.trim().is_empty() {
        problems.push("content is empty".to_owned());
    }
    if content.chars().count() > MAX_CONTENT_CHARS {
        problems.push(format!(
            "content has more than {MAX_CONTENT_CHARS} characters"
        ));
    }
    if source.is_some_and(|s| s.trim().is_empty() || s.chars().count() > MAX_SOURCE_CHARS) {
        problems.push(format!("source must have 1–{MAX_SOURCE_CHARS} characters"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid(problems))
    }
}

fn invalid(problems: Vec<String>) -> ApiError {
    ApiError {
        code: "invalid_request",
        ..ApiError::invalid_document("the request", problems)
    }
}

/// The optional tenant name older clients send in the query.
#[derive(Deserialize, IntoParams)]
pub struct TenantQuery {
    /// Must be the credential's tenant when given.
    pub customer_id: Option<String>,
    /// Same as `customer_id`.
    pub tenant_id: Option<String>,
    /// How many rows (default 50, at most 500).
    pub limit: Option<i64>,
}

impl TenantQuery {
    fn named(&self) -> [Option<&String>; 2] {
        [self.customer_id.as_ref(), self.tenant_id.as_ref()]
    }

    fn limit(&self) -> i64 {
        self.limit.unwrap_or(50).clamp(1, repo::MAX_LIST)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreMemory {
    pub customer_id: Option<String>,
    pub tenant_id: Option<String>,
    /// The caller's E.164 number.
    pub user_id: String,
    pub content: String,
    /// Where the fact came from (default `api`).
    pub source: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StoredAck {
    pub success: bool,
    pub id: String,
    /// Always null on success (errors use the error envelope).
    #[schema(value_type = Option<String>)]
    pub error: Option<String>,
}

async fn store_memory(
    state: &AppState,
    auth: &MemoryAuth,
    body: &StoreMemory,
) -> ApiResult<MemoryView> {
    auth.check_named(&[body.customer_id.as_ref(), body.tenant_id.as_ref()])?;
    check_user_id(&body.user_id)?;
    check_content(&body.content, body.source.as_ref())?;
    let source = body.source.as_deref().map(str::trim).unwrap_or("api");
    let memory = memory::store(state, &auth.0, &body.user_id, &body.content, source).await?;
    Ok(MemoryView::from(&memory))
}

#[utoipa::path(post, path = "/memory/store", tag = "memory",
    request_body = StoreMemory,
    responses((status = 200, description = "stored (the legacy endpoint's shape)", body = StoredAck),
        (status = 401, description = "tenant_required", body = ErrorBody), (status = 403, description = "tenant_mismatch", body = ErrorBody),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn legacy_store(
    State(state): State<AppState>,
    auth: MemoryAuth,
    AppJson(body): AppJson<StoreMemory>,
) -> ApiResult<Json<StoredAck>> {
    let memory = store_memory(&state, &auth, &body).await?;
    Ok(Json(StoredAck {
        success: true,
        id: memory.id,
        error: None,
    }))
}

#[utoipa::path(post, path = "/v1/memories", tag = "memory",
    request_body = StoreMemory,
    responses((status = 201, description = "the stored memory", body = Object),
        (status = 401, description = "tenant_required", body = ErrorBody), (status = 403, description = "tenant_mismatch", body = ErrorBody),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    auth: MemoryAuth,
    AppJson(body): AppJson<StoreMemory>,
) -> ApiResult<(StatusCode, Json<MemoryView>)> {
    let memory = store_memory(&state, &auth, &body).await?;
    Ok((StatusCode::CREATED, Json(memory)))
}

#[derive(Serialize, ToSchema)]
pub struct MemoryList {
    pub user_id: String,
    /// Newest first.
    #[schema(value_type = Vec<Object>)]
    pub memories: Vec<MemoryView>,
}

#[utoipa::path(get, path = "/v1/memories/user/{user_id}", tag = "memory",
    params(("user_id" = String, Path, description = "the caller's E.164 number"), TenantQuery),
    responses((status = 200, body = MemoryList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: MemoryAuth,
    Path(user_id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> ApiResult<Json<MemoryList>> {
    auth.check_named(&query.named())?;
    check_user_id(&user_id)?;
    let mut tx = state.db.read(&auth.0).await?;
    let memories = repo::memories(&mut tx, &user_id, query.limit()).await?;
    tx.commit().await?;
    Ok(Json(MemoryList {
        user_id,
        memories: memories.iter().map(MemoryView::from).collect(),
    }))
}

#[utoipa::path(delete, path = "/v1/memories/{id}", tag = "memory",
    params(("id" = String, Path, description = "memory id"), TenantQuery),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such memory for this tenant", body = ErrorBody),
        (status = 403, description = "needs the admin role, or tenant_mismatch", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: MemoryAuth,
    Path(id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> ApiResult<StatusCode> {
    auth.check_named(&query.named())?;
    if auth.0.admin().is_none() {
        return Err(ApiError::forbidden(
            "deleting a memory needs the admin role",
        ));
    }
    let mut tx = state.db.write(&auth.0).await?;
    let deleted = repo::delete_memory(&mut tx, &id).await?;
    tx.commit().await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("memory"))
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextRequest {
    pub customer_id: Option<String>,
    pub tenant_id: Option<String>,
    pub user_id: String,
    /// Text to rank memories by (e.g. what the caller just said); the newest come first without.
    pub query: Option<String>,
    /// Memories to return (default 5, at most 50).
    pub memories: Option<usize>,
    /// Recent summaries to return (default 3, at most 20).
    pub summaries: Option<i64>,
}

#[utoipa::path(post, path = "/v2/context/enriched", tag = "memory",
    request_body = ContextRequest,
    responses((status = 200, description = "quick bio, profile, recent summaries, relevant memories, personality averages", body = Object),
        (status = 401, description = "tenant_required", body = ErrorBody), (status = 403, description = "tenant_mismatch", body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn context(
    State(state): State<AppState>,
    auth: MemoryAuth,
    AppJson(body): AppJson<ContextRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    auth.check_named(&[body.customer_id.as_ref(), body.tenant_id.as_ref()])?;
    check_user_id(&body.user_id)?;
    let query = body
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty());
    if query.is_some_and(|q| q.chars().count() > MAX_CONTENT_CHARS) {
        return Err(invalid(vec![format!(
            "query has more than {MAX_CONTENT_CHARS} characters"
        )]));
    }
    let embedding = match query {
        Some(q) => memory::embed_query(&state, q).await?,
        None => None,
    };
    let defaults = ContextLimits::default();
    let limits = ContextLimits {
        memories: body.memories.unwrap_or(defaults.memories).clamp(1, 50),
        summaries: body.summaries.unwrap_or(defaults.summaries).clamp(1, 20),
        ..defaults
    };
    let context = memory::context(
        &state,
        &auth.0,
        &body.user_id,
        query.map(|q| (q, embedding.as_deref())),
        limits,
    )
    .await?;
    Ok(Json(
        serde_json::to_value(context).map_err(|_| ApiError::internal())?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessCall {
    pub customer_id: Option<String>,
    pub tenant_id: Option<String>,
    pub user_id: String,
    /// `customer_<tenant>_user_<digits>`; checked when given.
    pub thread_id: Option<String>,
    /// The call's id (e.g. its CallSid); processing the same id again changes nothing. Derived
    /// from the caller and the messages when absent.
    pub call_id: Option<String>,
    /// `[{"role": "user"|"assistant"|…, "content": "…"}]`, in order.
    #[schema(value_type = Vec<Object>)]
    pub conversation_history: Vec<Message>,
    /// Profile values known for certain (they win over what the conversation says); names must
    /// be the tenant template's profile fields.
    pub profile: Option<BTreeMap<String, String>>,
}

#[utoipa::path(post, path = "/v2/process-call", tag = "memory",
    request_body = ProcessCall,
    responses((status = 201, description = "processed: summary, profile, memories, personality", body = Object),
        (status = 200, description = "this call was processed before; what it produced then", body = Object),
        (status = 401, description = "tenant_required", body = ErrorBody), (status = 403, description = "tenant_mismatch", body = ErrorBody),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn process_call(
    State(state): State<AppState>,
    auth: MemoryAuth,
    AppJson(body): AppJson<ProcessCall>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    auth.check_named(&[body.customer_id.as_ref(), body.tenant_id.as_ref()])?;
    check_user_id(&body.user_id)?;
    let mut problems = Vec::new();
    let expected_thread = thread_id(auth.0.tenant().as_str(), &body.user_id);
    if body
        .thread_id
        .as_ref()
        .is_some_and(|t| *t != expected_thread)
    {
        problems.push(format!(
            "thread_id must be \"{expected_thread}\" for this tenant and caller"
        ));
    }
    if body
        .call_id
        .as_ref()
        .is_some_and(|c| c.trim().is_empty() || c.len() > 100)
    {
        problems.push("call_id must have 1–100 characters".to_owned());
    }
    let conversation = Conversation::parse(&body.conversation_history).unwrap_or_else(|p| {
        problems.extend(p);
        Conversation { turns: Vec::new() }
    });
    let spec = memory::profile_spec(&state, &auth.0).await?;
    let explicit = body.profile.clone().unwrap_or_default();
    problems.extend(spec.check(&explicit));
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    let input = CallInput {
        user_id: body.user_id.clone(),
        call_id: body.call_id.clone(),
        conversation,
        profile: explicit,
        topics: None,
        at_ms: now_ms(),
    };
    let processed = memory::process(&state, &auth.0, input, spec).await?;
    let status = if processed.already_processed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(serde_json::to_value(processed).map_err(|_| ApiError::internal())?),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct SummaryList {
    pub user_id: String,
    /// Newest first.
    #[schema(value_type = Vec<Object>)]
    pub summaries: Vec<repo::CallSummary>,
}

#[utoipa::path(get, path = "/v2/summaries/{user_id}", tag = "memory",
    params(("user_id" = String, Path, description = "the caller's E.164 number"), TenantQuery),
    responses((status = 200, body = SummaryList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn summaries(
    State(state): State<AppState>,
    auth: MemoryAuth,
    Path(user_id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> ApiResult<Json<SummaryList>> {
    auth.check_named(&query.named())?;
    check_user_id(&user_id)?;
    let mut tx = state.db.read(&auth.0).await?;
    let summaries = repo::summaries(&mut tx, &user_id, query.limit()).await?;
    tx.commit().await?;
    Ok(Json(SummaryList { user_id, summaries }))
}

#[utoipa::path(get, path = "/v2/profile/{user_id}", tag = "memory",
    params(("user_id" = String, Path, description = "the caller's E.164 number"), TenantQuery),
    responses((status = 200, description = "the caller's profile with its quick bio", body = Object),
        (status = 404, description = "no profile for this caller at this tenant", body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn profile(
    State(state): State<AppState>,
    auth: MemoryAuth,
    Path(user_id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> ApiResult<Json<repo::CallerProfile>> {
    auth.check_named(&query.named())?;
    check_user_id(&user_id)?;
    let mut tx = state.db.read(&auth.0).await?;
    let profile = repo::profile(&mut tx, &user_id).await?;
    tx.commit().await?;
    profile
        .map(Json)
        .ok_or_else(|| ApiError::not_found("caller profile"))
}

#[derive(Serialize, ToSchema)]
pub struct PersonalityView {
    pub user_id: String,
    /// Means over every processed call.
    #[schema(value_type = Object)]
    pub averages: repo::PersonalityAverages,
    /// Per call, newest first.
    #[schema(value_type = Vec<Object>)]
    pub calls: Vec<repo::PersonalityMetrics>,
}

#[utoipa::path(get, path = "/v2/personality/{user_id}", tag = "memory",
    params(("user_id" = String, Path, description = "the caller's E.164 number"), TenantQuery),
    responses((status = 200, body = PersonalityView),
        (status = 404, description = "no processed call for this caller at this tenant", body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn personality(
    State(state): State<AppState>,
    auth: MemoryAuth,
    Path(user_id): Path<String>,
    Query(query): Query<TenantQuery>,
) -> ApiResult<Json<PersonalityView>> {
    auth.check_named(&query.named())?;
    check_user_id(&user_id)?;
    let mut tx = state.db.read(&auth.0).await?;
    let averages = repo::personality_averages(&mut tx, &user_id).await?;
    let calls = repo::personality_metrics(&mut tx, &user_id, query.limit()).await?;
    tx.commit().await?;
    let averages = averages.ok_or_else(|| ApiError::not_found("personality"))?;
    Ok(Json(PersonalityView {
        user_id,
        averages,
        calls,
    }))
}
