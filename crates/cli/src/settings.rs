//! Layered configuration: defaults → optional TOML file (`--config` / `SWITCHBOARD_CONFIG`) →
//! environment variables (SPEC §1 names, e.g. `DATABASE_URL`, `STORAGE_BACKEND`, `S3_BUCKET`) →
//! `<NAME>_FILE` variables, whose file content replaces `<NAME>` (for secrets).
//! Keys in the TOML file are the lower-case variable names (`database_url = "…"`).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use switchboard_server::ServerConfig;
use switchboard_store::auth::jwt::JwtIssuerConfig;
use switchboard_store::objects::S3Config;
use switchboard_store::secrets::{Keyring, MasterKey};
use switchboard_store::{DbConfig, StorageConfig};

/// Every setting, by its environment-variable name (lower-cased).
const KEYS: &[&str] = &[
    "switchboard_data_dir",
    "database_url",
    "database_migration_url",
    "database_max_connections",
    "storage_backend",
    "s3_endpoint",
    "s3_region",
    "s3_access_key_id",
    "s3_secret_access_key",
    "s3_bucket",
    "s3_raw_bucket",
    "s3_config_bucket",
    "per_tenant_buckets",
    "bucket_prefix",
    "public_url",
    "log_format",
    "max_upload_bytes",
    "ingest_interval_secs",
    "provider_timeout_secs",
    "oidc_issuer",
    "oidc_jwks_url",
    "oidc_audience",
    "switchboard_master_key",
    "switchboard_master_key_previous",
    "asr_engine",
    "whisper_model",
    "whisper_threads",
    "asr_remote_url",
    "asr_remote_model",
    "asr_remote_api_key",
    "max_audio_seconds",
    "workers",
    "model_threads",
    "job_lease_secs",
    "embedding_model_dir",
    "embedding_precision",
    "voice_model",
    "llm_provider",
    "llm_base_url",
    "llm_model",
    "local_llm_model",
    "openai_api_key",
    "anthropic_api_key",
    "twilio_account_sid",
    "twilio_auth_token",
    "twilio_api_url",
];

