//! Group commit of job ends and of accepted recordings: the works waiting together commit in one
//! transaction per tenant, a lost lease writes nothing, a failing work fails alone, and copies of
//! a recording accepted together still make one call.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use switchboard_core::Area;
use switchboard_store::group_commit::{Committed, GroupCommit, TxWork};
use switchboard_store::ingest::{self, Accepted, NewRecording};
use switchboard_store::queue::{self, ClaimedJob, Completion, Due};
use switchboard_store::{StoreError, StoreResult, TenantScope, TenantTx};
use tokio::sync::{Notify, Semaphore};

use crate::harness::{TestApp, wav};

const LEASE: Duration = Duration::from_secs(60);

/// Completes its job once let go, holding up the committer (and so gathering the works sent
/// meanwhile into the next groups).
struct Held {
    job: ClaimedJob,
    started: Arc<Notify>,
    go: Arc<Semaphore>,
}

impl TxWork for Held {
    fn scope(&self) -> &TenantScope {
        &self.job.scope
    }

    fn apply<'a>(&'a self, tx: &'a mut TenantTx) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            self.started.notify_one();
            let _ = self.go.acquire().await.unwrap();
            queue::complete_in(tx, &self.job).await
        })
    }
}

/// Completes its job, then fails: its transaction must not keep the completion.
struct Failing(ClaimedJob);

impl TxWork for Failing {
    fn scope(&self) -> &TenantScope {
        &self.0.scope
    }

    fn apply<'a>(&'a self, tx: &'a mut TenantTx) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            queue::complete_in(tx, &self.0).await?;
            Err(StoreError::Invalid("refused by the test".into()))
        })
    }
}

async fn enqueue(app: &TestApp, token: &str, calls: &[&str]) {
    let scope = app.scope(token).await;
    let mut tx = app.db.write(&scope).await.unwrap();
    for call in calls {
        assert!(queue::enqueue(&mut tx, "noop", call).await.unwrap());
    }
    tx.commit().await.unwrap();
}

/// Every due job, leased to `worker`, by call id.
async fn claim_all(app: &TestApp, worker: &str, lease: Duration) -> HashMap<String, ClaimedJob> {
    queue::claim_batch(&app.db, worker, lease, 100, Due::Ready)
        .await
        .unwrap()
        .into_iter()
        .map(|job| (job.call_id.clone(), job))
        .collect()
}

async fn state(app: &TestApp, job: &ClaimedJob) -> String {
    let mut tx = app.db.read(&job.scope).await.unwrap();
    let jobs = queue::for_call(&mut tx, &job.call_id).await.unwrap();
    jobs[0].state.clone()
}

