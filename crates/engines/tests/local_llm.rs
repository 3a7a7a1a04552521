//! The embedded SmolLM2 model loads from the fetched GGUF and answers, deterministically.

#![cfg(feature = "candle")]

mod support;

use std::time::Instant;

use switchboard_engines::llm::local::LocalLlm;
use switchboard_engines::llm::{ChatOptions, LanguageModel, Message};
use switchboard_engines::models::ModelFiles;

#[test]
fn smollm2_answers_deterministically() {
    let Some(data) = support::models_data_dir() else {
        return;
    };
    let model = LocalLlm::load(&ModelFiles::under(&data).smollm2()).unwrap();
    let messages = [
        Message::system("You are a helpful assistant for a plumbing company."),
        Message::user("What is the capital of France? Answer in one word."),
    ];
    let options = ChatOptions {
        max_tokens: 24,
        temperature: 0.0,
    };
    let started = Instant::now();
    let first = model.chat(&messages, &options).unwrap();
    let elapsed = started.elapsed();
    eprintln!(
        "reply: {:?} ({} tokens in {elapsed:?})",
        first.text, first.output_tokens
    );
    assert!(!first.text.is_empty());
    assert!(first.text.contains("Paris"), "{}", first.text);
    assert!(first.input_tokens > 10 && first.output_tokens <= 24);
    assert_eq!(model.chat(&messages, &options).unwrap().text, first.text);
}

#[test]
fn a_missing_model_names_the_setting() {
    let Err(err) = LocalLlm::load(std::path::Path::new("/nonexistent.gguf")) else {
        panic!("loaded")
    };
    assert!(err.to_string().contains("LOCAL_LLM_MODEL"), "{err}");
}
