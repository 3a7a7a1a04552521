//! Global industry templates (SPEC §8), one row per version. Platform-owned: no tenant column.
//! Anyone may read them (a tenant picks one to clone); only a platform admin publishes.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::clock::now_ms;
use crate::{PlatformTx, StoreError, StoreResult, TenantTx};

#[derive(Clone, Debug, serde::Serialize)]
pub struct TemplateRow {
    pub id: String,
    pub version: i64,
    pub name: String,
    /// The template document (JSON).
    pub body: String,
    pub created_at: i64,
}

fn from_row(row: &AnyRow) -> StoreResult<TemplateRow> {
    Ok(TemplateRow {
        id: row.try_get("id")?,
        version: row.try_get("version")?,
        name: row.try_get("name")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
    })
}

const LATEST: &str = "SELECT t.id, t.version, t.name, t.body, t.created_at FROM templates t \
     WHERE t.version = (SELECT MAX(v.version) FROM templates v WHERE v.id = t.id)";

async fn latest_all(conn: &mut AnyConnection) -> StoreResult<Vec<TemplateRow>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{LATEST} ORDER BY t.id")))
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

async fn version_with(
    conn: &mut AnyConnection,
    id: &str,
    version: Option<i64>,
) -> StoreResult<Option<TemplateRow>> {
    let row = match version {
        Some(v) => {
            sqlx::query(
                "SELECT id, version, name, body, created_at FROM templates WHERE id = $1 AND version = $2",
            )
            .bind(id)
            .bind(v)
            .fetch_optional(conn)
            .await?
        }
        None => {
            sqlx::query(sqlx::AssertSqlSafe(format!("{LATEST} AND t.id = $1")))
                .bind(id)
                .fetch_optional(conn)
                .await?
        }
    };
    row.as_ref().map(from_row).transpose()
}

/// The latest version of every template.
pub async fn list_latest(tx: &mut TenantTx) -> StoreResult<Vec<TemplateRow>> {
    latest_all(tx.conn()).await
}

/// One version of a template (`None`: the latest).
pub async fn get(
    tx: &mut TenantTx,
    id: &str,
    version: Option<i64>,
) -> StoreResult<Option<TemplateRow>> {
    version_with(tx.conn(), id, version).await
}

pub async fn platform_get(
    tx: &mut PlatformTx,
    id: &str,
    version: Option<i64>,
) -> StoreResult<Option<TemplateRow>> {
    version_with(tx.conn(), id, version).await
}

/// Publishes a version. A version is never overwritten: publishing an existing (id, version)
/// with a different body is a conflict, with the same body a no-op (so seeding is idempotent).
pub async fn publish(
    tx: &mut PlatformTx,
    id: &str,
    version: i64,
    name: &str,
    body: &str,
) -> StoreResult<bool> {
    if let Some(existing) = version_with(tx.conn(), id, Some(version)).await? {
        return if existing.body == body {
            Ok(false)
        } else {
            Err(StoreError::Conflict(format!(
                "template {id} version {version} already exists; publish a higher version"
            )))
        };
    }
    if let Some(latest) = version_with(tx.conn(), id, None).await?
        && latest.version > version
    {
        return Err(StoreError::Conflict(format!(
            "template {id} is at version {}; publish a higher version",
            latest.version
        )));
    }
    sqlx::query(
        "INSERT INTO templates (id, version, name, body, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(version)
    .bind(name)
    .bind(body)
    .bind(now_ms())
    .execute(tx.conn())
    .await?;
    Ok(true)
}
