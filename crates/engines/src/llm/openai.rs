//! OpenAI-compatible chat completions (`POST {base}/chat/completions`): OpenAI, vLLM,
//! llama.cpp's server, Ollama (`http://localhost:11434/v1`) and others.

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::{ChatOptions, Completion, HttpLlmConfig, LanguageModel, LlmError, Message, http};
use crate::asr::EngineInfo;

pub struct OpenAiCompatible {
    config: HttpLlmConfig,
    client: reqwest::blocking::Client,
}

impl OpenAiCompatible {
    pub fn new(config: HttpLlmConfig) -> Result<Self, LlmError> {
        Ok(Self {
            client: http::client(&config)?,
            config,
        })
    }
}

impl LanguageModel for OpenAiCompatible {
    fn info(&self) -> EngineInfo {
        EngineInfo {
            engine: "openai-compatible".into(),
            model: self.config.model.clone(),
        }
    }

    fn chat(&self, messages: &[Message], options: &ChatOptions) -> Result<Completion, LlmError> {
        let url = format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        );
        let body = json!({
            "model": self.config.model,
            "messages": messages,
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
        });
        let reply = http::send_json(&self.config, || {
            let request = self.client.post(&url).json(&body);
            match &self.config.api_key {
                Some(key) => request.bearer_auth(key.expose_secret()),
                None => request,
            }
        })?;
        let text = reply
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                LlmError::Failed("the reply has no choices[0].message.content".into())
            })?;
        let tokens = |field: &str| {
            reply
                .pointer(&format!("/usage/{field}"))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        Ok(Completion {
            text: text.to_string(),
            input_tokens: tokens("prompt_tokens"),
            output_tokens: tokens("completion_tokens"),
        })
    }
}
