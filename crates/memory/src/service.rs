//! Caller memory operations on a tenant transaction: process a conversation into memory
//! (idempotent per call id), store and list memories, and build a caller's context. The
//! blocking model work (sentiment, embeddings) happens in [`prepare`], before a transaction is
//! opened; [`save`] only writes.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Serialize;
use sha2::{Digest, Sha256};
use switchboard_engines::SentimentEngine;
use switchboard_engines::embeddings::Embedder;
use switchboard_receptionist::documents;
use switchboard_receptionist::template::{self, ProfileField};
use switchboard_store::repo::memory::{
    self as repo, CallSummary, CallerProfile, Memory, PersonalityAverages, PersonalityMetrics,
};
use switchboard_store::{StoreResult, TenantTx};

use crate::caller::thread_id;
use crate::conversation::Conversation;
use crate::relevance::{self, Query};
use crate::{facts, personality, profile, summary, vector};

/// The universal template's profile spec, parsed once (tenants without a receptionist use it on
/// every memory request).
static UNIVERSAL: LazyLock<ProfileSpec> = LazyLock::new(|| {
    let universal = template::builtin()
        .into_iter()
        .find(|t| t.id == "universal")
        .expect("the universal template is built in");
    ProfileSpec {
        fields: universal.profile_fields,
        quick_bio: universal.quick_bio,
    }
});

/// The caller-profile fields and quick-bio format of the tenant's receptionist template (the
/// universal template's before the tenant cloned one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileSpec {
    pub fields: Vec<ProfileField>,
    pub quick_bio: String,
}

impl ProfileSpec {
    pub async fn for_tenant(tx: &mut TenantTx) -> StoreResult<ProfileSpec> {
        if let Some((settings, _)) = documents::settings(tx).await? {
            return Ok(ProfileSpec {
                fields: settings.profile_fields,
                quick_bio: settings.quick_bio,
            });
        }
        Ok(UNIVERSAL.clone())
    }

    /// Problems with explicitly given profile values: unknown field names, over-long values.
    pub fn check(&self, values: &BTreeMap<String, String>) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, value) in values {
            if !self.fields.iter().any(|f| &f.name == name) {
                let known: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
                problems.push(format!(
                    "profile.{name} is not a profile field of this tenant's template ({})",
                    known.join(", ")
                ));
            }
            if value.chars().count() > profile::MAX_FIELD_CHARS {
                problems.push(format!(
                    "profile.{name} has more than {} characters",
                    profile::MAX_FIELD_CHARS
                ));
            }
        }
        problems
    }
}

/// A conversation to remember.
#[derive(Clone, Debug)]
pub struct CallInput {
    pub user_id: String,
    /// The CallSid of a live call, or the id a process-call request names; `None`: derived from
    /// the caller and the conversation, so the same conversation sent twice is one call.
    pub call_id: Option<String>,
    pub conversation: Conversation,
    /// Profile values given explicitly; they win over what the conversation says.
    pub profile: BTreeMap<String, String>,
    /// Topics known from elsewhere (a live call's matched scenarios); else from the words.
    pub topics: Option<Vec<String>>,
    pub at_ms: i64,
}

/// What [`prepare`] computed, ready to be saved.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub summary: CallSummary,
    pub memories: Vec<Memory>,
    pub metrics: PersonalityMetrics,
    pub profile_values: BTreeMap<String, String>,
}

/// The derived call id: `conv_` + 32 hex digits of SHA-256 over the caller and the messages.
pub fn derived_call_id(user_id: &str, conversation: &Conversation) -> String {
    let mut hash = Sha256::new();
    hash.update(user_id.as_bytes());
    for (role, text) in &conversation.turns {
        hash.update([0u8, *role as u8]);
        hash.update(text.as_bytes());
    }
    format!("conv_{}", &hex::encode(hash.finalize())[..32])
}

/// Embeds texts for storage; `None` for each when there is no embedder or it fails (memories
/// are then ranked by word overlap).
fn embed_for_storage(embedder: Option<&dyn Embedder>, texts: &[&str]) -> Vec<Option<Vec<u8>>> {
    let Some(embedder) = embedder else {
        return vec![None; texts.len()];
    };
    match embedder.embed_batch(texts) {
        Ok(vectors) => vectors.iter().map(|v| Some(vector::quantise(v))).collect(),
        Err(err) => {
            tracing::warn!(error = %err, "memories stored without embeddings");
            vec![None; texts.len()]
        }
    }
}

