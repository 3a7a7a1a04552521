//! The HTTP server: JSON API under `/api/v1`, login pages, health and readiness. Handlers reach
//! tenant data only through the [`extract::TenantAuth`] extractor's scope, and platform operations
//! only through [`extract::PlatformAuth`].

pub mod cookies;
pub mod error;
pub mod extract;
pub mod memory;
pub mod openapi;
pub mod pages;
pub mod range;
pub mod receptionist;
pub mod routes;
pub mod state;
pub mod telemetry;

pub use routes::router;
pub use state::{AppState, ServerConfig};
