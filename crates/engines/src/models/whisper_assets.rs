//! Reads the whisper assets from openai-whisper's source distribution: the mel filter
//! bank (`whisper/assets/mel_filters.npz`) and the byte-level BPE vocabulary
//! (`gpt2.tiktoken` for English-only models, `multilingual.tiktoken` otherwise).

use std::io::{Cursor, Read};

use base64::Engine as _;

use super::ggml_whisper::WhisperAssets;

#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("the openai-whisper archive has no {0}")]
    Missing(String),
    #[error("cannot read {0}: {1}")]
    Format(String, String),
}

/// Extracts the assets for a model with `n_mels` mel bands from the sdist `.tar.gz`.
pub fn read_from_sdist(
    sdist_tar_gz: &[u8],
    n_mels: usize,
    multilingual: bool,
) -> Result<WhisperAssets, AssetError> {
    let vocabulary_name = if multilingual {
        "multilingual.tiktoken"
    } else {
        "gpt2.tiktoken"
    };
    let mut npz = None;
    let mut tiktoken = None;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(sdist_tar_gz));
    let bad =
        |what: &str, e: &dyn std::fmt::Display| AssetError::Format(what.to_string(), e.to_string());
    for entry in archive.entries().map_err(|e| bad("the sdist", &e))? {
        let mut entry = entry.map_err(|e| bad("the sdist", &e))?;
        let path = entry
            .path()
            .map_err(|e| bad("the sdist", &e))?
            .to_string_lossy()
            .into_owned();
        let slot = if path.ends_with("whisper/assets/mel_filters.npz") {
            &mut npz
        } else if path.ends_with(&format!("whisper/assets/{vocabulary_name}")) {
            &mut tiktoken
        } else {
            continue;
        };
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|e| bad(&path, &e))?;
        *slot = Some(bytes);
    }
    let npz = npz.ok_or_else(|| AssetError::Missing("whisper/assets/mel_filters.npz".into()))?;
    let tiktoken =
        tiktoken.ok_or_else(|| AssetError::Missing(format!("whisper/assets/{vocabulary_name}")))?;
    Ok(WhisperAssets {
        mel_filters: mel_filters(&npz, n_mels)?,
        vocabulary: vocabulary(&tiktoken)?,
    })
}

/// `mel_<n>` from the `.npz` (a zip of `.npy` arrays): `(rows, cols, values)`.
pub fn mel_filters(npz: &[u8], n_mels: usize) -> Result<(usize, usize, Vec<f32>), AssetError> {
    let name = format!("mel_{n_mels}.npy");
    let bad = |e: &dyn std::fmt::Display| AssetError::Format(name.clone(), e.to_string());
    let mut zip = zip::ZipArchive::new(Cursor::new(npz)).map_err(|e| bad(&e))?;
    let mut file = zip
        .by_name(&name)
        .map_err(|_| AssetError::Missing(name.clone()))?;
    let mut npy = Vec::new();
    file.read_to_end(&mut npy).map_err(|e| bad(&e))?;
    parse_npy_f32_2d(&npy).map_err(|e| bad(&e))
}

/// A C-ordered little-endian `float32` 2-D `.npy` array (format versions 1–3).
fn parse_npy_f32_2d(npy: &[u8]) -> Result<(usize, usize, Vec<f32>), String> {
    if npy.len() < 10 || &npy[..6] != b"\x93NUMPY" {
        return Err("not an .npy array".into());
    }
    let (header_len, start) = match npy[6] {
        1 => (u16::from_le_bytes([npy[8], npy[9]]) as usize, 10),
        2 | 3 if npy.len() >= 12 => (
            u32::from_le_bytes([npy[8], npy[9], npy[10], npy[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    let header = npy
        .get(start..start + header_len)
        .ok_or("truncated header")?;
    let header = std::str::from_utf8(header).map_err(|_| "header is not text")?;
    if !header.contains("'descr': '<f4'") || !header.contains("'fortran_order': False") {
        return Err(format!(
            "expected little-endian float32 in C order, got {header}"
        ));
    }
    let shape = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or("no shape")?;
    let dims: Vec<usize> = shape
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| "bad shape"))
        .collect::<Result<_, _>>()?;
    let [rows, cols] = dims[..] else {
        return Err(format!("expected 2 dimensions, got {shape}"));
    };
    let data = &npy[start + header_len..];
    if data.len() != rows * cols * 4 {
        return Err(format!("{} bytes of data for {rows}x{cols}", data.len()));
    }
    let values = data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((rows, cols, values))
}

/// A tiktoken file: one `base64(token) rank` per line, ranks in order.
pub fn vocabulary(tiktoken: &[u8]) -> Result<Vec<Vec<u8>>, AssetError> {
    let bad = |line: usize, what: &str| {
        AssetError::Format(
            "the tiktoken vocabulary".into(),
            format!("line {line}: {what}"),
        )
    };
    let text = std::str::from_utf8(tiktoken).map_err(|_| bad(0, "not text"))?;
    let mut tokens = Vec::new();
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let mut parts = line.split_whitespace();
        let (Some(token), Some(rank)) = (parts.next(), parts.next()) else {
            return Err(bad(i + 1, "expected two fields"));
        };
        let rank: usize = rank.parse().map_err(|_| bad(i + 1, "bad rank"))?;
        if rank != i {
            return Err(bad(i + 1, "ranks are not in order"));
        }
        tokens.push(
            base64::engine::general_purpose::STANDARD
                .decode(token)
                .map_err(|_| bad(i + 1, "bad base64"))?,
        );
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_v1_float32_matrix() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        let mut npy = b"\x93NUMPY\x01\x00".to_vec();
        npy.extend_from_slice(&(header.len() as u16).to_le_bytes());
        npy.extend_from_slice(header.as_bytes());
        for v in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0] {
            npy.extend_from_slice(&v.to_le_bytes());
        }
        assert_eq!(
            parse_npy_f32_2d(&npy).unwrap(),
            (2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        );
        assert!(parse_npy_f32_2d(&npy[..npy.len() - 1]).is_err());
    }

    #[test]
    fn tiktoken_lines() {
        let vocab = vocabulary(b"IQ== 0\nIg== 1\nIGhlbGxv 2\n").unwrap();
        assert_eq!(
            vocab,
            vec![b"!".to_vec(), b"\"".to_vec(), b" hello".to_vec()]
        );
        assert!(vocabulary(b"IQ== 1\n").is_err());
    }
}
