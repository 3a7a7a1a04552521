//! Server-rendered pages. For now: sign-in, a home page, and sign-out. Form posts carry a CSRF
//! token: the login form by double submit (cookie + field), signed-in forms the session's token.

mod login;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(login::home))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
}
