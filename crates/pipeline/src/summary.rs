//! The embedded default's summary and next steps (SPEC §4.4), with no language model:
//! - **extractive summary**: the utterances most central to the call, by embedding. Each
//!   utterance's centrality is the sum of its cosine similarities to all others (degree
//!   centrality, as in LexRank); the top `n` are kept in call order and attributed to their
//!   speakers. Utterances under three words ("Okay.") take part only when nothing longer exists;
//! - **next steps**: the clauses where someone commits to an action ("I will send…", "we'll call
//!   you back", "you will receive…"), from the commitment phrase to the end of the sentence,
//!   attributed to the speaker. A call without commitments says so in one step.
//!
//! Both are deterministic for a given transcript and model, and never empty for a non-empty call.

use serde::{Deserialize, Serialize};
use switchboard_engines::embeddings::{EmbedError, Embedder, cosine};

use crate::record::{Speaker, Utterance};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummarySentence {
    pub speaker: Speaker,
    pub utterance_index: usize,
    pub start_ms: u64,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// One paragraph.
    pub text: String,
    /// The utterances an extractive summary kept (empty for a model-written one).
    pub sentences: Vec<SummarySentence>,
    /// `extractive` or `language_model`.
    pub method: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NextStep {
    pub text: String,
    /// Who committed (`agent`, `customer`, `unknown`); absent for a model-written step.
    pub owner: Option<Speaker>,
    pub utterance_index: Option<usize>,
    pub start_ms: Option<u64>,
}

pub const NO_NEXT_STEPS: &str = "No follow-up actions were committed to during the call.";
pub const EMPTY_CALL: &str = "No speech was found in the recording.";

pub fn extractive(
    utterances: &[Utterance],
    keep: usize,
    embedder: &dyn Embedder,
) -> Result<Summary, EmbedError> {
    if utterances.is_empty() {
        return Ok(Summary {
            text: EMPTY_CALL.into(),
            sentences: Vec::new(),
            method: "extractive".into(),
        });
    }
    let mut candidates: Vec<&Utterance> = utterances.iter().filter(|u| u.words() >= 3).collect();
    if candidates.is_empty() {
        candidates = utterances.iter().collect();
    }
    let texts: Vec<&str> = candidates.iter().map(|u| u.text.as_str()).collect();
    let vectors = embedder.embed_batch(&texts)?;
    let centrality: Vec<f32> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            vectors
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, w)| cosine(v, w))
                .sum()
        })
        .collect();
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    // Most central first; ties go to the earlier utterance, so the result is deterministic.
    order.sort_by(|a, b| centrality[*b].total_cmp(&centrality[*a]).then(a.cmp(b)));
    order.truncate(keep.max(1));
    order.sort_unstable();
    let sentences: Vec<SummarySentence> = order
        .into_iter()
        .map(|i| {
            let u = candidates[i];
            SummarySentence {
                speaker: u.speaker,
                utterance_index: u.index,
                start_ms: u.start_ms,
                text: u.text.trim().to_owned(),
            }
        })
        .collect();
    let text = sentences
        .iter()
        .map(|s| format!("{}: {}", s.speaker.title(), ensure_stop(&s.text)))
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Summary {
        text,
        sentences,
        method: "extractive".into(),
    })
}

/// `text` with its first letter in upper case.
pub(crate) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

fn ensure_stop(text: &str) -> String {
    if text.ends_with(['.', '!', '?']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

/// Commitment phrases (lower case, matched at word boundaries).
const COMMITMENTS: &[&str] = &[
    "i will",
    "i'll",
    "we will",
    "we'll",
    "i am going to",
    "i'm going to",
    "we are going to",
    "we're going to",
    "you will receive",
    "you'll receive",
    "you will get",
    "you'll get",
    "you will see",
    "you'll see",
    "i can send",
    "let me send",
    "call you back",
    "follow up",
    "i need you to",
    "please send",
    "please call",
];

/// Sentences of `text` (split after `.`, `!`, `?`).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '!' | '?') {
            let piece = text[start..=i].trim();
            if !piece.is_empty() {
                out.push(piece);
            }
            start = i + c.len_utf8();
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// The byte offset of the first commitment phrase in `sentence` at a word boundary.
fn commitment_at(sentence: &str) -> Option<usize> {
    let lower = sentence.to_lowercase();
    COMMITMENTS
        .iter()
        .filter_map(|phrase| {
            lower.match_indices(phrase).find_map(|(at, _)| {
                let before_ok = lower[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric());
                let after_ok = lower[at + phrase.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric());
                (before_ok && after_ok).then_some(at)
            })
        })
        .min()
}

pub fn rule_based_next_steps(utterances: &[Utterance]) -> Vec<NextStep> {
    let mut steps: Vec<NextStep> = Vec::new();
    for u in utterances {
        for sentence in sentences(&u.text) {
            let Some(at) = commitment_at(sentence) else {
                continue;
            };
            let clause = capitalise(&ensure_stop(sentence[at..].trim()));
            let text = format!("{}: {clause}", u.speaker.title());
            if steps.iter().any(|s| s.text == text) {
                continue;
            }
            steps.push(NextStep {
                text,
                owner: Some(u.speaker),
                utterance_index: Some(u.index),
                start_ms: Some(u.start_ms),
            });
        }
    }
    if steps.is_empty() && !utterances.is_empty() {
        steps.push(NextStep {
            text: NO_NEXT_STEPS.into(),
            owner: None,
            utterance_index: None,
            start_ms: None,
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(index: usize, speaker: Speaker, text: &str) -> Utterance {
        Utterance {
            index,
            speaker,
            channel: 0,
            start_ms: index as u64 * 1000,
            end_ms: index as u64 * 1000 + 900,
            text: text.into(),
            confidence: 1.0,
        }
    }

    #[test]
    fn commitments_become_attributed_steps() {
        let steps = rule_based_next_steps(&[
            u(0, Speaker::Customer, "I have been charged twice."),
            u(
                1,
                Speaker::Agent,
                "Sorry about that. I will refund it today and you'll see it within five days.",
            ),
            u(2, Speaker::Customer, "Okay, I'll keep an eye out"),
            u(3, Speaker::Agent, "Goodwill matters."),
        ]);
        let texts: Vec<&str> = steps.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Agent: I will refund it today and you'll see it within five days.",
                "Customer: I'll keep an eye out.",
            ]
        );
        assert_eq!(steps[0].utterance_index, Some(1));
        assert_eq!(steps[1].owner, Some(Speaker::Customer));
    }

    #[test]
    fn no_commitment_still_says_something_and_words_must_be_whole() {
        let steps = rule_based_next_steps(&[u(
            0,
            Speaker::Agent,
            "Swill tastes bad; the mill will close.",
        )]);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].text, NO_NEXT_STEPS);
        assert!(rule_based_next_steps(&[]).is_empty());
    }
}
