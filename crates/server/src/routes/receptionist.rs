//! The receptionist's tenant-admin API (SPEC §8): templates to clone, the tenant's settings
//! (variables, greeting, agent name, personality, voice, scenarios, escalation number…),
//! sync to a newer template version, readiness, knowledge Q&A, and the live-call log. Any member
//! reads; admins write. Settings are validated as a whole and every problem is listed; nothing
//! is saved on error.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use switchboard_core::Area;
use switchboard_receptionist::ReceptionistSettings;
use switchboard_receptionist::readiness::{self, Readiness};
use switchboard_store::clock::now_ms;
use switchboard_store::repo::live_calls::{self, LiveCall, Turn};
use switchboard_store::repo::sms::{self, SMS_JOB, SmsMessage};
use switchboard_store::repo::{phone_numbers, receptionist, templates};
use switchboard_store::{StoreError, TenantTx, queue};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, AppJson, ErrorBody};
use crate::extract::TenantAuth;
use crate::receptionist::documents;
use crate::state::AppState;

const MAX_SETTINGS_BYTES: usize = 512 * 1024;

#[derive(Serialize, ToSchema)]
pub struct TemplateSummary {
    pub id: String,
    pub version: i64,
    pub name: String,
    pub description: String,
}

#[utoipa::path(get, path = "/api/v1/templates", tag = "receptionist",
    responses((status = 200, description = "the latest version of each industry template", body = Vec<TemplateSummary>), (status = 401, body = ErrorBody)))]
