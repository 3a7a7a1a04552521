//! Caller memory at run time: the engines it borrows (VADER always; MiniLM when loaded, shared
//! with the receptionist and the pipeline), and the three operations the memory API and the
//! receptionist use — process a conversation, store a memory, build a caller's context. The
//! model work runs on a blocking thread before a tenant transaction is opened.

use std::sync::Arc;

use switchboard_engines::embeddings::Embedder;
use switchboard_engines::{SentimentEngine, VaderSentiment};
use switchboard_memory::relevance::Query;
use switchboard_memory::service::{
    self, CallInput, CallerContext, ContextLimits, Processed, ProfileSpec,
};
use switchboard_store::clock::now_ms;
use switchboard_store::repo::memory::{self as repo, Memory};
use switchboard_store::{StoreError, StoreResult, TenantScope};

use crate::state::AppState;

/// The loaded embedder, if the platform has one (blocking: the first call loads the model).
fn embedder(state: &AppState) -> Option<Arc<dyn Embedder>> {
    let engines = state.receptionist.engines()?;
    match engines.embedder.get() {
        Ok(embedder) => Some(embedder),
        Err(err) => {
            tracing::warn!(error = %err, "caller memory without embeddings");
            None
        }
    }
}

fn sentiment(state: &AppState) -> Arc<dyn SentimentEngine> {
    state
        .receptionist
        .engines()
        .map(|e| e.sentiment.clone())
        .unwrap_or_else(|| Arc::new(VaderSentiment::new()))
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> StoreResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Invalid(format!("caller memory: {e}")))
}

/// The tenant's profile spec, read in its own transaction.
pub async fn profile_spec(state: &AppState, scope: &TenantScope) -> StoreResult<ProfileSpec> {
    let mut tx = state.db.read(scope).await?;
    let spec = ProfileSpec::for_tenant(&mut tx).await?;
    tx.commit().await?;
    Ok(spec)
}

/// Processes a conversation into the tenant's memory (idempotent per call id).
pub async fn process(
    state: &AppState,
    scope: &TenantScope,
    input: CallInput,
    spec: ProfileSpec,
) -> StoreResult<Processed> {
    let tenant = scope.tenant().as_str().to_owned();
    let (state2, spec2) = (state.clone(), spec.clone());
    let prepared = blocking(move || {
        let embedder = embedder(&state2);
        service::prepare(
            &tenant,
            &input,
            &spec2,
            sentiment(&state2).as_ref(),
            embedder.as_deref(),
        )
    })
    .await?;
    let mut tx = state.db.write(scope).await?;
    let processed = service::save(&mut tx, prepared, &spec).await?;
    tx.commit().await?;
    Ok(processed)
}

/// Stores one memory; returns it with its id.
pub async fn store(
    state: &AppState,
    scope: &TenantScope,
    user_id: &str,
    content: &str,
    source: &str,
) -> StoreResult<Memory> {
    let (state2, user, text, from) = (
        state.clone(),
        user_id.to_owned(),
        content.to_owned(),
        source.to_owned(),
    );
    let mut memory = blocking(move || {
        let embedder = embedder(&state2);
        service::new_memory(&user, &text, &from, embedder.as_deref(), now_ms())
    })
    .await?;
    let mut tx = state.db.write(scope).await?;
    memory.id = repo::add_memory(&mut tx, &memory).await?;
    tx.commit().await?;
    Ok(memory)
}

/// Embeds a context query when an embedder is loaded; `None` otherwise.
pub async fn embed_query(state: &AppState, text: &str) -> StoreResult<Option<Vec<f32>>> {
    let (state2, text) = (state.clone(), text.to_owned());
    blocking(move || embedder(&state2).and_then(|e| e.embed(&text).ok())).await
}

/// The caller's context for this scope's tenant. `query`: text to rank memories by, with its
/// embedding when computed.
pub async fn context(
    state: &AppState,
    scope: &TenantScope,
    user_id: &str,
    query: Option<(&str, Option<&[f32]>)>,
    limits: ContextLimits,
) -> StoreResult<CallerContext> {
    let mut tx = state.db.read(scope).await?;
    let context = service::context(
        &mut tx,
        user_id,
        query.map(|(text, embedding)| Query { text, embedding }),
        limits,
        now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(context)
}
