//! Running a provider sync for one tenant, or for every tenant that stored credentials for it.
//! A tenant's failure (bad credentials, provider down, malformed data) is recorded in its own
//! sync history and never stops another tenant.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use switchboard_core::TenantId;
use switchboard_store::ingest::{self, NewRecording};
use switchboard_store::repo::secrets;
use switchboard_store::repo::syncs::{self, SyncRun};
use switchboard_store::scope::service_scopes;
use switchboard_store::secrets::Keyring;
use switchboard_store::{Db, PlatformAdmin, Storage, StoreError, StoreResult, TenantScope};

use crate::oak::{OakClient, OakError};

const MAX_RECORDED_ERRORS: usize = 50;
const PARALLEL_TENANTS: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// The ClarifyGo/Oak-style REST provider (`oak.rs`).
    Oak,
    /// Recordings a tenant's own system drops into its input prefix (`bucket_drop.rs`).
    BucketDrop,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Oak, Provider::BucketDrop];

    pub fn parse(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Also the name of the tenant's secret-store entry, for providers that need one.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Oak => "oak",
            Provider::BucketDrop => "bucket-drop",
        }
    }

    /// The credential a tenant must have stored to be synced, if any.
    fn credential(self) -> Option<&'static str> {
        match self {
            Provider::Oak => Some("oak"),
            Provider::BucketDrop => None,
        }
    }
}

#[derive(Clone)]
pub struct SyncContext {
    pub db: Db,
    pub storage: Storage,
    pub keyring: Arc<Keyring>,
    /// This process's name in leases.
    pub node: String,
    pub lease_ms: i64,
    pub request_timeout: Duration,
}

/// A per-process lease owner name.
pub fn node_id() -> String {
    static NODE: OnceLock<String> = OnceLock::new();
    NODE.get_or_init(|| {
        use rand::Rng;
        format!(
            "node-{}-{:08x}",
            std::process::id(),
            rand::rng().random::<u32>()
        )
    })
    .clone()
}

impl SyncContext {
    pub fn new(db: Db, storage: Storage, keyring: Arc<Keyring>) -> SyncContext {
        SyncContext {
            db,
            storage,
            keyring,
            node: node_id(),
            lease_ms: 30 * 60 * 1000,
            request_timeout: Duration::from_secs(20),
        }
    }
}

pub(crate) fn note(run: &mut SyncRun, recording_id: Option<&str>, reason: String) {
    run.failed += 1;
    if run.errors.len() < MAX_RECORDED_ERRORS {
        run.errors
            .push(serde_json::json!({ "recording_id": recording_id, "reason": reason }));
    }
}

/// Syncs one tenant now. Returns the recorded run; a run skipped because another node holds the
/// lease is returned with an error and not recorded.
pub async fn sync_tenant(
    ctx: &SyncContext,
    scope: &TenantScope,
    provider: Provider,
) -> StoreResult<SyncRun> {
    let name = provider.name();
    let mut tx = ctx.db.write(scope).await?;
    if !syncs::acquire_lease(&mut tx, name, &ctx.node, ctx.lease_ms).await? {
        tx.commit().await?;
        return Ok(SyncRun {
            provider: name.to_owned(),
            error: Some("another node is syncing this tenant".into()),
            ..SyncRun::default()
        });
    }
    let mut run = syncs::start_run(&mut tx, name).await?;
    tx.commit().await?;

    let outcome = match provider {
        Provider::Oak => sync_oak(ctx, scope, &mut run).await,
        Provider::BucketDrop => crate::bucket_drop::sync(ctx, scope, &mut run).await,
    };
    if let Err(err) = outcome {
        tracing::warn!(tenant.id = %scope.tenant(), provider = name, error = %err, "sync failed");
        run.error = Some(err);
    }
    run.finished_at = Some(switchboard_store::clock::now_ms());
    let mut tx = ctx.db.write(scope).await?;
    syncs::finish_run(&mut tx, &run).await?;
    syncs::release_lease(&mut tx, name, &ctx.node).await?;
    tx.commit().await?;
    tracing::info!(tenant.id = %scope.tenant(), provider = name, fetched = run.fetched, skipped = run.skipped, failed = run.failed, "sync finished");
    Ok(run)
}

/// Whether a failed recording is worth retrying (the watermark waits for it) or never will work.
fn is_permanent(err: &StoreError) -> bool {
    matches!(err, StoreError::Unsupported(_) | StoreError::Invalid(_))
}

