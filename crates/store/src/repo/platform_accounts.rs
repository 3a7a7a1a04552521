//! Platform administrators, their API tokens and their sessions. They belong to no tenant.

use sqlx::Row;

use crate::auth::{credential, password};
use crate::clock::now_ms;
use crate::repo::new_id;
use crate::repo::sessions::SESSION_TTL_MS;
use crate::repo::users::normalize_email;
use crate::scope::PlatformAdmin;
use crate::{PlatformTx, StoreError, StoreResult};

#[derive(Clone, Debug, serde::Serialize)]
pub struct PlatformAdminAccount {
    pub id: String,
    pub email: String,
    pub created_at: i64,
}

fn account_from_row(row: &sqlx::any::AnyRow) -> StoreResult<PlatformAdminAccount> {
    Ok(PlatformAdminAccount {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn create_admin(
    tx: &mut PlatformTx,
    _by: &PlatformAdmin,
    email: &str,
    password: &str,
) -> StoreResult<PlatformAdminAccount> {
    let account = PlatformAdminAccount {
        id: new_id(),
        email: normalize_email(email)?,
        created_at: now_ms(),
    };
    let result = sqlx::query(
        "INSERT INTO platform_admins (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&account.id)
    .bind(&account.email)
    .bind(password::hash(password)?)
    .bind(account.created_at)
    .execute(tx.conn())
    .await;
    match result {
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Err(StoreError::Conflict(format!(
                "a platform admin with email {} already exists",
                account.email
            )))
        }
        other => other.map(|_| account).map_err(Into::into),
    }
}

/// Creates a platform API token; returns (id, plaintext).
pub async fn create_token(
    tx: &mut PlatformTx,
    _by: &PlatformAdmin,
    name: &str,
) -> StoreResult<(String, String)> {
    let id = new_id();
    let plaintext = credential::new_platform_token();
    sqlx::query(
        "INSERT INTO platform_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&id)
    .bind(name)
    .bind(credential::digest(&plaintext))
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok((id, plaintext))
}

pub async fn revoke_token(tx: &mut PlatformTx, _by: &PlatformAdmin, id: &str) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE platform_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
    )
    .bind(now_ms())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("token"));
    }
    Ok(())
}

/// (token id, name) of a live platform token.
pub(crate) async fn find_token(
    tx: &mut PlatformTx,
    digest: &str,
) -> StoreResult<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT id, name FROM platform_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(digest)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|row| Ok((row.try_get("id")?, row.try_get("name")?)))
        .transpose()
}

/// (account, password hash) for a login attempt.
pub(crate) async fn credentials_by_email(
    tx: &mut PlatformTx,
    email: &str,
) -> StoreResult<Option<(PlatformAdminAccount, String)>> {
    let row = sqlx::query(
        "SELECT id, email, created_at, password_hash FROM platform_admins WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|row| Ok((account_from_row(&row)?, row.try_get("password_hash")?)))
        .transpose()
}

pub(crate) async fn create_session(
    tx: &mut PlatformTx,
    admin_id: &str,
) -> StoreResult<(String, String, i64)> {
    let cookie = credential::new_platform_session();
    let csrf = credential::new_csrf_token();
    let now = now_ms();
    let expires_at = now + SESSION_TTL_MS;
    sqlx::query(
        "INSERT INTO platform_sessions (id, token_hash, admin_id, csrf_token, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(credential::digest(&cookie))
    .bind(admin_id)
    .bind(&csrf)
    .bind(now)
    .bind(expires_at)
    .execute(tx.conn())
    .await?;
    Ok((cookie, csrf, expires_at))
}

/// (account, csrf token) of a live platform session.
pub(crate) async fn find_session(
    tx: &mut PlatformTx,
    digest: &str,
) -> StoreResult<Option<(PlatformAdminAccount, String)>> {
    let row = sqlx::query(
        "SELECT a.id, a.email, a.created_at, s.csrf_token FROM platform_sessions s \
         JOIN platform_admins a ON a.id = s.admin_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(digest)
    .bind(now_ms())
    .fetch_optional(tx.conn())
    .await?;
    row.map(|row| Ok((account_from_row(&row)?, row.try_get("csrf_token")?)))
        .transpose()
}

pub(crate) async fn delete_session(tx: &mut PlatformTx, digest: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM platform_sessions WHERE token_hash = $1")
        .bind(digest)
        .execute(tx.conn())
        .await?;
    Ok(())
}
