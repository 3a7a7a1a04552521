//! Credential formats. Every bearer credential names its tenant in clear text and carries a
//! 256-bit random secret; only the SHA-256 of the whole credential is stored. Naming the tenant
//! lets the lookup run inside that tenant's row-level-security scope, so verifying a credential
//! never needs a cross-tenant query.
//!
//! | credential               | format                    |
//! |--------------------------|---------------------------|
//! | tenant API token         | `sbt_<tenant>_<64 hex>`   |
//! | tenant session cookie    | `sbs_<tenant>_<64 hex>`   |
//! | platform API token       | `sbp_<64 hex>`            |
//! | platform session cookie  | `sbps_<64 hex>`           |

use rand::Rng;
use sha2::{Digest, Sha256};
use switchboard_core::TenantId;

#[derive(Debug, PartialEq, Eq)]
pub enum Credential {
    TenantToken(TenantId),
    TenantSession(TenantId),
    PlatformToken,
    PlatformSession,
}

const SECRET_HEX_LEN: usize = 64;

fn secret() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

pub fn new_tenant_token(tenant: &TenantId) -> String {
    format!("sbt_{tenant}_{}", secret())
}

pub fn new_tenant_session(tenant: &TenantId) -> String {
    format!("sbs_{tenant}_{}", secret())
}

pub fn new_platform_token() -> String {
    format!("sbp_{}", secret())
}

pub fn new_platform_session() -> String {
    format!("sbps_{}", secret())
}

/// A random value for CSRF tokens.
pub fn new_csrf_token() -> String {
    secret()
}

/// What is stored: the SHA-256 of the whole credential (the secret has 256 bits of entropy, so a
/// slow hash adds nothing).
pub fn digest(credential: &str) -> String {
    hex::encode(Sha256::digest(credential.as_bytes()))
}

fn is_secret(raw: &str) -> bool {
    raw.len() == SECRET_HEX_LEN
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn tenant_and_secret(rest: &str) -> Option<TenantId> {
    let (tenant, secret) = rest.split_once('_')?;
    is_secret(secret).then_some(())?;
    TenantId::parse(tenant).ok()
}

/// Recognises a credential's kind and tenant. `None` for anything malformed.
pub fn parse(raw: &str) -> Option<Credential> {
    if let Some(rest) = raw.strip_prefix("sbt_") {
        tenant_and_secret(rest).map(Credential::TenantToken)
    } else if let Some(rest) = raw.strip_prefix("sbs_") {
        tenant_and_secret(rest).map(Credential::TenantSession)
    } else if let Some(rest) = raw.strip_prefix("sbps_") {
        is_secret(rest).then_some(Credential::PlatformSession)
    } else if let Some(rest) = raw.strip_prefix("sbp_") {
        is_secret(rest).then_some(Credential::PlatformToken)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_parse_back() {
        let acme = TenantId::parse("acme").unwrap();
        assert_eq!(
            parse(&new_tenant_token(&acme)),
            Some(Credential::TenantToken(acme.clone()))
        );
        assert_eq!(
            parse(&new_tenant_session(&acme)),
            Some(Credential::TenantSession(acme))
        );
        assert_eq!(
            parse(&new_platform_token()),
            Some(Credential::PlatformToken)
        );
        assert_eq!(
            parse(&new_platform_session()),
            Some(Credential::PlatformSession)
        );
    }

    #[test]
    fn malformed_credentials_are_none() {
        for raw in [
            "",
            "sbt_",
            "sbt_acme",
            "sbt_acme_123",
            "sbt_ACME_0000000000000000000000000000000000000000000000000000000000000000",
            "sbt_../x_0000000000000000000000000000000000000000000000000000000000000000",
            "sbp_zz",
            "Bearer x",
        ] {
            assert_eq!(parse(raw), None, "{raw}");
        }
    }

    #[test]
    fn two_tokens_differ_and_digests_are_stable() {
        let acme = TenantId::parse("acme").unwrap();
        let (a, b) = (new_tenant_token(&acme), new_tenant_token(&acme));
        assert_ne!(a, b);
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
    }
}
