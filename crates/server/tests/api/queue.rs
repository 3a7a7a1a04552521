//! The job queue: transactional enqueue, unique job keys, leases, backoff, dead jobs, tenant scope.

use std::time::Duration;

use switchboard_store::queue::{self, Due, Kinds, backoff};

use crate::harness::TestApp;

async fn enqueue(app: &TestApp, token: &str, kind: &str, call: &str) -> bool {
    let scope = app.scope(token).await;
    let mut tx = app.db.write(&scope).await.unwrap();
    let created = queue::enqueue(&mut tx, kind, call).await.unwrap();
    tx.commit().await.unwrap();
    created
}

#[tokio::test]
async fn a_job_is_unique_per_call_and_stage_and_runs_under_its_tenant() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    assert!(enqueue(&app, &a.admin_token, "transcribe", "call-1").await);
    assert!(
        !enqueue(&app, &a.admin_token, "transcribe", "call-1").await,
        "never a second job"
    );
    assert!(
        enqueue(&app, &b.admin_token, "transcribe", "call-1").await,
        "keys are per tenant"
    );

    let lease = Duration::from_secs(60);
    let first = queue::claim(&app.db, "w1", lease).await.unwrap().unwrap();
    let second = queue::claim(&app.db, "w2", lease).await.unwrap().unwrap();
    assert!(
        queue::claim(&app.db, "w3", lease).await.unwrap().is_none(),
        "both are leased"
    );
    let mut tenants = vec![
        first.scope.tenant().to_string(),
        second.scope.tenant().to_string(),
    ];
    tenants.sort();
    assert_eq!(tenants, ["tenant-a", "tenant-b"]);
    assert_eq!(first.kind, "transcribe");
    assert_eq!(first.attempts, 1);

    // The job's scope reaches its own tenant's data only.
    let mut tx = app.db.read(&first.scope).await.unwrap();
    let jobs = queue::for_call(&mut tx, "call-1").await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].state, "running");
    drop(tx);

    assert!(queue::complete(&app.db, &first).await.unwrap());
    assert!(queue::complete(&app.db, &second).await.unwrap());
    assert!(
        queue::claim(&app.db, "w1", lease).await.unwrap().is_none(),
        "done jobs stay done"
    );
    assert!(
        !enqueue(&app, &a.admin_token, "transcribe", "call-1").await,
        "not even after completion"
    );
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_worker_cannot_complete() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    enqueue(&app, &a.admin_token, "enrich", "call-2").await;
    let dying = queue::claim(&app.db, "dying", Duration::from_millis(1))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let rescuer = queue::claim(&app.db, "rescuer", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rescuer.id, dying.id);
    assert_eq!(rescuer.attempts, 2);
    assert!(
        !queue::complete(&app.db, &dying).await.unwrap(),
        "the lost lease cannot complete"
    );
    assert!(queue::complete(&app.db, &rescuer).await.unwrap());
}

