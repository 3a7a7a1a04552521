//! The call-intelligence pipeline (SPEC §4): `transcribe → enrich → analyse → publish`, each a
//! durable job in the store's queue, run by [`worker`]s under the job's tenant.
//!
//! Pure parts (no IO) are their own modules: conversation [`metrics`], [`sentiment`] aggregates,
//! [`qa`] evaluation, the extractive [`summary`], [`parties`] (direction and agent), the
//! [`record`] artifacts and the [`flat`] rows. [`stages`] glue them to storage and engines;
//! [`live`] brings finished receptionist calls in (transcript from turns, caller memory).

pub mod config;
pub mod embedding_memo;
pub mod engines;
pub mod flat;
pub mod flat_parquet;
pub mod live;
pub mod metrics;
pub mod parties;
pub mod qa;
pub mod record;
pub mod redact;
pub mod sentiment;
pub mod sms;
pub mod stage;
pub mod stages;
pub mod summary;
pub mod worker;

pub use engines::{Engines, LazyEngine};
pub use stage::Stage;
pub use worker::{Pipeline, PipelineSettings};
