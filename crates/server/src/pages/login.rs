//! Sign-in and sign-out pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use http::header::SET_COOKIE;
use rand::Rng;
use serde::Deserialize;
use switchboard_store::auth::{AuthError, Authenticated};

use crate::cookies;
use crate::extract::{csrf_matches, session_csrf};
use crate::routes::login_tenant;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    tenant: String,
    email: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    actor: String,
    tenant: Option<String>,
    role: String,
    csrf: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn with_cookies(response: impl IntoResponse, set: &[String]) -> Response {
    let mut response = response.into_response();
    for cookie in set {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// A login page with a fresh double-submit token.
fn login_page(
    status: StatusCode,
    secure: bool,
    tenant: &str,
    email: &str,
    error: Option<&str>,
) -> Response {
    let csrf = hex::encode(rand::rng().random::<[u8; 32]>());
    let page = LoginPage {
        csrf: csrf.clone(),
        tenant: tenant.to_owned(),
        email: email.to_owned(),
        error: error.map(str::to_owned),
    };
    with_cookies(
        (status, page),
        &[cookies::set(cookies::LOGIN_CSRF, &csrf, 3600, secure)],
    )
}

pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    login_page(
        StatusCode::OK,
        cookies::secure(&headers, state.config.behind_tls()),
        "",
        "",
        None,
    )
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let secure = cookies::secure(&headers, state.config.behind_tls());
    let expected = cookies::get(&headers, cookies::LOGIN_CSRF).unwrap_or_default();
    if !csrf_matches(&form.csrf, &expected) {
        return login_page(
            StatusCode::FORBIDDEN,
            secure,
            &form.tenant,
            &form.email,
            Some("Your sign-in form expired. Please try again."),
        );
    }
    let tenant = match login_tenant(Some(&form.tenant)) {
        Ok(tenant) => tenant,
        Err(_) => {
            return login_page(
                StatusCode::UNAUTHORIZED,
                secure,
                &form.tenant,
                &form.email,
                Some("Invalid organisation, email or password."),
            );
        }
    };
    match state
        .auth
        .login(tenant.as_ref(), &form.email, &form.password)
        .await
    {
        Ok(session) => {
            let max_age = (session.expires_at - switchboard_store::clock::now_ms()) / 1000;
            with_cookies(
                Redirect::to("/"),
                &[
                    cookies::set(cookies::SESSION, &session.cookie, max_age, secure),
                    cookies::set(cookies::LOGIN_CSRF, "", 0, secure),
                ],
            )
        }
        Err(err) => {
            let (status, message) = match err {
                AuthError::TenantSuspended => {
                    (StatusCode::FORBIDDEN, "This organisation is suspended.")
                }
                AuthError::TenantDeleting => {
                    (StatusCode::FORBIDDEN, "This organisation is being deleted.")
                }
                AuthError::Store(err) => {
                    tracing::error!(error = ?err, "login failed");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Sign-in is unavailable right now.",
                    )
                }
                _ => (
                    StatusCode::UNAUTHORIZED,
                    "Invalid organisation, email or password.",
                ),
            };
            login_page(status, secure, &form.tenant, &form.email, Some(message))
        }
    }
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(cookie) = cookies::get(&headers, cookies::SESSION) else {
        return Redirect::to("/login").into_response();
    };
    match state.auth.session(&cookie).await {
        // Tenant users land on their dashboard.
        Ok(Authenticated::Tenant { .. }) => Redirect::to("/overview").into_response(),
        Ok(Authenticated::Platform { admin, csrf }) => HomePage {
            actor: admin.actor().to_string(),
            tenant: None,
            role: "platform admin".into(),
            csrf: csrf.unwrap_or_default(),
        }
        .into_response(),
        _ => Redirect::to("/login").into_response(),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let secure = cookies::secure(&headers, state.config.behind_tls());
    if let Some(cookie) = cookies::get(&headers, cookies::SESSION) {
        let csrf = state
            .auth
            .session(&cookie)
            .await
            .ok()
            .as_ref()
            .and_then(session_csrf);
        if let Some(expected) = csrf {
            if !csrf_matches(&form.csrf, &expected) {
                return (
                    StatusCode::FORBIDDEN,
                    "The sign-out form expired; reload the page.",
                )
                    .into_response();
            }
            if let Err(err) = state.auth.logout(&cookie).await {
                tracing::error!(error = ?err, "logout failed");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
    }
    with_cookies(
        Redirect::to("/login"),
        &[cookies::set(cookies::SESSION, "", 0, secure)],
    )
}
