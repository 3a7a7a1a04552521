//! The durable job queue (ADR 0005): a `jobs` table on both backends, enqueued inside the same
//! tenant transaction as the data it belongs to, claimed with a lease (visibility timeout),
//! retried with exponential backoff, and parked as `dead` with its reason after the last attempt.
//! A claimed job carries a [`TenantScope`] built from its row, so its work runs under its tenant.

use std::time::Duration;

use sqlx::Row;
use switchboard_core::{Role, TenantId};

use crate::clock::now_ms;
use crate::db::{Backend, values_sql};
use crate::ingest::FIRST_JOB;
use crate::repo::new_id;
use crate::scope::{Actor, TenantAdmin, TenantScope};
use crate::{Db, StorageMode, StoreError, StoreResult, TenantTx};

pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

/// Enqueues `kind` for `call_id` in the caller's transaction; `false` when that job already
/// exists (in any state), so a stage is never queued twice for a call.
pub async fn enqueue(tx: &mut TenantTx, kind: &str, call_id: &str) -> StoreResult<bool> {
    let tenant = tx.tenant().clone();
    let now = now_ms();
    let done = sqlx::query(
        "INSERT INTO jobs (tenant_id, id, kind, call_id, state, attempts, max_attempts, run_at, lease_until, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'ready', 0, $5, $6, 0, $6, $6) ON CONFLICT (tenant_id, kind, call_id) DO NOTHING",
    )
    .bind(tenant.as_str())
    .bind(new_id())
    .bind(kind)
    .bind(call_id)
    .bind(DEFAULT_MAX_ATTEMPTS)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A leased job. Its scope is the job's tenant, acting as the worker service.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    pub scope: TenantScope,
    pub id: String,
    pub kind: String,
    pub call_id: String,
    /// Including this one.
    pub attempts: i64,
    pub max_attempts: i64,
    worker: String,
}

/// Which due jobs a claim looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// Ready jobs whose time has come.
    Ready,
    /// Ready jobs, then running jobs whose lease expired (their worker died).
    ReadyOrExpired,
}

/// Which kinds of job a claim takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kinds {
    Any,
    /// Every kind but speech-to-text (`transcribe`): a dispatcher's slots beyond its
    /// speech-to-text workers take only the stages that wait mostly on storage and the database.
    ExceptTranscribe,
}

/// A claimed job's tenant's storage mode (its scope needs it), read in the claiming statement
/// itself: looking each tenant up afterwards cost the claim a round trip per tenant, and on
/// PostgreSQL the one dispatcher's claims bound how fast jobs are handed out (BENCHMARKS.md, P6).
const STORAGE_MODE: &str =
    "(SELECT storage_mode FROM tenants WHERE tenants.id = jobs.tenant_id) AS storage_mode";

/// Leases the most overdue job of any tenant: a ready job whose time has come, or a running job
/// whose lease expired (its worker died). `None` when nothing is due.
pub async fn claim(db: &Db, worker: &str, lease: Duration) -> StoreResult<Option<ClaimedJob>> {
    Ok(claim_batch(db, worker, lease, 1, Due::ReadyOrExpired)
        .await?
        .pop())
}

/// Leases up to `limit` due jobs of any tenant in one transaction, most overdue first: ready
/// jobs whose time has come, then, with [`Due::ReadyOrExpired`], running jobs whose lease
/// expired. Each is leased to `worker` as [`claim`] would lease it; a dispatcher hands them to
/// its workers.
///
/// Looking for expired leases is not free: every job that ran leaves an entry in the index of
/// running jobs until PostgreSQL vacuums it, and that probe reads them all (BENCHMARKS.md, P6).
/// Dead workers are rare, so a dispatcher asks for [`Due::ReadyOrExpired`] once per poll
/// interval, not on every claim.
pub async fn claim_batch(
    db: &Db,
    worker: &str,
    lease: Duration,
    limit: usize,
    due: Due,
) -> StoreResult<Vec<ClaimedJob>> {
    claim_batch_of(db, worker, lease, limit, due, Kinds::Any).await
}

