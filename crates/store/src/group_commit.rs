//! Group commit: the ends of jobs that finish at about the same time commit in one transaction
//! per tenant instead of one each (ADR 0005, revised).
//!
//! A job's end is a handful of small writes (its own row done, the call's new state, the next
//! stage's job) whose cost is mostly the transaction around them: on PostgreSQL its `BEGIN` and
//! `COMMIT` round trips and the commit's WAL record, on SQLite its turn at the one write lock.
//! Up to [`IN_FLIGHT`] batches commit at once. An end that finds a batch free and nobody waiting
//! commits alone at once, on its own task; the ends that arrive while all batches are busy wait
//! in line and form the next batch, which the committing task starts as soon as one is free.
//! So a lightly loaded worker commits as it did without grouping, and a busy dispatcher's ends
//! share their transactions (BENCHMARKS.md, P6: 1.1 ends per transaction at 8 slots, 2.2–3.7 at
//! 32).
//!
//! A [`TxWork`] runs inside a transaction of its own tenant (the [`TenantTx`] is opened from the
//! work's scope, so one tenant's work never sees another's transaction). Its contract: when it
//! returns `Ok(false)` (its job's lease was lost) it has written nothing, because the others in
//! its group still commit. When any work of a group fails, the group's transaction rolls back and
//! each of its works runs again alone, in its own transaction, so one failure is reported to its
//! own job only and never takes the others down with it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use switchboard_core::TenantId;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::{Db, StoreError, StoreResult, TenantScope, TenantTx};

/// Writes that end a job, run inside a transaction of `scope`'s tenant.
pub trait TxWork: Send + Sync + 'static {
    fn scope(&self) -> &TenantScope;

    /// `Ok(false)`: nothing was written and nothing should be (the lease was lost). It may run
    /// twice (alone after its group rolled back), so it must not keep state between runs.
    fn apply<'a>(&'a self, tx: &'a mut TenantTx) -> BoxFuture<'a, StoreResult<bool>>;
}

/// The most ends in one group: enough to share a commit among a dispatcher's slots, few enough
/// that a group's transaction stays short.
const MAX_GROUP: usize = 64;

/// Batches committing at once. With one, a lone end waited for the batch ahead of it: a
/// dispatcher of 8 slots ran 5–10 % slower than with a transaction per end (BENCHMARKS.md, P6).
const IN_FLIGHT: usize = 4;

struct Request {
    work: Arc<dyn TxWork>,
    reply: oneshot::Sender<StoreResult<bool>>,
}

/// Commits [`TxWork`]s in groups. Its committing task starts with the first work that has to
/// wait and stops when the `GroupCommit` is dropped, after the works already handed to it.
pub struct GroupCommit {
    db: Db,
    requests: OnceLock<mpsc::UnboundedSender<Request>>,
    counts: Arc<Counts>,
    /// How many batches may commit at once (0: no grouping).
    limit: usize,
    /// Permits of the batches committing now, inline ones included.
    in_flight: Arc<Semaphore>,
    /// Works handed to the committing task and not yet taken into a batch.
    queued: Arc<AtomicUsize>,
}

/// What a [`GroupCommit`] has committed so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Committed {
    /// Works that committed (`Ok(true)` and `Ok(false)` alike).
    pub works: u64,
    /// Transactions they ran in (one that only lost its lease rolls back).
    pub transactions: u64,
}

#[derive(Default)]
struct Counts {
    works: AtomicU64,
    transactions: AtomicU64,
}

impl Counts {
    fn add(&self, works: usize) {
        self.works.fetch_add(works as u64, Ordering::Relaxed);
        self.transactions.fetch_add(1, Ordering::Relaxed);
    }
}

impl GroupCommit {
    pub fn new(db: Db) -> GroupCommit {
        GroupCommit::with_batches_in_flight(db, IN_FLIGHT)
    }

    /// At most `in_flight` batches committing at once; with none, each work commits alone on
    /// its caller's task (no grouping: for comparison).
    pub fn with_batches_in_flight(db: Db, in_flight: usize) -> GroupCommit {
        GroupCommit {
            db,
            requests: OnceLock::new(),
            counts: Arc::default(),
            limit: in_flight,
            in_flight: Arc::new(Semaphore::new(in_flight)),
            queued: Arc::default(),
        }
    }

