//! Benchmark P5 (issue 6): server time of the dashboard for a tenant with many calls — the
//! overview API and page over a 90-day range, the agent list with 500 agents, and the page of a
//! call with a one-hour transcript — driven in-process through the real router.
//!
//!   cargo bench -p switchboard-server --bench dashboard                   # SQLite, 1M calls
//!   eval "$(bash scripts/services.sh)"
//!   BENCH_BACKEND=postgres cargo bench -p switchboard-server --bench dashboard
//!   BENCH_CALLS=100000 cargo bench -p switchboard-server --bench dashboard   # a quicker run

mod support;

use std::time::{Duration, Instant};

use axum::body::Body;
use http::Request;
use switchboard_core::{Area, Role};
use switchboard_store::auth::Authenticator;
use switchboard_store::clock::now_ms;
use switchboard_store::repo::analytics::{DAY_MS, day_label};
use switchboard_store::repo::tokens;
use switchboard_store::synthetic::{self, SyntheticCalls};
use tower::ServiceExt;

const RUNS: usize = 7;

async fn time(app: &axum::Router, path: &str, auth: (&str, String)) -> (Duration, Duration, usize) {
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..RUNS + 1 {
        let request = Request::get(path)
            .header(auth.0, auth.1.clone())
            .body(Body::empty())
            .unwrap();
        let at = Instant::now();
        let response = app.clone().oneshot(request).await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        let body = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap();
        times.push(at.elapsed());
        size = body.len();
    }
    times.remove(0); // warm-up
    times.sort();
    (times[times.len() / 2], times[times.len() - 1], size)
}

/// A final record of `minutes` of conversation: one 5-second utterance after another.
fn long_record(call_id: &str, tenant: &str, minutes: u64) -> String {
    let mut record: serde_json::Value = serde_json::from_str(
        &include_str!("../tests/fixtures/final_record.json")
            .replace("CALL_ID", call_id)
            .replace("TENANT_ID", tenant),
    )
    .unwrap();
    let template = record["transcript"].as_array().unwrap().clone();
    let utterances: Vec<serde_json::Value> = (0..minutes * 12)
        .map(|i| {
            let mut u = template[(i % 3) as usize].clone();
            u["index"] = i.into();
            u["start_ms"] = (i * 5000).into();
            u["end_ms"] = (i * 5000 + 4500).into();
            u
        })
        .collect();
    record["transcript"] = utterances.into();
    record.to_string()
}

#[tokio::main]
async fn main() {
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let env = support::env("sbdash").await;
    let db = env.db.clone();
    let scope = env.tenant("bench-a").await;
    // A second tenant with its own calls, so the queries must filter by tenant.
    let other = env.tenant("bench-b").await;
    let until = now_ms();
    let spec = SyntheticCalls {
        calls,
        days: 90,
        until_ms: until,
        agents: 500,
        seed: 1,
    };
    let started = Instant::now();
    synthetic::insert(&db, &scope, &spec).await.unwrap();
    synthetic::insert(
        &db,
        &other,
        &SyntheticCalls {
            calls: calls / 10,
            seed: 2,
            ..spec.clone()
        },
    )
    .await
    .unwrap();
    let seeding = started.elapsed();
    if env.postgres {
        let url = env.owner_url.clone().unwrap();
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("ANALYZE").execute(&mut conn).await.unwrap();
    }

    let mut tx = db.write(&scope).await.unwrap();
    let (_, token) = tokens::create(&mut tx, scope.admin().unwrap(), "bench", Role::Member)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let auth = Authenticator::new(db.clone(), None);
    let session = auth
        .login(Some(scope.tenant()), "admin@bench-a.test", "bench-password")
        .await
        .unwrap();
    // One call gets a one-hour transcript.
    let call_id = format!("syn{:013}{:016x}", 0, 1);
    env.storage
        .tenant(&scope)
        .unwrap()
        .put(
            Area::Results,
            &switchboard_pipeline::stages::final_name(&call_id),
            long_record(&call_id, "bench-a", 60).into(),
        )
        .await
        .unwrap();
    let app = env.router();

    let range = format!(
        "from={}&to={}",
        day_label((until - 89 * DAY_MS).div_euclid(DAY_MS)),
        day_label(until.div_euclid(DAY_MS))
    );
    let bearer = ("authorization", format!("Bearer {token}"));
    let cookie = ("cookie", format!("sb_session={}", session.cookie));
    let rows = [
        (
            "overview API, 90 days",
            format!("/api/v1/analytics/overview?{range}"),
            bearer.clone(),
        ),
        (
            "overview page, 90 days",
            format!("/overview?{range}"),
            cookie.clone(),
        ),
        (
            "overview API, 90 days cut at noon (partial days from the rows)",
            format!(
                "/api/v1/analytics/overview?from={}T12:00:00Z&to={}T12:00:00Z",
                day_label((until - 89 * DAY_MS).div_euclid(DAY_MS)),
                day_label(until.div_euclid(DAY_MS))
            ),
            bearer.clone(),
        ),
        (
            "agent list API (500 agents, 50 shown)",
            format!("/api/v1/agents?{range}"),
            bearer.clone(),
        ),
        (
            "agent list page",
            format!("/agents?{range}"),
            cookie.clone(),
        ),
        (
            "agent detail page",
            format!("/agents/agent0007%40bench.example?{range}"),
            cookie.clone(),
        ),
        (
            "calls list page (newest 50)",
            format!("/calls?{range}"),
            cookie.clone(),
        ),
        (
            "calls list page, one agent",
            format!("/calls?{range}&agent=agent0007%40bench.example"),
            cookie.clone(),
        ),
        (
            "calls list page, inbound and negative, page 5",
            format!("/calls?{range}&direction=inbound&sentiment=NEGATIVE&offset=200"),
            cookie.clone(),
        ),
        (
            "call detail page, 1-hour transcript (720 utterances)",
            format!("/calls/{call_id}"),
            cookie.clone(),
        ),
    ];
    let backend = if env.postgres { "PostgreSQL" } else { "SQLite" };
    println!(
        "\n{backend}: {calls} calls for the tenant (+{} for another), 500 agents, seeded in {:.1} s\n",
        calls / 10,
        seeding.as_secs_f64()
    );
    println!("| {backend} | median | max | response |\n|---|---|---|---|");
    for (label, path, auth) in rows {
        let (median, max, size) = time(&app, &path, auth).await;
        println!(
            "| {label} | {:.1} ms | {:.1} ms | {} KB |",
            median.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0,
            size / 1024
        );
    }
}
