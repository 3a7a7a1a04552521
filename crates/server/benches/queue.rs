//! Benchmark P6: queue throughput with empty jobs — enqueue (one transaction each), then claim +
//! complete by 8 concurrent workers, each claim its own transaction; then the same jobs again
//! claimed by one dispatcher for its 8 slots (as `switchboard worker` does: whenever slots are
//! free, one transaction claims that many), each completed in its own transaction, then with
//! a group commit (as the pipeline's stages end: the ends waiting together share one transaction
//! per tenant). Then all three at once, as a busy system runs them: 8 producers enqueue one job
//! at a time while the dispatcher claims and completes, timed until every job is done: each
//! enqueue and each end in its own transaction; the ends in group commits; and the enqueues in
//! group commits too (as concurrent uploads now commit). Last, a bulk producer's enqueue
//! (re-analysis: `queue::requeue_many`, one transaction per tenant) and the dispatcher draining
//! it.
//!
//!   cargo bench -p switchboard-server --bench queue                     # SQLite
//!   eval "$(bash scripts/services.sh)"
//!   BENCH_BACKEND=postgres cargo bench -p switchboard-server --bench queue
//!   BENCH_SLOTS=32 …                     # workers, producers and dispatcher slots (default 8)

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use switchboard_store::group_commit::{GroupCommit, TxWork};
use switchboard_store::{Db, StoreResult, TenantScope, TenantTx, queue};
use tokio::sync::Semaphore;

const JOBS: usize = 5_000;
/// Workers and dispatcher slots; `BENCH_SLOTS` overrides (the queue is bound by round-trip
/// latency on two cores, so its throughput grows with the jobs in flight).
fn workers() -> usize {
    *WORKERS_SET
}

static WORKERS_SET: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| {
    std::env::var("BENCH_SLOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
});

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

/// One job's enqueue as a work for a group commit (as `ingest::accept_grouped` commits an
/// upload's call row and first job).
struct Enqueue {
    scope: TenantScope,
    kind: &'static str,
    call: String,
}

impl TxWork for Enqueue {
    fn scope(&self) -> &TenantScope {
        &self.scope
    }

    fn apply<'a>(&'a self, tx: &'a mut TenantTx) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(queue::enqueue(tx, self.kind, &self.call))
    }
}

/// `jobs` enqueued one by one, each through `commits` (in a transaction shared with the other
/// producers' enqueues waiting at that moment).
async fn enqueue_grouped(
    commits: &GroupCommit,
    scopes: &[TenantScope],
    kind: &'static str,
    jobs: Vec<usize>,
) {
    for i in jobs {
        let work = Enqueue {
            scope: scopes[i % scopes.len()].clone(),
            kind,
            call: format!("call-{i}"),
        };
        assert!(commits.commit(Arc::new(work)).await.unwrap());
    }
}

