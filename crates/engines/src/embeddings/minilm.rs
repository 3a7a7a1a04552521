//! all-MiniLM-L6-v2 (384 dimensions) on the CPU: BERT on candle ([`PackedBert`]), its dense
//! layers on Intel AMX where the CPU has it ([`Precision`]).
//!
//! As sentence-transformers does: tokenize (truncate at 128 tokens), run BERT, mean-pool
//! the last hidden state over each text's tokens, L2-normalise. The texts of a batch are not
//! padded to a common length ([`PackedBert`]): padding, masked out of attention and pooling,
//! changes nothing in the result but was a third of the work on a call's utterances.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config;
use tokenizers::Tokenizer;

use super::dense::Precision;
use super::packed_bert::{PackedBert, mean_per_text, normalise};
use super::{EmbedError, Embedder};

pub struct MiniLm {
    model: PackedBert,
    tokenizer: Tokenizer,
    dimension: usize,
}

const SETTING: &str = "EMBEDDING_MODEL_DIR";

impl MiniLm {
    /// Loads `model.safetensors`, `config.json` and `tokenizer.json` from `dir`, its dense
    /// layers in bfloat16 on AMX where the CPU has it ([`Precision::Bf16WhereFaster`]).
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        Self::load_at(dir, Precision::Bf16WhereFaster)
    }

    /// [`MiniLm::load`] with the dense layers' products at `precision`.
    pub fn load_at(dir: &Path, precision: Precision) -> Result<Self, EmbedError> {
        let file = |name: &str| -> Result<PathBuf, EmbedError> {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(EmbedError::ModelMissing {
                    path: path.display().to_string(),
                    setting: SETTING,
                })
            }
        };
        let (weights, config, tokenizer) = (
            file("model.safetensors")?,
            file("config.json")?,
            file("tokenizer.json")?,
        );
        let bad = |e: &dyn std::fmt::Display| EmbedError::Model(e.to_string());
        let config: Config = serde_json::from_slice(&std::fs::read(&config).map_err(|e| bad(&e))?)
            .map_err(|e| bad(&e))?;
        let mut tokenizer = Tokenizer::from_file(&tokenizer).map_err(|e| bad(&e))?;
        tokenizer.with_padding(None);
        let device = Device::Cpu;
        // SAFETY: the weights file is memory-mapped read-only and not modified while loaded
        // (model setup replaces files by rename, never in place).
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &device) }
            .map_err(|e| bad(&e))?;
        let model = PackedBert::load(vb, &config, precision).map_err(|e| bad(&e))?;
        Ok(Self {
            model,
            tokenizer,
            dimension: config.hidden_size,
        })
    }

    fn run(&self, texts: &[&str]) -> candle_core::Result<Vec<Vec<f32>>> {
        // One text at a time: `encode_batch` splits the texts over rayon's pool, a hand-off per
        // batch to another thread when a computation gets one thread (see `rows`).
        let encodings = texts
            .iter()
            .map(|text| self.tokenizer.encode(*text, true))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let hidden = self.model.forward(&ids)?;
        let lengths: Vec<usize> = ids.iter().map(|t| t.len()).collect();
        normalise(&mean_per_text(&hidden, &lengths)?)?.to_vec2::<f32>()
    }
}

impl Embedder for MiniLm {
    fn model(&self) -> &str {
        "all-MiniLM-L6-v2"
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        self.run(texts)
            .map_err(|e| EmbedError::Failed(e.to_string()))
    }
}
