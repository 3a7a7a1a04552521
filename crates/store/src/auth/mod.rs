//! Credential checks: the only code that turns a credential into a [`TenantScope`] or a
//! [`PlatformAdmin`]. API tokens and sessions are looked up inside the tenant they name (see
//! `credential.rs`); JWTs are verified against their issuer's JWKS and name the tenant in a claim.

pub mod credential;
pub mod jwt;
pub mod password;
pub mod twilio;

use std::sync::Arc;

use switchboard_core::TenantId;

use crate::clock::now_ms;
use crate::repo::tenants::{Tenant, TenantStatus};
use crate::repo::{platform_accounts, sessions, tenants, tokens, users};
use crate::scope::{Actor, PlatformAdmin, TenantScope};
use sqlx::AnyConnection;

use crate::{Db, StoreError};
use credential::Credential;
use jwt::JwtVerifier;

/// The outcome of a successful credential check.
#[derive(Clone, Debug)]
pub enum Authenticated {
    Tenant {
        scope: TenantScope,
        /// The session's CSRF token, when the credential was a session cookie.
        csrf: Option<String>,
    },
    Platform {
        admin: PlatformAdmin,
        csrf: Option<String>,
    },
    /// A valid external token that names no tenant: refused on tenant routes.
    NoTenant { subject: String },
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing or invalid credentials")]
    Unauthenticated,
    #[error("invalid email or password")]
    BadLogin,
    #[error("this tenant is suspended")]
    TenantSuspended,
    #[error("this tenant is being deleted")]
    TenantDeleting,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new dashboard session.
#[derive(Debug)]
pub struct NewSession {
    pub cookie: String,
    pub csrf: String,
    pub expires_at: i64,
}

#[derive(Clone)]
pub struct Authenticator {
    db: Db,
    jwt: Option<Arc<JwtVerifier>>,
}

/// The tenant must exist and be active for any of its credentials to work.
async fn active_tenant(conn: &mut AnyConnection, id: &TenantId) -> Result<Tenant, AuthError> {
    let tenant = tenants::get_with(conn, id)
        .await?
        .ok_or(AuthError::Unauthenticated)?;
    match tenant.status {
        TenantStatus::Active => Ok(tenant),
        TenantStatus::Suspended => Err(AuthError::TenantSuspended),
        TenantStatus::Deleting => Err(AuthError::TenantDeleting),
    }
}

impl Authenticator {
    pub fn new(db: Db, jwt: Option<JwtVerifier>) -> Authenticator {
        Authenticator {
            db,
            jwt: jwt.map(Arc::new),
        }
    }

    /// An `Authorization: Bearer` value: an API token or an external JWT.
    pub async fn bearer(&self, raw: &str) -> Result<Authenticated, AuthError> {
        match credential::parse(raw) {
            Some(Credential::TenantToken(tenant)) => self.tenant_token(&tenant, raw).await,
            Some(Credential::PlatformToken) => self.platform_token(raw).await,
            Some(_) => Err(AuthError::Unauthenticated),
            None if raw.split('.').count() == 3 => self.jwt(raw).await,
            None => Err(AuthError::Unauthenticated),
        }
    }

    /// A session cookie value.
    pub async fn session(&self, raw: &str) -> Result<Authenticated, AuthError> {
        let digest = credential::digest(raw);
        match credential::parse(raw) {
            Some(Credential::TenantSession(tenant)) => {
                let mut tx = self.db.tenant_tx(&tenant, false).await?;
                let session = sessions::find_live(&mut tx, &digest)
                    .await?
                    .ok_or(AuthError::Unauthenticated)?;
                let user = users::get(&mut tx, &session.user_id)
                    .await?
                    .ok_or(AuthError::Unauthenticated)?;
                let record = active_tenant(tx.conn(), &tenant).await?;
                tx.commit().await?;
                Ok(Authenticated::Tenant {
                    scope: TenantScope::new(
                        tenant,
                        user.role,
                        Actor::User {
                            id: user.id,
                            email: user.email,
                        },
                        record.storage_mode,
                    ),
                    csrf: Some(session.csrf_token),
                })
            }
            Some(Credential::PlatformSession) => {
                let mut tx = self.db.registry_tx(false).await?;
                let (account, csrf) = platform_accounts::find_session(&mut tx, &digest)
                    .await?
                    .ok_or(AuthError::Unauthenticated)?;
                tx.commit().await?;
                Ok(Authenticated::Platform {
                    admin: PlatformAdmin::new(Actor::PlatformAdmin {
                        id: account.id,
                        email: account.email,
                    }),
                    csrf: Some(csrf),
                })
            }
            _ => Err(AuthError::Unauthenticated),
        }
    }

