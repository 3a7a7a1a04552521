//! The tenant-isolation suite. Every later tenant route adds its cases here.

use http::StatusCode;
use serde_json::json;
use switchboard_store::db::TENANT_TABLES;

use crate::harness::{Auth, PASSWORD, TestApp};

async fn user_ids(app: &TestApp, token: &str) -> Vec<String> {
    let users = app.get("/api/v1/users", token).await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.text);
    users
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admin_of_tenant_a_gets_404_for_tenant_b_user_and_b_is_unchanged() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    let b_users = user_ids(&app, &b.admin_token).await;
    let b_user = &b_users[0];

    let patch = app
        .call(
            "PATCH",
            &format!("/api/v1/users/{b_user}"),
            Auth::Bearer(&a.admin_token),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(patch.status, StatusCode::NOT_FOUND, "{}", patch.text);
    assert_eq!(patch.code(), "not_found");
    let delete = app
        .call(
            "DELETE",
            &format!("/api/v1/users/{b_user}"),
            Auth::Bearer(&a.admin_token),
            None,
        )
        .await;
    assert_eq!(delete.status, StatusCode::NOT_FOUND);

    let after = app.get("/api/v1/users", &b.admin_token).await;
    assert_eq!(after.body[0]["id"], b_user.as_str());
    assert_eq!(after.body[0]["role"], "admin");
}

#[tokio::test]
async fn admin_of_tenant_a_cannot_revoke_tenant_b_token() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    let b_tokens = app.get("/api/v1/tokens", &b.admin_token).await;
    for token in b_tokens.body.as_array().unwrap() {
        let id = token["id"].as_str().unwrap();
        let revoke = app
            .call(
                "DELETE",
                &format!("/api/v1/tokens/{id}"),
                Auth::Bearer(&a.admin_token),
                None,
            )
            .await;
        assert_eq!(revoke.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        app.get("/api/v1/me", &b.member_token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/tokens", &a.admin_token)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_tenant_named_in_query_header_or_body_is_ignored_for_the_credentials_tenant() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;

    let me = app
        .get(
            "/api/v1/me?tenant_id=tenant-b&tenant=tenant-b",
            &a.admin_token,
        )
        .await;
    assert_eq!(me.body["tenant_id"], "tenant-a");

    let request = http::Request::builder()
        .uri("/api/v1/users")
        .header("authorization", format!("Bearer {}", a.admin_token))
        .header("x-tenant-id", "tenant-b")
        .body(axum::body::Body::empty())
        .unwrap();
    let users = app.send(request).await;
    assert_eq!(users.body[0]["email"], "admin@tenant-a.test");

    let made = app
        .post("/api/v1/tokens", &a.admin_token, json!({"name": "sneaky", "role": "admin", "tenant_id": "tenant-b", "tenant": "tenant-b"}))
        .await;
    assert_eq!(made.status, StatusCode::CREATED);
    let secret = made.body["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("sbt_tenant-a_"),
        "token belongs to the credential's tenant"
    );
    assert_eq!(
        app.get("/api/v1/me", secret).await.body["tenant_id"],
        "tenant-a"
    );
    assert_eq!(
        app.get("/api/v1/tokens", &b.admin_token)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_token_relabelled_with_another_tenant_is_refused() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    app.tenant("tenant-b").await;
    let forged = a.admin_token.replacen("sbt_tenant-a_", "sbt_tenant-b_", 1);
    let me = app.get("/api/v1/me", &forged).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.code(), "unauthenticated");
}

#[tokio::test]
async fn a_member_cannot_do_admin_actions() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let admin_id = user_ids(&app, &a.member_token).await.remove(0);
    let token_id = app.get("/api/v1/tokens", &a.member_token).await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let attempts = [
        (
            "POST",
            "/api/v1/users".to_owned(),
            Some(json!({"email": "x@tenant-a.test", "role": "admin"})),
        ),
        (
            "PATCH",
            format!("/api/v1/users/{admin_id}"),
            Some(json!({"role": "member"})),
        ),
        ("DELETE", format!("/api/v1/users/{admin_id}"), None),
        (
            "POST",
            "/api/v1/tokens".to_owned(),
            Some(json!({"name": "x", "role": "admin"})),
        ),
        ("DELETE", format!("/api/v1/tokens/{token_id}"), None),
        ("GET", "/api/v1/audit".to_owned(), None),
    ];
    for (method, path, body) in attempts {
        let response = app
            .call(method, &path, Auth::Bearer(&a.member_token), body)
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(response.code(), "forbidden");
    }
    assert_eq!(user_ids(&app, &a.admin_token).await.len(), 1);
}

#[tokio::test]
async fn platform_routes_refuse_tenant_users_and_tenant_routes_refuse_platform_admins() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    for token in [&a.admin_token, &a.member_token] {
        for (method, path) in [
            ("GET", "/api/v1/platform/tenants"),
            ("GET", "/api/v1/platform/tenants/tenant-a"),
            ("POST", "/api/v1/platform/tenants/tenant-a/suspend"),
            ("DELETE", "/api/v1/platform/tenants/tenant-a"),
        ] {
            let response = app.call(method, path, Auth::Bearer(token), None).await;
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{method} {path}");
            assert_eq!(response.code(), "platform_only");
        }
    }
    let response = app.get("/api/v1/users", &app.platform_token).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert_eq!(response.code(), "tenant_required");
}

