//! The caller directory (`/api/v1/callers`, `/callers` pages): list and search, one caller's
//! memory, erasure by an admin — per tenant, with the same caller number known to two tenants.

use http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Auth, TestApp, TestTenant};
use crate::memory::insurance_tenant;

const JOHN: &str = "+14155550199";
const MARIA: &str = "+14155550123";

async fn process(app: &TestApp, tenant: &TestTenant, user_id: &str, call_id: &str, said: &[&str]) {
    let mut history =
        vec![json!({"role": "assistant", "content": "Thanks for calling, how can I help?"})];
    for line in said {
        history.push(json!({"role": "user", "content": line}));
        history.push(
            json!({"role": "assistant", "content": "I'll have an agent call you back today."}),
        );
    }
    let processed = app
        .post(
            "/v2/process-call",
            &tenant.member_token,
            json!({ "user_id": user_id, "call_id": call_id, "conversation_history": history }),
        )
        .await;
    assert_eq!(processed.status, StatusCode::CREATED, "{}", processed.text);
    // Callers are ordered by when they were last heard from (milliseconds).
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
}

fn user_ids(body: &Value) -> Vec<&str> {
    body["callers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["user_id"].as_str().unwrap())
        .collect()
}

async fn page(app: &TestApp, path: &str, cookie: &str) -> crate::harness::Response {
    app.call("GET", path, Auth::Session { cookie, csrf: None }, None)
        .await
}

#[tokio::test]
async fn callers_are_listed_searched_shown_and_forgotten_per_tenant() {
    let app = TestApp::new().await;
    let a = insurance_tenant(&app, "dir-a").await;
    let b = insurance_tenant(&app, "dir-b").await;
    process(
        &app,
        &a,
        JOHN,
        "CA-J1",
        &[
            "Hi, my name is John Smith and I live in Orange County.",
            "My home policy renews in March.",
        ],
    )
    .await;
    process(
        &app,
        &a,
        MARIA,
        "CA-M1",
        &["This is Maria Lopez, I need a quote for a new car."],
    )
    .await;
    process(
        &app,
        &b,
        JOHN,
        "CA-J1",
        &["Hi, my name is John Smith and I live in Fresno."],
    )
    .await;

    // Members list their tenant's callers, most recently heard from first.
    let listed = app.get("/api/v1/callers", &a.member_token).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body["total"], 2);
    assert_eq!(user_ids(&listed.body), [MARIA, JOHN]);
    assert!(
        listed.body["callers"][1]["quick_bio"]
            .as_str()
            .unwrap()
            .contains("Orange County")
    );
    let at_b = app.get("/api/v1/callers", &b.member_token).await;
    assert_eq!(at_b.body["total"], 1);
    assert!(
        at_b.body["callers"][0]["quick_bio"]
            .as_str()
            .unwrap()
            .contains("Fresno"),
        "{}",
        at_b.text
    );

    // Search by part of the number or of the quick bio; pattern characters are literal.
    for (q, expected) in [
        ("orange", vec![JOHN]),
        ("0123", vec![MARIA]),
        ("%", vec![]),
        ("fresno", vec![]),
    ] {
        let found = app
            .get(
                &format!("/api/v1/callers?q={}", urlencoding(q)),
                &a.member_token,
            )
            .await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.text);
        assert_eq!(user_ids(&found.body), expected, "q={q}");
        assert_eq!(found.body["total"], expected.len() as i64, "q={q}");
    }
    let paged = app
        .get("/api/v1/callers?limit=1&offset=1", &a.member_token)
        .await;
    assert_eq!(
        (user_ids(&paged.body), paged.body["total"].clone()),
        (vec![JOHN], json!(2))
    );
    let bad = app.get("/api/v1/callers?limit=0", &a.member_token).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.body["error"]["code"], "invalid_request", "{}", bad.text);

    // One caller: profile, personality, summaries and memories — without embeddings.
    let john = app
        .get(&format!("/api/v1/callers/{JOHN}"), &a.member_token)
        .await;
    assert_eq!(john.status, StatusCode::OK, "{}", john.text);
    assert_eq!(
        john.body["profile"]["fields"]["renewal_month"], "March",
        "{}",
        john.text
    );
    assert_eq!(john.body["personality"]["calls"], 1);
    assert_eq!(john.body["summaries"].as_array().unwrap().len(), 1);
    assert_eq!(john.body["summaries"][0]["call_id"], "CA-J1");
    let memories = john.body["memories"].as_array().unwrap();
    assert!(
        memories
            .iter()
            .any(|m| m["content"] == "My home policy renews in March."),
        "{}",
        john.text
    );
    assert!(memories.iter().all(|m| m.get("embedding").is_none()));
    assert!(!john.text.contains("Fresno"), "B's caller is not A's");
    // Maria is A's caller only.
    assert_eq!(
        app.get(&format!("/api/v1/callers/{MARIA}"), &b.member_token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let invalid = app
        .get("/api/v1/callers/not-a-number", &a.member_token)
        .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert_eq!(invalid.body["error"]["code"], "invalid_user_id");
    assert_eq!(
        app.call("GET", "/api/v1/callers", Auth::None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // The pages show the same, per tenant.
    let (cookie, _) = app
        .login(Some("dir-a"), &a.admin_email, crate::harness::PASSWORD)
        .await
        .unwrap();
    let html = page(&app, "/callers", &cookie).await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(
        html.text.contains("href=\"/callers/%2B14155550199\"")
            && html.text.contains("Orange County"),
        "{}",
        html.text
    );
    assert!(!html.text.contains("Fresno"));
    let html = page(&app, "/callers?q=maria", &cookie).await;
    assert!(
        html.text.contains(MARIA) && !html.text.contains(JOHN),
        "{}",
        html.text
    );
    let html = page(&app, "/callers/%2B14155550199", &cookie).await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(
        html.text.contains("My home policy renews in March.") && html.text.contains("Formality"),
        "{}",
        html.text
    );
    let (b_cookie, _) = app
        .login(Some("dir-b"), &b.admin_email, crate::harness::PASSWORD)
        .await
        .unwrap();
    assert_eq!(
        page(&app, "/callers/%2B14155550123", &b_cookie)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let redirected = app.call("GET", "/callers", Auth::None, None).await;
    assert_eq!(redirected.headers["location"], "/login");

    // Forgetting: admins only, their own tenant's caller only.
    let path = format!("/api/v1/callers/{JOHN}");
    let by_member = app
        .call("DELETE", &path, Auth::Bearer(&a.member_token), None)
        .await;
    assert_eq!(by_member.status, StatusCode::FORBIDDEN);
    let maria_at_b = app
        .call(
            "DELETE",
            &format!("/api/v1/callers/{MARIA}"),
            Auth::Bearer(&b.admin_token),
            None,
        )
        .await;
    assert_eq!(
        maria_at_b.status,
        StatusCode::NOT_FOUND,
        "{}",
        maria_at_b.text
    );
    assert_eq!(
        app.get(&format!("/api/v1/callers/{MARIA}"), &a.member_token)
            .await
            .status,
        StatusCode::OK
    );
    let forgotten = app
        .call("DELETE", &path, Auth::Bearer(&a.admin_token), None)
        .await;
    assert_eq!(forgotten.status, StatusCode::OK, "{}", forgotten.text);
    assert_eq!(forgotten.body["summaries"], 1);
    assert_eq!(forgotten.body["personality_metrics"], 1);
    assert_eq!(forgotten.body["profile"], true);
    assert!(forgotten.body["memories"].as_u64().unwrap() >= 1);
    assert_eq!(
        app.get(&path, &a.member_token).await.status,
        StatusCode::NOT_FOUND
    );
    for memory_path in [
        format!("/v2/profile/{JOHN}"),
        format!("/v2/personality/{JOHN}"),
    ] {
        assert_eq!(
            app.get(&memory_path, &a.member_token).await.status,
            StatusCode::NOT_FOUND,
            "{memory_path}"
        );
    }
    let left = app
        .get(&format!("/v1/memories/user/{JOHN}"), &a.member_token)
        .await;
    assert_eq!(left.body["memories"], json!([]));
    let summaries = app
        .get(&format!("/v2/summaries/{JOHN}"), &a.member_token)
        .await;
    assert_eq!(summaries.body["summaries"], json!([]));
    assert_eq!(
        user_ids(&app.get("/api/v1/callers", &a.member_token).await.body),
        [MARIA]
    );
    // B's John is untouched.
    let b_john = app.get(&path, &b.member_token).await;
    assert_eq!(b_john.status, StatusCode::OK);
    assert!(b_john.text.contains("Fresno"));
    // Forgetting again finds nothing.
    assert_eq!(
        app.call("DELETE", &path, Auth::Bearer(&a.admin_token), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

fn urlencoding(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}
