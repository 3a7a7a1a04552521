//! Accepting a recording (SPEC §4.1): the audio and metadata are durably in object storage, and
//! the call row exists, before the caller hears "accepted". A second copy of the same recording
//! (same provider recording id, or the same bytes) returns the existing call.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use sha2::{Digest, Sha256};
use switchboard_core::call_meta::with_normalised_fields;
use switchboard_core::{Area, AudioFormat};

use crate::clock::now_ms;
use crate::group_commit::{GroupCommit, TxWork};
use crate::queue;
use crate::repo::calls::{self, Call};
use crate::repo::new_id;
use crate::scope::TenantScope;
use crate::{Db, Storage, StoreError, StoreResult, TenantTx};

/// The pipeline's first job kind, queued with every new call (see the pipeline crate).
pub const FIRST_JOB: &str = "transcribe";
/// The job that processes a live call into caller memory (see the pipeline crate).
pub const REMEMBER_JOB: &str = "remember";
/// `audio_format` of a live call: the receptionist's turns are its transcript, there is no
/// recording.
pub const NO_AUDIO: &str = "none";

#[derive(Clone, Debug)]
pub struct NewRecording {
    pub audio: Bytes,
    /// Provider metadata; must be a JSON object when present.
    pub meta: Option<serde_json::Value>,
    /// `upload`, `import`, `provider:<name>`.
    pub source: String,
    pub provider_recording_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub call_id: String,
    /// The recording was already there; nothing new was created.
    pub duplicate: bool,
}

/// A new call row in state `received`, result version 1, with a fresh id; the caller sets the
/// recording's fields.
fn received(source: String, content_sha256: String, meta: serde_json::Value, now: i64) -> Call {
    Call {
        id: new_id(),
        source,
        provider_recording_id: None,
        content_sha256,
        audio_format: String::new(),
        audio_bytes: 0,
        meta,
        status: "received".into(),
        failure_stage: None,
        failure_reason: None,
        failure_attempts: None,
        result_version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// A new call's row and its first job, committed together: a call is never left without its
/// job. A work for a [`GroupCommit`], so recordings accepted at the same moment share a
/// transaction (ADR 0005, revised).
struct NewCall {
    scope: TenantScope,
    call: Call,
}

impl TxWork for NewCall {
    fn scope(&self) -> &TenantScope {
        &self.scope
    }

    fn apply<'a>(&'a self, tx: &'a mut TenantTx) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            calls::insert(tx, &self.call).await?;
            queue::enqueue(tx, FIRST_JOB, &self.call.id).await?;
            Ok(true)
        })
    }
}

/// [`accept_grouped`] with its call row committed in a transaction of its own (one recording at
/// a time: imports, provider syncs, bucket drops).
pub async fn accept(
    db: &Db,
    storage: &Storage,
    scope: &TenantScope,
    recording: NewRecording,
) -> StoreResult<Accepted> {
    let alone = GroupCommit::with_batches_in_flight(db.clone(), 0);
    accept_grouped(&alone, storage, scope, recording).await
}