/// [`claim_batch`] of the given kinds only. `Kinds::ExceptTranscribe` reads its own partial index
/// of ready jobs, so a deep backlog of speech-to-text jobs is not scanned past on every claim.
pub async fn claim_batch_of(
    db: &Db,
    worker: &str,
    lease: Duration,
    limit: usize,
    due: Due,
    kinds: Kinds,
) -> StoreResult<Vec<ClaimedJob>> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let now = now_ms();
    let mut tx = db.begin_claim().await?;
    // Ready jobs first, then jobs whose worker died (expired lease); each probe uses its own
    // partial index.
    // The kind is written as a literal: a partial index is used only for a condition that
    // matches its own, which a bound parameter does not.
    // (`FIRST_JOB` is a constant of ours; migration 0013's index names the same kind.)
    let kind = match kinds {
        Kinds::Any => String::new(),
        Kinds::ExceptTranscribe => format!(" AND kind <> '{FIRST_JOB}'"),
    };
    let ready = format!("state = 'ready'{kind} AND run_at <= $3 ORDER BY run_at");
    let expired = format!("state = 'running'{kind} AND lease_until < $3 ORDER BY lease_until");
    let probes = match due {
        Due::Ready => vec![ready],
        Due::ReadyOrExpired => vec![ready, expired],
    };
    let mut rows = Vec::new();
    for due in &probes {
        let wanted = limit - rows.len();
        if wanted == 0 {
            break;
        }
        // The limit is written into the statement (a number, one cached statement per batch
        // size): PostgreSQL's cached plan for `LIMIT $n` assumed a large share of the table.
        //
        // PostgreSQL picks the rows in a materialised CTE, evaluated once: as the inner side
        // of a semi-join (`WHERE key IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`) the planner
        // may rescan the pick for every outer row, and each rescan skips the rows it already
        // locked — one claim then leased every due job (seen in the P2 bench). SQLite (one
        // writer at a time) looks the rows up by rowid: its planner scans the whole table for
        // a row-value `IN`, and evaluates an uncorrelated `IN` list once.
        let sql = match db.backend() {
            Backend::Postgres => format!(
                "WITH picked AS MATERIALIZED (SELECT tenant_id, id FROM jobs WHERE {due} LIMIT {wanted} FOR UPDATE SKIP LOCKED) \
                 UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
                 FROM picked WHERE jobs.tenant_id = picked.tenant_id AND jobs.id = picked.id \
                 RETURNING jobs.tenant_id, jobs.id, jobs.kind, jobs.call_id, jobs.attempts, jobs.max_attempts, {STORAGE_MODE}"
            ),
            Backend::Sqlite => format!(
                "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
                 WHERE rowid IN (SELECT rowid FROM jobs WHERE {due} LIMIT {wanted}) \
                 RETURNING tenant_id, id, kind, call_id, attempts, max_attempts, {STORAGE_MODE}"
            ),
        };
        let claimed = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(now + lease.as_millis() as i64)
            .bind(now)
            .fetch_all(tx.conn())
            .await?;
        if claimed.len() > wanted {
            // Never hand out more than asked: the caller has no worker for the rest. Rolling
            // back leaves them due.
            return Err(StoreError::Invalid(format!(
                "a claim of {wanted} jobs leased {}",
                claimed.len()
            )));
        }
        rows.extend(claimed);
    }
    let mut jobs = Vec::with_capacity(rows.len());
    for row in rows {
        let tenant: String = row.try_get("tenant_id")?;
        let tenant = TenantId::parse(&tenant).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let storage_mode: Option<String> = row.try_get("storage_mode")?;
        let storage_mode =
            StorageMode::parse(&storage_mode.ok_or(StoreError::NotFound("tenant"))?)?;
        jobs.push(ClaimedJob {
            scope: TenantScope::new(
                tenant,
                Role::Member,
                Actor::Service {
                    name: format!("worker:{worker}"),
                },
                storage_mode,
            ),
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            call_id: row.try_get("call_id")?,
            attempts: row.try_get("attempts")?,
            max_attempts: row.try_get("max_attempts")?,
            worker: worker.to_owned(),
        });
    }
    tx.commit().await?;
    Ok(jobs)
}

