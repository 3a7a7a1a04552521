//! A tenant's receptionist settings (one JSON document) and knowledge Q&A entries. Writes take
//! the [`TenantAdmin`] capability and bump the settings' `revision`, which keys the server's
//! per-tenant cache of prepared matchers.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::clock::now_ms;
use crate::repo::new_id;
use crate::scope::TenantAdmin;
use crate::{StoreError, StoreResult, TenantTx};

pub const MAX_KNOWLEDGE_ENTRIES: i64 = 2000;
const MAX_QUESTION: usize = 500;
const MAX_ANSWER: usize = 2000;

#[derive(Clone, Debug)]
pub struct StoredSettings {
    /// The settings document (JSON).
    pub body: String,
    pub revision: i64,
    pub updated_at: i64,
}

pub async fn get(tx: &mut TenantTx) -> StoreResult<Option<StoredSettings>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(
        "SELECT body, revision, updated_at FROM receptionist_settings WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| {
        Ok(StoredSettings {
            body: r.try_get("body")?,
            revision: r.try_get("revision")?,
            updated_at: r.try_get("updated_at")?,
        })
    })
    .transpose()
}

/// The current revision, or `None` before the tenant cloned a template. One indexed read: the
/// webhook checks it on every turn to reuse its cached matcher.
pub async fn revision(tx: &mut TenantTx) -> StoreResult<Option<i64>> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query("SELECT revision FROM receptionist_settings WHERE tenant_id = $1")
        .bind(tenant.as_str())
        .fetch_optional(tx.conn())
        .await?;
    Ok(row.map(|r| r.try_get("revision")).transpose()?)
}

/// Writes the settings document (validated by the caller); returns the new revision.
pub async fn put(tx: &mut TenantTx, admin: TenantAdmin<'_>, body: &str) -> StoreResult<i64> {
    admin.check(tx.tenant())?;
    let tenant = tx.tenant().clone();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO receptionist_settings (tenant_id, body, revision, updated_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (tenant_id) DO UPDATE SET body = excluded.body, \
         revision = receptionist_settings.revision + 1, updated_at = excluded.updated_at",
    )
    .bind(tenant.as_str())
    .bind(body)
    .bind(now)
    .execute(tx.conn())
    .await?;
    revision(tx)
        .await?
        .ok_or(StoreError::NotFound("receptionist settings"))
}

async fn bump(tx: &mut TenantTx) -> StoreResult<()> {
    let tenant = tx.tenant().clone();
    sqlx::query(
        "UPDATE receptionist_settings SET revision = revision + 1, updated_at = $1 WHERE tenant_id = $2",
    )
    .bind(now_ms())
    .bind(tenant.as_str())
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KnowledgeRow {
    pub id: String,
    pub question: String,
    pub answer: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn knowledge_from_row(row: &AnyRow) -> StoreResult<KnowledgeRow> {
    Ok(KnowledgeRow {
        id: row.try_get("id")?,
        question: row.try_get("question")?,
        answer: row.try_get("answer")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn validate_entry(question: &str, answer: &str) -> StoreResult<()> {
    let mut problems = Vec::new();
    if question.trim().is_empty() || question.len() > MAX_QUESTION {
        problems.push(format!("question: 1 to {MAX_QUESTION} bytes"));
    }
    if answer.trim().is_empty() || answer.len() > MAX_ANSWER {
        problems.push(format!("answer: 1 to {MAX_ANSWER} bytes"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(problems.join("; ")))
    }
}

pub async fn knowledge(tx: &mut TenantTx) -> StoreResult<Vec<KnowledgeRow>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(
        "SELECT id, question, answer, created_at, updated_at FROM knowledge_entries \
         WHERE tenant_id = $1 ORDER BY created_at, id",
    )
    .bind(tenant.as_str())
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(knowledge_from_row).collect()
}

pub async fn knowledge_count(tx: &mut TenantTx) -> StoreResult<i64> {
    let tenant = tx.tenant().clone();
    let row = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM knowledge_entries WHERE tenant_id = $1",
    )
    .bind(tenant.as_str())
    .fetch_one(tx.conn())
    .await?;
    Ok(row.try_get("n")?)
}

pub async fn add_knowledge(
    tx: &mut TenantTx,
    admin: TenantAdmin<'_>,
    question: &str,
    answer: &str,
) -> StoreResult<KnowledgeRow> {
    admin.check(tx.tenant())?;
    validate_entry(question, answer)?;
    if knowledge_count(tx).await? >= MAX_KNOWLEDGE_ENTRIES {
        return Err(StoreError::Invalid(format!(
            "a tenant has at most {MAX_KNOWLEDGE_ENTRIES} knowledge entries"
        )));
    }
    let tenant = tx.tenant().clone();
    let now = now_ms();
    let row = KnowledgeRow {
        id: new_id(),
        question: question.trim().to_owned(),
        answer: answer.trim().to_owned(),
        created_at: now,
        updated_at: now,
    };
    sqlx::query(
        "INSERT INTO knowledge_entries (tenant_id, id, question, answer, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(tenant.as_str())
    .bind(&row.id)
    .bind(&row.question)
    .bind(&row.answer)
    .bind(now)
    .execute(tx.conn())
    .await?;
    bump(tx).await?;
    Ok(row)
}

pub async fn update_knowledge(
    tx: &mut TenantTx,
    admin: TenantAdmin<'_>,
    id: &str,
    question: &str,
    answer: &str,
) -> StoreResult<()> {
    admin.check(tx.tenant())?;
    validate_entry(question, answer)?;
    let tenant = tx.tenant().clone();
    let done = sqlx::query(
        "UPDATE knowledge_entries SET question = $1, answer = $2, updated_at = $3 \
         WHERE tenant_id = $4 AND id = $5",
    )
    .bind(question.trim())
    .bind(answer.trim())
    .bind(now_ms())
    .bind(tenant.as_str())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("knowledge entry"));
    }
    bump(tx).await
}

pub async fn delete_knowledge(
    tx: &mut TenantTx,
    admin: TenantAdmin<'_>,
    id: &str,
) -> StoreResult<()> {
    admin.check(tx.tenant())?;
    let tenant = tx.tenant().clone();
    let done = sqlx::query("DELETE FROM knowledge_entries WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("knowledge entry"));
    }
    bump(tx).await
}
