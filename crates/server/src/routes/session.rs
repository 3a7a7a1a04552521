//! JSON login and logout for programs that use the session cookie (the dashboard's pages use the
//! form posts in `pages::login`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http::header::SET_COOKIE;
use serde::{Deserialize, Serialize};
use switchboard_core::TenantId;
use utoipa::ToSchema;

use crate::cookies;
use crate::error::{ApiError, ApiResult, AppJson, ErrorBody};
use crate::extract::{CSRF_HEADER, csrf_matches, session_csrf};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct Login {
    /// The organisation (tenant id); absent for platform administrators.
    pub tenant: Option<String>,
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoggedIn {
    /// Send it back in `X-CSRF-Token` on every state-changing request made with the cookie.
    pub csrf_token: String,
    /// Unix milliseconds.
    pub expires_at: i64,
}

/// Parses the login form's organisation field: empty means a platform administrator.
pub fn login_tenant(raw: Option<&str>) -> Result<Option<TenantId>, ApiError> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(raw) => TenantId::parse(raw)
            .map(Some)
            .map_err(|_| ApiError::from(switchboard_store::auth::AuthError::BadLogin)),
    }
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, body = LoggedIn), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppJson(body): AppJson<Login>,
) -> ApiResult<Response> {
    let tenant = login_tenant(body.tenant.as_deref())?;
    let session = state
        .auth
        .login(tenant.as_ref(), &body.email, &body.password)
        .await?;
    let secure = cookies::secure(&headers, state.config.behind_tls());
    let max_age = (session.expires_at - switchboard_store::clock::now_ms()) / 1000;
    let cookie = cookies::set(cookies::SESSION, &session.cookie, max_age, secure);
    let mut response = Json(LoggedIn {
        csrf_token: session.csrf,
        expires_at: session.expires_at,
    })
    .into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|_| ApiError::internal())?,
    );
    Ok(response)
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(cookie) = cookies::get(&headers, cookies::SESSION) {
        // Logging out needs the session's CSRF token, like every cookie-authenticated change.
        let csrf = state
            .auth
            .session(&cookie)
            .await
            .ok()
            .as_ref()
            .and_then(session_csrf);
        if let Some(expected) = csrf {
            let sent = headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !csrf_matches(sent, &expected) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf_failed",
                    "logout needs the session's X-CSRF-Token header",
                ));
            }
        }
        state.auth.logout(&cookie).await?;
    }
    let secure = cookies::secure(&headers, state.config.behind_tls());
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        HeaderValue::from_str(&cookies::set(cookies::SESSION, "", 0, secure))
            .map_err(|_| ApiError::internal())?,
    );
    Ok(response)
}
