//! The dashboard and its analytics API on a seeded dataset whose answers were worked out by hand
//! (see `seed`): the overview, agents, calls list filters, CSV export, call detail, the audio
//! endpoint's ranges, and tenant and role isolation of every page.

use http::{Request, StatusCode};
use serde_json::{Value, json};
use switchboard_core::Area;
use switchboard_store::repo::{calls, results};

use crate::fixtures::{call_result_row, qa_result_row};
use crate::harness::{Auth, PASSWORD, Response, TestApp, TestTenant, wav};

pub const RANGE: &str = "from=2026-11-01&to=2026-11-07";
pub const ANA: &str = "ana@acme.example";
const BOB: &str = "bob@acme.example";

/// Unix ms of 2026-11-`day` at `hour`:00 UTC (2026-11-01T00:00Z = 1 793 491 200 s).
fn nov(day: i64, hour: i64) -> i64 {
    (1_793_491_200 + (day - 1) * 86_400 + hour * 3_600) * 1000
}

/// The recording of seeded call `seed`: c1's lasts 10 s (8 kHz), so a browser can seek in it.
pub fn recording(seed: u8) -> Vec<u8> {
    wav(seed, if seed == 1 { 80_000 } else { 4000 })
}

pub struct Seeded {
    /// c1 … c5 of tenant A, then B's call.
    pub ids: Vec<String>,
}

/// Uploads a recording and publishes hand-made result rows for it.
async fn publish(
    app: &TestApp,
    tenant: &TestTenant,
    seed: u8,
    row: results::CallResultRow,
    qa: &[(&str, bool)],
) -> String {
    let uploaded = app
        .upload(
            &tenant.admin_token,
            &[("audio", Some("call.wav"), recording(seed))],
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::ACCEPTED, "{}", uploaded.text);
    let id = uploaded.body["call_id"].as_str().unwrap().to_owned();
    let scope = app.scope(&tenant.admin_token).await;
    let mut tx = app.db.write(&scope).await.unwrap();
    let mut qa_columns = serde_json::Map::new();
    let qa_rows: Vec<_> = qa
        .iter()
        .map(|(rule, passed)| {
            qa_columns.insert(
                format!("qa_{rule}"),
                json!(if *passed { "pass" } else { "fail" }),
            );
            results::QaResultRow {
                passed: Some(*passed),
                rule_name: match *rule {
                    "greeting" => "Greets the caller".into(),
                    _ => "Shows empathy".into(),
                },
                ..qa_result_row(&id, rule)
            }
        })
        .collect();
    let mut flat = json!({"call_id": id, "meta_campaign": "autumn-renewals"});
    flat.as_object_mut().unwrap().extend(qa_columns);
    let row = results::CallResultRow {
        call_id: id.clone(),
        row: flat,
        ..row
    };
    results::replace(&mut tx, &row, &qa_rows).await.unwrap();
    calls::set_status(&mut tx, &id, "published").await.unwrap();
    tx.commit().await.unwrap();
    id
}

#[allow(clippy::too_many_arguments)]
fn row(
    started_at: i64,
    seconds: f64,
    direction: &str,
    agent: Option<&str>,
    label: &str,
    agent_sentiment: Option<f64>,
    pass: bool,
    summary: &str,
) -> results::CallResultRow {
    results::CallResultRow {
        started_at,
        ended_at: started_at + (seconds * 1000.0) as i64,
        duration_seconds: seconds,
        direction: direction.into(),
        agent_id: agent.map(str::to_owned),
        sentiment_label: label.into(),
        agent_sentiment_score: agent_sentiment,
        qa_overall_pass: pass,
        qa_score: if pass { 1.0 } else { 0.5 },
        summary: summary.into(),
        ..call_result_row("x")
    }
}

