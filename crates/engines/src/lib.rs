//! Engines behind traits, each with real implementations chosen by configuration:
//! audio decoding, speech-to-text (whisper.cpp behind the `whisper` feature, or a
//! remote OpenAI-compatible API), sentiment (VADER in Amazon Comprehend's shape),
//! embeddings, the embedded language model and the voice encoder that tells the speakers of a
//! mono recording apart (candle, behind the `candle` feature),
//! and the model files with their setup.

pub mod asr;
pub mod audio;
pub mod embeddings;
mod http_api;
pub mod llm;
pub mod model_threads;
pub mod models;
pub mod sentiment;
pub mod voice;

pub use sentiment::{Sentiment, SentimentEngine, SentimentLabel, VaderSentiment};
