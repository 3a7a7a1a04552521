//! The router. JSON routes are registered through `utoipa-axum`, so the OpenAPI document is built
//! from the same handlers that serve requests.

pub mod analytics;
mod audit;
pub mod callers;
pub mod calls;
pub mod config;
mod credentials;
mod health;
mod ingest;
mod me;
mod memory;
mod platform;
mod receptionist;
mod session;
pub use session::login_tenant;
mod tokens;
mod twilio;
mod users;
pub mod views;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::{Json, Router, middleware};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::openapi::ApiDoc;
use crate::state::AppState;
use crate::{pages, telemetry};

/// The API routes and their OpenAPI document.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me::me))
        .routes(routes!(users::list, users::invite))
        .routes(routes!(users::update, users::remove))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(audit::list))
        .routes(routes!(credentials::list))
        .routes(routes!(
            credentials::get,
            credentials::put,
            credentials::delete
        ))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(platform::create_tenant, platform::list_tenants))
        .routes(routes!(platform::get_tenant, platform::delete_tenant))
        .routes(routes!(platform::suspend))
        .routes(routes!(platform::resume))
        .routes(routes!(platform::tenant_users))
        .merge(
            // Uploads count their own bytes against `max_upload_bytes` (413 beyond), so the
            // default 2 MB body limit is lifted for these routes only.
            OpenApiRouter::new()
                .routes(routes!(calls::upload, calls::list))
                .layer(DefaultBodyLimit::disable()),
        )
        .routes(routes!(calls::get))
        .routes(routes!(calls::audio))
        .routes(routes!(analytics::overview))
        .routes(routes!(analytics::agents))
        .routes(routes!(analytics::agent))
        .routes(routes!(calls::retry))
        .routes(routes!(calls::reanalyse))
        .routes(routes!(calls::usage))
        .routes(routes!(config::get_ai, config::put_ai))
        .routes(routes!(config::get_qa, config::put_qa))
        .routes(routes!(receptionist::list_templates))
        .routes(routes!(receptionist::get_template))
        .routes(routes!(
            receptionist::get_settings,
            receptionist::put_settings
        ))
        .routes(routes!(receptionist::patch_variables))
        .routes(routes!(receptionist::clone_template))
        .routes(routes!(receptionist::sync_template))
        .routes(routes!(receptionist::get_readiness))
        .routes(routes!(
            receptionist::list_knowledge,
            receptionist::add_knowledge
        ))
        .routes(routes!(
            receptionist::update_knowledge,
            receptionist::delete_knowledge
        ))
        .routes(routes!(receptionist::list_calls))
        .routes(routes!(receptionist::get_call))
        .routes(routes!(receptionist::retry_sms))
        .routes(routes!(platform::list_numbers))
        .routes(routes!(platform::assign_number, platform::release_number))
        .routes(routes!(platform::publish_template))
        .routes(routes!(callers::list))
        .routes(routes!(callers::get, callers::forget))
        .routes(routes!(memory::legacy_store))
        .routes(routes!(memory::add))
        .routes(routes!(memory::list))
        .routes(routes!(memory::delete))
        .routes(routes!(memory::context))
        .routes(routes!(memory::process_call))
        .routes(routes!(memory::summaries))
        .routes(routes!(memory::profile))
        .routes(routes!(memory::personality))
        .routes(routes!(ingest::run))
        .routes(routes!(ingest::runs))
        .split_for_parts()
}

pub fn router(state: AppState) -> Router {
    let (api, openapi) = api();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let openapi = openapi.clone();
                async move { Json(openapi.as_ref().clone()) }
            }),
        )
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .merge(pages::router())
        .merge(twilio::router())
        .fallback(|| async { ApiError::not_found("route") })
        .layer(middleware::from_fn(telemetry::log_request))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}
