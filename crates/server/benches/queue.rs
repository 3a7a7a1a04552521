//! Benchmark P6: queue throughput with empty jobs — enqueue (one transaction each), then claim +
//! complete by 8 concurrent workers, each claim its own transaction; then the same jobs again
//! claimed by one dispatcher for its 8 slots (as `switchboard worker` does: whenever slots are
//! free, one transaction claims that many), each completed in its own transaction. Last, all
//! three at once, as a busy system runs them: 8 producers enqueue (one transaction per job, as
//! concurrent uploads do) while the dispatcher claims and completes; timed until every job is
//! done. Then a bulk producer's enqueue (re-analysis: `queue::requeue_many`, one transaction per
//! tenant).
//!
//!   cargo bench -p switchboard-server --bench queue                     # SQLite
//!   eval "$(bash scripts/services.sh)"
//!   BENCH_BACKEND=postgres cargo bench -p switchboard-server --bench queue

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use switchboard_store::{Db, TenantScope, queue};
use tokio::sync::Semaphore;

const JOBS: usize = 5_000;
const WORKERS: usize = 8;

/// `JOBS` jobs of `kind` spread over the tenants, one transaction each (as ingest enqueues).
async fn enqueue_all(db: &Db, scopes: &[TenantScope], kind: &str) {
    enqueue_range(db, scopes, kind, (0..JOBS).collect()).await;
}

async fn enqueue_range(db: &Db, scopes: &[TenantScope], kind: &str, jobs: Vec<usize>) {
    for i in jobs {
        let mut tx = db.write(&scopes[i % scopes.len()]).await.unwrap();
        queue::enqueue(&mut tx, kind, &format!("call-{i}"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
}

/// As `run_workers` dispatches: `WORKERS` slots; whenever some are free, one transaction claims
/// that many due jobs, and each is completed in its own transaction on its slot. Runs until
/// `until` jobs are done; an empty claim waits a millisecond (producers may still be enqueueing).
async fn dispatch(db: &Db, until: usize) {
    let slots = Arc::new(Semaphore::new(WORKERS));
    let completed = Arc::new(AtomicUsize::new(0));
    while completed.load(Ordering::Relaxed) < until {
        let mut permits = vec![slots.clone().acquire_owned().await.unwrap()];
        while let Ok(permit) = slots.clone().try_acquire_owned() {
            permits.push(permit);
        }
        let jobs = queue::claim_batch(
            db,
            "dispatcher",
            Duration::from_secs(60),
            permits.len(),
            queue::Due::Ready,
        )
        .await
        .unwrap();
        if jobs.is_empty() {
            drop(permits);
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        for (job, permit) in jobs.into_iter().zip(permits.drain(..)) {
            let (db, completed) = (db.clone(), completed.clone());
            tokio::spawn(async move {
                assert!(queue::complete(&db, &job).await.unwrap());
                completed.fetch_add(1, Ordering::Relaxed);
                drop(permit);
            });
        }
    }
    let _ = slots.acquire_many(WORKERS as u32).await.unwrap();
}

#[tokio::main]
async fn main() {
    let env = support::env("sbqueue").await;
    let (db, postgres) = (env.db.clone(), env.postgres);
    let mut scopes = Vec::new();
    for id in ["bench-a", "bench-b", "bench-c", "bench-d"] {
        scopes.push(env.tenant(id).await);
    }

    let started = Instant::now();
    enqueue_all(&db, &scopes, "noop").await;
    let enqueue = started.elapsed();

    // One claim transaction per job, 8 workers.
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

    // As `switchboard worker` runs them: one dispatcher claims for its idle workers in one
    // transaction, each job completes in its own (as a stage's result commits with it).
    enqueue_all(&db, &scopes, "noop-2").await;
    let started = Instant::now();
    dispatch(&db, JOBS).await;
    let batched = started.elapsed();

    // Everything at once: 8 producers and the dispatcher.
    let started = Instant::now();
    let mut producers = Vec::new();
    for p in 0..WORKERS {
        let (db, scopes) = (db.clone(), scopes.clone());
        let share = (0..JOBS).filter(|i| i % WORKERS == p).collect();
        producers.push(tokio::spawn(async move {
            enqueue_range(&db, &scopes, "noop-3", share).await
        }));
    }
    dispatch(&db, JOBS).await;
    for producer in producers {
        producer.await.unwrap();
    }
    let concurrent = started.elapsed();

    // A bulk producer (re-analysis): each tenant's share in one transaction, 500 jobs per
    // statement (`queue::requeue_many`).
    let started = Instant::now();
    for (t, scope) in scopes.iter().enumerate() {
        let ids: Vec<String> = (0..JOBS)
            .filter(|i| i % scopes.len() == t)
            .map(|i| format!("call-{i}"))
            .collect();
        let mut tx = db.write(scope).await.unwrap();
        queue::requeue_many(&mut tx, "noop-4", &ids).await.unwrap();
        tx.commit().await.unwrap();
    }
    let bulk = started.elapsed();
    dispatch(&db, JOBS).await;

    let backend = if postgres { "PostgreSQL" } else { "SQLite" };
    println!(
        "| {backend} | {JOBS} jobs, 4 tenants | enqueue {:.0} jobs/s | claim + complete ({WORKERS} workers) {:.0} jobs/s | end to end {:.0} jobs/s | dispatcher ({WORKERS} slots): batched claims + complete {:.0} jobs/s | {WORKERS} producers + dispatcher at once {:.0} jobs/s | bulk enqueue (one transaction per tenant) {:.0} jobs/s |",
        JOBS as f64 / enqueue.as_secs_f64(),
        JOBS as f64 / drain.as_secs_f64(),
        JOBS as f64 / (enqueue + drain).as_secs_f64(),
        JOBS as f64 / batched.as_secs_f64(),
        JOBS as f64 / concurrent.as_secs_f64(),
        JOBS as f64 / bulk.as_secs_f64()
    );
}
