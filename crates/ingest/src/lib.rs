//! Provider connectors (SPEC §4.1): each connector fetches a tenant's new recordings since its
//! watermark and hands them to `switchboard_store::ingest`. `sync` runs one tenant or every tenant
//! with credentials, each isolated from the others; `scheduler` runs that on an interval.

pub mod bucket_drop;
pub mod oak;
pub mod scheduler;
pub mod sync;

pub use sync::{Provider, SyncContext, sync_provider, sync_tenant};
