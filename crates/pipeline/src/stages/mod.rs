//! The four stages. Each reads its input artifact, writes its output artifact (overwriting
//! is harmless: same input, same output), then in one tenant transaction moves the call's
//! state, queues the next stage and ends its own job — or writes nothing if its lease was lost.
//! That transaction may be shared with other stages of the tenant ending at the same moment
//! (`store::group_commit`).

mod analyse;
mod enrich;
mod publish;
mod transcribe;

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use switchboard_core::Area;
use switchboard_store::group_commit::TxWork;
use switchboard_store::queue::{self, ClaimedJob};
use switchboard_store::repo::calls::{self, Call};
use switchboard_store::repo::results::{self, CallResultRow, QaResultRow};
use switchboard_store::{StoreError, StoreResult, TenantObjects, TenantScope, TenantTx};

use crate::config::{AiConfig, QaConfig};
use crate::stage::Stage;
use crate::worker::Pipeline;

/// Why a stage did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageError {
    /// Shown on the call; never holds a secret.
    pub reason: String,
    /// No retry can fix it (corrupt audio, an invalid rubric): the call fails at once.
    pub permanent: bool,
}

impl StageError {
    pub fn retry(reason: impl Into<String>) -> StageError {
        StageError {
            reason: reason.into(),
            permanent: false,
        }
    }

    pub fn permanent(reason: impl Into<String>) -> StageError {
        StageError {
            reason: reason.into(),
            permanent: true,
        }
    }
}

impl From<StoreError> for StageError {
    fn from(err: StoreError) -> Self {
        StageError::retry(format!("storage: {err}"))
    }
}

pub(crate) async fn run(
    pipeline: &Pipeline,
    job: &ClaimedJob,
    stage: Stage,
) -> Result<(), StageError> {
    match stage {
        Stage::Transcribe => transcribe::run(pipeline, job).await,
        Stage::Enrich => enrich::run(pipeline, job).await,
        Stage::Analyse => analyse::run(pipeline, job).await,
        Stage::Publish => publish::run(pipeline, job).await,
    }
}

/// Artifact names in the tenant's results area (SPEC §3).
pub fn raw_name(call_id: &str) -> String {
    format!("raw/{call_id}.json")
}

pub fn enriched_name(call_id: &str) -> String {
    format!("enriched/{call_id}.json")
}

pub fn final_name(call_id: &str) -> String {
    format!("final/v1.0/{call_id}.json")
}

/// Every result version stays here; `final_name` holds the current one.
pub fn final_version_name(call_id: &str, version: i64) -> String {
    format!("final/v1.0-history/{call_id}/{version}.json")
}

/// The call's flat call row; `extension` is `csv` or `parquet`.
pub fn flat_call_name(call_id: &str, extension: &str) -> String {
    format!("final/v2.0-flat/calls/{call_id}.{extension}")
}

/// The call's flat QA rows; `extension` is `csv` or `parquet`.
pub fn flat_qa_name(call_id: &str, extension: &str) -> String {
    format!("final/v2.0-flat/qa/{call_id}.{extension}")
}

pub(crate) async fn load_call(pipeline: &Pipeline, job: &ClaimedJob) -> Result<Call, StageError> {
    let mut tx = pipeline.db.read(&job.scope).await?;
    let call = calls::get(&mut tx, &job.call_id).await?;
    tx.commit().await?;
    call.ok_or_else(|| StageError::permanent("the call no longer exists"))
}

pub(crate) async fn read_json<T: DeserializeOwned>(
    objects: &TenantObjects,
    name: &str,
) -> Result<T, StageError> {
    let bytes = objects
        .get(Area::Results, name)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => StageError::retry(format!("{name} is missing")),
            other => other.into(),
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| StageError::permanent(format!("{name} is not a valid artifact: {e}")))
}

pub(crate) async fn write_json<T: Serialize>(
    objects: &TenantObjects,
    name: &str,
    value: &T,
) -> Result<(), StageError> {
    objects
        .put(Area::Results, name, json_bytes(name, value)?)
        .await?;
    Ok(())
}

