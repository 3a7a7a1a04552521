//! Capabilities. A [`TenantScope`] is the proof that a request, job or webhook acts for one tenant;
//! its constructor is private to this crate and is called only by the credential checks in
//! `auth`, by [`PlatformAdmin::open_tenant`] (which writes an audit row first), and later by
//! verified webhook routes and job rows. A [`PlatformAdmin`] is the separate capability for
//! platform operations. Code outside this crate cannot make either from a bare tenant id.

use std::fmt;

use switchboard_core::{Role, TenantId};

use crate::objects::StorageMode;
use crate::repo::{audit, tenants};
use crate::{Db, StoreError, StoreResult};

/// Who is acting. Written into audit rows; never holds a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    User {
        id: String,
        email: String,
    },
    ApiToken {
        id: String,
        name: String,
    },
    External {
        issuer: String,
        subject: String,
        email: Option<String>,
    },
    PlatformAdmin {
        id: String,
        email: String,
    },
    PlatformToken {
        id: String,
        name: String,
    },
    /// Someone running the `switchboard` binary with the database credentials.
    Operator {
        name: String,
    },
    /// A background service acting for the tenant on the tenant's own configuration, e.g. a
    /// provider connector syncing with the credentials the tenant stored.
    Service {
        name: String,
    },
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User { email, .. } => write!(f, "user:{email}"),
            Actor::ApiToken { id, .. } => write!(f, "token:{id}"),
            Actor::External {
                issuer, subject, ..
            } => write!(f, "oidc:{issuer}#{subject}"),
            Actor::PlatformAdmin { email, .. } => write!(f, "platform-admin:{email}"),
            Actor::PlatformToken { id, .. } => write!(f, "platform-token:{id}"),
            Actor::Operator { name } => write!(f, "operator:{name}"),
            Actor::Service { name } => write!(f, "service:{name}"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct TenantScope {
    tenant: TenantId,
    role: Role,
    actor: Actor,
    storage_mode: StorageMode,
}

impl TenantScope {
    pub(crate) fn new(
        tenant: TenantId,
        role: Role,
        actor: Actor,
        storage_mode: StorageMode,
    ) -> TenantScope {
        TenantScope {
            tenant,
            role,
            actor,
            storage_mode,
        }
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn storage_mode(&self) -> StorageMode {
        self.storage_mode
    }

    /// The tenant-admin capability, when this scope has the admin role.
    pub fn admin(&self) -> Option<TenantAdmin<'_>> {
        (self.role == Role::Admin).then_some(TenantAdmin { scope: self })
    }
}

/// Proof that the acting principal administers the tenant. Admin-only repository functions take
/// it, so a member's scope cannot reach them.
#[derive(Clone, Copy, Debug)]
pub struct TenantAdmin<'a> {
    scope: &'a TenantScope,
}

impl<'a> TenantAdmin<'a> {
    pub fn scope(&self) -> &'a TenantScope {
        self.scope
    }

    pub(crate) fn check(&self, tenant: &TenantId) -> StoreResult<()> {
        if self.scope.tenant() == tenant {
            Ok(())
        } else {
            Err(StoreError::Invalid(
                "an admin capability was used on another tenant's transaction".into(),
            ))
        }
    }
}

/// Why a platform administrator opens a tenant's data; becomes the audit row.
#[derive(Clone, Copy, Debug)]
pub struct AuditedAccess<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub reason: &'a str,
    pub request_id: Option<&'a str>,
}

#[derive(Clone, Debug)]
pub struct PlatformAdmin {
    actor: Actor,
}

impl PlatformAdmin {
    pub(crate) fn new(actor: Actor) -> PlatformAdmin {
        PlatformAdmin { actor }
    }

    /// The operator at the console: whoever runs the `switchboard` binary with the database
    /// credentials already holds every platform power, so the CLI acts as a platform admin. The
    /// server never calls this (a test checks the server's sources for it).
    pub fn operator_console(name: &str) -> PlatformAdmin {
        PlatformAdmin::new(Actor::Operator {
            name: name.to_owned(),
        })
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Opens one tenant's data for a platform administrator. The audit row (visible to the
    /// tenant) is committed before the scope is returned: if it cannot be written, there is no
    /// scope and so no read.
    pub async fn open_tenant(
        &self,
        db: &Db,
        tenant: &TenantId,
        access: AuditedAccess<'_>,
    ) -> StoreResult<TenantScope> {
        if access.reason.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a reason is required to open a tenant's data".into(),
            ));
        }
        let mut tx = db.tenant_tx(tenant, true).await?;
        let record = tenants::get_with(tx.conn(), tenant)
            .await?
            .ok_or(StoreError::NotFound("tenant"))?;
        audit::record(&mut tx, &self.actor, access).await?;
        tx.commit().await?;
        Ok(TenantScope::new(
            tenant.clone(),
            Role::Admin,
            self.actor.clone(),
            record.storage_mode,
        ))
    }
}

/// Member-role scopes for a background service, one per active tenant — or, with
/// `credential = Some(provider)`, per active tenant that stored a credential for that provider.
/// Each tenant is checked inside its own transaction, so discovery never runs a query that could
/// see more than one tenant, and never reveals one tenant to another.
pub async fn service_scopes(
    db: &Db,
    _by: &PlatformAdmin,
    service: &str,
    credential: Option<&str>,
) -> StoreResult<Vec<TenantScope>> {
    use crate::repo::tenants::TenantStatus;
    let mut registry = db.registry_tx(false).await?;
    let all = tenants::list(&mut registry).await?;
    registry.commit().await?;
    let mut scopes = Vec::new();
    for tenant in all.into_iter().filter(|t| t.status == TenantStatus::Active) {
        let has = match credential {
            None => true,
            Some(provider) => {
                let mut tx = db.tenant_tx(&tenant.id, false).await?;
                let has = crate::repo::secrets::describe(&mut tx, provider)
                    .await?
                    .is_some();
                tx.commit().await?;
                has
            }
        };
        if has {
            scopes.push(TenantScope::new(
                tenant.id,
                Role::Member,
                Actor::Service {
                    name: service.to_owned(),
                },
                tenant.storage_mode,
            ));
        }
    }
    Ok(scopes)
}
