//! The AI receptionist through its public interfaces: the tenant-admin API (clone, variables,
//! knowledge, readiness, sync), the platform API (numbers, template versions) and the Twilio
//! webhooks, signed as Twilio signs them. Signature refusals, duplicate deliveries, a restart
//! mid-call, placeholder safety, and tenant isolation of callers, knowledge and the cache.

use http::{Request, StatusCode};
use serde_json::{Value, json};
use switchboard_receptionist::twiml::{self, Verb};
use switchboard_store::auth::twilio::signature;

use crate::harness::{Auth, Response, TestApp, TestTenant};

const PUBLIC: &str = "https://switchboard.test";
const PLATFORM_SID: &str = "AC00000000000000000000000000000001";
const PLATFORM_TOKEN: &str = "platform-auth-token";
pub(crate) const A_NUMBER: &str = "+18005550101";
pub(crate) const B_NUMBER: &str = "+18005550202";
pub(crate) const CALLER: &str = "+14155550199";

pub(crate) async fn app() -> TestApp {
    TestApp::builder()
        .public_url(PUBLIC)
        .platform_twilio(PLATFORM_SID, PLATFORM_TOKEN)
        .build()
        .await
}

pub(crate) fn params(call_sid: &str, to: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = [
        ("AccountSid", PLATFORM_SID),
        ("CallSid", call_sid),
        ("From", CALLER),
        ("To", to),
        ("Direction", "inbound"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    list.sort();
    list
}

/// Posts a webhook; `signature_for` is what the signature is computed over (URL, params, token).
async fn post_signed(
    app: &TestApp,
    path: &str,
    sent: &[(String, String)],
    signature: Option<String>,
) -> Response {
    let mut request = Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", "internal:8080");
    if let Some(sig) = signature {
        request = request.header("x-twilio-signature", sig);
    }
    let body = serde_urlencoded::to_string(sent).unwrap();
    app.send(request.body(axum::body::Body::from(body)).unwrap())
        .await
}

pub(crate) async fn webhook(app: &TestApp, path: &str, sent: &[(String, String)]) -> Response {
    let sig = signature(PLATFORM_TOKEN, &format!("{PUBLIC}{path}"), sent);
    post_signed(app, path, sent, Some(sig)).await
}

/// What the receptionist said, and what it does next.
#[derive(Debug, PartialEq)]
pub(crate) struct Said {
    text: String,
    next: Option<String>,
    dial: Option<String>,
    hangup: bool,
}

fn said(response: &Response) -> Said {
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert!(
        response.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml"),
    );
    let parsed = twiml::parse(&response.text).unwrap();
    let mut out = Said {
        text: String::new(),
        next: None,
        dial: None,
        hangup: false,
    };
    for verb in parsed.verbs {
        match verb {
            Verb::Gather { action, prompt, .. } => {
                if let Some(Verb::Say { text, .. }) = prompt.as_deref() {
                    out.text = text.clone();
                }
                out.next = Some(action);
            }
            Verb::Say { text, .. } if out.text.is_empty() => out.text = text,
            Verb::Say { .. } => {}
            Verb::Dial { number } => out.dial = Some(number),
            Verb::Hangup => out.hangup = true,
        }
    }
    assert!(
        !out.text.contains('{'),
        "a raw placeholder was spoken: {}",
        out.text
    );
    out
}

pub(crate) async fn say(app: &TestApp, call_sid: &str, to: &str, turn: i64, speech: &str) -> Said {
    let path = format!("/twilio/gather?turn={turn}");
    let sent = params(
        call_sid,
        to,
        &[("SpeechResult", speech), ("Confidence", "0.9")],
    );
    said(&webhook(app, &path, &sent).await)
}

async fn assign(app: &TestApp, tenant: &str, number: &str) {
    let done = app
        .call(
            "PUT",
            &format!("/api/v1/platform/tenants/{tenant}/phone-numbers/{number}"),
            Auth::Bearer(&app.platform_token),
            None,
        )
        .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.text);
}

/// A plumbing tenant set up through the API: template, variables, escalation number, knowledge.
pub(crate) async fn plumber(app: &TestApp, id: &str, number: &str, company: &str) -> TestTenant {
    let tenant = app.tenant(id).await;
    let cloned = app
        .post(
            "/api/v1/receptionist/clone",
            &tenant.admin_token,
            json!({ "template_id": "plumbing-hvac" }),
        )
        .await;
    assert_eq!(cloned.status, StatusCode::CREATED, "{}", cloned.text);
    assert_eq!(
        cloned.body["settings"]["cloned_from"]["template_id"],
        "plumbing-hvac"
    );
    let patched = app
        .call(
            "PATCH",
            "/api/v1/receptionist/variables",
            Auth::Bearer(&tenant.admin_token),
            Some(json!({
                "company_name": company,
                "business_hours": "Monday to Friday, 8 to 5",
                "service_call_price": "$125",
                "service_area": "Fort Myers and Cape Coral",
            })),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    let mut settings = patched.body["settings"].clone();
    settings["agent_name"] = json!("Sam");
    settings["escalation_number"] = json!("+12395550100");
    let put = app
        .call(
            "PUT",
            "/api/v1/receptionist",
            Auth::Bearer(&tenant.admin_token),
            Some(settings),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assign(app, id, number).await;
    tenant
}

async fn add_knowledge(app: &TestApp, tenant: &TestTenant, question: &str, answer: &str) -> String {
    let added = app
        .post(
            "/api/v1/receptionist/knowledge",
            &tenant.admin_token,
            json!({ "question": question, "answer": answer }),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    added.body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_call_is_answered_by_knowledge_scenarios_urgency_and_fallback_in_order() {
    let app = app().await;
    let a = plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing").await;
    add_knowledge(
        &app,
        &a,
        "Do you offer senior discounts?",
        "Yes, seniors get ten percent off at {company_name}.",
    )
    .await;

    let greeting = said(
        &webhook(
            &app,
            "/twilio/voice",
            &params("CA1", A_NUMBER, &[("CallStatus", "ringing")]),
        )
        .await,
    );
    assert_eq!(
        greeting.text,
        "Thank you for calling Joe's Plumbing, this is Sam. What can we fix for you today?"
    );
    assert_eq!(greeting.next.as_deref(), Some("/twilio/gather?turn=1"));

    let knowledge = say(
        &app,
        "CA1",
        A_NUMBER,
        1,
        "Um, do you offer any senior discounts?",
    )
    .await;
    assert_eq!(
        knowledge.text,
        "Yes, seniors get ten percent off at Joe's Plumbing."
    );
    assert_eq!(knowledge.next.as_deref(), Some("/twilio/gather?turn=2"));

    let scenario = say(&app, "CA1", A_NUMBER, 2, "uh how much is a service call").await;
    assert!(
        scenario.text.starts_with("Our service call is $125"),
        "{}",
        scenario.text
    );

    let fallback = say(&app, "CA1", A_NUMBER, 3, "What is the meaning of life?").await;
    assert_eq!(fallback.text, "I'll connect you with someone who can help.");
    assert_eq!(fallback.dial.as_deref(), Some("+12395550100"));

    // A second call: urgency escalates at once; goodbye hangs up.
    say_hello(&app, "CA2", A_NUMBER).await;
    let urgent = say(
        &app,
        "CA2",
        A_NUMBER,
        1,
        "My basement is flooding, it's an emergency!",
    )
    .await;
    assert_eq!(urgent.dial.as_deref(), Some("+12395550100"));
    say_hello(&app, "CA3", A_NUMBER).await;
    let bye = say(&app, "CA3", A_NUMBER, 1, "no that's everything, goodbye").await;
    assert!(bye.hangup && bye.next.is_none(), "{bye:?}");

    let ended = webhook(
        &app,
        "/twilio/status",
        &params(
            "CA1",
            A_NUMBER,
            &[("CallStatus", "completed"), ("CallDuration", "42")],
        ),
    )
    .await;
    assert_eq!(ended.status, StatusCode::OK);

    let log = app
        .get("/api/v1/receptionist/calls/CA1", &a.member_token)
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    assert_eq!(log.body["status"], "completed");
    assert_eq!(log.body["duration_seconds"], 42);
    let sources: Vec<&str> = log.body["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["greeting", "knowledge", "scenario", "fallback"]);
    assert_eq!(log.body["turns"][2]["matched"], "service_price");
    let calls = app.get("/api/v1/receptionist/calls", &a.member_token).await;
    assert_eq!(calls.body.as_array().unwrap().len(), 3);
}

pub(crate) async fn say_hello(app: &TestApp, call_sid: &str, to: &str) -> Said {
    said(
        &webhook(
            app,
            "/twilio/voice",
            &params(call_sid, to, &[("CallStatus", "ringing")]),
        )
        .await,
    )
}

#[tokio::test]
async fn signatures_are_checked_before_anything_else() {
    let app = app().await;
    plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing").await;
    let path = "/twilio/voice";
    let sent = params("CA9", A_NUMBER, &[("CallStatus", "ringing")]);
    let url = format!("{PUBLIC}{path}");
    let good = signature(PLATFORM_TOKEN, &url, &sent);

    let refused = |response: Response, why: &str| {
        assert_eq!(
            response.status,
            StatusCode::FORBIDDEN,
            "{why}: {}",
            response.text
        );
        assert_eq!(response.code(), "invalid_signature", "{why}");
    };
    refused(post_signed(&app, path, &sent, None).await, "missing header");
    refused(
        post_signed(
            &app,
            path,
            &sent,
            Some(signature("wrong-token", &url, &sent)),
        )
        .await,
        "wrong token",
    );
    let http = url.replacen("https://", "http://", 1);
    refused(
        post_signed(
            &app,
            path,
            &sent,
            Some(signature(PLATFORM_TOKEN, &http, &sent)),
        )
        .await,
        "http/https mismatch",
    );
    let mut tampered = sent.clone();
    tampered.iter_mut().find(|(k, _)| k == "From").unwrap().1 = "+19995550000".into();
    refused(
        post_signed(&app, path, &tampered, Some(good.clone())).await,
        "tampered param",
    );
    let mut added = sent.clone();
    added.push(("Digits".into(), "1".into()));
    refused(
        post_signed(&app, path, &added, Some(good.clone())).await,
        "added param",
    );
    refused(
        post_signed(&app, path, &sent[1..], Some(good.clone())).await,
        "dropped param",
    );
    // Nothing was stored by any refused request.
    assert_eq!(app.count_rows("live_calls", "tenant-a").await, 0);

    let ok = post_signed(&app, path, &sent, Some(good)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(app.count_rows("live_calls", "tenant-a").await, 1);
}

#[tokio::test]
async fn a_tenant_credential_replaces_the_platform_token_and_pins_the_account() {
    let app = app().await;
    let a = plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing").await;
    let stored = app
        .call(
            "PUT",
            "/api/v1/credentials/twilio",
            Auth::Bearer(&a.admin_token),
            Some(json!({ "auth_token": "tenant-a-token", "account_sid": "AC_TENANT_A" })),
        )
        .await;
    assert!(stored.status.is_success(), "{}", stored.text);
    let path = "/twilio/voice";
    let url = format!("{PUBLIC}{path}");
    let mut sent = params("CA5", A_NUMBER, &[]);
    // The platform's token no longer proves calls to A's number.
    let platform_signed = post_signed(
        &app,
        path,
        &sent,
        Some(signature(PLATFORM_TOKEN, &url, &sent)),
    )
    .await;
    assert_eq!(platform_signed.status, StatusCode::FORBIDDEN);
    // A's token with another account's AccountSid is refused too.
    let wrong_account = post_signed(
        &app,
        path,
        &sent,
        Some(signature("tenant-a-token", &url, &sent)),
    )
    .await;
    assert_eq!(wrong_account.status, StatusCode::FORBIDDEN);
    sent.iter_mut().find(|(k, _)| k == "AccountSid").unwrap().1 = "AC_TENANT_A".into();
    let ok = post_signed(
        &app,
        path,
        &sent,
        Some(signature("tenant-a-token", &url, &sent)),
    )
    .await;
    assert_eq!(said(&ok).next.as_deref(), Some("/twilio/gather?turn=1"));
}

#[tokio::test]
async fn unknown_numbers_hear_a_polite_generic_message() {
    let app = app().await;
    let unknown = said(&webhook(&app, "/twilio/voice", &params("CA7", "+18005559999", &[])).await);
    assert!(
        unknown.text.starts_with("Thank you for calling."),
        "{}",
        unknown.text
    );
    assert!(unknown.hangup && unknown.next.is_none());
    // A number with a tenant that has not set up its receptionist says the same.
    app.tenant("tenant-c").await;
    assign(&app, "tenant-c", "+18005550303").await;
    let unconfigured =
        said(&webhook(&app, "/twilio/voice", &params("CA8", "+18005550303", &[])).await);
    assert_eq!(unconfigured.text, unknown.text);
    // So does a configured tenant while it is suspended.
    plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing").await;
    let suspended = app
        .post(
            "/api/v1/platform/tenants/tenant-a/suspend",
            &app.platform_token,
            json!({}),
        )
        .await;
    assert_eq!(suspended.status, StatusCode::OK, "{}", suspended.text);
    let paused = said(&webhook(&app, "/twilio/voice", &params("CA9", A_NUMBER, &[])).await);
    assert_eq!(paused.text, unknown.text);
    assert_eq!(app.count_rows("live_calls", "tenant-a").await, 0);
}

#[tokio::test]
async fn duplicate_deliveries_and_a_restart_never_duplicate_turns() {
    let mut app = app().await;
    let a = plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing").await;
    let voice = params("CA1", A_NUMBER, &[]);
    let first = webhook(&app, "/twilio/voice", &voice).await;
    let again = webhook(&app, "/twilio/voice", &voice).await;
    assert_eq!(first.text, again.text);
    // Silence asks again for the same turn and stores nothing.
    let silence = say(&app, "CA1", A_NUMBER, 1, "  ").await;
    assert_eq!(
        silence.text,
        "Sorry, I didn't catch that. Could you say it again?"
    );
    assert_eq!(silence.next.as_deref(), Some("/twilio/gather?turn=1"));
    assert_eq!(app.count_rows("live_turns", "tenant-a").await, 1);
    let one = say(&app, "CA1", A_NUMBER, 1, "my kitchen drain is clogged").await;
    let retried = say(&app, "CA1", A_NUMBER, 1, "my kitchen drain is clogged").await;
    assert_eq!(one, retried);
    // A retry whose speech differs still replays the stored turn: it is the same delivery.
    let replay = say(&app, "CA1", A_NUMBER, 1, "something else").await;
    assert_eq!(one, replay);
    assert_eq!(app.count_rows("live_turns", "tenant-a").await, 2);

    app.restart();
    assert!(app.receptionist.cached_tenants().is_empty());
    let after = say(&app, "CA1", A_NUMBER, 2, "how much is a service call").await;
    assert!(
        after.text.starts_with("Our service call is $125"),
        "{}",
        after.text
    );
    assert_eq!(after.next.as_deref(), Some("/twilio/gather?turn=3"));
    let status = params(
        "CA1",
        A_NUMBER,
        &[("CallStatus", "completed"), ("CallDuration", "30")],
    );
    webhook(&app, "/twilio/status", &status).await;
    webhook(&app, "/twilio/status", &status).await;
    let log = app
        .get("/api/v1/receptionist/calls/CA1", &a.admin_token)
        .await;
    assert_eq!(log.body["turns"].as_array().unwrap().len(), 3);
    assert_eq!(app.count_rows("live_calls", "tenant-a").await, 1);
}

#[tokio::test]
async fn two_tenants_keep_their_callers_knowledge_and_cache_apart() {
    let app = app().await;
    let a = plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing").await;
    let b = plumber(&app, "tenant-b", B_NUMBER, "Smith's HVAC").await;
    let secret = add_knowledge(
        &app,
        &a,
        "Where are you located?",
        "We are at 123 Main St, Fort Myers.",
    )
    .await;

    // The same caller, the same CallSid shape, two tenants: two calls, two answers.
    say_hello(&app, "CA1", A_NUMBER).await;
    let b_greeting = say_hello(&app, "CA1", B_NUMBER).await;
    assert!(b_greeting.text.contains("Smith's HVAC"));
    let a_answer = say(&app, "CA1", A_NUMBER, 1, "Where are you located?").await;
    assert_eq!(a_answer.text, "We are at 123 Main St, Fort Myers.");
    let b_answer = say(&app, "CA1", B_NUMBER, 1, "Where are you located?").await;
    assert!(
        !b_answer.text.contains("Main St"),
        "B's caller heard A's knowledge: {}",
        b_answer.text
    );
    assert_eq!(app.count_rows("live_calls", "tenant-a").await, 1);
    assert_eq!(app.count_rows("live_calls", "tenant-b").await, 1);
    let cached: Vec<String> = app
        .receptionist
        .cached_tenants()
        .iter()
        .map(|t| t.to_string())
        .collect();
    assert_eq!(cached, ["tenant-a", "tenant-b"]);

    // B's staff cannot see or touch A's knowledge or calls; members cannot write.
    let b_log = app
        .get("/api/v1/receptionist/knowledge", &b.admin_token)
        .await;
    assert_eq!(b_log.body, json!([]));
    let deleted = app
        .call(
            "DELETE",
            &format!("/api/v1/receptionist/knowledge/{secret}"),
            Auth::Bearer(&b.admin_token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND);
    let b_reads_a_call = app
        .get("/api/v1/receptionist/calls/CA1", &b.admin_token)
        .await;
    let turns = b_reads_a_call.body["turns"].as_array().unwrap();
    assert!(
        turns
            .iter()
            .all(|t| !t["reply"].as_str().unwrap().contains("Main St"))
    );
    let member_write = app
        .post(
            "/api/v1/receptionist/knowledge",
            &a.member_token,
            json!({ "question": "q", "answer": "a" }),
        )
        .await;
    assert_eq!(member_write.status, StatusCode::FORBIDDEN);
    let member_put = app
        .call(
            "PATCH",
            "/api/v1/receptionist/variables",
            Auth::Bearer(&a.member_token),
            Some(json!({ "company_name": "x" })),
        )
        .await;
    assert_eq!(member_put.status, StatusCode::FORBIDDEN);
    // A number another tenant owns cannot be assigned.
    let taken = app
        .call(
            "PUT",
            &format!("/api/v1/platform/tenants/tenant-b/phone-numbers/{A_NUMBER}"),
            Auth::Bearer(&app.platform_token),
            None,
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    // Tenant routes need a tenant: the platform token is refused.
    let platform = app.get("/api/v1/receptionist", &app.platform_token).await;
    assert_eq!(platform.status, StatusCode::FORBIDDEN, "{}", platform.text);
}

#[tokio::test]
async fn settings_are_validated_readiness_lists_what_is_missing_and_templates_sync_on_request() {
    let app = app().await;
    let a = app.tenant("tenant-a").await;
    let none = app.get("/api/v1/receptionist", &a.admin_token).await;
    assert_eq!(
        (none.status, none.code()),
        (StatusCode::NOT_FOUND, "not_configured")
    );
    let ready = app
        .get("/api/v1/receptionist/readiness", &a.member_token)
        .await;
    assert_eq!(ready.body["ready"], false);

    let cloned = app
        .post(
            "/api/v1/receptionist/clone",
            &a.admin_token,
            json!({ "template_id": "insurance-agency" }),
        )
        .await;
    assert_eq!(cloned.status, StatusCode::CREATED, "{}", cloned.text);
    let again = app
        .post(
            "/api/v1/receptionist/clone",
            &a.admin_token,
            json!({ "template_id": "insurance-agency" }),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "already_configured")
    );
    let missing = app
        .post(
            "/api/v1/receptionist/clone",
            &a.admin_token,
            json!({ "template_id": "no-such" }),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let ready = app
        .get("/api/v1/receptionist/readiness", &a.member_token)
        .await;
    let failed: Vec<&str> = ready.body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        [
            "required_variables",
            "greeting",
            "phone_number",
            "knowledge",
            "escalation_number"
        ]
    );
    assert!(
        ready.body["checks"][1]["message"]
            .as_str()
            .unwrap()
            .contains("claims_phone")
    );

    // Every problem listed; nothing saved.
    let mut bad = cloned.body["settings"].clone();
    bad["greeting"] = json!("");
    bad["escalation_number"] = json!("555-0100");
    bad["variables"] = json!({ "not_defined": "x" });
    bad["cloned_from"]["version"] = json!(7);
    let refused = app
        .call(
            "PUT",
            "/api/v1/receptionist",
            Auth::Bearer(&a.admin_token),
            Some(bad),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    let mut bad = cloned.body["settings"].clone();
    bad["greeting"] = json!("");
    bad["escalation_number"] = json!("555-0100");
    bad["variables"] = json!({ "not_defined": "x" });
    let refused = app
        .call(
            "PUT",
            "/api/v1/receptionist",
            Auth::Bearer(&a.admin_token),
            Some(bad),
        )
        .await;
    assert_eq!(
        refused.body["error"]["problems"].as_array().unwrap().len(),
        3,
        "{}",
        refused.text
    );
    let unparsable = app
        .call(
            "PUT",
            "/api/v1/receptionist",
            Auth::Bearer(&a.admin_token),
            Some(json!({ "greeting": 1 })),
        )
        .await;
    assert_eq!(unparsable.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unchanged = app.get("/api/v1/receptionist", &a.admin_token).await;
    assert_eq!(unchanged.body["revision"], 1);

    // The tenant customises; the platform publishes v2; the tenant's copy does not move until sync.
    let mut custom = unchanged.body["settings"].clone();
    custom["filler_words"]["custom"] = json!(["y'all"]);
    custom["variables"] = json!({ "company_name": "Peterson Insurance" });
    let saved = app
        .call(
            "PUT",
            "/api/v1/receptionist",
            Auth::Bearer(&a.admin_token),
            Some(custom),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    let mut v2: Value = app
        .get("/api/v1/templates/insurance-agency", &a.admin_token)
        .await
        .body;
    v2["version"] = json!(2);
    v2["filler_words"]
        .as_array_mut()
        .unwrap()
        .push(json!("anyhow"));
    let published = app
        .call(
            "POST",
            "/api/v1/platform/templates",
            Auth::Bearer(&app.platform_token),
            Some(v2.clone()),
        )
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.text);
    let republish = app
        .call(
            "POST",
            "/api/v1/platform/templates",
            Auth::Bearer(&app.platform_token),
            Some(v2),
        )
        .await;
    assert_eq!(republish.status, StatusCode::CONFLICT);
    let tenant_publish = app
        .call(
            "POST",
            "/api/v1/platform/templates",
            Auth::Bearer(&a.admin_token),
            Some(json!({})),
        )
        .await;
    assert_eq!(tenant_publish.status, StatusCode::FORBIDDEN);

    let view = app.get("/api/v1/receptionist", &a.admin_token).await;
    assert_eq!(view.body["newer_template_version"], 2);
    assert_eq!(view.body["settings"]["cloned_from"]["version"], 1);
    assert!(
        !view.body["settings"]["filler_words"]["inherited"]
            .as_array()
            .unwrap()
            .contains(&json!("anyhow"))
    );
    let synced = app
        .post("/api/v1/receptionist/sync", &a.admin_token, json!({}))
        .await;
    assert_eq!(synced.status, StatusCode::OK, "{}", synced.text);
    assert_eq!(synced.body["settings"]["cloned_from"]["version"], 2);
    assert_eq!(synced.body["newer_template_version"], Value::Null);
    assert!(
        synced.body["settings"]["filler_words"]["inherited"]
            .as_array()
            .unwrap()
            .contains(&json!("anyhow"))
    );
    assert_eq!(
        synced.body["settings"]["filler_words"]["custom"],
        json!(["y'all"])
    );
    assert_eq!(
        synced.body["settings"]["variables"]["company_name"],
        "Peterson Insurance"
    );
}

#[tokio::test]
async fn onboarding_with_an_industry_template_clones_it() {
    let app = app().await;
    let created = app
        .post("/api/v1/platform/tenants", &app.platform_token, json!({
            "id": "tenant-r", "name": "R", "admin_email": "a@r.test", "admin_password": crate::harness::PASSWORD,
            "industry_template": "real-estate-agency",
        }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let scope_audit = app.count_rows("audit_log", "tenant-r").await;
    assert_eq!(scope_audit, 1, "the clone is an audited platform act");
    let (cookie, csrf) = app
        .login(Some("tenant-r"), "a@r.test", crate::harness::PASSWORD)
        .await
        .unwrap();
    let view = app
        .call(
            "GET",
            "/api/v1/receptionist",
            Auth::Session {
                cookie: &cookie,
                csrf: Some(&csrf),
            },
            None,
        )
        .await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.text);
    assert_eq!(
        view.body["settings"]["cloned_from"]["template_id"],
        "real-estate-agency"
    );
    let unknown = app
        .post("/api/v1/platform/tenants", &app.platform_token, json!({
            "id": "tenant-s", "name": "S", "admin_email": "a@s.test", "industry_template": "no-such",
        }))
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::BAD_REQUEST, "unknown_template")
    );
    assert_eq!(
        app.get("/api/v1/platform/tenants/tenant-s", &app.platform_token)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "nothing was created"
    );
}

#[tokio::test]
async fn twiml_of_a_greeting_and_a_transfer() {
    let app = app().await;
    plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing & Heating").await;
    let greeting = webhook(&app, "/twilio/voice", &params("CA1", A_NUMBER, &[])).await;
    insta::assert_snapshot!("twiml_greeting", greeting.text);
    let transfer = webhook(
        &app,
        "/twilio/gather?turn=1",
        &params(
            "CA1",
            A_NUMBER,
            &[("SpeechResult", "I need to speak to a real person")],
        ),
    )
    .await;
    insta::assert_snapshot!("twiml_transfer", transfer.text);
}

/// SPEC §6 "after the call": a completed call becomes a `live` call record that the pipeline
/// takes to `published` without speech-to-text, and its conversation goes into the caller's
/// memory at that tenant only — each once, however often Twilio repeats the status callback.
#[tokio::test]
async fn a_completed_call_reaches_the_pipeline_and_the_callers_memory_once() {
    use crate::pipeline::{pipeline, support};
    let Some(data) = support::models_data_dir() else {
        return;
    };
    let files = switchboard_engines::models::ModelFiles::under(&data);
    let app = app().await;
    let a = plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing").await;
    let b = plumber(&app, "tenant-b", B_NUMBER, "Bob's Heating").await;

    say_hello(&app, "CA-LIVE", A_NUMBER).await;
    say(
        &app,
        "CA-LIVE",
        A_NUMBER,
        1,
        "Hi, this is Maria Lopez. Our gas furnace is making a banging noise and I need someone to look at it.",
    )
    .await;
    say(&app, "CA-LIVE", A_NUMBER, 2, "How much is a service call?").await;
    let status = params(
        "CA-LIVE",
        A_NUMBER,
        &[("CallStatus", "completed"), ("CallDuration", "40")],
    );
    for _ in 0..3 {
        assert_eq!(
            webhook(&app, "/twilio/status", &status).await.status,
            StatusCode::OK
        );
    }
    // One call record, source live, with its two jobs.
    let listed = app.get("/api/v1/calls", &a.member_token).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let calls = listed.body.as_array().unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["source"], "live");
    let call_id = calls[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.count_rows("jobs", "tenant-a").await, 2);

    // No whisper model is given: a live call must not need one.
    let pipeline = pipeline(
        &app,
        "/nonexistent/ggml.bin".into(),
        Some(files.minilm_dir()),
    );
    assert_eq!(pipeline.run_until_idle("live-test").await.unwrap(), 5);
    let detail = app
        .get(&format!("/api/v1/calls/{call_id}"), &a.member_token)
        .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert_eq!(detail.body["status"], "published", "{}", detail.text);
    let record = &detail.body["record"];
    let lines: Vec<(String, String)> = record["transcript"]
        .as_array()
        .unwrap_or_else(|| panic!("{record}"))
        .iter()
        .map(|u| {
            (
                u["speaker"].as_str().unwrap().to_owned(),
                u["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(lines[0].0, "agent");
    assert!(
        lines[0]
            .1
            .starts_with("Thank you for calling Joe's Plumbing")
    );
    assert_eq!(lines[1].0, "customer");
    assert!(lines[1].1.starts_with("Hi, this is Maria Lopez."));
    assert_eq!(lines[4].0, "agent");
    assert!(
        lines[4].1.starts_with("Our service call is $125"),
        "{lines:?}"
    );
    assert_eq!(record["call"]["direction"], "inbound", "{}", record["call"]);
    assert_eq!(record["call"]["agent_id"], "ai-receptionist");
    assert_eq!(record["call"]["calling_party"], CALLER);
    assert_eq!(record["call"]["duration_seconds"], 40.0);
    assert_eq!(
        record["provenance"]["asr"]["engine"], "twilio-gather",
        "{}",
        record["provenance"]
    );
    let audio = app
        .get(&format!("/api/v1/calls/{call_id}/audio"), &a.member_token)
        .await;
    assert_eq!(audio.status, StatusCode::NOT_FOUND);
    assert_eq!(audio.code(), "no_recording");

    // Caller memory at tenant A, keyed by the CallSid.
    let profile = app
        .get(&format!("/v2/profile/{CALLER}"), &a.member_token)
        .await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.text);
    assert_eq!(profile.body["fields"]["name"], "Maria Lopez");
    assert_eq!(profile.body["fields"]["equipment"], "gas furnace");
    assert_eq!(profile.body["quick_bio"], "Maria Lopez | gas furnace");
    let summaries = app
        .get(&format!("/v2/summaries/{CALLER}"), &a.member_token)
        .await;
    let summaries = summaries.body["summaries"].as_array().unwrap().clone();
    assert_eq!(summaries.len(), 1);
    assert_eq!(summaries[0]["call_id"], "CA-LIVE");
    assert_eq!(
        summaries[0]["thread_id"],
        "customer_tenant-a_user_14155550199"
    );
    assert_eq!(
        summaries[0]["topics"],
        json!(["book_service", "service_price"])
    );
    let context = app
        .post(
            "/v2/context/enriched",
            &a.member_token,
            json!({ "user_id": CALLER, "query": "furnace noise" }),
        )
        .await;
    assert_eq!(context.body["known_caller"], true);
    assert_eq!(
        context.body["relevant_memories"][0]["content"],
        "Our gas furnace is making a banging noise and I need someone to look at it.",
        "{}",
        context.body
    );
    assert!(
        context.body["relevant_memories"][0]["similarity"]
            .as_f64()
            .unwrap()
            > 0.5
    );

    // Another delivery after all that adds nothing.
    webhook(&app, "/twilio/status", &status).await;
    assert_eq!(pipeline.run_until_idle("live-test").await.unwrap(), 0);
    assert_eq!(app.count_rows("calls", "tenant-a").await, 1);
    assert_eq!(app.count_rows("call_summaries", "tenant-a").await, 1);

    // The same caller at tenant B: B's memory starts empty and stays B's.
    let at_b = app
        .post(
            "/v2/context/enriched",
            &b.member_token,
            json!({ "user_id": CALLER }),
        )
        .await;
    assert_eq!(at_b.body["known_caller"], false);
    say_hello(&app, "CA-B", B_NUMBER).await;
    say(
        &app,
        "CA-B",
        B_NUMBER,
        1,
        "I'm Maria, my heat pump is leaking water.",
    )
    .await;
    let status_b = params(
        "CA-B",
        B_NUMBER,
        &[("CallStatus", "completed"), ("CallDuration", "20")],
    );
    webhook(&app, "/twilio/status", &status_b).await;
    pipeline.run_until_idle("live-test").await.unwrap();
    let b_profile = app
        .get(&format!("/v2/profile/{CALLER}"), &b.member_token)
        .await;
    assert_eq!(b_profile.body["calls"], 1, "{}", b_profile.text);
    assert_eq!(b_profile.body["fields"]["equipment"], "heat pump");
    // What B heard, not what A knows ("Maria Lopez").
    assert_eq!(b_profile.body["fields"]["name"], "Maria");
    let a_profile = app
        .get(&format!("/v2/profile/{CALLER}"), &a.member_token)
        .await;
    assert_eq!(a_profile.body, profile.body);
}

/// SPEC §6 "caller context": when the tenant's language model answers, its system prompt holds
/// what this tenant's memory knows of the caller (quick bio, earlier calls, memories).
#[tokio::test]
async fn the_language_model_is_told_what_memory_knows_of_the_caller() {
    use std::sync::{Arc, Mutex};
    use switchboard_engines::VaderSentiment;
    use switchboard_engines::llm::{HttpLlmConfig, LanguageModel, OpenAiCompatible};
    use switchboard_pipeline::{Engines, LazyEngine};

    let prompts: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = prompts.clone();
    let fake = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                let system = body["messages"][0]["content"].as_str().unwrap_or("").to_owned();
                seen.lock().unwrap().push(system);
                axum::Json(json!({
                    "choices": [{"message": {"role": "assistant", "content": "We sponsor the Cape Coral little league every spring."}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5}
                }))
            }
        }),
    );
    let base = format!("{}/v1", crate::pipeline::support::serve_on_loopback(fake));
    let config = HttpLlmConfig::new(base, "test-model", None);
    let engines = Arc::new(Engines {
        asr: LazyEngine::new(|| Err("no speech-to-text in this test".into())),
        sentiment: Arc::new(VaderSentiment::new()),
        rubric_vectors: Default::default(),
        embedder: LazyEngine::new(|| Err("no embedding model in this test".into())),
        voices: LazyEngine::new(|| Err("no voice encoder in this test".into())),
        language_model: Some(LazyEngine::new(move || {
            OpenAiCompatible::new(config.clone())
                .map(|m| Arc::new(m) as Arc<dyn LanguageModel>)
                .map_err(|e| e.to_string())
        })),
    });
    let app = TestApp::builder()
        .public_url(PUBLIC)
        .platform_twilio(PLATFORM_SID, PLATFORM_TOKEN)
        .engines(engines)
        .build()
        .await;
    let a = plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing").await;
    let mut settings =
        app.get("/api/v1/receptionist", &a.admin_token).await.body["settings"].clone();
    settings["use_language_model"] = json!(true);
    let put = app
        .call(
            "PUT",
            "/api/v1/receptionist",
            Auth::Bearer(&a.admin_token),
            Some(settings),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let processed = app
        .post(
            "/v2/process-call",
            &a.member_token,
            json!({ "user_id": CALLER, "call_id": "CA-EARLIER", "conversation_history": [
                { "role": "user", "content": "This is Maria Lopez, my water heater is leaking." },
                { "role": "assistant", "content": "A technician will come tomorrow at nine." }
            ] }),
        )
        .await;
    assert_eq!(processed.status, StatusCode::CREATED, "{}", processed.text);

    say_hello(&app, "CA-LLM", A_NUMBER).await;
    let reply = say(
        &app,
        "CA-LLM",
        A_NUMBER,
        1,
        "Do you sponsor any local sports teams?",
    )
    .await;
    assert_eq!(
        reply.text,
        "We sponsor the Cape Coral little league every spring."
    );
    let prompts = prompts.lock().unwrap().clone();
    assert_eq!(prompts.len(), 1);
    let system = &prompts[0];
    assert!(system.contains("About the caller:"), "{system}");
    assert!(
        system.contains("Caller: Maria Lopez | water heater"),
        "{system}"
    );
    assert!(
        system
            .contains("Earlier call: Caller: \"This is Maria Lopez, my water heater is leaking.\""),
        "{system}"
    );
    assert!(
        system.contains("Known: This is Maria Lopez, my water heater is leaking."),
        "{system}"
    );
}

/// What the fake Messages API received: (account sid, Authorization header, form fields).
type Received = (String, String, Vec<(String, String)>);

/// A loopback server speaking Twilio's Messages API. It records each request and answers from
/// `script` in order (status, JSON body), then 201 with a message sid, as Twilio does.
#[derive(Clone)]
struct FakeTwilio {
    url: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

const MESSAGE_SID: &str = "SM00000000000000000000000000000001";

impl FakeTwilio {
    fn start(script: Vec<(StatusCode, serde_json::Value)>) -> FakeTwilio {
        use axum::extract::{Form, Path, State};
        type Shared = (
            std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
            std::sync::Arc<
                std::sync::Mutex<std::collections::VecDeque<(StatusCode, serde_json::Value)>>,
            >,
        );
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let shared: Shared = (
            received.clone(),
            std::sync::Arc::new(std::sync::Mutex::new(script.into())),
        );
        let router = axum::Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                axum::routing::post(
                    |State((received, script)): State<Shared>,
                     Path(sid): Path<String>,
                     headers: http::HeaderMap,
                     Form(form): Form<Vec<(String, String)>>| async move {
                        let auth = headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        received.lock().unwrap().push((sid, auth, form));
                        let (status, body) = script.lock().unwrap().pop_front().unwrap_or((
                            StatusCode::CREATED,
                            json!({"sid": MESSAGE_SID, "status": "queued"}),
                        ));
                        (status, axum::Json(body))
                    },
                ),
            )
            .with_state(shared);
        FakeTwilio {
            url: crate::pipeline::support::serve_on_loopback(router),
            received,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn form_field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Gives the tenant a scenario promising a text, has a caller ask for it on `call_sid`, and
/// completes the call (the status callback delivered twice).
async fn call_asking_for_a_text(app: &TestApp, tenant: &TestTenant, call_sid: &str) {
    let view = app.get("/api/v1/receptionist", &tenant.admin_token).await;
    let mut settings = view.body["settings"].clone();
    let scenarios = settings["scenarios"].as_array_mut().unwrap();
    if !scenarios.iter().any(|s| s["id"] == "text_prices") {
        scenarios.push(json!({
            "id": "text_prices", "category": "follow_up", "triggers": ["text me the price"],
            "reply": "I will text you our prices after this call.", "action": "send_sms",
            "sms": "{company_name}: a service call is {service_call_price}. We are open {business_hours}. Ask for {nobody_set_this}."
        }));
        let put = app
            .call(
                "PUT",
                "/api/v1/receptionist",
                Auth::Bearer(&tenant.admin_token),
                Some(settings),
            )
            .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    }
    say_hello(app, call_sid, A_NUMBER).await;
    let said = say(
        app,
        call_sid,
        A_NUMBER,
        1,
        "Could you text me the price please?",
    )
    .await;
    assert_eq!(said.text, "I will text you our prices after this call.");
    let status = params(
        call_sid,
        A_NUMBER,
        &[("CallStatus", "completed"), ("CallDuration", "20")],
    );
    for _ in 0..2 {
        assert_eq!(
            webhook(app, "/twilio/status", &status).await.status,
            StatusCode::OK
        );
    }
}

/// A pipeline whose worker sends messages through `twilio`, from the platform's account unless
/// the tenant has its own.
fn messaging_pipeline(
    app: &TestApp,
    twilio: &FakeTwilio,
) -> Option<switchboard_pipeline::worker::Pipeline> {
    let data = crate::pipeline::support::models_data_dir()?;
    let files = switchboard_engines::models::ModelFiles::under(&data);
    let mut pipeline = crate::pipeline::pipeline(
        app,
        "/nonexistent/ggml.bin".into(),
        Some(files.minilm_dir()),
    );
    pipeline.messaging = Some(switchboard_pipeline::sms::Messaging::new(
        app.keyring.clone(),
        Some(switchboard_store::auth::twilio::PlatformTwilio {
            account_sid: Some(PLATFORM_SID.into()),
            auth_token: PLATFORM_TOKEN.to_owned().into(),
        }),
        &twilio.url,
    ));
    Some(pipeline)
}

async fn call_log(app: &TestApp, tenant: &TestTenant, call_sid: &str) -> serde_json::Value {
    let log = app
        .get(
            &format!("/api/v1/receptionist/calls/{call_sid}"),
            &tenant.member_token,
        )
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    log.body
}

/// An SMS follow-up resent with `token`'s credential.
async fn resend_text(app: &TestApp, call_sid: &str, token: &str) -> crate::harness::Response {
    app.call(
        "POST",
        &format!("/api/v1/receptionist/calls/{call_sid}/sms/retry"),
        Auth::Bearer(token),
        None,
    )
    .await
}

#[tokio::test]
async fn a_promised_text_is_sent_through_twilio_once_after_the_call() {
    let app = app().await;
    let a = plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing").await;
    let b = plumber(&app, "tenant-b", B_NUMBER, "Bob's Heating").await;
    let twilio = FakeTwilio::start(Vec::new());
    let Some(pipeline) = messaging_pipeline(&app, &twilio) else {
        return;
    };
    call_asking_for_a_text(&app, &a, "CA-SMS").await;
    assert_eq!(app.count_rows("sms_messages", "tenant-a").await, 1);
    assert_eq!(
        call_log(&app, &a, "CA-SMS").await["sms"]["status"],
        "queued"
    );

    // transcribe, enrich, analyse, publish, remember, sms.
    assert_eq!(pipeline.run_until_idle("sms-test").await.unwrap(), 6);
    assert_eq!(pipeline.run_until_idle("sms-test").await.unwrap(), 0);
    let received = twilio.received();
    assert_eq!(received.len(), 1, "one message, sent once: {received:?}");
    let (sid, auth, form) = &received[0];
    assert_eq!(sid, PLATFORM_SID);
    assert_eq!(auth, &basic_auth(PLATFORM_SID, PLATFORM_TOKEN));
    assert_eq!(form_field(form, "To"), CALLER);
    assert_eq!(form_field(form, "From"), A_NUMBER);
    // Filled from the tenant's variables; the sentence needing an unset one is left out.
    assert_eq!(
        form_field(form, "Body"),
        "Joe's Plumbing: a service call is $125. We are open Monday to Friday, 8 to 5."
    );
    let log = call_log(&app, &a, "CA-SMS").await;
    assert_eq!(log["sms"]["status"], "sent", "{log}");
    assert_eq!(log["sms"]["provider_sid"], MESSAGE_SID);
    assert_eq!(log["sms"]["to_number"], CALLER);
    assert!(log["sms"]["error"].is_null(), "{log}");

    // Another tenant sees neither the call nor its message, and cannot resend it.
    let other = app
        .get("/api/v1/receptionist/calls/CA-SMS", &b.member_token)
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let retry = resend_text(&app, "CA-SMS", &b.admin_token).await;
    assert_eq!(retry.status, StatusCode::NOT_FOUND, "{}", retry.text);
    assert_eq!(app.count_rows("sms_messages", "tenant-b").await, 0);
    // A message that was sent is not sent again.
    let retry = resend_text(&app, "CA-SMS", &a.admin_token).await;
    assert_eq!(retry.status, StatusCode::CONFLICT, "{}", retry.text);
    assert_eq!(retry.body["error"]["code"], "not_failed", "{}", retry.text);
}

#[tokio::test]
async fn a_refused_text_fails_with_twilios_reason_and_an_admin_can_send_it_again() {
    let app = app().await;
    let a = plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing").await;
    // Twilio's answer to an unreachable number: 400 with its error code and message.
    let twilio = FakeTwilio::start(vec![(
        StatusCode::BAD_REQUEST,
        json!({"code": 21211, "message": "The 'To' number +14155550199 is not a valid phone number.",
               "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}),
    )]);
    let Some(pipeline) = messaging_pipeline(&app, &twilio) else {
        return;
    };
    call_asking_for_a_text(&app, &a, "CA-SMS-400").await;
    assert_eq!(pipeline.run_until_idle("sms-test").await.unwrap(), 6);
    assert_eq!(twilio.received().len(), 1, "a refusal is not retried");
    let log = call_log(&app, &a, "CA-SMS-400").await;
    assert_eq!(log["sms"]["status"], "failed", "{log}");
    let error = log["sms"]["error"].as_str().unwrap();
    assert!(
        error.contains("(400)")
            && error.contains("not a valid phone number")
            && error.contains("code 21211"),
        "{error}"
    );
    assert!(!error.contains(PLATFORM_TOKEN), "{error}");
    // The call itself is published: its follow-up failing does not fail it.
    let calls = app.get("/api/v1/calls", &a.member_token).await;
    let call = &calls.body[0];
    assert_eq!(call["status"], "published", "{}", calls.text);
    let detail = app
        .get(
            &format!("/api/v1/calls/{}", call["id"].as_str().unwrap()),
            &a.member_token,
        )
        .await;
    let job = detail.body["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "sms")
        .cloned()
        .unwrap();
    assert_eq!(job["state"], "dead", "{job}");

    // Members cannot resend; an admin can, and it goes out once.
    let retry = resend_text(&app, "CA-SMS-400", &a.member_token).await;
    assert_eq!(retry.status, StatusCode::FORBIDDEN);
    let retry = resend_text(&app, "CA-SMS-400", &a.admin_token).await;
    assert_eq!(retry.status, StatusCode::ACCEPTED, "{}", retry.text);
    assert_eq!(retry.body["status"], "queued");
    assert_eq!(pipeline.run_until_idle("sms-test").await.unwrap(), 1);
    assert_eq!(twilio.received().len(), 2);
    let log = call_log(&app, &a, "CA-SMS-400").await;
    assert_eq!(log["sms"]["status"], "sent", "{log}");
    assert!(log["sms"]["error"].is_null(), "{log}");
}

#[tokio::test]
async fn a_throttled_text_is_retried_from_the_tenants_own_account() {
    let app = app().await;
    let a = plumber(&app, "tenant-a", A_NUMBER, "Joe's Plumbing").await;
    let twilio = FakeTwilio::start(vec![(
        StatusCode::TOO_MANY_REQUESTS,
        json!({"code": 20429, "message": "Too Many Requests", "status": 429}),
    )]);
    let Some(pipeline) = messaging_pipeline(&app, &twilio) else {
        return;
    };
    call_asking_for_a_text(&app, &a, "CA-SMS-429").await;
    // The tenant brings its own account after the call: the message goes out from it.
    let stored = app
        .call(
            "PUT",
            "/api/v1/credentials/twilio",
            Auth::Bearer(&a.admin_token),
            Some(json!({ "auth_token": "tenant-a-token", "account_sid": "AC_TENANT_A" })),
        )
        .await;
    assert!(stored.status.is_success(), "{}", stored.text);
    assert_eq!(pipeline.run_until_idle("sms-test").await.unwrap(), 6);
    let log = call_log(&app, &a, "CA-SMS-429").await;
    assert_eq!(
        log["sms"]["status"], "queued",
        "waiting for its retry: {log}"
    );
    assert!(
        log["sms"]["error"]
            .as_str()
            .unwrap()
            .contains("Too Many Requests"),
        "{log}"
    );
    // The first retry waits out its backoff (2 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while pipeline.run_until_idle("sms-test").await.unwrap() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the throttled message was never retried"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let received = twilio.received();
    assert_eq!(received.len(), 2, "{received:?}");
    for (sid, auth, _) in &received {
        assert_eq!(sid, "AC_TENANT_A");
        assert_eq!(auth, &basic_auth("AC_TENANT_A", "tenant-a-token"));
    }
    let log = call_log(&app, &a, "CA-SMS-429").await;
    assert_eq!(log["sms"]["status"], "sent", "{log}");
}
