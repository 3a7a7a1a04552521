//! Provider sync state (watermark, lease) and history of a tenant.

use sqlx::Row;

use crate::clock::now_ms;
use crate::repo::new_id;
use crate::{StoreResult, TenantTx};

/// Takes (or renews) the lease on this tenant × provider for `owner`; `false` when another node
/// holds an unexpired lease.
pub async fn acquire_lease(
    tx: &mut TenantTx,
    provider: &str,
    owner: &str,
    ttl_ms: i64,
) -> StoreResult<bool> {
    let tenant = tx.tenant().clone();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO provider_syncs (tenant_id, provider, watermark, lease_owner, lease_until, updated_at) \
         VALUES ($1, $2, NULL, NULL, 0, $3) ON CONFLICT (tenant_id, provider) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(provider)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let taken = sqlx::query(
        "UPDATE provider_syncs SET lease_owner = $1, lease_until = $2, updated_at = $3 \
         WHERE tenant_id = $4 AND provider = $5 AND (lease_until < $3 OR lease_owner = $1)",
    )
    .bind(owner)
    .bind(now + ttl_ms)
    .bind(now)
    .bind(tenant.as_str())
    .bind(provider)
    .execute(tx.conn())
    .await?;
    Ok(taken.rows_affected() == 1)
}

pub async fn release_lease(tx: &mut TenantTx, provider: &str, owner: &str) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    sqlx::query(
        "UPDATE provider_syncs SET lease_owner = NULL, lease_until = 0 \
         WHERE tenant_id = $1 AND provider = $2 AND lease_owner = $3",
    )
    .bind(tenant.as_str())
    .bind(provider)
    .bind(owner)
    .execute(tx.conn())
    .await?;
    Ok(())
}

pub async fn watermark(tx: &mut TenantTx, provider: &str) -> StoreResult<Option<String>> {
    let tenant = tx.tenant().clone();
    let row =
        sqlx::query("SELECT watermark FROM provider_syncs WHERE tenant_id = $1 AND provider = $2")
            .bind(tenant.as_str())
            .bind(provider)
            .fetch_optional(tx.conn())
            .await?;
    Ok(row
        .map(|row| row.try_get::<Option<String>, _>("watermark"))
        .transpose()?
        .flatten())
}

pub async fn set_watermark(tx: &mut TenantTx, provider: &str, watermark: &str) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    sqlx::query("UPDATE provider_syncs SET watermark = $1, updated_at = $2 WHERE tenant_id = $3 AND provider = $4")
        .bind(watermark)
        .bind(now_ms())
        .bind(tenant.as_str())
        .bind(provider)
        .execute(tx.conn())
        .await?;
    Ok(())
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct SyncRun {
    pub id: String,
    pub provider: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// Recordings newly stored.
    pub fetched: i64,
    /// Recordings already stored (duplicates in the listing or from earlier runs).
    pub skipped: i64,
    /// Recordings that failed (and will be retried by the next run).
    pub failed: i64,
    /// Why the run as a whole failed (bad credentials, provider down …).
    pub error: Option<String>,
    /// Per-recording failures: `{recording_id, reason}`, at most 50.
    pub errors: Vec<serde_json::Value>,
}

pub async fn start_run(tx: &mut TenantTx, provider: &str) -> StoreResult<SyncRun> {
    let tenant = tx.tenant().clone();
    let run = SyncRun {
        id: new_id(),
        provider: provider.to_owned(),
        started_at: now_ms(),
        ..SyncRun::default()
    };
    sqlx::query(
        "INSERT INTO sync_runs (tenant_id, id, provider, started_at, fetched, skipped, failed, errors) \
         VALUES ($1, $2, $3, $4, 0, 0, 0, '[]')",
    )
    .bind(tenant.as_str())
    .bind(&run.id)
    .bind(provider)
    .bind(run.started_at)
    .execute(tx.conn())
    .await?;
    Ok(run)
}

pub async fn finish_run(tx: &mut TenantTx, run: &SyncRun) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    sqlx::query(
        "UPDATE sync_runs SET finished_at = $1, fetched = $2, skipped = $3, failed = $4, error = $5, errors = $6 \
         WHERE tenant_id = $7 AND id = $8",
    )
    .bind(run.finished_at.unwrap_or_else(now_ms))
    .bind(run.fetched)
    .bind(run.skipped)
    .bind(run.failed)
    .bind(run.error.as_deref())
    .bind(serde_json::Value::Array(run.errors.clone()).to_string())
    .bind(tenant.as_str())
    .bind(&run.id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The tenant's runs for a provider, newest first.
pub async fn runs(tx: &mut TenantTx, provider: &str, limit: i64) -> StoreResult<Vec<SyncRun>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(
        "SELECT id, provider, started_at, finished_at, fetched, skipped, failed, error, errors FROM sync_runs \
         WHERE tenant_id = $1 AND provider = $2 ORDER BY started_at DESC, id LIMIT $3",
    )
    .bind(tenant.as_str())
    .bind(provider)
    .bind(limit.clamp(1, 500))
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            let errors: String = row.try_get("errors")?;
            Ok(SyncRun {
                id: row.try_get("id")?,
                provider: row.try_get("provider")?,
                started_at: row.try_get("started_at")?,
                finished_at: row.try_get("finished_at")?,
                fetched: row.try_get("fetched")?,
                skipped: row.try_get("skipped")?,
                failed: row.try_get("failed")?,
                error: row.try_get("error")?,
                errors: serde_json::from_str(&errors).unwrap_or_default(),
            })
        })
        .collect()
}
