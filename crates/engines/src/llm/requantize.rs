//! Q4_1 weights run as Q8_0.
//!
//! candle's quantized matrix products have AVX2 kernels for Q4_0, Q8_0 and the k-quants but
//! none for Q4_1 (`BlockQ4_1::vec_dot` is the scalar loop), and the default SmolLM2 package ships
//! Q4_1. [`Q8View`] presents a GGUF file with every Q4_1 tensor as Q8_0: each block of 32 is
//! dequantised and quantised again with candle's own block code (ggml's reference Q8_0). Q8_0's
//! step (max|x| / 127) is far finer than Q4_1's (range / 15), so weights move by a small fraction
//! of a Q4_1 step; generation runs 2.1–2.2× faster (BENCHMARKS.md, "Embedded models") for
//! ~70 MB more memory. Tensors are converted one at a time as the model reads
//! them, so loading holds at most one converted tensor beside the model, and the file on disk is
//! left as it is.

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};

use candle_core::Device;
use candle_core::quantized::ggml_file::qtensor_from_ggml;
use candle_core::quantized::gguf_file::{Content, TensorInfo};
use candle_core::quantized::{GgmlDType, QTensor};

const Q4_1_BLOCK: usize = 20;
const Q8_0_BLOCK: usize = 34;

/// One tensor's bytes: where they are in the view, and where they come from in the file.
struct Slot {
    start: u64,
    len: u64,
    source_start: u64,
    source_len: usize,
    convert: bool,
}

/// A reader over a GGUF file's tensor data in which Q4_1 tensors read as Q8_0, for the table of
/// [`Q8View::new`]'s content.
pub struct Q8View<R> {
    source: R,
    slots: Vec<Slot>,
    position: u64,
    /// The slot last read, converted.
    current: Option<(usize, Vec<u8>)>,
}

impl<R: Read + Seek> Q8View<R> {
    /// The model's table with Q4_1 tensors as Q8_0 and its data laid out end to end from offset
    /// 0, and the reader that serves that data from `source`.
    pub fn new(content: Content, source: R) -> (Content, Self) {
        let mut names: Vec<String> = content.tensor_infos.keys().cloned().collect();
        names.sort_by_key(|name| content.tensor_infos[name].offset);
        let mut infos = HashMap::with_capacity(names.len());
        let mut slots = Vec::with_capacity(names.len());
        let mut start = 0u64;
        for name in names {
            let info = &content.tensor_infos[&name];
            let blocks = info.shape.elem_count() / info.ggml_dtype.block_size();
            let convert = info.ggml_dtype == GgmlDType::Q4_1;
            let dtype = if convert {
                GgmlDType::Q8_0
            } else {
                info.ggml_dtype
            };
            let len = (blocks * dtype.type_size()) as u64;
            slots.push(Slot {
                start,
                len,
                source_start: content.tensor_data_offset + info.offset,
                source_len: blocks * info.ggml_dtype.type_size(),
                convert,
            });
            infos.insert(
                name,
                TensorInfo {
                    ggml_dtype: dtype,
                    shape: info.shape.clone(),
                    offset: start,
                },
            );
            start += len;
        }
        let table = Content {
            magic: content.magic,
            metadata: content.metadata,
            tensor_infos: infos,
            tensor_data_offset: 0,
        };
        let view = Q8View {
            source,
            slots,
            position: 0,
            current: None,
        };
        (table, view)
    }

    fn size(&self) -> u64 {
        self.slots.last().map_or(0, |s| s.start + s.len)
    }

    fn load(&mut self, index: usize) -> io::Result<Vec<u8>> {
        let slot = &self.slots[index];
        let mut bytes = vec![0u8; slot.source_len];
        self.source.seek(SeekFrom::Start(slot.source_start))?;
        self.source.read_exact(&mut bytes)?;
        if slot.convert {
            q4_1_to_q8_0(&bytes).map_err(io::Error::other)
        } else {
            Ok(bytes)
        }
    }
}

impl<R: Read + Seek> Read for Q8View<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let at = self.position;
        let Some(index) = self
            .slots
            .iter()
            .position(|s| at >= s.start && at < s.start + s.len)
        else {
            return Ok(0);
        };
        if self.current.as_ref().map(|(i, _)| *i) != Some(index) {
            self.current = None;
            let bytes = self.load(index)?;
            self.current = Some((index, bytes));
        }
        let bytes = self
            .current
            .as_ref()
            .map(|(_, b)| b.as_slice())
            .unwrap_or(&[]);
        let from = (at - self.slots[index].start) as usize;
        let n = buf.len().min(bytes.len() - from);
        buf[..n].copy_from_slice(&bytes[from..from + n]);
        self.position += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for Q8View<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let position = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.size().checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = position
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.position)
    }
}

