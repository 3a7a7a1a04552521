//! Logging: `tracing` with an optional JSON format, and one span per request named by its route
//! template, carrying the request id and (once authenticated) the tenant id. `/health` and
//! `/ready` log at debug. Nothing here logs headers or bodies, so credentials never reach a log.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::{Instrument, field};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (stderr). `json = true` prints one JSON object per line;
/// `RUST_LOG` overrides `default_filter`.
pub fn init(json: bool, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
}

pub async fn log_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        otel.name = %format!("{method} {route}"),
        http.method = %method,
        http.route = %route,
        request.id = %request_id,
        tenant.id = field::Empty,
    );
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    let _entered = span.enter();
    if route == "/health" || route == "/ready" {
        tracing::debug!(http.status = status, duration_ms, "request finished");
    } else {
        tracing::info!(http.status = status, duration_ms, "request finished");
    }
    response
}
