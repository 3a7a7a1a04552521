//! all-MiniLM-L6-v2 (384 dimensions) on candle's BERT, on the CPU.
//!
//! As sentence-transformers does: tokenize (truncate at 128 tokens), run BERT, mean-pool
//! the last hidden state over real tokens only (the attention mask), L2-normalise.
//! Batches pad to their longest text rather than to a fixed 128, which is faster and
//! gives identical results because padding is masked out of both attention and pooling.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer};

use super::{EmbedError, Embedder};

pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dimension: usize,
}

const SETTING: &str = "EMBEDDING_MODEL_DIR";

impl MiniLm {
    /// Loads `model.safetensors`, `config.json` and `tokenizer.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
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
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        let device = Device::Cpu;
        // SAFETY: the weights file is memory-mapped read-only and not modified while loaded
        // (model setup replaces files by rename, never in place).
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &device) }
            .map_err(|e| bad(&e))?;
        let model = BertModel::load(vb, &config).map_err(|e| bad(&e))?;
        Ok(Self {
            model,
            tokenizer,
            device,
            dimension: config.hidden_size,
        })
    }

    fn run(&self, texts: &[&str]) -> candle_core::Result<Vec<Vec<f32>>> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        let rows = |f: &dyn Fn(&tokenizers::Encoding) -> &[u32]| -> candle_core::Result<Tensor> {
            let rows = encodings
                .iter()
                .map(|e| Tensor::new(f(e), &self.device))
                .collect::<candle_core::Result<Vec<_>>>()?;
            Tensor::stack(&rows, 0)
        };
        let ids = rows(&|e| e.get_ids())?;
        let type_ids = rows(&|e| e.get_type_ids())?;
        let mask = rows(&|e| e.get_attention_mask())?;
        let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?;
        // Mean over real tokens: sum(hidden * mask) / sum(mask).
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        mean.broadcast_div(&norms)?.to_vec2::<f32>()
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
