//! Calls: upload a recording (multipart), list with filters, read one (state, failure, jobs and
//! the final record), retry a failed call, re-analyse after a rubric change, and usage.

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE,
};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use switchboard_core::Area;
use switchboard_pipeline::Stage;
use switchboard_pipeline::stages::final_name;
use switchboard_store::StoreError;
use switchboard_store::ingest::{self, NewRecording};
use switchboard_store::queue;
use switchboard_store::repo::calls::{self, Call, CallFilter};
use switchboard_store::repo::results;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, AppJson, ErrorBody};
use crate::extract::TenantAuth;
use crate::range::bound;
use crate::state::AppState;

const MAX_META_BYTES: u64 = 1024 * 1024;

#[derive(Serialize, ToSchema)]
pub struct Uploaded {
    pub call_id: String,
    /// `true` when this recording was already accepted (same provider recording id or bytes).
    pub duplicate: bool,
}

/// The multipart form of an upload, for the OpenAPI document.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The recording: WAV, MP3, FLAC or Ogg.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    audio: String,
    /// Provider metadata, a JSON object (calling_party, called_party, started_at, …).
    meta: Option<String>,
    /// The provider's id of this recording; deduplicates re-deliveries.
    provider_recording_id: Option<String>,
}

fn bad_multipart(err: MultipartError) -> ApiError {
    ApiError::new(err.status(), "invalid_multipart", err.body_text())
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the recording exceeds the limit of {limit} bytes"),
    )
}

