//! The engines a worker uses, loaded on first use: a missing model file then fails the jobs that
//! need it, with the error naming the setting to fix, instead of stopping the server. A failed
//! load is tried again by the next job (after `switchboard models fetch`, say).

use std::sync::{Arc, Mutex};

use switchboard_engines::SentimentEngine;
use switchboard_engines::asr::SpeechToText;
use switchboard_engines::embeddings::Embedder;
use switchboard_engines::llm::LanguageModel;
use switchboard_engines::voice::VoiceEmbedder;

use crate::embedding_memo::EmbeddingMemo;

type Builder<T> = Box<dyn Fn() -> Result<Arc<T>, String> + Send + Sync>;

pub struct LazyEngine<T: ?Sized + Send + Sync + 'static> {
    build: Builder<T>,
    loaded: Mutex<Option<Arc<T>>>,
}

/// Blocking HTTP clients own a runtime that must not be dropped on an async thread, and the
/// last owner of a pipeline is often a worker task: the engine is dropped on a plain thread.
impl<T: ?Sized + Send + Sync + 'static> Drop for LazyEngine<T> {
    fn drop(&mut self) {
        let loaded = self
            .loaded
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(engine) = loaded
            && tokio::runtime::Handle::try_current().is_ok()
        {
            std::thread::spawn(move || drop(engine));
        }
    }
}

impl<T: ?Sized + Send + Sync + 'static> LazyEngine<T> {
    pub fn new(build: impl Fn() -> Result<Arc<T>, String> + Send + Sync + 'static) -> Self {
        LazyEngine {
            build: Box::new(build),
            loaded: Mutex::new(None),
        }
    }

    /// An engine that is already loaded (tests, or an engine built elsewhere).
    pub fn ready(engine: Arc<T>) -> Self {
        LazyEngine {
            build: Box::new(|| Err("unreachable: the engine was given loaded".into())),
            loaded: Mutex::new(Some(engine)),
        }
    }

    /// The engine, loading it if needed. Blocking: call from a blocking thread.
    pub fn get(&self) -> Result<Arc<T>, String> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(engine) = loaded.as_ref() {
            return Ok(engine.clone());
        }
        let engine = (self.build)()?;
        *loaded = Some(engine.clone());
        Ok(engine)
    }
}

pub struct Engines {
    pub asr: LazyEngine<dyn SpeechToText>,
    pub sentiment: Arc<dyn SentimentEngine>,
    pub embedder: LazyEngine<dyn Embedder>,
    /// Tells the two speakers of a mono recording apart.
    pub voices: LazyEngine<dyn VoiceEmbedder>,
    /// The platform's hosted or self-hosted model (`LLM_PROVIDER` openai/anthropic), used when a
    /// tenant's ai-config asks for it; `None` when the platform runs the embedded default.
    pub language_model: Option<LazyEngine<dyn LanguageModel>>,
    /// Rubric example phrases already embedded, per tenant (see [`EmbeddingMemo`]).
    pub rubric_vectors: EmbeddingMemo,
}
