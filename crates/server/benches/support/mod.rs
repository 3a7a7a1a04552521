//! Setup shared by the benchmarks: a fresh database (SQLite in a temp dir, or with
//! `BENCH_BACKEND=postgres` a new PostgreSQL database through `SWITCHBOARD_TEST_PG_*_URL`), local
//! storage, the operator capability, and onboarded tenants.

#![allow(dead_code)]

use switchboard_core::TenantId;
use switchboard_store::onboarding::{self, OnboardRequest};
use switchboard_store::scope::AuditedAccess;
use switchboard_store::{Db, DbConfig, PlatformAdmin, Storage, StorageConfig, TenantScope};

pub struct BenchEnv {
    pub db: Db,
    pub storage: Storage,
    pub operator: PlatformAdmin,
    /// The owner role's URL of the PostgreSQL database, for benchmarks that alter it.
    pub owner_url: Option<String>,
    pub postgres: bool,
    _dir: tempfile::TempDir,
}

fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

pub async fn env(prefix: &str) -> BenchEnv {
    let dir = tempfile::tempdir().unwrap();
    let postgres = std::env::var("BENCH_BACKEND").as_deref() == Ok("postgres");
    let (config, owner_url) = if postgres {
        use sqlx::Connection;
        let owner =
            std::env::var("SWITCHBOARD_TEST_PG_OWNER_URL").expect("SWITCHBOARD_TEST_PG_OWNER_URL");
        let app =
            std::env::var("SWITCHBOARD_TEST_PG_APP_URL").expect("SWITCHBOARD_TEST_PG_APP_URL");
        let name = format!("{prefix}_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&owner).await.unwrap();
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        let mut config = DbConfig::new(with_database(&app, &name));
        config.migration_url = Some(with_database(&owner, &name).into());
        (config, Some(with_database(&owner, &name)))
    } else {
        (
            DbConfig::new(format!(
                "sqlite://{}",
                dir.path().join("bench.db").display()
            )),
            None,
        )
    };
    let config = DbConfig {
        max_connections: 10,
        ..config
    };
    Db::migrate(&config).await.unwrap();
    BenchEnv {
        db: Db::connect(&config).await.unwrap(),
        storage: Storage::open(&StorageConfig::Local {
            root: dir.path().join("objects"),
        })
        .unwrap(),
        operator: PlatformAdmin::operator_console("bench"),
        owner_url,
        postgres,
        _dir: dir,
    }
}

impl BenchEnv {
    /// The real router over this database and storage (no OIDC issuers, a fresh master key).
    pub fn router(&self) -> axum::Router {
        self.router_with(switchboard_server::receptionist::Receptionist::new(
            None, None,
        ))
    }

    /// The router with a receptionist of the benchmark's choosing (engines, Twilio account).
    pub fn router_with(
        &self,
        receptionist: switchboard_server::receptionist::Receptionist,
    ) -> axum::Router {
        use std::sync::Arc;
        use switchboard_store::secrets::{Keyring, MasterKey};
        switchboard_server::router(switchboard_server::AppState {
            auth: switchboard_store::auth::Authenticator::new(self.db.clone(), None),
            db: self.db.clone(),
            commits: Arc::new(switchboard_store::group_commit::GroupCommit::new(
                self.db.clone(),
            )),
            storage: self.storage.clone(),
            keyring: Arc::new(Keyring::new(
                MasterKey::from_base64(&MasterKey::generate_base64()).unwrap(),
                vec![],
            )),
            config: Arc::new(switchboard_server::ServerConfig::default()),
            receptionist: Arc::new(receptionist),
        })
    }

    /// Onboards `id` and opens it as the operator (admin scope).
    pub async fn tenant(&self, id: &str) -> TenantScope {
        let tenant = TenantId::parse(id).unwrap();
        onboarding::onboard(
            &self.db,
            &self.storage,
            &self.operator,
            OnboardRequest {
                id: tenant.clone(),
                name: id.into(),
                industry_template: None,
                plan: None,
                dedicated_storage: None,
                admin_email: format!("admin@{id}.test"),
                admin_password: "bench-password".into(),
            },
        )
        .await
        .unwrap();
        self.operator
            .open_tenant(
                &self.db,
                &tenant,
                AuditedAccess {
                    action: "write",
                    resource: "bench",
                    reason: "bench",
                    request_id: None,
                },
            )
            .await
            .unwrap()
    }
}

/// The `p` quantile (0–1) of sorted durations.
pub fn percentile(sorted: &[std::time::Duration], p: f64) -> std::time::Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A Tokio runtime with two worker threads, as on the 2-core machines the benchmarks target.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
