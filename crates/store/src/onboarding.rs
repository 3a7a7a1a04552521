//! Onboarding and offboarding a tenant: platform operations, each one call.

use std::collections::BTreeMap;

use bytes::Bytes;
use switchboard_core::{Area, Role, TenantId};

use crate::db::TENANT_TABLES;
use crate::objects::StorageMode;
use crate::repo::tenants::{self, NewTenant, Tenant, TenantStatus};
use crate::repo::users::{self, User};
use crate::scope::PlatformAdmin;
use crate::{Db, Storage, StoreError, StoreResult};

/// The default `ai-config.json` of a new tenant (SPEC §4.4).
pub const DEFAULT_AI_CONFIG: &str = r#"{
  "version": 1,
  "language": "en",
  "summary_instructions": "Summarise the call in three sentences: why the customer called, what was done, and how it ended.",
  "next_steps_instructions": "List the concrete follow-up actions the agent or the customer committed to.",
  "model": { "engine": "embedded" }
}
"#;

/// The default `qa-config.json` of a new tenant: a small, generic rubric.
pub const DEFAULT_QA_CONFIG: &str = r#"{
  "version": 1,
  "pass": { "mode": "all_required" },
  "rules": [
    { "id": "greeting", "name": "Agent greets the customer", "required": true, "weight": 1,
      "kind": "phrase", "speaker": "agent", "within_seconds": 30,
      "phrases": ["thank you for calling", "good morning", "good afternoon", "hello", "hi"] },
    { "id": "closing", "name": "Agent closes politely", "required": false, "weight": 1,
      "kind": "phrase", "speaker": "agent", "in_last_seconds": 60,
      "phrases": ["anything else", "have a great day", "thank you for calling", "goodbye"] }
  ]
}
"#;

#[derive(Clone, Debug)]
pub struct OnboardRequest {
    pub id: TenantId,
    pub name: String,
    pub industry_template: Option<String>,
    pub plan: Option<String>,
    /// `None`: the platform default (`PER_TENANT_BUCKETS`).
    pub dedicated_storage: Option<bool>,
    pub admin_email: String,
    pub admin_password: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Onboarded {
    pub tenant: Tenant,
    pub admin: User,
}

/// Creates the tenant row, its first admin, its storage (prefixes or bucket) and its default
/// configuration documents. Everything in the database commits together, after storage is ready.
pub async fn onboard(
    db: &Db,
    storage: &Storage,
    _by: &PlatformAdmin,
    request: OnboardRequest,
) -> StoreResult<Onboarded> {
    let name = request.name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(StoreError::Invalid(
            "a tenant name has 1 to 200 characters".into(),
        ));
    }
    let storage_mode = match request.dedicated_storage {
        Some(true) => StorageMode::Dedicated,
        Some(false) => StorageMode::Shared,
        None => storage.default_mode(),
    };
    let new = NewTenant {
        id: request.id.clone(),
        name: name.to_owned(),
        industry_template: request.industry_template.clone(),
        plan: request.plan.clone().unwrap_or_else(|| "standard".into()),
        storage_mode,
    };
    let objects = storage.for_tenant(&new.id, storage_mode)?;

    let mut tx = db.tenant_tx(&new.id, true).await?;
    let tenant = tenants::insert(tx.conn(), &new).await?;
    let admin = users::insert(
        &mut tx,
        &request.admin_email,
        Role::Admin,
        &request.admin_password,
    )
    .await?;
    if storage_mode == StorageMode::Dedicated {
        storage.create_dedicated_bucket(&new.id).await?;
    }
    objects
        .put(
            Area::Config,
            "ai-config.json",
            Bytes::from_static(DEFAULT_AI_CONFIG.as_bytes()),
        )
        .await?;
    objects
        .put(
            Area::Config,
            "qa-config.json",
            Bytes::from_static(DEFAULT_QA_CONFIG.as_bytes()),
        )
        .await?;
    tx.commit().await?;
    tracing::info!(tenant.id = %tenant.id, storage.mode = storage_mode.as_str(), "tenant onboarded");
    Ok(Onboarded { tenant, admin })
}

/// What a purge removed.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PurgeReport {
    /// Rows deleted per table, the tenant registry row included.
    pub rows: BTreeMap<String, u64>,
    pub objects: u64,
}

/// Deletes a tenant: marks it `deleting` (its credentials stop working at once), deletes every
/// object (and its dedicated bucket), then every row of every tenant table and the registry row.
/// Re-running it after a crash finishes the job.
pub async fn delete_tenant(
    db: &Db,
    storage: &Storage,
    _by: &PlatformAdmin,
    id: &TenantId,
) -> StoreResult<PurgeReport> {
    let mut registry = db.registry_tx(true).await?;
    let tenant = tenants::get(&mut registry, id)
        .await?
        .ok_or(StoreError::NotFound("tenant"))?;
    tenants::set_status(&mut registry, id, TenantStatus::Deleting).await?;
    registry.commit().await?;

    let mut report = PurgeReport {
        objects: storage.purge_tenant(id, tenant.storage_mode).await?,
        ..PurgeReport::default()
    };
    let mut tx = db.tenant_tx(id, true).await?;
    for table in TENANT_TABLES {
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE tenant_id = $1"
        )))
        .bind(id.as_str())
        .execute(tx.conn())
        .await?;
        report
            .rows
            .insert((*table).to_owned(), done.rows_affected());
    }
    let numbers = crate::repo::phone_numbers::delete_all(tx.conn(), id).await?;
    report.rows.insert("phone_numbers".into(), numbers);
    let removed = sqlx::query("DELETE FROM tenants WHERE id = $1")
        .bind(id.as_str())
        .execute(tx.conn())
        .await?;
    report
        .rows
        .insert("tenants".into(), removed.rows_affected());
    tx.commit().await?;
    tracing::info!(tenant.id = %id, objects = report.objects, "tenant deleted");
    Ok(report)
}

/// Suspends or reactivates a tenant.
pub async fn set_active(
    db: &Db,
    admin: &PlatformAdmin,
    id: &TenantId,
    active: bool,
) -> StoreResult<Tenant> {
    let mut tx = db.platform(admin).await?;
    let status = if active {
        TenantStatus::Active
    } else {
        TenantStatus::Suspended
    };
    let current = tenants::get(&mut tx, id)
        .await?
        .ok_or(StoreError::NotFound("tenant"))?;
    if current.status == TenantStatus::Deleting {
        return Err(StoreError::Conflict("the tenant is being deleted".into()));
    }
    tenants::set_status(&mut tx, id, status).await?;
    let tenant = tenants::get(&mut tx, id)
        .await?
        .ok_or(StoreError::NotFound("tenant"))?;
    tx.commit().await?;
    Ok(tenant)
}