/// Tenant A, 1–7 November: c1 (ana, inbound, 60 s, NEUTRAL, +0.3, QA fail: empathy),
/// c2 (ana, outbound, 120 s, POSITIVE, +0.5, pass), c3 (bob, inbound, 180 s, NEGATIVE, −0.2,
/// fail: greeting + empathy), c4 (no agent, unknown, 240 s, MIXED, no agent sentiment, pass);
/// c5 (ana, 20 October, outside the range). Tenant B: one call of zed on 2 November.
///
/// Expected for A over the range, by hand: 4 calls; 600 s = 00:10; average 150 s = 2:30;
/// agent sentiment (0.3 + 0.5 − 0.2) / 3 = +0.20; QA 2 of 4 = 50 %; inbound 2, outbound 1,
/// internal 0, unknown 1; one call per sentiment label; days 11-02 (2 calls, 1 passed, +0.40),
/// 11-03 (1, 0 passed, −0.20), 11-05 (1, 1 passed); ana 2 calls, 90 s average, +0.40, 50 %;
/// bob 1 call, −0.20, 0 %.
pub async fn seed(app: &TestApp, a: &TestTenant, b: &TestTenant) -> Seeded {
    let c1 = publish(
        app,
        a,
        1,
        row(
            nov(2, 9),
            60.0,
            "inbound",
            Some(ANA),
            "NEUTRAL",
            Some(0.3),
            false,
            "Invoice was wrong.",
        ),
        &[("greeting", true), ("empathy", false)],
    )
    .await;
    let c2 = publish(
        app,
        a,
        2,
        row(
            nov(2, 15),
            120.0,
            "outbound",
            Some(ANA),
            "POSITIVE",
            Some(0.5),
            true,
            "Renewal agreed.",
        ),
        &[("greeting", true), ("empathy", true)],
    )
    .await;
    let c3 = publish(
        app,
        a,
        3,
        row(
            nov(3, 10),
            180.0,
            "inbound",
            Some(BOB),
            "NEGATIVE",
            Some(-0.2),
            false,
            "Complaint.",
        ),
        &[("greeting", false), ("empathy", false)],
    )
    .await;
    let c4 = publish(
        app,
        a,
        4,
        row(
            nov(5, 11),
            240.0,
            "unknown",
            None,
            "MIXED",
            None,
            true,
            "Wrong number.",
        ),
        &[("greeting", true)],
    )
    .await;
    let c5 = publish(
        app,
        a,
        5,
        row(
            nov(1, 0) - 12 * 86_400_000,
            300.0,
            "inbound",
            Some(ANA),
            "POSITIVE",
            Some(0.9),
            true,
            "Old.",
        ),
        &[("greeting", true)],
    )
    .await;
    let g1 = publish(
        app,
        b,
        6,
        row(
            nov(2, 12),
            999.0,
            "inbound",
            Some("zed@globex.example"),
            "NEGATIVE",
            Some(-0.9),
            false,
            "B.",
        ),
        &[("greeting", false)],
    )
    .await;
    // c1's final record, for the call page.
    let record = include_str!("../fixtures/final_record.json")
        .replace("CALL_ID", &c1)
        .replace("TENANT_ID", &a.id);
    let objects = app
        .storage
        .tenant(&app.scope(&a.admin_token).await)
        .unwrap();
    objects
        .put(
            Area::Results,
            &switchboard_pipeline::stages::final_name(&c1),
            record.into(),
        )
        .await
        .unwrap();
    Seeded {
        ids: vec![c1, c2, c3, c4, c5, g1],
    }
}

