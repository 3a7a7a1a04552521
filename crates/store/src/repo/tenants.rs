//! The tenant registry. Platform-owned: it has no `tenant_id` column and no row-level security;
//! the tenant's own data lives in the tenant tables.

use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::TenantId;

use crate::clock::now_ms;
use crate::objects::StorageMode;
use crate::{PlatformTx, StoreError, StoreResult, TenantTx};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatus {
    Active,
    Suspended,
    Deleting,
}

impl TenantStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TenantStatus::Active => "active",
            TenantStatus::Suspended => "suspended",
            TenantStatus::Deleting => "deleting",
        }
    }

    fn parse(raw: &str) -> StoreResult<Self> {
        match raw {
            "active" => Ok(TenantStatus::Active),
            "suspended" => Ok(TenantStatus::Suspended),
            "deleting" => Ok(TenantStatus::Deleting),
            other => Err(StoreError::Invalid(format!(
                "unknown tenant status {other:?}"
            ))),
        }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub status: TenantStatus,
    pub industry_template: Option<String>,
    pub plan: String,
    pub storage_mode: StorageMode,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug)]
pub struct NewTenant {
    pub id: TenantId,
    pub name: String,
    pub industry_template: Option<String>,
    pub plan: String,
    pub storage_mode: StorageMode,
}

const SELECT_BY_ID: &str = "SELECT id, name, status, industry_template, plan, storage_mode, \
     created_at, updated_at FROM tenants WHERE id = $1";

fn from_row(row: &AnyRow) -> StoreResult<Tenant> {
    let id: String = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let storage_mode: String = row.try_get("storage_mode")?;
    Ok(Tenant {
        id: TenantId::parse(&id).map_err(|e| StoreError::Invalid(e.to_string()))?,
        name: row.try_get("name")?,
        status: TenantStatus::parse(&status)?,
        industry_template: row.try_get("industry_template")?,
        plan: row.try_get("plan")?,
        storage_mode: StorageMode::parse(&storage_mode)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Inserts a tenant row. Takes a raw connection because onboarding inserts the tenant and its
/// first admin in one transaction that is already scoped to the new tenant.
pub(crate) async fn insert(conn: &mut AnyConnection, new: &NewTenant) -> StoreResult<Tenant> {
    let now = now_ms();
    let result = sqlx::query(
        "INSERT INTO tenants (id, name, status, industry_template, plan, storage_mode, created_at, updated_at) \
         VALUES ($1, $2, 'active', $3, $4, $5, $6, $6)",
    )
    .bind(new.id.as_str())
    .bind(&new.name)
    .bind(new.industry_template.as_deref())
    .bind(&new.plan)
    .bind(new.storage_mode.as_str())
    .bind(now)
    .execute(conn)
    .await;
    match result {
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(StoreError::Conflict(format!(
                "tenant {} already exists",
                new.id
            )));
        }
        other => other?,
    };
    Ok(Tenant {
        id: new.id.clone(),
        name: new.name.clone(),
        status: TenantStatus::Active,
        industry_template: new.industry_template.clone(),
        plan: new.plan.clone(),
        storage_mode: new.storage_mode,
        created_at: now,
        updated_at: now,
    })
}

pub async fn get(tx: &mut PlatformTx, id: &TenantId) -> StoreResult<Option<Tenant>> {
    get_with(tx.conn(), id).await
}

/// The registry row, read on whatever transaction the caller holds (credential checks read it
/// inside the tenant's own transaction, so one request never holds two pooled connections).
pub(crate) async fn get_with(
    conn: &mut AnyConnection,
    id: &TenantId,
) -> StoreResult<Option<Tenant>> {
    let row = sqlx::query(SELECT_BY_ID)
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The scope's own tenant record.
pub async fn get_own(tx: &mut TenantTx) -> StoreResult<Tenant> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(SELECT_BY_ID)
        .bind(tenant.as_str())
        .fetch_optional(tx.conn())
        .await?;
    row.as_ref()
        .map(from_row)
        .transpose()?
        .ok_or(StoreError::NotFound("tenant"))
}

pub async fn list(tx: &mut PlatformTx) -> StoreResult<Vec<Tenant>> {
    let rows = sqlx::query(
        "SELECT id, name, status, industry_template, plan, storage_mode, created_at, updated_at \
         FROM tenants ORDER BY id",
    )
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn set_status(
    tx: &mut PlatformTx,
    id: &TenantId,
    status: TenantStatus,
) -> StoreResult<()> {
    let done = sqlx::query("UPDATE tenants SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(now_ms())
        .bind(id.as_str())
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("tenant"));
    }
    Ok(())
}
