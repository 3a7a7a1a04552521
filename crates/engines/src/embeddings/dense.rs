//! BERT's dense layers (`x · Wᵀ + b`, then GELU for the intermediate one), with the matrix
//! product on Intel AMX where the CPU has it.
//!
//! candle multiplies f32 matrices with the `gemm` crate's AVX2/AVX-512 kernels, ~85 GFLOP/s on
//! one core of this machine. CPUs with AMX (Xeon Sapphire Rapids and later) have a tile unit
//! that multiplies bfloat16 matrices many times faster; candle has no path to it.
//! [`super::amx_product`] does (`TDPBF16PS`: operands rounded to bfloat16, 8 bits of mantissa,
//! sums kept in f32), 700–820 GFLOP/s on MiniLM's shapes (ADR 0017). The weights are laid out
//! for it once, at load; each call rounds its input. GELU after an AMX product uses
//! tract-linalg's vectorised `erf` (candle's calls libm's scalar `erff` per element).
//!
//! Without AMX, for a shape the kernel does not take, or at [`Precision::F32`], the product is
//! candle's f32 `matmul` (the `gemm` crate) on a weight kept transposed, and GELU is the same
//! vectorised `erf` (see [`F32Dense`]).

use candle_core::{Device, Result, Tensor};

#[cfg(target_arch = "x86_64")]
use super::amx_product::{self, AmxWeights};

/// How the dense layers multiply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// f32 operands and sums (candle's kernels).
    F32,
    /// bfloat16 operands and f32 sums on AMX where the CPU has it; [`Precision::F32`] elsewhere.
    Bf16WhereFaster,
}

impl std::str::FromStr for Precision {
    type Err = String;

    /// `bf16` or `f32` (setting `EMBEDDING_PRECISION`).
    fn from_str(name: &str) -> std::result::Result<Self, String> {
        match name {
            "bf16" => Ok(Precision::Bf16WhereFaster),
            "f32" => Ok(Precision::F32),
            other => Err(format!(
                "EMBEDDING_PRECISION must be `bf16` or `f32`, not {other:?}"
            )),
        }
    }
}

impl Precision {
    /// What this precision gets on this CPU: `"bf16-amx"` or `"f32"`.
    pub fn in_force(self) -> &'static str {
        match (self, amx_product::available()) {
            (Precision::Bf16WhereFaster, true) => "bf16-amx",
            _ => "f32",
        }
    }
}

/// What follows the product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    None,
    /// GELU with the exact `erf` (BERT's `gelu`, MiniLM's).
    GeluErf,
    /// GELU's tanh approximation.
    GeluTanh,
    Relu,
}

impl Activation {
    /// With candle's operations.
    fn apply(self, x: Tensor) -> Result<Tensor> {
        match self {
            Activation::None => Ok(x),
            Activation::GeluErf => x.gelu_erf(),
            Activation::GeluTanh => x.gelu(),
            Activation::Relu => x.relu(),
        }
    }
}

pub enum Dense {
    F32(F32Dense, Activation),
    Amx(AmxDense, Activation),
}

impl Dense {
    /// `weight` is `[outputs, inputs]` (as in PyTorch's `Linear`), `bias` is `[outputs]`.
    pub fn new(
        weight: Tensor,
        bias: Tensor,
        activation: Activation,
        precision: Precision,
    ) -> Result<Self> {
        let (outputs, _) = weight.dims2()?;
        if bias.dims1()? != outputs {
            candle_core::bail!(
                "a dense layer of {outputs} outputs was given {} biases",
                bias.dims1()?
            );
        }
        if precision == Precision::Bf16WhereFaster
            && let Some(dense) = AmxDense::new(&weight, &bias)?
        {
            return Ok(Dense::Amx(dense, activation));
        }
        Ok(Dense::F32(F32Dense::new(&weight, bias)?, activation))
    }

    /// `[rows, inputs]` → `[rows, outputs]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Dense::F32(dense, activation) => dense.forward(x, *activation),
            Dense::Amx(dense, activation) => dense.forward(x, *activation),
        }
    }
}

/// Below this many rows an f32 product is taken as `(W · xᵀ)ᵀ` ([`F32Dense::forward`]).
const FEW_ROWS: usize = 16;

/// An f32 product on candle's `matmul`, with the weight stored transposed: `[inputs, outputs]`,
/// contiguous. candle's `Linear` multiplies by a transposed *view* of `[outputs, inputs]`, and
/// `gemm` re-packs such a matrix one element at a time (strided scalar loads) on every call:
/// on a CPU without AMX that copying was ~21 % of MiniLM's time, candle's scalar `erff` in GELU
/// another ~18 % (BENCHMARKS.md, "Embedded models").
///
/// Only the product is candle's (`gemm`, on as many threads as candle is given). The bias, the
/// few-rows transpose and GELU run here, on the calling thread: candle's element-wise
/// operations go to its spinning barrier pool when it has more than one thread, whose thread
/// then spins against `gemm`'s for the same cores (BENCHMARKS.md, "Embedded models").
pub struct F32Dense {
    weight_t: Tensor,
    bias: Vec<f32>,
}

