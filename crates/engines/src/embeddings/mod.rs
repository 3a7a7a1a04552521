//! Sentence embeddings: a trait, cosine similarity, and all-MiniLM-L6-v2 through candle
//! (feature `candle`), used for QA semantic rules, extractive summaries, knowledge Q&A
//! and caller memory.

#[cfg(all(feature = "candle", target_arch = "x86_64"))]
pub mod amx_product;
#[cfg(feature = "candle")]
pub mod attention;
#[cfg(feature = "candle")]
pub mod dense;
#[cfg(feature = "candle")]
pub mod minilm;
#[cfg(feature = "candle")]
pub mod packed_bert;
#[cfg(feature = "candle")]
pub mod rows;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "the embedding model file {path} is missing; set {setting} or run `switchboard models fetch`"
    )]
    ModelMissing { path: String, setting: &'static str },
    #[error("the embedding model could not be loaded: {0}")]
    Model(String),
    #[error("embedding failed: {0}")]
    Failed(String),
}

pub trait Embedder: Send + Sync {
    /// Engine and model name, recorded with results.
    fn model(&self) -> &str;
    fn dimension(&self) -> usize;
    /// Unit-length embeddings, one per text, in order.
    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;

    fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let mut out = self.embed_batch(&[text])?;
        out.pop()
            .ok_or_else(|| EmbedError::Failed("no embedding returned".into()))
    }
}

/// Cosine similarity; for unit vectors, the dot product.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let denominator = norm(a) * norm(b);
    if denominator == 0.0 {
        0.0
    } else {
        dot / denominator
    }
}

/// Deterministic test values in [-0.5, 0.5) (a linear congruential sequence from `seed`).
#[cfg(test)]
pub(crate) fn test_values(count: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn cosine_of_parallel_orthogonal_and_zero() {
        assert!((super::cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert_eq!(super::cosine(&[1.0, 0.0], &[0.0, 3.0]), 0.0);
        assert_eq!(super::cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }
}
