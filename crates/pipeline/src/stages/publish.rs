//! Publish (SPEC §4.5): the current final record → flat rows under `final/v2.0-flat/` (CSV, and
//! Parquet when the tenant's ai-config enables it) and the dashboard tables, replaced in the same
//! transaction that marks the call published.

use bytes::Bytes;
use switchboard_core::Area;
use switchboard_store::queue::ClaimedJob;

use super::{
    StageError, ai_config, final_name, finish, flat_call_name, flat_qa_name, put_all, read_json,
};
use crate::record::FinalRecord;
use crate::stage::Stage;
use crate::worker::Pipeline;
use crate::{flat, flat_parquet};

pub(super) async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), StageError> {
    let objects = pipeline.storage.tenant(&job.scope)?;
    let record: FinalRecord = read_json(&objects, &final_name(&job.call_id)).await?;
    let ai = ai_config(&objects).await?;
    let row = flat::call_row(&record);
    let qa = flat::qa_rows(&record);
    let csv = |e: csv::Error| StageError::permanent(format!("could not write CSV: {e}"));
    let mut files = vec![
        (
            flat_call_name(&job.call_id, "csv"),
            flat::call_csv(&row).map_err(csv)?,
        ),
        (
            flat_qa_name(&job.call_id, "csv"),
            flat::qa_csv(&record.tenant_id, &qa).map_err(csv)?,
        ),
    ];
    let parquet_names = [
        flat_call_name(&job.call_id, "parquet"),
        flat_qa_name(&job.call_id, "parquet"),
    ];
    if ai.outputs.parquet {
        let parquet = |e: parquet::errors::ParquetError| {
            StageError::permanent(format!("could not write Parquet: {e}"))
        };
        let [call_name, qa_name] = parquet_names;
        files.push((
            call_name,
            flat_parquet::call_parquet(&row).map_err(parquet)?,
        ));
        files.push((
            qa_name,
            flat_parquet::qa_parquet(&record.tenant_id, &qa).map_err(parquet)?,
        ));
    } else {
        // Parquet turned off since an earlier publish: a stale file would contradict the CSV.
        for name in &parquet_names {
            objects.delete(Area::Results, name).await?;
        }
    }
    let files = files
        .into_iter()
        .map(|(name, bytes)| (name, Bytes::from(bytes)))
        .collect();
    put_all(&objects, files).await?;
    let result_row = flat::call_result_row(&record, record.provenance.model_tokens);
    finish(pipeline, job, Stage::Publish, Some((result_row, qa))).await?;
    Ok(())
}
