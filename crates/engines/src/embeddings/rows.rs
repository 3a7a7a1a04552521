//! BERT's layer norm (with the residual sum before it) on the calling thread, and the tensor
//! access the hand-written layers share.
//!
//! candle's `candle_nn::LayerNorm` (like its softmax, which attention used before
//! [`super::attention`]) splits its rows over rayon's global pool. When a computation gets one
//! thread (`model_threads`, as under `switchboard worker`), that pool has one thread, and every
//! such operation was handed to it and waited for: two futex wake-ups and two context switches
//! each, ~20 per batch, which made MiniLM ~1.8× slower on a call's utterances and ~2.3× slower
//! on one sentence (BENCHMARKS.md). These rows are small (384 values), so one thread is right.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

/// `f` over `x`'s values, row-major, without copying a contiguous f32 CPU tensor.
pub(crate) fn with_values<R>(x: &Tensor, f: impl FnOnce(&[f32]) -> R) -> Result<R> {
    let x = x.contiguous()?;
    let (storage, layout) = x.storage_and_layout();
    let candle_core::Storage::Cpu(storage) = &*storage else {
        candle_core::bail!("row operations run on the CPU only");
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("a contiguous tensor has no contiguous offsets");
    };
    Ok(f(&storage.as_slice::<f32>()?[start..end]))
}

/// Layer normalisation over the last dimension, with its learnt scale and shift.
pub struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    /// `weight` and `bias` of `size` under `vb` (as `candle_nn::layer_norm` loads them).
    pub fn load(size: usize, eps: f64, vb: VarBuilder) -> Result<LayerNorm> {
        Ok(LayerNorm {
            weight: vb.get(size, "weight")?.to_vec1()?,
            bias: vb.get(size, "bias")?.to_vec1()?,
            eps: eps as f32,
        })
    }

    /// `norm(x)` for `x` `[rows, size]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut values = with_values(x, <[f32]>::to_vec)?;
        self.in_place(&mut values)?;
        Tensor::from_vec(values, x.shape(), x.device())
    }

    /// `norm(x + residual)`: the sum feeds the norm without a tensor of its own.
    pub fn forward_sum(&self, x: &Tensor, residual: &Tensor) -> Result<Tensor> {
        if x.shape() != residual.shape() {
            candle_core::bail!(
                "layer norm of a sum of {:?} and {:?}",
                x.shape(),
                residual.shape()
            );
        }
        let mut values = with_values(x, <[f32]>::to_vec)?;
        with_values(residual, |residual| {
            for (v, r) in values.iter_mut().zip(residual) {
                *v += r;
            }
        })?;
        self.in_place(&mut values)?;
        Tensor::from_vec(values, x.shape(), x.device())
    }

    fn in_place(&self, values: &mut [f32]) -> Result<()> {
        let size = self.weight.len();
        if size == 0 || !values.len().is_multiple_of(size) {
            candle_core::bail!("layer norm over {size} values given {}", values.len());
        }
        for row in values.chunks_exact_mut(size) {
            let mean = lane_sum(row, |v| v) / size as f32;
            let variance = lane_sum(row, |v| (v - mean) * (v - mean)) / size as f32;
            let scale = 1.0 / (variance + self.eps).sqrt();
            for ((v, w), b) in row.iter_mut().zip(&self.weight).zip(&self.bias) {
                *v = (*v - mean) * scale * w + b;
            }
        }
        Ok(())
    }
}

/// A sum in 16 running lanes, which the compiler keeps in vector registers (a single running
/// sum must be added in order, one value at a time).
fn lane_sum(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0f32; 16];
    let chunks = values.chunks_exact(16);
    let rest: f32 = chunks.remainder().iter().map(|v| f(*v)).sum();
    for chunk in chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk) {
            *lane += f(*v);
        }
    }
    lanes.iter().sum::<f32>() + rest
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    /// Values in [-4, 4).
    fn values(count: usize, seed: u64) -> Vec<f32> {
        crate::embeddings::test_values(count, seed)
            .into_iter()
            .map(|v| v * 8.0)
            .collect()
    }

    fn largest_difference(a: &Tensor, b: &Tensor) -> f32 {
        let (a, b) = (
            a.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            b.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        );
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn layer_norm_matches_candles() {
        let cpu = Device::Cpu;
        let size = 384;
        let weight = Tensor::from_vec(values(size, 1), size, &cpu).unwrap();
        let bias = Tensor::from_vec(values(size, 2), size, &cpu).unwrap();
        let tensors = [("weight", &weight), ("bias", &bias)]
            .map(|(name, t)| (name.to_owned(), t.clone()))
            .into_iter()
            .collect();
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &cpu);
        let ours = LayerNorm::load(size, 1e-12, vb).unwrap();
        let candles = candle_nn::LayerNorm::new(weight, bias, 1e-12);
        let x = Tensor::from_vec(values(7 * size, 3), (7, size), &cpu).unwrap();
        let residual = Tensor::from_vec(values(7 * size, 4), (7, size), &cpu).unwrap();
        use candle_core::Module;
        let expected = candles.forward(&x).unwrap();
        assert!(largest_difference(&expected, &ours.forward(&x).unwrap()) < 1e-4);
        let expected = candles.forward(&(&x + &residual).unwrap()).unwrap();
        let found = ours.forward_sum(&x, &residual).unwrap();
        assert_eq!(found.dims(), &[7, size]);
        assert!(largest_difference(&expected, &found) < 1e-4);
        assert!(ours.forward_sum(&x, &x.narrow(0, 0, 3).unwrap()).is_err());
    }
}
