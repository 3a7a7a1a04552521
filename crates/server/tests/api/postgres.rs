//! PostgreSQL's second line of defence: row-level security, checked as the app role itself.
//! These tests run only when `SWITCHBOARD_TEST_BACKEND=postgres`.

use http::StatusCode;
use serde_json::json;
use sqlx::{Connection, PgConnection, Row};

use crate::harness::{Auth, PgDatabase, TestApp, backend};

fn postgres(app: &TestApp) -> Option<&PgDatabase> {
    if backend() != switchboard_store::Backend::Postgres {
        eprintln!("skipped: SWITCHBOARD_TEST_BACKEND is not postgres");
    }
    app.pg.as_ref()
}

#[tokio::test]
async fn every_table_with_tenant_id_has_row_level_security_enabled_and_forced() {
    let app = TestApp::new().await;
    let Some(pg) = postgres(&app) else { return };
    let mut conn = PgConnection::connect(&pg.owner_url).await.unwrap();
    let rows = sqlx::query(
        "SELECT c.relname::text AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced, \
                (SELECT COUNT(*) FROM pg_policies p WHERE p.tablename = c.relname) AS policies \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind = 'r' AND EXISTS ( \
           SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(rows.len() >= 4, "tenant tables found: {}", rows.len());
    for row in rows {
        let name: String = row.get("name");
        assert!(row.get::<bool, _>("enabled"), "{name}: RLS not enabled");
        assert!(row.get::<bool, _>("forced"), "{name}: RLS not forced");
        assert!(row.get::<i64, _>("policies") >= 1, "{name}: no policy");
    }
}

#[tokio::test]
async fn the_app_role_is_not_superuser_cannot_bypass_rls_and_owns_nothing() {
    let app = TestApp::new().await;
    let Some(pg) = postgres(&app) else { return };
    let mut conn = PgConnection::connect(&pg.app_url).await.unwrap();
    let role =
        sqlx::query("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(!role.get::<bool, _>("rolsuper"));
    assert!(!role.get::<bool, _>("rolbypassrls"));
    let owned: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
    .get("n");
    assert_eq!(owned, 0);
}

#[tokio::test]
async fn a_raw_query_as_the_app_role_without_a_tenant_sees_nothing_and_cannot_write_across() {
    let app = TestApp::new().await;
    let Some(pg) = postgres(&app) else { return };
    let a = app.tenant("tenant-a").await;
    app.tenant("tenant-b").await;
    let scope = app.scope(&a.admin_token).await;
    let mut tx = app.db.write(&scope).await.unwrap();
    switchboard_store::queue::enqueue(&mut tx, "transcribe", "call-1")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut conn = PgConnection::connect(&pg.app_url).await.unwrap();
    for table in switchboard_store::db::TENANT_TABLES {
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM {table}"
        )))
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get("n");
        assert_eq!(n, 0, "{table} visible without a tenant");
    }
    // An empty tenant setting denies as well.
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', '', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get("n");
    assert_eq!(n, 0);
    tx.rollback().await.unwrap();

    // With tenant A set, an insert naming tenant B is refused by policy, and B's rows stay hidden.
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', 'tenant-a', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let visible: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get("n");
    assert_eq!(visible, 1);
    let refused = sqlx::query(
        "INSERT INTO users (tenant_id, id, email, password_hash, role, created_at) \
         VALUES ('tenant-b', 'x', 'x@b.test', NULL, 'admin', 0)",
    )
    .execute(&mut *tx)
    .await
    .unwrap_err();
    assert!(
        refused.to_string().contains("row-level security"),
        "{refused}"
    );
    tx.rollback().await.unwrap();

    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', 'tenant-a', true)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let moved = sqlx::query("UPDATE users SET tenant_id = 'tenant-b'")
        .execute(&mut *tx)
        .await;
    assert!(moved.is_err(), "moving a row to another tenant is refused");
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn a_pool_of_one_connection_interleaving_two_tenants_and_a_failure_leaks_nothing() {
    let app = TestApp::builder().pool_size(1).build().await;
    let Some(pg) = postgres(&app) else { return };
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    for round in 0..3 {
        let a_users = app.get("/api/v1/users", &a.admin_token).await;
        assert!(
            a_users
                .body
                .as_array()
                .unwrap()
                .iter()
                .all(|u| u["email"].as_str().unwrap().ends_with("@tenant-a.test"))
        );
        // A failed transaction on tenant A (duplicate email → unique violation mid-transaction).
        let failed = app
            .post(
                "/api/v1/users",
                &a.admin_token,
                json!({"email": a.admin_email, "role": "member"}),
            )
            .await;
        assert_eq!(failed.status, StatusCode::CONFLICT, "round {round}");
        let b_users = app.get("/api/v1/users", &b.admin_token).await;
        assert_eq!(b_users.body.as_array().unwrap().len(), 1);
        assert_eq!(b_users.body[0]["email"], "admin@tenant-b.test");
        let b_tokens = app
            .call("GET", "/api/v1/tokens", Auth::Bearer(&b.member_token), None)
            .await;
        assert_eq!(b_tokens.body.as_array().unwrap().len(), 2);
    }
    // The single pooled connection carries no tenant into a transaction that sets none.
    let _ = pg;
    let leftover = app.db.leaked_tenant_setting().await.unwrap();
    assert!(
        leftover.as_deref().is_none_or(str::is_empty),
        "{leftover:?}"
    );
}