/// The model work of processing a call (blocking: run it off the async threads).
pub fn prepare(
    tenant: &str,
    input: &CallInput,
    spec: &ProfileSpec,
    sentiment: &dyn SentimentEngine,
    embedder: Option<&dyn Embedder>,
) -> Prepared {
    let call_id = input
        .call_id
        .clone()
        .unwrap_or_else(|| derived_call_id(&input.user_id, &input.conversation));
    let caller_lines = input.conversation.caller_lines();
    let year = time::OffsetDateTime::from_unix_timestamp(input.at_ms / 1000)
        .map(|t| t.year())
        .unwrap_or(2026);
    let mut profile_values = profile::extract(&caller_lines, &spec.fields, year);
    for (name, value) in &input.profile {
        profile_values.insert(name.clone(), profile::clip(value));
    }
    let facts = facts::facts(&caller_lines);
    let refs: Vec<&str> = facts.iter().map(String::as_str).collect();
    let embeddings = embed_for_storage(embedder, &refs);
    let memories = facts
        .iter()
        .zip(embeddings)
        .map(|(content, embedding)| Memory {
            id: String::new(),
            user_id: input.user_id.clone(),
            content: content.clone(),
            source: format!("call:{call_id}"),
            call_id: Some(call_id.clone()),
            embedding,
            created_at: input.at_ms,
        })
        .collect();
    Prepared {
        summary: CallSummary {
            call_id: call_id.clone(),
            user_id: input.user_id.clone(),
            thread_id: thread_id(tenant, &input.user_id),
            summary: summary::summarise(&input.conversation),
            topics: input
                .topics
                .clone()
                .unwrap_or_else(|| summary::topics(&input.conversation)),
            turns: input.conversation.turns.len() as i64,
            created_at: input.at_ms,
        },
        memories,
        metrics: PersonalityMetrics {
            call_id,
            scores: personality::measure(&caller_lines, sentiment),
            created_at: input.at_ms,
        },
        profile_values,
    }
}

/// A memory as the API shows it (without its vector).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemoryView {
    pub id: String,
    pub user_id: String,
    pub content: String,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    pub created_at: i64,
    /// Relevance (0 … 1), in a context.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// Similarity to the query, when a query was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
}

impl From<&Memory> for MemoryView {
    fn from(m: &Memory) -> Self {
        MemoryView {
            id: m.id.clone(),
            user_id: m.user_id.clone(),
            content: m.content.clone(),
            source: m.source.clone(),
            call_id: m.call_id.clone(),
            created_at: m.created_at,
            score: None,
            similarity: None,
        }
    }
}

/// The outcome of processing a call.
#[derive(Clone, Debug, Serialize)]
pub struct Processed {
    pub call_id: String,
    pub thread_id: String,
    /// This call was processed before; what it produced then is returned and nothing changed.
    pub already_processed: bool,
    pub summary: CallSummary,
    pub profile: CallerProfile,
    pub memories: Vec<MemoryView>,
    pub personality: PersonalityMetrics,
    pub personality_averages: PersonalityAverages,
}

/// Writes a prepared call: its summary (the idempotency key), memories, metrics and averages,
/// and the caller's merged profile with a freshly rendered quick bio — one transaction, the
/// caller's. A call already processed writes nothing and returns what is stored.
pub async fn save(
    tx: &mut TenantTx,
    prepared: Prepared,
    spec: &ProfileSpec,
) -> StoreResult<Processed> {
    let user_id = prepared.summary.user_id.clone();
    let call_id = prepared.summary.call_id.clone();
    if !repo::add_summary(tx, &prepared.summary).await? {
        return already_processed(tx, &call_id, &user_id).await;
    }
    let mut memories = Vec::new();
    for mut memory in prepared.memories {
        memory.id = repo::add_memory(tx, &memory).await?;
        memories.push(MemoryView::from(&memory));
    }
    let averages = repo::add_personality(tx, &user_id, &prepared.metrics).await?;

    let at = prepared.summary.created_at;
    let existing = repo::profile(tx, &user_id).await?;
    let (mut fields, first_seen) = match existing {
        Some(p) => (p.fields, p.first_seen.min(at)),
        None => (BTreeMap::new(), at),
    };
    fields.extend(prepared.profile_values);
    let profile = CallerProfile {
        user_id: user_id.clone(),
        quick_bio: profile::quick_bio(&spec.quick_bio, &fields),
        fields,
        calls: repo::summary_count(tx, &user_id).await?,
        first_seen,
        last_seen: at,
        updated_at: at,
    };
    repo::put_profile(tx, &profile).await?;
    Ok(Processed {
        call_id,
        thread_id: prepared.summary.thread_id.clone(),
        already_processed: false,
        summary: prepared.summary,
        profile,
        memories,
        personality: prepared.metrics,
        personality_averages: averages,
    })
}