/// Marks the job done, if this worker still holds it; `false` when the lease was lost (another
/// worker took the job over, and its result wins).
pub async fn complete(db: &Db, job: &ClaimedJob) -> StoreResult<bool> {
    let mut tx = db.write(&job.scope).await?;
    let done = complete_in(&mut tx, job).await?;
    tx.commit().await?;
    Ok(done)
}

/// [`complete`] inside the caller's transaction, so a stage's result, the call's new state, the
/// next stage's job and this job's end commit together. On `false` the caller rolls back.
pub async fn complete_in(tx: &mut TenantTx, job: &ClaimedJob) -> StoreResult<bool> {
    check_tenant(tx, job)?;
    // Only a running job has a lease owner. The row is found by its key alone: with
    // `state = 'running'` in the condition PostgreSQL's cached plan walked the index of running
    // jobs instead, whose dead entries grow with every finished job until vacuum.
    let done = sqlx::query(
        "UPDATE jobs SET state = 'done', lease_owner = NULL, updated_at = $1 \
         WHERE tenant_id = $2 AND id = $3 AND lease_owner = $4",
    )
    .bind(now_ms())
    .bind(job.scope.tenant().as_str())
    .bind(&job.id)
    .bind(&job.worker)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A job's end with nothing else to write, for a [`GroupCommit`](crate::group_commit::GroupCommit):
/// [`complete_in`] a transaction shared with other jobs' ends.
pub struct Completion(pub ClaimedJob);

impl crate::group_commit::TxWork for Completion {
    fn scope(&self) -> &TenantScope {
        &self.0.scope
    }

    fn apply<'a>(
        &'a self,
        tx: &'a mut TenantTx,
    ) -> futures::future::BoxFuture<'a, StoreResult<bool>> {
        Box::pin(complete_in(tx, &self.0))
    }
}

fn check_tenant(tx: &TenantTx, job: &ClaimedJob) -> StoreResult<()> {
    if tx.tenant() != job.scope.tenant() {
        return Err(StoreError::Invalid(
            "a job can only be finished in its own tenant's transaction".into(),
        ));
    }
    Ok(())
}

/// The wait before attempt `attempts + 1`: 2 s, 4 s, 8 s … capped at 10 minutes.
pub fn backoff(attempts: i64) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempts.clamp(1, 20) as u32).min(600))
}

/// Records a failure: back to `ready` after `retry_in` (workers pass [`backoff`]), or `dead`
/// after the last attempt. Returns whether the job is now dead.
pub async fn fail(
    db: &Db,
    job: &ClaimedJob,
    reason: &str,
    retry_in: Duration,
) -> StoreResult<bool> {
    let mut tx = db.write(&job.scope).await?;
    let dead = fail_in(&mut tx, job, reason, retry_in, false).await?;
    tx.commit().await?;
    Ok(dead)
}

/// [`fail`] inside the caller's transaction; `give_up` parks the job as dead at once (a failure
/// that no retry can fix, such as corrupt audio). Returns whether the job is now dead.
pub async fn fail_in(
    tx: &mut TenantTx,
    job: &ClaimedJob,
    reason: &str,
    retry_in: Duration,
    give_up: bool,
) -> StoreResult<bool> {
    check_tenant(tx, job)?;
    let dead = give_up || job.attempts >= job.max_attempts;
    let now = now_ms();
    sqlx::query(
        "UPDATE jobs SET state = $1, run_at = $2, lease_owner = NULL, lease_until = 0, last_error = $3, updated_at = $4 \
         WHERE tenant_id = $5 AND id = $6 AND lease_owner = $7",
    )
    .bind(if dead { "dead" } else { "ready" })
    .bind(now + retry_in.as_millis() as i64)
    .bind(reason)
    .bind(now)
    .bind(job.scope.tenant().as_str())
    .bind(&job.id)
    .bind(&job.worker)
    .execute(tx.conn())
    .await?;
    Ok(dead)
}

/// Queues `kind` for `call_id` again with fresh attempts, whether it is new, done or dead (a
/// re-analysis, or an admin's retry of a failed call). A job that is queued or running now is
/// left alone. Returns whether the job is (now) waiting to run.
pub async fn requeue(tx: &mut TenantTx, kind: &str, call_id: &str) -> StoreResult<bool> {
    Ok(requeue_rows(tx, kind, &[call_id]).await? == 1)
}

