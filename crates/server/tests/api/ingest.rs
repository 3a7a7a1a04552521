//! Provider ingestion against the simulator: exactly-once ingestion, fault isolation between
//! tenants, retries, history, leases.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};
use switchboard_ingest::{Provider, SyncContext, sync_provider, sync_tenant};
use switchboard_store::repo::syncs;

use crate::fixtures::wav;

/// The run recorded for tenant `id` in `sync_provider`'s result.
fn run_of(runs: &[(switchboard_core::TenantId, syncs::SyncRun)], id: &str) -> syncs::SyncRun {
    runs.iter()
        .find(|(t, _)| t.as_str() == id)
        .map(|(_, r)| r.clone())
        .unwrap_or_else(|| panic!("no run for {id}"))
}
use crate::harness::{Auth, TestApp, TestTenant};
use crate::provider_sim::{Account, Faults, ProviderSim, Recording};

fn account(client: &str, count: usize, seed: u8) -> Account {
    Account {
        client_id: client.into(),
        client_secret: format!("{client}-secret"),
        username: format!("{client}-user"),
        password: format!("{client}-password"),
        recordings: (0..count)
            .map(|i| Recording {
                id: format!("{client}-{i}"),
                started_at: format!("2026-11-{:02}T10:00:00Z", i + 1),
                audio: wav(seed.wrapping_add(i as u8), 200),
            })
            .collect(),
    }
}

fn context(app: &TestApp) -> SyncContext {
    let mut ctx = SyncContext::new(
        app.db.clone(),
        app.storage.clone(),
        Arc::clone(&app.keyring),
    );
    ctx.request_timeout = Duration::from_secs(5);
    ctx
}