impl F32Dense {
    fn new(weight: &Tensor, bias: Tensor) -> Result<Self> {
        Ok(F32Dense {
            weight_t: weight.t()?.contiguous()?,
            bias: bias.to_vec1::<f32>()?,
        })
    }

    fn forward(&self, x: &Tensor, activation: Activation) -> Result<Tensor> {
        let (rows, outputs) = (x.dim(0)?, self.bias.len());
        let mut values = if rows < FEW_ROWS {
            // `gemm`'s kernels take 16 rows of `x` at a time; a few rows fill them badly, so
            // the product is taken the other way round, `W · xᵀ` (the weight as its
            // column-major `[outputs, inputs]`), and transposed back here.
            let product = self.weight_t.t()?.matmul(&x.t()?)?;
            super::rows::with_values(&product, |by_output| {
                let mut values = vec![0f32; rows * outputs];
                // (`max(1)`: no rows, no chunks, where `chunks_exact(0)` would panic.)
                for (output, row) in by_output.chunks_exact(rows.max(1)).enumerate() {
                    for (r, value) in row.iter().enumerate() {
                        values[r * outputs + output] = *value;
                    }
                }
                values
            })?
        } else {
            super::rows::with_values(&x.matmul(&self.weight_t)?, <[f32]>::to_vec)?
        };
        for row in values.chunks_exact_mut(outputs) {
            for (value, bias) in row.iter_mut().zip(&self.bias) {
                *value += bias;
            }
        }
        activated(values, (rows, outputs), activation, x.device())
    }
}

pub struct AmxDense {
    weights: AmxWeights,
    bias: Vec<f32>,
    device: Device,
}

impl AmxDense {
    /// `None` when this CPU has no AMX or the shape does not fit the kernel (see
    /// [`AmxWeights::pack`]).
    fn new(weight: &Tensor, bias: &Tensor) -> Result<Option<Self>> {
        if !amx_product::available() {
            return Ok(None);
        }
        let (outputs, inputs) = weight.dims2()?;
        let bias = bias.to_vec1::<f32>()?;
        let values = weight.flatten_all()?.to_vec1::<f32>()?;
        Ok(
            AmxWeights::pack(&values, outputs, inputs).map(|weights| AmxDense {
                weights,
                bias,
                device: weight.device().clone(),
            }),
        )
    }

    fn forward(&self, x: &Tensor, activation: Activation) -> Result<Tensor> {
        let (rows, inputs) = x.dims2()?;
        if inputs != self.weights.inputs() {
            candle_core::bail!(
                "a dense layer of {} inputs was given {inputs}",
                self.weights.inputs()
            );
        }
        let outputs = self.weights.outputs();
        let mut values = vec![0f32; rows * outputs];
        super::rows::with_values(x, |x| {
            self.weights.multiply(x, rows, &self.bias, &mut values)
        })?;
        activated(values, (rows, outputs), activation, &self.device)
    }
}

/// A product's values (`[rows, outputs]`, bias added) as a tensor, after `activation`: GELU
/// here on tract's `erf`, any other activation on candle's.
fn activated(
    mut values: Vec<f32>,
    shape: (usize, usize),
    activation: Activation,
    device: &Device,
) -> Result<Tensor> {
    let remaining = if activation == Activation::GeluErf {
        gelu_erf(&mut values)?;
        Activation::None
    } else {
        activation
    };
    remaining.apply(Tensor::from_vec(values, shape, device)?)
}

/// `x · ½ (1 + erf(x / √2))` in place, with tract's vectorised `erf` (within ~3·10⁻⁷ of the
/// exact one).
fn gelu_erf(values: &mut [f32]) -> Result<()> {
    let mut erf: Vec<f32> = values
        .iter()
        .map(|x| x * std::f32::consts::FRAC_1_SQRT_2)
        .collect();
    (tract_linalg::ops().erf_f32)()
        .run(&mut erf)
        .map_err(tract_error)?;
    for (x, e) in values.iter_mut().zip(&erf) {
        *x *= 0.5 * (1.0 + e);
    }
    Ok(())
}

