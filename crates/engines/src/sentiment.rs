//! Sentiment per utterance in Amazon Comprehend's shape (SPEC §4.3): a label and four scores
//! (positive, negative, neutral, mixed) that sum to 1, plus a signed score in [-1, 1].
//!
//! The implementation is VADER (`vader_sentiment`, lexicon compiled in). Mapping from VADER's
//! `pos`/`neg`/`neu` proportions and `compound` score:
//! - `mixed` is the share where positive and negative wording overlap: `2 × min(pos, neg)`;
//!   `positive = pos − min(pos, neg)`, `negative = neg − min(pos, neg)`, `neutral = neu`, so the
//!   four still sum to 1;
//! - `score` is VADER's `compound`;
//! - the label is MIXED when both `pos` and `neg` are at least 0.15 and `|compound| < 0.5`,
//!   else POSITIVE for `compound ≥ 0.05`, NEGATIVE for `compound ≤ −0.05`, NEUTRAL otherwise
//!   (VADER's published thresholds);
//! - text with no words is NEUTRAL with `neutral = 1`.
//!
//! Call-centre domain adjustment: scripted courtesy carries no sentiment, but VADER reads "I would
//! like to …" (`like` +1.5), "please" (+1.3), "thank you for calling", and even "my account
//! number" (`number` +0.3) as positive, which would make every polite request look happy. So:
//! courtesy phrases are rewritten before scoring (`COURTESY`), and the words that are service
//! vocabulary on a phone line rather than feelings carry no valence (`SERVICE_WORDS`: "number",
//! "want", "like", "please", "help", "yes", "ok", "okay", "sure", "credit", "kind", "care",
//! "free"). Genuine thanks and praise ("thank you so much, you were wonderful") still count.

use std::collections::HashMap;
use std::sync::OnceLock;

use unicase::UniCase;
use vader_sentiment::SentimentIntensityAnalyzer;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SentimentLabel {
    Positive,
    Negative,
    Neutral,
    Mixed,
}

impl SentimentLabel {
    /// The label as Comprehend writes it (and as it serialises).
    pub fn as_str(self) -> &'static str {
        match self {
            SentimentLabel::Positive => "POSITIVE",
            SentimentLabel::Negative => "NEGATIVE",
            SentimentLabel::Neutral => "NEUTRAL",
            SentimentLabel::Mixed => "MIXED",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sentiment {
    pub label: SentimentLabel,
    pub positive: f64,
    pub negative: f64,
    pub neutral: f64,
    pub mixed: f64,
    /// Signed score in [-1, 1].
    pub score: f64,
}

/// Scores utterances. Implementations are cheap to share across threads.
pub trait SentimentEngine: Send + Sync {
    fn score(&self, text: &str) -> Sentiment;

    fn score_batch(&self, texts: &[&str]) -> Vec<Sentiment> {
        texts.iter().map(|text| self.score(text)).collect()
    }

    /// Engine and model name, recorded with every analysis.
    fn name(&self) -> &'static str;
}

/// Courtesy phrases (lower case) and what they are read as instead.
const COURTESY: &[(&str, &str)] = &[
    ("thank you for calling", "you called"),
    ("thanks for calling", "you called"),
    ("thank you for holding", "you held"),
    ("thanks for holding", "you held"),
    ("thank you for your patience", "you waited"),
    ("i would like to", "i want to"),
    ("i'd like to", "i want to"),
    ("would you like to", "do you want to"),
    ("would you like", "do you want"),
    ("we would like to", "we want to"),
    ("how may i help you", "what is it"),
    ("how can i help you", "what is it"),
    ("how can i help", "what is it"),
    ("please", ""),
];

fn neutralise_courtesy(text: &str) -> String {
    let mut lower = text.to_lowercase();
    for (phrase, plain) in COURTESY {
        if lower.contains(phrase) {
            lower = lower.replace(phrase, plain);
        }
    }
    lower
}

/// Words that name service actions or acknowledge, not feel, on a phone line.
const SERVICE_WORDS: &[&str] = &[
    "number", "want", "like", "please", "help", "yes", "ok", "okay", "sure", "credit", "kind",
    "care", "free",
];

/// VADER's lexicon without the service words, built once.
fn domain_lexicon() -> &'static HashMap<UniCase<&'static str>, f64> {
    static LEXICON: OnceLock<HashMap<UniCase<&'static str>, f64>> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let mut lexicon = vader_sentiment::LEXICON.clone();
        for word in SERVICE_WORDS {
            lexicon.remove(&UniCase::new(*word));
        }
        lexicon
    })
}

