//! Authentication extractors. A handler that needs tenant data takes [`TenantAuth`], whose scope
//! came from a verified credential; a platform handler takes [`PlatformAuth`]. Session-cookie
//! requests that change state must carry the session's CSRF token in `X-CSRF-Token`.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use http::Method;
use http::header::AUTHORIZATION;
use subtle::ConstantTimeEq;
use switchboard_store::auth::Authenticated;
use switchboard_store::{PlatformAdmin, TenantAdmin, TenantScope};

use crate::cookies;
use crate::error::ApiError;
use crate::state::AppState;

pub const CSRF_HEADER: &str = "x-csrf-token";

/// Whether the request carries a credential at all (a bearer token or a session cookie) — valid or
/// not. Routes that explain a missing tenant differently from a bad credential ask this.
pub fn presents_credential(parts: &Parts) -> bool {
    parts.headers.contains_key(AUTHORIZATION)
        || cookies::get(&parts.headers, cookies::SESSION).is_some()
}

/// The authenticated principal of a request, before role checks.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Authenticated, ApiError> {
    if let Some(value) = parts.headers.get(AUTHORIZATION) {
        let raw = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthenticated)?;
        return Ok(state.auth.bearer(raw.trim()).await?);
    }
    let cookie =
        cookies::get(&parts.headers, cookies::SESSION).ok_or_else(ApiError::unauthenticated)?;
    let authenticated = state.auth.session(&cookie).await?;
    let csrf = session_csrf(&authenticated);
    if !is_safe(&parts.method) {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !csrf_matches(sent, &csrf.unwrap_or_default()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_failed",
                "a session-authenticated change needs the session's X-CSRF-Token header",
            ));
        }
    }
    Ok(authenticated)
}

/// The CSRF token of a session credential (`None` for anything else).
pub fn session_csrf(authenticated: &Authenticated) -> Option<String> {
    match authenticated {
        Authenticated::Tenant { csrf, .. } | Authenticated::Platform { csrf, .. } => csrf.clone(),
        Authenticated::NoTenant { .. } => None,
    }
}

/// Constant-time comparison of a submitted CSRF token with the expected one; empty never matches.
pub fn csrf_matches(sent: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A request acting for one tenant.
pub struct TenantAuth(pub TenantScope);

impl TenantAuth {
    /// The tenant-admin capability, or 403.
    pub fn admin(&self) -> Result<TenantAdmin<'_>, ApiError> {
        self.0
            .admin()
            .ok_or_else(|| ApiError::forbidden("this action needs the admin role"))
    }
}

impl FromRequestParts<AppState> for TenantAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match authenticate(parts, state).await? {
            Authenticated::Tenant { scope, .. } => {
                tracing::Span::current().record("tenant.id", scope.tenant().as_str());
                Ok(TenantAuth(scope))
            }
            Authenticated::Platform { .. } | Authenticated::NoTenant { .. } => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "tenant_required",
                "this route acts on one tenant, and the credential names none",
            )),
        }
    }
}

/// A request by a platform administrator.
pub struct PlatformAuth(pub PlatformAdmin);

impl FromRequestParts<AppState> for PlatformAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match authenticate(parts, state).await? {
            Authenticated::Platform { admin, .. } => Ok(PlatformAuth(admin)),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "platform_only",
                "this route is for platform administrators",
            )),
        }
    }
}

/// The request id set by the request-id middleware.
pub struct RequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(
            parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ))
    }
}
