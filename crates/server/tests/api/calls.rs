//! Uploading recordings: durable storage before 202, deduplication, limits, isolation.

use http::StatusCode;
use serde_json::json;
use switchboard_core::Area;

use crate::harness::{Part, TestApp, wav};

#[tokio::test]
async fn an_upload_is_stored_under_the_spec_layout_before_202() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let audio = wav(1, 4000);
    let meta = json!({"calling_party": "+15551230001", "called_party": "agent@tenant-a.test", "started_at": "2026-11-20T10:00:00Z"});
    let response = app
        .upload(
            &a.admin_token,
            &[
                ("audio", Some("call.wav"), audio.clone()),
                ("meta", None, meta.to_string().into_bytes()),
            ],
        )
        .await;
    assert_eq!(response.status, StatusCode::ACCEPTED, "{}", response.text);
    assert_eq!(response.body["duplicate"], false);
    let id = response.body["call_id"].as_str().unwrap().to_owned();

    let objects = app
        .storage
        .tenant(&app.scope(&a.admin_token).await)
        .unwrap();
    assert_eq!(
        objects
            .get(Area::Input, &format!("audio/{id}.wav"))
            .await
            .unwrap()
            .to_vec(),
        audio
    );
    let stored_meta: serde_json::Value = serde_json::from_slice(
        &objects
            .get(Area::Input, &format!("meta/{id}.json"))
            .await
            .unwrap(),
    )
    .unwrap();
    let mut expected = meta.clone();
    expected["normalised"] = json!({"calling_party": "+15551230001", "called_party": "agent@tenant-a.test", "started_at": "2026-11-20T10:00:00Z"});
    assert_eq!(
        stored_meta, expected,
        "as received, plus the SPEC-named fields"
    );

    let call = app
        .get(&format!("/api/v1/calls/{id}"), &a.member_token)
        .await;
    assert_eq!(call.status, StatusCode::OK);
    assert_eq!(call.body["status"], "received");
    assert_eq!(call.body["audio_format"], "wav");
    assert_eq!(call.body["audio_bytes"], audio.len());
    assert_eq!(call.body["meta"]["calling_party"], "+15551230001");
    let listed = app
        .get("/api/v1/calls?status=received", &a.member_token)
        .await;
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get("/api/v1/calls?status=failed", &a.member_token)
            .await
            .body,
        json!([])
    );
}

#[tokio::test]
async fn duplicate_uploads_return_the_existing_call() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let first = app
        .upload(&a.admin_token, &[("audio", Some("a.wav"), wav(1, 800))])
        .await;
    let id = first.body["call_id"].as_str().unwrap();
    let same_bytes = app
        .upload(&a.admin_token, &[("audio", Some("again.wav"), wav(1, 800))])
        .await;
    assert_eq!(same_bytes.status, StatusCode::OK);
    assert_eq!(
        (
            same_bytes.body["call_id"].as_str().unwrap(),
            same_bytes.body["duplicate"].as_bool()
        ),
        (id, Some(true))
    );

    let with_id = app
        .upload(
            &a.admin_token,
            &[
                ("audio", Some("b.wav"), wav(2, 800)),
                ("provider_recording_id", None, b"rec-42".to_vec()),
            ],
        )
        .await;
    assert_eq!(with_id.status, StatusCode::ACCEPTED);
    let redelivered = app
        .upload(
            &a.admin_token,
            &[
                ("audio", Some("b2.wav"), wav(3, 800)),
                ("meta", None, br#"{"recording_id": "rec-42"}"#.to_vec()),
            ],
        )
        .await;
    assert_eq!(redelivered.status, StatusCode::OK);
    assert_eq!(redelivered.body["call_id"], with_id.body["call_id"]);
    assert_eq!(
        app.get("/api/v1/calls", &a.admin_token)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(app.count_rows("calls", "tenant-a").await, 2);
}

#[tokio::test]
async fn uploads_arriving_together_each_get_their_call_and_one_job() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    // Twelve at once: a third to tenant B; the last two are the same recording (tenant A).
    let app = &app;
    let uploads = (0..12u8).map(|i| {
        let token = if i % 3 == 0 {
            &b.admin_token
        } else {
            &a.admin_token
        };
        let audio = wav(i.min(10), 800);
        async move {
            app.upload(token, &[("audio", Some("call.wav"), audio)])
                .await
        }
    });
    let responses = futures::future::join_all(uploads).await;
    for (i, response) in responses.iter().enumerate().take(10) {
        assert_eq!(
            response.status,
            StatusCode::ACCEPTED,
            "{i}: {}",
            response.text
        );
    }
    let copies = [&responses[10], &responses[11]];
    let mut statuses = copies.map(|r| r.status);
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::ACCEPTED]);
    assert_eq!(copies[0].body["call_id"], copies[1].body["call_id"]);

    for (tenant, calls) in [("tenant-a", 7), ("tenant-b", 4)] {
        assert_eq!(app.count_rows("calls", tenant).await, calls, "{tenant}");
        assert_eq!(
            app.count_rows("jobs", tenant).await,
            calls,
            "one job per call"
        );
    }
    // Every new call's row and job committed through the server's group commit.
    assert_eq!(app.state.commits.committed().works, 11);
}