#[tokio::test]
async fn a_platform_read_fails_when_its_audit_row_cannot_be_written() {
    let app = TestApp::new().await;
    let Some(pg) = postgres(&app) else { return };
    app.tenant("tenant-b").await;
    let mut owner = PgConnection::connect(&pg.owner_url).await.unwrap();
    let role = url::Url::parse(&pg.app_url).unwrap().username().to_owned();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "REVOKE INSERT ON audit_log FROM {role}"
    )))
    .execute(&mut owner)
    .await
    .unwrap();
    let read = app
        .get(
            "/api/v1/platform/tenants/tenant-b/users?reason=check",
            &app.platform_token,
        )
        .await;
    assert_eq!(
        read.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        read.text
    );
    assert!(!read.text.contains("admin@tenant-b.test"));
    assert_eq!(read.code(), "internal");
}

/// The README tells a deployment with a local PostgreSQL to connect over its Unix socket
/// (BENCHMARKS.md, P6). The server's own connection path (`Db::connect`, the `Any` driver) must
/// take such a URL, and tenant transactions and the queue must work through it.
#[tokio::test]
async fn the_server_connects_over_postgresqls_unix_socket() {
    let app = TestApp::new().await;
    let Some(pg) = postgres(&app) else { return };
    let Ok(dir) = std::env::var("SWITCHBOARD_TEST_PG_SOCKET_DIR") else {
        eprintln!("skipped: SWITCHBOARD_TEST_PG_SOCKET_DIR is not set");
        return;
    };
    let mut url = url::Url::parse(&pg.app_url).unwrap();
    let port = url.port().unwrap_or(5432);
    url.set_host(Some("localhost")).unwrap();
    url.set_port(None).unwrap();
    url.set_query(Some(&format!("host={dir}&port={port}")));
    let url = url.to_string();

    // It really is the socket: PostgreSQL has no server address for a Unix-socket session.
    let mut conn = PgConnection::connect(&url).await.unwrap();
    let over_socket: bool = sqlx::query("SELECT inet_server_addr() IS NULL AS unix")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get("unix");
    assert!(over_socket, "the connection went over TCP");

    let db = switchboard_store::Db::connect(&switchboard_store::DbConfig::new(url))
        .await
        .unwrap();
    let a = app.tenant("tenant-a").await;
    let scope = app.scope(&a.admin_token).await;
    let mut tx = db.write(&scope).await.unwrap();
    assert!(
        switchboard_store::queue::enqueue(&mut tx, "transcribe", "call-1")
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let job = switchboard_store::queue::claim(&db, "socket", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .expect("the job enqueued over the socket");
    assert_eq!(job.scope.tenant().as_str(), "tenant-a");
    assert_eq!(job.call_id, "call-1");
    assert!(switchboard_store::queue::complete(&db, &job).await.unwrap());
}
