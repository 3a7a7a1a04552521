//! Resemblyzer's voice encoder (GE2E d-vectors; Apache-2.0, weights from PyPI `resemblyzer`)
//! through candle: 40 mel bands → a 3-layer LSTM (256) → linear → ReLU → unit length.
//!
//! As `VoiceEncoder.embed_utterance` does: the recording is raised to −30 dBFS when quieter,
//! each utterance is cut into 1.6 s partials (1.3 per second, the last kept when it is at least
//! 75 % covered, zero frames past the utterance's end), every partial is embedded, and the
//! utterance's embedding is their normalised mean. All partials of a call run as one batch.

use std::path::Path;

use candle_core::{D, DType, Device, Tensor};
use candle_nn::{Linear, Module};

use super::mel::{self, HOP, N_FREQS, N_MELS, PowerSpectrogram, SAMPLE_RATE};
use super::{VoiceEmbedder, VoiceError};

const HIDDEN: usize = 256;
const LAYERS: usize = 3;
const PARTIAL_FRAMES: usize = 160;
const PARTIALS_PER_SECOND: f64 = 1.3;
const MIN_COVERAGE: f64 = 0.75;
const TARGET_DBFS: f64 = -30.0;

struct Layer {
    /// Input weights, transposed: (input, 4 × hidden).
    w_ih_t: Tensor,
    /// Recurrent weights, transposed: (hidden, 4 × hidden).
    w_hh_t: Tensor,
    /// Both biases, summed.
    bias: Tensor,
}

pub struct Resemblyzer {
    layers: Vec<Layer>,
    linear: Linear,
    filters_t: Tensor,
    spectrogram: PowerSpectrogram,
}

impl Resemblyzer {
    /// Loads `pretrained.pt` as Resemblyzer ships it.
    pub fn load(path: &Path) -> Result<Self, VoiceError> {
        if !path.is_file() {
            return Err(VoiceError::ModelMissing {
                path: path.display().to_string(),
                setting: "VOICE_MODEL",
            });
        }
        let bytes = std::fs::read(path).map_err(|e| VoiceError::Model(e.to_string()))?;
        let mut tensors = super::torch_legacy::read_state_dict(&bytes, "model_state")
            .map_err(|e| VoiceError::Model(format!("{}: {e}", path.display())))?;
        let mut take = |name: &str| {
            tensors
                .remove(name)
                .ok_or_else(|| VoiceError::Model(format!("{}: no tensor {name}", path.display())))
        };
        let c = |e: candle_core::Error| VoiceError::Model(e.to_string());
        let mut layers = Vec::with_capacity(LAYERS);
        for l in 0..LAYERS {
            layers.push(Layer {
                w_ih_t: take(&format!("lstm.weight_ih_l{l}"))?
                    .t()
                    .and_then(|t| t.contiguous())
                    .map_err(c)?,
                w_hh_t: take(&format!("lstm.weight_hh_l{l}"))?
                    .t()
                    .and_then(|t| t.contiguous())
                    .map_err(c)?,
                bias: (take(&format!("lstm.bias_ih_l{l}"))? + take(&format!("lstm.bias_hh_l{l}"))?)
                    .map_err(c)?,
            });
        }
        let linear = Linear::new(take("linear.weight")?, Some(take("linear.bias")?));
        let filters_t = Tensor::from_vec(mel::mel_filters(), (N_MELS, N_FREQS), &Device::Cpu)
            .and_then(|t| t.t())
            .and_then(|t| t.contiguous())
            .map_err(c)?;
        Ok(Self {
            layers,
            linear,
            filters_t,
            spectrogram: PowerSpectrogram::default(),
        })
    }

    /// (batch, frames, mels) → (batch, embedding), unit rows.
    fn forward(&self, mels: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, frames, _) = mels.dims3()?;
        // Time-major, so each step's rows are contiguous.
        let mut x = mels.transpose(0, 1)?.contiguous()?;
        let mut h = Tensor::zeros((batch, HIDDEN), DType::F32, &Device::Cpu)?;
        for layer in &self.layers {
            let input = x.dim(2)?;
            // The input projection of every step at once.
            let projected = x
                .reshape((frames * batch, input))?
                .matmul(&layer.w_ih_t)?
                .broadcast_add(&layer.bias)?
                .reshape((frames, batch, 4 * HIDDEN))?;
            h = Tensor::zeros((batch, HIDDEN), DType::F32, &Device::Cpu)?;
            let mut c = h.clone();
            let mut outputs = Vec::with_capacity(frames);
            for t in 0..frames {
                let gates = (projected.get(t)? + h.matmul(&layer.w_hh_t)?)?;
                let chunks = gates.chunk(4, 1)?;
                let input_gate = candle_nn::ops::sigmoid(&chunks[0])?;
                let forget_gate = candle_nn::ops::sigmoid(&chunks[1])?;
                let cell = chunks[2].tanh()?;
                let output_gate = candle_nn::ops::sigmoid(&chunks[3])?;
                c = ((forget_gate * &c)? + (input_gate * cell)?)?;
                h = (output_gate * c.tanh()?)?;
                outputs.push(h.clone());
            }
            x = Tensor::stack(&outputs, 0)?;
        }
        let embedded = self.linear.forward(&h)?.relu()?;
        let norm = embedded
            .sqr()?
            .sum_keepdim(D::Minus1)?
            .sqrt()?
            .clamp(1e-12, f64::MAX)?;
        embedded.broadcast_div(&norm)
    }

    /// Mel frames of the whole recording: (frames, mels).
    fn mel_frames(&self, samples: &[f32]) -> candle_core::Result<(usize, Vec<f32>)> {
        let (n, power) = self.spectrogram.frames(samples);
        let power = Tensor::from_vec(power, (n, N_FREQS), &Device::Cpu)?;
        let mels = power.matmul(&self.filters_t)?;
        Ok((n, mels.flatten_all()?.to_vec1()?))
    }
}

