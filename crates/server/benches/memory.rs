//! Benchmark P4 (issue 7): `POST /v2/context/enriched` latency with many callers at many
//! tenants (default 10,000 callers × 100 tenants = one million caller profiles, a summary and
//! two embedded memories each), through the real router with each tenant's API token. Rounds:
//! no query (recency), a query ranked by word overlap, and — with `SWITCHBOARD_TEST_MODELS` — a
//! query embedded by MiniLM; sequential and with 8 concurrent clients. Prints the process's
//! resident memory before and after MiniLM is loaded.
//!
//!   cargo bench --profile dev -p switchboard-server --bench memory
//!   BENCH_TENANTS=10 BENCH_CALLERS=1000 …   (a smaller run)
//!   BENCH_BACKEND=postgres …                (on PostgreSQL; see benches/support)

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::Request;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use switchboard_core::Role;
use switchboard_engines::VaderSentiment;
use switchboard_engines::embeddings::Embedder;
use switchboard_pipeline::{Engines, LazyEngine};
use switchboard_server::receptionist::Receptionist;
use switchboard_store::repo::tokens;
use switchboard_store::synthetic::{self, SyntheticCallers};
use tower::ServiceExt;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0)
}

fn engines(models: Option<PathBuf>) -> Option<Arc<Engines>> {
    let minilm = models?.join("models/all-MiniLM-L6-v2");
    Some(Arc::new(Engines {
        asr: LazyEngine::new(|| Err("no speech-to-text in this benchmark".into())),
        sentiment: Arc::new(VaderSentiment::new()),
        rubric_vectors: Default::default(),
        embedder: LazyEngine::new(move || {
            switchboard_engines::embeddings::minilm::MiniLm::load(&minilm)
                .map(|m| Arc::new(m) as Arc<dyn Embedder>)
                .map_err(|e| e.to_string())
        }),
        voices: LazyEngine::new(|| Err("no voice encoder in this benchmark".into())),
        language_model: None,
    }))
}

async fn context(app: &axum::Router, token: &str, body: String, tenant: &str) -> Duration {
    let request = Request::post("/v2/context/enriched")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let at = Instant::now();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let took = at.elapsed();
    assert!(
        status.is_success(),
        "{status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(value["known_caller"], true);
    assert!(
        value["thread_id"]
            .as_str()
            .unwrap()
            .contains(&format!("customer_{tenant}_"))
    );
    took
}

async fn round(
    label: &str,
    app: &axum::Router,
    tenants: &[(String, String)],
    callers: usize,
    query: Option<&str>,
    requests: usize,
    clients: usize,
) {
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|client| {
            let (app, tenants) = (app.clone(), tenants.to_vec());
            let query = query.map(str::to_owned);
            let per_client = requests / clients;
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(client as u64);
                let mut times = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    let (tenant, token) = &tenants[rng.random_range(0..tenants.len())];
                    let user = synthetic::caller_number(rng.random_range(0..callers));
                    let body = match &query {
                        Some(q) => serde_json::json!({ "user_id": user, "query": q }),
                        None => serde_json::json!({ "user_id": user }),
                    };
                    times.push(context(&app, token, body.to_string(), tenant).await);
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let wall = started.elapsed();
    all.sort();
    println!(
        "{label}: {} requests, {clients} client(s), {:.0} req/s — p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        all.len() as f64 / wall.as_secs_f64(),
        support::percentile(&all, 0.5).as_secs_f64() * 1e3,
        support::percentile(&all, 0.99).as_secs_f64() * 1e3,
        all.last().unwrap().as_secs_f64() * 1e3,
    );
}

fn main() {
    let runtime = support::runtime();
    runtime.block_on(async {
        let tenant_count = env_usize("BENCH_TENANTS", 100);
        let callers = env_usize("BENCH_CALLERS", 10_000);
        let env = support::env("mem").await;
        let generated = Instant::now();
        let mut tenants = Vec::new();
        for t in 0..tenant_count {
            let id = format!("mem{t:03}");
            let scope = env.tenant(&id).await;
            let mut tx = env.db.write(&scope).await.unwrap();
            let (_, token) =
                tokens::create(&mut tx, scope.admin().unwrap(), "receptionist", Role::Member)
                    .await
                    .unwrap();
            tx.commit().await.unwrap();
            synthetic::insert_callers(
                &env.db,
                &scope,
                &SyntheticCallers {
                    callers,
                    memories_per_caller: 2,
                    days: 365,
                    until_ms: switchboard_store::clock::now_ms(),
                    seed: t as u64,
                },
            )
            .await
            .unwrap();
            tenants.push((id, token));
        }
        println!(
            "{} backend: {tenant_count} tenants × {callers} callers ({} profiles, {} memories) generated in {:.0} s",
            if env.postgres { "postgres" } else { "sqlite" },
            tenant_count * callers,
            tenant_count * callers * 2,
            generated.elapsed().as_secs_f64()
        );
        let models = std::env::var_os("SWITCHBOARD_TEST_MODELS").map(PathBuf::from);
        let semantic = models.is_some();
        let lexical_app = env.router_with(Receptionist::new(None, None));
        let n = env_usize("BENCH_REQUESTS", 2000);
        round("warm-up", &lexical_app, &tenants, callers, None, 200, 1).await;
        round("context, no query (recency)", &lexical_app, &tenants, callers, None, n, 1).await;
        round("context, no query (recency)", &lexical_app, &tenants, callers, None, n, 8).await;
        let query = Some("is my water heater still under warranty");
        round("context, query ranked by word overlap", &lexical_app, &tenants, callers, query, n, 1).await;
        round("context, query ranked by word overlap", &lexical_app, &tenants, callers, query, n, 8).await;
        if semantic {
            println!("resident memory before MiniLM: {:.0} MiB", rss_mib());
            let app = env.router_with(Receptionist::new(engines(models), None));
            round("warm-up (loads MiniLM)", &app, &tenants, callers, query, 20, 1).await;
            println!("resident memory with MiniLM loaded: {:.0} MiB", rss_mib());
            round("context, query embedded by MiniLM", &app, &tenants, callers, query, n / 4, 1).await;
            round("context, query embedded by MiniLM", &app, &tenants, callers, query, n / 4, 8).await;
        }
    });
}
