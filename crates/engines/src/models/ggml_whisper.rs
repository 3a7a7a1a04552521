//! Converts a faster-whisper (CTranslate2) model into whisper.cpp's ggml file format.
//!
//! Written in Rust rather than as a Python script so that model setup needs no numpy
//! and runs in a second; the logic follows whisper.cpp's `convert-pt-to-ggml.py` and
//! `whisper_model_load`:
//!
//! - header: magic `ggml`, eleven `i32` hyper-parameters (the last is the weight type),
//!   the mel filter bank (`n_mel`, `n_fft`, `f32` values), the byte-level BPE vocabulary
//!   (`u32` length + bytes per token, from openai-whisper's tiktoken files);
//! - then tensors: `i32 n_dims`, `i32 name_len`, `i32 type`, dims innermost first, name,
//!   data. 2-D weight matrices are f16 or q8_0; convolution kernels f16; biases, layer
//!   norms and positional embeddings f32; conv biases are reshaped to `[n, 1]`.
//!
//! CTranslate2 fuses attention projections: self-attention QKV into one `[3d, d]`
//! matrix and cross-attention KV into one `[2d, d]`; they are split here. Whisper's
//! key projections have no bias; CTranslate2 stores zeros there, which are dropped (a
//! key bias adds the same term to every score of a query, so softmax ignores it).

use std::io::Write;

use half::f16;

use super::ct2::{Ct2Error, Ct2Model};

const GGML_MAGIC: u32 = 0x6767_6d6c;
const GGML_QNT_VERSION: i32 = 2;
const GGML_QNT_VERSION_FACTOR: i32 = 1000;
const QK8_0: usize = 32;

/// How the large weight matrices are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightType {
    F16,
    /// 8-bit blocks of 32 with one f16 scale (ggml `Q8_0`): half the size of f16.
    Q8_0,
}

impl WeightType {
    /// The `ftype` hyper-parameter whisper.cpp reads.
    fn ftype(self) -> i32 {
        match self {
            Self::F16 => 1,
            Self::Q8_0 => GGML_QNT_VERSION * GGML_QNT_VERSION_FACTOR + 7,
        }
    }
}

/// Tensor element types of ggml.
#[derive(Debug, Clone, Copy)]
enum TensorType {
    F32 = 0,
    F16 = 1,
    Q8_0 = 8,
}

/// What openai-whisper ships beside the weights: the mel filters and the vocabulary.
pub struct WhisperAssets {
    /// `(n_mel, n_fft, values)`, row-major.
    pub mel_filters: (usize, usize, Vec<f32>),
    /// Token byte strings in rank order.
    pub vocabulary: Vec<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error(transparent)]
    Model(#[from] Ct2Error),
    #[error("unexpected model layout: {0}")]
    Layout(String),
    #[error("writing the ggml file: {0}")]
    Io(#[from] std::io::Error),
}

/// Hyper-parameters read off the CTranslate2 variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
}

impl Hparams {
    pub fn read(model: &Ct2Model) -> Result<Self, ConvertError> {
        let dims = |name: &str| model.get(name).map(|v| v.shape.clone());
        let embeddings = dims("decoder/embeddings/weight")?;
        let audio_pos = dims("encoder/position_encodings/encodings")?;
        let text_pos = dims("decoder/position_encodings/encodings")?;
        let conv1 = dims("encoder/conv1/weight")?;
        let layers = |prefix: &str| {
            (0..)
                .take_while(|i| model.has(&format!("{prefix}/layer_{i}/ffn/linear_0/weight")))
                .count()
        };
        let heads = |name: &str| -> Result<usize, ConvertError> {
            let n = model.get(name)?.to_int()?;
            usize::try_from(n).map_err(|_| ConvertError::Layout(format!("{name} = {n}")))
        };
        let (
            &[n_vocab, n_text_state],
            &[n_audio_ctx, n_audio_state],
            &[n_text_ctx, _],
            &[_, n_mels, 3],
        ) = (
            embeddings.as_slice(),
            audio_pos.as_slice(),
            text_pos.as_slice(),
            conv1.as_slice(),
        )
        else {
            return Err(ConvertError::Layout(
                "embedding, position or conv1 shapes".into(),
            ));
        };
        Ok(Self {
            n_vocab,
            n_audio_ctx,
            n_audio_state,
            n_audio_head: heads("encoder/num_heads")?,
            n_audio_layer: layers("encoder"),
            n_text_ctx,
            n_text_state,
            n_text_head: heads("decoder/num_heads")?,
            n_text_layer: layers("decoder"),
            n_mels,
        })
    }
}

