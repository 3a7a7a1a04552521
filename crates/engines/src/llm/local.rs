//! The embedded default language model: SmolLM2-135M-Instruct (Q4_1 GGUF, run as Q8_0: see
//! `requantize`) on candle's quantized llama, CPU only, no network and no API key.
//!
//! It is weak (it invents facts and often produces no JSON), so the product uses it for
//! drafting only, never as the source of a verdict. Greedy decoding keeps it
//! deterministic. The tokenizer is rebuilt from the GGUF's own vocabulary and merges
//! (byte-level BPE), so no separate tokenizer file is needed.

use std::path::Path;
use std::sync::Mutex;

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use candle_transformers::generation::LogitsProcessor;
use candle_transformers::models::quantized_llama::ModelWeights;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::{AddedToken, Tokenizer, decoders, pre_tokenizers};

use super::{ChatOptions, Completion, LanguageModel, LlmError, Message, Role};
use crate::asr::EngineInfo;

const SETTING: &str = "LOCAL_LLM_MODEL";

pub struct LocalLlm {
    /// The KV cache makes a forward pass stateful: one generation at a time.
    model: Mutex<ModelWeights>,
    tokenizer: Tokenizer,
    end_of_turn: u32,
    name: String,
}

impl LocalLlm {
    pub fn load(path: &Path) -> Result<Self, LlmError> {
        if !path.is_file() {
            return Err(LlmError::ModelMissing {
                path: path.display().to_string(),
                setting: SETTING,
            });
        }
        let bad = |e: &dyn std::fmt::Display| LlmError::Failed(format!("{}: {e}", path.display()));
        let mut file = std::fs::File::open(path).map_err(|e| bad(&e))?;
        let content = gguf_file::Content::read(&mut file).map_err(|e| bad(&e))?;
        let tokenizer = tokenizer_from_gguf(&content).map_err(|e| bad(&e))?;
        // Q4_1 tensors are served as Q8_0, converted as the model reads them (`requantize`).
        let (content, mut weights) = super::requantize::Q8View::new(content, file);
        let model =
            ModelWeights::from_gguf(content, &mut weights, &Device::Cpu).map_err(|e| bad(&e))?;
        let end_of_turn = tokenizer
            .token_to_id("<|im_end|>")
            .ok_or_else(|| bad(&"the vocabulary has no <|im_end|> token"))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("local")
            .to_string();
        Ok(Self {
            model: Mutex::new(model),
            tokenizer,
            end_of_turn,
            name,
        })
    }

    fn generate(&self, prompt: &str, max_tokens: u32) -> candle_core::Result<(String, u64, u64)> {
        let msg = |e: tokenizers::Error| candle_core::Error::Msg(e.to_string());
        let prompt_ids = self
            .tokenizer
            .encode(prompt, false)
            .map_err(msg)?
            .get_ids()
            .to_vec();
        let mut model = self
            .model
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        model.clear_kv_cache();
        let mut logits_processor = LogitsProcessor::new(0, None, None);
        let device = Device::Cpu;
        let mut output: Vec<u32> = Vec::new();
        let mut logits = model.forward(
            &Tensor::new(prompt_ids.as_slice(), &device)?.unsqueeze(0)?,
            0,
        )?;
        for step in 0..max_tokens as usize {
            let next = logits_processor.sample(&logits.squeeze(0)?)?;
            if next == self.end_of_turn {
                break;
            }
            output.push(next);
            logits = model.forward(
                &Tensor::new(&[next], &device)?.unsqueeze(0)?,
                prompt_ids.len() + step,
            )?;
        }
        let text = self.tokenizer.decode(&output, true).map_err(msg)?;
        Ok((
            text.trim().to_string(),
            prompt_ids.len() as u64,
            output.len() as u64,
        ))
    }
}

/// ChatML, as SmolLM2-Instruct was trained on.
fn chat_prompt(messages: &[Message]) -> String {
    let mut prompt = String::new();
    for m in messages {
        let role = match m.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        prompt.push_str(&format!("<|im_start|>{role}\n{}<|im_end|>\n", m.content));
    }
    prompt.push_str("<|im_start|>assistant\n");
    prompt
}

fn tokenizer_from_gguf(content: &gguf_file::Content) -> Result<Tokenizer, String> {
    let get = |key: &str| {
        content
            .metadata
            .get(key)
            .ok_or_else(|| format!("no {key} in the GGUF metadata"))
    };
    let strings = |key: &str| -> Result<Vec<String>, String> {
        get(key)?
            .to_vec()
            .map_err(|e| e.to_string())?
            .iter()
            .map(|v| v.to_string().cloned().map_err(|e| e.to_string()))
            .collect()
    };
    let tokens = strings("tokenizer.ggml.tokens")?;
    let merges = strings("tokenizer.ggml.merges")?
        .into_iter()
        .filter_map(|m| {
            m.split_once(' ')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        })
        .collect();
    let mut vocab = Vocab::default();
    for (id, token) in tokens.iter().enumerate() {
        vocab.insert(token.clone(), id as u32);
    }
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .build()
        .map_err(|e| e.to_string())?;
    let mut tokenizer = Tokenizer::new(bpe);
    tokenizer.with_pre_tokenizer(Some(pre_tokenizers::byte_level::ByteLevel::new(
        false, true, true,
    )));
    tokenizer.with_decoder(Some(decoders::byte_level::ByteLevel::default()));
    let specials: Vec<AddedToken> = tokens
        .iter()
        .filter(|t| t.starts_with("<|") && t.ends_with("|>"))
        .map(|t| AddedToken::from(t.clone(), true))
        .collect();
    tokenizer
        .add_special_tokens(specials)
        .map_err(|e| e.to_string())?;
    Ok(tokenizer)
}

impl LanguageModel for LocalLlm {
    fn info(&self) -> EngineInfo {
        EngineInfo {
            engine: "candle".into(),
            model: self.name.clone(),
        }
    }

    fn chat(&self, messages: &[Message], options: &ChatOptions) -> Result<Completion, LlmError> {
        let (text, input_tokens, output_tokens) = self
            .generate(&chat_prompt(messages), options.max_tokens)
            .map_err(|e| LlmError::Failed(e.to_string()))?;
        Ok(Completion {
            text,
            input_tokens,
            output_tokens,
        })
    }
}
