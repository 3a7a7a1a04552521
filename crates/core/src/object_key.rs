//! Object-storage keys (SPEC §3). A key is `<area>/<tenant>/<relative name>`; it can only be built
//! from a [`TenantId`] and a [`RelativeName`], and a relative name is validated by an allow-list, so
//! a key can never climb out of its tenant's prefix. Unsafe names are rejected, never "cleaned".

use std::fmt;

use crate::TenantId;

/// The three storage areas of SPEC §3. In S3 mode each maps to its own bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Area {
    /// Recordings and provider metadata as received.
    Input,
    /// Transcripts, enriched and final records, flat rows.
    Results,
    /// Per-tenant configuration documents.
    Config,
}

impl Area {
    pub const ALL: [Area; 3] = [Area::Input, Area::Results, Area::Config];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::Input => "input",
            Area::Results => "results",
            Area::Config => "config",
        }
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectKeyError {
    #[error("an object name must not be empty")]
    Empty,
    #[error("an object name has at most 512 bytes")]
    TooLong,
    #[error("an object name must not start with '/'")]
    Absolute,
    #[error("an object name must not contain empty segments ('//' or a trailing '/')")]
    EmptySegment,
    #[error("an object name must not contain '.' or '..' segments, or segments starting with '.'")]
    DotSegment,
    #[error("an object name may contain only letters, digits, '.', '-', '_' and '/' (found {0:?})")]
    ForbiddenCharacter(char),
}

/// A validated name relative to a tenant's area, such as `audio/call-42.wav`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RelativeName(String);

impl RelativeName {
    pub fn parse(raw: &str) -> Result<Self, ObjectKeyError> {
        if raw.is_empty() {
            return Err(ObjectKeyError::Empty);
        }
        if raw.len() > 512 {
            return Err(ObjectKeyError::TooLong);
        }
        if raw.starts_with('/') {
            return Err(ObjectKeyError::Absolute);
        }
        // Characters first, so a backslash, NUL, '%' or control character is named as such.
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/')))
        {
            return Err(ObjectKeyError::ForbiddenCharacter(bad));
        }
        for segment in raw.split('/') {
            if segment.is_empty() {
                return Err(ObjectKeyError::EmptySegment);
            }
            if segment.starts_with('.') {
                return Err(ObjectKeyError::DotSegment);
            }
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A full key: `<area>/<tenant>/<name>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    area: Area,
    tenant: TenantId,
    name: RelativeName,
}

impl ObjectKey {
    pub fn new(area: Area, tenant: &TenantId, name: RelativeName) -> Self {
        Self {
            area,
            tenant: tenant.clone(),
            name,
        }
    }

    pub fn area(&self) -> Area {
        self.area
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    pub fn name(&self) -> &RelativeName {
        &self.name
    }

    /// The tenant's prefix in an area: `<area>/<tenant>`. Listing under it is segment-wise, so
    /// `acme` never matches `acme-evil`.
    pub fn tenant_prefix(area: Area, tenant: &TenantId) -> String {
        format!("{}/{}", area.as_str(), tenant.as_str())
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.area, self.tenant, self.name.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).unwrap()
    }

    #[test]
    fn builds_the_spec_layout() {
        let key = ObjectKey::new(
            Area::Results,
            &tenant("acme"),
            RelativeName::parse("final/v2.0-flat/calls/2026-11-22.csv").unwrap(),
        );
        assert_eq!(
            key.to_string(),
            "results/acme/final/v2.0-flat/calls/2026-11-22.csv"
        );
    }

    #[test]
    fn rejects_traversal_and_unsafe_names() {
        let cases = [
            ("", ObjectKeyError::Empty),
            ("../other/audio/x.wav", ObjectKeyError::DotSegment),
            ("audio/../../x", ObjectKeyError::DotSegment),
            ("..%2Fx", ObjectKeyError::ForbiddenCharacter('%')),
            ("%2e%2e/x", ObjectKeyError::ForbiddenCharacter('%')),
            ("/etc/passwd", ObjectKeyError::Absolute),
            ("audio\\..\\x", ObjectKeyError::ForbiddenCharacter('\\')),
            ("audio/x\0.wav", ObjectKeyError::ForbiddenCharacter('\0')),
            ("audio//x.wav", ObjectKeyError::EmptySegment),
            ("audio/", ObjectKeyError::EmptySegment),
            ("./x", ObjectKeyError::DotSegment),
            ("audio/./x", ObjectKeyError::DotSegment),
            ("..", ObjectKeyError::DotSegment),
            ("audio/x\n", ObjectKeyError::ForbiddenCharacter('\n')),
            ("audio/x y", ObjectKeyError::ForbiddenCharacter(' ')),
        ];
        for (raw, expected) in cases {
            assert_eq!(RelativeName::parse(raw), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn a_tenant_prefix_is_a_whole_segment() {
        let key = ObjectKey::new(
            Area::Input,
            &tenant("acme-evil"),
            RelativeName::parse("audio/x.wav").unwrap(),
        );
        let acme_prefix = format!(
            "{}/",
            ObjectKey::tenant_prefix(Area::Input, &tenant("acme"))
        );
        assert!(!key.to_string().starts_with(&acme_prefix));
    }
}