/// Where `embed_utterance` cuts an utterance of `samples` samples: the first frame of each
/// partial, relative to the utterance.
fn partial_starts(samples: usize) -> Vec<usize> {
    let n_frames = (samples + 1).div_ceil(HOP);
    let step = ((SAMPLE_RATE as f64 / PARTIALS_PER_SECOND) / HOP as f64).round() as usize;
    let steps = (n_frames + step + 1).saturating_sub(PARTIAL_FRAMES).max(1);
    let mut starts: Vec<usize> = (0..steps).step_by(step).collect();
    if let Some(&last) = starts.last() {
        let coverage = (samples as f64 - (last * HOP) as f64) / (PARTIAL_FRAMES * HOP) as f64;
        if coverage < MIN_COVERAGE && starts.len() > 1 {
            starts.pop();
        }
    }
    starts
}

/// Raises quiet audio to −30 dBFS (RMS), as Resemblyzer's `normalize_volume(increase_only)`.
fn gain(samples: &[f32]) -> f32 {
    let rms = crate::audio::rms(samples);
    if rms <= 0.0 {
        return 1.0;
    }
    let change = TARGET_DBFS - 20.0 * rms.log10();
    if change > 0.0 {
        10f64.powf(change / 20.0) as f32
    } else {
        1.0
    }
}

impl VoiceEmbedder for Resemblyzer {
    fn model(&self) -> &str {
        "resemblyzer-0.1.4"
    }

    fn embed_spans(
        &self,
        samples: &[f32],
        spans: &[(u64, u64)],
    ) -> Result<Vec<Vec<f32>>, VoiceError> {
        if spans.is_empty() {
            return Ok(Vec::new());
        }
        let gain = gain(samples);
        let scaled: Vec<f32> = samples.iter().map(|s| s * gain).collect();
        let failed = |e: candle_core::Error| VoiceError::Failed(e.to_string());
        let (n_frames, mels) = self.mel_frames(&scaled).map_err(failed)?;

        // Every partial of every span, and which span each belongs to.
        let mut batch = Vec::new();
        let mut owner = Vec::new();
        for (i, &(start_ms, end_ms)) in spans.iter().enumerate() {
            let first = start_ms as usize * SAMPLE_RATE / 1000 / HOP;
            let length = (end_ms.saturating_sub(start_ms)) as usize * SAMPLE_RATE / 1000;
            let end = (first + length.div_ceil(HOP)).min(n_frames);
            for start in partial_starts(length) {
                for f in first + start..first + start + PARTIAL_FRAMES {
                    if f < end {
                        batch.extend_from_slice(&mels[f * N_MELS..(f + 1) * N_MELS]);
                    } else {
                        batch.extend(std::iter::repeat_n(0.0, N_MELS));
                    }
                }
                owner.push(i);
            }
        }
        let partials = owner.len();
        let input = Tensor::from_vec(batch, (partials, PARTIAL_FRAMES, N_MELS), &Device::Cpu)
            .map_err(failed)?;
        let embedded = self.forward(&input).map_err(failed)?;
        let rows: Vec<Vec<f32>> = embedded.to_vec2().map_err(failed)?;

        let mut sums = vec![vec![0.0f32; rows.first().map_or(0, Vec::len)]; spans.len()];
        for (row, &i) in rows.iter().zip(&owner) {
            sums[i].iter_mut().zip(row).for_each(|(s, x)| *s += x);
        }
        Ok(sums
            .into_iter()
            .map(|v| {
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                if norm > 0.0 {
                    v.iter().map(|x| x / norm).collect()
                } else {
                    v
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partials_follow_resemblyzer() {
        // compute_partial_slices(n, 1.3, 0.75) in Resemblyzer 0.1.4.
        assert_eq!(partial_starts(16_000), [0]);
        assert_eq!(partial_starts(30_000), [0]);
        assert_eq!(partial_starts(40_000), [0, 77]);
        assert_eq!(partial_starts(48_000), [0, 77, 154]);
        assert_eq!(partial_starts(64_000), [0, 77, 154, 231]);
        assert_eq!(partial_starts(0), [0]);
    }

    #[test]
    fn quiet_audio_is_raised_and_loud_audio_kept() {
        let quiet = vec![0.001f32; 100];
        assert!(gain(&quiet) > 10.0);
        let loud = vec![0.5f32; 100];
        assert_eq!(gain(&loud), 1.0);
        assert_eq!(gain(&[]), 1.0);
        assert_eq!(gain(&[0.0; 10]), 1.0);
    }
}
