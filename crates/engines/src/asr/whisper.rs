//! Local speech-to-text with whisper.cpp through whisper-rs (CPU).

use std::path::Path;

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

use super::{AsrError, EngineInfo, SpeechToText, Utterance, WhisperConfig, transcribe_channels};
use crate::audio::DecodedAudio;

pub struct WhisperEngine {
    context: WhisperContext,
    config: WhisperConfig,
    model_name: String,
}

impl WhisperEngine {
    pub fn load(config: WhisperConfig) -> Result<Self, AsrError> {
        if !config.model.is_file() {
            return Err(AsrError::ModelMissing {
                path: config.model.display().to_string(),
                setting: "WHISPER_MODEL",
            });
        }
        // Route whisper.cpp's own logging away from stderr.
        whisper_rs::install_logging_hooks();
        let context =
            WhisperContext::new_with_params(&config.model, WhisperContextParameters::default())
                .map_err(|e| AsrError::Model(format!("{}: {e}", config.model.display())))?;
        let model_name = model_name(&config.model);
        Ok(Self {
            context,
            config,
            model_name,
        })
    }
}

fn model_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("whisper");
    stem.strip_prefix("ggml-").unwrap_or(stem).to_string()
}

impl SpeechToText for WhisperEngine {
    fn info(&self) -> EngineInfo {
        EngineInfo {
            engine: "whisper.cpp".into(),
            model: self.model_name.clone(),
        }
    }

    fn transcribe_channel(
        &self,
        samples: &[f32],
        channel: usize,
    ) -> Result<Vec<Utterance>, AsrError> {
        self.run(samples, channel, self.config.threads)
    }

    /// The channels side by side, each on its share of the threads (one whisper state each; the
    /// model is shared).
    fn transcribe(&self, audio: &DecodedAudio) -> Result<super::Transcript, AsrError> {
        transcribe_channels(
            self.info(),
            audio,
            self.config.threads,
            |samples, channel, threads| self.run(samples, channel, threads),
        )
    }
}

impl WhisperEngine {
    fn run(
        &self,
        samples: &[f32],
        channel: usize,
        threads: usize,
    ) -> Result<Vec<Utterance>, AsrError> {
        let mut state = self
            .context
            .create_state()
            .map_err(|e| AsrError::Failed(e.to_string()))?;
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(threads.max(1) as i32);
        params.set_language(Some(self.config.language.as_deref().unwrap_or("en")));
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        params.set_suppress_blank(true);
        // Without context from earlier windows, a misheard phrase cannot loop.
        params.set_no_context(true);
        state
            .full(params, samples)
            .map_err(|e| AsrError::Failed(e.to_string()))?;

        let eot = self.context.token_eot();
        let mut utterances = Vec::new();
        for segment in state.as_iter() {
            let text = segment
                .to_str_lossy()
                .map_err(|e| AsrError::Failed(e.to_string()))?
                .trim()
                .to_string();
            // Bracketed non-speech annotations ("[BLANK_AUDIO]", "(music)") are not words.
            if text.is_empty() || is_annotation(&text) || segment.no_speech_probability() > 0.8 {
                continue;
            }
            let probabilities: Vec<f32> = (0..segment.n_tokens())
                .filter_map(|i| segment.get_token(i))
                .filter(|t| t.token_id() < eot)
                .map(|t| t.token_probability())
                .collect();
            let confidence = if probabilities.is_empty() {
                0.0
            } else {
                probabilities.iter().sum::<f32>() / probabilities.len() as f32
            };
            // Timestamps are in centiseconds.
            utterances.push(Utterance {
                channel,
                start_ms: (segment.start_timestamp().max(0) as u64) * 10,
                end_ms: (segment.end_timestamp().max(0) as u64) * 10,
                text,
                confidence,
            });
        }
        Ok(utterances)
    }
}

fn is_annotation(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('(') && t.ends_with(')'))
}
