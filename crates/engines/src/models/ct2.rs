//! Reader for CTranslate2 `model.bin` files (binary version 6), enough to convert a
//! faster-whisper model to whisper.cpp's ggml format.
//!
//! Layout (little-endian), as written by `ctranslate2.specs.ModelSpec.save`:
//! `u32 version`, `string spec_name`, `u32 revision`, `u32 n_vars`, then per variable
//! `string name`, `u8 rank`, `u32 dims[rank]`, `u8 dtype`, `u32 n_bytes`, bytes; then
//! `u32 n_aliases` and pairs of strings. A string is `u16 len` (including a NUL) + bytes.

use std::collections::HashMap;

use half::f16;

/// Element types of CTranslate2's `DataType` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl Dtype {
    fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::Bf16,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::Bf16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

/// One variable of the model.
#[derive(Debug, Clone)]
pub struct Variable {
    pub shape: Vec<usize>,
    pub dtype: Dtype,
    pub data: Vec<u8>,
}

impl Variable {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as `f32` (floating-point variables only).
    pub fn to_f32(&self) -> Result<Vec<f32>, Ct2Error> {
        let chunks = self.data.chunks_exact(self.dtype.size());
        Ok(match self.dtype {
            Dtype::F32 => chunks
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::F16 => chunks
                .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::Bf16 => chunks
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            other => {
                return Err(Ct2Error::Format(format!(
                    "expected floating-point weights, found {other:?}"
                )));
            }
        })
    }

    /// A scalar integer (e.g. `encoder/num_heads`).
    pub fn to_int(&self) -> Result<i64, Ct2Error> {
        let d = &self.data;
        Ok(match (self.dtype, d.len()) {
            (Dtype::I8, 1) => i64::from(d[0] as i8),
            (Dtype::I16, 2) => i64::from(i16::from_le_bytes([d[0], d[1]])),
            (Dtype::I32, 4) => i64::from(i32::from_le_bytes([d[0], d[1], d[2], d[3]])),
            _ => return Err(Ct2Error::Format("expected an integer scalar".into())),
        })
    }
}

/// A parsed model: variables by name, with aliases resolved on lookup.
#[derive(Debug)]
pub struct Ct2Model {
    pub spec: String,
    variables: HashMap<String, Variable>,
    aliases: HashMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum Ct2Error {
    #[error("not a CTranslate2 model: {0}")]
    Format(String),
    #[error("the CTranslate2 model has no variable {0}")]
    Missing(String),
}

impl Ct2Model {
    pub fn parse(bytes: &[u8]) -> Result<Self, Ct2Error> {
        let mut r = Reader { bytes, pos: 0 };
        let version = r.u32()?;
        if version != 6 {
            return Err(Ct2Error::Format(format!(
                "binary version {version}, expected 6"
            )));
        }
        let spec = r.string()?;
        let _revision = r.u32()?;
        let count = r.u32()?;
        let mut variables = HashMap::new();
        for _ in 0..count {
            let name = r.string()?;
            let rank = r.u8()?;
            let shape = (0..rank)
                .map(|_| r.u32().map(|d| d as usize))
                .collect::<Result<Vec<_>, _>>()?;
            let dtype_id = r.u8()?;
            let dtype = Dtype::from_id(dtype_id)
                .ok_or_else(|| Ct2Error::Format(format!("unknown dtype {dtype_id}")))?;
            let n_bytes = r.u32()? as usize;
            let expected = shape.iter().product::<usize>().max(1) * dtype.size();
            if n_bytes != expected {
                return Err(Ct2Error::Format(format!(
                    "{name}: {n_bytes} bytes for shape {shape:?}"
                )));
            }
            let data = r.take(n_bytes)?.to_vec();
            variables.insert(name, Variable { shape, dtype, data });
        }
        let mut aliases = HashMap::new();
        if r.pos < bytes.len() {
            for _ in 0..r.u32()? {
                let alias = r.string()?;
                let target = r.string()?;
                aliases.insert(alias, target);
            }
        }
        Ok(Self {
            spec,
            variables,
            aliases,
        })
    }

    pub fn get(&self, name: &str) -> Result<&Variable, Ct2Error> {
        let name = self.aliases.get(name).map_or(name, String::as_str);
        self.variables
            .get(name)
            .ok_or_else(|| Ct2Error::Missing(name.to_string()))
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_ok()
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Ct2Error> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| Ct2Error::Format("truncated file".into()))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, Ct2Error> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, Ct2Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> Result<String, Ct2Error> {
        let b = self.take(2)?;
        let len = u16::from_le_bytes([b[0], b[1]]) as usize;
        let raw = self.take(len)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        String::from_utf8(raw.to_vec()).map_err(|_| Ct2Error::Format("a name is not UTF-8".into()))
    }
}