#[derive(Deserialize)]
#[serde(default)]
pub struct Settings {
    pub switchboard_data_dir: PathBuf,
    pub database_url: Option<SecretString>,
    pub database_migration_url: Option<SecretString>,
    pub database_max_connections: u32,
    pub storage_backend: String,
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<SecretString>,
    pub s3_bucket: String,
    pub s3_raw_bucket: String,
    pub s3_config_bucket: String,
    pub per_tenant_buckets: bool,
    pub bucket_prefix: String,
    pub public_url: Option<String>,
    /// `text` or `json`.
    pub log_format: String,
    /// The largest recording an upload may carry.
    pub max_upload_bytes: u64,
    /// How often `serve` syncs every provider for every tenant (0: never).
    pub ingest_interval_secs: u64,
    /// How long a provider connector waits for one HTTP answer.
    pub provider_timeout_secs: u64,
    /// External issuers (TOML: `[[oidc_issuers]]`).
    pub oidc_issuers: Vec<JwtIssuerConfig>,
    /// A single issuer from the environment: `OIDC_ISSUER`, `OIDC_JWKS_URL`, `OIDC_AUDIENCE`
    /// (comma-separated).
    pub oidc_issuer: Option<String>,
    pub oidc_jwks_url: Option<String>,
    pub oidc_audience: Option<String>,
    /// The secret store's current master key (32 bytes, base64).
    pub switchboard_master_key: Option<SecretString>,
    /// Earlier master keys, comma-separated: they open old entries until `secrets rotate`.
    pub switchboard_master_key_previous: Option<SecretString>,
    /// Speech-to-text: `whisper` (local whisper.cpp) or `remote` (OpenAI-compatible API).
    pub asr_engine: String,
    /// A ggml whisper model; default `<data dir>/models/whisper/ggml-tiny.en-q8_0.bin`.
    pub whisper_model: Option<PathBuf>,
    /// CPU threads per transcription (0: all cores).
    pub whisper_threads: usize,
    /// Base URL of the remote transcription API, with its version (`https://api.openai.com/v1`).
    pub asr_remote_url: Option<String>,
    pub asr_remote_model: String,
    pub asr_remote_api_key: Option<SecretString>,
    /// Longest recording accepted for transcription, in seconds.
    pub max_audio_seconds: f64,
    /// Pipeline workers `serve` runs in-process (0: none; run `switchboard worker` instead).
    pub workers: usize,
    /// Threads per model computation on candle; 0: the cores shared among the process's
    /// pipeline workers (`switchboard_engines::model_threads`).
    pub model_threads: usize,
    /// How long a claimed pipeline job is one worker's before another may take it over.
    pub job_lease_secs: u64,
    /// all-MiniLM-L6-v2 files; default `<data dir>/models/all-MiniLM-L6-v2`.
    pub embedding_model_dir: Option<PathBuf>,
    /// `bf16` (MiniLM's dense layers in bfloat16 on Intel AMX where the CPU has it, else f32)
    /// or `f32`.
    pub embedding_precision: String,
    /// Resemblyzer's voice encoder, which tells the two speakers of a mono recording apart;
    /// default `<data dir>/models/voice/resemblyzer-pretrained.pt`.
    pub voice_model: Option<PathBuf>,
    /// `local` (embedded SmolLM2, drafting only), `openai` (any OpenAI-compatible server) or
    /// `anthropic`.
    pub llm_provider: String,
    /// Base URL with version; defaults to the provider's public API.
    pub llm_base_url: Option<String>,
    pub llm_model: Option<String>,
    /// The embedded GGUF model; default `<data dir>/models/smollm2/…gguf`.
    pub local_llm_model: Option<PathBuf>,
    pub openai_api_key: Option<SecretString>,
    pub anthropic_api_key: Option<SecretString>,
    /// The platform's Twilio account: verifies webhooks for numbers whose tenant stored no
    /// `twilio` credential of its own.
    pub twilio_account_sid: Option<String>,
    pub twilio_auth_token: Option<SecretString>,
    /// Twilio's REST API, where SMS follow-ups are sent (a test points it at a loopback server).
    pub twilio_api_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            switchboard_data_dir: PathBuf::from("./data"),
            database_url: None,
            database_migration_url: None,
            database_max_connections: 10,
            storage_backend: "local".into(),
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_bucket: "switchboard-results".into(),
            s3_raw_bucket: "switchboard-input".into(),
            s3_config_bucket: "switchboard-config".into(),
            per_tenant_buckets: false,
            bucket_prefix: "switchboard".into(),
            public_url: None,
            log_format: "text".into(),
            max_upload_bytes: switchboard_server::state::DEFAULT_MAX_UPLOAD_BYTES,
            ingest_interval_secs: 900,
            provider_timeout_secs: 20,
            oidc_issuers: Vec::new(),
            oidc_issuer: None,
            oidc_jwks_url: None,
            oidc_audience: None,
            switchboard_master_key: None,
            switchboard_master_key_previous: None,
            asr_engine: "whisper".into(),
            whisper_model: None,
            whisper_threads: 0,
            asr_remote_url: None,
            asr_remote_model: "whisper-1".into(),
            asr_remote_api_key: None,
            max_audio_seconds: 4.0 * 3600.0,
            workers: 1,
            model_threads: 0,
            job_lease_secs: 900,
            embedding_model_dir: None,
            embedding_precision: "bf16".into(),
            voice_model: None,
            llm_provider: "local".into(),
            llm_base_url: None,
            llm_model: None,
            local_llm_model: None,
            openai_api_key: None,
            anthropic_api_key: None,
            twilio_account_sid: None,
            twilio_auth_token: None,
            twilio_api_url: switchboard_pipeline::sms::TWILIO_API_URL.into(),
        }
    }
}

impl Settings {
    pub fn model_files(&self) -> switchboard_engines::models::ModelFiles {
        switchboard_engines::models::ModelFiles::under(&self.switchboard_data_dir)
    }

