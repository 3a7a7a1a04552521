//! Publish (SPEC §4.5): the current final record → flat CSV rows under `final/v2.0-flat/` and
//! the dashboard tables, replaced in the same transaction that marks the call published.

use bytes::Bytes;
use switchboard_core::Area;
use switchboard_store::queue::ClaimedJob;

use super::{StageError, final_name, finish, flat_call_name, flat_qa_name, read_json};
use crate::flat;
use crate::record::FinalRecord;
use crate::stage::Stage;
use crate::worker::Pipeline;

pub(super) async fn run(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), StageError> {
    let objects = pipeline.storage.tenant(&job.scope)?;
    let record: FinalRecord = read_json(&objects, &final_name(&job.call_id)).await?;
    let row = flat::call_row(&record);
    let qa = flat::qa_rows(&record);
    let encode = |e: csv::Error| StageError::permanent(format!("could not write CSV: {e}"));
    let call_csv = flat::call_csv(&row).map_err(encode)?;
    let qa_csv = flat::qa_csv(&record.tenant_id, &qa).map_err(encode)?;
    objects
        .put(
            Area::Results,
            &flat_call_name(&job.call_id),
            Bytes::from(call_csv),
        )
        .await?;
    objects
        .put(
            Area::Results,
            &flat_qa_name(&job.call_id),
            Bytes::from(qa_csv),
        )
        .await?;
    let result_row = flat::call_result_row(&record, record.provenance.model_tokens);
    finish(pipeline, job, Stage::Publish, Some((result_row, qa))).await?;
    Ok(())
}
