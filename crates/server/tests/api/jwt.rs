//! External JWTs against a JWKS server on loopback.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use switchboard_store::auth::jwt::JwtIssuerConfig;

use crate::harness::TestApp;

const ISSUER: &str = "https://clerk.example.test";
const AUDIENCE: &str = "switchboard-test";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/jwt")
            .join(name),
    )
    .unwrap()
}

/// Serves the fixture JWKS and counts fetches.
async fn jwks_server() -> (String, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let jwks: Value = serde_json::from_slice(&fixture("jwks.json")).unwrap();
    let app = axum::Router::new().route(
        "/.well-known/jwks.json",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let jwks = jwks.clone();
            async move { axum::Json(jwks) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (format!("http://{addr}/.well-known/jwks.json"), fetches)
}

async fn app_with_issuer() -> (TestApp, Arc<AtomicUsize>) {
    let (jwks_url, fetches) = jwks_server().await;
    let app = TestApp::builder()
        .issuers(vec![JwtIssuerConfig::new(
            ISSUER,
            &jwks_url,
            vec![AUDIENCE.into()],
        )])
        .build()
        .await;
    app.tenant("tenant-a").await;
    (app, fetches)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn v1_claims() -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "user_2abc", "email": "ana@tenant-a.test",
        "iat": now(), "exp": now() + 600, "nbf": now() - 10,
        "org_id": "tenant-a", "org_role": "org:admin", "org_name": "Tenant A",
    })
}

fn v2_claims() -> Value {
    json!({
        "iss": ISSUER, "azp": AUDIENCE, "sub": "user_2xyz", "v": 2,
        "iat": now(), "exp": now() + 600,
        "o": { "id": "tenant-a", "rol": "member", "slg": "tenant-a" },
    })
}

fn sign(alg: Algorithm, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&fixture("rsa_private.pem")).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&fixture("ec_private.pem")).unwrap(),
        Algorithm::HS256 => EncodingKey::from_secret(&fixture("rsa_public.pem")),
        other => panic!("{other:?}"),
    };
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

#[tokio::test]
async fn clerk_shaped_tokens_v1_and_v2_are_accepted() {
    let (app, _) = app_with_issuer().await;
    let v1 = app
        .get("/api/v1/me", &sign(Algorithm::RS256, "rsa-1", &v1_claims()))
        .await;
    assert_eq!(v1.status, StatusCode::OK, "{}", v1.text);
    assert_eq!(v1.body["tenant_id"], "tenant-a");
    assert_eq!(v1.body["role"], "admin");
    assert!(v1.body["actor"].as_str().unwrap().contains("user_2abc"));

    let v2 = app
        .get("/api/v1/me", &sign(Algorithm::RS256, "rsa-1", &v2_claims()))
        .await;
    assert_eq!(v2.status, StatusCode::OK, "{}", v2.text);
    assert_eq!(v2.body["tenant_id"], "tenant-a");
    assert_eq!(v2.body["role"], "member");

    let es = app
        .get("/api/v1/me", &sign(Algorithm::ES256, "ec-1", &v1_claims()))
        .await;
    assert_eq!(es.status, StatusCode::OK, "{}", es.text);
}

#[tokio::test]
async fn alg_none_in_any_casing_is_refused() {
    let (app, _) = app_with_issuer().await;
    let payload = URL_SAFE_NO_PAD.encode(v1_claims().to_string());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header =
            URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "JWT", "kid": "rsa-1"}).to_string());
        for token in [
            format!("{header}.{payload}."),
            format!("{header}.{payload}"),
        ] {
            let response = app.get("/api/v1/me", &token).await;
            assert_eq!(response.status, StatusCode::UNAUTHORIZED, "alg {alg}");
        }
    }
}

#[tokio::test]
async fn rs256_swapped_to_hs256_signed_with_the_public_key_is_refused() {
    let (app, _) = app_with_issuer().await;
    let token = sign(Algorithm::HS256, "rsa-1", &v1_claims());
    assert_eq!(
        app.get("/api/v1/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_jwks_once_then_401_and_refetches_are_rate_limited() {
    let (app, fetches) = app_with_issuer().await;
    assert_eq!(
        app.get("/api/v1/me", &sign(Algorithm::RS256, "rsa-1", &v1_claims()))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    let unknown = app
        .get(
            "/api/v1/me",
            &sign(Algorithm::RS256, "rotated-7", &v1_claims()),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "one refetch on an unknown kid"
    );
    for _ in 0..5 {
        let again = app
            .get(
                "/api/v1/me",
                &sign(Algorithm::RS256, "rotated-8", &v1_claims()),
            )
            .await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "refetches are rate-limited"
    );
}

#[tokio::test]
async fn expired_not_yet_valid_wrong_issuer_wrong_audience_and_tampered_tokens_are_refused() {
    let (app, _) = app_with_issuer().await;
    let cases = [
        ("expired", with(v1_claims(), "exp", json!(now() - 3600))),
        (
            "nbf in the future",
            with(v1_claims(), "nbf", json!(now() + 3600)),
        ),
        (
            "wrong iss",
            with(v1_claims(), "iss", json!("https://evil.example.test")),
        ),
        ("wrong aud", with(v1_claims(), "aud", json!("someone-else"))),
        (
            "wrong azp, no aud",
            with(without(v2_claims(), "aud"), "azp", json!("someone-else")),
        ),
        ("no exp", without(v1_claims(), "exp")),
        (
            "unknown tenant",
            with(v1_claims(), "org_id", json!("tenant-zz")),
        ),
    ];
    for (what, claims) in cases {
        let response = app
            .get("/api/v1/me", &sign(Algorithm::RS256, "rsa-1", &claims))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {}",
            response.text
        );
    }
    let good = sign(Algorithm::RS256, "rsa-1", &v1_claims());
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(with(v1_claims(), "org_id", json!("tenant-b")).to_string());
    assert_eq!(
        app.get("/api/v1/me", &parts.join(".")).await.status,
        StatusCode::UNAUTHORIZED,
        "tampered"
    );
}

#[tokio::test]
async fn a_token_without_an_org_claim_gets_403_on_tenant_routes() {
    let (app, _) = app_with_issuer().await;
    let token = sign(
        Algorithm::RS256,
        "rsa-1",
        &without(without(v1_claims(), "org_id"), "org_role"),
    );
    let response = app.get("/api/v1/me", &token).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN, "{}", response.text);
    assert_eq!(response.code(), "tenant_required");
}