async fn already_processed(
    tx: &mut TenantTx,
    call_id: &str,
    user_id: &str,
) -> StoreResult<Processed> {
    use switchboard_store::StoreError;
    let summary = repo::summary(tx, call_id)
        .await?
        .ok_or(StoreError::NotFound("call summary"))?;
    if summary.user_id != user_id {
        return Err(StoreError::Conflict(format!(
            "call {call_id} was processed for another caller"
        )));
    }
    let profile = repo::profile(tx, user_id)
        .await?
        .ok_or(StoreError::NotFound("caller profile"))?;
    let memories = repo::call_memories(tx, call_id)
        .await?
        .iter()
        .map(MemoryView::from)
        .collect();
    let personality = repo::call_personality(tx, call_id)
        .await?
        .ok_or(StoreError::NotFound("personality metrics"))?;
    let averages = repo::personality_averages(tx, user_id)
        .await?
        .ok_or(StoreError::NotFound("personality averages"))?;
    Ok(Processed {
        call_id: call_id.to_owned(),
        thread_id: summary.thread_id.clone(),
        already_processed: true,
        summary,
        profile,
        memories,
        personality,
        personality_averages: averages,
    })
}

/// Stores one memory given directly (the API's `POST /v1/memories`, `/memory/store`).
pub fn new_memory(
    user_id: &str,
    content: &str,
    source: &str,
    embedder: Option<&dyn Embedder>,
    at_ms: i64,
) -> Memory {
    Memory {
        id: String::new(),
        user_id: user_id.to_owned(),
        content: content.trim().to_owned(),
        source: source.to_owned(),
        call_id: None,
        embedding: embed_for_storage(embedder, &[content.trim()])
            .pop()
            .flatten(),
        created_at: at_ms,
    }
}

/// How much context to gather.
#[derive(Clone, Copy, Debug)]
pub struct ContextLimits {
    pub summaries: i64,
    pub memories: usize,
    /// Memories considered for ranking: the caller's newest ones.
    pub candidates: i64,
}

impl Default for ContextLimits {
    fn default() -> Self {
        ContextLimits {
            summaries: 3,
            memories: 5,
            candidates: 200,
        }
    }
}

/// What the receptionist (or an API client) knows about a caller at the start of a call.
#[derive(Clone, Debug, Serialize)]
pub struct CallerContext {
    pub user_id: String,
    pub thread_id: String,
    /// The caller has a profile with this tenant.
    pub known_caller: bool,
    pub quick_bio: String,
    pub profile: Option<CallerProfile>,
    pub recent_summaries: Vec<CallSummary>,
    pub relevant_memories: Vec<MemoryView>,
    pub personality: Option<PersonalityAverages>,
}

impl CallerContext {
    /// The context as a few lines for a language model's system prompt.
    pub fn prompt_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if !self.known_caller {
            return lines;
        }
        lines.push(format!("Caller: {}", self.quick_bio));
        for s in &self.recent_summaries {
            lines.push(format!("Earlier call: {}", s.summary));
        }
        for m in &self.relevant_memories {
            lines.push(format!("Known: {}", m.content));
        }
        lines
    }
}

/// The caller's quick bio, recent summaries, relevant memories and personality, for this
/// transaction's tenant. `query`: the text to rank memories against, with its embedding when
/// one was computed; without it, the newest memories come first.
pub async fn context(
    tx: &mut TenantTx,
    user_id: &str,
    query: Option<Query<'_>>,
    limits: ContextLimits,
    now_ms: i64,
) -> StoreResult<CallerContext> {
    let tenant = tx.tenant().as_str().to_owned();
    let profile = repo::profile(tx, user_id).await?;
    let (recent_summaries, candidates, personality) = if profile.is_some() {
        (
            repo::summaries(tx, user_id, limits.summaries).await?,
            repo::memories(tx, user_id, limits.candidates).await?,
            repo::personality_averages(tx, user_id).await?,
        )
    } else {
        // Memories can be stored for a caller who never called (the API); look anyway.
        (
            Vec::new(),
            repo::memories(tx, user_id, limits.candidates).await?,
            None,
        )
    };
    let ranked = relevance::rank(&candidates, query.as_ref(), now_ms, limits.memories);
    let relevant_memories = ranked
        .iter()
        .map(|s| MemoryView {
            score: Some(round3(s.score)),
            similarity: s.similarity.map(round3),
            ..MemoryView::from(&candidates[s.index])
        })
        .collect();
    Ok(CallerContext {
        user_id: user_id.to_owned(),
        thread_id: thread_id(&tenant, user_id),
        known_caller: profile.is_some(),
        quick_bio: profile
            .as_ref()
            .map(|p| p.quick_bio.clone())
            .unwrap_or_else(|| profile::NEW_CALLER_BIO.to_owned()),
        profile,
        recent_summaries,
        relevant_memories,
        personality,
    })
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}