async fn sync_oak(ctx: &SyncContext, scope: &TenantScope, run: &mut SyncRun) -> Result<(), String> {
    let name = Provider::Oak.name();
    let mut tx = ctx.db.read(scope).await.map_err(|e| e.to_string())?;
    let fields = secrets::read(&mut tx, &ctx.keyring, name)
        .await
        .map_err(|e| e.to_string())?;
    let since = syncs::watermark(&mut tx, name)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    let fields = fields.ok_or("no credentials are stored for this provider")?;
    let mut client = OakClient::new(&fields)
        .map_err(|e| e.to_string())?
        .with_timeout(ctx.request_timeout);

    let mut seen = HashSet::new();
    let mut stored_max: Option<String> = None;
    let mut retry_from: Option<String> = None;
    let mut page = 1;
    loop {
        let listing = client
            .list(since.as_deref(), page)
            .await
            .map_err(|e: OakError| e.to_string())?;
        for bad in listing.malformed {
            note(run, bad.id.as_deref(), bad.reason);
        }
        for recording in listing.recordings {
            if !seen.insert(recording.id.clone()) {
                run.skipped += 1;
                continue;
            }
            let audio = match client.download(&recording.id).await {
                Ok(audio) => audio,
                Err(err) => {
                    note(run, Some(&recording.id), err.to_string());
                    if retry_from
                        .as_ref()
                        .is_none_or(|r| recording.started_at < *r)
                    {
                        retry_from = Some(recording.started_at.clone());
                    }
                    continue;
                }
            };
            let accepted = ingest::accept(
                &ctx.db,
                &ctx.storage,
                scope,
                NewRecording {
                    audio,
                    meta: Some(recording.meta.clone()),
                    source: format!("provider:{name}"),
                    provider_recording_id: Some(recording.id.clone()),
                },
            )
            .await;
            match accepted {
                Ok(accepted) if accepted.duplicate => run.skipped += 1,
                Ok(_) => run.fetched += 1,
                Err(err) => {
                    note(run, Some(&recording.id), err.to_string());
                    if !is_permanent(&err)
                        && retry_from
                            .as_ref()
                            .is_none_or(|r| recording.started_at < *r)
                    {
                        retry_from = Some(recording.started_at.clone());
                    }
                    if !is_permanent(&err) {
                        continue;
                    }
                }
            }
            if stored_max
                .as_ref()
                .is_none_or(|m| recording.started_at > *m)
            {
                stored_max = Some(recording.started_at.clone());
            }
        }
        match listing.next_page {
            Some(next) if next > page => page = next,
            _ => break,
        }
    }
    // The watermark moves only over recordings that are durably stored (or can never be), and
    // stops at the first one that should be retried.
    let next = match (retry_from, stored_max) {
        (Some(retry), _) => Some(retry),
        (None, Some(max)) => Some(max),
        (None, None) => None,
    };
    if let Some(next) = next.filter(|n| since.as_ref().is_none_or(|s| n > s)) {
        let mut tx = ctx.db.write(scope).await.map_err(|e| e.to_string())?;
        syncs::set_watermark(&mut tx, name, &next)
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Syncs every tenant that stored credentials for `provider` (or only `only`), a few at a time.
pub async fn sync_provider(
    ctx: &SyncContext,
    admin: &PlatformAdmin,
    provider: Provider,
    only: Option<&TenantId>,
) -> StoreResult<Vec<(TenantId, SyncRun)>> {
    let service = format!("ingest:{}", provider.name());
    let scopes = service_scopes(&ctx.db, admin, &service, provider.credential()).await?;
    let scopes: Vec<TenantScope> = scopes
        .into_iter()
        .filter(|scope| only.is_none_or(|t| scope.tenant() == t))
        .collect();
    let results = futures::stream::iter(scopes)
        .map(|scope| async move {
            let run = match sync_tenant(ctx, &scope, provider).await {
                Ok(run) => run,
                Err(err) => SyncRun {
                    provider: provider.name().to_owned(),
                    error: Some(err.to_string()),
                    ..SyncRun::default()
                },
            };
            (scope.tenant().clone(), run)
        })
        .buffer_unordered(PARALLEL_TENANTS)
        .collect::<Vec<_>>()
        .await;
    Ok(results)
}
