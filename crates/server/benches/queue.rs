//! Benchmark P6: queue throughput with empty jobs — enqueue (one transaction each), then claim +
//! complete by 8 concurrent workers.
//!
//!   cargo bench -p switchboard-server --bench queue                     # SQLite
//!   eval "$(bash scripts/services.sh)"
//!   BENCH_BACKEND=postgres cargo bench -p switchboard-server --bench queue

use std::time::{Duration, Instant};

use switchboard_core::TenantId;
use switchboard_store::onboarding::{self, OnboardRequest};
use switchboard_store::queue;
use switchboard_store::scope::AuditedAccess;
use switchboard_store::{Db, DbConfig, PlatformAdmin, Storage, StorageConfig};

const JOBS: usize = 5_000;
const WORKERS: usize = 8;

fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let postgres = std::env::var("BENCH_BACKEND").as_deref() == Ok("postgres");
    let config = if postgres {
        use sqlx::Connection;
        let owner =
            std::env::var("SWITCHBOARD_TEST_PG_OWNER_URL").expect("SWITCHBOARD_TEST_PG_OWNER_URL");
        let app =
            std::env::var("SWITCHBOARD_TEST_PG_APP_URL").expect("SWITCHBOARD_TEST_PG_APP_URL");
        let name = format!("sbqueue_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&owner).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let mut config = DbConfig::new(with_database(&app, &name));
        config.migration_url = Some(with_database(&owner, &name).into());
        config
    } else {
        DbConfig::new(format!(
            "sqlite://{}",
            dir.path().join("bench.db").display()
        ))
    };
    let config = DbConfig {
        max_connections: 10,
        ..config
    };
    Db::migrate(&config).await.unwrap();
    let db = Db::connect(&config).await.unwrap();
    let storage = Storage::open(&StorageConfig::Local {
        root: dir.path().join("objects"),
    })
    .unwrap();
    let operator = PlatformAdmin::operator_console("bench");
    let mut scopes = Vec::new();
    for id in ["bench-a", "bench-b", "bench-c", "bench-d"] {
        let tenant = TenantId::parse(id).unwrap();
        onboarding::onboard(
            &db,
            &storage,
            &operator,
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
        scopes.push(
            operator
                .open_tenant(
                    &db,
                    &tenant,
                    AuditedAccess {
                        action: "write",
                        resource: "jobs",
                        reason: "bench",
                        request_id: None,
                    },
                )
                .await
                .unwrap(),
        );
    }

    let started = Instant::now();
    for i in 0..JOBS {
        let scope = &scopes[i % scopes.len()];
        let mut tx = db.write(scope).await.unwrap();
        queue::enqueue(&mut tx, "noop", &format!("call-{i}"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let enqueue = started.elapsed();

    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let db = db.clone();
        workers.push(tokio::spawn(async move {
            let name = format!("w{w}");
            let mut done = 0;
            while let Some(job) = queue::claim(&db, &name, Duration::from_secs(60))
                .await
                .unwrap()
            {
                assert!(queue::complete(&db, &job).await.unwrap());
                done += 1;
            }
            done
        }));
    }
    let mut completed = 0;
    for worker in workers {
        completed += worker.await.unwrap();
    }
    let drain = started.elapsed();
    assert_eq!(completed, JOBS);
    let backend = if postgres { "PostgreSQL" } else { "SQLite" };
    println!(
        "| {backend} | {JOBS} jobs, 4 tenants | enqueue {:.0} jobs/s | claim + complete ({WORKERS} workers) {:.0} jobs/s | end to end {:.0} jobs/s |",
        JOBS as f64 / enqueue.as_secs_f64(),
        JOBS as f64 / drain.as_secs_f64(),
        JOBS as f64 / (enqueue + drain).as_secs_f64()
    );
}
