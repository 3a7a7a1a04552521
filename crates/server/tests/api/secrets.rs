//! The secret store through the credentials API and the storage API.

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::json;
use sqlx::Connection;
use switchboard_store::StoreError;
use switchboard_store::repo::secrets;
use switchboard_store::secrets::{Keyring, KeyringError, MasterKey};

use crate::harness::{Auth, TestApp};

const PLANTED: &str = "planted-client-secret-9d2e";

fn oak_fields() -> serde_json::Value {
    json!({
        "base_url": "http://127.0.0.1:9/oak", "client_id": "cid", "client_secret": PLANTED,
        "username": "svc", "password": "pw-123", "token_path": "/oauth/token",
        "recordings_path": "/recordings", "recording_download_path": "/recordings/{id}/audio",
    })
}

#[tokio::test]
async fn credentials_are_write_only_and_admin_only() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let put = app
        .call(
            "PUT",
            "/api/v1/credentials/oak",
            Auth::Bearer(&a.admin_token),
            Some(oak_fields()),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_eq!(put.body["version"], 1);
    assert!(!put.text.contains(PLANTED));

    let get = app.get("/api/v1/credentials/oak", &a.admin_token).await;
    assert_eq!(get.status, StatusCode::OK);
    let fields: Vec<&str> = get.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(fields.contains(&"client_secret") && fields.contains(&"base_url"));
    assert!(get.body["updated_at"].as_i64().is_some());
    let listed = app.get("/api/v1/credentials", &a.admin_token).await;
    for text in [&get.text, &listed.text] {
        assert!(
            !text.contains(PLANTED) && !text.contains("pw-123"),
            "{text}"
        );
    }

    let again = app
        .call(
            "PUT",
            "/api/v1/credentials/oak",
            Auth::Bearer(&a.admin_token),
            Some(oak_fields()),
        )
        .await;
    assert_eq!(again.body["version"], 2);

    for (method, body) in [("GET", None), ("PUT", Some(oak_fields())), ("DELETE", None)] {
        let refused = app
            .call(
                method,
                "/api/v1/credentials/oak",
                Auth::Bearer(&a.member_token),
                body,
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{method}");
    }
    let bad = [
        ("/api/v1/credentials/Oak!", oak_fields()),
        ("/api/v1/credentials/oak", json!({})),
        ("/api/v1/credentials/oak", json!({"Bad Field": "x"})),
    ];
    for (path, body) in bad {
        let response = app
            .call("PUT", path, Auth::Bearer(&a.admin_token), Some(body))
            .await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            response.text
        );
    }
    let not_strings = app
        .call(
            "PUT",
            "/api/v1/credentials/oak",
            Auth::Bearer(&a.admin_token),
            Some(json!({"port": 5})),
        )
        .await;
    assert_eq!(not_strings.code(), "invalid_json");

    let deleted = app
        .call(
            "DELETE",
            "/api/v1/credentials/oak",
            Auth::Bearer(&a.admin_token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/credentials/oak", &a.admin_token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn tenant_b_cannot_see_or_delete_tenant_a_credentials() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    app.call(
        "PUT",
        "/api/v1/credentials/oak",
        Auth::Bearer(&a.admin_token),
        Some(oak_fields()),
    )
    .await;
    assert_eq!(
        app.get("/api/v1/credentials/oak", &b.admin_token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/credentials", &b.admin_token).await.body,
        json!([])
    );
    let delete = app
        .call(
            "DELETE",
            "/api/v1/credentials/oak",
            Auth::Bearer(&b.admin_token),
            None,
        )
        .await;
    assert_eq!(delete.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/credentials/oak", &a.admin_token)
            .await
            .status,
        StatusCode::OK
    );
}

/// Copies tenant A's sealed entry over tenant B's, as an attacker with database access might.
async fn copy_ciphertext(app: &TestApp, from: &str, to: &str) {
    let copy = "UPDATE secrets SET key_id = (SELECT key_id FROM src), nonce = (SELECT nonce FROM src), \
                ciphertext = (SELECT ciphertext FROM src), version = (SELECT version FROM src) \
                WHERE tenant_id = $2 AND name = 'oak'";
    match &app.pg {
        Some(pg) => {
            // Row-level security keeps one tenant visible at a time: read as A, write as B.
            let mut conn = sqlx::PgConnection::connect(&pg.owner_url).await.unwrap();
            let mut tx = conn.begin().await.unwrap();
            sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
                .bind(from)
                .execute(&mut *tx)
                .await
                .unwrap();
            let row: (String, Vec<u8>, Vec<u8>, i64) =
                sqlx::query_as("SELECT key_id, nonce, ciphertext, version FROM secrets WHERE tenant_id = $1 AND name = 'oak'")
                    .bind(from)
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
            sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
                .bind(to)
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query("UPDATE secrets SET key_id = $1, nonce = $2, ciphertext = $3, version = $4 WHERE tenant_id = $5 AND name = 'oak'")
                .bind(row.0).bind(row.1).bind(row.2).bind(row.3).bind(to)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        None => {
            let url = secrecy::ExposeSecret::expose_secret(&app.db_config.url).to_owned();
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let sql = format!(
                "WITH src AS (SELECT * FROM secrets WHERE tenant_id = $1 AND name = 'oak') {copy}"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(from)
                .bind(to)
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_ciphertext_copied_to_another_tenant_fails_to_decrypt() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    for t in [&a, &b] {
        app.call(
            "PUT",
            "/api/v1/credentials/oak",
            Auth::Bearer(&t.admin_token),
            Some(oak_fields()),
        )
        .await;
    }
    copy_ciphertext(&app, "tenant-a", "tenant-b").await;
    let scope_b = app.scope(&b.admin_token).await;
    let mut tx = app.db.read(&scope_b).await.unwrap();
    let result = secrets::read(&mut tx, &app.keyring, "oak").await;
    assert!(
        matches!(result, Err(StoreError::Secret(KeyringError::Undecryptable))),
        "{result:?}"
    );
    drop(tx);
    let scope_a = app.scope(&a.admin_token).await;
    let mut tx = app.db.read(&scope_a).await.unwrap();
    let fields = secrets::read(&mut tx, &app.keyring, "oak")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(fields.get("client_secret").unwrap()),
        PLANTED
    );
    assert!(
        !format!("{fields:?}").contains(PLANTED),
        "Debug shows field names only"
    );
}

#[tokio::test]
async fn rotation_keeps_old_entries_readable_and_rewraps_them() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let scope = app.scope(&a.admin_token).await;
    let admin = scope.admin().unwrap();
    let old = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
    let new = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
    let fields: BTreeMap<String, String> = [("password".to_owned(), "pw-1".to_owned())].into();

    let mut tx = app.db.write(&scope).await.unwrap();
    let before = secrets::put(
        &mut tx,
        admin,
        &Keyring::new(old.clone(), vec![]),
        "oak",
        fields,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(before.key_id, old.id());

    let rotated = Keyring::new(new.clone(), vec![old.clone()]);
    let mut tx = app.db.write(&scope).await.unwrap();
    assert!(
        secrets::read(&mut tx, &rotated, "oak")
            .await
            .unwrap()
            .is_some(),
        "old entry readable"
    );
    assert_eq!(secrets::rewrap(&mut tx, admin, &rotated).await.unwrap(), 1);
    assert_eq!(
        secrets::rewrap(&mut tx, admin, &rotated).await.unwrap(),
        0,
        "idempotent"
    );
    tx.commit().await.unwrap();

    let only_new = Keyring::new(new.clone(), vec![]);
    let mut tx = app.db.read(&scope).await.unwrap();
    let after = secrets::describe(&mut tx, "oak").await.unwrap().unwrap();
    assert_eq!(after.key_id, new.id());
    assert_eq!(after.version, before.version);
    let value = secrets::read(&mut tx, &only_new, "oak")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(value.get("password").unwrap()),
        "pw-1"
    );
    let forgotten = Keyring::new(
        MasterKey::from_base64(&MasterKey::generate_base64()).unwrap(),
        vec![],
    );
    assert!(matches!(
        secrets::read(&mut tx, &forgotten, "oak").await,
        Err(StoreError::Secret(KeyringError::UnknownKey(_)))
    ));
}
