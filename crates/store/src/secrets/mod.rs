//! The built-in secret store: per-tenant entries (provider credentials, BYOK keys) encrypted at
//! rest with AES-256-GCM. Each write uses a fresh random 96-bit nonce; the associated data binds
//! the tenant, the entry name and its version, so a ciphertext copied to another tenant or name,
//! or replayed from an older version, fails to decrypt. Every entry records the id of the master
//! key that sealed it, so keys can be rotated (`switchboard secrets rotate`) while old entries stay
//! readable until they are rewrapped. An external store (AWS Secrets Manager, Vault) would
//! implement the same `repo::secrets` operations; only the built-in one exists today.

pub(crate) mod keyring;

pub use keyring::{Keyring, KeyringError, MasterKey};
