//! Transactions that carry their scope. A [`TenantTx`] is bound to one tenant: on PostgreSQL its
//! first statement sets `app.tenant_id` for the transaction (`is_local = true`, so a pooled
//! connection never carries it into the next transaction), and every repository query also binds
//! the tenant explicitly, which is the only isolation SQLite has.

use sqlx::{Any, AnyConnection, Transaction};
use switchboard_core::TenantId;

use super::{Backend, Db};
use crate::StoreResult;
use crate::scope::{PlatformAdmin, TenantScope};

pub struct TenantTx {
    tx: Transaction<'static, Any>,
    tenant: TenantId,
    backend: Backend,
}

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
        let mut tx = self.begin(write).await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
                .bind(tenant.as_str())
                .execute(&mut *tx)
                .await?;
        }
        Ok(TenantTx {
            tx,
            tenant: tenant.clone(),
            backend: self.backend,
        })
    }

    /// The registry (tenants, platform accounts) for credential checks inside this crate.
    pub(crate) async fn registry_tx(&self, write: bool) -> StoreResult<PlatformTx> {
        Ok(PlatformTx {
            tx: self.begin(write).await?,
        })
    }

    /// A transaction for claiming a job across tenants; only `queue::claim` opens it.
    pub(crate) async fn begin_claim(&self) -> StoreResult<Transaction<'static, Any>> {
        self.begin(true).await
    }

    async fn begin(&self, write: bool) -> StoreResult<Transaction<'static, Any>> {
        Ok(match (self.backend, write) {
            (Backend::Sqlite, true) => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            _ => self.pool.begin().await?,
        })
    }
}
