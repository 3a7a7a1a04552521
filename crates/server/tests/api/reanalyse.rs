//! Re-analysis in bulk (`POST /api/v1/calls/reanalyse`): a tenant's published calls, more than one
//! statement's worth, each sent back for a new result version with its `analyse` job queued
//! once; calls not analysed yet are skipped; an unknown call refuses the whole request.

use std::time::Duration;

use http::StatusCode;
use serde_json::json;
use switchboard_store::queue::{self, Due, Kinds};
use switchboard_store::repo::calls;
use switchboard_store::synthetic::{self, SyntheticCalls};

use crate::harness::TestApp;

const CALLS: usize = 1_100;

#[tokio::test]
async fn a_tenants_published_calls_are_reanalysed_in_bulk_each_once() {
    let app = TestApp::new().await;
    let a = app.tenant("bulk-a").await;
    let b = app.tenant("bulk-b").await;
    for (tenant, seed) in [(&a, 1), (&b, 2)] {
        let scope = app.scope(&tenant.admin_token).await;
        let spec = SyntheticCalls {
            calls: CALLS,
            days: 30,
            until_ms: switchboard_store::clock::now_ms(),
            agents: 5,
            seed,
        };
        assert_eq!(
            synthetic::insert(&app.db, &scope, &spec).await.unwrap(),
            CALLS
        );
    }
    let scope = app.scope(&a.admin_token).await;
    let mut tx = app.db.read(&scope).await.unwrap();
    let ids = calls::ids_with_status(&mut tx, "published", 10_000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(ids.len(), CALLS);

    // An unknown call (or another tenant's) refuses the request, and nothing changes.
    let mut named: Vec<String> = ids[..3].to_vec();
    named.push("no-such-call".into());
    let refused = app
        .post(
            "/api/v1/calls/reanalyse",
            &a.admin_token,
            json!({ "call_ids": named }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
    let lease = Duration::from_secs(60);
    assert!(
        queue::claim_batch(&app.db, "t", lease, 10, Due::Ready)
            .await
            .unwrap()
            .is_empty()
    );

    // Every published call of A, past the 500 calls of one statement.
    let queued = app
        .post("/api/v1/calls/reanalyse", &a.admin_token, json!({}))
        .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.text);
    assert_eq!(queued.body["queued"].as_array().unwrap().len(), CALLS);
    let jobs = queue::claim_batch_of(&app.db, "t", lease, 5_000, Due::Ready, Kinds::Any)
        .await
        .unwrap();
    assert_eq!(jobs.len(), CALLS, "one job per call, B's calls untouched");
    assert!(jobs.iter().all(|j| j.kind == "analyse"
        && j.scope.tenant().as_str() == a.id.as_str()
        && j.attempts == 1));
    let detail = app
        .get(
            &format!("/api/v1/calls/{}", ids[CALLS - 1]),
            &a.member_token,
        )
        .await;
    assert_eq!(
        (&detail.body["status"], &detail.body["result_version"]),
        (&json!("enriched"), &json!(2)),
        "{}",
        detail.text
    );
    // One analysis is still running when the next request comes.
    let (running, finished): (Vec<_>, Vec<_>) = jobs.into_iter().partition(|j| j.call_id == ids[3]);
    for job in &finished {
        assert!(queue::complete(&app.db, job).await.unwrap());
    }

    // Named again (twice), after their analysis: one fresh job each, version 3; the running job
    // is left to its worker. Calls still in the pipeline (waiting for analysis) are skipped.
    let republished = &ids[..4];
    let mut tx = app.db.write(&scope).await.unwrap();
    for id in republished {
        calls::set_status(&mut tx, id, "published").await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut named: Vec<String> = republished.to_vec();
    named.extend(republished.iter().cloned());
    named.push(ids[10].clone());
    let again = app
        .post(
            "/api/v1/calls/reanalyse",
            &a.admin_token,
            json!({ "call_ids": named }),
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.text);
    assert_eq!(again.body["queued"], json!(republished));
    assert_eq!(again.body["skipped"], json!([ids[10]]));
    let jobs = queue::claim_batch(&app.db, "t", lease, 100, Due::Ready)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 3);
    assert!(jobs.iter().all(|j| j.attempts == 1), "fresh attempts");
    assert!(
        queue::complete(&app.db, &running[0]).await.unwrap(),
        "the running job kept its lease"
    );
    for job in &jobs {
        assert!(queue::complete(&app.db, job).await.unwrap());
    }
    let detail = app
        .get(
            &format!("/api/v1/calls/{}", republished[0]),
            &a.member_token,
        )
        .await;
    assert_eq!(detail.body["result_version"], 3);
}
