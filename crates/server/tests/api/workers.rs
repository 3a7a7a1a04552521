//! The workers `serve` and `worker` run: one dispatcher claims due jobs in batches for its idle
//! workers, every call of every tenant goes through all four stages on the real engines, and
//! shutdown waits for the jobs in hand.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use switchboard_engines::models::ModelFiles;

use crate::fixtures::{corrupt_wav, wav};
use crate::harness::TestApp;
use crate::pipeline::{pipeline, support};

#[tokio::test]
async fn the_dispatcher_runs_every_tenants_calls_through_all_stages_and_stops_when_asked() {
    let Some(data) = support::models_data_dir() else {
        return;
    };
    let files = ModelFiles::under(&data);
    let app = TestApp::new().await;
    let tenants = [app.tenant("disp-a").await, app.tenant("disp-b").await];
    let mut calls = Vec::new();
    for (t, tenant) in tenants.iter().enumerate() {
        for i in 0..3u8 {
            let uploaded = app
                .upload(
                    &tenant.admin_token,
                    &[("audio", Some("call.wav"), wav(10 * t as u8 + i, 3_200))],
                )
                .await;
            assert_eq!(uploaded.status, StatusCode::ACCEPTED, "{}", uploaded.text);
            calls.push((t, uploaded.body["call_id"].as_str().unwrap().to_owned()));
        }
    }

    let pipeline = Arc::new(pipeline(
        &app,
        files.whisper_tiny_en(),
        Some(files.minilm_dir()),
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = tokio::spawn(pipeline.run_workers("dispatcher-test".into(), 2, stopped));

    let deadline = Instant::now() + Duration::from_secs(180);
    'waiting: loop {
        assert!(
            Instant::now() < deadline,
            "the calls were not all published"
        );
        for (t, id) in &calls {
            let detail = app
                .get(&format!("/api/v1/calls/{id}"), &tenants[*t].member_token)
                .await;
            assert_ne!(detail.body["status"], "failed", "{}", detail.text);
            if detail.body["status"] != "published" {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue 'waiting;
            }
        }
        break;
    }
    for (t, id) in &calls {
        let detail = app
            .get(&format!("/api/v1/calls/{id}"), &tenants[*t].member_token)
            .await;
        let jobs = detail.body["jobs"].as_array().unwrap();
        assert_eq!(jobs.len(), 4, "{jobs:?}");
        assert!(
            jobs.iter()
                .all(|j| j["state"] == "done" && j["attempts"] == 1),
            "each stage ran once: {jobs:?}"
        );
        assert_eq!(detail.body["record"]["tenant_id"], tenants[*t].id.as_str());
        // The other tenant's credential does not reach it.
        let other = &tenants[1 - *t];
        assert_eq!(
            app.get(&format!("/api/v1/calls/{id}"), &other.member_token)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }

    // Asked to stop, the dispatcher stops claiming and returns once its workers are done.
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(30), workers)
        .await
        .expect("the workers stopped")
        .unwrap();
    let late = app
        .upload(
            &tenants[0].admin_token,
            &[("audio", Some("late.wav"), wav(99, 3_200))],
        )
        .await;
    assert_eq!(late.status, StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let detail = app
        .get(
            &format!("/api/v1/calls/{}", late.body["call_id"].as_str().unwrap()),
            &tenants[0].member_token,
        )
        .await;
    assert_eq!(
        detail.body["status"], "received",
        "nothing runs after shutdown"
    );
}

#[tokio::test]
async fn the_dispatcher_takes_over_the_job_of_a_worker_that_died() {
    let app = TestApp::new().await;
    let tenant = app.tenant("disp-takeover").await;
    // Corrupt audio fails in the decoder, before any model is needed.
    let uploaded = app
        .upload(
            &tenant.admin_token,
            &[("audio", Some("bad.wav"), corrupt_wav(5))],
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::ACCEPTED, "{}", uploaded.text);
    let call_id = uploaded.body["call_id"].as_str().unwrap().to_owned();
    // A worker claims it and dies: its lease runs out after the dispatcher's first look, so the
    // dispatcher finds it on one of its later, periodic looks for expired leases.
    let dying = switchboard_store::queue::claim(&app.db, "dying", Duration::from_millis(500))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dying.call_id, call_id);

    let mut pipeline = pipeline(&app, "/nonexistent/ggml.bin".into(), None);
    pipeline.settings.poll = Duration::from_millis(100);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = tokio::spawn(Arc::new(pipeline).run_workers("rescuer".into(), 2, stopped));
    let deadline = Instant::now() + Duration::from_secs(20);
    let detail = loop {
        let detail = app
            .get(&format!("/api/v1/calls/{call_id}"), &tenant.member_token)
            .await;
        if detail.body["status"] == "failed" {
            break detail;
        }
        assert!(Instant::now() < deadline, "not taken over: {}", detail.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(detail.body["failure_stage"], "transcribe");
    assert_eq!(detail.body["failure_attempts"], 2, "{}", detail.text);
    assert_eq!(detail.body["jobs"][0]["state"], "dead");
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(30), workers)
        .await
        .expect("the workers stopped")
        .unwrap();
}

#[tokio::test]
async fn light_slots_take_the_other_stages_and_speech_to_text_stays_within_the_workers() {
    use switchboard_store::queue::{self, Due};
    let app = TestApp::new().await;
    let tenant = app.tenant("disp-slots").await;
    let scope = app.scope(&tenant.admin_token).await;
    let mut tx = app.db.write(&scope).await.unwrap();
    for call in ["call-b", "call-c", "call-d"] {
        queue::enqueue(&mut tx, "transcribe", call).await.unwrap();
    }
    queue::enqueue(&mut tx, "enrich", "call-a").await.unwrap();
    tx.commit().await.unwrap();
    let pipeline = pipeline(&app, "/nonexistent/ggml.bin".into(), None);
    let kinds = |jobs: &[queue::ClaimedJob]| {
        let mut kinds: Vec<String> = jobs.iter().map(|j| j.kind.clone()).collect();
        kinds.sort();
        kinds
    };

    // One worker's slot and three light ones: the light job goes to a light slot, and of the
    // three speech-to-text jobs only one is taken, by the worker's slot.
    let first = pipeline
        .claim_for_slots("d", 1, 3, Due::Ready)
        .await
        .unwrap();
    assert_eq!(kinds(&first), ["enrich", "transcribe"]);
    // Light slots alone take no speech-to-text.
    assert!(
        pipeline
            .claim_for_slots("d", 0, 2, Due::ReadyOrExpired)
            .await
            .unwrap()
            .is_empty()
    );
    let second = pipeline
        .claim_for_slots("d", 2, 0, Due::Ready)
        .await
        .unwrap();
    assert_eq!(kinds(&second), ["transcribe", "transcribe"]);
    for job in first.iter().chain(&second) {
        assert!(queue::complete(&app.db, job).await.unwrap());
    }
}