    /// The database its works commit to.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Works waiting for the committing task to take them into a batch.
    pub fn waiting(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    pub fn committed(&self) -> Committed {
        Committed {
            works: self.counts.works.load(Ordering::Relaxed),
            transactions: self.counts.transactions.load(Ordering::Relaxed),
        }
    }

    /// Runs `work` in a transaction of its tenant, shared with the works that wait beside it;
    /// returns once that transaction committed (or rolled back, with the work's own result).
    pub async fn commit(&self, work: Arc<dyn TxWork>) -> StoreResult<bool> {
        // Grouping off, or nobody waiting and a batch may start: this end is a batch of one,
        // committed here (no hand-off to the committing task and back).
        let alone = if self.limit == 0 {
            Some(None)
        } else if self.queued.load(Ordering::SeqCst) == 0 {
            self.in_flight.try_acquire().ok().map(Some)
        } else {
            None
        };
        if let Some(_permit) = alone {
            let applied = apply_alone(&self.db, work.as_ref()).await?;
            self.counts.add(1);
            return Ok(applied);
        }
        let requests = self.requests.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(commit_groups(
                self.db.clone(),
                receiver,
                self.counts.clone(),
                self.in_flight.clone(),
                self.queued.clone(),
            ));
            sender
        });
        let (reply, answer) = oneshot::channel();
        self.queued.fetch_add(1, Ordering::SeqCst);
        if requests.send(Request { work, reply }).is_err() {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(StoreError::Invalid(
                "the group committer has stopped".into(),
            ));
        }
        answer
            .await
            .map_err(|_| StoreError::Invalid("the group committer stopped mid-commit".into()))?
    }
}

/// The committing task: takes the first waiting work, waits until a batch may start (the ends
/// that arrive meanwhile queue behind it), then takes every work waiting as the batch and commits
/// it, one transaction per tenant (side by side).
async fn commit_groups(
    db: Db,
    mut requests: mpsc::UnboundedReceiver<Request>,
    counts: Arc<Counts>,
    in_flight: Arc<Semaphore>,
    queued: Arc<AtomicUsize>,
) {
    while let Some(first) = requests.recv().await {
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let mut waiting = vec![first];
        while waiting.len() < MAX_GROUP {
            match requests.try_recv() {
                Ok(request) => waiting.push(request),
                Err(_) => break,
            }
        }
        queued.fetch_sub(waiting.len(), Ordering::SeqCst);
        let mut groups: Vec<(TenantId, Vec<Request>)> = Vec::new();
        let mut index: HashMap<TenantId, usize> = HashMap::new();
        for request in waiting {
            let tenant = request.work.scope().tenant().clone();
            let at = *index.entry(tenant.clone()).or_insert_with(|| {
                groups.push((tenant, Vec::new()));
                groups.len() - 1
            });
            groups[at].1.push(request);
        }
        // Each group on its own task: a panic there ends only that group (its works answer
        // with an error), not the committer.
        let tasks: Vec<_> = groups
            .into_iter()
            .map(|(_, group)| {
                let (db, counts) = (db.clone(), counts.clone());
                tokio::spawn(async move { commit_group(&db, group, &counts).await })
            })
            .collect();
        tokio::spawn(async move {
            for ended in futures::future::join_all(tasks).await {
                if let Err(err) = ended {
                    tracing::error!(error = %err, "a group commit stopped");
                }
            }
            drop(permit);
        });
    }
}

/// One tenant's works in one transaction; on any error, each alone.
async fn commit_group(db: &Db, group: Vec<Request>, counts: &Counts) {
    if group.len() > 1 {
        match apply_all(db, &group).await {
            Ok(applied) => {
                counts.add(group.len());
                for (request, applied) in group.into_iter().zip(applied) {
                    let _ = request.reply.send(Ok(applied));
                }
                return;
            }
            Err(err) => {
                tracing::warn!(error = %err, works = group.len(), "a group commit failed; committing its works one by one");
            }
        }
    }
    for request in group {
        let result = apply_alone(db, request.work.as_ref()).await;
        if result.is_ok() {
            counts.add(1);
        }
        let _ = request.reply.send(result);
    }
}

async fn apply_all(db: &Db, group: &[Request]) -> StoreResult<Vec<bool>> {
    let mut tx = db.write(group[0].work.scope()).await?;
    let mut applied = Vec::with_capacity(group.len());
    for request in group {
        applied.push(request.work.apply(&mut tx).await?);
    }
    tx.commit().await?;
    Ok(applied)
}

/// `work` in a transaction of its own; rolled back when it returns `false`.
async fn apply_alone(db: &Db, work: &dyn TxWork) -> StoreResult<bool> {
    let mut tx = db.write(work.scope()).await?;
    if !work.apply(&mut tx).await? {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}
