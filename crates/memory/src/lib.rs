//! Caller memory (SPEC §7). A finished conversation becomes a call summary, an updated caller
//! profile (the tenant template's profile fields and its quick bio), memories (the caller's own
//! statements of fact) and personality metrics with running averages; the caller's context at
//! the next call is the quick bio, the recent summaries and the memories most relevant by
//! embedding similarity and recency. Everything is per tenant: the store binds the tenant of the
//! transaction in every statement, and PostgreSQL's row-level security checks it again.
//!
//! The pure parts (what to remember) are deterministic and need no model beyond VADER and,
//! when loaded, MiniLM; [`service`] stores and reads them.

pub mod caller;
pub mod conversation;
pub mod facts;
pub mod personality;
pub mod profile;
pub mod relevance;
pub mod service;
pub mod summary;
pub mod vector;

pub use conversation::{Message, Role};
