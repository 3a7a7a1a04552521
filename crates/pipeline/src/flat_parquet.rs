//! The flat rows as Parquet (SPEC §4.5: "CSV, and Parquet where enabled"), beside the CSV files:
//! one file per call for its call row and one for its QA rows.
//!
//! Each column's type is fixed by its name, so the files of many calls read as one table in a
//! query engine: `started_at`/`ended_at` as UTC timestamps (milliseconds), counts as INT64,
//! scores and seconds as DOUBLE, `qa_overall_pass` as BOOLEAN, and every other column — the
//! `qa_<rule_id>` and `meta_<field>` columns included — as a UTF-8 string with the CSV's text.
//! Every column is optional (null where the CSV cell is empty). Written with the `parquet`
//! crate's column writers (no Arrow; ADR 0007), snappy-compressed.

use std::sync::Arc;

use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use serde_json::Value;
use switchboard_store::repo::results::QaResultRow;

use crate::flat::rfc3339_ms;

/// The values of one column, `None` for null.
enum Values {
    Text(Vec<Option<String>>),
    Float(Vec<Option<f64>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    /// Unix milliseconds, UTC.
    Timestamp(Vec<Option<i64>>),
}

struct Column {
    name: String,
    values: Values,
}

/// The call row (`flat::call_row`) as a one-row Parquet file.
pub fn call_parquet(row: &[(String, Value)]) -> Result<Vec<u8>, ParquetError> {
    let columns = row
        .iter()
        .map(|(name, value)| Column {
            name: name.clone(),
            values: call_cell(name, value),
        })
        .collect();
    write("call", columns)
}

fn call_cell(name: &str, value: &Value) -> Values {
    match name {
        "started_at" | "ended_at" => Values::Timestamp(vec![value.as_str().and_then(rfc3339_ms)]),
        "transcript_word_count" | "utterance_count" | "interruptions" => {
            Values::Int(vec![value.as_i64()])
        }
        "duration_seconds"
        | "sentiment_score"
        | "agent_sentiment_score"
        | "customer_sentiment_score"
        | "positive_score"
        | "neutral_score"
        | "negative_score"
        | "mixed_score"
        | "agent_talk_ratio"
        | "non_talk_seconds"
        | "qa_score" => Values::Float(vec![value.as_f64()]),
        "qa_overall_pass" => Values::Bool(vec![value.as_bool()]),
        _ => Values::Text(vec![match value {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }]),
    }
}

/// The call's QA rows (`flat::qa_rows`), one per rule, in `flat::QA_COLUMNS` order.
pub fn qa_parquet(tenant: &str, rows: &[QaResultRow]) -> Result<Vec<u8>, ParquetError> {
    let text = |f: &dyn Fn(&QaResultRow) -> String| -> Values {
        Values::Text(rows.iter().map(|r| Some(f(r))).collect())
    };
    let columns = vec![
        ("call_id", text(&|r| r.call_id.clone())),
        ("tenant_id", text(&|_| tenant.to_owned())),
        ("rule_id", text(&|r| r.rule_id.clone())),
        ("rule_name", text(&|r| r.rule_name.clone())),
        (
            "passed",
            Values::Bool(rows.iter().map(|r| r.passed).collect()),
        ),
        ("reason", text(&|r| r.reason.clone())),
        (
            "evidence_start_ms",
            Values::Int(rows.iter().map(|r| r.evidence_start_ms).collect()),
        ),
    ];
    debug_assert!(
        columns
            .iter()
            .map(|(name, _)| *name)
            .eq(crate::flat::QA_COLUMNS.iter().copied())
    );
    write(
        "qa",
        columns
            .into_iter()
            .map(|(name, values)| Column {
                name: name.to_owned(),
                values,
            })
            .collect(),
    )
}

fn field(column: &Column) -> Result<Arc<Type>, ParquetError> {
    let (physical, logical) = match column.values {
        Values::Text(_) => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
        Values::Float(_) => (Physical::DOUBLE, None),
        Values::Int(_) => (Physical::INT64, None),
        Values::Bool(_) => (Physical::BOOLEAN, None),
        Values::Timestamp(_) => (
            Physical::INT64,
            Some(LogicalType::timestamp(true, TimeUnit::MILLIS)),
        ),
    };
    Ok(Arc::new(
        Type::primitive_type_builder(&column.name, physical)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(logical)
            .build()?,
    ))
}

/// Definition levels (1 = present, 0 = null) and the present values.
fn split<T: Clone, U>(cells: &[Option<T>], convert: impl Fn(T) -> U) -> (Vec<i16>, Vec<U>) {
    let levels = cells.iter().map(|c| i16::from(c.is_some())).collect();
    let present = cells.iter().flatten().cloned().map(convert).collect();
    (levels, present)
}

fn write(schema_name: &str, columns: Vec<Column>) -> Result<Vec<u8>, ParquetError> {
    let fields = columns.iter().map(field).collect::<Result<Vec<_>, _>>()?;
    let schema = Arc::new(
        Type::group_type_builder(schema_name)
            .with_fields(fields)
            .build()?,
    );
    let properties = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut writer = SerializedFileWriter::new(Vec::new(), schema, properties)?;
    let mut group = writer.next_row_group()?;
    let mut columns = columns.into_iter();
    while let Some(mut out) = group.next_column()? {
        let column = columns
            .next()
            .ok_or_else(|| ParquetError::General("more schema fields than columns".into()))?;
        match (out.untyped(), &column.values) {
            (ColumnWriter::ByteArrayColumnWriter(w), Values::Text(cells)) => {
                let (levels, values) = split(cells, |s: String| ByteArray::from(s.into_bytes()));
                w.write_batch(&values, Some(&levels), None)?;
            }
            (ColumnWriter::DoubleColumnWriter(w), Values::Float(cells)) => {
                let (levels, values) = split(cells, |v| v);
                w.write_batch(&values, Some(&levels), None)?;
            }
            (ColumnWriter::Int64ColumnWriter(w), Values::Int(cells) | Values::Timestamp(cells)) => {
                let (levels, values) = split(cells, |v| v);
                w.write_batch(&values, Some(&levels), None)?;
            }
            (ColumnWriter::BoolColumnWriter(w), Values::Bool(cells)) => {
                let (levels, values) = split(cells, |v| v);
                w.write_batch(&values, Some(&levels), None)?;
            }
            _ => {
                return Err(ParquetError::General(format!(
                    "column {} does not match its schema type",
                    column.name
                )));
            }
        }
        out.close()?;
    }
    group.close()?;
    writer.into_inner()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    use serde_json::json;

    use super::*;

    fn read(bytes: Vec<u8>) -> Vec<Vec<(String, Field)>> {
        let reader = SerializedFileReader::new(Bytes::from(bytes)).unwrap();
        reader
            .get_row_iter(None)
            .unwrap()
            .map(|row| row.unwrap().into_columns())
            .collect()
    }

    #[test]
    fn a_call_row_keeps_its_columns_in_order_with_typed_values_and_nulls() {
        let row = vec![
            ("call_id".to_owned(), json!("c1")),
            ("started_at".to_owned(), json!("2026-11-20T10:00:00Z")),
            ("duration_seconds".to_owned(), json!(31.5)),
            ("agent_sentiment_score".to_owned(), Value::Null),
            ("interruptions".to_owned(), json!(2)),
            ("qa_overall_pass".to_owned(), json!(true)),
            ("qa_greeting".to_owned(), json!("pass")),
            ("meta_queue".to_owned(), json!(7)),
        ];
        let rows = read(call_parquet(&row).unwrap());
        assert_eq!(rows.len(), 1);
        let names: Vec<&str> = rows[0].iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            row.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()
        );
        let cells: Vec<&Field> = rows[0].iter().map(|(_, f)| f).collect();
        assert_eq!(cells[0], &Field::Str("c1".into()));
        assert_eq!(cells[1], &Field::TimestampMillis(1_795_168_800_000));
        assert_eq!(cells[2], &Field::Double(31.5));
        assert_eq!(cells[3], &Field::Null);
        assert_eq!(cells[4], &Field::Long(2));
        assert_eq!(cells[5], &Field::Bool(true));
        assert_eq!(cells[6], &Field::Str("pass".into()));
        assert_eq!(cells[7], &Field::Str("7".into()), "meta columns are text");
    }

    #[test]
    fn qa_rows_read_back_one_per_rule() {
        let rule = |id: &str, passed: Option<bool>, at: Option<i64>| QaResultRow {
            call_id: "c1".into(),
            rule_id: id.into(),
            rule_name: format!("Rule {id}"),
            passed,
            reason: "because".into(),
            evidence_start_ms: at,
        };
        let rows = read(
            qa_parquet(
                "acme",
                &[
                    rule("greeting", Some(true), Some(1200)),
                    rule("resolved", None, None),
                ],
            )
            .unwrap(),
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][1], ("tenant_id".into(), Field::Str("acme".into())));
        assert_eq!(rows[0][4], ("passed".into(), Field::Bool(true)));
        assert_eq!(rows[0][6], ("evidence_start_ms".into(), Field::Long(1200)));
        assert_eq!(
            rows[1][2],
            ("rule_id".into(), Field::Str("resolved".into()))
        );
        assert_eq!(rows[1][4], ("passed".into(), Field::Null));
        assert_eq!(rows[1][6], ("evidence_start_ms".into(), Field::Null));
    }
}
