//! Pure domain types shared by every layer of Switchboard. Nothing in this crate does IO.

pub mod audio_format;
pub mod call_meta;
pub mod object_key;
pub mod role;
pub mod tenant_id;

pub use audio_format::AudioFormat;
pub use object_key::{Area, ObjectKey, ObjectKeyError, RelativeName};
pub use role::Role;
pub use tenant_id::{TenantId, TenantIdError};
