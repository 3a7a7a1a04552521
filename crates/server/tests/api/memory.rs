//! The caller-memory API (SPEC §7) through HTTP, on whichever backend the suite runs on: the
//! contract of every endpoint, the missing- and wrong-tenant errors, idempotent processing, and
//! isolation of the same caller number between two tenants.

use http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Auth, TestApp, TestTenant};

const CALLER: &str = "+14155550199";

pub(crate) async fn insurance_tenant(app: &TestApp, id: &str) -> TestTenant {
    let tenant = app.tenant(id).await;
    let cloned = app
        .post(
            "/api/v1/receptionist/clone",
            &tenant.admin_token,
            json!({ "template_id": "insurance-agency" }),
        )
        .await;
    assert_eq!(cloned.status, StatusCode::CREATED, "{}", cloned.text);
    tenant
}

fn first_call() -> Value {
    json!([
        { "role": "assistant", "content": "Thanks for calling Peterson Insurance, this is Samantha." },
        { "role": "user", "content": "Hi, my name is John Smith and I live in Orange County." },
        { "role": "assistant", "content": "Hi John, how can I help?" },
        { "role": "user", "content": "I've been a client since 2020. I have two auto policies and a home policy. My home policy renews in March and I want to raise the coverage." },
        { "role": "assistant", "content": "I'll have an agent call you back today about the coverage." },
        { "role": "user", "content": "Thank you, I appreciate it." }
    ])
}

