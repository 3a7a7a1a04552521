//! Server-rendered pages: sign-in and sign-out, and the dashboard (SPEC §5) — overview, agent
//! explorer and agent detail, calls list and call detail, the caller directory, admin settings. Pages read the same
//! structs as the JSON API, render charts as SVG on the server and work without JavaScript.
//! Form posts carry a CSRF token: the login form by double submit (cookie + field), signed-in
//! forms the session's token.

mod agents;
mod callers;
mod calls;
pub mod charts;
mod format;
mod login;
mod overview;
mod session;
mod settings;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;
use session::Nav;

/// A page, or the error page that replaces it.
pub type PageResult = Result<Response, Response>;

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Nav,
    heading: &'static str,
    code: &'static str,
    message: String,
}

/// The error as a page with the same status and machine-readable code as the API would give.
pub fn error_page(nav: Nav, err: ApiError) -> Response {
    let heading = match err.status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        s if s.is_client_error() => "Please check the request",
        _ => "Something went wrong",
    };
    (
        err.status,
        ErrorPage {
            nav,
            heading,
            code: err.code,
            message: err.message,
        },
    )
        .into_response()
}

/// Previous / next links of a paginated table.
pub struct Pager {
    pub showing: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub fn new<Q: Serialize>(
        path: &str,
        query: &Q,
        offset: i64,
        size: i64,
        total: i64,
        at: impl Fn(&Q, i64) -> Q,
    ) -> Pager {
        let offset = offset.max(0);
        let link = |offset: i64| format!("{path}{}", format::query_string(&at(query, offset)));
        Pager {
            showing: if total == 0 {
                "none".into()
            } else {
                format!(
                    "{}–{} of {total}",
                    (offset + 1).min(total),
                    (offset + size).min(total)
                )
            },
            prev: (offset > 0).then(|| link((offset - size).max(0))),
            next: (offset + size < total).then(|| link(offset + size)),
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(login::home))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/overview", get(overview::page))
        .route("/agents", get(agents::list))
        .route("/agents.csv", get(agents::export))
        .route("/agents/{id}", get(agents::detail))
        .route("/callers", get(callers::list))
        .route("/callers/{user_id}", get(callers::detail))
        .route("/calls", get(calls::list))
        .route("/calls.csv", get(calls::export))
        .route("/calls/{id}", get(calls::detail))
        .route("/settings", get(settings::page))
}
