//! Anthropic Messages (`POST {base}/messages`, `x-api-key`, `anthropic-version`).
//! System messages go in the top-level `system` field; consecutive turns of the same
//! role are merged, as the API requires alternating user/assistant turns.

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::{ChatOptions, Completion, HttpLlmConfig, LanguageModel, LlmError, Message, Role, http};
use crate::asr::EngineInfo;

pub const API_VERSION: &str = "2023-06-01";

pub struct Anthropic {
    config: HttpLlmConfig,
    client: reqwest::blocking::Client,
}

impl Anthropic {
    pub fn new(config: HttpLlmConfig) -> Result<Self, LlmError> {
        Ok(Self {
            client: http::client(&config)?,
            config,
        })
    }
}

impl LanguageModel for Anthropic {
    fn info(&self) -> EngineInfo {
        EngineInfo {
            engine: "anthropic".into(),
            model: self.config.model.clone(),
        }
    }

    fn chat(&self, messages: &[Message], options: &ChatOptions) -> Result<Completion, LlmError> {
        let system: Vec<&str> = messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let mut turns: Vec<(Role, String)> = Vec::new();
        for m in messages.iter().filter(|m| m.role != Role::System) {
            match turns.last_mut() {
                Some((role, text)) if *role == m.role => {
                    text.push_str("\n\n");
                    text.push_str(&m.content);
                }
                _ => turns.push((m.role, m.content.clone())),
            }
        }
        if turns.first().is_none_or(|(role, _)| *role != Role::User) {
            turns.insert(0, (Role::User, "Go ahead.".into()));
        }
        let turns: Vec<Value> = turns
            .into_iter()
            .map(|(role, content)| json!({"role": if role == Role::User { "user" } else { "assistant" }, "content": content}))
            .collect();
        let mut body = json!({
            "model": self.config.model,
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "messages": turns,
        });
        if !system.is_empty() {
            body["system"] = Value::String(system.join("\n\n"));
        }
        let url = format!("{}/messages", self.config.base_url.trim_end_matches('/'));
        let reply = http::send_json(&self.config, || {
            let request = self
                .client
                .post(&url)
                .header("anthropic-version", API_VERSION)
                .json(&body);
            match &self.config.api_key {
                Some(key) => request.header("x-api-key", key.expose_secret()),
                None => request,
            }
        })?;
        let text: String = reply
            .get("content")
            .and_then(Value::as_array)
            .ok_or_else(|| LlmError::Failed("the reply has no content".into()))?
            .iter()
            .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|block| block.get("text").and_then(Value::as_str))
            .collect();
        let tokens = |field: &str| {
            reply
                .pointer(&format!("/usage/{field}"))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        Ok(Completion {
            text,
            input_tokens: tokens("input_tokens"),
            output_tokens: tokens("output_tokens"),
        })
    }
}
