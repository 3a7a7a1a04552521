//! Transactions that carry their scope. A [`TenantTx`] is bound to one tenant: on PostgreSQL its
//! first statement sets `app.tenant_id` for the transaction (`is_local = true`, so a pooled
//! connection never carries it into the next transaction), and every repository query also binds
//! the tenant explicitly, which is the only isolation SQLite has.

use std::time::Duration;

use sqlx::{Any, AnyConnection, Transaction};
use switchboard_core::TenantId;
use tokio::sync::OwnedSemaphorePermit;

use super::{Backend, Db};
use crate::scope::{PlatformAdmin, TenantScope};
use crate::{StoreError, StoreResult};

pub struct TenantTx {
    tx: Transaction<'static, Any>,
    tenant: TenantId,
    backend: Backend,
    /// Held until the transaction ends (see [`Db::begin`]).
    _writer: WriterTurn,
}

/// A SQLite writer's turn in this process's queue of writers; `None` elsewhere.
type WriterTurn = Option<OwnedSemaphorePermit>;

/// How long a writer waits for its turn: SQLite's own busy timeout, as before the queue.
const WRITER_WAIT: Duration = Duration::from_secs(5);

impl TenantTx {
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// A transaction over the platform's own tables (the tenant registry, platform accounts). It sets
/// no tenant, so on PostgreSQL every tenant table reads as empty inside it.
pub struct PlatformTx {
    tx: Transaction<'static, Any>,
    _writer: WriterTurn,
}

impl PlatformTx {
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Db {
    /// A read transaction for the scope's tenant.
    pub async fn read(&self, scope: &TenantScope) -> StoreResult<TenantTx> {
        self.tenant_tx(scope.tenant(), false).await
    }

    /// A write transaction for the scope's tenant (on SQLite it takes the write lock up front, so
    /// concurrent writers queue on the busy timeout instead of failing to upgrade).
    pub async fn write(&self, scope: &TenantScope) -> StoreResult<TenantTx> {
        self.tenant_tx(scope.tenant(), true).await
    }

    /// A transaction over the platform tables, for a platform administrator.
    pub async fn platform(&self, _admin: &PlatformAdmin) -> StoreResult<PlatformTx> {
        self.registry_tx(true).await
    }

    /// Opens a tenant transaction without a scope. Only credential checks (which must look up a
    /// credential inside the tenant it names) and scope-issuing code in this crate use it.
    pub(crate) async fn tenant_tx(&self, tenant: &TenantId, write: bool) -> StoreResult<TenantTx> {
        let (tx, writer) = self
            .begin(write, &[("app.tenant_id", tenant.as_str())])
            .await?;
        Ok(TenantTx {
            tx,
            tenant: tenant.clone(),
            backend: self.backend,
            _writer: writer,
        })
    }

    /// The registry (tenants, platform accounts) for credential checks inside this crate.
    pub(crate) async fn registry_tx(&self, write: bool) -> StoreResult<PlatformTx> {
        let (tx, writer) = self.begin(write, &[]).await?;
        Ok(PlatformTx {
            tx,
            _writer: writer,
        })
    }

    /// A transaction for claiming jobs across tenants (on PostgreSQL with `app.queue_claim` on,
    /// which lets it see every tenant's due jobs); only `queue::claim_batch` opens it.
    ///
    /// Its planner reads due jobs in order from their partial index and never sorts them: with
    /// statistics taken when few jobs were ready (a fresh table, or one of finished jobs before a
    /// burst), PostgreSQL chose a bitmap scan and sorted every ready job on each claim — 4x
    /// the buffers and half the throughput in the P6 bench (BENCHMARKS.md).
    pub(crate) async fn begin_claim(&self) -> StoreResult<PlatformTx> {
        let (tx, writer) = self
            .begin(
                true,
                &[
                    ("app.queue_claim", "on"),
                    ("enable_bitmapscan", "off"),
                    ("enable_sort", "off"),
                ],
            )
            .await?;
        Ok(PlatformTx {
            tx,
            _writer: writer,
        })
    }

    /// On SQLite, which has one writer at a time, a write transaction first waits for its turn
    /// among this process's writers (in order), then takes the write lock up front. Left to
    /// SQLite's busy handler, writers that collide sleep with growing backoff (1, 2, 5 … 100 ms):
    /// eight jobs finishing at once drained at 140 jobs/s (BENCHMARKS.md, P6). Writers in other
    /// processes (a separate `switchboard worker`) still meet the busy handler.
    ///
    /// On PostgreSQL, `settings` (transaction-local `set_config`s) go in the same round trip as
    /// `BEGIN`: one simple-protocol message `BEGIN; SELECT set_config(…), …`. Their values are
    /// written into the statement, so only values that cannot hold a quote may be passed: a
    /// [`TenantId`] (lowercase letters, digits and `-`, checked when it was parsed) or a
    /// constant. SQLite has no such settings and ignores them.
    async fn begin(
        &self,
        write: bool,
        settings: &[(&'static str, &str)],
    ) -> StoreResult<(Transaction<'static, Any>, WriterTurn)> {
        if self.backend == Backend::Postgres {
            let mut calls = Vec::with_capacity(settings.len());
            for (name, value) in settings {
                if !value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                {
                    return Err(StoreError::Invalid(format!(
                        "{name} cannot be set to a value with quotes or spaces"
                    )));
                }
                calls.push(format!("set_config('{name}', '{value}', true)"));
            }
            let begin = if calls.is_empty() {
                "BEGIN".to_owned()
            } else {
                format!("BEGIN; SELECT {}", calls.join(", "))
            };
            return Ok((
                self.pool.begin_with(sqlx::AssertSqlSafe(begin)).await?,
                None,
            ));
        }
        Ok(match (self.backend, write, &self.writers) {
            (Backend::Sqlite, true, Some(writers)) => {
                let turn = tokio::time::timeout(WRITER_WAIT, writers.clone().acquire_owned())
                    .await
                    .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolTimedOut))?
                    .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolClosed))?;
                (self.pool.begin_with("BEGIN IMMEDIATE").await?, Some(turn))
            }
            (Backend::Sqlite, true, None) => (self.pool.begin_with("BEGIN IMMEDIATE").await?, None),
            _ => (self.pool.begin().await?, None),
        })
    }
}