/// `value` as the pretty-printed JSON of the artifact `name`.
pub(crate) fn json_bytes<T: Serialize>(name: &str, value: &T) -> Result<Bytes, StageError> {
    serde_json::to_vec_pretty(value)
        .map(Bytes::from)
        .map_err(|e| StageError::permanent(format!("could not encode {name}: {e}")))
}

/// Writes `files` into the tenant's results area side by side rather than one after another:
/// each put mostly waits (on its `fsync` on local storage, on a round trip on S3), so the
/// waits overlap. Each put is whole or absent, and a stage that fails here is retried and
/// writes them all again.
pub(crate) async fn put_all(
    objects: &TenantObjects,
    files: Vec<(String, Bytes)>,
) -> Result<(), StageError> {
    futures::future::try_join_all(
        files
            .iter()
            .map(|(name, bytes)| objects.put(Area::Results, name, bytes.clone())),
    )
    .await?;
    Ok(())
}

/// The tenant's configuration documents; the onboarding defaults when one is missing.
pub(crate) async fn ai_config(objects: &TenantObjects) -> Result<AiConfig, StageError> {
    let bytes = config_bytes(
        objects,
        "ai-config.json",
        switchboard_store::onboarding::DEFAULT_AI_CONFIG,
    )
    .await?;
    AiConfig::parse(&bytes)
        .map_err(|p| StageError::permanent(format!("ai-config.json is invalid: {p}")))
}

pub(crate) async fn qa_config(objects: &TenantObjects) -> Result<QaConfig, StageError> {
    let bytes = config_bytes(
        objects,
        "qa-config.json",
        switchboard_store::onboarding::DEFAULT_QA_CONFIG,
    )
    .await?;
    QaConfig::parse(&bytes)
        .map_err(|p| StageError::permanent(format!("qa-config.json is invalid: {p}")))
}

async fn config_bytes(
    objects: &TenantObjects,
    name: &str,
    default: &'static str,
) -> Result<Bytes, StageError> {
    match objects.get(Area::Config, name).await {
        Ok(bytes) => Ok(bytes),
        Err(StoreError::NotFound(_)) => Ok(Bytes::from_static(default.as_bytes())),
        Err(other) => Err(other.into()),
    }
}

/// Runs blocking engine work off the async threads; a panic becomes a retryable failure.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StageError> + Send + 'static,
) -> Result<T, StageError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|_| Err(StageError::retry("the engine stopped unexpectedly")))
}

/// Ends the stage: the call's new state, the next stage's job, this job done — one transaction,
/// shared with the other jobs of the tenant ending at the same moment
/// ([`GroupCommit`](switchboard_store::group_commit::GroupCommit)).
/// `Ok(false)`: the lease was lost to another worker, and nothing was changed.
pub(crate) async fn finish(
    pipeline: &Pipeline,
    job: &ClaimedJob,
    stage: Stage,
    published: Option<(CallResultRow, Vec<QaResultRow>)>,
) -> Result<bool, StageError> {
    let end = StageEnd {
        job: job.clone(),
        stage,
        published,
    };
    Ok(pipeline.ends.commit(Arc::new(end)).await?)
}

/// The writes that end a stage's job.
struct StageEnd {
    job: ClaimedJob,
    stage: Stage,
    published: Option<(CallResultRow, Vec<QaResultRow>)>,
}

impl TxWork for StageEnd {
    fn scope(&self) -> &TenantScope {
        &self.job.scope
    }

    fn apply<'a>(&'a self, tx: &'a mut TenantTx) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            // First, so that a lost lease writes nothing (the contract of `TxWork`).
            if !queue::complete_in(tx, &self.job).await? {
                return Ok(false);
            }
            if let Some((row, qa)) = &self.published {
                results::replace(tx, row, qa).await?;
            }
            let call_id = &self.job.call_id;
            calls::set_status(tx, call_id, self.stage.done_status()).await?;
            if let Some(next) = self.stage.next() {
                queue::requeue(tx, next.kind(), call_id).await?;
            }
            Ok(true)
        })
    }
}
