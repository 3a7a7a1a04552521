//! External OpenID Connect / JWT issuers (Clerk, Cognito, Auth0, Keycloak, …). A token is accepted
//! only when its `iss` is a configured issuer, its header algorithm is on that issuer's allow-list
//! (asymmetric algorithms only: `none` and HMAC can never be configured), its signature verifies
//! against a key from the issuer's JWKS with a matching `kid` and key type, and `exp`, `nbf` and
//! `aud`/`azp` check out. The JWKS is cached; an unknown `kid` triggers at most one refetch per
//! `min_refetch_interval_secs`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use switchboard_core::Role;
use tokio::sync::Mutex;

/// How long a fetched JWKS is trusted before it is fetched again on the next use.
const JWKS_TTL: Duration = Duration::from_secs(600);

#[derive(Clone, Debug, Deserialize)]
pub struct JwtIssuerConfig {
    /// The exact `iss` value.
    pub issuer: String,
    pub jwks_url: String,
    /// Accepted audiences, matched against `aud` or `azp`. Empty: not checked.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Dotted claim paths that hold the tenant id, tried in order.
    #[serde(default = "default_tenant_claims")]
    pub tenant_claims: Vec<String>,
    /// Dotted claim paths that hold the organisation role, tried in order.
    #[serde(default = "default_role_claims")]
    pub role_claims: Vec<String>,
    #[serde(default = "default_algorithms")]
    pub algorithms: Vec<String>,
    #[serde(default = "default_min_refetch_interval_secs")]
    pub min_refetch_interval_secs: u64,
    #[serde(default = "default_leeway_secs")]
    pub leeway_secs: u64,
}

fn default_tenant_claims() -> Vec<String> {
    vec!["org_id".into(), "o.id".into()]
}
fn default_role_claims() -> Vec<String> {
    vec!["org_role".into(), "o.rol".into()]
}
fn default_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into()]
}
fn default_min_refetch_interval_secs() -> u64 {
    30
}
fn default_leeway_secs() -> u64 {
    30
}

impl JwtIssuerConfig {
    pub fn new(issuer: &str, jwks_url: &str, audiences: Vec<String>) -> JwtIssuerConfig {
        JwtIssuerConfig {
            issuer: issuer.to_owned(),
            jwks_url: jwks_url.to_owned(),
            audiences,
            tenant_claims: default_tenant_claims(),
            role_claims: default_role_claims(),
            algorithms: default_algorithms(),
            min_refetch_interval_secs: default_min_refetch_interval_secs(),
            leeway_secs: default_leeway_secs(),
        }
    }
}

/// The identity a verified token carries.
#[derive(Clone, Debug)]
pub struct VerifiedJwt {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    /// The raw tenant claim; `None` when the token names no organisation.
    pub tenant: Option<String>,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("token rejected: {0}")]
    Rejected(&'static str),
}

#[derive(Clone)]
struct KnownKey {
    key: DecodingKey,
    /// The JWK's own `alg`, when it states one.
    alg: Option<String>,
    /// The issuer's allowed algorithms that fit this key's type.
    fits: Vec<Algorithm>,
}

#[derive(Default)]
struct JwksCache {
    keys: HashMap<String, KnownKey>,
    fetched_at: Option<Instant>,
    last_unknown_kid_refetch: Option<Instant>,
}

struct Issuer {
    config: JwtIssuerConfig,
    algorithms: Vec<Algorithm>,
    cache: Mutex<JwksCache>,
}

pub struct JwtVerifier {
    issuers: Vec<Issuer>,
    http: reqwest::Client,
}

fn allowed_algorithm(name: &str) -> Result<Algorithm, JwtError> {
    match name {
        "RS256" => Ok(Algorithm::RS256),
        "RS384" => Ok(Algorithm::RS384),
        "RS512" => Ok(Algorithm::RS512),
        "PS256" => Ok(Algorithm::PS256),
        "PS384" => Ok(Algorithm::PS384),
        "PS512" => Ok(Algorithm::PS512),
        "ES256" => Ok(Algorithm::ES256),
        "ES384" => Ok(Algorithm::ES384),
        "EdDSA" => Ok(Algorithm::EdDSA),
        other => Err(JwtError::Config(format!(
            "algorithm {other:?} is not allowed (asymmetric algorithms only)"
        ))),
    }
}

fn key_fits(alg: Algorithm, params: &AlgorithmParameters) -> bool {
    use Algorithm::*;
    matches!(
        (alg, params),
        (
            RS256 | RS384 | RS512 | PS256 | PS384 | PS512,
            AlgorithmParameters::RSA(_)
        ) | (ES256 | ES384, AlgorithmParameters::EllipticCurve(_))
            | (EdDSA, AlgorithmParameters::OctetKeyPair(_))
    )
}

fn claim<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(claims, |value, part| value.get(part))
}

