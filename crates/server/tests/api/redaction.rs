//! PII redaction (SPEC §4.3), end to end on a live call: a tenant whose ai-config turns it on
//! gets a published record, dashboard row and caller memory without the caller's card number,
//! e-mail address or phone number; a tenant that does not keeps the words as spoken.

use http::StatusCode;

use crate::harness::{TestApp, TestTenant};
use crate::pipeline::{pipeline, put_config, support};
use crate::receptionist::{
    A_NUMBER, B_NUMBER, CALLER, app, params, plumber, say, say_hello, webhook,
};

const SAID: &str = "My card is 4111 1111 1111 1111, my email is jo.smith@example.com and you can call me back on four one five, five five five, oh one nine nine.";

async fn call(app: &TestApp, call_sid: &str, to: &str) {
    say_hello(app, call_sid, to).await;
    say(app, call_sid, to, 1, SAID).await;
    let status = params(
        call_sid,
        to,
        &[("CallStatus", "completed"), ("CallDuration", "30")],
    );
    assert_eq!(
        webhook(app, "/twilio/status", &status).await.status,
        StatusCode::OK
    );
}

/// The published record of the tenant's only call, as the API returns it (whole text).
async fn published(app: &TestApp, tenant: &TestTenant) -> (serde_json::Value, String) {
    let listed = app.get("/api/v1/calls", &tenant.member_token).await;
    let id = listed.body[0]["id"].as_str().unwrap().to_owned();
    let detail = app
        .get(&format!("/api/v1/calls/{id}"), &tenant.member_token)
        .await;
    assert_eq!(detail.body["status"], "published", "{}", detail.text);
    (detail.body["record"].clone(), detail.text)
}

#[tokio::test]
async fn a_tenant_that_redacts_keeps_card_numbers_emails_and_phone_numbers_out_of_its_records() {
    let app = app().await;
    let a = plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing").await;
    let b = plumber(&app, "tenant-b", B_NUMBER, "Bob's Heating").await;
    let mut ai = app.get("/api/v1/config/ai", &a.member_token).await.body;
    ai["redaction"] = serde_json::json!({ "enabled": true });
    let put = put_config(&app, &a.admin_token, "ai", &ai.to_string()).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    // A bad redaction setting is refused with the problem named, and nothing is saved.
    ai["redaction"] = serde_json::json!({ "enabled": true, "entities": ["email", "dna"] });
    let bad = put_config(&app, &a.admin_token, "ai", &ai.to_string()).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert!(bad.text.contains("dna"), "{}", bad.text);
    let saved = app.get("/api/v1/config/ai", &a.member_token).await;
    assert_eq!(
        saved.body["redaction"],
        serde_json::json!({ "enabled": true })
    );

    call(&app, "CA-PII-A", A_NUMBER).await;
    call(&app, "CA-PII-B", B_NUMBER).await;
    let Some(data) = support::models_data_dir() else {
        return;
    };
    let files = switchboard_engines::models::ModelFiles::under(&data);
    let pipeline = pipeline(
        &app,
        "/nonexistent/ggml.bin".into(),
        Some(files.minilm_dir()),
    );
    // Per call: transcribe (live), enrich, analyse, publish, remember.
    assert_eq!(pipeline.run_until_idle("pii-test").await.unwrap(), 10);

    let (record, text) = published(&app, &a).await;
    let caller = record["transcript"][1]["text"].as_str().unwrap();
    assert_eq!(
        caller,
        "My card is [CARD], my email is [EMAIL] and you can call me back on [NUMBER]."
    );
    for secret in ["4111", "jo.smith", "example.com", "oh one nine nine"] {
        assert!(!text.contains(secret), "{secret} in A's record: {text}");
    }
    assert_eq!(
        record["provenance"]["redaction"],
        serde_json::json!({"entities": ["email", "card", "number"], "replaced": {"email": 1, "card": 1, "number": 1}})
    );
    // Caller memory keeps none of it either.
    for path in [
        format!("/v1/memories/user/{CALLER}"),
        format!("/v2/summaries/{CALLER}"),
    ] {
        let memory = app.get(&path, &a.member_token).await;
        assert_eq!(memory.status, StatusCode::OK, "{}", memory.text);
        assert!(
            !memory.text.contains("4111") && !memory.text.contains("jo.smith"),
            "{}",
            memory.text
        );
    }

    // B did not ask for redaction: its record has the words as spoken.
    let (record, _) = published(&app, &b).await;
    assert_eq!(record["transcript"][1]["text"], SAID);
    assert!(
        record["provenance"].get("redaction").is_none(),
        "{}",
        record["provenance"]
    );
}