/// Accepts a recording; its call row and first job commit through `commits`, in one transaction
/// with other recordings of the tenant accepted at the same moment (concurrent uploads).
pub async fn accept_grouped(
    commits: &GroupCommit,
    storage: &Storage,
    scope: &TenantScope,
    recording: NewRecording,
) -> StoreResult<Accepted> {
    let db = commits.db();
    if recording.audio.is_empty() {
        return Err(StoreError::Invalid("the audio is empty".into()));
    }
    let format = AudioFormat::sniff(&recording.audio)
        .ok_or_else(|| StoreError::Unsupported("the audio is not WAV, MP3, FLAC or Ogg".into()))?;
    let meta = match recording.meta {
        None => serde_json::Map::new(),
        Some(serde_json::Value::Object(meta)) => meta,
        Some(_) => {
            return Err(StoreError::Invalid(
                "the metadata must be a JSON object".into(),
            ));
        }
    };
    // Stored as received, plus a `normalised` object with the SPEC field names.
    let meta = serde_json::Value::Object(with_normalised_fields(meta));
    let provider_recording_id = recording
        .provider_recording_id
        .or_else(|| {
            meta.get("recording_id")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .filter(|id| !id.is_empty());
    if provider_recording_id
        .as_ref()
        .is_some_and(|id| id.len() > 200)
    {
        return Err(StoreError::Invalid(
            "a provider recording id has at most 200 characters".into(),
        ));
    }
    let sha = hex::encode(Sha256::digest(&recording.audio));

    let mut tx = db.read(scope).await?;
    let existing = calls::find_duplicate(&mut tx, provider_recording_id.as_deref(), &sha).await?;
    tx.commit().await?;
    if let Some(call_id) = existing {
        return Ok(Accepted {
            call_id,
            duplicate: true,
        });
    }

    let now = now_ms();
    let call = Call {
        provider_recording_id,
        audio_format: format.extension().to_owned(),
        audio_bytes: recording.audio.len() as i64,
        ..received(recording.source, sha, meta, now)
    };
    // Objects first: a row never points at audio that is not there.
    let objects = storage.tenant(scope)?;
    objects
        .put(Area::Input, &call.audio_name(), recording.audio)
        .await?;
    let meta_bytes = serde_json::to_vec_pretty(&call.meta).unwrap_or_default();
    objects
        .put(Area::Input, &call.meta_name(), Bytes::from(meta_bytes))
        .await?;

    let work = Arc::new(NewCall {
        scope: scope.clone(),
        call,
    });
    match commits.commit(work.clone()).await {
        Ok(_) => {
            let call = &work.call;
            tracing::info!(tenant.id = %scope.tenant(), call.id = %call.id, audio_bytes = call.audio_bytes, "recording accepted");
            Ok(Accepted {
                call_id: call.id.clone(),
                duplicate: false,
            })
        }
        // A concurrent copy won the race: keep its call, drop our objects.
        Err(StoreError::Conflict(_)) => {
            let call = &work.call;
            objects.delete(Area::Input, &call.audio_name()).await?;
            objects.delete(Area::Input, &call.meta_name()).await?;
            let mut tx = db.read(scope).await?;
            let winner = calls::find_duplicate(
                &mut tx,
                call.provider_recording_id.as_deref(),
                &call.content_sha256,
            )
            .await?
            .ok_or(StoreError::Conflict(
                "the recording conflicts with another call".into(),
            ))?;
            tx.commit().await?;
            Ok(Accepted {
                call_id: winner,
                duplicate: true,
            })
        }
        Err(err) => Err(err),
    }
}

/// Hands a finished live receptionist call to the pipeline (SPEC §6): a call row with source
/// `live`, the CallSid as its provider recording id, no audio, and its first job and its memory
/// job — in the caller's transaction (the one that recorded the final status), so the hand-off
/// is never lost and never doubled. Returns the call id (the existing one for a CallSid handed
/// off before).
pub async fn accept_live(
    tx: &mut crate::TenantTx,
    call_sid: &str,
    meta: serde_json::Map<String, serde_json::Value>,
) -> StoreResult<String> {
    if let Some(existing) = calls::find_by_recording_id(tx, call_sid).await? {
        return Ok(existing);
    }
    let now = now_ms();
    let call = Call {
        provider_recording_id: Some(call_sid.to_owned()),
        audio_format: NO_AUDIO.into(),
        audio_bytes: 0,
        ..received(
            "live".into(),
            hex::encode(Sha256::digest(format!("live:{call_sid}").as_bytes())),
            serde_json::Value::Object(with_normalised_fields(meta)),
            now,
        )
    };
    calls::insert(tx, &call).await?;
    queue::enqueue(tx, FIRST_JOB, &call.id).await?;
    queue::enqueue(tx, REMEMBER_JOB, &call.id).await?;
    tracing::info!(tenant.id = %tx.tenant(), call.id = %call.id, call_sid, "live call handed to the pipeline");
    Ok(call.id)
}
