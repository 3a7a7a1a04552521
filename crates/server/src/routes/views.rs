//! JSON shapes of the API (the OpenAPI schemas), built from storage records.

use serde::{Deserialize, Serialize};
use switchboard_store::repo::audit::AuditEntry;
use switchboard_store::repo::tenants::Tenant;
use switchboard_store::repo::tokens::ApiToken;
use switchboard_store::repo::users::User;
use utoipa::ToSchema;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleView {
    Admin,
    Member,
}

impl From<switchboard_core::Role> for RoleView {
    fn from(role: switchboard_core::Role) -> Self {
        match role {
            switchboard_core::Role::Admin => RoleView::Admin,
            switchboard_core::Role::Member => RoleView::Member,
        }
    }
}

impl From<RoleView> for switchboard_core::Role {
    fn from(role: RoleView) -> Self {
        match role {
            RoleView::Admin => switchboard_core::Role::Admin,
            RoleView::Member => switchboard_core::Role::Member,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub role: RoleView,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        UserView {
            id: user.id,
            email: user.email,
            role: user.role.into(),
            created_at: user.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub role: RoleView,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl From<ApiToken> for TokenView {
    fn from(token: ApiToken) -> Self {
        TokenView {
            id: token.id,
            name: token.name,
            role: token.role.into(),
            created_by: token.created_by,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
            revoked_at: token.revoked_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TenantView {
    pub id: String,
    pub name: String,
    /// `active`, `suspended` or `deleting`.
    pub status: String,
    pub industry_template: Option<String>,
    pub plan: String,
    /// `shared` or `dedicated`.
    pub storage_mode: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<Tenant> for TenantView {
    fn from(tenant: Tenant) -> Self {
        TenantView {
            id: tenant.id.to_string(),
            name: tenant.name,
            status: tenant.status.as_str().to_owned(),
            industry_template: tenant.industry_template,
            plan: tenant.plan,
            storage_mode: tenant.storage_mode.as_str().to_owned(),
            created_at: tenant.created_at,
            updated_at: tenant.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditView {
    pub id: String,
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub reason: String,
    pub request_id: Option<String>,
    pub at: i64,
}

impl From<AuditEntry> for AuditView {
    fn from(entry: AuditEntry) -> Self {
        AuditView {
            id: entry.id,
            actor: entry.actor,
            action: entry.action,
            resource: entry.resource,
            reason: entry.reason,
            request_id: entry.request_id,
            at: entry.at,
        }
    }
}

/// A random password for invitations and onboarding when none is given: 24 hex characters.
pub fn generated_password() -> String {
    use rand::Rng;
    hex::encode(rand::rng().random::<[u8; 12]>())
}
