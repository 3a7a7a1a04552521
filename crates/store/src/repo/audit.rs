//! The audit log of a tenant: every platform-admin access to the tenant's data, and the tenant's
//! own security-relevant changes. Tenants read their own log.

use sqlx::Row;

use crate::clock::now_ms;
use crate::repo::new_id;
use crate::scope::{Actor, AuditedAccess};
use crate::{StoreResult, TenantTx};

#[derive(Clone, Debug, serde::Serialize)]
pub struct AuditEntry {
    pub id: String,
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub reason: String,
    pub request_id: Option<String>,
    pub at: i64,
}

pub(crate) async fn record(
    tx: &mut TenantTx,
    actor: &Actor,
    access: AuditedAccess<'_>,
) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    sqlx::query(
        "INSERT INTO audit_log (tenant_id, id, actor, action, resource, reason, request_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant.as_str())
    .bind(new_id())
    .bind(actor.to_string())
    .bind(access.action)
    .bind(access.resource)
    .bind(access.reason)
    .bind(access.request_id)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The tenant's audit log, newest first.
pub async fn list(tx: &mut TenantTx, limit: i64) -> StoreResult<Vec<AuditEntry>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(
        "SELECT id, actor, action, resource, reason, request_id, at FROM audit_log \
         WHERE tenant_id = $1 ORDER BY at DESC, id LIMIT $2",
    )
    .bind(tenant.as_str())
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AuditEntry {
                id: row.try_get("id")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                resource: row.try_get("resource")?,
                reason: row.try_get("reason")?,
                request_id: row.try_get("request_id")?,
                at: row.try_get("at")?,
            })
        })
        .collect()
}
