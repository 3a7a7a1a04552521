//! Personality metrics of one call, each from what the caller said (SPEC §7). All are
//! deterministic; the definitions are the contract the API documents:
//!
//! - **sentiment** (−1 … 1): the mean VADER score of the caller's lines, weighted by words;
//! - **talkativeness** (0 … 1): the caller's mean words per line ÷ 25, capped at 1 — a caller
//!   who answers in two words scores 0.08, one who tells the story in full sentences nears 1;
//! - **formality** (0 … 1): 0.5 + half the share of lines with a courtesy or formal marker
//!   ("please", "thank you", "could you", "sir", "good morning" …) − half the share with an
//!   informal one ("yeah", "gonna", "hey", "nope" …), clamped;
//! - **patience** (0 … 1): 1 − the share of lines showing hurry or exasperation ("right now",
//!   "hurry", "asap", "still waiting", "again", "ridiculous", "!" …).
//!
//! A call where the caller said nothing measures sentiment 0, talkativeness 0, formality 0.5
//! and patience 1 (no evidence either way).

use switchboard_engines::SentimentEngine;
use switchboard_receptionist::matching::words;
use switchboard_store::repo::memory::PersonalityScores;

const FORMAL: &[&str] = &[
    "please",
    "thank you",
    "thanks",
    "could you",
    "would you",
    "may i",
    "sir",
    "ma'am",
    "madam",
    "good morning",
    "good afternoon",
    "good evening",
    "i appreciate",
    "kindly",
    "i would like",
    "i'd like",
];

const INFORMAL: &[&str] = &[
    "yeah", "yep", "yup", "nope", "gonna", "wanna", "gotta", "hey", "dude", "kinda", "y'all",
    "ain't", "lol", "nah", "cool", "buddy",
];

const IMPATIENT: &[&str] = &[
    "right now",
    "hurry",
    "asap",
    "as soon as possible",
    "immediately",
    "still waiting",
    "already told",
    "again",
    "how long",
    "ridiculous",
    "come on",
    "seriously",
    "waste of time",
    "just tell me",
];

/// Whether `phrase` occurs in the line's words as whole words.
fn has_phrase(line_words: &[String], phrase: &str) -> bool {
    let phrase: Vec<String> = words(phrase);
    !phrase.is_empty()
        && line_words
            .windows(phrase.len())
            .any(|w| w.iter().zip(&phrase).all(|(a, b)| a == b))
}

fn has_any(line_words: &[String], phrases: &[&str]) -> bool {
    phrases.iter().any(|p| has_phrase(line_words, p))
}

pub fn measure(caller_lines: &[&str], sentiment: &dyn SentimentEngine) -> PersonalityScores {
    if caller_lines.is_empty() {
        return PersonalityScores {
            sentiment: 0.0,
            talkativeness: 0.0,
            formality: 0.5,
            patience: 1.0,
        };
    }
    let n = caller_lines.len() as f64;
    let tokenised: Vec<Vec<String>> = caller_lines.iter().map(|l| words(l)).collect();
    let total_words: usize = tokenised.iter().map(Vec::len).sum();

    let scores = sentiment.score_batch(caller_lines);
    let weighted: f64 = scores
        .iter()
        .zip(&tokenised)
        .map(|(s, w)| s.score * w.len().max(1) as f64)
        .sum();
    let weights: f64 = tokenised.iter().map(|w| w.len().max(1) as f64).sum();

    let formal = tokenised.iter().filter(|w| has_any(w, FORMAL)).count() as f64;
    let informal = tokenised.iter().filter(|w| has_any(w, INFORMAL)).count() as f64;
    let impatient = caller_lines
        .iter()
        .zip(&tokenised)
        .filter(|(line, w)| line.contains('!') || has_any(w, IMPATIENT))
        .count() as f64;

    PersonalityScores {
        sentiment: round3((weighted / weights).clamp(-1.0, 1.0)),
        talkativeness: round3((total_words as f64 / n / 25.0).min(1.0)),
        formality: round3((0.5 + 0.5 * (formal - informal) / n).clamp(0.0, 1.0)),
        patience: round3((1.0 - impatient / n).clamp(0.0, 1.0)),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_engines::sentiment::VaderSentiment;

    #[test]
    fn a_polite_patient_caller_and_a_curt_hurried_one_measure_apart() {
        let vader = VaderSentiment::new();
        let polite = measure(
            &[
                "Good morning, I would like to ask about renewing my home policy please.",
                "Thank you, that is very helpful.",
            ],
            &vader,
        );
        let hurried = measure(
            &[
                "Yeah my basement is flooding, I need someone right now!",
                "Come on, how long is this going to take?",
            ],
            &vader,
        );
        assert!(polite.sentiment > 0.3, "{polite:?}");
        assert!(hurried.sentiment < polite.sentiment, "{hurried:?}");
        assert_eq!(polite.formality, 1.0);
        assert_eq!(hurried.formality, 0.25);
        assert_eq!(polite.patience, 1.0);
        assert_eq!(hurried.patience, 0.0);
        // 13 + 6 words over 2 lines, ÷ 25.
        assert_eq!(polite.talkativeness, 0.38);
    }

    #[test]
    fn silence_measures_neutral() {
        let s = measure(&[], &VaderSentiment::new());
        assert_eq!(
            (s.sentiment, s.talkativeness, s.formality, s.patience),
            (0.0, 0.0, 0.5, 1.0)
        );
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let w = words("I am gaining weight");
        assert!(!has_phrase(&w, "again"));
        assert!(has_phrase(&words("call me again"), "again"));
    }
}