/// Writes the ggml model for `model` to `out`.
pub fn convert(
    model: &Ct2Model,
    assets: &WhisperAssets,
    weights: WeightType,
    out: &mut impl Write,
) -> Result<Hparams, ConvertError> {
    if model.spec != "WhisperSpec" {
        return Err(ConvertError::Layout(format!(
            "spec {} is not WhisperSpec",
            model.spec
        )));
    }
    let hp = Hparams::read(model)?;
    let (n_mel, n_fft, filters) = &assets.mel_filters;
    if *n_mel != hp.n_mels || filters.len() != n_mel * n_fft {
        return Err(ConvertError::Layout(format!(
            "{n_mel} mel filters for a {}-mel model",
            hp.n_mels
        )));
    }
    out.write_all(&GGML_MAGIC.to_le_bytes())?;
    for v in [
        hp.n_vocab,
        hp.n_audio_ctx,
        hp.n_audio_state,
        hp.n_audio_head,
        hp.n_audio_layer,
        hp.n_text_ctx,
        hp.n_text_state,
        hp.n_text_head,
        hp.n_text_layer,
        hp.n_mels,
    ] {
        write_i32(out, v)?;
    }
    out.write_all(&weights.ftype().to_le_bytes())?;
    write_i32(out, *n_mel)?;
    write_i32(out, *n_fft)?;
    for f in filters {
        out.write_all(&f.to_le_bytes())?;
    }
    write_i32(out, assets.vocabulary.len())?;
    for token in &assets.vocabulary {
        out.write_all(&(token.len() as u32).to_le_bytes())?;
        out.write_all(token)?;
    }

    let mut w = TensorWriter {
        model,
        out,
        weights,
    };
    w.f32(
        "encoder.positional_embedding",
        "encoder/position_encodings/encodings",
        None,
    )?;
    w.conv("encoder.conv1", "encoder/conv1")?;
    w.conv("encoder.conv2", "encoder/conv2")?;
    w.norm("encoder.ln_post", "encoder/layer_norm")?;
    for i in 0..hp.n_audio_layer {
        let (g, c) = (format!("encoder.blocks.{i}"), format!("encoder/layer_{i}"));
        w.self_attention(&g, &c, hp.n_audio_state)?;
        w.ffn(&g, &c)?;
    }
    w.f32(
        "decoder.positional_embedding",
        "decoder/position_encodings/encodings",
        None,
    )?;
    w.matrix(
        "decoder.token_embedding.weight",
        "decoder/embeddings/weight",
        None,
    )?;
    w.norm("decoder.ln", "decoder/layer_norm")?;
    for i in 0..hp.n_text_layer {
        let (g, c) = (format!("decoder.blocks.{i}"), format!("decoder/layer_{i}"));
        w.self_attention(&g, &c, hp.n_text_state)?;
        w.norm(
            &format!("{g}.cross_attn_ln"),
            &format!("{c}/attention/layer_norm"),
        )?;
        w.linear(
            &format!("{g}.cross_attn.query"),
            &format!("{c}/attention/linear_0"),
            None,
        )?;
        let kv = format!("{c}/attention/linear_1");
        let d = hp.n_text_state;
        w.matrix(
            &format!("{g}.cross_attn.key.weight"),
            &format!("{kv}/weight"),
            Some((0, d)),
        )?;
        w.linear(&format!("{g}.cross_attn.value"), &kv, Some((d, d)))?;
        w.linear(
            &format!("{g}.cross_attn.out"),
            &format!("{c}/attention/linear_2"),
            None,
        )?;
        w.ffn(&g, &c)?;
    }
    w.out.flush()?;
    Ok(hp)
}

fn write_i32(out: &mut impl Write, v: usize) -> Result<(), ConvertError> {
    let v =
        i32::try_from(v).map_err(|_| ConvertError::Layout(format!("{v} does not fit in i32")))?;
    out.write_all(&v.to_le_bytes())?;
    Ok(())
}

struct TensorWriter<'a, W: Write> {
    model: &'a Ct2Model,
    out: &'a mut W,
    weights: WeightType,
}

/// `Some((first_row, rows))` selects a block of rows of a fused matrix.
type Rows = Option<(usize, usize)>;