async fn read_limited(mut field: Field<'_>, limit: u64) -> ApiResult<Bytes> {
    let mut buffer = BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(bad_multipart)? {
        if (buffer.len() + chunk.len()) as u64 > limit {
            return Err(too_large(limit));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}

#[utoipa::path(post, path = "/api/v1/calls", tag = "tenant",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "stored durably; processing follows", body = Uploaded),
        (status = 200, description = "a duplicate of an accepted recording", body = Uploaded),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    auth: TenantAuth,
    mut multipart: Multipart,
) -> ApiResult<(StatusCode, Json<Uploaded>)> {
    auth.admin()?;
    let limit = state.config.max_upload_bytes;
    let (mut audio, mut meta, mut recording_id) = (None, None, None);
    while let Some(field) = multipart.next_field().await.map_err(bad_multipart)? {
        match field.name() {
            Some("audio") => audio = Some(read_limited(field, limit).await?),
            Some("meta") => {
                let raw = read_limited(field, MAX_META_BYTES).await?;
                meta = Some(serde_json::from_slice(&raw).map_err(|err| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_meta",
                        format!("meta is not valid JSON: {err}"),
                    )
                })?);
            }
            Some("provider_recording_id") => {
                let raw = read_limited(field, 1024).await?;
                recording_id = Some(String::from_utf8_lossy(&raw).trim().to_owned());
            }
            _ => {}
        }
    }
    let audio = audio.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_audio",
            "the form has no `audio` part",
        )
    })?;
    let accepted = ingest::accept_grouped(
        &state.commits,
        &state.storage,
        &auth.0,
        NewRecording {
            audio,
            meta,
            source: "upload".into(),
            provider_recording_id: recording_id,
        },
    )
    .await?;
    let status = if accepted.duplicate {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((
        status,
        Json(Uploaded {
            call_id: accepted.call_id,
            duplicate: accepted.duplicate,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CallView {
    pub id: String,
    pub status: String,
    pub source: String,
    pub provider_recording_id: Option<String>,
    pub audio_format: String,
    pub audio_bytes: i64,
    /// Provider metadata as received.
    #[schema(value_type = Object)]
    pub meta: serde_json::Value,
    pub failure_stage: Option<String>,
    pub failure_reason: Option<String>,
    pub failure_attempts: Option<i64>,
    /// The current result version (bumped by each re-analysis).
    pub result_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<Call> for CallView {
    fn from(call: Call) -> Self {
        CallView {
            id: call.id,
            status: call.status,
            source: call.source,
            provider_recording_id: call.provider_recording_id,
            audio_format: call.audio_format,
            audio_bytes: call.audio_bytes,
            meta: call.meta,
            failure_stage: call.failure_stage,
            failure_reason: call.failure_reason,
            failure_attempts: call.failure_attempts,
            result_version: call.result_version,
            created_at: call.created_at,
            updated_at: call.updated_at,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, IntoParams)]
pub struct ListQuery {
    /// Only calls in this state (received, transcribed, enriched, analysed, published, failed).
    pub status: Option<String>,
    /// Published calls of this agent id.
    pub agent: Option<String>,
    /// Published calls of this direction (inbound, outbound, internal, unknown).
    pub direction: Option<String>,
    /// Published calls started at or after this time (RFC 3339) or on or after this day
    /// (`YYYY-MM-DD`, UTC).
    pub from: Option<String>,
    /// Published calls started before this time (RFC 3339) or on or before this day.
    pub to: Option<String>,
    /// Published calls of this overall sentiment (POSITIVE, NEUTRAL, NEGATIVE, MIXED).
    pub sentiment: Option<String>,
    /// Published calls whose QA verdict is `pass` or `fail`.
    pub qa: Option<String>,
    /// Calls whose id, parties, agent or summary contain this text.
    pub q: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl ListQuery {
    /// The store filter; blank fields (as an HTML form sends them) are no filter.
    pub fn filter(&self) -> ApiResult<CallFilter> {
        // The list's documented code for a bad query field is `invalid_query`.
        let query_error = |mut err: ApiError| {
            err.code = "invalid_query";
            err
        };
        Ok(CallFilter {
            started_from: bound("from", given(&self.from), false).map_err(query_error)?,
            started_before: bound("to", given(&self.to), true).map_err(query_error)?,
            status: given(&self.status).map(str::to_lowercase),
            agent: given(&self.agent).map(str::to_lowercase),
            direction: given(&self.direction).map(str::to_lowercase),
            sentiment: given(&self.sentiment).map(str::to_uppercase),
            qa_passed: qa_verdict(given(&self.qa))?,
            search: given(&self.q).map(str::to_owned),
            limit: self.limit.unwrap_or(50),
            offset: self.offset.unwrap_or(0),
        })
    }
}

/// `pass` / `fail` as a QA filter.
pub fn qa_verdict(raw: Option<&str>) -> ApiResult<Option<bool>> {
    match raw.unwrap_or_default() {
        "" => Ok(None),
        "pass" => Ok(Some(true)),
        "fail" => Ok(Some(false)),
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "qa must be pass or fail",
        )),
    }
}

#[utoipa::path(get, path = "/api/v1/calls", tag = "tenant", params(ListQuery),
    responses((status = 200, body = Vec<CallView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: TenantAuth,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<CallView>>> {
    let filter = query.filter()?;
    let mut tx = state.db.read(&auth.0).await?;
    let found = calls::list(&mut tx, &filter).await?;
    tx.commit().await?;
    Ok(Json(found.into_iter().map(CallView::from).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct JobView {
    pub kind: String,
    /// ready, running, done or dead.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: CallView,
    /// The pipeline jobs of this call.
    pub jobs: Vec<JobView>,
    /// The final record (`final/v1.0`), once the call is analysed.
    #[schema(value_type = Option<Object>)]
    pub record: Option<serde_json::Value>,
}

/// The call's final record (`final/v1.0`), once it has been analysed; `None` before, or when the
/// object is missing. Read as JSON (the API) or as a typed record (the call page).
pub async fn final_record<T: serde::de::DeserializeOwned>(
    state: &AppState,
    auth: &TenantAuth,
    call: &Call,
) -> ApiResult<Option<T>> {
    let analysed = matches!(call.status.as_str(), "analysed" | "published")
        || call.failure_stage.as_deref() == Some("publish");
    if !analysed {
        return Ok(None);
    }
    let objects = state.storage.tenant(&auth.0)?;
    match objects.get(Area::Results, &final_name(&call.id)).await {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

#[utoipa::path(get, path = "/api/v1/calls/{id}", tag = "tenant",
    params(("id" = String, Path, description = "call id")),
    responses((status = 200, body = CallDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<CallDetail>> {
    let mut tx = state.db.read(&auth.0).await?;
    let call = calls::get(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("call"))?;
    let jobs = queue::for_call(&mut tx, &id).await?;
    tx.commit().await?;
    let record = final_record(&state, &auth, &call).await?;
    Ok(Json(CallDetail {
        call: call.into(),
        jobs: jobs
            .into_iter()
            .map(|job| JobView {
                kind: job.kind,
                state: job.state,
                attempts: job.attempts,
                last_error: job.last_error,
            })
            .collect(),
        record,
    }))
}

#[utoipa::path(post, path = "/api/v1/calls/{id}/retry", tag = "tenant",
    params(("id" = String, Path, description = "call id")),
    responses((status = 202, description = "the failed stage is queued again", body = CallView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "the call has not failed", body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<CallView>)> {
    auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    let call = calls::get(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("call"))?;
    let stage = call
        .failure_stage
        .as_deref()
        .and_then(Stage::from_kind)
        .filter(|_| call.status == "failed")
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "not_failed",
                format!("the call is {}, not failed", call.status),
            )
        })?;
    queue::requeue(&mut tx, stage.kind(), &id).await?;
    calls::set_status(&mut tx, &id, stage.waiting_status()).await?;
    let call = calls::get(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("call"))?;
    tx.commit().await?;
    tracing::info!(tenant.id = %auth.0.tenant(), call.id = %id, stage = stage.kind(), "failed call queued again");
    Ok((StatusCode::ACCEPTED, Json(call.into())))
}

#[derive(Deserialize, ToSchema)]
pub struct ReanalyseRequest {
    /// The calls to re-analyse; default: every published call.
    pub call_ids: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct Reanalysing {
    /// Calls queued for a new analysis (each gets a new result version; old ones are kept).
    pub queued: Vec<String>,
    /// Calls left alone: not yet analysed once, or still in the pipeline.
    pub skipped: Vec<String>,
}

const REANALYSE_MAX: i64 = 10_000;

#[utoipa::path(post, path = "/api/v1/calls/reanalyse", tag = "tenant",
    request_body = ReanalyseRequest,
    responses((status = 202, body = Reanalysing), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn reanalyse(
    State(state): State<AppState>,
    auth: TenantAuth,
    AppJson(request): AppJson<ReanalyseRequest>,
) -> ApiResult<(StatusCode, Json<Reanalysing>)> {
    auth.admin()?;
    let mut tx = state.db.write(&auth.0).await?;
    let ids = match request.call_ids {
        Some(ids) if ids.len() as i64 > REANALYSE_MAX => {
            return Err(ApiError::bad_request(format!(
                "at most {REANALYSE_MAX} calls at a time"
            )));
        }
        Some(ids) => ids,
        None => calls::ids_with_status(&mut tx, "published", REANALYSE_MAX).await?,
    };
    // A call named twice is re-analysed once.
    let mut seen = std::collections::HashSet::new();
    let ids: Vec<String> = ids
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect();
    // In a few statements per 500 calls rather than four per call (a tenant's 10,000).
    let states: std::collections::HashMap<String, (String, Option<String>)> =
        calls::states(&mut tx, &ids)
            .await?
            .into_iter()
            .map(|(id, status, failure_stage)| (id, (status, failure_stage)))
            .collect();
    let (mut queued, mut skipped) = (Vec::new(), Vec::new());
    for id in ids {
        let Some((status, failure_stage)) = states.get(&id) else {
            return Err(ApiError::not_found("call"));
        };
        let analysed_once = status == "published"
            || (status == "failed"
                && matches!(failure_stage.as_deref(), Some("analyse" | "publish")));
        if analysed_once {
            queued.push(id);
        } else {
            skipped.push(id);
        }
    }
    calls::send_back_for_new_version(&mut tx, &queued, Stage::Analyse.waiting_status()).await?;
    queue::requeue_many(&mut tx, Stage::Analyse.kind(), &queued).await?;
    tx.commit().await?;
    tracing::info!(tenant.id = %auth.0.tenant(), queued = queued.len(), "re-analysis queued");
    Ok((StatusCode::ACCEPTED, Json(Reanalysing { queued, skipped })))
}

#[utoipa::path(get, path = "/api/v1/usage", tag = "tenant",
    responses((status = 200, description = "calls, published calls, audio seconds, model tokens, bytes stored", body = Object),
        (status = 401, body = ErrorBody)))]
pub async fn usage(
    State(state): State<AppState>,
    auth: TenantAuth,
) -> ApiResult<Json<results::Usage>> {
    let mut tx = state.db.read(&auth.0).await?;
    let usage = results::usage(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(usage))
}

fn audio_mime(format: &str) -> &'static str {
    match format {
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "flac" => "audio/flac",
        "ogg" => "audio/ogg",
        _ => "application/octet-stream",
    }
}

#[utoipa::path(get, path = "/api/v1/calls/{id}/audio", tag = "tenant",
    params(("id" = String, Path, description = "call id"),
        ("range" = Option<String>, Header, description = "one byte range, e.g. `bytes=0-1023`")),
    responses(
        (status = 200, description = "the whole recording", content_type = "audio/wav"),
        (status = 206, description = "the requested range (`Content-Range`)", content_type = "audio/wav"),
        (status = 404, body = ErrorBody),
        (status = 416, description = "the range lies outside the recording", body = ErrorBody)))]
pub async fn audio(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut tx = state.db.read(&auth.0).await?;
    let call = calls::get(&mut tx, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("call"))?;
    tx.commit().await?;
    if call.audio_format == switchboard_store::ingest::NO_AUDIO {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_recording",
            "this call was handled live by the receptionist and has no recording",
        ));
    }
    let objects = state.storage.tenant(&auth.0)?;
    let name = call.audio_name();
    let size = objects.size(Area::Input, &name).await?;
    // One range is served as 206; several (rare for media players) get the whole file, which
    // RFC 9110 allows.
    let range = match headers.get(RANGE).map(|v| v.to_str().unwrap_or_default()) {
        None => None,
        Some(raw) => {
            let ranges = http_range_header::parse_range_header(raw)
                .and_then(|parsed| parsed.validate(size))
                .map_err(|_| {
                    let mut err = ApiError::new(
                        StatusCode::RANGE_NOT_SATISFIABLE,
                        "range_not_satisfiable",
                        format!("the recording has {size} bytes; ask for one range inside it"),
                    );
                    err.content_range = Some(format!("bytes */{size}"));
                    err
                })?;
            (ranges.len() == 1).then(|| ranges[0].clone())
        }
    };
    let stream = objects
        .stream(
            Area::Input,
            &name,
            range.as_ref().map(|r| *r.start()..*r.end() + 1),
        )
        .await?;
    let body = Body::from_stream(stream.map_err(std::io::Error::other));
    let mut response = Response::builder()
        .header(CONTENT_TYPE, audio_mime(&call.audio_format))
        .header(ACCEPT_RANGES, "bytes")
        .header(CACHE_CONTROL, "private, max-age=3600");
    response = match &range {
        Some(r) => response
            .status(StatusCode::PARTIAL_CONTENT)
            .header(
                CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start(), r.end()),
            )
            .header(CONTENT_LENGTH, r.end() - r.start() + 1),
        None => response.status(StatusCode::OK).header(CONTENT_LENGTH, size),
    };
    response.body(body).map_err(|_| ApiError::internal())
}
