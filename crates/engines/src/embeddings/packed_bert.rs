//! BERT's encoder for a batch of texts of different lengths without padding them.
//!
//! candle's `BertModel` takes a `[batch, longest]` tensor, so every text is padded to the
//! longest of its batch and every layer computes the padding too: for a call's utterances (one
//! batch, 6–40 tokens each) a third of the work. Here the texts' tokens are packed into one
//! `[tokens, hidden]` tensor: the embeddings, every linear layer, GELU and layer norm run on real
//! tokens only, and attention mixes tokens within each text where they lie
//! ([`super::attention`]). Same weights, same results as `BertModel` (to float rounding); a test
//! checks it against candle's.

use candle_core::{D, DType, Device, Module, Result, Tensor};
use candle_nn::{Embedding, VarBuilder, embedding};
use candle_transformers::models::bert::{Config, HiddenAct};

use super::attention::packed_self_attention;
use super::dense::{Activation, Dense, Precision};
use super::rows::{self, LayerNorm};

struct Layer {
    /// Query, key and value in one matrix: one matmul instead of three.
    qkv: Dense,
    attention_out: Dense,
    attention_norm: LayerNorm,
    /// With the activation.
    intermediate: Dense,
    out: Dense,
    out_norm: LayerNorm,
}

pub struct PackedBert {
    words: Embedding,
    positions: Embedding,
    /// Every token is of type 0 in a single-text input: its row, added to all.
    token_type: Tensor,
    embeddings_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    head_size: usize,
    device: Device,
}

impl PackedBert {
    /// The dense layers multiply at `precision` (the rest is f32).
    pub fn load(vb: VarBuilder, config: &Config, precision: Precision) -> Result<Self> {
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb
        };
        let hidden = config.hidden_size;
        let embeddings = vb.pp("embeddings");
        let token_types = embedding(
            config.type_vocab_size,
            hidden,
            embeddings.pp("token_type_embeddings"),
        )?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::load(vb.pp(format!("encoder.layer.{i}")), config, precision))
            .collect::<Result<Vec<_>>>()?;
        Ok(PackedBert {
            words: embedding(config.vocab_size, hidden, embeddings.pp("word_embeddings"))?,
            positions: embedding(
                config.max_position_embeddings,
                hidden,
                embeddings.pp("position_embeddings"),
            )?,
            token_type: token_types.embeddings().get(0)?,
            embeddings_norm: LayerNorm::load(
                hidden,
                config.layer_norm_eps,
                embeddings.pp("LayerNorm"),
            )?,
            layers,
            heads: config.num_attention_heads,
            head_size: hidden / config.num_attention_heads,
            device: vb.device().clone(),
        })
    }

    /// The last hidden state of each text's tokens, packed: `[total tokens, hidden]`, text after
    /// text, in order. Texts must not be empty.
    pub fn forward(&self, texts: &[&[u32]]) -> Result<Tensor> {
        if texts.is_empty() || texts.iter().any(|t| t.is_empty()) {
            candle_core::bail!("every text needs at least one token");
        }
        let lengths: Vec<usize> = texts.iter().map(|t| t.len()).collect();
        let ids: Vec<u32> = texts.iter().flat_map(|t| t.iter().copied()).collect();
        let positions: Vec<u32> = texts.iter().flat_map(|t| 0..t.len() as u32).collect();
        let ids = Tensor::new(ids, &self.device)?;
        let positions = Tensor::new(positions, &self.device)?;
        let embedded = (self.words.forward(&ids)? + self.positions.forward(&positions)?)?
            .broadcast_add(&self.token_type)?;
        let mut hidden = self.embeddings_norm.forward(&embedded)?;
        for layer in &self.layers {
            hidden = self.layer(layer, &hidden, &lengths)?;
        }
        Ok(hidden)
    }

    fn layer(&self, layer: &Layer, hidden: &Tensor, lengths: &[usize]) -> Result<Tensor> {
        let attended = self.attention(layer, hidden, lengths)?;
        let attended = layer
            .attention_norm
            .forward_sum(&layer.attention_out.forward(&attended)?, hidden)?;
        let intermediate = layer.intermediate.forward(&attended)?;
        layer
            .out_norm
            .forward_sum(&layer.out.forward(&intermediate)?, &attended)
    }

    /// Self-attention within each text: `[tokens, hidden]` → `[tokens, hidden]`.
    fn attention(&self, layer: &Layer, hidden: &Tensor, lengths: &[usize]) -> Result<Tensor> {
        let qkv = layer.qkv.forward(hidden)?;
        let attended = rows::with_values(&qkv, |qkv| {
            packed_self_attention(qkv, lengths, self.heads, self.head_size)
        })?
        .map_err(candle_core::Error::msg)?;
        Tensor::from_vec(
            attended,
            (hidden.dim(0)?, self.heads * self.head_size),
            &self.device,
        )
    }
}

impl Layer {
    fn load(vb: VarBuilder, config: &Config, precision: Precision) -> Result<Self> {
        let hidden = config.hidden_size;
        let attention = vb.pp("attention");
        let (mut weights, mut biases) = (Vec::new(), Vec::new());
        for name in ["query", "key", "value"] {
            let part = attention.pp("self").pp(name);
            weights.push(part.get((hidden, hidden), "weight")?);
            biases.push(part.get(hidden, "bias")?);
        }
        let activation = match config.hidden_act {
            HiddenAct::Gelu => Activation::GeluErf,
            HiddenAct::GeluApproximate => Activation::GeluTanh,
            HiddenAct::Relu => Activation::Relu,
        };
        let dense = |inputs: usize, outputs: usize, activation, vb: VarBuilder| {
            let weight = vb.get((outputs, inputs), "weight")?;
            Dense::new(weight, vb.get(outputs, "bias")?, activation, precision)
        };
        Ok(Layer {
            qkv: Dense::new(
                Tensor::cat(&weights, 0)?,
                Tensor::cat(&biases, 0)?,
                Activation::None,
                precision,
            )?,
            attention_out: dense(
                hidden,
                hidden,
                Activation::None,
                attention.pp("output.dense"),
            )?,
            attention_norm: LayerNorm::load(
                hidden,
                config.layer_norm_eps,
                attention.pp("output.LayerNorm"),
            )?,
            intermediate: dense(
                hidden,
                config.intermediate_size,
                activation,
                vb.pp("intermediate.dense"),
            )?,
            out: dense(
                config.intermediate_size,
                hidden,
                Activation::None,
                vb.pp("output.dense"),
            )?,
            out_norm: LayerNorm::load(hidden, config.layer_norm_eps, vb.pp("output.LayerNorm"))?,
        })
    }
}

/// Mean of each text's rows of `packed` (from [`PackedBert::forward`]): `[texts, hidden]`.
pub fn mean_per_text(packed: &Tensor, lengths: &[usize]) -> Result<Tensor> {
    let mut start = 0;
    let means = lengths
        .iter()
        .map(|length| {
            let mean = packed.narrow(0, start, *length)?.mean(0);
            start += length;
            mean
        })
        .collect::<Result<Vec<_>>>()?;
    Tensor::stack(&means, 0)
}

/// Unit-length rows.
pub fn normalise(rows: &Tensor) -> Result<Tensor> {
    let norms = rows
        .sqr()?
        .sum_keepdim(D::Minus1)?
        .sqrt()?
        .clamp(1e-12, f64::MAX)?;
    rows.broadcast_div(&norms)?.to_dtype(DType::F32)
}