impl<W: Write> TensorWriter<'_, W> {
    /// Reads `name` as f32 with its shape, optionally restricted to a block of rows.
    fn values(&self, name: &str, rows: Rows) -> Result<(Vec<usize>, Vec<f32>), ConvertError> {
        let var = self.model.get(name)?;
        let mut shape = var.shape.clone();
        let values = var.to_f32()?;
        let Some((first, count)) = rows else {
            return Ok((shape, values));
        };
        let row_len: usize = shape.iter().skip(1).product();
        if shape.is_empty() || first + count > shape[0] {
            return Err(ConvertError::Layout(format!(
                "{name}: rows {first}..{} of {shape:?}",
                first + count
            )));
        }
        shape[0] = count;
        Ok((
            shape,
            values[first * row_len..(first + count) * row_len].to_vec(),
        ))
    }

    fn header(&mut self, name: &str, shape: &[usize], ty: TensorType) -> Result<(), ConvertError> {
        write_i32(self.out, shape.len())?;
        write_i32(self.out, name.len())?;
        self.out.write_all(&(ty as i32).to_le_bytes())?;
        for &d in shape.iter().rev() {
            write_i32(self.out, d)?;
        }
        self.out.write_all(name.as_bytes())?;
        Ok(())
    }

    fn write_f32(
        &mut self,
        name: &str,
        shape: &[usize],
        values: &[f32],
    ) -> Result<(), ConvertError> {
        self.header(name, shape, TensorType::F32)?;
        for v in values {
            self.out.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    }

    fn write_f16(
        &mut self,
        name: &str,
        shape: &[usize],
        values: &[f32],
    ) -> Result<(), ConvertError> {
        self.header(name, shape, TensorType::F16)?;
        for v in values {
            self.out.write_all(&f16::from_f32(*v).to_le_bytes())?;
        }
        Ok(())
    }

    fn f32(&mut self, ggml: &str, ct2: &str, rows: Rows) -> Result<(), ConvertError> {
        let (shape, values) = self.values(ct2, rows)?;
        self.write_f32(ggml, &shape, &values)
    }

    /// A 2-D weight matrix, stored as the model's weight type.
    fn matrix(&mut self, ggml: &str, ct2: &str, rows: Rows) -> Result<(), ConvertError> {
        let (shape, values) = self.values(ct2, rows)?;
        if shape.len() != 2 {
            return Err(ConvertError::Layout(format!(
                "{ct2} is not a matrix: {shape:?}"
            )));
        }
        match self.weights {
            WeightType::F16 => self.write_f16(ggml, &shape, &values),
            WeightType::Q8_0 => {
                if shape[1] % QK8_0 != 0 {
                    return Err(ConvertError::Layout(format!(
                        "{ct2}: row length {} is not a multiple of 32",
                        shape[1]
                    )));
                }
                self.header(ggml, &shape, TensorType::Q8_0)?;
                let mut block = [0u8; 2 + QK8_0];
                for chunk in values.chunks_exact(QK8_0) {
                    quantize_q8_0(chunk, &mut block);
                    self.out.write_all(&block)?;
                }
                Ok(())
            }
        }
    }

    fn linear(&mut self, ggml: &str, ct2: &str, rows: Rows) -> Result<(), ConvertError> {
        self.matrix(&format!("{ggml}.weight"), &format!("{ct2}/weight"), rows)?;
        self.f32(&format!("{ggml}.bias"), &format!("{ct2}/bias"), rows)
    }

    fn norm(&mut self, ggml: &str, ct2: &str) -> Result<(), ConvertError> {
        self.f32(&format!("{ggml}.weight"), &format!("{ct2}/gamma"), None)?;
        self.f32(&format!("{ggml}.bias"), &format!("{ct2}/beta"), None)
    }

    fn conv(&mut self, ggml: &str, ct2: &str) -> Result<(), ConvertError> {
        let (shape, values) = self.values(&format!("{ct2}/weight"), None)?;
        self.write_f16(&format!("{ggml}.weight"), &shape, &values)?;
        let (shape, values) = self.values(&format!("{ct2}/bias"), None)?;
        self.write_f32(&format!("{ggml}.bias"), &[shape[0], 1], &values)
    }

    /// Self-attention: CTranslate2's fused `[3d, d]` QKV split into query, key, value.
    fn self_attention(&mut self, g: &str, c: &str, d: usize) -> Result<(), ConvertError> {
        self.norm(
            &format!("{g}.attn_ln"),
            &format!("{c}/self_attention/layer_norm"),
        )?;
        let qkv = format!("{c}/self_attention/linear_0");
        self.linear(&format!("{g}.attn.query"), &qkv, Some((0, d)))?;
        self.matrix(
            &format!("{g}.attn.key.weight"),
            &format!("{qkv}/weight"),
            Some((d, d)),
        )?;
        self.linear(&format!("{g}.attn.value"), &qkv, Some((2 * d, d)))?;
        self.linear(
            &format!("{g}.attn.out"),
            &format!("{c}/self_attention/linear_1"),
            None,
        )
    }

    fn ffn(&mut self, g: &str, c: &str) -> Result<(), ConvertError> {
        self.norm(&format!("{g}.mlp_ln"), &format!("{c}/ffn/layer_norm"))?;
        self.linear(&format!("{g}.mlp.0"), &format!("{c}/ffn/linear_0"), None)?;
        self.linear(&format!("{g}.mlp.2"), &format!("{c}/ffn/linear_1"), None)
    }
}

/// ggml's reference `quantize_row_q8_0`: scale = max|x| / 127, values rounded.
fn quantize_q8_0(values: &[f32], block: &mut [u8; 2 + QK8_0]) {
    let amax = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let inverse = if d == 0.0 { 0.0 } else { 1.0 / d };
    block[..2].copy_from_slice(&f16::from_f32(d).to_le_bytes());
    for (q, v) in block[2..].iter_mut().zip(values) {
        *q = ((v * inverse).round() as i8) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q8_0_round_trips_within_half_a_step() {
        let values: Vec<f32> = (0..32).map(|i| (i as f32 - 15.5) / 7.0).collect();
        let mut block = [0u8; 34];
        quantize_q8_0(&values, &mut block);
        let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
        for (q, v) in block[2..].iter().zip(&values) {
            let restored = f32::from(*q as i8) * d;
            assert!((restored - v).abs() <= d * 0.51, "{restored} vs {v}");
        }
        let mut zeros = [1u8; 34];
        quantize_q8_0(&[0.0; 32], &mut zeros);
        assert!(zeros.iter().all(|b| *b == 0));
    }
}
