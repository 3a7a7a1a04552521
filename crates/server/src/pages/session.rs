//! The signed-in user of a dashboard page, and the navigation every page shows. A page without
//! a tenant session redirects to the sign-in page (platform administrators to the home page).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use switchboard_store::auth::Authenticated;

use crate::cookies;
use crate::error::ApiError;
use crate::extract::TenantAuth;
use crate::state::AppState;

/// A tenant user signed in with a session cookie.
pub struct PageUser {
    pub auth: TenantAuth,
    pub csrf: String,
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(cookie) = cookies::get(&parts.headers, cookies::SESSION) else {
            return Err(Redirect::to("/login").into_response());
        };
        match state.auth.session(&cookie).await {
            Ok(Authenticated::Tenant { scope, csrf }) => {
                tracing::Span::current().record("tenant.id", scope.tenant().as_str());
                Ok(PageUser {
                    auth: TenantAuth(scope),
                    csrf: csrf.unwrap_or_default(),
                })
            }
            Ok(Authenticated::Platform { .. }) => Err(Redirect::to("/").into_response()),
            Ok(Authenticated::NoTenant { .. }) => Err(Redirect::to("/login").into_response()),
            Err(err) => Err(match ApiError::from(err) {
                e if e.status.is_server_error() => e.into_response(),
                _ => Redirect::to("/login").into_response(),
            }),
        }
    }
}

/// The top navigation: the tenant, who is signed in, and the links the role may follow.
pub struct Nav {
    pub tenant: String,
    pub actor: String,
    pub role: String,
    pub admin: bool,
    pub csrf: String,
    /// `overview`, `agents`, `calls`, `callers` or `settings`.
    pub active: &'static str,
}

impl PageUser {
    pub fn nav(&self, active: &'static str) -> Nav {
        let scope = &self.auth.0;
        Nav {
            tenant: scope.tenant().to_string(),
            actor: scope.actor().to_string(),
            role: scope.role().to_string(),
            admin: scope.admin().is_some(),
            csrf: self.csrf.clone(),
            active,
        }
    }
}