    /// The speech-to-text engine these settings choose.
    pub fn asr(&self) -> anyhow::Result<switchboard_engines::asr::AsrConfig> {
        use switchboard_engines::asr::{AsrConfig, RemoteAsrConfig, WhisperConfig};
        Ok(match self.asr_engine.as_str() {
            "whisper" => AsrConfig::Whisper(WhisperConfig {
                model: self
                    .whisper_model
                    .clone()
                    .unwrap_or_else(|| self.model_files().whisper_tiny_en()),
                threads: match self.whisper_threads {
                    0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
                    n => n,
                },
                language: None,
            }),
            "remote" => AsrConfig::Remote(RemoteAsrConfig {
                base_url: self
                    .asr_remote_url
                    .clone()
                    .context("ASR_ENGINE=remote needs ASR_REMOTE_URL")?,
                model: self.asr_remote_model.clone(),
                api_key: self.asr_remote_api_key.clone(),
                timeout: std::time::Duration::from_secs(600),
            }),
            other => bail!("ASR_ENGINE must be `whisper` or `remote`, not {other:?}"),
        })
    }

    pub fn embedding_model_dir(&self) -> PathBuf {
        self.embedding_model_dir
            .clone()
            .unwrap_or_else(|| self.model_files().minilm_dir())
    }

    #[cfg(feature = "models")]
    pub fn embedding_precision(
        &self,
    ) -> anyhow::Result<switchboard_engines::embeddings::dense::Precision> {
        self.embedding_precision
            .parse()
            .map_err(|message: String| anyhow::anyhow!(message))
    }

    pub fn voice_model(&self) -> PathBuf {
        self.voice_model
            .clone()
            .unwrap_or_else(|| self.model_files().voice_encoder())
    }

    /// The language model these settings choose.
    pub fn llm(&self) -> anyhow::Result<switchboard_engines::llm::LlmConfig> {
        use switchboard_engines::llm::{HttpLlmConfig, LlmConfig};
        let http = |url: &str, model: &str, key: &Option<SecretString>| {
            HttpLlmConfig::new(
                self.llm_base_url.clone().unwrap_or_else(|| url.to_string()),
                self.llm_model.clone().unwrap_or_else(|| model.to_string()),
                key.clone(),
            )
        };
        Ok(match self.llm_provider.as_str() {
            "local" => LlmConfig::Local {
                model: self
                    .local_llm_model
                    .clone()
                    .unwrap_or_else(|| self.model_files().smollm2()),
            },
            "openai" => LlmConfig::OpenAi(http(
                "https://api.openai.com/v1",
                "gpt-4o-mini",
                &self.openai_api_key,
            )),
            "anthropic" => LlmConfig::Anthropic(http(
                "https://api.anthropic.com/v1",
                "claude-3-5-haiku-latest",
                &self.anthropic_api_key,
            )),
            other => bail!("LLM_PROVIDER must be local, openai or anthropic, not {other:?}"),
        })
    }

