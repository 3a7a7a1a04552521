//! Remote speech-to-text through the OpenAI-compatible transcription API
//! (`POST {base}/audio/transcriptions`, base like `https://api.openai.com/v1`, multipart, `response_format=verbose_json`),
//! served by OpenAI, faster-whisper-server/speaches, vLLM and others on a GPU.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{AsrError, EngineInfo, SpeechToText, Utterance};
use crate::audio::{TARGET_RATE, encode_wav_pcm16};
use crate::http_api;

#[derive(Debug, Clone)]
pub struct RemoteAsrConfig {
    /// Base URL including the API version, e.g. `https://api.openai.com/v1`
    /// (setting `ASR_REMOTE_URL`), as OpenAI's SDKs take it.
    pub base_url: String,
    /// Model name sent with the request (setting `ASR_REMOTE_MODEL`).
    pub model: String,
    /// Bearer token (setting `ASR_REMOTE_API_KEY`); never logged.
    pub api_key: Option<SecretString>,
    pub timeout: Duration,
}

pub struct RemoteAsr {
    config: RemoteAsrConfig,
    client: reqwest::blocking::Client,
}

impl RemoteAsr {
    pub fn new(config: RemoteAsrConfig) -> Result<Self, AsrError> {
        let client = reqwest::blocking::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| AsrError::Model(format!("HTTP client: {e}")))?;
        Ok(Self { config, client })
    }
}

#[derive(serde::Deserialize)]
struct VerboseJson {
    #[serde(default)]
    segments: Vec<Segment>,
    #[serde(default)]
    text: String,
}

#[derive(serde::Deserialize)]
struct Segment {
    start: f64,
    end: f64,
    text: String,
    #[serde(default)]
    avg_logprob: Option<f64>,
    #[serde(default)]
    no_speech_prob: Option<f64>,
}

impl SpeechToText for RemoteAsr {
    fn info(&self) -> EngineInfo {
        EngineInfo {
            engine: "openai-compatible".into(),
            model: self.config.model.clone(),
        }
    }

    fn transcribe_channel(
        &self,
        samples: &[f32],
        channel: usize,
    ) -> Result<Vec<Utterance>, AsrError> {
        let wav = encode_wav_pcm16(samples, TARGET_RATE);
        let file = reqwest::blocking::multipart::Part::bytes(wav)
            .file_name("audio.wav")
            .mime_str("audio/wav")
            .map_err(|e| AsrError::Failed(e.to_string()))?;
        let form = reqwest::blocking::multipart::Form::new()
            .part("file", file)
            .text("model", self.config.model.clone())
            .text("response_format", "verbose_json")
            .text("timestamp_granularities[]", "segment");
        let url = format!(
            "{}/audio/transcriptions",
            self.config.base_url.trim_end_matches('/')
        );
        let mut request = self.client.post(&url).multipart(form);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let response = request.send().map_err(|e| {
            // The error text can carry the URL but never the key (it is a header).
            AsrError::Unavailable(format!("{}", e.without_url()))
        })?;
        let status = response.status();
        if http_api::retryable(status) {
            return Err(AsrError::Unavailable(format!("HTTP {status}")));
        }
        if !status.is_success() {
            let body = response.text().unwrap_or_default();
            let message =
                http_api::error_message(&body).unwrap_or_else(|| format!("HTTP {status}"));
            return Err(AsrError::Failed(message));
        }
        let body: VerboseJson = response
            .json()
            .map_err(|e| AsrError::Failed(format!("bad response: {e}")))?;
        if body.segments.is_empty() && !body.text.trim().is_empty() {
            // A server that ignores verbose_json still gives the text: one utterance.
            let end_ms = samples.len() as u64 * 1000 / u64::from(TARGET_RATE);
            return Ok(vec![Utterance {
                channel,
                start_ms: 0,
                end_ms,
                text: body.text.trim().into(),
                confidence: 0.0,
            }]);
        }
        Ok(body
            .segments
            .into_iter()
            .filter(|s| s.no_speech_prob.unwrap_or(0.0) <= 0.8)
            .map(|s| Utterance {
                channel,
                start_ms: (s.start.max(0.0) * 1000.0).round() as u64,
                end_ms: (s.end.max(0.0) * 1000.0).round() as u64,
                text: s.text.trim().to_string(),
                confidence: s
                    .avg_logprob
                    .map_or(0.0, |l| l.exp().clamp(0.0, 1.0) as f32),
            })
            .collect())
    }
}
