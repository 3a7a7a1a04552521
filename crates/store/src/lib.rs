//! The storage layer: the database (SQLite or PostgreSQL behind one API), object storage, and the
//! credential checks that are the only way to obtain a [`TenantScope`].
//!
//! Tenant data is reachable only through a [`TenantScope`] (see `scope.rs`): repositories take a
//! [`db::TenantTx`], which can only be opened from a scope, and every query they run binds the
//! scope's tenant. On PostgreSQL the same transaction also sets `app.tenant_id`, so row-level
//! security enforces the boundary a second time.

pub mod auth;
pub mod clock;
pub mod db;
pub mod error;
pub mod group_commit;
pub mod ingest;
pub mod objects;
pub mod onboarding;
pub mod queue;
pub mod repo;
pub mod scope;
pub mod secrets;
pub mod synthetic;

pub use db::{Backend, Db, DbConfig, PlatformTx, TenantTx};
pub use error::{StoreError, StoreResult};
pub use objects::{Storage, StorageConfig, StorageMode, TenantObjects};
pub use scope::{Actor, PlatformAdmin, TenantAdmin, TenantScope};
