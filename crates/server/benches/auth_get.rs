//! Benchmark: an authenticated `GET /api/v1/users` (token check + tenant check + a tenant query),
//! driven in-process through the real router with 16 concurrent clients.
//!
//!   cargo bench -p switchboard-server --bench auth_get                  # SQLite
//!   eval "$(bash scripts/services.sh)"
//!   BENCH_BACKEND=postgres cargo bench -p switchboard-server --bench auth_get
//!
//! On PostgreSQL it runs three rounds on one database — RLS on, RLS disabled (as the owner), RLS
//! on again — so the ratio is taken in the same run and drift shows.

mod support;

use std::time::{Duration, Instant};

use axum::body::Body;
use http::Request;
use switchboard_core::Role;
use switchboard_store::repo::tokens;
use tower::ServiceExt;

const CONCURRENCY: usize = 16;
const REQUESTS: usize = 20_000;
const TENANT_TABLES_WITH_RLS: &[&str] = &["users", "api_tokens", "sessions", "audit_log"];

struct Round {
    label: String,
    rps: f64,
    p50: Duration,
    p99: Duration,
}

async fn round(label: &str, app: &axum::Router, token: &str) -> Round {
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..CONCURRENCY {
        let app = app.clone();
        let token = token.to_owned();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(REQUESTS / CONCURRENCY);
            for _ in 0..REQUESTS / CONCURRENCY {
                let request = Request::get("/api/v1/users")
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap();
                let at = Instant::now();
                let response = app.clone().oneshot(request).await.unwrap();
                assert!(response.status().is_success());
                let _ = axum::body::to_bytes(response.into_body(), 1 << 20)
                    .await
                    .unwrap();
                latencies.push(at.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort();
    let pick = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Round {
        label: label.to_owned(),
        rps: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pick(0.50),
        p99: pick(0.99),
    }
}

async fn set_rls(owner_url: &str, on: bool) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(owner_url).await.unwrap();
    for table in TENANT_TABLES_WITH_RLS {
        let sql = if on {
            format!(
                "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; ALTER TABLE {table} FORCE ROW LEVEL SECURITY"
            )
        } else {
            format!(
                "ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY; ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"
            )
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

#[tokio::main]
async fn main() {
    let env = support::env("sbbench").await;
    let (db, postgres, owner_url) = (env.db.clone(), env.postgres, env.owner_url.clone());
    let scope = env.tenant("bench").await;
    let mut tx = db.write(&scope).await.unwrap();
    let (_, token) = tokens::create(&mut tx, scope.admin().unwrap(), "bench", Role::Member)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let app = env.router();
    round("warm-up", &app, &token).await;
    let mut rounds = vec![
        round(
            if postgres {
                "postgres, RLS on"
            } else {
                "sqlite"
            },
            &app,
            &token,
        )
        .await,
    ];
    if let Some(owner) = &owner_url {
        set_rls(owner, false).await;
        rounds.push(round("postgres, RLS off", &app, &token).await);
        set_rls(owner, true).await;
        rounds.push(round("postgres, RLS on (again)", &app, &token).await);
    }
    println!("| backend | requests | concurrency | req/s | p50 | p99 |");
    println!("|---|---|---|---|---|---|");
    for r in &rounds {
        println!(
            "| {} | {REQUESTS} | {CONCURRENCY} | {:.0} | {:.2} ms | {:.2} ms |",
            r.label,
            r.rps,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3
        );
    }
    if rounds.len() == 3 {
        let on = (rounds[0].rps + rounds[2].rps) / 2.0;
        println!(
            "\nRLS on / RLS off time per request: {:.3}x",
            rounds[1].rps / on
        );
    }
}