/// Sends `held` to a committer of one batch at a time and, once it is applying it, runs each of
/// `behind` on its own task; lets `held` go when `waiting` works wait in line for the committing
/// task. Returns `held`'s result and theirs, in order.
async fn behind_held<T: Send + 'static>(
    group: &Arc<GroupCommit>,
    held: ClaimedJob,
    waiting: usize,
    behind: Vec<BoxFuture<'static, T>>,
) -> (StoreResult<bool>, Vec<T>) {
    let (started, go) = (Arc::new(Notify::new()), Arc::new(Semaphore::new(0)));
    let first = {
        let (group, started, go) = (group.clone(), started.clone(), go.clone());
        tokio::spawn(async move {
            group
                .commit(Arc::new(Held {
                    job: held,
                    started,
                    go,
                }))
                .await
        })
    };
    started.notified().await;
    let behind: Vec<_> = behind.into_iter().map(tokio::spawn).collect();
    tokio::time::timeout(Duration::from_secs(10), async {
        while group.waiting() < waiting {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the works queue behind the held one");
    go.add_permits(1);
    let first = first.await.unwrap();
    let mut results = Vec::new();
    for task in behind {
        results.push(task.await.unwrap());
    }
    (first, results)
}

/// [`behind_held`] with `works` committed behind `held`.
async fn commit_behind_held(
    group: &Arc<GroupCommit>,
    held: ClaimedJob,
    works: Vec<Arc<dyn TxWork>>,
) -> (StoreResult<bool>, Vec<StoreResult<bool>>) {
    let count = works.len();
    let commits = works
        .into_iter()
        .map(|work| {
            let group = group.clone();
            Box::pin(async move { group.commit(work).await }) as BoxFuture<'static, _>
        })
        .collect();
    behind_held(group, held, count, commits).await
}

#[tokio::test]
async fn ends_waiting_together_commit_in_one_transaction_per_tenant_and_a_lost_lease_writes_nothing()
 {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    enqueue(&app, &a.admin_token, &["held", "a-1", "a-2", "a-3"]).await;
    enqueue(&app, &b.admin_token, &["b-1", "b-2"]).await;
    let mut jobs = claim_all(&app, "w", LEASE).await;
    assert_eq!(jobs.len(), 6);
    // A job whose lease runs out and another worker takes over.
    enqueue(&app, &a.admin_token, &["lost"]).await;
    let lost = claim_all(&app, "w", Duration::ZERO)
        .await
        .remove("lost")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let taken = queue::claim(&app.db, "other", LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.call_id, "lost");

    let group = Arc::new(GroupCommit::with_batches_in_flight(app.db.clone(), 1));
    let held = jobs.remove("held").unwrap();
    let order = ["a-1", "b-1", "lost", "a-2", "b-2", "a-3"];
    let works: Vec<Arc<dyn TxWork>> = order
        .iter()
        .map(|call| {
            let job = if *call == "lost" {
                lost.clone()
            } else {
                jobs[*call].clone()
            };
            Arc::new(Completion(job)) as Arc<dyn TxWork>
        })
        .collect();
    let (first, results) = commit_behind_held(&group, held.clone(), works).await;
    assert!(first.unwrap());
    let results: Vec<bool> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(results, [true, true, false, true, true, true]);
    // The held end alone, then the six in one transaction per tenant.
    assert_eq!(
        group.committed(),
        Committed {
            works: 7,
            transactions: 3
        }
    );
    for job in jobs.values().chain([&held]) {
        assert_eq!(state(&app, job).await, "done", "{}", job.call_id);
    }
    // The job that was taken over is still the other worker's.
    assert_eq!(state(&app, &taken).await, "running");
    assert!(queue::complete(&app.db, &taken).await.unwrap());
}

#[tokio::test]
async fn a_failing_end_fails_alone_and_the_others_in_its_group_still_commit() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    enqueue(&app, &a.admin_token, &["held", "a-1", "bad", "a-2"]).await;
    let mut jobs = claim_all(&app, "w", LEASE).await;
    let group = Arc::new(GroupCommit::with_batches_in_flight(app.db.clone(), 1));
    let works: Vec<Arc<dyn TxWork>> = vec![
        Arc::new(Completion(jobs["a-1"].clone())),
        Arc::new(Failing(jobs["bad"].clone())),
        Arc::new(Completion(jobs["a-2"].clone())),
    ];
    let held = jobs.remove("held").unwrap();
    let (first, results) = commit_behind_held(&group, held, works).await;
    assert!(first.unwrap());
    assert!(results[0].as_ref().unwrap());
    assert!(
        matches!(&results[1], Err(StoreError::Invalid(reason)) if reason == "refused by the test")
    );
    assert!(results[2].as_ref().unwrap());
    for call in ["a-1", "a-2"] {
        assert_eq!(state(&app, &jobs[call]).await, "done");
    }
    assert_eq!(
        state(&app, &jobs["bad"]).await,
        "running",
        "its completion rolled back"
    );
    // The group's transaction rolled back; each then ran alone.
    assert_eq!(
        group.committed(),
        Committed {
            works: 3,
            transactions: 3
        }
    );
}

#[tokio::test]
async fn recordings_accepted_together_share_a_transaction_and_copies_among_them_make_one_call() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    enqueue(&app, &a.admin_token, &["held"]).await;
    let held = claim_all(&app, "w", LEASE).await.remove("held").unwrap();
    let scope_a = app.scope(&a.admin_token).await;
    let scope_b = app.scope(&b.admin_token).await;
    let group = Arc::new(GroupCommit::with_batches_in_flight(app.db.clone(), 1));
    // Tenant A: two recordings and two copies of a third; tenant B: three recordings.
    let uploads = [
        (&scope_a, 1),
        (&scope_a, 2),
        (&scope_a, 3),
        (&scope_a, 3),
        (&scope_b, 4),
        (&scope_b, 5),
        (&scope_b, 6),
    ];
    let accepts = uploads
        .iter()
        .map(|(scope, seed)| {
            let (group, storage, scope) = (group.clone(), app.storage.clone(), (*scope).clone());
            let recording = NewRecording {
                audio: Bytes::from(wav(*seed, 800)),
                meta: None,
                source: "upload".into(),
                provider_recording_id: None,
            };
            Box::pin(
                async move { ingest::accept_grouped(&group, &storage, &scope, recording).await },
            ) as BoxFuture<'static, _>
        })
        .collect();
    let (first, accepted) = behind_held(&group, held, uploads.len(), accepts).await;
    assert!(first.unwrap());
    let accepted: Vec<Accepted> = accepted.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        accepted[2].call_id, accepted[3].call_id,
        "one call for the copies"
    );
    assert!(accepted[2].duplicate != accepted[3].duplicate);
    let new: HashSet<&str> = accepted
        .iter()
        .filter(|a| !a.duplicate)
        .map(|a| a.call_id.as_str())
        .collect();
    assert_eq!(new.len(), 6);
    // The held end alone. Tenant A's group failed on the copy, so its works ran alone (three
    // committed, the copy found the call it duplicates); tenant B's three in one transaction.
    assert_eq!(
        group.committed(),
        Committed {
            works: 7,
            transactions: 5
        }
    );
    for (scope, calls) in [(&scope_a, 3), (&scope_b, 3)] {
        let tenant = scope.tenant().as_str();
        assert_eq!(app.count_rows("calls", tenant).await, calls);
        // One job per call (and tenant A's held one), and the losing copy's objects are gone
        // (an audio and a meta object per call).
        let held_jobs = i64::from(tenant == "tenant-a");
        assert_eq!(app.count_rows("jobs", tenant).await, calls + held_jobs);
        let objects = app.storage.tenant(scope).unwrap();
        assert_eq!(
            objects.list(Area::Input, None).await.unwrap().len(),
            2 * calls as usize
        );
    }
}