#[tokio::test]
async fn a_batch_claim_leases_due_jobs_of_every_tenant_once_each_under_its_own_tenant() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    for call in ["call-1", "call-2", "call-3"] {
        enqueue(&app, &a.admin_token, "enrich", call).await;
    }
    enqueue(&app, &b.admin_token, "enrich", "call-1").await;
    enqueue(&app, &b.admin_token, "publish", "call-9").await;
    let lease = Duration::from_secs(60);
    assert!(
        queue::claim_batch(&app.db, "d", lease, 0, Due::ReadyOrExpired)
            .await
            .unwrap()
            .is_empty()
    );

    let first = queue::claim_batch(&app.db, "d", lease, 3, Due::Ready)
        .await
        .unwrap();
    assert_eq!(first.len(), 3);
    let rest = queue::claim_batch(&app.db, "d", lease, 10, Due::ReadyOrExpired)
        .await
        .unwrap();
    assert_eq!(rest.len(), 2, "the rest, and never a job twice");
    let mut claimed: Vec<(String, String, String)> = first
        .iter()
        .chain(&rest)
        .map(|j| {
            (
                j.scope.tenant().to_string(),
                j.kind.clone(),
                j.call_id.clone(),
            )
        })
        .collect();
    claimed.sort();
    assert_eq!(
        claimed,
        [
            ("tenant-a".into(), "enrich".into(), "call-1".into()),
            ("tenant-a".into(), "enrich".into(), "call-2".into()),
            ("tenant-a".into(), "enrich".into(), "call-3".into()),
            ("tenant-b".into(), "enrich".into(), "call-1".into()),
            ("tenant-b".into(), "publish".into(), "call-9".into()),
        ]
    );
    assert!(
        queue::claim_batch(&app.db, "d", lease, 10, Due::ReadyOrExpired)
            .await
            .unwrap()
            .is_empty()
    );
    // Each job's scope reaches its own tenant's row: completing it there works once.
    for job in first.iter().chain(&rest) {
        let mut tx = app.db.read(&job.scope).await.unwrap();
        let jobs = queue::for_call(&mut tx, &job.call_id).await.unwrap();
        drop(tx);
        assert!(jobs.iter().any(|j| j.id == job.id && j.state == "running"));
        assert!(queue::complete(&app.db, job).await.unwrap());
        assert!(!queue::complete(&app.db, job).await.unwrap());
    }

    // Expired leases are taken over in a batch too, after the ready jobs, when the claim asks
    // for them.
    enqueue(&app, &a.admin_token, "analyse", "call-4").await;
    let dying = queue::claim(&app.db, "dying", Duration::from_millis(1))
        .await
        .unwrap()
        .unwrap();
    enqueue(&app, &b.admin_token, "analyse", "call-5").await;
    enqueue(&app, &b.admin_token, "analyse", "call-6").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let call_ids = |jobs: &[queue::ClaimedJob]| -> Vec<String> {
        jobs.iter().map(|j| j.call_id.clone()).collect()
    };
    let ready = queue::claim_batch(&app.db, "d", lease, 1, Due::ReadyOrExpired)
        .await
        .unwrap();
    assert_eq!(
        call_ids(&ready),
        ["call-5"],
        "ready jobs before expired leases"
    );
    let ready = queue::claim_batch(&app.db, "d", lease, 5, Due::Ready)
        .await
        .unwrap();
    assert_eq!(call_ids(&ready), ["call-6"], "only ready jobs");
    let taken = queue::claim_batch(&app.db, "d", lease, 5, Due::ReadyOrExpired)
        .await
        .unwrap();
    assert_eq!(call_ids(&taken), ["call-4"], "then the expired lease");
    assert_eq!(taken[0].attempts, 2);
    assert!(!queue::complete(&app.db, &dying).await.unwrap());
}