/// As `run_workers` dispatches: `workers()` slots; whenever some are free, one transaction claims
/// that many due jobs, and each is completed on its slot: in its own transaction, or with
/// `group` in one shared with the other ends waiting at that moment (as the pipeline's stages
/// end). Runs until `until` jobs are done; an empty claim waits a millisecond (producers may
/// still be enqueueing).
async fn dispatch(db: &Db, until: usize, group: Option<Arc<GroupCommit>>) {
    let slots = Arc::new(Semaphore::new(workers()));
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
            let (db, completed, group) = (db.clone(), completed.clone(), group.clone());
            tokio::spawn(async move {
                let done = match group {
                    Some(group) => group.commit(Arc::new(queue::Completion(job))).await,
                    None => queue::complete(&db, &job).await,
                };
                assert!(done.unwrap());
                completed.fetch_add(1, Ordering::Relaxed);
                drop(permit);
            });
        }
    }
    let _ = slots.acquire_many(workers() as u32).await.unwrap();
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

    // One claim transaction per job, one per worker.
    let started = Instant::now();
    let mut handles = Vec::new();
    for w in 0..workers() {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
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
    for worker in handles {
        completed += worker.await.unwrap();
    }
    let drain = started.elapsed();
    assert_eq!(completed, JOBS);

    // As `switchboard worker` runs them: one dispatcher claims for its idle workers in one
    // transaction; each job completes in its own transaction, then (as the pipeline's stages
    // end) in group commits.
    let group = Arc::new(GroupCommit::new(db.clone()));
    let mut dispatched = Vec::new();
    for (kind, group) in [("noop-2", None), ("noop-3", Some(group.clone()))] {
        enqueue_all(&db, &scopes, kind).await;
        let started = Instant::now();
        dispatch(&db, JOBS, group).await;
        dispatched.push(started.elapsed());
    }

    // Everything at once: 8 producers and the dispatcher; without group commits, with the ends
    // in group commits, and with the producers' enqueues in group commits too (as concurrent
    // uploads commit: `ingest::accept_grouped`, a committer of their own).
    let mut concurrent = Vec::new();
    let enqueues = Arc::new(GroupCommit::new(db.clone()));
    for (kind, ends, grouped_enqueues) in [
        ("noop-4", None, false),
        ("noop-5", Some(group.clone()), false),
        ("noop-7", Some(group.clone()), true),
    ] {
        let started = Instant::now();
        let mut producers = Vec::new();
        for p in 0..workers() {
            let (db, scopes, enqueues) = (db.clone(), scopes.clone(), enqueues.clone());
            let share = (0..JOBS).filter(|i| i % workers() == p).collect();
            producers.push(tokio::spawn(async move {
                if grouped_enqueues {
                    enqueue_grouped(&enqueues, &scopes, kind, share).await
                } else {
                    enqueue_range(&db, &scopes, kind, share).await
                }
            }));
        }
        dispatch(&db, JOBS, ends).await;
        for producer in producers {
            producer.await.unwrap();
        }
        concurrent.push(started.elapsed());
    }

    // A bulk producer (re-analysis): each tenant's share in one transaction, 500 jobs per
    // statement (`queue::requeue_many`).
    let started = Instant::now();
    for (t, scope) in scopes.iter().enumerate() {
        let ids: Vec<String> = (0..JOBS)
            .filter(|i| i % scopes.len() == t)
            .map(|i| format!("call-{i}"))
            .collect();
        let mut tx = db.write(scope).await.unwrap();
        queue::requeue_many(&mut tx, "noop-6", &ids).await.unwrap();
        tx.commit().await.unwrap();
    }
    let bulk = started.elapsed();
    let started = Instant::now();
    dispatch(&db, JOBS, Some(group.clone())).await;
    let bulk_drain = started.elapsed();

    let backend = if postgres { "PostgreSQL" } else { "SQLite" };
    let ends = group.committed();
    let grouped_enqueues = enqueues.committed();
    let rate = |took: Duration| format!("{:.0}", JOBS as f64 / took.as_secs_f64());
    println!(
        "| {backend} | {JOBS} jobs, 4 tenants, {} workers / slots | enqueue {} jobs/s | claim + complete {} jobs/s | end to end {} jobs/s | dispatcher: batched claims + complete {} jobs/s, + group commit {} jobs/s | producers + dispatcher at once {} jobs/s, + group commit of ends {} jobs/s, + of enqueues {} jobs/s ({:.1} per transaction) | bulk enqueue (one transaction per tenant) {} jobs/s, drained + group commit {} jobs/s | {:.1} ends per group transaction |",
        workers(),
        rate(enqueue),
        rate(drain),
        rate(enqueue + drain),
        rate(dispatched[0]),
        rate(dispatched[1]),
        rate(concurrent[0]),
        rate(concurrent[1]),
        rate(concurrent[2]),
        grouped_enqueues.works as f64 / grouped_enqueues.transactions as f64,
        rate(bulk),
        rate(bulk + bulk_drain),
        ends.works as f64 / ends.transactions as f64,
    );
}