    async fn tenant_token(&self, tenant: &TenantId, raw: &str) -> Result<Authenticated, AuthError> {
        let mut tx = self.db.tenant_tx(tenant, false).await?;
        let token = tokens::find_active(&mut tx, &credential::digest(raw))
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        let record = active_tenant(tx.conn(), tenant).await?;
        tx.commit().await?;
        let now = now_ms();
        if tokens::needs_touch(&token, now) {
            let mut tx = self.db.tenant_tx(tenant, true).await?;
            tokens::touch(&mut tx, &token.id, now).await?;
            tx.commit().await?;
        }
        Ok(Authenticated::Tenant {
            scope: TenantScope::new(
                tenant.clone(),
                token.role,
                Actor::ApiToken {
                    id: token.id,
                    name: token.name,
                },
                record.storage_mode,
            ),
            csrf: None,
        })
    }

    async fn platform_token(&self, raw: &str) -> Result<Authenticated, AuthError> {
        let mut tx = self.db.registry_tx(false).await?;
        let (id, name) = platform_accounts::find_token(&mut tx, &credential::digest(raw))
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        tx.commit().await?;
        Ok(Authenticated::Platform {
            admin: PlatformAdmin::new(Actor::PlatformToken { id, name }),
            csrf: None,
        })
    }

    async fn jwt(&self, raw: &str) -> Result<Authenticated, AuthError> {
        let verifier = self.jwt.as_ref().ok_or(AuthError::Unauthenticated)?;
        let verified = verifier.verify(raw).await.map_err(|err| {
            tracing::debug!(error = %err, "external token refused");
            AuthError::Unauthenticated
        })?;
        let Some(claimed) = verified.tenant else {
            return Ok(Authenticated::NoTenant {
                subject: verified.subject,
            });
        };
        // An organisation that is not a valid tenant id cannot be a tenant of ours.
        let tenant = TenantId::parse(&claimed).map_err(|_| AuthError::Unauthenticated)?;
        let mut registry = self.db.registry_tx(false).await?;
        let record = active_tenant(registry.conn(), &tenant).await?;
        registry.commit().await?;
        Ok(Authenticated::Tenant {
            scope: TenantScope::new(
                tenant,
                verified.role,
                Actor::External {
                    issuer: verified.issuer,
                    subject: verified.subject,
                    email: verified.email,
                },
                record.storage_mode,
            ),
            csrf: None,
        })
    }

    /// Password login. `tenant = None` logs in a platform administrator.
    pub async fn login(
        &self,
        tenant: Option<&TenantId>,
        email: &str,
        password: &str,
    ) -> Result<NewSession, AuthError> {
        let email = users::normalize_email(email).map_err(|_| AuthError::BadLogin)?;
        match tenant {
            Some(tenant) => {
                let mut tx = self.db.tenant_tx(tenant, true).await?;
                let found = users::credentials_by_email(&mut tx, &email).await?;
                let user = match found {
                    Some((user, Some(hash))) if password::verify(password, &hash) => user,
                    Some(_) => return Err(AuthError::BadLogin),
                    None => {
                        password::verify_dummy(password);
                        return Err(AuthError::BadLogin);
                    }
                };
                active_tenant(tx.conn(), tenant).await?;
                let (cookie, csrf, expires_at) = sessions::create(&mut tx, &user.id).await?;
                tx.commit().await?;
                Ok(NewSession {
                    cookie,
                    csrf,
                    expires_at,
                })
            }
            None => {
                let mut tx = self.db.registry_tx(true).await?;
                let found = platform_accounts::credentials_by_email(&mut tx, &email).await?;
                let account = match found {
                    Some((account, hash)) if password::verify(password, &hash) => account,
                    Some(_) => return Err(AuthError::BadLogin),
                    None => {
                        password::verify_dummy(password);
                        return Err(AuthError::BadLogin);
                    }
                };
                let (cookie, csrf, expires_at) =
                    platform_accounts::create_session(&mut tx, &account.id).await?;
                tx.commit().await?;
                Ok(NewSession {
                    cookie,
                    csrf,
                    expires_at,
                })
            }
        }
    }

    /// Ends a session. Unknown or malformed cookies are ignored.
    pub async fn logout(&self, raw: &str) -> Result<(), AuthError> {
        let digest = credential::digest(raw);
        match credential::parse(raw) {
            Some(Credential::TenantSession(tenant)) => {
                let mut tx = self.db.tenant_tx(&tenant, true).await?;
                sessions::delete(&mut tx, &digest).await?;
                tx.commit().await?;
            }
            Some(Credential::PlatformSession) => {
                let mut tx = self.db.registry_tx(true).await?;
                platform_accounts::delete_session(&mut tx, &digest).await?;
                tx.commit().await?;
            }
            _ => {}
        }
        Ok(())
    }
}
