//! Repositories. Tenant repositories take a [`crate::TenantTx`] and bind its tenant in every
//! statement; registry repositories take a [`crate::PlatformTx`].

pub mod analytics;
pub mod audit;
pub mod callers;
pub mod calls;
pub mod live_calls;
pub mod memory;
pub mod phone_numbers;
pub mod platform_accounts;
pub mod receptionist;
pub mod results;
pub(crate) mod rollups;
pub mod secrets;
pub mod sessions;
pub mod sms;
pub mod syncs;
pub mod templates;
pub mod tenants;
pub mod tokens;
pub mod users;

use rand::Rng;

/// A random opaque id (128 bits, hex).
pub(crate) fn new_id() -> String {
    hex::encode(rand::rng().random::<[u8; 16]>())
}
