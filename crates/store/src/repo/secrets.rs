//! Per-tenant secret entries (see `secrets`). Values go in through [`put`] and come out only
//! through [`read`], for the code that uses them (provider connectors); everything else sees
//! [`SecretInfo`]: which fields are set, and when.

use std::collections::BTreeMap;

use secrecy::SecretString;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::now_ms;
use crate::scope::TenantAdmin;
use crate::secrets::Keyring;
use crate::secrets::keyring::Sealed;
use crate::{StoreError, StoreResult, TenantTx};

const MAX_FIELDS: usize = 32;
const MAX_VALUE_LEN: usize = 8192;

/// What may be shown about an entry: never a value.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SecretInfo {
    pub provider: String,
    pub fields: Vec<String>,
    pub version: i64,
    pub key_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Decrypted fields, each kept in a `SecretString` (masked `Debug`, zeroed on drop).
pub struct SecretFields(BTreeMap<String, SecretString>);

impl SecretFields {
    pub fn get(&self, field: &str) -> Option<&SecretString> {
        self.0.get(field)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

impl std::fmt::Debug for SecretFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

fn valid_name(raw: &str, max: usize, extra: char) -> bool {
    (1..=max).contains(&raw.len())
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == extra)
}

/// Provider names: lowercase letters, digits and '-', 1–40 characters.
pub fn validate_provider(provider: &str) -> StoreResult<()> {
    if valid_name(provider, 40, '-') {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "a provider name has 1 to 40 lowercase letters, digits or '-'".into(),
        ))
    }
}

fn info_from_row(row: &AnyRow) -> StoreResult<SecretInfo> {
    let fields: String = row.try_get("fields")?;
    Ok(SecretInfo {
        provider: row.try_get("name")?,
        fields: serde_json::from_str(&fields)
            .map_err(|_| StoreError::Invalid("corrupt secret field list".into()))?,
        version: row.try_get("version")?,
        key_id: row.try_get("key_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const INFO_COLUMNS: &str = "name, fields, version, key_id, created_at, updated_at";

/// Writes (or replaces) the provider's entry for the tenant.
pub async fn put(
    tx: &mut TenantTx,
    admin: TenantAdmin<'_>,
    keyring: &Keyring,
    provider: &str,
    fields: BTreeMap<String, String>,
) -> StoreResult<SecretInfo> {
    admin.check(tx.tenant())?;
    validate_provider(provider)?;
    if fields.is_empty() || fields.len() > MAX_FIELDS {
        return Err(StoreError::Invalid(format!(
            "a credential has 1 to {MAX_FIELDS} fields"
        )));
    }
    for (name, value) in &fields {
        if !valid_name(name, 64, '_') {
            return Err(StoreError::Invalid(format!(
                "field name {name:?}: use 1 to 64 lowercase letters, digits or '_'"
            )));
        }
        if value.len() > MAX_VALUE_LEN {
            return Err(StoreError::Invalid(format!(
                "field {name} is longer than {MAX_VALUE_LEN} bytes"
            )));
        }
    }
    let previous = describe(tx, provider).await?;
    let version = previous.as_ref().map_or(1, |p| p.version + 1);
    let tenant = tx.tenant().clone();
    let plaintext =
        serde_json::to_vec(&fields).map_err(|_| StoreError::Invalid("fields".into()))?;
    let sealed = keyring.seal(tenant.as_str(), provider, version, &plaintext);
    let names: Vec<&String> = fields.keys().collect();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO secrets (tenant_id, name, version, key_id, nonce, ciphertext, fields, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (tenant_id, name) DO UPDATE SET version = excluded.version, key_id = excluded.key_id, \
         nonce = excluded.nonce, ciphertext = excluded.ciphertext, fields = excluded.fields, \
         updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(provider)
    .bind(version)
    .bind(&sealed.key_id)
    .bind(sealed.nonce)
    .bind(sealed.ciphertext)
    .bind(serde_json::to_string(&names).unwrap_or_default())
    .bind(now)
    .execute(tx.conn())
    .await?;
    describe(tx, provider)
        .await?
        .ok_or(StoreError::NotFound("credential"))
}

pub async fn describe(tx: &mut TenantTx, provider: &str) -> StoreResult<Option<SecretInfo>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {INFO_COLUMNS} FROM secrets WHERE tenant_id = $1 AND name = $2"
    )))
    .bind(tenant.as_str())
    .bind(provider)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(info_from_row).transpose()
}

pub async fn list(tx: &mut TenantTx) -> StoreResult<Vec<SecretInfo>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {INFO_COLUMNS} FROM secrets WHERE tenant_id = $1 ORDER BY name"
    )))
    .bind(tenant.as_str())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(info_from_row).collect()
}