#[tokio::test]
async fn the_memory_api_keeps_memories_summaries_profiles_and_personality_per_caller() {
    let app = TestApp::new().await;
    let a = insurance_tenant(&app, "mem-a").await;
    let admin = a.admin_token.as_str();
    let member = a.member_token.as_str();

    // Stored directly, in the legacy and the v1 shape.
    let stored = app
        .post(
            "/memory/store",
            member,
            json!({ "customer_id": "mem-a", "user_id": CALLER, "content": "Prefers calls after 5 pm." }),
        )
        .await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.text);
    assert_eq!(stored.body["success"], true);
    assert_eq!(stored.body["error"], Value::Null);
    let legacy_id = stored.body["id"].as_str().unwrap().to_owned();
    let added = app
        .post(
            "/v1/memories",
            member,
            json!({ "user_id": CALLER, "content": "Has a teenage driver joining the auto policy.", "source": "crm" }),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
    assert_eq!(added.body["source"], "crm");
    assert!(added.body.get("embedding").is_none());

    // Processing a conversation: summary, profile with the template's quick bio, memories,
    // personality.
    let processed = app
        .post(
            "/v2/process-call",
            member,
            json!({
                "customer_id": "mem-a",
                "user_id": CALLER,
                "thread_id": "customer_mem-a_user_14155550199",
                "call_id": "CA0001",
                "conversation_history": first_call(),
            }),
        )
        .await;
    assert_eq!(processed.status, StatusCode::CREATED, "{}", processed.text);
    let p = &processed.body;
    assert_eq!(p["already_processed"], false);
    assert_eq!(p["thread_id"], "customer_mem-a_user_14155550199");
    assert_eq!(
        p["summary"]["summary"],
        "Caller: \"Hi, my name is John Smith and I live in Orange County.\" Outcome: I'll have an agent call you back today about the coverage."
    );
    assert_eq!(
        p["profile"]["quick_bio"],
        "John Smith | Orange County | Client since 2020 | 2 Auto + 1 Home"
    );
    assert_eq!(p["profile"]["fields"]["renewal_month"], "March");
    assert_eq!(p["profile"]["calls"], 1);
    let memories: Vec<&str> = p["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert!(
        memories.contains(&"My home policy renews in March and I want to raise the coverage."),
        "{memories:?}"
    );
    assert!(memories.iter().all(|m| !m.ends_with('?')));
    // One courtesy line ("Thank you, I appreciate it.") of three: 0.5 + 0.5 × 1/3.
    assert_eq!(p["personality"]["formality"], 0.667, "{}", p["personality"]);
    assert!(p["personality"]["sentiment"].as_f64().unwrap() > 0.0);
    assert_eq!(p["personality_averages"]["calls"], 1);

    // The same call again (a retried request) changes nothing.
    let summaries_before = app.count_rows("call_summaries", "mem-a").await;
    let memories_before = app.count_rows("memories", "mem-a").await;
    let again = app
        .post(
            "/v2/process-call",
            member,
            json!({ "user_id": CALLER, "call_id": "CA0001", "conversation_history": first_call() }),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.body["already_processed"], true);
    assert_eq!(again.body["summary"], p["summary"]);
    assert_eq!(
        again.body["memories"].as_array().unwrap().len(),
        memories.len()
    );
    assert_eq!(
        app.count_rows("call_summaries", "mem-a").await,
        summaries_before
    );
    assert_eq!(app.count_rows("memories", "mem-a").await, memories_before);
    // Without a call id, the same conversation twice is also one call.
    for expected in [StatusCode::CREATED, StatusCode::OK] {
        let derived = app
            .post(
                "/v2/process-call",
                member,
                json!({ "user_id": CALLER, "conversation_history": [
                    { "role": "user", "content": "Yeah I need a quote for my boat right now!" },
                    { "role": "assistant", "content": "I'll take a message for the team." }
                ], "profile": { "city": "Irvine" } }),
            )
            .await;
        assert_eq!(derived.status, expected, "{}", derived.text);
        assert!(
            derived.body["call_id"]
                .as_str()
                .unwrap()
                .starts_with("conv_")
        );
    }

    // Profile: the explicit city won; calls counted once each.
    let profile = app.get(&format!("/v2/profile/{CALLER}"), member).await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.text);
    assert_eq!(profile.body["calls"], 2);
    assert_eq!(
        profile.body["quick_bio"],
        "John Smith | Irvine | Client since 2020 | 2 Auto + 1 Home"
    );
    let summaries = app.get(&format!("/v2/summaries/{CALLER}"), member).await;
    assert_eq!(summaries.status, StatusCode::OK, "{}", summaries.text);
    assert_eq!(summaries.body["summaries"].as_array().unwrap().len(), 2);
    let personality = app.get(&format!("/v2/personality/{CALLER}"), member).await;
    assert_eq!(personality.status, StatusCode::OK, "{}", personality.text);
    let calls = personality.body["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(personality.body["averages"]["calls"], 2);
    let mean_patience =
        (calls[0]["patience"].as_f64().unwrap() + calls[1]["patience"].as_f64().unwrap()) / 2.0;
    assert!(
        (personality.body["averages"]["patience"].as_f64().unwrap() - mean_patience).abs() < 1e-9
    );
    assert_eq!(
        calls
            .iter()
            .map(|c| c["patience"].as_f64().unwrap())
            .fold(f64::MAX, f64::min),
        0.0,
        "the hurried caller: {calls:?}"
    );

    // Context: the bio, recent summaries, and the memory that matches the query first.
    let context = app
        .post(
            "/v2/context/enriched",
            member,
            json!({ "user_id": CALLER, "query": "when does my home policy renew", "memories": 3 }),
        )
        .await;
    assert_eq!(context.status, StatusCode::OK, "{}", context.text);
    let c = &context.body;
    assert_eq!(c["known_caller"], true);
    assert_eq!(c["quick_bio"], profile.body["quick_bio"]);
    assert_eq!(c["recent_summaries"].as_array().unwrap().len(), 2);
    let relevant = c["relevant_memories"].as_array().unwrap();
    assert_eq!(relevant.len(), 3);
    assert_eq!(
        relevant[0]["content"], "My home policy renews in March and I want to raise the coverage.",
        "{relevant:?}"
    );
    assert!(relevant[0]["score"].as_f64().unwrap() >= relevant[1]["score"].as_f64().unwrap());
    assert_eq!(c["personality"]["calls"], 2);
    let stranger = app
        .post(
            "/v2/context/enriched",
            member,
            json!({ "user_id": "+12125550123" }),
        )
        .await;
    assert_eq!(stranger.status, StatusCode::OK, "{}", stranger.text);
    assert_eq!(stranger.body["known_caller"], false);
    assert_eq!(stranger.body["quick_bio"], "New caller");

    // Listing and deleting (admins only).
    let listed = app
        .get(&format!("/v1/memories/user/{CALLER}?limit=500"), member)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let ids: Vec<&str> = listed.body["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&legacy_id.as_str()));
    let path = format!("/v1/memories/{legacy_id}");
    let refused = app.call("DELETE", &path, Auth::Bearer(member), None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let deleted = app.call("DELETE", &path, Auth::Bearer(admin), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let gone = app.call("DELETE", &path, Auth::Bearer(admin), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.text);
    assert_eq!(
        app.get(&format!("/v2/profile/{}", "+12125550123"), member)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn memory_requests_without_a_tenant_or_naming_another_are_refused_and_bad_input_is_listed() {
    let app = TestApp::new().await;
    let a = insurance_tenant(&app, "mem-a").await;
    let member = a.member_token.as_str();
    let routes: [(&str, String, Option<Value>); 8] = [
        (
            "POST",
            "/memory/store".into(),
            Some(json!({ "user_id": CALLER, "content": "x y z" })),
        ),
        (
            "POST",
            "/v1/memories".into(),
            Some(json!({ "user_id": CALLER, "content": "x y z" })),
        ),
        ("GET", format!("/v1/memories/user/{CALLER}"), None),
        (
            "POST",
            "/v2/context/enriched".into(),
            Some(json!({ "user_id": CALLER })),
        ),
        (
            "POST",
            "/v2/process-call".into(),
            Some(
                json!({ "user_id": CALLER, "conversation_history": [{ "role": "user", "content": "My car is red." }] }),
            ),
        ),
        ("GET", format!("/v2/summaries/{CALLER}"), None),
        ("GET", format!("/v2/profile/{CALLER}"), None),
        ("GET", format!("/v2/personality/{CALLER}"), None),
    ];
    for (method, path, body) in &routes {
        let none = app.call(method, path, Auth::None, body.clone()).await;
        assert_eq!(
            none.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {}",
            none.text
        );
        assert_eq!(none.code(), "tenant_required", "{path}");
        assert!(
            none.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("tenant is required")
        );
        let platform = app
            .call(
                method,
                path,
                Auth::Bearer(&app.platform_token),
                body.clone(),
            )
            .await;
        assert_eq!(
            platform.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            platform.text
        );
        assert_eq!(platform.code(), "tenant_required", "{path}");
        // Naming another tenant, in the body or the query.
        let (path, body) = match body {
            Some(body) => {
                let mut body = body.clone();
                body["customer_id"] = json!("mem-b");
                (path.clone(), Some(body))
            }
            None => (format!("{path}?customer_id=mem-b"), None),
        };
        let other = app.call(method, &path, Auth::Bearer(member), body).await;
        assert_eq!(
            other.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            other.text
        );
        assert_eq!(other.code(), "tenant_mismatch", "{path}");
    }
    assert_eq!(app.count_rows("memories", "mem-a").await, 0);
    assert_eq!(app.count_rows("call_summaries", "mem-a").await, 0);

    let bad_number = app
        .post(
            "/v1/memories",
            member,
            json!({ "user_id": "5551234", "content": "hello there" }),
        )
        .await;
    assert_eq!(
        bad_number.status,
        StatusCode::BAD_REQUEST,
        "{}",
        bad_number.text
    );
    assert_eq!(bad_number.code(), "invalid_user_id");
    let empty = app
        .post(
            "/v1/memories",
            member,
            json!({ "user_id": CALLER, "content": "  ", "source": "" }),
        )
        .await;
    assert_eq!(
        empty.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        empty.text
    );
    assert_eq!(empty.body["error"]["problems"].as_array().unwrap().len(), 2);
    let unknown_field = app
        .post(
            "/v1/memories",
            member,
            json!({ "user_id": CALLER, "content": "ok then", "tenant": "x" }),
        )
        .await;
    assert!(
        unknown_field.status.is_client_error(),
        "{}",
        unknown_field.text
    );
    let bad_call = app
        .post(
            "/v2/process-call",
            member,
            json!({
                "user_id": CALLER,
                "thread_id": "customer_mem-b_user_14155550199",
                "conversation_history": [{ "role": "robot", "content": "beep" }],
                "profile": { "shoe_size": "11" },
            }),
        )
        .await;
    assert_eq!(
        bad_call.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad_call.text
    );
    let problems: Vec<&str> = bad_call.body["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("thread_id")));
    assert!(problems.iter().any(|p| p.contains("robot")));
    assert!(problems.iter().any(|p| p.contains("shoe_size")));
    assert_eq!(app.count_rows("call_summaries", "mem-a").await, 0);
}

#[tokio::test]
async fn the_same_caller_at_two_tenants_has_two_separate_memories_and_contexts() {
    let app = TestApp::new().await;
    let a = insurance_tenant(&app, "mem-a").await;
    let b = app.tenant("mem-b").await; // no receptionist: the universal template's fields
    let processed = app
        .post(
            "/v2/process-call",
            &a.member_token,
            json!({ "user_id": CALLER, "call_id": "CA-SHARED", "conversation_history": first_call() }),
        )
        .await;
    assert_eq!(processed.status, StatusCode::CREATED, "{}", processed.text);
    let a_memory = processed.body["memories"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // B sees nothing of A's caller, even with A's call id and memory id.
    let context = app
        .post(
            "/v2/context/enriched",
            &b.member_token,
            json!({ "user_id": CALLER, "query": "home policy" }),
        )
        .await;
    assert_eq!(context.status, StatusCode::OK, "{}", context.text);
    assert_eq!(context.body["known_caller"], false);
    assert_eq!(context.body["relevant_memories"], json!([]));
    assert_eq!(context.body["thread_id"], "customer_mem-b_user_14155550199");
    for path in [
        format!("/v2/profile/{CALLER}"),
        format!("/v2/personality/{CALLER}"),
    ] {
        assert_eq!(
            app.get(&path, &b.member_token).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let listed = app
        .get(&format!("/v1/memories/user/{CALLER}"), &b.member_token)
        .await;
    assert_eq!(listed.body["memories"], json!([]));
    let deleted = app
        .call(
            "DELETE",
            &format!("/v1/memories/{a_memory}"),
            Auth::Bearer(&b.admin_token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND, "{}", deleted.text);

    // The same call id at B is B's own call, with B's template (universal: no policies field).
    let at_b = app
        .post(
            "/v2/process-call",
            &b.member_token,
            json!({ "user_id": CALLER, "call_id": "CA-SHARED", "conversation_history": first_call() }),
        )
        .await;
    assert_eq!(at_b.status, StatusCode::CREATED, "{}", at_b.text);
    assert_eq!(at_b.body["already_processed"], false);
    assert_eq!(
        at_b.body["profile"]["quick_bio"],
        "John Smith | Orange County | Customer since 2020"
    );
    assert_eq!(at_b.body["profile"]["calls"], 1);
    let a_profile = app
        .get(&format!("/v2/profile/{CALLER}"), &a.member_token)
        .await;
    assert_eq!(a_profile.body["calls"], 1);
    assert_eq!(
        app.count_rows("memories", "mem-a").await,
        app.count_rows("memories", "mem-b").await
    );
    let a_list = app
        .get(&format!("/v1/memories/user/{CALLER}"), &a.member_token)
        .await;
    assert!(
        a_list.body["memories"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == a_memory.as_str())
    );
}

/// The synthetic generators behind the P4/P5 benchmarks and `switchboard synthetic` write rows
/// the API reads, on either backend (multi-row inserts with the backend's own placeholders).
#[tokio::test]
async fn synthetic_callers_and_calls_are_written_on_this_backend_and_read_through_the_api() {
    use switchboard_store::clock::now_ms;
    use switchboard_store::repo::analytics::{DAY_MS, day_label};
    use switchboard_store::synthetic::{self, SyntheticCallers, SyntheticCalls};
    let app = TestApp::new().await;
    let a = app.tenant("syn-a").await;
    let scope = app.scope(&a.admin_token).await;
    let written = synthetic::insert_callers(
        &app.db,
        &scope,
        &SyntheticCallers {
            callers: 600,
            memories_per_caller: 2,
            days: 30,
            until_ms: now_ms(),
            seed: 7,
        },
    )
    .await
    .unwrap();
    assert_eq!(written, 600);
    assert_eq!(app.count_rows("memories", "syn-a").await, 1200);
    let last = synthetic::caller_number(599);
    let context = app
        .post(
            "/v2/context/enriched",
            &a.member_token,
            json!({ "user_id": last }),
        )
        .await;
    assert_eq!(context.status, StatusCode::OK, "{}", context.text);
    assert_eq!(context.body["known_caller"], true);
    assert_eq!(
        context.body["relevant_memories"].as_array().unwrap().len(),
        2
    );
    let calls = synthetic::insert(
        &app.db,
        &scope,
        &SyntheticCalls {
            calls: 600,
            days: 30,
            until_ms: now_ms(),
            agents: 5,
            seed: 7,
        },
    )
    .await
    .unwrap();
    assert_eq!(calls, 600);
    assert_eq!(app.count_rows("call_results", "syn-a").await, 600);
    assert_eq!(app.count_rows("qa_results", "syn-a").await, 1200);
    // The generator keeps the dashboard rollups too: the overview counts every call once.
    let today = now_ms().div_euclid(DAY_MS);
    let overview = app
        .get(
            &format!(
                "/api/v1/analytics/overview?from={}&to={}",
                day_label(today - 31),
                day_label(today)
            ),
            &a.member_token,
        )
        .await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.text);
    assert_eq!(overview.body["total_calls"], 600);
    let daily: i64 = overview.body["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["calls"].as_i64().unwrap())
        .sum();
    assert_eq!(daily, 600);
}
