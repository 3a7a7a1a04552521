//! A tenant's users. Writes take the [`TenantAdmin`] capability.

use sqlx::Row;
use sqlx::any::AnyRow;
use switchboard_core::Role;

use crate::auth::password;
use crate::clock::now_ms;
use crate::repo::new_id;
use crate::scope::TenantAdmin;
use crate::{StoreError, StoreResult, TenantTx};

#[derive(Clone, Debug, serde::Serialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
}

fn from_row(row: &AnyRow) -> StoreResult<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: role
            .parse()
            .map_err(|_| StoreError::Invalid(format!("unknown role {role:?}")))?,
        created_at: row.try_get("created_at")?,
    })
}

/// Lower-cased, trimmed, and shaped like an address.
pub fn normalize_email(raw: &str) -> StoreResult<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(StoreError::Invalid(
            "a valid email address is required".into(),
        ))
    }
}

pub async fn list(tx: &mut TenantTx) -> StoreResult<Vec<User>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(
        "SELECT id, email, role, created_at FROM users WHERE tenant_id = $1 ORDER BY email",
    )
    .bind(tenant.as_str())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(tx: &mut TenantTx, id: &str) -> StoreResult<Option<User>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(
        "SELECT id, email, role, created_at FROM users WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Creates a user with a password (hashed here).
pub async fn create(
    tx: &mut TenantTx,
    admin: TenantAdmin<'_>,
    email: &str,
    role: Role,
    password: &str,
) -> StoreResult<User> {
    admin.check(tx.tenant())?;
    insert(tx, email, role, password).await
}

pub(crate) async fn insert(
    tx: &mut TenantTx,
    email: &str,
    role: Role,
    password: &str,
) -> StoreResult<User> {
    let email = normalize_email(email)?;
    let hash = password::hash(password)?;
    let tenant = tx.tenant().clone();
    let user = User {
        id: new_id(),
        email,
        role,
        created_at: now_ms(),
    };
    let result = sqlx::query(
        "INSERT INTO users (tenant_id, id, email, password_hash, role, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tenant.as_str())
    .bind(&user.id)
    .bind(&user.email)
    .bind(hash)
    .bind(role.as_str())
    .bind(user.created_at)
    .execute(tx.conn())
    .await;
    match result {
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(StoreError::Conflict(
            format!("a user with email {} already exists", user.email),
        )),
        other => other.map(|_| user).map_err(Into::into),
    }
}

async fn admin_count(tx: &mut TenantTx) -> StoreResult<i64> {
    let tenant = tx.tenant().clone();
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM users WHERE tenant_id = $1 AND role = 'admin'")
            .bind(tenant.as_str())
            .fetch_one(tx.conn())
            .await?;
    Ok(row.try_get("n")?)
}

async fn refuse_losing_last_admin(tx: &mut TenantTx, user: &User) -> StoreResult<()> {
    if user.role == Role::Admin && admin_count(tx).await? <= 1 {
        return Err(StoreError::Conflict(
            "a tenant keeps at least one admin".into(),
        ));
    }
    Ok(())
}

pub async fn set_role(
    tx: &mut TenantTx,
    admin: TenantAdmin<'_>,
    id: &str,
    role: Role,
) -> StoreResult<User> {
    admin.check(tx.tenant())?;
    let mut user = get(tx, id).await?.ok_or(StoreError::NotFound("user"))?;
    if user.role == role {
        return Ok(user);
    }
    refuse_losing_last_admin(tx, &user).await?;
    let tenant = tx.tenant().clone();
    sqlx::query("UPDATE users SET role = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(role.as_str())
        .bind(tenant.as_str())
        .bind(id)
        .execute(tx.conn())
        .await?;
    user.role = role;
    Ok(user)
}

/// Removes a user and ends their sessions.
pub async fn remove(tx: &mut TenantTx, admin: TenantAdmin<'_>, id: &str) -> StoreResult<()> {
    admin.check(tx.tenant())?;
    let user = get(tx, id).await?.ok_or(StoreError::NotFound("user"))?;
    refuse_losing_last_admin(tx, &user).await?;
    let tenant = tx.tenant().clone();
    for statement in [
        "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2",
        "DELETE FROM users WHERE tenant_id = $1 AND id = $2",
    ] {
        sqlx::query(statement)
            .bind(tenant.as_str())
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// The user and password hash for a login attempt.
pub(crate) async fn credentials_by_email(
    tx: &mut TenantTx,
    email: &str,
) -> StoreResult<Option<(User, Option<String>)>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(
        "SELECT id, email, role, created_at, password_hash FROM users \
         WHERE tenant_id = $1 AND email = $2",
    )
    .bind(tenant.as_str())
    .bind(email)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|row| Ok((from_row(&row)?, row.try_get("password_hash")?)))
        .transpose()
}
