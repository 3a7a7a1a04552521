//! The receptionist at run time: the engines it uses (shared with the pipeline's, so MiniLM is
//! loaded once per process), the platform's Twilio account, and a per-tenant cache of prepared
//! matchers keyed by `(tenant, settings revision)` — one tenant's entry can never answer
//! another's caller, and any change to settings or knowledge bumps the revision.

pub mod conversation;
pub mod follow_up;
pub use switchboard_receptionist::documents;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_core::TenantId;
use switchboard_pipeline::Engines;
use switchboard_receptionist::ReceptionistSettings;
use switchboard_receptionist::responder::{KnowledgeEntry, Prepared};
use switchboard_store::auth::twilio::PlatformTwilio;
use switchboard_store::repo::receptionist;
use switchboard_store::{StoreError, StoreResult, TenantTx};

pub struct Receptionist {
    engines: Option<Arc<Engines>>,
    pub twilio: Option<PlatformTwilio>,
    /// How long a language-model reply may take before the caller hears the fallback.
    pub llm_timeout: Duration,
    cache: Mutex<HashMap<TenantId, (i64, Arc<Prepared>)>>,
}

impl Receptionist {
    pub fn new(engines: Option<Arc<Engines>>, twilio: Option<PlatformTwilio>) -> Receptionist {
        Receptionist {
            engines,
            twilio,
            llm_timeout: Duration::from_secs(4),
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn engines(&self) -> Option<&Arc<Engines>> {
        self.engines.as_ref()
    }

    /// The tenant's prepared matcher, rebuilt when its revision moved; `None` before the tenant
    /// cloned a template. Reads inside the caller's tenant transaction.
    pub async fn prepared(&self, tx: &mut TenantTx) -> StoreResult<Option<Arc<Prepared>>> {
        let tenant = tx.tenant().clone();
        let Some(revision) = receptionist::revision(tx).await? else {
            return Ok(None);
        };
        if let Some((cached, prepared)) = self.lock().get(&tenant)
            && *cached == revision
        {
            return Ok(Some(prepared.clone()));
        }
        let (settings, stored) = documents::settings(tx)
            .await?
            .ok_or(StoreError::NotFound("receptionist settings"))?;
        let knowledge: Vec<KnowledgeEntry> = receptionist::knowledge(tx)
            .await?
            .into_iter()
            .map(|k| KnowledgeEntry {
                id: k.id,
                question: k.question,
                answer: k.answer,
            })
            .collect();
        let engines = self.engines.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            let embedder = engines.as_ref().and_then(|e| match e.embedder.get() {
                Ok(embedder) => Some(embedder),
                Err(err) => {
                    tracing::warn!(error = %err, "receptionist matching without embeddings");
                    None
                }
            });
            let semantic = Prepared::new(settings.clone(), knowledge.clone(), embedder.as_deref());
            semantic.or_else(|err| {
                tracing::warn!(error = %err, "embedding failed; lexical matching only");
                Prepared::new(settings, knowledge, None)
            })
        })
        .await
        .map_err(|e| StoreError::Invalid(format!("preparing the receptionist: {e}")))?
        .map_err(|e| StoreError::Invalid(format!("preparing the receptionist: {e}")))?;
        let prepared = Arc::new(prepared);
        self.lock()
            .insert(tenant, (stored.revision, prepared.clone()));
        Ok(Some(prepared))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, (i64, Arc<Prepared>)>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The tenants with a cached matcher (tests check the cache is per tenant).
    pub fn cached_tenants(&self) -> Vec<TenantId> {
        let mut tenants: Vec<TenantId> = self.lock().keys().cloned().collect();
        tenants.sort();
        tenants
    }
}

/// Publishes the built-in templates (idempotent: an unchanged version is a no-op). Run at start-up
/// by the CLI after migrations.
pub async fn seed_builtin_templates(
    db: &switchboard_store::Db,
    admin: &switchboard_store::PlatformAdmin,
) -> StoreResult<()> {
    let mut tx = db.platform(admin).await?;
    for template in switchboard_receptionist::template::builtin() {
        let body = serde_json::to_string_pretty(&template)
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        switchboard_store::repo::templates::publish(
            &mut tx,
            &template.id,
            template.version,
            &template.name,
            &body,
        )
        .await?;
    }
    tx.commit().await
}

/// Clones the latest version of `template_id` into a tenant that has no receptionist settings
/// yet (onboarding with a template, the demo). Existing settings are left alone.
pub async fn clone_at_onboarding(
    db: &switchboard_store::Db,
    scope: &switchboard_store::TenantScope,
    template_id: &str,
) -> StoreResult<bool> {
    let admin = scope
        .admin()
        .ok_or_else(|| StoreError::Invalid("cloning a template needs the admin role".into()))?;
    let mut tx = db.write(scope).await?;
    if receptionist::revision(&mut tx).await?.is_some() {
        return Ok(false);
    }
    let template = documents::template(&mut tx, template_id, None)
        .await?
        .ok_or(StoreError::NotFound("template"))?;
    let settings =
        ReceptionistSettings::clone_template(&template, switchboard_store::clock::now_ms());
    documents::save(&mut tx, admin, &settings).await?;
    tx.commit().await?;
    Ok(true)
}