/// Calls per statement in [`requeue_many`] (11 values each, well within both backends' limits).
const REQUEUE_CHUNK: usize = 500;

/// [`requeue`] for many calls in one statement per 500. For bulk producers (re-analysis of a
/// tenant's calls), where one statement per call was two round trips each.
pub async fn requeue_many(tx: &mut TenantTx, kind: &str, call_ids: &[String]) -> StoreResult<()> {
    // A call named twice would be two rows of one upsert, which PostgreSQL refuses ("cannot
    // affect row a second time").
    let mut seen = std::collections::HashSet::new();
    let call_ids: Vec<&String> = call_ids.iter().filter(|id| seen.insert(*id)).collect();
    for chunk in call_ids.chunks(REQUEUE_CHUNK) {
        let chunk: Vec<&str> = chunk.iter().map(|id| id.as_str()).collect();
        requeue_rows(tx, kind, &chunk).await?;
    }
    Ok(())
}

/// One upsert: a new job for each call that has none, fresh attempts for each whose job is done
/// or dead, nothing for a job queued or running. Returns how many jobs now wait to run.
async fn requeue_rows(tx: &mut TenantTx, kind: &str, call_ids: &[&str]) -> StoreResult<u64> {
    let tenant = tx.tenant().clone();
    let now = now_ms();
    let sql = values_sql(
        tx.backend(),
        "INSERT INTO jobs (tenant_id, id, kind, call_id, state, attempts, max_attempts, run_at, lease_until, created_at, updated_at) ",
        call_ids.len(),
        11,
    ) + " ON CONFLICT (tenant_id, kind, call_id) DO UPDATE SET state = 'ready', attempts = 0, \
          run_at = excluded.run_at, last_error = NULL, lease_owner = NULL, lease_until = 0, \
          updated_at = excluded.updated_at WHERE jobs.state IN ('done', 'dead')";
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for call_id in call_ids {
        query = query
            .bind(tenant.as_str())
            .bind(new_id())
            .bind(kind)
            .bind(*call_id)
            .bind("ready")
            .bind(0i64)
            .bind(DEFAULT_MAX_ATTEMPTS)
            .bind(now)
            .bind(0i64)
            .bind(now)
            .bind(now);
    }
    Ok(query.execute(tx.conn()).await?.rows_affected())
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct JobInfo {
    pub id: String,
    pub kind: String,
    pub call_id: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub run_at: i64,
}

/// The tenant's jobs for one call.
pub async fn for_call(tx: &mut TenantTx, call_id: &str) -> StoreResult<Vec<JobInfo>> {
    let tenant = tx.tenant().clone();
    let rows = sqlx::query(
        "SELECT id, kind, call_id, state, attempts, last_error, run_at FROM jobs \
         WHERE tenant_id = $1 AND call_id = $2 ORDER BY created_at, kind",
    )
    .bind(tenant.as_str())
    .bind(call_id)
    .fetch_all(tx.conn())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(JobInfo {
                id: row.try_get("id")?,
                kind: row.try_get("kind")?,
                call_id: row.try_get("call_id")?,
                state: row.try_get("state")?,
                attempts: row.try_get("attempts")?,
                last_error: row.try_get("last_error")?,
                run_at: row.try_get("run_at")?,
            })
        })
        .collect()
}

/// Puts a dead job back in the queue with fresh attempts (an admin's retry).
pub async fn retry_dead(
    tx: &mut TenantTx,
    admin: TenantAdmin<'_>,
    job_id: &str,
) -> StoreResult<()> {
    admin.check(tx.tenant())?;
    let tenant = tx.tenant().clone();
    let done = sqlx::query(
        "UPDATE jobs SET state = 'ready', attempts = 0, run_at = $1, updated_at = $1 \
         WHERE tenant_id = $2 AND id = $3 AND state = 'dead'",
    )
    .bind(now_ms())
    .bind(tenant.as_str())
    .bind(job_id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("dead job"));
    }
    Ok(())
}