pub async fn list_templates(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> ApiResult<Json<Vec<TemplateSummary>>> {
    let mut tx = state.db.read(&auth.0).await?;
    let rows = templates::list_latest(&mut tx).await?;
    tx.commit().await?;
    rows.iter()
        .map(|row| {
            let t = documents::parse_template(&row.body)?;
            Ok(TemplateSummary {
                id: t.id,
                version: t.version,
                name: t.name,
                description: t.description,
            })
        })
        .collect::<ApiResult<Vec<_>>>()
        .map(Json)
}

#[derive(Deserialize, IntoParams)]
pub struct VersionQuery {
    /// A version number; the latest when absent.
    pub version: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/templates/{id}", tag = "receptionist",
    params(("id" = String, Path, description = "template id"), VersionQuery),
    responses((status = 200, description = "the template document", body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_template(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
    Query(query): Query<VersionQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut tx = state.db.read(&auth.0).await?;
    let template = documents::template(&mut tx, &id, query.version)
        .await?
        .ok_or_else(|| ApiError::not_found("template"))?;
    tx.commit().await?;
    Ok(Json(
        serde_json::to_value(template).map_err(|_| ApiError::internal())?,
    ))
}

/// The tenant's settings with what surrounds them.
#[derive(Serialize, ToSchema)]
pub struct SettingsView {
    /// The settings document (see `docs/receptionist.md`).
    #[schema(value_type = Object)]
    pub settings: ReceptionistSettings,
    /// Grows with every change to the settings or the knowledge entries.
    pub revision: i64,
    pub updated_at: i64,
    /// Numbers that ring this receptionist (assigned by the platform administrator).
    pub phone_numbers: Vec<String>,
    /// The latest version of the cloned template, when newer than the tenant's copy.
    pub newer_template_version: Option<i64>,
}

fn not_configured() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_configured",
        "the receptionist is not set up: clone a template first (POST /api/v1/receptionist/clone)",
    )
}

async fn newer_version(
    tx: &mut TenantTx,
    settings: &ReceptionistSettings,
) -> ApiResult<Option<i64>> {
    let latest = templates::get(tx, &settings.cloned_from.template_id, None).await?;
    Ok(latest
        .map(|t| t.version)
        .filter(|v| *v > settings.cloned_from.version))
}

async fn view(tx: &mut TenantTx) -> ApiResult<SettingsView> {
    let (settings, stored) = documents::settings(tx).await?.ok_or_else(not_configured)?;
    Ok(SettingsView {
        newer_template_version: newer_version(tx, &settings).await?,
        phone_numbers: phone_numbers::list_own(tx).await?,
        settings,
        revision: stored.revision,
        updated_at: stored.updated_at,
    })
}

#[utoipa::path(get, path = "/api/v1/receptionist", tag = "receptionist",
    responses((status = 200, body = SettingsView), (status = 404, description = "not_configured", body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> ApiResult<Json<SettingsView>> {
    let mut tx = state.db.read(&auth.0).await?;
    let view = view(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(view))
}

fn validate(settings: &ReceptionistSettings) -> ApiResult<()> {
    let problems = settings.problems();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_document(
            "the receptionist settings",
            problems,
        ))
    }
}

async fn save(
    auth: &TenantAuth,
    tx: &mut TenantTx,
    settings: &ReceptionistSettings,
) -> ApiResult<()> {
    validate(settings)?;
    documents::save(tx, auth.admin()?, settings).await?;
    tracing::info!(tenant.id = %auth.0.tenant(), "receptionist settings saved");
    Ok(())
}

#[utoipa::path(put, path = "/api/v1/receptionist", tag = "receptionist", request_body = Object,
    responses((status = 200, body = SettingsView), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid; every problem listed, nothing saved", body = ErrorBody)))]
pub async fn put_settings(
    State(state): State<AppState>,
    auth: TenantAuth,
    body: Bytes,
) -> ApiResult<Json<SettingsView>> {
    auth.admin()?;
    if body.len() > MAX_SETTINGS_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the settings have at most {MAX_SETTINGS_BYTES} bytes"),
        ));
    }
    let settings: ReceptionistSettings = serde_json::from_slice(&body).map_err(|e| {
        ApiError::invalid_document("the receptionist settings", vec![e.to_string()])
    })?;
    let mut tx = state.db.write(&auth.0).await?;
    let (current, _) = documents::settings(&mut tx)
        .await?
        .ok_or_else(not_configured)?;
    if settings.cloned_from != current.cloned_from {
        return Err(ApiError::invalid_document(
            "the receptionist settings",
            vec!["cloned_from: set by clone and sync only; send it back unchanged".into()],
        ));
    }
    save(&auth, &mut tx, &settings).await?;
    let view = view(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[utoipa::path(patch, path = "/api/v1/receptionist/variables", tag = "receptionist",
    request_body(content = Object, description = "variable name → value; null removes it"),
    responses((status = 200, body = SettingsView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_variables(
    State(state): State<AppState>,
    auth: TenantAuth,
    AppJson(changes): AppJson<BTreeMap<String, Option<String>>>,
) -> ApiResult<Json<SettingsView>> {
    auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    let (mut settings, _) = documents::settings(&mut tx)
        .await?
        .ok_or_else(not_configured)?;
    for (name, value) in changes {
        match value {
            Some(value) => settings.variables.insert(name, value),
            None => settings.variables.remove(&name),
        };
    }
    save(&auth, &mut tx, &settings).await?;
    let view = view(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[derive(Deserialize, ToSchema)]
pub struct CloneRequest {
    pub template_id: String,
    /// The latest when absent.
    pub version: Option<i64>,
    /// Replace existing settings (variables, knowledge and numbers stay). Without it, cloning
    /// over existing settings is a conflict.
    #[serde(default)]
    pub replace: bool,
}

#[utoipa::path(post, path = "/api/v1/receptionist/clone", tag = "receptionist", request_body = CloneRequest,
    responses((status = 201, body = SettingsView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn clone_template(
    State(state): State<AppState>,
    auth: TenantAuth,
    AppJson(request): AppJson<CloneRequest>,
) -> ApiResult<(StatusCode, Json<SettingsView>)> {
    auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    let template = documents::template(&mut tx, &request.template_id, request.version)
        .await?
        .ok_or_else(|| ApiError::not_found("template"))?;
    let existing = documents::settings(&mut tx).await?;
    let mut settings = ReceptionistSettings::clone_template(&template, now_ms());
    match existing {
        Some(_) if !request.replace => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "already_configured",
                "the receptionist already has settings: sync to a newer version, or clone with \"replace\": true",
            ));
        }
        Some((old, _)) => {
            // What the tenant set survives a change of template.
            settings.agent_name = old.agent_name;
            settings.voice = old.voice;
            settings.language = old.language;
            settings.escalation_number = old.escalation_number;
            let defined: Vec<&str> = settings
                .variable_definitions
                .iter()
                .map(|d| d.name.as_str())
                .collect();
            settings.variables = old
                .variables
                .into_iter()
                .filter(|(k, _)| defined.contains(&k.as_str()))
                .collect();
        }
        None => {}
    }
    save(&auth, &mut tx, &settings).await?;
    let view = view(&mut tx).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(post, path = "/api/v1/receptionist/sync", tag = "receptionist",
    responses((status = 200, description = "synced to the latest template version (or already there)", body = SettingsView), (status = 403, body = ErrorBody)))]
pub async fn sync_template(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> ApiResult<Json<SettingsView>> {
    auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    let (settings, _) = documents::settings(&mut tx)
        .await?
        .ok_or_else(not_configured)?;
    let from = &settings.cloned_from;
    let latest = documents::template(&mut tx, &from.template_id, None)
        .await?
        .ok_or_else(|| ApiError::not_found("template"))?;
    if latest.version > from.version {
        let old = documents::template(&mut tx, &from.template_id, Some(from.version)).await?;
        let synced = settings.sync_to(&latest, old.as_ref(), now_ms());
        save(&auth, &mut tx, &synced).await?;
    }
    let view = view(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(view))
}

#[utoipa::path(get, path = "/api/v1/receptionist/readiness", tag = "receptionist",
    responses((status = 200, description = "score 0–100, each check, warnings", body = Object), (status = 401, body = ErrorBody)))]
pub async fn get_readiness(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> ApiResult<Json<Readiness>> {
    let rubric_present = match state
        .storage
        .tenant(&auth.0)?
        .get(Area::Config, "qa-config.json")
        .await
    {
        Ok(_) => true,
        Err(StoreError::NotFound(_)) => false,
        Err(err) => return Err(err.into()),
    };
    let mut tx = state.db.read(&auth.0).await?;
    let stored = documents::settings(&mut tx).await?;
    let newer = match &stored {
        Some((settings, _)) => newer_version(&mut tx, settings).await?,
        None => None,
    };
    let inputs = readiness::Inputs {
        phone_numbers: phone_numbers::list_own(&mut tx).await?.len(),
        knowledge_entries: usize::try_from(receptionist::knowledge_count(&mut tx).await?)
            .unwrap_or(0),
        rubric_present,
        newer_template_version: newer,
    };
    tx.commit().await?;
    Ok(Json(readiness::score(
        stored.as_ref().map(|(s, _)| s),
        &inputs,
    )))
}

#[derive(Serialize, ToSchema)]
pub struct KnowledgeView {
    pub id: String,
    pub question: String,
    pub answer: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<receptionist::KnowledgeRow> for KnowledgeView {
    fn from(row: receptionist::KnowledgeRow) -> Self {
        KnowledgeView {
            id: row.id,
            question: row.question,
            answer: row.answer,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct KnowledgeBody {
    pub question: String,
    /// May use `{placeholders}` of the tenant's variables.
    pub answer: String,
}

#[utoipa::path(get, path = "/api/v1/receptionist/knowledge", tag = "receptionist",
    responses((status = 200, body = Vec<KnowledgeView>), (status = 401, body = ErrorBody)))]
pub async fn list_knowledge(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> ApiResult<Json<Vec<KnowledgeView>>> {
    let mut tx = state.db.read(&auth.0).await?;
    let rows = receptionist::knowledge(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(rows.into_iter().map(KnowledgeView::from).collect()))
}

#[utoipa::path(post, path = "/api/v1/receptionist/knowledge", tag = "receptionist", request_body = KnowledgeBody,
    responses((status = 201, body = KnowledgeView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn add_knowledge(
    State(state): State<AppState>,
    auth: TenantAuth,
    AppJson(body): AppJson<KnowledgeBody>,
) -> ApiResult<(StatusCode, Json<KnowledgeView>)> {
    let admin = auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    let row = receptionist::add_knowledge(&mut tx, admin, &body.question, &body.answer).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[utoipa::path(put, path = "/api/v1/receptionist/knowledge/{id}", tag = "receptionist", request_body = KnowledgeBody,
    params(("id" = String, Path, description = "entry id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_knowledge(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
    AppJson(body): AppJson<KnowledgeBody>,
) -> ApiResult<StatusCode> {
    let admin = auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    receptionist::update_knowledge(&mut tx, admin, &id, &body.question, &body.answer).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/receptionist/knowledge/{id}", tag = "receptionist",
    params(("id" = String, Path, description = "entry id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_knowledge(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let admin = auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    receptionist::delete_knowledge(&mut tx, admin, &id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct PageQuery {
    /// 1–200, default 50.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/receptionist/calls", tag = "receptionist", params(PageQuery),
    responses((status = 200, description = "live calls, newest first", body = Object), (status = 401, body = ErrorBody)))]
pub async fn list_calls(
    State(state): State<AppState>,
    auth: TenantAuth,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Vec<LiveCall>>> {
    let limit = page.limit.unwrap_or(50);
    let offset = page.offset.unwrap_or(0);
    if !(1..=200).contains(&limit) || offset < 0 {
        return Err(ApiError::bad_request(
            "limit is 1 to 200 and offset is 0 or more",
        ));
    }
    let mut tx = state.db.read(&auth.0).await?;
    let calls = live_calls::list(&mut tx, limit, offset).await?;
    tx.commit().await?;
    Ok(Json(calls))
}

#[derive(Serialize)]
pub struct CallLog {
    #[serde(flatten)]
    pub call: LiveCall,
    pub turns: Vec<Turn>,
    /// The SMS follow-up the call promised, if any: `queued`, `sent` (with Twilio's message
    /// sid), `skipped` or `failed`, with the reason in `error`.
    pub sms: Option<SmsMessage>,
}

#[utoipa::path(get, path = "/api/v1/receptionist/calls/{call_sid}", tag = "receptionist",
    params(("call_sid" = String, Path, description = "Twilio CallSid")),
    responses((status = 200, description = "the call and its turns", body = Object), (status = 404, body = ErrorBody)))]
pub async fn get_call(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(call_sid): Path<String>,
) -> ApiResult<Json<CallLog>> {
    let mut tx = state.db.read(&auth.0).await?;
    let call = live_calls::get(&mut tx, &call_sid)
        .await?
        .ok_or_else(|| ApiError::not_found("call"))?;
    let turns = live_calls::turns(&mut tx, &call_sid).await?;
    let sms = sms::for_call_sid(&mut tx, &call_sid).await?;
    tx.commit().await?;
    Ok(Json(CallLog { call, turns, sms }))
}

#[utoipa::path(post, path = "/api/v1/receptionist/calls/{call_sid}/sms/retry", tag = "receptionist",
    params(("call_sid" = String, Path, description = "Twilio CallSid")),
    responses((status = 202, description = "the failed follow-up is queued again", body = Object),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the follow-up has not failed", body = ErrorBody)))]
pub async fn retry_sms(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(call_sid): Path<String>,
) -> ApiResult<(StatusCode, Json<SmsMessage>)> {
    auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    let message = sms::for_call_sid(&mut tx, &call_sid)
        .await?
        .ok_or_else(|| ApiError::not_found("SMS follow-up"))?;
    if !sms::requeue(&mut tx, &message.call_id).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_failed",
            format!("the SMS follow-up is {}, not failed", message.status),
        ));
    }
    queue::requeue(&mut tx, SMS_JOB, &message.call_id).await?;
    let message = sms::get(&mut tx, &message.call_id)
        .await?
        .ok_or_else(|| ApiError::not_found("SMS follow-up"))?;
    tx.commit().await?;
    tracing::info!(tenant.id = %auth.0.tenant(), call.sid = %call_sid, "failed SMS follow-up queued again");
    Ok((StatusCode::ACCEPTED, Json(message)))
}