#[tokio::test]
async fn requests_without_credentials_get_401() {
    let app = TestApp::new().await;
    app.tenant("tenant-a").await;
    for path in ["/api/v1/me", "/api/v1/users", "/api/v1/platform/tenants"] {
        let response = app.call("GET", path, Auth::None, None).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(response.code(), "unauthenticated");
    }
    let garbage = app.get("/api/v1/me", "sbt_tenant-a_nothex").await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_suspended_tenant_is_refused_and_others_keep_working() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    let suspended = app
        .post(
            "/api/v1/platform/tenants/tenant-a/suspend",
            &app.platform_token,
            json!({}),
        )
        .await;
    assert_eq!(suspended.body["status"], "suspended");

    for path in ["/api/v1/me", "/api/v1/users", "/api/v1/tokens"] {
        let response = app.get(path, &a.admin_token).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(response.code(), "tenant_suspended");
    }
    let login = app
        .login(Some("tenant-a"), &a.admin_email, PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(login.code(), "tenant_suspended");
    // A wrong password on a suspended tenant does not reveal the suspension.
    let wrong = app
        .login(Some("tenant-a"), &a.admin_email, "wrong-password")
        .await
        .unwrap_err();
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/me", &b.member_token).await.status,
        StatusCode::OK
    );

    app.post(
        "/api/v1/platform/tenants/tenant-a/resume",
        &app.platform_token,
        json!({}),
    )
    .await;
    assert_eq!(
        app.get("/api/v1/me", &a.admin_token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_deleted_tenant_leaves_no_row_object_or_credential_behind() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    app.post(
        "/api/v1/users",
        &a.admin_token,
        json!({"email": "m@tenant-a.test", "role": "member"}),
    )
    .await;
    for tenant in [&a, &b] {
        let stored = app
            .call(
                "PUT",
                "/api/v1/credentials/oak",
                Auth::Bearer(&tenant.admin_token),
                Some(json!({"client_secret": "s3cret"})),
            )
            .await;
        assert_eq!(stored.status, StatusCode::OK, "{}", stored.text);
        let uploaded = app
            .upload(
                &tenant.admin_token,
                &[("audio", Some("call.wav"), crate::harness::wav(1, 100))],
            )
            .await;
        assert_eq!(uploaded.status, StatusCode::ACCEPTED, "{}", uploaded.text);
        let scope = app.scope(&tenant.admin_token).await;
        let mut tx = app.db.write(&scope).await.unwrap();
        switchboard_store::queue::enqueue(&mut tx, "transcribe", "call-x")
            .await
            .unwrap();
        // Published results, as the pipeline's publish stage writes them.
        let call_id = uploaded.body["call_id"].as_str().unwrap();
        switchboard_store::repo::results::replace(
            &mut tx,
            &crate::fixtures::call_result_row(call_id),
            &[crate::fixtures::qa_result_row(call_id, "greeting")],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        // A sync run (it fails: the stored credential is incomplete) leaves history and state.
        let synced = app.run_sync_request(&tenant.admin_token).await;
        assert!(synced.body["error"].as_str().is_some(), "{}", synced.text);
        // The receptionist: settings, knowledge, a number, a live call with a turn.
        let cloned = app
            .post(
                "/api/v1/receptionist/clone",
                &tenant.admin_token,
                json!({"template_id": "universal"}),
            )
            .await;
        assert_eq!(cloned.status, StatusCode::CREATED, "{}", cloned.text);
        let added = app
            .post(
                "/api/v1/receptionist/knowledge",
                &tenant.admin_token,
                json!({"question": "q?", "answer": "a."}),
            )
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
        let number = if tenant.id == "tenant-a" {
            "+18005550101"
        } else {
            "+18005550202"
        };
        let assigned = app
            .call(
                "PUT",
                &format!(
                    "/api/v1/platform/tenants/{}/phone-numbers/{number}",
                    tenant.id
                ),
                Auth::Bearer(&app.platform_token),
                None,
            )
            .await;
        assert_eq!(assigned.status, StatusCode::NO_CONTENT, "{}", assigned.text);
        let mut tx = app.db.write(&scope).await.unwrap();
        use switchboard_store::repo::live_calls;
        live_calls::start(&mut tx, "CA1", "+14155550100", number)
            .await
            .unwrap();
        let turn = live_calls::Turn {
            seq: 0,
            caller_text: String::new(),
            reply: "hello".into(),
            source: "greeting".into(),
            matched: None,
            score: 1.0,
            action: "none".into(),
            twiml: "<Response/>".into(),
            at: 0,
        };
        live_calls::add_turn(&mut tx, "CA1", &turn).await.unwrap();
        // …and the text it promised.
        let message = switchboard_store::repo::sms::SmsMessage {
            call_id: "live-CA1".into(),
            call_sid: "CA1".into(),
            scenario_id: "text_me".into(),
            to_number: "+14155550100".into(),
            from_number: number.into(),
            body: "our hours".into(),
            status: "skipped".into(),
            provider_sid: None,
            error: Some("not sent in this test".into()),
            created_at: 0,
            sent_at: None,
        };
        assert!(
            switchboard_store::repo::sms::add(&mut tx, &message)
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        // Caller memory: a processed call fills every memory table.
        let processed = app
            .post(
                "/v2/process-call",
                &tenant.member_token,
                json!({"user_id": "+14155550100", "call_id": "CA1", "conversation_history": [
                    {"role": "user", "content": "My name is Ann Lee and my boiler is leaking."},
                ]}),
            )
            .await;
        assert_eq!(processed.status, StatusCode::CREATED, "{}", processed.text);
    }
    let audited = app
        .get(
            "/api/v1/platform/tenants/tenant-a/users?reason=support",
            &app.platform_token,
        )
        .await;
    assert_eq!(audited.status, StatusCode::OK);
    let b_rows_before: Vec<i64> = {
        let mut counts = Vec::new();
        for table in TENANT_TABLES {
            counts.push(app.count_rows(table, "tenant-b").await);
        }
        counts
    };
    for table in TENANT_TABLES {
        assert!(
            app.count_rows(table, "tenant-a").await > 0,
            "{table} has rows before the purge"
        );
    }

    let deleted = app
        .call(
            "DELETE",
            "/api/v1/platform/tenants/tenant-a",
            Auth::Bearer(&app.platform_token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(deleted.body["rows"]["tenants"], 1);
    assert_eq!(deleted.body["rows"]["users"], 2);
    assert_eq!(deleted.body["rows"]["phone_numbers"], 1);
    assert_eq!(
        deleted.body["objects"], 4,
        "two configuration documents, one recording and its metadata"
    );

    for table in TENANT_TABLES {
        assert_eq!(app.count_rows(table, "tenant-a").await, 0, "{table}");
    }
    let mut b_rows_after = Vec::new();
    for table in TENANT_TABLES {
        b_rows_after.push(app.count_rows(table, "tenant-b").await);
    }
    assert_eq!(b_rows_before, b_rows_after, "tenant B untouched");
    assert_eq!(
        app.storage
            .tenant_object_count(&app.operator, &"tenant-a".parse().unwrap())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.storage
            .tenant_object_count(&app.operator, &"tenant-b".parse().unwrap())
            .await
            .unwrap(),
        4
    );
    if let Some(root) = &app.storage_root {
        for area in ["input", "results", "config"] {
            let dir = root.join(area).join("tenant-a");
            assert!(
                !dir.exists() || std::fs::read_dir(&dir).unwrap().next().is_none(),
                "{}",
                dir.display()
            );
        }
    }
    assert_eq!(
        app.get("/api/v1/me", &a.admin_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/platform/tenants/tenant-a", &app.platform_token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/me", &b.admin_token).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_purge_list_names_every_table_with_a_tenant_id() {
    use sqlx::{Connection, Row};
    let app = TestApp::new().await;
    let mut tables: Vec<String> = match &app.pg {
        Some(pg) => {
            let mut conn = sqlx::PgConnection::connect(&pg.owner_url).await.unwrap();
            sqlx::query("SELECT table_name::text AS t FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'")
                .fetch_all(&mut conn).await.unwrap()
                .iter().map(|r| r.get::<String, _>("t")).collect()
        }
        None => {
            let url = secrecy::ExposeSecret::expose_secret(&app.db_config.url).to_owned();
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query("SELECT m.name AS t FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name = 'tenant_id'")
                .fetch_all(&mut conn).await.unwrap()
                .iter().map(|r| r.get::<String, _>("t")).collect()
        }
    };
    tables.sort();
    let mut listed: Vec<String> = TENANT_TABLES.iter().map(|t| t.to_string()).collect();
    listed.sort();
    assert_eq!(tables, listed);
}