fn claim_str(claims: &Value, path: &str) -> Option<String> {
    claim(claims, path)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl JwtVerifier {
    pub fn new(configs: Vec<JwtIssuerConfig>) -> Result<JwtVerifier, JwtError> {
        let issuers = configs
            .into_iter()
            .map(|config| {
                let algorithms = config
                    .algorithms
                    .iter()
                    .map(|name| allowed_algorithm(name))
                    .collect::<Result<Vec<_>, _>>()?;
                if algorithms.is_empty() {
                    return Err(JwtError::Config(
                        "an issuer needs at least one algorithm".into(),
                    ));
                }
                Ok(Issuer {
                    config,
                    algorithms,
                    cache: Mutex::new(JwksCache::default()),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| JwtError::Config(format!("http client: {e}")))?;
        Ok(JwtVerifier { issuers, http })
    }

    pub async fn verify(&self, token: &str) -> Result<VerifiedJwt, JwtError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| JwtError::Rejected("malformed header"))?;
        let unverified: Value = jsonwebtoken::dangerous::insecure_decode_claims(token)
            .map_err(|_| JwtError::Rejected("malformed claims"))?;
        let iss = unverified.get("iss").and_then(Value::as_str);
        let issuer = self
            .issuers
            .iter()
            .find(|issuer| Some(issuer.config.issuer.as_str()) == iss)
            .ok_or(JwtError::Rejected("unknown issuer"))?;
        if !issuer.algorithms.contains(&header.alg) {
            return Err(JwtError::Rejected("algorithm not allowed"));
        }
        let kid = header.kid.as_deref().ok_or(JwtError::Rejected("no kid"))?;
        let claims = self
            .verify_signature(issuer, header.alg, kid, token)
            .await?;

        if !issuer.config.audiences.is_empty() {
            let aud_ok = match claims.get("aud") {
                Some(Value::String(aud)) => issuer.config.audiences.contains(aud),
                Some(Value::Array(auds)) => auds
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|aud| issuer.config.audiences.iter().any(|a| a == aud)),
                _ => false,
            };
            let azp_ok =
                claim_str(&claims, "azp").is_some_and(|azp| issuer.config.audiences.contains(&azp));
            if !(aud_ok || azp_ok) {
                return Err(JwtError::Rejected("audience"));
            }
        }

        let tenant = issuer
            .config
            .tenant_claims
            .iter()
            .find_map(|path| claim_str(&claims, path));
        let role = issuer
            .config
            .role_claims
            .iter()
            .find_map(|path| claim_str(&claims, path))
            .map(|raw| {
                if raw == "admin" || raw.ends_with(":admin") {
                    Role::Admin
                } else {
                    Role::Member
                }
            })
            .unwrap_or(Role::Member);
        Ok(VerifiedJwt {
            issuer: issuer.config.issuer.clone(),
            subject: claim_str(&claims, "sub")
                .or_else(|| claim_str(&claims, "user_id"))
                .ok_or(JwtError::Rejected("no subject"))?,
            email: claim_str(&claims, "email"),
            tenant,
            role,
        })
    }

    async fn verify_signature(
        &self,
        issuer: &Issuer,
        alg: Algorithm,
        kid: &str,
        token: &str,
    ) -> Result<Value, JwtError> {
        let mut cache = issuer.cache.lock().await;
        let stale = cache.fetched_at.is_none_or(|at| at.elapsed() > JWKS_TTL);
        if stale {
            self.refresh(issuer, &mut cache).await?;
        }
        if !cache.keys.contains_key(kid) {
            let min_interval = Duration::from_secs(issuer.config.min_refetch_interval_secs);
            let may_refetch = cache
                .last_unknown_kid_refetch
                .is_none_or(|at| at.elapsed() >= min_interval);
            if may_refetch && !stale {
                cache.last_unknown_kid_refetch = Some(Instant::now());
                self.refresh(issuer, &mut cache).await?;
            }
        }
        // The lock covers the cache only; the signature check below runs without it, so
        // concurrent requests verify in parallel.
        let known = cache
            .keys
            .get(kid)
            .cloned()
            .ok_or(JwtError::Rejected("unknown kid"))?;
        drop(cache);
        if !known.fits.contains(&alg) {
            return Err(JwtError::Rejected("algorithm does not fit the key type"));
        }
        if known.alg.as_deref().is_some_and(|jwk_alg| {
            allowed_algorithm(jwk_alg).map_or(true, |jwk_alg| jwk_alg != alg)
        }) {
            return Err(JwtError::Rejected("algorithm does not match the key"));
        }

        let mut validation = Validation::new(alg);
        validation.algorithms = vec![alg];
        validation.set_issuer(&[&issuer.config.issuer]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.validate_aud = false;
        validation.validate_nbf = true;
        validation.leeway = issuer.config.leeway_secs;
        jsonwebtoken::decode::<Value>(token, &known.key, &validation)
            .map(|data| data.claims)
            .map_err(|_| JwtError::Rejected("signature or time claims"))
    }

    async fn refresh(&self, issuer: &Issuer, cache: &mut JwksCache) -> Result<(), JwtError> {
        let response = self
            .http
            .get(&issuer.config.jwks_url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|_| JwtError::Rejected("JWKS unavailable"))?;
        let set: JwkSet = response
            .json()
            .await
            .map_err(|_| JwtError::Rejected("JWKS malformed"))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            // Symmetric ("oct") keys from a JWKS never fit an allowed algorithm.
            let fits: Vec<Algorithm> = issuer
                .algorithms
                .iter()
                .copied()
                .filter(|alg| key_fits(*alg, &jwk.algorithm))
                .collect();
            if fits.is_empty() {
                continue;
            }
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                let alg = jwk
                    .common
                    .key_algorithm
                    .and_then(|a| serde_json::to_value(a).ok())
                    .and_then(|v| v.as_str().map(str::to_owned));
                keys.insert(kid, KnownKey { key, alg, fits });
            }
        }
        cache.keys = keys;
        cache.fetched_at = Some(Instant::now());
        Ok(())
    }
}