pub async fn delete(tx: &mut TenantTx, admin: TenantAdmin<'_>, provider: &str) -> StoreResult<()> {
    admin.check(tx.tenant())?;
    let tenant = tx.tenant().clone();
    let done = sqlx::query("DELETE FROM secrets WHERE tenant_id = $1 AND name = $2")
        .bind(tenant.as_str())
        .bind(provider)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("credential"));
    }
    Ok(())
}

async fn sealed(tx: &mut TenantTx, provider: &str) -> StoreResult<Option<(i64, Sealed)>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(
        "SELECT version, key_id, nonce, ciphertext FROM secrets WHERE tenant_id = $1 AND name = $2",
    )
    .bind(tenant.as_str())
    .bind(provider)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|row| {
        Ok((
            row.try_get("version")?,
            Sealed {
                key_id: row.try_get("key_id")?,
                nonce: row.try_get("nonce")?,
                ciphertext: row.try_get("ciphertext")?,
            },
        ))
    })
    .transpose()
}

fn open(
    keyring: &Keyring,
    tx: &TenantTx,
    provider: &str,
    version: i64,
    sealed: &Sealed,
) -> StoreResult<Vec<u8>> {
    keyring
        .open(tx.tenant().as_str(), provider, version, sealed)
        .map_err(StoreError::Secret)
}

/// The decrypted entry, for the code that uses it. Never return it from an API.
pub async fn read(
    tx: &mut TenantTx,
    keyring: &Keyring,
    provider: &str,
) -> StoreResult<Option<SecretFields>> {
    let Some((version, sealed)) = sealed(tx, provider).await? else {
        return Ok(None);
    };
    let plaintext = open(keyring, tx, provider, version, &sealed)?;
    let fields: BTreeMap<String, String> = serde_json::from_slice(&plaintext)
        .map_err(|_| StoreError::Invalid("corrupt secret".into()))?;
    Ok(Some(SecretFields(
        fields
            .into_iter()
            .map(|(k, v)| (k, SecretString::from(v)))
            .collect(),
    )))
}

/// Re-encrypts every entry of the tenant that is not sealed with the current master key; returns
/// how many were rewrapped. Versions stay; nonces are fresh.
pub async fn rewrap(
    tx: &mut TenantTx,
    admin: TenantAdmin<'_>,
    keyring: &Keyring,
) -> StoreResult<u64> {
    admin.check(tx.tenant())?;
    let tenant = tx.tenant().clone();
    let stale: Vec<String> =
        sqlx::query("SELECT name FROM secrets WHERE tenant_id = $1 AND key_id <> $2")
            .bind(tenant.as_str())
            .bind(keyring.current_id())
            .fetch_all(tx.conn())
            .await?
            .iter()
            .map(|row| row.try_get("name"))
            .collect::<Result<_, _>>()?;
    for provider in &stale {
        let Some((version, old)) = sealed(tx, provider).await? else {
            continue;
        };
        let plaintext = open(keyring, tx, provider, version, &old)?;
        let new = keyring.seal(tenant.as_str(), provider, version, &plaintext);
        sqlx::query(
            "UPDATE secrets SET key_id = $1, nonce = $2, ciphertext = $3 WHERE tenant_id = $4 AND name = $5",
        )
        .bind(&new.key_id)
        .bind(new.nonce)
        .bind(new.ciphertext)
        .bind(tenant.as_str())
        .bind(provider)
        .execute(tx.conn())
        .await?;
    }
    Ok(stale.len() as u64)
}
