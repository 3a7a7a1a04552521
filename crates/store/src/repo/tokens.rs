//! API tokens of a tenant: random, shown once, stored as a digest, scoped to the tenant and a
//! role, revocable, with a last-used time.

use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::Role;

use crate::auth::credential;
use crate::clock::now_ms;
use crate::repo::new_id;
use crate::scope::TenantAdmin;
use crate::{StoreError, StoreResult, TenantTx};

/// `last_used_at` is written at most this often per token, so reads stay reads.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

#[derive(Clone, Debug, serde::Serialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

fn from_row(row: &AnyRow) -> StoreResult<ApiToken> {
    let role: String = row.try_get("role")?;
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: role
            .parse()
            .map_err(|_| StoreError::Invalid(format!("unknown role {role:?}")))?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

const COLUMNS: &str = "id, name, role, created_by, created_at, last_used_at, revoked_at";

/// Creates a token and returns it with its plaintext, which is never stored or shown again.
pub async fn create(
    tx: &mut TenantTx,
    admin: TenantAdmin<'_>,
    name: &str,
    role: Role,
) -> StoreResult<(ApiToken, String)> {
    admin.check(tx.tenant())?;
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(StoreError::Invalid(
            "a token name has 1 to 100 characters".into(),
        ));
    }
    let tenant = tx.tenant().clone();
    let plaintext = credential::new_tenant_token(&tenant);
    let token = ApiToken {
        id: new_id(),
        name: name.to_owned(),
        role,
        created_by: admin.scope().actor().to_string(),
        created_at: now_ms(),
        last_used_at: None,
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO api_tokens (tenant_id, id, name, token_hash, role, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant.as_str())
    .bind(&token.id)
    .bind(&token.name)
    .bind(credential::digest(&plaintext))
    .bind(role.as_str())
    .bind(&token.created_by)
    .bind(token.created_at)
    .execute(tx.conn())
    .await?;
    Ok((token, plaintext))
}

pub async fn list(tx: &mut TenantTx) -> StoreResult<Vec<ApiToken>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at, id"
    )))
    .bind(tenant.as_str())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn revoke(tx: &mut TenantTx, admin: TenantAdmin<'_>, id: &str) -> StoreResult<()> {
    admin.check(tx.tenant())?;
    let tenant = tx.tenant().clone();
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) \
         WHERE tenant_id = $2 AND id = $3",
    )
    .bind(now_ms())
    .bind(tenant.as_str())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("token"));
    }
    Ok(())
}

/// The live token with this digest, if any.
pub(crate) async fn find_active(tx: &mut TenantTx, digest: &str) -> StoreResult<Option<ApiToken>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM api_tokens \
         WHERE tenant_id = $1 AND token_hash = $2 AND revoked_at IS NULL"
    )))
    .bind(tenant.as_str())
    .bind(digest)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub(crate) fn needs_touch(token: &ApiToken, now: i64) -> bool {
    token
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USED_RESOLUTION_MS)
}

pub(crate) async fn touch(tx: &mut TenantTx, id: &str, now: i64) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(now)
        .bind(tenant.as_str())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}