/// ggml Q4_1 blocks (f16 scale `d`, f16 minimum `m`, 32 four-bit values `q`: x = q·d + m) as
/// Q8_0 blocks, through candle's own block code (optimised in every profile), a chunk at a time
/// so that the f32 values in between stay small.
fn q4_1_to_q8_0(q4_1: &[u8]) -> candle_core::Result<Vec<u8>> {
    const CHUNK_BLOCKS: usize = 4096;
    let device = Device::Cpu;
    let mut out = Vec::with_capacity(q4_1.len() / Q4_1_BLOCK * Q8_0_BLOCK);
    for chunk in q4_1.chunks(CHUNK_BLOCKS * Q4_1_BLOCK) {
        let values = chunk.len() / Q4_1_BLOCK * 32;
        let blocks = qtensor_from_ggml(GgmlDType::Q4_1, chunk, vec![values], &device)?;
        let q8_0 = QTensor::quantize(&blocks.dequantize(&device)?, GgmlDType::Q8_0)?;
        out.extend_from_slice(&q8_0.data()?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use candle_core::quantized::gguf_file;
    use candle_core::{DType, Tensor};
    use half::f16;

    use super::*;

    fn values(device: &Device) -> Tensor {
        let values: Vec<f32> = (0..64 * 4)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0)
            .collect();
        Tensor::from_vec(values, (4, 64), device).unwrap()
    }

    #[test]
    fn q4_1_tensors_read_as_candles_own_q8_0_and_the_rest_unchanged() {
        let device = Device::Cpu;
        let q4_1 = QTensor::quantize(&values(&device), GgmlDType::Q4_1).unwrap();
        let ones = Tensor::ones(64, DType::F32, &device).unwrap();
        let norm = QTensor::quantize(&ones, GgmlDType::F32).unwrap();
        let name = gguf_file::Value::String("tiny".into());
        let mut file = Cursor::new(Vec::new());
        gguf_file::write(
            &mut file,
            &[("general.name", &name)],
            &[
                ("blk.0.norm.weight", &norm),
                ("blk.0.ffn_up.weight", &q4_1),
                ("blk.1.ffn_up.weight", &q4_1),
            ],
        )
        .unwrap();
        file.set_position(0);
        let content = gguf_file::Content::read(&mut file).unwrap();

        let (table, mut view) = Q8View::new(content, file);
        assert_eq!(table.metadata["general.name"].to_string().unwrap(), "tiny");
        // What candle's own requantisation gives: dequantise, quantise as Q8_0.
        let expected = QTensor::quantize(&q4_1.dequantize(&device).unwrap(), GgmlDType::Q8_0)
            .unwrap()
            .data()
            .unwrap()
            .to_vec();
        // Read out of order, as a loader may.
        for name in [
            "blk.1.ffn_up.weight",
            "blk.0.norm.weight",
            "blk.0.ffn_up.weight",
        ] {
            let tensor = table.tensor(&mut view, name, &device).unwrap();
            if name.ends_with("norm.weight") {
                assert_eq!(tensor.dtype(), GgmlDType::F32, "other types are kept");
                let read = tensor
                    .dequantize(&device)
                    .unwrap()
                    .to_vec1::<f32>()
                    .unwrap();
                assert_eq!(read, vec![1.0; 64]);
            } else {
                assert_eq!(tensor.dtype(), GgmlDType::Q8_0);
                assert_eq!(tensor.shape().dims(), &[4, 64]);
                assert_eq!(tensor.data().unwrap().as_ref(), expected.as_slice());
            }
        }
    }

    #[test]
    fn requantised_weights_stay_within_half_a_q8_0_step() {
        let device = Device::Cpu;
        let q4_1 = QTensor::quantize(&values(&device), GgmlDType::Q4_1).unwrap();
        let bytes = q4_1.data().unwrap().to_vec();
        let q8 = q4_1_to_q8_0(&bytes).unwrap();
        assert_eq!(q8.len(), bytes.len() / Q4_1_BLOCK * Q8_0_BLOCK);
        let before = q4_1
            .dequantize(&device)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        for (block, original) in q8.chunks_exact(Q8_0_BLOCK).zip(before.chunks_exact(32)) {
            let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
            for (q, x) in block[2..].iter().zip(original) {
                let restored = f32::from(*q as i8) * d;
                assert!((restored - x).abs() <= d * 0.51, "{restored} vs {x}");
            }
        }
    }
}
