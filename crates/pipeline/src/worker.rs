//! Workers: claim a due job, run its stage under the job's tenant, record the outcome. A failure
//! goes back to the queue with backoff, or — after the last attempt, or at once when no retry
//! can help — marks the call `failed` with the stage, the reason and the attempts. A worker
//! that dies mid-job loses nothing: its lease expires and another worker takes the job over.
//! Shutdown is graceful: a worker finishes the job in hand, then stops.

use std::sync::Arc;
use std::time::Duration;

use switchboard_store::group_commit::GroupCommit;
use switchboard_store::queue::{self, ClaimedJob, Due, Kinds};
use switchboard_store::repo::calls;
use switchboard_store::repo::sms::SMS_JOB;
use switchboard_store::{Db, Storage, StoreResult, TenantTx};
use tokio::sync::{Notify, Semaphore, watch};
use tracing::Instrument;

use crate::engines::Engines;
use crate::stage::Stage;
use crate::stages::{self, StageError};

#[derive(Clone, Debug)]
pub struct PipelineSettings {
    /// How long a claimed job is a worker's before others may take it over.
    pub lease: Duration,
    /// How long an idle worker waits before looking again.
    pub poll: Duration,
    /// Longer recordings fail with `audio_too_long` (setting `MAX_AUDIO_SECONDS`).
    pub max_audio_seconds: f64,
    /// Jobs that may run beside a dispatcher's speech-to-text workers, of the other kinds only
    /// (enrich, analyse, publish, caller memory, SMS: they wait mostly on storage and the
    /// database); `None`: as many as it has workers.
    pub light_slots: Option<usize>,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            lease: Duration::from_secs(900),
            poll: Duration::from_secs(1),
            max_audio_seconds: switchboard_engines::audio::DecodeLimits::default().max_seconds,
            light_slots: None,
        }
    }
}

pub struct Pipeline {
    pub db: Db,
    pub storage: Storage,
    pub engines: Arc<Engines>,
    pub settings: PipelineSettings,
    /// Sends SMS follow-ups; `None` on a worker that cannot (its `sms` jobs fail with that reason).
    pub messaging: Option<crate::sms::Messaging>,
    /// Commits the ends of stages that finish together in one transaction per tenant
    /// (`GroupCommit::new(db)` of the same database).
    pub ends: GroupCommit,
}

/// What one look at the queue did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Worked {
    Idle,
    Done {
        /// `None` for a job beside the stages (`remember`).
        stage: Option<Stage>,
        call_id: String,
    },
    Failed {
        /// The job kind (a stage's, or an unknown one found in the queue).
        kind: String,
        call_id: String,
        dead: bool,
    },
}

impl Pipeline {
    /// Claims and runs at most one job.
    pub async fn work_once(&self, worker: &str) -> StoreResult<Worked> {
        let Some(job) = queue::claim(&self.db, worker, self.settings.lease).await? else {
            return Ok(Worked::Idle);
        };
        self.run_job(job).await
    }

    /// Runs a claimed job and records its outcome.
    pub async fn run_job(&self, job: ClaimedJob) -> StoreResult<Worked> {
        if job.kind == crate::live::REMEMBER_JOB || job.kind == SMS_JOB {
            return self.run_beside(job).await;
        }
        let Some(stage) = Stage::from_kind(&job.kind) else {
            let reason = format!("unknown job kind \"{}\"", job.kind);
            let dead = self
                .record_failure(&job, &job.kind, StageError::permanent(reason), true)
                .await?;
            return Ok(Worked::Failed {
                kind: job.kind,
                call_id: job.call_id,
                dead,
            });
        };
        let span = tracing::info_span!("job", tenant.id = %job.scope.tenant(), call.id = %job.call_id, stage = stage.kind(), attempt = job.attempts);
        tracing::info!(parent: &span, "stage started");
        let outcome = stages::run(self, &job, stage).instrument(span).await;
        match outcome {
            Ok(()) => {
                tracing::info!(tenant.id = %job.scope.tenant(), call.id = %job.call_id, stage = stage.kind(), "stage done");
                Ok(Worked::Done {
                    stage: Some(stage),
                    call_id: job.call_id,
                })
            }
            Err(error) => {
                let dead = self.record_failure(&job, stage.kind(), error, true).await?;
                Ok(Worked::Failed {
                    kind: stage.kind().to_owned(),
                    call_id: job.call_id,
                    dead,
                })
            }
        }
    }