fn tract_error(error: impl std::fmt::Display) -> candle_core::Error {
    candle_core::Error::Msg(format!("GELU: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::embeddings::test_values as values;

    /// Relative distance of `b` from `a` (Frobenius).
    fn distance(a: &Tensor, b: &Tensor) -> f32 {
        let (a, b) = (
            a.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            b.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        );
        assert_eq!(a.len(), b.len());
        let difference: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
        let size: f32 = a.iter().map(|x| x * x).sum();
        (difference / size).sqrt()
    }

    #[test]
    fn amx_products_agree_with_candles_f32_for_any_row_count() {
        let cpu = Device::Cpu;
        if Precision::Bf16WhereFaster.in_force() != "bf16-amx" {
            eprintln!("skipped: this CPU has no AMX, so both precisions are candle's f32");
            return;
        }
        for (outputs, inputs) in [(1152, 384), (384, 1536)] {
            let weight =
                Tensor::from_vec(values(outputs * inputs, 1), (outputs, inputs), &cpu).unwrap();
            let bias = Tensor::from_vec(values(outputs, 2), outputs, &cpu).unwrap();
            for activation in [Activation::None, Activation::GeluErf, Activation::Relu] {
                let layer = |precision| {
                    Dense::new(weight.clone(), bias.clone(), activation, precision).unwrap()
                };
                let (exact, amx) = (layer(Precision::F32), layer(Precision::Bf16WhereFaster));
                assert!(matches!(amx, Dense::Amx(..)));
                // Rows beyond and within one 16-row tile, and a single row.
                for rows in [1, 16, 37] {
                    let x =
                        Tensor::from_vec(values(rows * inputs, rows as u64), (rows, inputs), &cpu)
                            .unwrap();
                    let (expected, found) = (exact.forward(&x).unwrap(), amx.forward(&x).unwrap());
                    assert_eq!(found.dims(), &[rows, outputs]);
                    let off = distance(&expected, &found);
                    // bfloat16 keeps 8 bits of mantissa: ~0.2 % per product, averaged down.
                    assert!(
                        off < 5e-3,
                        "{outputs}×{inputs}, {rows} rows, {activation:?}: {off}"
                    );
                }
            }
        }
    }

    #[test]
    fn f32_layers_match_candles_linear() {
        use candle_core::Module;
        let cpu = Device::Cpu;
        let (outputs, inputs) = (96, 40);
        let weight =
            Tensor::from_vec(values(outputs * inputs, 5), (outputs, inputs), &cpu).unwrap();
        let bias = Tensor::from_vec(values(outputs, 6), outputs, &cpu).unwrap();
        let linear = candle_nn::Linear::new(weight.clone(), Some(bias.clone()));
        for activation in [Activation::None, Activation::GeluErf, Activation::Relu] {
            let ours =
                Dense::new(weight.clone(), bias.clone(), activation, Precision::F32).unwrap();
            assert!(matches!(ours, Dense::F32(..)));
            // Both ways round: fewer rows than FEW_ROWS, and more.
            for rows in [1, 7, 40] {
                let x = Tensor::from_vec(values(rows * inputs, 7), (rows, inputs), &cpu).unwrap();
                let expected = activation.apply(linear.forward(&x).unwrap()).unwrap();
                let found = ours.forward(&x).unwrap();
                assert_eq!(found.dims(), &[rows, outputs]);
                assert!(
                    distance(&expected, &found) < 1e-5,
                    "{activation:?}, {rows} rows"
                );
            }
        }
        let no_rows = Tensor::zeros((0, inputs), candle_core::DType::F32, &cpu).unwrap();
        let ours = Dense::new(
            weight.clone(),
            bias.clone(),
            Activation::None,
            Precision::F32,
        );
        assert_eq!(
            ours.unwrap().forward(&no_rows).unwrap().dims(),
            &[0, outputs]
        );
        let short_bias = Tensor::from_vec(values(3, 8), 3, &cpu).unwrap();
        assert!(Dense::new(weight, short_bias, Activation::None, Precision::F32).is_err());
    }

    #[test]
    fn the_vectorised_gelu_matches_candles() {
        let cpu = Device::Cpu;
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) / 80.0).collect();
        let expected = Tensor::new(x.as_slice(), &cpu).unwrap().gelu_erf().unwrap();
        let mut found = x.clone();
        gelu_erf(&mut found).unwrap();
        for (x, (e, f)) in x
            .iter()
            .zip(expected.to_vec1::<f32>().unwrap().iter().zip(&found))
        {
            assert!((e - f).abs() < 1e-5, "gelu({x}): {e} against {f}");
        }
    }

    #[test]
    fn a_precision_is_named_in_the_setting() {
        assert_eq!("f32".parse(), Ok(Precision::F32));
        assert_eq!("bf16".parse(), Ok(Precision::Bf16WhereFaster));
        let refused = "f16".parse::<Precision>().unwrap_err();
        assert!(
            refused.contains("EMBEDDING_PRECISION must be `bf16` or `f32`"),
            "{refused}"
        );
    }
}

/// No AMX off x86-64: every layer is candle's.
#[cfg(not(target_arch = "x86_64"))]
mod amx_product {
    pub enum AmxWeights {}

    impl AmxWeights {
        pub fn pack(_: &[f32], _: usize, _: usize) -> Option<AmxWeights> {
            None
        }

        pub fn inputs(&self) -> usize {
            match *self {}
        }

        pub fn outputs(&self) -> usize {
            match *self {}
        }

        pub fn multiply(&self, _: &[f32], _: usize, _: &[f32], _: &mut [f32]) {
            match *self {}
        }
    }

    pub fn available() -> bool {
        false
    }
}
#[cfg(not(target_arch = "x86_64"))]
use amx_product::AmxWeights;