/// Adds a member with the test password to the tenant.
pub async fn add_member(app: &TestApp, tenant: &TestTenant, email: &str) {
    let invited = app
        .post(
            "/api/v1/users",
            &tenant.admin_token,
            json!({"email": email, "role": "member", "password": PASSWORD}),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
}

async fn page(app: &TestApp, path: &str, cookie: &str) -> Response {
    app.call("GET", path, Auth::Session { cookie, csrf: None }, None)
        .await
}

/// The value shown on a KPI card.
fn kpi(html: &str, label: &str) -> String {
    let start = html
        .find(&format!("data-kpi=\"{label}\""))
        .unwrap_or_else(|| panic!("no KPI {label}"));
    let rest = &html[start..];
    let value = rest.find("class=\"value\">").unwrap() + "class=\"value\">".len();
    rest[value..rest[value..].find('<').unwrap() + value].to_owned()
}

fn ids(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<&String>) -> Vec<String> {
    ids.sort();
    ids.into_iter().cloned().collect()
}

#[tokio::test]
async fn the_overview_api_and_page_show_hand_computed_figures_of_one_tenant() {
    let app = TestApp::new().await;
    let (a, b) = (app.tenant("acme").await, app.tenant("globex").await);
    seed(&app, &a, &b).await;

    let api = app
        .get(
            &format!("/api/v1/analytics/overview?{RANGE}"),
            &a.member_token,
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.text);
    let o = &api.body;
    assert_eq!(
        o["range"],
        json!({"from": "2026-11-01", "to": "2026-11-07"})
    );
    assert_eq!(o["total_calls"], 4);
    assert_eq!(o["total_duration_seconds"], 600.0);
    assert_eq!(o["average_duration_seconds"], 150.0);
    assert!((o["average_agent_sentiment"].as_f64().unwrap() - 0.2).abs() < 1e-6);
    assert_eq!(o["qa_passed"], 2);
    assert_eq!(o["qa_pass_rate"], 0.5);
    let counts = |key: &str| -> Vec<(String, i64)> {
        o[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["key"].as_str().unwrap().to_owned(),
                    c["calls"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        counts("directions"),
        [
            ("inbound", 2),
            ("outbound", 1),
            ("internal", 0),
            ("unknown", 1)
        ]
        .map(|(k, n)| (k.to_owned(), n))
    );
    assert_eq!(
        counts("sentiments"),
        [
            ("POSITIVE", 1),
            ("NEUTRAL", 1),
            ("NEGATIVE", 1),
            ("MIXED", 1)
        ]
        .map(|(k, n)| (k.to_owned(), n))
    );
    let daily: Vec<(String, i64, i64, i64)> = o["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap().to_owned(),
                d["calls"].as_i64().unwrap(),
                d["qa_passed"].as_i64().unwrap(),
                d["qa_failed"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        daily,
        [
            ("2026-11-02", 2, 1, 1),
            ("2026-11-03", 1, 0, 1),
            ("2026-11-05", 1, 1, 0)
        ]
        .map(|(d, n, p, f)| (d.to_owned(), n, p, f))
    );
    assert!((o["daily"][0]["average_agent_sentiment"].as_f64().unwrap() - 0.4).abs() < 1e-6);
    assert_eq!(o["daily"][2]["average_agent_sentiment"], Value::Null);
    let agents = |key: &str| -> Vec<String> {
        o[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["agent_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(agents("top_agents_by_volume"), [ANA, BOB]);
    assert_eq!(agents("top_agents_by_sentiment"), [ANA, BOB]);
    assert_eq!(agents("agents_with_most_qa_failures"), [ANA, BOB]);
    assert_eq!(o["top_agents_by_volume"][0]["calls"], 2);
    assert_eq!(
        o["top_agents_by_volume"][0]["average_duration_seconds"],
        90.0
    );

    // The page shows the same figures, and nothing of tenant B.
    let (cookie, _) = app
        .login(Some("acme"), &a.admin_email, PASSWORD)
        .await
        .unwrap();
    let html = page(&app, &format!("/overview?{RANGE}"), &cookie).await;
    assert_eq!(html.status, StatusCode::OK, "{}", html.text);
    let html = html.text;
    assert_eq!(kpi(&html, "Total calls"), "4");
    assert_eq!(kpi(&html, "Total duration"), "00:10");
    assert_eq!(kpi(&html, "Average duration"), "2:30");
    assert_eq!(kpi(&html, "Average agent sentiment"), "+0.20");
    assert_eq!(kpi(&html, "QA passed"), "50%");
    assert_eq!(kpi(&html, "Inbound : outbound"), "2 : 1");
    assert_eq!(
        html.matches("<svg class=\"chart\"").count(),
        4,
        "four charts"
    );
    for title in [
        "Daily call volume",
        "Direction breakdown",
        "Sentiment distribution",
        "QA pass/fail per day",
    ] {
        assert!(html.contains(title), "chart {title}");
    }
    assert!(
        html.contains("<title>11-02: 2 calls</title>"),
        "volume bar of 2 November"
    );
    let link = html
        .find("href=\"/agents/")
        .map(|i| html[i..].split('>').next().unwrap_or_default().to_owned());
    assert_eq!(
        link.as_deref(),
        Some("href=\"/agents/ana%40acme%2Eexample?from=2026-11-01&#38;to=2026-11-07\"")
    );
    assert!(!html.contains("zed@globex.example"));
    assert!(
        html.contains("href=\"/settings\""),
        "admins see the settings link"
    );

    // B sees only its own call.
    let b_api = app
        .get(
            &format!("/api/v1/analytics/overview?{RANGE}"),
            &b.admin_token,
        )
        .await;
    assert_eq!(b_api.body["total_calls"], 1);
    assert_eq!(b_api.body["total_duration_seconds"], 999.0);

    // Bad ranges are a clear 400 on the API and the page.
    let bad = app
        .get(
            "/api/v1/analytics/overview?from=2026-11-07&to=2026-11-01",
            &a.admin_token,
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid_range")
    );
    let bad = page(&app, "/overview?from=soon", &cookie).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("invalid_range"));
}

#[tokio::test]
async fn agents_list_detail_and_export_agree_with_the_seed() {
    let app = TestApp::new().await;
    let (a, b) = (app.tenant("acme").await, app.tenant("globex").await);
    let seeded = seed(&app, &a, &b).await;

    let list = app
        .get(&format!("/api/v1/agents?{RANGE}"), &a.member_token)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body["total"], 2);
    let ana = &list.body["agents"][0];
    assert_eq!(
        (
            ana["agent_id"].as_str(),
            ana["calls"].as_i64(),
            ana["qa_pass_rate"].as_f64()
        ),
        (Some(ANA), Some(2), Some(0.5))
    );
    assert!((ana["average_sentiment"].as_f64().unwrap() - 0.4).abs() < 1e-6);
    let search = app
        .get(&format!("/api/v1/agents?{RANGE}&q=BOB"), &a.member_token)
        .await;
    assert_eq!(search.body["total"], 1);
    assert_eq!(search.body["agents"][0]["agent_id"], BOB);
    let by_qa = app
        .get(&format!("/api/v1/agents?{RANGE}&order=qa"), &a.member_token)
        .await;
    assert_eq!(
        by_qa.body["agents"][0]["agent_id"], BOB,
        "lowest pass rate first"
    );
    let bad = app
        .get("/api/v1/agents?order=loudest", &a.member_token)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    let detail = app
        .get(&format!("/api/v1/agents/{BOB}?{RANGE}"), &a.member_token)
        .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    let failures: Vec<(String, i64)> = detail.body["qa_failures_by_rule"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule_id"].as_str().unwrap().to_owned(),
                r["failures"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        [("empathy".to_owned(), 1), ("greeting".to_owned(), 1)]
    );
    assert_eq!(detail.body["daily"][0]["day"], "2026-11-03");
    // An agent of another tenant is unknown here.
    let other = app
        .get(
            &format!("/api/v1/agents/zed@globex.example?{RANGE}"),
            &a.admin_token,
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);

    let (cookie, _) = app
        .login(Some("acme"), &a.admin_email, PASSWORD)
        .await
        .unwrap();
    let html = page(&app, &format!("/agents?{RANGE}&q=an"), &cookie).await;
    assert_eq!(html.status, StatusCode::OK, "{}", html.text);
    assert!(html.text.contains(ANA) && !html.text.contains(BOB));
    let html = page(
        &app,
        &format!("/agents/ana%40acme.example?{RANGE}"),
        &cookie,
    )
    .await;
    assert_eq!(html.status, StatusCode::OK, "{}", html.text);
    assert_eq!(kpi(&html.text, "Calls"), "2");
    assert_eq!(kpi(&html.text, "Average sentiment"), "+0.40");
    assert_eq!(kpi(&html.text, "QA pass rate"), "50%");
    for title in [
        "Sentiment trend",
        "QA failures by rule",
        "Daily call volume",
    ] {
        assert!(html.text.contains(title), "chart {title}");
    }
    assert!(html.text.contains("<title>Shows empathy: 1</title>"));
    // The agent's calls: c1 and c2, with the tenant's rule columns.
    assert!(html.text.contains(&seeded.ids[0]) && html.text.contains(&seeded.ids[1]));
    assert!(
        !html.text.contains(&seeded.ids[4]),
        "c5 is outside the range"
    );
    assert!(html.text.contains("<th scope=\"col\">qa_empathy</th>"));

    let csv = page(&app, &format!("/agents.csv?{RANGE}"), &cookie).await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.text);
    assert!(
        lines[1].starts_with("ana@acme.example,2,180.0,90.0,0.400,1,1,0.500"),
        "{}",
        lines[1]
    );
}

#[tokio::test]
async fn calls_are_filtered_exported_and_shown_with_transcript_and_qa() {
    let app = TestApp::new().await;
    let (a, b) = (app.tenant("acme").await, app.tenant("globex").await);
    let seeded = seed(&app, &a, &b).await;
    let c = &seeded.ids;
    let list = |query: String| {
        let app = &app;
        let token = a.member_token.clone();
        async move {
            let r = app.get(&format!("/api/v1/calls?{query}"), &token).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            ids(&r.body)
        }
    };
    assert_eq!(
        list(format!("{RANGE}&sentiment=negative")).await,
        sorted(vec![&c[2]])
    );
    assert_eq!(
        list(format!("{RANGE}&qa=fail")).await,
        sorted(vec![&c[0], &c[2]])
    );
    assert_eq!(list(format!("{RANGE}&q=BOB")).await, sorted(vec![&c[2]]));
    assert_eq!(
        list(format!("{RANGE}&q=invoice")).await,
        sorted(vec![&c[0]])
    );
    assert_eq!(
        list("q=100%25".into()).await,
        Vec::<String>::new(),
        "% is literal"
    );
    assert_eq!(list(RANGE.into()).await.len(), 4);
    let bad = app.get("/api/v1/calls?qa=maybe", &a.member_token).await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );

    let (cookie, _) = app
        .login(Some("acme"), &a.admin_email, PASSWORD)
        .await
        .unwrap();
    let html = page(
        &app,
        &format!("/calls?{RANGE}&direction=inbound&qa=fail"),
        &cookie,
    )
    .await;
    assert_eq!(html.status, StatusCode::OK, "{}", html.text);
    assert!(html.text.contains(&c[0]) && html.text.contains(&c[2]));
    assert!(!html.text.contains(&c[1]) && !html.text.contains(&c[5]));
    assert!(html.text.contains("<th scope=\"col\">meta_campaign</th>"));
    assert!(html.text.contains("Showing 1–2 of 2"));
    let csv = page(
        &app,
        &format!("/calls.csv?{RANGE}&direction=inbound&qa=fail"),
        &cookie,
    )
    .await;
    let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "call_id");
    assert!(
        header.iter().any(|h| h == "qa_greeting") && header.iter().any(|h| h == "meta_campaign")
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let greeting = header.iter().position(|h| h == "qa_greeting").unwrap();
    let c3_row = rows.iter().find(|r| r[0] == *c[2]).unwrap();
    assert_eq!(&c3_row[greeting], "fail");

    // A call still in the pipeline has no start time: its status shows it whatever the dates.
    let waiting = app
        .upload(&a.admin_token, &[("audio", Some("new.wav"), wav(9, 4000))])
        .await;
    let waiting = waiting.body["call_id"].as_str().unwrap().to_owned();
    let html = page(&app, &format!("/calls?{RANGE}&status=received"), &cookie).await;
    assert!(html.text.contains(&waiting), "{}", html.text);
    assert!(html.text.contains("Showing 1–1 of 1"));
    let html = page(&app, &format!("/calls?{RANGE}"), &cookie).await;
    assert!(
        !html.text.contains(&waiting),
        "undated calls stay out of a date range"
    );

    // Call detail: transcript with speakers and times, QA with evidence links, sentiment.
    let html = page(&app, &format!("/calls/{}", c[0]), &cookie).await;
    assert_eq!(html.status, StatusCode::OK, "{}", html.text);
    let t = &html.text;
    assert!(t.contains("<li id=\"u1\"><a href=\"#u1\" class=\"seek\" data-start=\"4.50\">00:04</a><span class=\"speaker customer\">Customer</span>My invoice is wrong and I am annoyed."));
    assert!(t.contains("Greets the caller") && t.contains("Shows empathy"));
    assert!(t.contains("<a href=\"#u2\" class=\"evidence\">00:09</a>"));
    assert!(t.contains(&format!("src=\"/api/v1/calls/{}/audio\"", c[0])));
    assert!(
        t.contains("Sentiment through the call")
            && t.contains("I will send you a corrected invoice today.")
    );
    assert!(t.contains("<dt>campaign</dt><dd>autumn-renewals</dd>"));
    // A call without a record yet says so.
    let html = page(&app, &format!("/calls/{}", c[1]), &cookie).await;
    assert!(html.text.contains("The analysis is not ready yet"));
}

#[tokio::test]
async fn the_audio_endpoint_serves_ranges_of_the_tenants_own_recordings() {
    let app = TestApp::new().await;
    let (a, b) = (app.tenant("acme").await, app.tenant("globex").await);
    let seeded = seed(&app, &a, &b).await;
    let expected = recording(1);
    let get = |id: String, range: Option<&'static str>, token: String| {
        let app = &app;
        async move {
            let mut request = Request::get(format!("/api/v1/calls/{id}/audio"))
                .header("authorization", format!("Bearer {token}"));
            if let Some(range) = range {
                request = request.header("range", range);
            }
            app.send(request.body(axum::body::Body::empty()).unwrap())
                .await
        }
    };
    let whole = get(seeded.ids[0].clone(), None, a.member_token.clone()).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.headers["accept-ranges"], "bytes");
    assert_eq!(whole.headers["content-type"], "audio/wav");
    assert_eq!(whole.bytes, expected);
    let part = get(
        seeded.ids[0].clone(),
        Some("bytes=4-11"),
        a.member_token.clone(),
    )
    .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers["content-range"],
        format!("bytes 4-11/{}", expected.len()).as_str()
    );
    assert_eq!(part.bytes, &expected[4..12]);
    let tail = get(
        seeded.ids[0].clone(),
        Some("bytes=-4"),
        a.member_token.clone(),
    )
    .await;
    assert_eq!(tail.bytes, &expected[expected.len() - 4..]);
    let outside = get(
        seeded.ids[0].clone(),
        Some("bytes=999999-"),
        a.member_token.clone(),
    )
    .await;
    assert_eq!(outside.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(outside.code(), "range_not_satisfiable");
    assert_eq!(
        outside.headers["content-range"],
        format!("bytes */{}", expected.len()).as_str()
    );
    // Tenant B's recording does not exist for A, and needs a credential at all.
    let other = get(seeded.ids[5].clone(), None, a.admin_token.clone()).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let anonymous = app
        .call(
            "GET",
            &format!("/api/v1/calls/{}/audio", seeded.ids[0]),
            Auth::None,
            None,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pages_are_tenant_isolated_and_role_aware() {
    let app = TestApp::new().await;
    let (a, b) = (app.tenant("acme").await, app.tenant("globex").await);
    let seeded = seed(&app, &a, &b).await;
    let (cookie, _) = app
        .login(Some("acme"), &a.admin_email, PASSWORD)
        .await
        .unwrap();

    // B's call and agent do not exist for A.
    let html = page(&app, &format!("/calls/{}", seeded.ids[5]), &cookie).await;
    assert_eq!(html.status, StatusCode::NOT_FOUND);
    assert!(!html.text.contains("zed@globex.example"));
    let html = page(
        &app,
        &format!("/agents/zed%40globex.example?{RANGE}"),
        &cookie,
    )
    .await;
    assert_eq!(html.status, StatusCode::NOT_FOUND);
    let csv = page(&app, &format!("/calls.csv?{RANGE}"), &cookie).await;
    assert!(!csv.text.contains(&seeded.ids[5]));

    // Without a session every page sends the visitor to sign in.
    for path in [
        "/overview",
        "/agents",
        "/calls",
        "/calls.csv",
        "/settings",
        &format!("/calls/{}", seeded.ids[0]),
    ] {
        let response = app.call("GET", path, Auth::None, None).await;
        assert!(
            response.status.is_redirection(),
            "{path}: {}",
            response.status
        );
        assert_eq!(response.headers["location"], "/login", "{path}");
    }
    // Signed in, the home page is the overview.
    let home = page(&app, "/", &cookie).await;
    assert_eq!(home.headers["location"], "/overview");

    // A member sees no admin navigation and may not open the settings page.
    add_member(&app, &a, "mo@acme.test").await;
    let (member, _) = app
        .login(Some("acme"), "mo@acme.test", PASSWORD)
        .await
        .unwrap();
    let html = page(&app, &format!("/overview?{RANGE}"), &member).await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(
        !html.text.contains("/settings"),
        "no admin link for members"
    );
    assert_eq!(kpi(&html.text, "Total calls"), "4");
    let settings = page(&app, "/settings", &member).await;
    assert_eq!(settings.status, StatusCode::FORBIDDEN);
    let settings = page(&app, "/settings", &cookie).await;
    assert_eq!(settings.status, StatusCode::OK);
    assert!(settings.text.contains("mo@acme.test") && settings.text.contains("QA rubric"));
}

#[tokio::test]
async fn a_call_without_agent_sentiment_does_not_break_the_next_publish_on_one_connection() {
    // One pooled connection, so the second insert reuses the first one's statement (sqlx#4284:
    // a NULL f64 was typed float4 and the cached statement then refused an f64).
    let app = TestApp::builder().pool_size(1).build().await;
    let (a, b) = (app.tenant("acme").await, app.tenant("globex").await);
    publish(
        &app,
        &a,
        1,
        row(
            nov(2, 9),
            60.0,
            "unknown",
            None,
            "MIXED",
            None,
            true,
            "no agent",
        ),
        &[],
    )
    .await;
    publish(
        &app,
        &b,
        2,
        row(
            nov(2, 10),
            60.0,
            "inbound",
            Some(ANA),
            "POSITIVE",
            Some(0.4),
            true,
            "agent",
        ),
        &[],
    )
    .await;
    let o = app
        .get(
            &format!("/api/v1/analytics/overview?{RANGE}"),
            &b.member_token,
        )
        .await;
    assert_eq!(o.body["average_agent_sentiment"], 0.4);
}

/// The `<main>` of a page, with the parts that change between runs redacted.
fn main_of(html: &str) -> String {
    let start = html.find("<main>").expect("a main element");
    let end = html.find("</main>").expect("the end of main") + "</main>".len();
    html[start..end].to_owned()
}

#[tokio::test]
async fn pages_match_their_snapshots() {
    let app = TestApp::new().await;
    let (a, b) = (app.tenant("acme").await, app.tenant("globex").await);
    let seeded = seed(&app, &a, &b).await;
    let (cookie, _) = app
        .login(Some("acme"), &a.admin_email, PASSWORD)
        .await
        .unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"[0-9a-f]{32}", "[call-id]");
    settings.add_filter(
        r"<dt>Received</dt><dd>[^<]*</dd>",
        "<dt>Received</dt><dd>[received]</dd>",
    );
    let _guard = settings.bind_to_scope();
    for (name, path) in [
        ("overview", format!("/overview?{RANGE}")),
        ("agents", format!("/agents?{RANGE}")),
        ("agent", format!("/agents/ana%40acme.example?{RANGE}")),
        ("calls", format!("/calls?{RANGE}")),
        ("call", format!("/calls/{}", seeded.ids[0])),
    ] {
        let response = page(&app, &path, &cookie).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        insta::assert_snapshot!(format!("page_{name}"), main_of(&response.text));
    }
}

/// Publishes `row` again as call `id` (a re-analysis that changed its figures).
async fn republish(app: &TestApp, tenant: &TestTenant, id: &str, row: results::CallResultRow) {
    let scope = app.scope(&tenant.admin_token).await;
    let mut tx = app.db.write(&scope).await.unwrap();
    let row = results::CallResultRow {
        call_id: id.to_owned(),
        ..row
    };
    results::replace(&mut tx, &row, &[]).await.unwrap();
    tx.commit().await.unwrap();
}

/// The overview's headline figures: calls, seconds, agent sentiment, QA passed, calls per day.
fn headline(o: &Value) -> (i64, f64, Option<f64>, i64, Vec<(String, i64)>) {
    (
        o["total_calls"].as_i64().unwrap(),
        o["total_duration_seconds"].as_f64().unwrap(),
        o["average_agent_sentiment"]
            .as_f64()
            .map(|s| (s * 1000.0).round() / 1000.0),
        o["qa_passed"].as_i64().unwrap(),
        o["daily"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["day"].as_str().unwrap().to_owned(),
                    d["calls"].as_i64().unwrap(),
                )
            })
            .collect(),
    )
}

/// The figures are read from per-day rollups for whole days and from the rows for partial days;
/// a re-published call moves between days, agents and labels, and a day left without calls
/// disappears. Expected values worked out by hand from the seed (see `seed`).
#[tokio::test]
async fn figures_follow_republished_calls_and_ranges_that_cut_days() {
    let app = TestApp::new().await;
    let (a, b) = (app.tenant("acme").await, app.tenant("globex").await);
    let seeded = seed(&app, &a, &b).await;
    // c2 (ana, outbound, 120 s, POSITIVE, +0.5, pass, 2 Nov) becomes bob's failed inbound call
    // of 100 s, NEGATIVE, −0.4, on 6 Nov; c4 (the only call of 5 Nov) moves to 4 Nov; c3 is
    // published again unchanged.
    republish(
        &app,
        &a,
        &seeded.ids[1],
        row(
            nov(6, 8),
            100.0,
            "inbound",
            Some(BOB),
            "NEGATIVE",
            Some(-0.4),
            false,
            "Renewal refused.",
        ),
    )
    .await;
    let c4 = row(
        nov(4, 11),
        240.0,
        "unknown",
        None,
        "MIXED",
        None,
        true,
        "Wrong number.",
    );
    republish(&app, &a, &seeded.ids[3], c4).await;
    let c3 = row(
        nov(3, 10),
        180.0,
        "inbound",
        Some(BOB),
        "NEGATIVE",
        Some(-0.2),
        false,
        "Complaint.",
    );
    republish(&app, &a, &seeded.ids[2], c3).await;

    // Whole days: c1 60 s +0.3 fail (2 Nov), c3 180 s −0.2 fail (3 Nov), c4 240 s pass (4 Nov),
    // c2 100 s −0.4 fail (6 Nov): 580 s, (0.3 − 0.2 − 0.4) / 3 = −0.1, 1 passed.
    let days = |o: &[(&str, i64)]| -> Vec<(String, i64)> {
        o.iter().map(|(d, n)| ((*d).to_owned(), *n)).collect()
    };
    let whole = app
        .get(
            &format!("/api/v1/analytics/overview?{RANGE}"),
            &a.member_token,
        )
        .await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.text);
    assert_eq!(
        headline(&whole.body),
        (
            4,
            580.0,
            Some(-0.1),
            1,
            days(&[
                ("2026-11-02", 1),
                ("2026-11-03", 1),
                ("2026-11-04", 1),
                ("2026-11-06", 1)
            ])
        )
    );
    let directions: Vec<i64> = whole.body["directions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["calls"].as_i64().unwrap())
        .collect();
    assert_eq!(
        directions,
        [3, 0, 0, 1],
        "inbound, outbound, internal, unknown"
    );
    let agents = app
        .get(&format!("/api/v1/agents?{RANGE}"), &a.member_token)
        .await;
    let per_agent: Vec<(String, i64)> = agents.body["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["agent_id"].as_str().unwrap().to_owned(),
                a["calls"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(per_agent, [(BOB.to_owned(), 2), (ANA.to_owned(), 1)]);
    let ana = app
        .get(&format!("/api/v1/agents/{ANA}?{RANGE}"), &a.member_token)
        .await;
    assert_eq!(
        ana.body["daily"].as_array().unwrap().len(),
        1,
        "{}",
        ana.text
    );
    assert_eq!(ana.body["daily"][0]["day"], "2026-11-02");

    // Noon 2 Nov to noon 5 Nov: c1 (09:00 on the 2nd) is before it, so c3 and c4: 420 s,
    // −0.2 (c4 has no agent sentiment), 1 passed.
    let cut = "from=2026-11-02T12:00:00Z&to=2026-11-05T12:00:00Z";
    let o = app
        .get(
            &format!("/api/v1/analytics/overview?{cut}"),
            &a.member_token,
        )
        .await;
    assert_eq!(o.status, StatusCode::OK, "{}", o.text);
    assert_eq!(
        headline(&o.body),
        (
            2,
            420.0,
            Some(-0.2),
            1,
            days(&[("2026-11-03", 1), ("2026-11-04", 1)])
        )
    );
    let bob = app
        .get(&format!("/api/v1/agents/{BOB}?{cut}"), &a.member_token)
        .await;
    assert_eq!(bob.body["calls"], 1, "{}", bob.text);

    // Within one day: 08:00–10:00 on 2 Nov holds c1 alone.
    let hours = "from=2026-11-02T08:00:00Z&to=2026-11-02T10:00:00Z";
    let o = app
        .get(
            &format!("/api/v1/analytics/overview?{hours}"),
            &a.member_token,
        )
        .await;
    assert_eq!(
        headline(&o.body),
        (1, 60.0, Some(0.3), 0, days(&[("2026-11-02", 1)]))
    );
    assert_eq!(o.body["top_agents_by_volume"][0]["agent_id"], ANA);

    // Tenant B's figures are untouched by A's re-publishing.
    let g = app
        .get(
            &format!("/api/v1/analytics/overview?{RANGE}"),
            &b.member_token,
        )
        .await;
    assert_eq!(
        headline(&g.body),
        (1, 999.0, Some(-0.9), 0, days(&[("2026-11-02", 1)]))
    );
}