    /// Runs a job that works beside a call's record rather than as a stage of it (caller memory,
    /// the SMS follow-up): a failure stays on the job — retried, then dead with its reason — and
    /// the call keeps its state.
    async fn run_beside(&self, job: ClaimedJob) -> StoreResult<Worked> {
        let span = tracing::info_span!("job", tenant.id = %job.scope.tenant(), call.id = %job.call_id, stage = %job.kind, attempt = job.attempts);
        let sms = job.kind == SMS_JOB;
        let outcome = if sms {
            crate::sms::send(self, &job).instrument(span).await
        } else {
            crate::live::remember(self, &job).instrument(span).await
        };
        match outcome {
            Ok(()) => {
                tracing::info!(tenant.id = %job.scope.tenant(), call.id = %job.call_id, stage = %job.kind, "stage done");
                Ok(Worked::Done {
                    stage: None,
                    call_id: job.call_id,
                })
            }
            Err(error) => {
                let dead = if sms {
                    crate::sms::fail(self, &job, &error).await?
                } else {
                    self.record_failure(&job, &job.kind, error, false).await?
                };
                Ok(Worked::Failed {
                    kind: job.kind,
                    call_id: job.call_id,
                    dead,
                })
            }
        }
    }

    async fn record_failure(
        &self,
        job: &ClaimedJob,
        stage: &str,
        error: StageError,
        fails_call: bool,
    ) -> StoreResult<bool> {
        let mut tx = self.db.write(&job.scope).await?;
        let dead = record_failure_in(&mut tx, job, stage, &error).await?;
        if dead && fails_call {
            calls::set_failed(&mut tx, &job.call_id, stage, &error.reason, job.attempts).await?;
        }
        tx.commit().await?;
        Ok(dead)
    }

    /// Runs due jobs until none is left; returns how many ran. For the CLI and tests.
    pub async fn run_until_idle(&self, worker: &str) -> StoreResult<usize> {
        let mut ran = 0;
        while self.work_once(worker).await? != Worked::Idle {
            ran += 1;
        }
        Ok(ran)
    }