    pub fn decode_limits(&self) -> switchboard_engines::audio::DecodeLimits {
        switchboard_engines::audio::DecodeLimits {
            max_seconds: self.max_audio_seconds,
        }
    }

    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut figment = Figment::new();
        if let Some(file) = file {
            if !file.exists() {
                bail!("the configuration file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::raw().only(KEYS));
        for key in KEYS {
            let variable = format!("{}_FILE", key.to_uppercase());
            if let Some(path) = std::env::var_os(&variable) {
                let value = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {variable}"))?;
                figment = figment.merge(Serialized::default(key, value.trim_end().to_owned()));
            }
        }
        figment
            .extract()
            .context("invalid configuration (check the variable named above)")
    }

    pub fn db(&self) -> DbConfig {
        let url = self.database_url.clone().unwrap_or_else(|| {
            let path = self.switchboard_data_dir.join("switchboard.db");
            SecretString::from(format!("sqlite://{}", path.display()))
        });
        DbConfig {
            url,
            migration_url: self.database_migration_url.clone(),
            max_connections: self.database_max_connections,
        }
    }

    pub fn storage(&self) -> anyhow::Result<StorageConfig> {
        match self.storage_backend.as_str() {
            "local" => Ok(StorageConfig::Local {
                root: self.switchboard_data_dir.join("objects"),
            }),
            "s3" => Ok(StorageConfig::S3(S3Config {
                endpoint: self.s3_endpoint.clone(),
                region: self.s3_region.clone(),
                access_key_id: self.s3_access_key_id.clone(),
                secret_access_key: self.s3_secret_access_key.clone(),
                input_bucket: self.s3_raw_bucket.clone(),
                results_bucket: self.s3_bucket.clone(),
                config_bucket: self.s3_config_bucket.clone(),
                per_tenant_buckets: self.per_tenant_buckets,
                bucket_prefix: self.bucket_prefix.clone(),
            })),
            other => bail!("STORAGE_BACKEND must be 'local' or 's3', not {other:?}"),
        }
    }

    pub fn platform_twilio(&self) -> Option<switchboard_store::auth::twilio::PlatformTwilio> {
        self.twilio_auth_token.as_ref().map(|token| {
            switchboard_store::auth::twilio::PlatformTwilio {
                account_sid: self.twilio_account_sid.clone(),
                auth_token: token.clone(),
            }
        })
    }

    pub fn server(&self) -> ServerConfig {
        ServerConfig {
            public_url: self.public_url.clone(),
            max_upload_bytes: self.max_upload_bytes,
            provider_timeout: std::time::Duration::from_secs(self.provider_timeout_secs.max(1)),
        }
    }

    /// The secret store's keyring. Without `SWITCHBOARD_MASTER_KEY`, an embedded (SQLite)
    /// installation keeps a generated key in `$SWITCHBOARD_DATA_DIR/master.key`; a PostgreSQL
    /// installation must configure one, since all its processes need the same key.
    pub fn keyring(&self) -> anyhow::Result<Keyring> {
        let current = match &self.switchboard_master_key {
            Some(key) => {
                MasterKey::from_base64(key.expose_secret()).context("SWITCHBOARD_MASTER_KEY")?
            }
            None => {
                if self.db().url.expose_secret().starts_with("postgres") {
                    bail!(
                        "SWITCHBOARD_MASTER_KEY (or SWITCHBOARD_MASTER_KEY_FILE) must be set when DATABASE_URL is PostgreSQL; `switchboard secrets generate-key` makes one"
                    );
                }
                let path = self.switchboard_data_dir.join("master.key");
                if !path.exists() {
                    std::fs::create_dir_all(&self.switchboard_data_dir)?;
                    write_private(&path, &MasterKey::generate_base64())?;
                    tracing::warn!(path = %path.display(), "SWITCHBOARD_MASTER_KEY is not set: generated a master key file");
                }
                let encoded = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                MasterKey::from_base64(&encoded)
                    .with_context(|| format!("master key in {}", path.display()))?
            }
        };
        let previous = match &self.switchboard_master_key_previous {
            Some(keys) => keys
                .expose_secret()
                .split(',')
                .filter(|k| !k.trim().is_empty())
                .map(MasterKey::from_base64)
                .collect::<Result<Vec<_>, _>>()
                .context("SWITCHBOARD_MASTER_KEY_PREVIOUS")?,
            None => Vec::new(),
        };
        Ok(Keyring::new(current, previous))
    }

    pub fn issuers(&self) -> Vec<JwtIssuerConfig> {
        let mut issuers = self.oidc_issuers.clone();
        if let (Some(issuer), Some(jwks)) = (&self.oidc_issuer, &self.oidc_jwks_url) {
            let audiences = self
                .oidc_audience
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
            issuers.push(JwtIssuerConfig::new(issuer, jwks, audiences));
        }
        issuers
    }
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(content.as_bytes())?;
    Ok(())
}
