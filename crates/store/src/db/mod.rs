//! One database API over SQLite and PostgreSQL (ADR 0001): sqlx's `Any` driver runs the SQL that is
//! identical on both, `Backend` picks the statements that differ, and each backend has its own
//! migrations. Connections are never handed out raw: tenant work goes through [`TenantTx`], which
//! only a [`TenantScope`] opens, and platform work through [`PlatformTx`], which only a
//! [`PlatformAdmin`] opens.

mod connect;
mod migrate;
mod tx;

use secrecy::{ExposeSecret, SecretString};
use sqlx::AnyPool;

pub use connect::DbConfig;
pub use tx::{PlatformTx, TenantTx};

use crate::StoreResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// The tables that hold tenant data, in the order a purge deletes them (children first). A test
/// checks this list against the live catalog, so a new tenant table cannot be forgotten here.
pub const TENANT_TABLES: &[&str] = &[
    "sms_messages",
    "memories",
    "call_summaries",
    "caller_profiles",
    "personality_metrics",
    "personality_averages",
    "live_turns",
    "live_calls",
    "knowledge_entries",
    "receptionist_settings",
    "qa_results",
    "agent_day_rollups",
    "call_day_rollups",
    "call_results",
    "jobs",
    "sync_runs",
    "provider_syncs",
    "calls",
    "secrets",
    "audit_log",
    "sessions",
    "api_tokens",
    "users",
];

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite: the turns of this process's writers (one at a time); `None` on PostgreSQL.
    writers: Option<std::sync::Arc<tokio::sync::Semaphore>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Db {
    pub async fn connect(config: &DbConfig) -> StoreResult<Db> {
        connect::connect(config.url.expose_secret(), config.max_connections).await
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs the migrations of this backend as the owner role (`migration_url`, or the app URL when
    /// none is set), then grants the app role what it needs on PostgreSQL.
    pub async fn migrate(config: &DbConfig) -> StoreResult<()> {
        migrate::run(config).await
    }

    /// The `app.tenant_id` a fresh transaction sees before setting one (PostgreSQL; `None` on
    /// SQLite). Always empty unless a pooled connection leaks its tenant; tests assert it.
    pub async fn leaked_tenant_setting(&self) -> StoreResult<Option<String>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT COALESCE(current_setting('app.tenant_id', true), '') AS t")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(sqlx::Row::try_get(&row, "t")?))
    }

    /// `SELECT 1`, for readiness checks.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// Masks the password of a database URL for logs and errors.
pub fn redact_url(url: &SecretString) -> String {
    match url::Url::parse(url.expose_secret()) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparseable database url>".to_owned(),
    }
}

/// A statement on the `Any` driver with its arguments bound so far.
pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// `<insert> VALUES (…), (…)`: `rows` rows of `columns` placeholders in the backend's own form —
/// `$n` for PostgreSQL, `?` for SQLite. (sqlx's `QueryBuilder` writes `?` for the Any driver,
/// which PostgreSQL rejects; and SQLite reads `$n` as a *named* parameter, which sqlx resolves
/// name by name — quadratic in a 14,000-value insert.)
pub(crate) fn values_sql(backend: Backend, insert: &str, rows: usize, columns: usize) -> String {
    let mut sql = format!("{insert}VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Postgres => sql.push_str(&format!("${}", row * columns + column + 1)),
                Backend::Sqlite => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

/// `$first, …`: `count` placeholders for an `IN (…)` list after the statement's own `$n`
/// (numbered on both backends: SQLite's `?` would not count the `$n` before it as sqlx binds
/// them; the name-by-name lookup `values_sql` avoids is negligible for a few hundred).
pub(crate) fn list_sql(first: usize, count: usize) -> String {
    let placeholders: Vec<String> = (first..first + count).map(|n| format!("${n}")).collect();
    placeholders.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_the_password() {
        let url = SecretString::from("postgres://app:hunter2@127.0.0.1:5432/sb");
        let shown = redact_url(&url);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("app:***@127.0.0.1"), "{shown}");
    }
}