    /// `concurrency` workers until `shutdown` turns true, and beside them
    /// [`PipelineSettings::light_slots`] slots for the jobs other than speech-to-text (by default
    /// as many): those wait mostly on storage and the database, and with only `concurrency`
    /// slots the cores idled through their waits (BENCHMARKS.md, P2). Speech-to-text, which
    /// holds a model state of its own, never runs more than `concurrency` at once. Each worker
    /// finishes its job in hand first.
    ///
    /// One dispatcher claims as many due jobs as there are idle slots, in one transaction per
    /// kind of slot ([`Pipeline::claim_for_slots`]), so a deep queue of short jobs costs one
    /// claim per batch rather than one per job, and no claimed job waits for a worker. Jobs are
    /// leased to `name`. Jobs whose worker died (expired leases) are looked for once per poll
    /// interval.
    pub async fn run_workers(
        self: Arc<Self>,
        name: String,
        concurrency: usize,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let concurrency = concurrency.max(1);
        let slots = concurrency + self.settings.light_slots.unwrap_or(concurrency);
        let free = Arc::new(Semaphore::new(slots));
        // Of the free slots, those that may take speech-to-text.
        let free_for_speech = Arc::new(Semaphore::new(concurrency));
        // A finished stage usually queued the next one: an idle dispatcher looks again at once.
        let finished = Arc::new(Notify::new());
        // Jobs of dead workers (expired leases) are looked for once per poll interval.
        let mut expired_looked_at: Option<tokio::time::Instant> = None;
        loop {
            if *shutdown.borrow() {
                break;
            }
            let first = tokio::select! {
                permit = free.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
                // A closed channel means nobody can ask for shutdown any more: stop now.
                changed = shutdown.changed() => if changed.is_ok() { continue } else { break },
            };
            let mut permits = vec![first];
            while let Ok(permit) = free.clone().try_acquire_owned() {
                permits.push(permit);
            }
            let mut speech = Vec::new();
            while speech.len() < permits.len() {
                match free_for_speech.clone().try_acquire_owned() {
                    Ok(permit) => speech.push(permit),
                    Err(_) => break,
                }
            }
            let due = if expired_looked_at.is_none_or(|at| at.elapsed() >= self.settings.poll) {
                expired_looked_at = Some(tokio::time::Instant::now());
                Due::ReadyOrExpired
            } else {
                Due::Ready
            };
            let light = permits.len() - speech.len();
            let claimed = self.claim_for_slots(&name, speech.len(), light, due).await;
            let idle = match claimed {
                Ok(jobs) => {
                    let idle = jobs.is_empty();
                    for (job, permit) in jobs.into_iter().zip(permits.drain(..)) {
                        // `claim_for_slots` returns at most `speech.len()` of these.
                        let speech_permit = if job.kind == Stage::Transcribe.kind() {
                            speech.pop()
                        } else {
                            None
                        };
                        let (pipeline, finished) = (self.clone(), finished.clone());
                        tokio::spawn(async move {
                            if let Err(err) = pipeline.run_job(job).await {
                                tracing::error!(error = %err, "the queue is unavailable");
                            }
                            drop((permit, speech_permit));
                            finished.notify_one();
                        });
                    }
                    idle
                }
                Err(err) => {
                    tracing::error!(worker = %name, error = %err, "the queue is unavailable");
                    true
                }
            };
            drop((permits, speech));
            if idle {
                tokio::select! {
                    _ = tokio::time::sleep(self.settings.poll) => {}
                    _ = finished.notified() => {}
                    changed = shutdown.changed() => if changed.is_err() { break },
                }
            }
        }
        // Graceful: every worker finishes the job in hand.
        let _ = free.acquire_many(slots as u32).await;
        tracing::info!(worker = %name, "workers stopped");
    }

    /// One dispatch: up to `light` due jobs other than speech-to-text first, then up to `any`
    /// due jobs of any kind — so a slot that may take speech-to-text is not spent on a job a
    /// light slot could take. At most `any` of the jobs are speech-to-text.
    pub async fn claim_for_slots(
        &self,
        worker: &str,
        any: usize,
        light: usize,
        due: Due,
    ) -> StoreResult<Vec<ClaimedJob>> {
        let (db, lease) = (&self.db, self.settings.lease);
        let mut jobs =
            queue::claim_batch_of(db, worker, lease, light, due, Kinds::ExceptTranscribe).await?;
        match queue::claim_batch_of(db, worker, lease, any, due, Kinds::Any).await {
            Ok(more) => jobs.extend(more),
            // The light jobs are leased already: run them rather than leave them to wait out
            // their lease.
            Err(err) if !jobs.is_empty() => {
                tracing::error!(worker, error = %err, "the queue is unavailable");
            }
            Err(err) => return Err(err),
        }
        Ok(jobs)
    }
}

/// Records a failed attempt of `job` in `tx`: back to the queue with the job's backoff, or dead
/// (refused for good, or out of attempts). Returns whether it is dead.
pub(crate) async fn record_failure_in(
    tx: &mut TenantTx,
    job: &ClaimedJob,
    stage: &str,
    error: &StageError,
) -> StoreResult<bool> {
    let dead = queue::fail_in(
        tx,
        job,
        &error.reason,
        queue::backoff(job.attempts),
        error.permanent,
    )
    .await?;
    tracing::warn!(tenant.id = %job.scope.tenant(), call.id = %job.call_id, stage, attempt = job.attempts, dead, reason = %error.reason, "stage failed");
    Ok(dead)
}