async fn store_credentials(app: &TestApp, tenant: &TestTenant, fields: Value) {
    let put = app
        .call(
            "PUT",
            "/api/v1/credentials/oak",
            Auth::Bearer(&tenant.admin_token),
            Some(fields),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
}

async fn call_count(app: &TestApp, tenant: &TestTenant) -> usize {
    app.get("/api/v1/calls?limit=500", &tenant.admin_token)
        .await
        .body
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn every_good_recording_is_ingested_once_and_a_bad_tenant_is_isolated() {
    let app = TestApp::new().await;
    let (a_account, b_account) = (account("alpha", 7, 10), account("beta", 4, 100));
    let sim = ProviderSim::start(
        vec![a_account.clone(), b_account.clone()],
        Faults {
            token_uses: 5,
            fail_page_once: Some(2),
            slow_page: Some((1, Duration::from_millis(200))),
            malformed_item: true,
            duplicate: Some("alpha-3".into()),
            broken_downloads: vec![],
        },
    )
    .await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    let c = app.tenant("tenant-c").await;
    app.tenant("tenant-none").await;
    store_credentials(&app, &a, sim.credentials(&a_account)).await;
    store_credentials(&app, &b, sim.credentials(&b_account)).await;
    let mut wrong = sim.credentials(&a_account);
    wrong["password"] = json!("not-the-password");
    store_credentials(&app, &c, wrong).await;

    let runs = sync_provider(&context(&app), &app.operator, Provider::Oak, None)
        .await
        .unwrap();
    let run = |id: &str| run_of(&runs, id);
    assert_eq!(
        runs.len(),
        3,
        "tenant-none has no credentials and is not synced"
    );
    let (ra, rb, rc) = (run("tenant-a"), run("tenant-b"), run("tenant-c"));
    assert_eq!(ra.error, None, "{ra:?}");
    assert_eq!(ra.fetched, 7);
    assert!(ra.skipped >= 1, "the duplicate listing is skipped: {ra:?}");
    assert!(ra.failed >= 1, "the malformed item is recorded: {ra:?}");
    assert_eq!(rb.error, None, "{rb:?}");
    assert_eq!(rb.fetched, 4);
    assert!(
        rc.error
            .as_deref()
            .unwrap()
            .contains("refused the credentials"),
        "{rc:?}"
    );
    assert!(!rc.error.as_deref().unwrap().contains("not-the-password"));
    assert!(
        sim.tokens_issued() >= 3,
        "tokens expired mid-sync and were renewed"
    );

    assert_eq!(call_count(&app, &a).await, 7);
    assert_eq!(call_count(&app, &b).await, 4);
    assert_eq!(call_count(&app, &c).await, 0);
    let calls = app.get("/api/v1/calls?limit=500", &a.admin_token).await;
    let first = calls
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["provider_recording_id"] == "alpha-0")
        .unwrap();
    assert_eq!(first["source"], "provider:oak");
    assert_eq!(
        first["meta"]["queue"], "support",
        "unknown provider fields are kept"
    );

    let again = sync_provider(&context(&app), &app.operator, Provider::Oak, None)
        .await
        .unwrap();
    for (tenant, run) in &again {
        assert_eq!(run.fetched, 0, "{tenant}: nothing new");
    }
    assert_eq!(call_count(&app, &a).await, 7, "exactly once");
    assert_eq!(call_count(&app, &b).await, 4);

    let history = app.get("/api/v1/ingest/oak/runs", &a.admin_token).await;
    assert_eq!(history.body.as_array().unwrap().len(), 2);
    let c_history = app.get("/api/v1/ingest/oak/runs", &c.admin_token).await;
    assert!(
        c_history.body[0]["error"]
            .as_str()
            .unwrap()
            .contains("refused")
    );
    assert!(
        !c_history.text.contains("alpha"),
        "tenant C sees only its own runs"
    );
}

#[tokio::test]
async fn a_broken_recording_is_retried_until_it_arrives_and_others_flow_meanwhile() {
    let app = TestApp::new().await;
    let d_account = account("delta", 4, 50);
    let sim = ProviderSim::start(
        vec![d_account.clone()],
        Faults {
            broken_downloads: vec!["delta-1".into()],
            ..Faults::default()
        },
    )
    .await;
    let d = app.tenant("tenant-d").await;
    store_credentials(&app, &d, sim.credentials(&d_account)).await;
    let scope = app.scope(&d.admin_token).await;

    let first = sync_tenant(&context(&app), &scope, Provider::Oak)
        .await
        .unwrap();
    assert_eq!((first.fetched, first.failed), (3, 1), "{first:?}");
    assert_eq!(first.errors[0]["recording_id"], "delta-1");
    let mut tx = app.db.read(&scope).await.unwrap();
    let watermark = syncs::watermark(&mut tx, "oak").await.unwrap();
    drop(tx);
    assert_eq!(
        watermark.as_deref(),
        Some("2026-11-02T10:00:00Z"),
        "the watermark waits at the broken recording"
    );

    sim.fix_downloads();
    sim.add_recording(
        "delta",
        Recording {
            id: "delta-9".into(),
            started_at: "2026-11-20T10:00:00Z".into(),
            audio: wav(99, 200),
        },
    );
    let second = sync_tenant(&context(&app), &scope, Provider::Oak)
        .await
        .unwrap();
    assert_eq!(
        second.fetched, 2,
        "the retried recording and the new one: {second:?}"
    );
    assert_eq!(second.failed, 0);
    assert_eq!(call_count(&app, &d).await, 5);
}

#[tokio::test]
async fn syncs_run_on_demand_through_the_api_for_admins_only() {
    let app = TestApp::new().await;
    let e_account = account("echo", 2, 70);
    let sim = ProviderSim::start(vec![e_account.clone()], Faults::default()).await;
    let e = app.tenant("tenant-e").await;
    let none = app.run_sync_request(&e.admin_token).await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(
        none.body["error"]
            .as_str()
            .unwrap()
            .contains("no credentials")
    );

    store_credentials(&app, &e, sim.credentials(&e_account)).await;
    let ran = app.run_sync_request(&e.admin_token).await;
    assert_eq!(ran.body["fetched"], 2, "{}", ran.text);
    assert_eq!(
        app.run_sync_request(&e.member_token).await.status,
        StatusCode::FORBIDDEN
    );
    let unknown = app
        .call(
            "POST",
            "/api/v1/ingest/nope/run",
            Auth::Bearer(&e.admin_token),
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "unknown_provider");
}

#[tokio::test]
async fn a_tenant_leased_by_another_node_is_not_synced_twice() {
    let app = TestApp::new().await;
    let f_account = account("foxtrot", 2, 80);
    let sim = ProviderSim::start(vec![f_account.clone()], Faults::default()).await;
    let f = app.tenant("tenant-f").await;
    store_credentials(&app, &f, sim.credentials(&f_account)).await;
    let scope = app.scope(&f.admin_token).await;
    let mut tx = app.db.write(&scope).await.unwrap();
    assert!(
        syncs::acquire_lease(&mut tx, "oak", "other-node", 60_000)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();

    let skipped = sync_tenant(&context(&app), &scope, Provider::Oak)
        .await
        .unwrap();
    assert!(
        skipped.error.as_deref().unwrap().contains("another node"),
        "{skipped:?}"
    );
    assert_eq!(call_count(&app, &f).await, 0);

    let mut tx = app.db.write(&scope).await.unwrap();
    syncs::release_lease(&mut tx, "oak", "other-node")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        sync_tenant(&context(&app), &scope, Provider::Oak)
            .await
            .unwrap()
            .fetched,
        2
    );
}

#[tokio::test]
async fn dropped_objects_become_calls_once_and_stay_in_their_tenant() {
    use bytes::Bytes;
    use switchboard_core::Area;
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    let uploaded = app
        .upload(&a.admin_token, &[("audio", Some("u.wav"), wav(1, 100))])
        .await;
    assert_eq!(uploaded.status, StatusCode::ACCEPTED);

    // The tenants' own systems drop recordings into their input prefixes.
    let a_objects = app
        .storage
        .tenant(&app.scope(&a.admin_token).await)
        .unwrap();
    let b_objects = app
        .storage
        .tenant(&app.scope(&b.admin_token).await)
        .unwrap();
    a_objects
        .put(
            Area::Input,
            "audio/2026-11-20-call-7.wav",
            Bytes::from(wav(7, 100)),
        )
        .await
        .unwrap();
    a_objects
        .put(
            Area::Input,
            "meta/2026-11-20-call-7.json",
            Bytes::from_static(br#"{"calling_party": "+15550007777"}"#),
        )
        .await
        .unwrap();
    a_objects
        .put(
            Area::Input,
            "audio/not-audio.wav",
            Bytes::from_static(b"%PDF-1.7"),
        )
        .await
        .unwrap();
    b_objects
        .put(Area::Input, "audio/b-drop.wav", Bytes::from(wav(8, 100)))
        .await
        .unwrap();

    let runs = sync_provider(&context(&app), &app.operator, Provider::BucketDrop, None)
        .await
        .unwrap();
    let run = |id: &str| run_of(&runs, id);
    let (ra, rb) = (run("tenant-a"), run("tenant-b"));
    assert_eq!((ra.fetched, ra.failed), (1, 1), "{ra:?}");
    assert!(
        ra.errors[0]["reason"].as_str().unwrap().contains("not WAV"),
        "{ra:?}"
    );
    assert_eq!(rb.fetched, 1, "{rb:?}");

    let calls = app.get("/api/v1/calls", &a.admin_token).await;
    let dropped = calls
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"] == "provider:bucket-drop")
        .unwrap();
    assert_eq!(
        dropped["provider_recording_id"],
        "drop:audio/2026-11-20-call-7.wav"
    );
    assert_eq!(dropped["meta"]["calling_party"], "+15550007777");
    assert_eq!(
        call_count(&app, &a).await,
        2,
        "the uploaded call is not mistaken for a drop"
    );
    assert_eq!(call_count(&app, &b).await, 1);
    let left = a_objects.list(Area::Input, None).await.unwrap();
    assert!(
        !left.iter().any(|n| n.contains("2026-11-20-call-7")),
        "the drop is consumed: {left:?}"
    );

    let again = sync_provider(&context(&app), &app.operator, Provider::BucketDrop, None)
        .await
        .unwrap();
    assert!(again.iter().all(|(_, r)| r.fetched == 0));
    assert_eq!(call_count(&app, &a).await, 2);
}

#[tokio::test]
async fn a_provider_that_times_out_fails_its_tenant_only() {
    let app = TestApp::new().await;
    let (slow_account, good_account) = (account("slow", 2, 1), account("good", 2, 2));
    let slow_sim = ProviderSim::start(
        vec![slow_account.clone()],
        Faults {
            slow_page: Some((1, Duration::from_secs(3))),
            ..Faults::default()
        },
    )
    .await;
    let good_sim = ProviderSim::start(vec![good_account.clone()], Faults::default()).await;
    let slow = app.tenant("tenant-slow").await;
    let good = app.tenant("tenant-good").await;
    store_credentials(&app, &slow, slow_sim.credentials(&slow_account)).await;
    store_credentials(&app, &good, good_sim.credentials(&good_account)).await;
    let mut ctx = context(&app);
    ctx.request_timeout = Duration::from_millis(300);

    let runs = sync_provider(&ctx, &app.operator, Provider::Oak, None)
        .await
        .unwrap();
    let run = |id: &str| run_of(&runs, id);
    assert!(
        run("tenant-slow")
            .error
            .as_deref()
            .unwrap()
            .contains("timed out"),
        "{:?}",
        run("tenant-slow")
    );
    assert_eq!(run("tenant-good").fetched, 2);
    assert_eq!(call_count(&app, &slow).await, 0);
}
