//! Language models behind one interface: `chat(messages, options) -> text` and
//! `json(messages, schema) -> value` (validated, with retries), implemented for
//! OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp server, Ollama) and
//! Anthropic Messages.
//!
//! Like the other engines the trait is synchronous; async callers use `spawn_blocking`.

pub mod anthropic;
mod http;
#[cfg(feature = "candle")]
pub mod local;
pub mod openai;
#[cfg(feature = "candle")]
mod requantize;
mod schema;

use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;

pub use anthropic::Anthropic;
pub use openai::OpenAiCompatible;
pub use schema::validate;

use crate::asr::EngineInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ChatOptions {
    pub max_tokens: u32,
    pub temperature: f32,
}

impl Default for ChatOptions {
    fn default() -> Self {
        Self {
            max_tokens: 512,
            temperature: 0.2,
        }
    }
}

/// A reply with its token usage (for the tenant's usage counters).
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub text: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// Worth retrying later: timeouts, connection failures, 429, 5xx (after our own retries).
    #[error("the language model is unavailable: {0}")]
    Unavailable(String),
    /// The request was refused (bad key, bad model, bad request): retrying will not help.
    #[error("the language model refused the request: {0}")]
    Refused(String),
    /// The reply did not satisfy the schema after every attempt.
    #[error("the language model did not return valid JSON: {0}")]
    InvalidJson(String),
    #[error(
        "the language model file {path} is missing; set {setting} or run `switchboard models fetch`"
    )]
    ModelMissing { path: String, setting: &'static str },
    #[error("the language model failed: {0}")]
    Failed(String),
}

impl LlmError {
    pub fn retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

pub trait LanguageModel: Send + Sync {
    fn info(&self) -> EngineInfo;

    fn chat(&self, messages: &[Message], options: &ChatOptions) -> Result<Completion, LlmError>;

    /// Asks for a JSON object matching `schema` (a JSON Schema subset: `type`, `required`,
    /// `properties`, `items`, `enum`). An invalid reply is sent back with the problem, up
    /// to `JSON_ATTEMPTS` times in all.
    fn json(&self, messages: &[Message], schema: &Value) -> Result<(Value, Completion), LlmError> {
        let mut conversation = messages.to_vec();
        conversation.push(Message::system(format!(
            "Reply with one JSON object only, no prose and no code fences, matching this JSON Schema:\n{schema}"
        )));
        let options = ChatOptions {
            temperature: 0.0,
            ..ChatOptions::default()
        };
        let mut problem = String::new();
        let mut usage = Completion {
            text: String::new(),
            input_tokens: 0,
            output_tokens: 0,
        };
        for _ in 0..JSON_ATTEMPTS {
            let reply = self.chat(&conversation, &options)?;
            usage.input_tokens += reply.input_tokens;
            usage.output_tokens += reply.output_tokens;
            let checked = extract_json(&reply.text)
                .ok_or_else(|| "the reply holds no JSON object".to_string())
                .and_then(|value| {
                    validate(&value, schema)
                        .map(|()| value)
                        .map_err(|errors| errors.join("; "))
                });
            match checked {
                Ok(value) => {
                    usage.text = reply.text;
                    return Ok((value, usage));
                }
                Err(why) => {
                    problem = why;
                    conversation.push(Message::assistant(reply.text));
                    conversation.push(Message::user(format!(
                        "That reply is not valid: {problem}. Reply again with the JSON object only."
                    )));
                }
            }
        }
        Err(LlmError::InvalidJson(problem))
    }
}

pub const JSON_ATTEMPTS: usize = 3;

/// Which language model to run (setting `LLM_PROVIDER`).
#[derive(Debug, Clone)]
pub enum LlmConfig {
    /// The embedded GGUF model (setting `LOCAL_LLM_MODEL`).
    Local {
        model: std::path::PathBuf,
    },
    OpenAi(HttpLlmConfig),
    Anthropic(HttpLlmConfig),
}

impl LlmConfig {
    pub fn build(self) -> Result<std::sync::Arc<dyn LanguageModel>, LlmError> {
        match self {
            #[cfg(feature = "candle")]
            Self::Local { model } => Ok(std::sync::Arc::new(local::LocalLlm::load(&model)?)),
            #[cfg(not(feature = "candle"))]
            Self::Local { .. } => Err(LlmError::Failed(
                "this build has no embedded model (feature `candle`); set LLM_PROVIDER=openai or anthropic".into(),
            )),
            Self::OpenAi(config) => Ok(std::sync::Arc::new(OpenAiCompatible::new(config)?)),
            Self::Anthropic(config) => Ok(std::sync::Arc::new(Anthropic::new(config)?)),
        }
    }
}

/// The first balanced `{…}` in `text` that parses (models wrap JSON in prose or fences).
pub fn extract_json(text: &str) -> Option<Value> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while let Some(offset) = text[start..].find('{') {
        let open = start + offset;
        let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
        for (i, &b) in bytes.iter().enumerate().skip(open) {
            match (in_string, b) {
                (true, b'\\') if !escaped => {
                    escaped = true;
                    continue;
                }
                (true, b'"') if !escaped => in_string = false,
                (false, b'"') => in_string = true,
                (false, b'{') => depth += 1,
                (false, b'}') => {
                    depth -= 1;
                    if depth == 0 {
                        if let Ok(value @ Value::Object(_)) = serde_json::from_str(&text[open..=i])
                        {
                            return Some(value);
                        }
                        break;
                    }
                }
                _ => {}
            }
            escaped = false;
        }
        start = open + 1;
    }
    None
}

/// Settings shared by the HTTP clients.
#[derive(Debug, Clone)]
pub struct HttpLlmConfig {
    /// Base URL including the version: `https://api.openai.com/v1`, `http://localhost:11434/v1`,
    /// `https://api.anthropic.com/v1`.
    pub base_url: String,
    pub model: String,
    /// Never logged.
    pub api_key: Option<SecretString>,
    /// Per request.
    pub timeout: Duration,
    /// Attempts for 429/5xx/timeouts, honouring `Retry-After` up to `max_retry_wait`.
    pub attempts: u32,
    pub max_retry_wait: Duration,
}

impl HttpLlmConfig {
    pub fn new(
        base_url: impl Into<String>,
        model: impl Into<String>,
        api_key: Option<SecretString>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key,
            timeout: Duration::from_secs(60),
            attempts: 3,
            max_retry_wait: Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_in_prose_and_fences() {
        let v = extract_json(
            "Sure! ```json\n{\"a\": \"}{\", \"b\": [1, {\"c\": 2}]}\n``` hope that helps",
        )
        .unwrap();
        assert_eq!(v["b"][1]["c"], 2);
        assert_eq!(v["a"], "}{");
        assert!(extract_json("no json here").is_none());
        assert_eq!(extract_json("{broken {\"ok\": true}").unwrap()["ok"], true);
    }
}
