//! Which tenant owns a dialled number: the platform's routing table for telephony webhooks.
//! Numbers are assigned by a platform admin; a tenant reads its own. The voice webhook's lookup
//! (before any tenant is known) is in `auth::twilio`, which then proves the request with the
//! owner's signature before issuing a scope.

use sqlx::{AnyConnection, Row};
use switchboard_core::TenantId;

use crate::clock::now_ms;
use crate::{PlatformTx, StoreError, StoreResult, TenantTx};

/// `+` then 8 to 15 digits.
pub fn validate(number: &str) -> StoreResult<()> {
    let ok = number
        .strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "a phone number in E.164 form is required, e.g. +18005550100".into(),
        ))
    }
}

/// Assigns a number to a tenant; assigning it again to the same tenant is a no-op.
pub async fn assign(tx: &mut PlatformTx, number: &str, tenant: &TenantId) -> StoreResult<()> {
    validate(number)?;
    if let Some(owner) = owner(tx.conn(), number).await? {
        return if &owner == tenant {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "{number} is assigned to another tenant"
            )))
        };
    }
    sqlx::query("INSERT INTO phone_numbers (number, tenant, created_at) VALUES ($1, $2, $3)")
        .bind(number)
        .bind(tenant.as_str())
        .bind(now_ms())
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Releases a number from its tenant.
pub async fn release(tx: &mut PlatformTx, number: &str, tenant: &TenantId) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM phone_numbers WHERE number = $1 AND tenant = $2")
        .bind(number)
        .bind(tenant.as_str())
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("phone number"));
    }
    Ok(())
}

pub async fn list_for(tx: &mut PlatformTx, tenant: &TenantId) -> StoreResult<Vec<String>> {
    numbers_of(tx.conn(), tenant).await
}

/// The scope's own numbers.
pub async fn list_own(tx: &mut TenantTx) -> StoreResult<Vec<String>> {
    let tenant = tx.tenant().clone();
    numbers_of(tx.conn(), &tenant).await
}

async fn numbers_of(conn: &mut AnyConnection, tenant: &TenantId) -> StoreResult<Vec<String>> {
    let rows = sqlx::query("SELECT number FROM phone_numbers WHERE tenant = $1 ORDER BY number")
        .bind(tenant.as_str())
        .fetch_all(conn)
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get("number"))
        .collect::<Result<_, _>>()?)
}

/// The owner of a number, for webhook routing (inside this crate only).
pub(crate) async fn owner(conn: &mut AnyConnection, number: &str) -> StoreResult<Option<TenantId>> {
    let row = sqlx::query("SELECT tenant FROM phone_numbers WHERE number = $1")
        .bind(number)
        .fetch_optional(conn)
        .await?;
    row.map(|r| {
        let raw: String = r.try_get("tenant")?;
        TenantId::parse(&raw).map_err(|e| StoreError::Invalid(e.to_string()))
    })
    .transpose()
}

/// Deletes every number of a tenant (the purge).
pub(crate) async fn delete_all(conn: &mut AnyConnection, tenant: &TenantId) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM phone_numbers WHERE tenant = $1")
        .bind(tenant.as_str())
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// The owner of a number, for the platform (the call simulator, administration).
pub async fn owner_of(tx: &mut PlatformTx, number: &str) -> StoreResult<Option<TenantId>> {
    owner(tx.conn(), number).await
}
