//! Engines behind traits, each with real implementations chosen by configuration. So far:
//! sentiment (VADER, mapped to Amazon Comprehend's shape).

pub mod sentiment;

pub use sentiment::{Sentiment, SentimentEngine, SentimentLabel, VaderSentiment};
