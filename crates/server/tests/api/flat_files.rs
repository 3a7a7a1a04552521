//! Flat files (SPEC §4.5): CSV always, Parquet where the tenant's ai-config enables it
//! (`outputs.parquet`). The Parquet call row holds the CSV row's columns in the same order with
//! typed values; turning Parquet off removes the files at the next publish; another tenant's
//! setting changes nothing here.

use bytes::Bytes;
use http::StatusCode;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::{Value, json};
use switchboard_core::Area;
use switchboard_pipeline::flat::rfc3339_ms;
use switchboard_store::TenantObjects;

use crate::harness::TestApp;
use crate::pipeline::{AI_CONFIG, models_and_voice, pipeline, put_config, upload_call};

fn ai_config(parquet: bool) -> String {
    let mut ai: Value = serde_json::from_str(AI_CONFIG).unwrap();
    ai["outputs"] = json!({ "parquet": parquet });
    ai.to_string()
}

/// A call's flat-file names with these extensions, as the sorted listing gives them.
fn flat_names(call_id: &str, extensions: &[&str]) -> Vec<String> {
    ["calls", "qa"]
        .iter()
        .flat_map(|dir| {
            extensions
                .iter()
                .map(move |ext| format!("final/v2.0-flat/{dir}/{call_id}.{ext}"))
        })
        .collect()
}

async fn flat_files(objects: &TenantObjects) -> Vec<String> {
    objects
        .list(Area::Results, Some("final/v2.0-flat"))
        .await
        .unwrap()
}

fn parquet_rows(bytes: Bytes) -> Vec<Vec<(String, Field)>> {
    let reader = SerializedFileReader::new(bytes).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| row.unwrap().into_columns())
        .collect()
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (headers, rows)
}

/// A Parquet cell says what the CSV cell says.
fn same_cell(column: &str, field: &Field, csv: &str) {
    let same = match field {
        Field::Null => csv.is_empty(),
        Field::Str(s) => s == csv,
        Field::Bool(b) => b.to_string() == csv,
        Field::Long(n) => n.to_string() == csv,
        Field::Double(x) => csv.parse::<f64>().is_ok_and(|c| (c - x).abs() < 1e-9),
        Field::TimestampMillis(ms) => rfc3339_ms(csv) == Some(*ms),
        other => panic!("{column}: unexpected Parquet value {other:?}"),
    };
    assert!(same, "{column}: Parquet {field:?}, CSV {csv:?}");
}

#[tokio::test]
async fn parquet_rows_are_written_where_enabled_and_removed_when_turned_off() {
    let Some(files) = models_and_voice() else {
        return;
    };
    let app = TestApp::new().await;
    let a = app.tenant("flat-a").await;
    let b = app.tenant("flat-b").await;
    assert_eq!(
        put_config(&app, &a.admin_token, "ai", &ai_config(true))
            .await
            .status,
        StatusCode::OK
    );
    let stored = app.get("/api/v1/config/ai", &a.member_token).await;
    assert_eq!(stored.body["outputs"]["parquet"], true, "{}", stored.text);
    let misspelt = put_config(
        &app,
        &a.admin_token,
        "ai",
        &ai_config(true).replace("\"parquet\"", "\"parket\""),
    )
    .await;
    assert_eq!(misspelt.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(misspelt.text.contains("outputs"), "{}", misspelt.text);

    let call_a = upload_call(&app, &a.admin_token).await;
    let call_b = upload_call(&app, &b.admin_token).await;
    let pipeline = pipeline(&app, files.whisper_tiny_en(), Some(files.minilm_dir()));
    assert_eq!(pipeline.run_until_idle("test").await.unwrap(), 8);

    let objects_a = app
        .storage
        .tenant(&app.scope(&a.admin_token).await)
        .unwrap();
    assert_eq!(
        flat_files(&objects_a).await,
        flat_names(&call_a, &["csv", "parquet"])
    );
    // The call row: the CSV's columns, in order, with the same values.
    let get = |name: String| {
        let objects = &objects_a;
        async move { objects.get(Area::Results, &name).await.unwrap() }
    };
    let (headers, csv) = csv_rows(&get(format!("final/v2.0-flat/calls/{call_a}.csv")).await);
    let parquet = parquet_rows(get(format!("final/v2.0-flat/calls/{call_a}.parquet")).await);
    assert_eq!(parquet.len(), 1);
    let names: Vec<&str> = parquet[0].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, headers);
    for ((column, field), cell) in parquet[0].iter().zip(&csv[0]) {
        same_cell(column, field, cell);
    }
    let typed = |name: &str| &parquet[0][names.iter().position(|n| *n == name).unwrap()].1;
    assert!(matches!(typed("started_at"), Field::TimestampMillis(_)));
    assert!(matches!(typed("duration_seconds"), Field::Double(_)));
    assert!(matches!(typed("utterance_count"), Field::Long(n) if *n >= 5));
    assert!(matches!(typed("qa_overall_pass"), Field::Bool(_)));
    assert_eq!(typed("meta_queue"), &Field::Str("policy-changes".into()));
    // The QA rows: one per rule, the same cells as the CSV.
    let (qa_headers, qa_csv) = csv_rows(&get(format!("final/v2.0-flat/qa/{call_a}.csv")).await);
    let qa = parquet_rows(get(format!("final/v2.0-flat/qa/{call_a}.parquet")).await);
    assert_eq!(qa.len(), qa_csv.len());
    assert!(!qa.is_empty());
    for (row, csv_row) in qa.iter().zip(&qa_csv) {
        let names: Vec<&str> = row.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, qa_headers);
        for ((column, field), cell) in row.iter().zip(csv_row) {
            same_cell(column, field, cell);
        }
    }

    // Tenant B kept the default: CSV only.
    let objects_b = app
        .storage
        .tenant(&app.scope(&b.admin_token).await)
        .unwrap();
    assert_eq!(flat_files(&objects_b).await, flat_names(&call_b, &["csv"]));

    // Parquet turned off, then a re-analysis: the next publish removes A's Parquet files.
    assert_eq!(
        put_config(&app, &a.admin_token, "ai", &ai_config(false))
            .await
            .status,
        StatusCode::OK
    );
    let queued = app
        .post("/api/v1/calls/reanalyse", &a.admin_token, json!({}))
        .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.text);
    assert_eq!(pipeline.run_until_idle("test").await.unwrap(), 2);
    assert_eq!(flat_files(&objects_a).await, flat_names(&call_a, &["csv"]));
}
