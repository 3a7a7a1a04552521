//! The receptionist's stored documents, parsed in one place (the `store` feature): a tenant's
//! settings and the templates. Every reader and writer (webhooks, the tenant-admin API,
//! onboarding, caller memory, the demo, benchmarks) goes through these, so a stored document that no longer parses is one error kind
//! (`StoreError::Corrupt`, a 500) and nothing invalid is written.

use crate::{ReceptionistSettings, Template};
use switchboard_store::repo::receptionist::{self, StoredSettings};
use switchboard_store::repo::templates;
use switchboard_store::{StoreError, StoreResult, TenantAdmin, TenantTx};

/// Parses a stored template document.
pub fn parse_template(body: &str) -> StoreResult<Template> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("stored template: {e}")))
}

/// One version of a template (`None`: the latest), parsed.
pub async fn template(
    tx: &mut TenantTx,
    id: &str,
    version: Option<i64>,
) -> StoreResult<Option<Template>> {
    templates::get(tx, id, version)
        .await?
        .map(|row| parse_template(&row.body))
        .transpose()
}

/// The tenant's settings, parsed, with their revision; `None` before a template was cloned.
pub async fn settings(
    tx: &mut TenantTx,
) -> StoreResult<Option<(ReceptionistSettings, StoredSettings)>> {
    let Some(stored) = receptionist::get(tx).await? else {
        return Ok(None);
    };
    let settings = serde_json::from_str(&stored.body)
        .map_err(|e| StoreError::Corrupt(format!("stored receptionist settings: {e}")))?;
    Ok(Some((settings, stored)))
}

/// Writes the settings; refuses settings with problems (callers that answer users list them
/// first with [`ReceptionistSettings::problems`]). Returns the new revision.
pub async fn save(
    tx: &mut TenantTx,
    admin: TenantAdmin<'_>,
    settings: &ReceptionistSettings,
) -> StoreResult<i64> {
    let problems = settings.problems();
    if !problems.is_empty() {
        return Err(StoreError::Invalid(format!(
            "invalid receptionist settings: {}",
            problems.join("; ")
        )));
    }
    let body = serde_json::to_string(settings)
        .map_err(|e| StoreError::Invalid(format!("receptionist settings: {e}")))?;
    receptionist::put(tx, admin, &body).await
}
