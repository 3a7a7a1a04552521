//! Q4_1 → Q8_0 when a GGUF model is loaded.
//!
//! candle's quantized matrix products have AVX2 kernels for Q4_0, Q8_0 and the k-quants but
//! none for Q4_1 (`BlockQ4_1::vec_dot` is the scalar loop), and the default SmolLM2 package ships
//! Q4_1. Each Q4_1 block is dequantised and quantised again as Q8_0: Q8_0's step (max|x| / 127)
//! is far finer than Q4_1's (range / 15), so the weights move by less than a Q4_1 step's 1/8, and
//! generation runs about 2.3× faster (BENCHMARKS.md, "Embedded models") for ~60 MB more memory.
//! The model file on disk is left as it is.

use std::io::{Cursor, Read, Seek};

use candle_core::Device;
use candle_core::quantized::{GgmlDType, QTensor, gguf_file};

/// The model's GGUF with every Q4_1 tensor as Q8_0, as a new in-memory file; `None` when the
/// model has no Q4_1 tensor (read it from its file as it is).
pub fn q4_1_as_q8_0<R: Read + Seek>(
    content: &gguf_file::Content,
    reader: &mut R,
) -> candle_core::Result<Option<(gguf_file::Content, Cursor<Vec<u8>>)>> {
    if !content
        .tensor_infos
        .values()
        .any(|info| info.ggml_dtype == GgmlDType::Q4_1)
    {
        return Ok(None);
    }
    let device = Device::Cpu;
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let mut tensors: Vec<(&str, QTensor)> = Vec::with_capacity(names.len());
    for name in names {
        let tensor = content.tensor(reader, name, &device)?;
        let tensor = if tensor.dtype() == GgmlDType::Q4_1 {
            QTensor::quantize(&tensor.dequantize(&device)?, GgmlDType::Q8_0)?
        } else {
            tensor
        };
        tensors.push((name.as_str(), tensor));
    }
    let metadata: Vec<(&str, &gguf_file::Value)> = content
        .metadata
        .iter()
        .map(|(key, value)| (key.as_str(), value))
        .collect();
    let mut file = Cursor::new(Vec::new());
    let refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    gguf_file::write(&mut file, &metadata, &refs)?;
    drop(refs);
    drop(tensors);
    file.set_position(0);
    let requantized = gguf_file::Content::read(&mut file)?;
    Ok(Some((requantized, file)))
}

#[cfg(test)]
mod tests {
    use candle_core::Tensor;

    use super::*;

    #[test]
    fn q4_1_tensors_become_q8_0_with_the_same_values_and_metadata() {
        let device = Device::Cpu;
        let values: Vec<f32> = (0..64 * 4)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0)
            .collect();
        let weights = Tensor::from_vec(values, (4, 64), &device).unwrap();
        let q4_1 = QTensor::quantize(&weights, GgmlDType::Q4_1).unwrap();
        let norm = QTensor::quantize(
            &Tensor::ones(64, candle_core::DType::F32, &device).unwrap(),
            GgmlDType::F32,
        )
        .unwrap();
        let name = gguf_file::Value::String("tiny".into());
        let mut original = Cursor::new(Vec::new());
        gguf_file::write(
            &mut original,
            &[("general.name", &name)],
            &[("blk.0.ffn_up.weight", &q4_1), ("blk.0.norm.weight", &norm)],
        )
        .unwrap();
        original.set_position(0);
        let content = gguf_file::Content::read(&mut original).unwrap();

        let (converted, mut file) = q4_1_as_q8_0(&content, &mut original).unwrap().unwrap();
        assert_eq!(
            converted.metadata["general.name"].to_string().unwrap(),
            "tiny"
        );
        let up = converted
            .tensor(&mut file, "blk.0.ffn_up.weight", &device)
            .unwrap();
        assert_eq!(up.dtype(), GgmlDType::Q8_0);
        assert_eq!(up.shape().dims(), &[4, 64]);
        let norm = converted
            .tensor(&mut file, "blk.0.norm.weight", &device)
            .unwrap();
        assert_eq!(norm.dtype(), GgmlDType::F32, "other types are kept");

        let before = q4_1
            .dequantize(&device)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let after = up
            .dequantize(&device)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let worst = before
            .iter()
            .zip(&after)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        // Q8_0's step here is at most 3 / 127; half of it is the largest rounding error.
        assert!(worst <= 3.0 / 127.0 / 2.0 + 1e-6, "moved by {worst}");

        // A model without Q4_1 is read as it is.
        let mut plain = Cursor::new(Vec::new());
        gguf_file::write(&mut plain, &[], &[("blk.0.norm.weight", &norm)]).unwrap();
        plain.set_position(0);
        let content = gguf_file::Content::read(&mut plain).unwrap();
        assert!(q4_1_as_q8_0(&content, &mut plain).unwrap().is_none());
    }
}
