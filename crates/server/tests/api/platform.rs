//! Platform administration: onboarding, audited reads, validation.

use http::StatusCode;
use serde_json::json;
use switchboard_core::Area;

use crate::harness::{Auth, TestApp};

#[tokio::test]
async fn onboarding_creates_tenant_admin_storage_and_default_configs() {
    let app = TestApp::new().await;
    let created = app
        .post("/api/v1/platform/tenants", &app.platform_token, json!({
            "id": "acme", "name": "Acme", "admin_email": "Boss@Acme.test", "industry_template": "insurance-agency",
        }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["tenant"]["status"], "active");
    assert_eq!(created.body["admin"]["email"], "boss@acme.test");
    let password = created.body["admin_initial_password"]
        .as_str()
        .expect("generated password shown once");

    let (cookie, _) = app
        .login(Some("acme"), "boss@acme.test", password)
        .await
        .unwrap();
    let me = app
        .call(
            "GET",
            "/api/v1/me",
            Auth::Session {
                cookie: &cookie,
                csrf: None,
            },
            None,
        )
        .await;
    assert_eq!(me.body["tenant_id"], "acme");
    assert_eq!(me.body["role"], "admin");

    let tenant = app.tenant("beta").await;
    let scope = app.scope(&tenant.admin_token).await;
    let objects = app.storage.tenant(&scope).unwrap();
    assert_eq!(
        objects.list(Area::Config, None).await.unwrap(),
        vec!["ai-config.json", "qa-config.json"]
    );
    let qa: serde_json::Value =
        serde_json::from_slice(&objects.get(Area::Config, "qa-config.json").await.unwrap())
            .unwrap();
    assert!(
        qa["rules"]
            .as_array()
            .is_some_and(|rules| !rules.is_empty())
    );

    let listed = app
        .get("/api/v1/platform/tenants", &app.platform_token)
        .await;
    let ids: Vec<_> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme", "beta"]);
}

#[tokio::test]
async fn onboarding_rejects_bad_ids_duplicates_and_weak_passwords() {
    let app = TestApp::new().await;
    app.tenant("acme").await;
    let cases = [
        (
            json!({"id": "Acme Corp", "name": "x", "admin_email": "a@b.test"}),
            StatusCode::BAD_REQUEST,
            "invalid_tenant_id",
        ),
        (
            json!({"id": "../etc", "name": "x", "admin_email": "a@b.test"}),
            StatusCode::BAD_REQUEST,
            "invalid_tenant_id",
        ),
        (
            json!({"id": "acme", "name": "x", "admin_email": "a@b.test"}),
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            json!({"id": "newco", "name": "x", "admin_email": "not-an-email"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"id": "newco", "name": "x", "admin_email": "a@b.test", "admin_password": "short"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"id": "newco"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_json",
        ),
    ];
    for (body, status, code) in cases {
        let response = app
            .post(
                "/api/v1/platform/tenants",
                &app.platform_token,
                body.clone(),
            )
            .await;
        assert_eq!(
            (response.status, response.code()),
            (status, code),
            "{body}: {}",
            response.text
        );
    }
    let bad_json = app
        .send(
            http::Request::post("/api/v1/platform/tenants")
                .header("authorization", format!("Bearer {}", app.platform_token))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(bad_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_json.code(), "invalid_json");
    // Nothing half-made: the failed tenant does not exist.
    assert_eq!(
        app.get("/api/v1/platform/tenants/newco", &app.platform_token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_platform_read_of_tenant_data_is_audited_and_visible_to_that_tenant_only() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;

    let no_reason = app
        .get(
            "/api/v1/platform/tenants/tenant-b/users",
            &app.platform_token,
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_reason.code(), "reason_required");

    let request = http::Request::get("/api/v1/platform/tenants/tenant-b/users?reason=ticket%2042")
        .header("authorization", format!("Bearer {}", app.platform_token))
        .header("x-request-id", "req-audit-1")
        .body(axum::body::Body::empty())
        .unwrap();
    let read = app.send(request).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body[0]["email"], "admin@tenant-b.test");

    let log = app.get("/api/v1/audit", &b.admin_token).await;
    let entries = log.body.as_array().unwrap();
    let entry = entries
        .iter()
        .find(|e| e["reason"] == "ticket 42")
        .expect("audit row");
    assert_eq!(entry["action"], "read");
    assert_eq!(entry["resource"], "users");
    assert_eq!(entry["request_id"], "req-audit-1");
    assert!(
        entry["actor"]
            .as_str()
            .unwrap()
            .starts_with("platform-token:")
    );
    assert!(entry["at"].as_i64().unwrap() > 0);

    let other = app.get("/api/v1/audit", &a.admin_token).await;
    assert!(
        other
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["reason"] != "ticket 42")
    );
}

#[tokio::test]
async fn health_ready_and_openapi_answer() {
    let app = TestApp::new().await;
    let health = app.call("GET", "/health", Auth::None, None).await;
    assert_eq!(health.body["status"], "ok");
    let ready = app.call("GET", "/ready", Auth::None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["database"], true);
    assert_eq!(ready.body["storage"], true);
    let openapi = app
        .call("GET", "/api/v1/openapi.json", Auth::None, None)
        .await;
    let paths = openapi.body["paths"].as_object().unwrap();
    for path in [
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/tokens/{id}",
        "/api/v1/platform/tenants",
        "/api/v1/auth/login",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    let missing = app.call("GET", "/api/v1/nope", Auth::None, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");
}

#[tokio::test]
async fn the_server_never_builds_an_operator_capability() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(
                    !text.contains("operator_console"),
                    "{} builds an operator capability",
                    path.display()
                );
            }
        }
    }
}

/// The OpenAPI document is generated from the handlers; `docs/openapi.json` is its committed
/// copy for API consumers. Regenerate with `UPDATE_OPENAPI=1 cargo test -p switchboard-server`.
#[tokio::test]
async fn the_committed_openapi_document_is_current() {
    let generated = switchboard_server::routes::api()
        .1
        .to_pretty_json()
        .unwrap()
        + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run UPDATE_OPENAPI=1 cargo test -p switchboard-server"
    );
}
