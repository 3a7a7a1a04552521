//! `TenantId`: the validated identifier of a tenant. It is also a storage key segment and the
//! suffix of a dedicated bucket name, so its alphabet is the intersection of what S3 bucket names,
//! object keys and URLs accept.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// Ids that would be confused with platform routes or the login form's "platform" choice.
const RESERVED: &[&str] = &["platform", "admin", "api", "system"];

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantIdError {
    #[error("a tenant id has 3 to 63 characters")]
    Length,
    #[error("a tenant id uses only lowercase letters, digits and '-'")]
    Alphabet,
    #[error("a tenant id starts and ends with a letter or digit and has no '--'")]
    Shape,
    #[error("'{0}' is reserved and cannot be a tenant id")]
    Reserved(String),
}

impl TenantId {
    pub fn parse(raw: &str) -> Result<Self, TenantIdError> {
        if !(3..=63).contains(&raw.len()) {
            return Err(TenantIdError::Length);
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(TenantIdError::Alphabet);
        }
        if raw.starts_with('-') || raw.ends_with('-') || raw.contains("--") {
            return Err(TenantIdError::Shape);
        }
        if RESERVED.contains(&raw) {
            return Err(TenantIdError::Reserved(raw.to_owned()));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TenantId {
    type Err = TenantIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_bucket_safe_ids() {
        for ok in ["acme", "acme-corp", "a1b", "123", &"a".repeat(63)] {
            assert!(TenantId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "ab",
            "Acme",
            "acme_corp",
            "acme.corp",
            "-acme",
            "acme-",
            "ac--me",
            "ac/me",
            "../x",
            "acme\0",
            "platform",
            &"a".repeat(64),
        ] {
            assert!(TenantId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