#[tokio::test]
async fn the_same_recording_in_another_tenant_is_a_separate_call_invisible_to_the_first() {
    let app = TestApp::new().await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    let in_a = app
        .upload(&a.admin_token, &[("audio", Some("x.wav"), wav(9, 800))])
        .await;
    let in_b = app
        .upload(&b.admin_token, &[("audio", Some("x.wav"), wav(9, 800))])
        .await;
    assert_eq!(in_b.status, StatusCode::ACCEPTED, "dedupe is per tenant");
    assert_ne!(in_a.body["call_id"], in_b.body["call_id"]);
    let a_call = in_a.body["call_id"].as_str().unwrap();
    let cross = app
        .get(&format!("/api/v1/calls/{a_call}"), &b.admin_token)
        .await;
    assert_eq!(cross.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/calls", &b.admin_token)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn bad_uploads_get_clear_errors_and_store_nothing() {
    let app = TestApp::builder().max_upload_bytes(10_000).build().await;
    let a = app.tenant("tenant-a").await;
    let cases: Vec<(Vec<Part>, StatusCode, &str)> = vec![
        (
            vec![("audio", Some("big.wav"), wav(1, 6000))],
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            vec![("audio", Some("doc.pdf"), b"%PDF-1.7 not audio".to_vec())],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            vec![("audio", Some("empty.wav"), Vec::new())],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![("meta", None, b"{}".to_vec())],
            StatusCode::BAD_REQUEST,
            "missing_audio",
        ),
        (
            vec![
                ("audio", Some("a.wav"), wav(1, 10)),
                ("meta", None, b"{not json".to_vec()),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_meta",
        ),
        (
            vec![
                ("audio", Some("a.wav"), wav(1, 10)),
                ("meta", None, b"[1, 2]".to_vec()),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (parts, status, code) in cases {
        let response = app.upload(&a.admin_token, &parts).await;
        assert_eq!(
            (response.status, response.code()),
            (status, code),
            "{}",
            response.text
        );
    }
    assert_eq!(app.count_rows("calls", "tenant-a").await, 0);
    let objects = app
        .storage
        .tenant(&app.scope(&a.admin_token).await)
        .unwrap();
    assert!(objects.list(Area::Input, None).await.unwrap().is_empty());

    let member = app
        .upload(&a.member_token, &[("audio", Some("a.wav"), wav(1, 10))])
        .await;
    assert_eq!(member.status, StatusCode::FORBIDDEN);
    let garbage = app
        .send(
            http::Request::post("/api/v1/calls")
                .header("authorization", format!("Bearer {}", a.admin_token))
                .header("content-type", "multipart/form-data; boundary=x")
                .body(axum::body::Body::from("not multipart at all"))
                .unwrap(),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST, "{}", garbage.text);
}
