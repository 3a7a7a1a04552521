//! Embeddings computed once and reused: within a call (the extractive summary and every semantic
//! rule look at the same utterances) and across a tenant's calls (a rubric's example phrases are
//! the same for every call until the rubric changes). The embedding model is most of the cost of
//! analysing a call on the embedded engines (BENCHMARKS.md, P2), so each text is embedded once.
//!
//! Entries are keyed by tenant as well as text: a vector is a function of its text alone, but a
//! tenant's phrases are its own, and nothing about them — not even how fast they embed — should
//! depend on another tenant.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchboard_core::TenantId;
use switchboard_engines::embeddings::{EmbedError, Embedder};

/// A tenant's text and its vector.
type Entries = HashMap<(TenantId, String), Arc<[f32]>>;

/// Texts and their vectors, per tenant. When `capacity` entries are held, the memo starts over.
pub struct EmbeddingMemo {
    entries: Mutex<Entries>,
    capacity: usize,
}

/// What a long-lived memo keeps before it starts over: rubric examples, a few dozen per tenant.
pub const SHARED_CAPACITY: usize = 20_000;

impl Default for EmbeddingMemo {
    fn default() -> Self {
        EmbeddingMemo::with_capacity(SHARED_CAPACITY)
    }
}

impl EmbeddingMemo {
    pub fn with_capacity(capacity: usize) -> Self {
        EmbeddingMemo {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// A memo for one call's work, dropped with it.
    pub fn for_one_call() -> Self {
        EmbeddingMemo::with_capacity(usize::MAX)
    }

    /// `inner`, answering from this memo for `tenant`'s texts it has seen.
    pub fn embedder<'a>(
        &'a self,
        tenant: &'a TenantId,
        inner: &'a dyn Embedder,
    ) -> MemoisedEmbedder<'a> {
        MemoisedEmbedder {
            memo: self,
            tenant,
            inner,
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct MemoisedEmbedder<'a> {
    memo: &'a EmbeddingMemo,
    tenant: &'a TenantId,
    inner: &'a dyn Embedder,
}

impl Embedder for MemoisedEmbedder<'_> {
    fn model(&self) -> &str {
        self.inner.model()
    }

    fn dimension(&self) -> usize {
        self.inner.dimension()
    }

    /// The texts not seen before go to the model in one batch (each distinct text once).
    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let key = |text: &str| (self.tenant.clone(), text.to_owned());
        let mut found: HashMap<&str, Arc<[f32]>> = HashMap::new();
        let mut missing: Vec<&str> = Vec::new();
        {
            let entries = self.memo.lock();
            for text in texts {
                if found.contains_key(text) || missing.contains(text) {
                    continue;
                }
                match entries.get(&key(text)) {
                    Some(vector) => {
                        found.insert(text, vector.clone());
                    }
                    None => missing.push(text),
                }
            }
        }
        if !missing.is_empty() {
            // The model runs without the lock: other calls' work goes on meanwhile.
            let fresh = self.inner.embed_batch(&missing)?;
            if fresh.len() != missing.len() {
                return Err(EmbedError::Failed(format!(
                    "{} embeddings for {} texts",
                    fresh.len(),
                    missing.len()
                )));
            }
            let mut entries = self.memo.lock();
            if entries.len() + missing.len() > self.memo.capacity {
                entries.clear();
            }
            for (text, vector) in missing.into_iter().zip(fresh) {
                let vector: Arc<[f32]> = Arc::from(vector);
                entries.insert(key(text), vector.clone());
                found.insert(text, vector);
            }
        }
        Ok(texts.iter().map(|text| found[text].to_vec()).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts the texts it is asked to embed; the vector is the text's length and first byte.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl Embedder for Counting {
        fn model(&self) -> &str {
            "counting"
        }

        fn dimension(&self) -> usize {
            2
        }

        fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.fetch_add(texts.len(), Ordering::Relaxed);
            Ok(texts
                .iter()
                .map(|t| vec![t.len() as f32, f32::from(t.bytes().next().unwrap_or(0))])
                .collect())
        }
    }

    fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).unwrap()
    }

    #[test]
    fn each_text_is_embedded_once_per_tenant_and_answers_keep_their_order() {
        let model = Counting::default();
        let memo = EmbeddingMemo::for_one_call();
        let (a, b) = (tenant("tenant-a"), tenant("tenant-b"));
        let embedder = memo.embedder(&a, &model);
        let first = embedder.embed_batch(&["hello", "hi", "hello"]).unwrap();
        assert_eq!(
            first,
            [vec![5.0, 104.0], vec![2.0, 104.0], vec![5.0, 104.0]]
        );
        assert_eq!(model.0.load(Ordering::Relaxed), 2, "distinct texts only");
        let again = embedder.embed_batch(&["hi", "yes", "hello"]).unwrap();
        assert_eq!(
            again,
            [vec![2.0, 104.0], vec![3.0, 121.0], vec![5.0, 104.0]]
        );
        assert_eq!(model.0.load(Ordering::Relaxed), 3, "only the new text");
        assert!(embedder.embed_batch(&[]).unwrap().is_empty());
        // Another tenant's texts are its own, even when the words are the same.
        memo.embedder(&b, &model).embed_batch(&["hello"]).unwrap();
        assert_eq!(model.0.load(Ordering::Relaxed), 4);
        assert_eq!(memo.len(), 4);
    }

    #[test]
    fn a_full_memo_starts_over() {
        let model = Counting::default();
        let memo = EmbeddingMemo::with_capacity(2);
        let a = tenant("tenant-a");
        let embedder = memo.embedder(&a, &model);
        embedder.embed_batch(&["one", "two"]).unwrap();
        assert_eq!(memo.len(), 2);
        embedder.embed_batch(&["three"]).unwrap();
        assert_eq!(memo.len(), 1);
        embedder.embed_batch(&["one"]).unwrap();
        assert_eq!(model.0.load(Ordering::Relaxed), 4);
    }
}