#[tokio::test]
async fn failures_back_off_and_the_last_one_parks_the_job_dead_until_an_admin_retries() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    enqueue(&app, &a.admin_token, "analyse", "call-3").await;
    let job = queue::claim(&app.db, "w", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert!(
        !queue::fail(&app.db, &job, "model timed out", backoff(job.attempts))
            .await
            .unwrap()
    );
    assert!(
        queue::claim(&app.db, "w", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none(),
        "backing off"
    );
    assert_eq!(backoff(1), Duration::from_secs(2));
    assert!(backoff(30) <= Duration::from_secs(600));

    let scope = app.scope(&a.admin_token).await;
    let mut tx = app.db.read(&scope).await.unwrap();
    let info = queue::for_call(&mut tx, "call-3").await.unwrap().remove(0);
    drop(tx);
    assert_eq!(
        (info.state.as_str(), info.last_error.as_deref()),
        ("ready", Some("model timed out"))
    );

    // Fail it (without waiting out the backoff) until its attempts are spent: it goes dead.
    let mut dead = false;
    let mut rounds = 0;
    while !dead {
        rounds += 1;
        let job = loop {
            if let Some(job) = queue::claim(&app.db, "w", Duration::from_secs(60))
                .await
                .unwrap()
            {
                break job;
            }
            // Only the first retry waits for its backoff (2 s) here; later ones are immediate.
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        dead = queue::fail(&app.db, &job, "still failing", Duration::ZERO)
            .await
            .unwrap();
    }
    assert_eq!(rounds, queue::DEFAULT_MAX_ATTEMPTS - 1, "attempts 2..=max");
    assert!(
        queue::claim(&app.db, "w", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none(),
        "dead jobs are not claimed"
    );
    let mut tx = app.db.read(&scope).await.unwrap();
    let info = queue::for_call(&mut tx, "call-3").await.unwrap().remove(0);
    assert_eq!(
        (info.state.as_str(), info.last_error.as_deref()),
        ("dead", Some("still failing"))
    );
    drop(tx);

    let mut tx = app.db.write(&scope).await.unwrap();
    queue::retry_dead(&mut tx, scope.admin().unwrap(), &info.id)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let again = queue::claim(&app.db, "w", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempts, 1);
    queue::complete(&app.db, &again).await.unwrap();
}

#[tokio::test]
async fn a_claim_of_the_light_kinds_never_takes_speech_to_text() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    // A backlog of speech-to-text, the oldest first, and light jobs of both tenants behind it.
    for call in ["call-1", "call-2", "call-3"] {
        enqueue(&app, &a.admin_token, "transcribe", call).await;
    }
    enqueue(&app, &a.admin_token, "enrich", "call-0").await;
    enqueue(&app, &b.admin_token, "publish", "call-9").await;
    let lease = Duration::from_secs(60);

    let light = queue::claim_batch_of(
        &app.db,
        "d",
        lease,
        10,
        Due::ReadyOrExpired,
        Kinds::ExceptTranscribe,
    )
    .await
    .unwrap();
    let mut kinds: Vec<&str> = light.iter().map(|j| j.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["enrich", "publish"]);
    assert!(
        queue::claim_batch_of(&app.db, "d", lease, 10, Due::Ready, Kinds::ExceptTranscribe)
            .await
            .unwrap()
            .is_empty(),
        "only speech-to-text is left"
    );
    let any = queue::claim_batch_of(&app.db, "d", lease, 10, Due::Ready, Kinds::Any)
        .await
        .unwrap();
    assert_eq!(any.len(), 3);
    assert!(any.iter().all(|j| j.kind == "transcribe"));
    for job in light.iter().chain(&any) {
        assert!(queue::complete(&app.db, job).await.unwrap());
    }
}

#[tokio::test]
async fn a_requeue_starts_a_new_done_or_dead_job_afresh_and_leaves_a_waiting_or_running_one() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let scope = app.scope(&a.admin_token).await;
    let requeue = |call: &'static str| {
        let (db, scope) = (app.db.clone(), scope.clone());
        async move {
            let mut tx = db.write(&scope).await.unwrap();
            let waiting = queue::requeue(&mut tx, "analyse", call).await.unwrap();
            tx.commit().await.unwrap();
            waiting
        }
    };
    let lease = Duration::from_secs(60);
    assert!(requeue("call-1").await, "a new job");
    assert!(!requeue("call-1").await, "already waiting");
    let job = queue::claim(&app.db, "w", lease).await.unwrap().unwrap();
    assert!(!requeue("call-1").await, "running: left to its worker");
    assert!(
        queue::complete(&app.db, &job).await.unwrap(),
        "still its lease"
    );
    assert!(requeue("call-1").await, "done: queued again");
    let job = queue::claim(&app.db, "w", lease).await.unwrap().unwrap();
    assert_eq!(job.attempts, 1, "fresh attempts");
    let dead = queue::fail(&app.db, &job, "boom", Duration::ZERO)
        .await
        .unwrap();
    assert!(!dead, "retried");
    let job = queue::claim(&app.db, "w", lease).await.unwrap().unwrap();
    assert_eq!(job.attempts, 2);
    let mut tx = app.db.write(&scope).await.unwrap();
    assert!(
        queue::fail_in(&mut tx, &job, "bad", Duration::ZERO, true)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert!(requeue("call-1").await, "dead: queued again");
    let job = queue::claim(&app.db, "w", lease).await.unwrap().unwrap();
    assert_eq!(job.attempts, 1, "fresh attempts after dead");
    assert!(queue::complete(&app.db, &job).await.unwrap());

    // In bulk, a call named twice is one job.
    let mut tx = app.db.write(&scope).await.unwrap();
    let twice = vec!["call-1".to_owned(), "call-1".to_owned()];
    queue::requeue_many(&mut tx, "analyse", &twice)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let job = queue::claim(&app.db, "w", lease).await.unwrap().unwrap();
    assert!(
        queue::claim(&app.db, "w", lease).await.unwrap().is_none(),
        "one job"
    );
    assert!(queue::complete(&app.db, &job).await.unwrap());
}
