//! Dashboard sessions of a tenant's users. The cookie holds the credential; the row holds its
//! digest, the user, the CSRF token for form posts, and the expiry.

use sqlx::Row;

use crate::auth::credential;
use crate::clock::now_ms;
use crate::repo::new_id;
use crate::{StoreResult, TenantTx};

pub const SESSION_TTL_MS: i64 = 12 * 60 * 60 * 1000;

pub(crate) struct SessionRow {
    pub user_id: String,
    pub csrf_token: String,
}

/// Creates a session and returns (cookie value, CSRF token, expiry).
pub(crate) async fn create(tx: &mut TenantTx, user_id: &str) -> StoreResult<(String, String, i64)> {
    let tenant = tx.tenant().clone();
    let cookie = credential::new_tenant_session(&tenant);
    let csrf = credential::new_csrf_token();
    let now = now_ms();
    let expires_at = now + SESSION_TTL_MS;
    sqlx::query(
        "INSERT INTO sessions (tenant_id, id, token_hash, user_id, csrf_token, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant.as_str())
    .bind(new_id())
    .bind(credential::digest(&cookie))
    .bind(user_id)
    .bind(&csrf)
    .bind(now)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok((cookie, csrf, expires_at))
}

pub(crate) async fn find_live(tx: &mut TenantTx, digest: &str) -> StoreResult<Option<SessionRow>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(
        "SELECT user_id, csrf_token FROM sessions \
         WHERE tenant_id = $1 AND token_hash = $2 AND expires_at > $3",
    )
    .bind(tenant.as_str())
    .bind(digest)
    .bind(now_ms())
    .fetch_optional(tx.conn())
    .await?;
    row.map(|row| {
        Ok(SessionRow {
            user_id: row.try_get("user_id")?,
            csrf_token: row.try_get("csrf_token")?,
        })
    })
    .transpose()
}

pub(crate) async fn delete(tx: &mut TenantTx, digest: &str) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND token_hash = $2")
        .bind(tenant.as_str())
        .bind(digest)
        .execute(tx.conn())
        .await?;
    Ok(())
}