pub struct VaderSentiment {
    analyzer: SentimentIntensityAnalyzer<'static>,
}

impl Default for VaderSentiment {
    fn default() -> Self {
        VaderSentiment {
            analyzer: SentimentIntensityAnalyzer::from_lexicon(domain_lexicon()),
        }
    }
}

impl VaderSentiment {
    pub fn new() -> VaderSentiment {
        VaderSentiment::default()
    }
}

/// Maps VADER's scores to Comprehend's shape (see the module documentation).
pub fn from_vader(pos: f64, neg: f64, neu: f64, compound: f64) -> Sentiment {
    if pos + neg + neu <= f64::EPSILON {
        return Sentiment {
            label: SentimentLabel::Neutral,
            positive: 0.0,
            negative: 0.0,
            neutral: 1.0,
            mixed: 0.0,
            score: 0.0,
        };
    }
    let overlap = pos.min(neg);
    let label = if pos >= 0.15 && neg >= 0.15 && compound.abs() < 0.5 {
        SentimentLabel::Mixed
    } else if compound >= 0.05 {
        SentimentLabel::Positive
    } else if compound <= -0.05 {
        SentimentLabel::Negative
    } else {
        SentimentLabel::Neutral
    };
    Sentiment {
        label,
        positive: pos - overlap,
        negative: neg - overlap,
        neutral: neu,
        mixed: 2.0 * overlap,
        score: compound,
    }
}

impl SentimentEngine for VaderSentiment {
    fn score(&self, text: &str) -> Sentiment {
        let scores = self.analyzer.polarity_scores(&neutralise_courtesy(text));
        let get = |key: &str| scores.get(key).copied().unwrap_or(0.0);
        from_vader(get("pos"), get("neg"), get("neu"), get("compound"))
    }

    fn name(&self) -> &'static str {
        "vader-0.1+call-centre"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(text: &str) -> SentimentLabel {
        VaderSentiment::new().score(text).label
    }

    #[test]
    fn scores_sum_to_one_and_the_score_is_signed() {
        let engine = VaderSentiment::new();
        for text in [
            "This is great, thank you so much!",
            "This is awful.",
            "My account number is 42.",
            "",
            "Good but also terrible",
        ] {
            let s = engine.score(text);
            let sum = s.positive + s.negative + s.neutral + s.mixed;
            assert!((sum - 1.0).abs() < 1e-9, "{text:?}: {sum}");
            assert!((-1.0..=1.0).contains(&s.score));
        }
        assert!(engine.score("This is great!").score > 0.5);
        assert!(engine.score("This is terrible!").score < -0.5);
    }

    #[test]
    fn clear_sentiment_gets_its_label() {
        assert_eq!(
            label("Thank you so much, that fixed it, you're wonderful!"),
            SentimentLabel::Positive
        );
        assert_eq!(
            label("This is ridiculous, I'm furious and I want to cancel."),
            SentimentLabel::Negative
        );
        assert_eq!(label("My policy number is 4417."), SentimentLabel::Neutral);
        assert_eq!(label(""), SentimentLabel::Neutral);
    }

    #[test]
    fn call_centre_courtesy_is_not_read_as_happiness() {
        for text in [
            "I would like to change my address.",
            "I'd like to update my payment details please.",
            "Thank you for calling Acme Insurance, how may I help you?",
            "Please hold while I check that.",
            "Would you like to add roadside assistance?",
        ] {
            assert_eq!(label(text), SentimentLabel::Neutral, "{text}");
        }
        // Plain VADER calls the first one positive: the adjustment is what changes it.
        let vader = SentimentIntensityAnalyzer::new();
        let plain = vader.polarity_scores("I would like to change my address.");
        assert!(
            plain["compound"] >= 0.05,
            "VADER alone reads courtesy as positive"
        );
        assert_eq!(
            label("I would like to say you were amazing, thank you!"),
            SentimentLabel::Positive
        );
    }

    #[test]
    fn overlapping_praise_and_complaint_is_mixed() {
        let s = from_vader(0.3, 0.3, 0.4, 0.1);
        assert_eq!(s.label, SentimentLabel::Mixed);
        assert!((s.mixed - 0.6).abs() < 1e-9 && s.positive.abs() < 1e-9 && s.negative.abs() < 1e-9);
        assert_eq!(
            from_vader(0.5, 0.1, 0.4, 0.7).label,
            SentimentLabel::Positive
        );
    }
}
