//! Calls: upload a recording (multipart), list, and read one.

use axum::Json;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};
use switchboard_store::ingest::{self, NewRecording};
use switchboard_store::repo::calls::{self, Call, CallFilter};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::TenantAuth;
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
    let accepted = ingest::accept(
        &state.db,
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
            created_at: call.created_at,
            updated_at: call.updated_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only calls in this state.
    pub status: Option<String>,
    /// 1–500, default 50.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/calls", tag = "tenant", params(ListQuery),
    responses((status = 200, body = Vec<CallView>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: TenantAuth,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<CallView>>> {
    let filter = CallFilter {
        status: query.status,
        limit: query.limit.unwrap_or(50),
        offset: query.offset.unwrap_or(0),
    };
    let mut tx = state.db.read(&auth.0).await?;
    let found = calls::list(&mut tx, &filter).await?;
    tx.commit().await?;
    Ok(Json(found.into_iter().map(CallView::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/calls/{id}", tag = "tenant",
    params(("id" = String, Path, description = "call id")),
    responses((status = 200, body = CallView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: TenantAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<CallView>> {
    let mut tx = state.db.read(&auth.0).await?;
    let call = calls::get(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(Json(
        call.ok_or_else(|| ApiError::not_found("call"))?.into(),
    ))
}
