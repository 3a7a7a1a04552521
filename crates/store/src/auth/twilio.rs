//! Twilio webhook authentication (SPEC §2 service credentials, §6 routing): `X-Twilio-Signature`
//! is Base64(HMAC-SHA1(auth token, URL + each POST parameter's name and value, sorted by name)),
//! over the full public URL Twilio called. The token is that of the tenant that owns `To` (its
//! `twilio` credential, field `auth_token`), else the platform's. Only a valid signature yields
//! a [`TenantScope`]; the body's `AccountSid` must then match the account of the token used,
//! when that account is known.

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use switchboard_core::Role;

use super::{AuthError, Authenticator, active_tenant};
use crate::repo::{phone_numbers, secrets};
use crate::scope::{Actor, TenantScope};
use crate::secrets::Keyring;

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// The tenant credential (`PUT /api/v1/credentials/twilio`) the webhook reads.
pub const CREDENTIAL: &str = "twilio";

/// The platform's own Twilio account, for numbers whose tenant stored no credential.
#[derive(Clone)]
pub struct PlatformTwilio {
    pub account_sid: Option<String>,
    pub auth_token: SecretString,
}

impl std::fmt::Debug for PlatformTwilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformTwilio")
            .field("account_sid", &self.account_sid)
            .finish_non_exhaustive()
    }
}

/// The signature Twilio sends for `url` and the form `params`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // Twilio sorts by name; for repeated names the values keep their order (a stable sort).
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Constant-time check of a received signature.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], received: &str) -> bool {
    let expected = signature(auth_token, url, params);
    expected.as_bytes().ct_eq(received.trim().as_bytes()).into()
}

/// Who a verified webhook is for.
#[derive(Debug)]
pub enum TwilioCaller {
    /// The dialled number belongs to this (active) tenant.
    Tenant(TenantScope),
    /// Signed with the platform's token, for a number no active tenant owns: answer politely.
    Unrouted,
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

impl Authenticator {
    /// Verifies a Twilio webhook and routes it by `To`. Anything unsigned, mis-signed, or signed
    /// for another account is `Unauthenticated` (the route answers 403).
    pub async fn twilio(
        &self,
        keyring: &Keyring,
        platform: Option<&PlatformTwilio>,
        url: &str,
        params: &[(String, String)],
        header: Option<&str>,
    ) -> Result<TwilioCaller, AuthError> {
        let received = header.ok_or(AuthError::Unauthenticated)?;
        let to = param(params, "To").unwrap_or_default();
        let mut registry = self.db.registry_tx(false).await?;
        let owner = phone_numbers::owner(registry.conn(), to).await?;
        registry.commit().await?;
        let Some(tenant) = owner else {
            let platform = platform.ok_or(AuthError::Unauthenticated)?;
            return if verify(platform.auth_token.expose_secret(), url, params, received)
                && account_matches(platform.account_sid.as_deref(), params)
            {
                Ok(TwilioCaller::Unrouted)
            } else {
                Err(AuthError::Unauthenticated)
            };
        };
        // One tenant transaction: its credential and its registry row (checked for status
        // only once the signature is proven).
        let mut tx = self.db.tenant_tx(&tenant, false).await?;
        let own = secrets::read(&mut tx, keyring, CREDENTIAL).await?;
        let active = active_tenant(tx.conn(), &tenant).await;
        tx.commit().await?;
        let (token, account) = match &own {
            Some(fields) if fields.get("auth_token").is_some() => (
                fields
                    .get("auth_token")
                    .map(|t| t.expose_secret().to_owned()),
                fields
                    .get("account_sid")
                    .map(|a| a.expose_secret().to_owned()),
            ),
            _ => (
                platform.map(|p| p.auth_token.expose_secret().to_owned()),
                platform.and_then(|p| p.account_sid.clone()),
            ),
        };
        let token = token.ok_or(AuthError::Unauthenticated)?;
        if !verify(&token, url, params, received) || !account_matches(account.as_deref(), params) {
            return Err(AuthError::Unauthenticated);
        }
        match active {
            Ok(record) => Ok(TwilioCaller::Tenant(TenantScope::new(
                tenant,
                Role::Member,
                Actor::Service {
                    name: "twilio".into(),
                },
                record.storage_mode,
            ))),
            // A suspended or departing tenant's caller hears the generic message.
            Err(AuthError::TenantSuspended | AuthError::TenantDeleting) => {
                Ok(TwilioCaller::Unrouted)
            }
            Err(other) => Err(other),
        }
    }
}

/// When the account is known, the body must name it.
fn account_matches(expected: Option<&str>, params: &[(String, String)]) -> bool {
    match expected {
        None => true,
        Some(sid) => param(params, "AccountSid")
            .is_some_and(|got| bool::from(got.as_bytes().ct_eq(sid.as_bytes()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// twilio-python's published request-validator vector.
    fn vector() -> (String, Vec<(String, String)>) {
        let params = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec();
        ("https://mycompany.com/myapp.php?foo=1&bar=2".into(), params)
    }

    const EXPECTED: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

    #[test]
    fn the_published_vector_is_valid() {
        let (url, params) = vector();
        assert_eq!(signature("12345", &url, &params), EXPECTED);
        assert!(verify("12345", &url, &params, EXPECTED));
        // Parameter order in the body does not matter.
        let reversed: Vec<_> = params.iter().rev().cloned().collect();
        assert!(verify("12345", &url, &reversed, EXPECTED));
    }

    #[test]
    fn tampering_is_refused() {
        let (url, params) = vector();
        let mut tampered = params.clone();
        tampered[2].1 = "1235".into();
        assert!(
            !verify("12345", &url, &tampered, EXPECTED),
            "tampered value"
        );
        let mut added = params.clone();
        added.push(("Extra".into(), "1".into()));
        assert!(!verify("12345", &url, &added, EXPECTED), "added parameter");
        let dropped = params[1..].to_vec();
        assert!(
            !verify("12345", &url, &dropped, EXPECTED),
            "dropped parameter"
        );
        assert!(!verify("54321", &url, &params, EXPECTED), "wrong token");
        let http = url.replacen("https://", "http://", 1);
        assert!(
            !verify("12345", &http, &params, EXPECTED),
            "scheme mismatch"
        );
        assert!(!verify("12345", &url, &params, ""), "empty signature");
    }
}
