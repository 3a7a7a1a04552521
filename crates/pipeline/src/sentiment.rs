//! Sentiment aggregates (SPEC §4.3) over per-utterance scores:
//! - a group's four scores and signed score are the means over its utterances, weighted by
//!   word count (a long complaint outweighs "okay");
//! - its label is MIXED when it holds both a clearly positive and a clearly negative utterance
//!   (signed score ≥ 0.5 and ≤ −0.5) and the mean stays within ±0.3; otherwise POSITIVE at
//!   ≥ 0.05, NEGATIVE at ≤ −0.05, else NEUTRAL (VADER's thresholds, as per utterance);
//! - quarters split the call's duration in four; an utterance belongs to the quarter holding
//!   its midpoint.

use serde::{Deserialize, Serialize};
use switchboard_engines::{Sentiment, SentimentLabel};

use crate::record::{EnrichedUtterance, Speaker};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentimentAggregate {
    pub label: SentimentLabel,
    pub score: f64,
    pub positive: f64,
    pub negative: f64,
    pub neutral: f64,
    pub mixed: f64,
    pub utterances: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuarterSentiment {
    /// 1 to 4.
    pub quarter: u8,
    pub overall: Option<SentimentAggregate>,
    pub agent: Option<SentimentAggregate>,
    pub customer: Option<SentimentAggregate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentimentSummary {
    pub overall: SentimentAggregate,
    pub agent: Option<SentimentAggregate>,
    pub customer: Option<SentimentAggregate>,
    pub quarters: Vec<QuarterSentiment>,
}

pub fn aggregate<'a>(
    items: impl IntoIterator<Item = &'a EnrichedUtterance>,
) -> Option<SentimentAggregate> {
    let items: Vec<&EnrichedUtterance> = items.into_iter().collect();
    if items.is_empty() {
        return None;
    }
    let weight = |u: &EnrichedUtterance| u.utterance.words().max(1) as f64;
    let total: f64 = items.iter().map(|u| weight(u)).sum();
    let mean = |f: &dyn Fn(&Sentiment) -> f64| {
        items
            .iter()
            .map(|u| f(&u.sentiment) * weight(u))
            .sum::<f64>()
            / total
    };
    let score = mean(&|s| s.score);
    let strongly = |positive: bool| {
        items.iter().any(|u| {
            if positive {
                u.sentiment.score >= 0.5
            } else {
                u.sentiment.score <= -0.5
            }
        })
    };
    let label = if strongly(true) && strongly(false) && score.abs() <= 0.3 {
        SentimentLabel::Mixed
    } else if score >= 0.05 {
        SentimentLabel::Positive
    } else if score <= -0.05 {
        SentimentLabel::Negative
    } else {
        SentimentLabel::Neutral
    };
    Some(SentimentAggregate {
        label,
        score,
        positive: mean(&|s| s.positive),
        negative: mean(&|s| s.negative),
        neutral: mean(&|s| s.neutral),
        mixed: mean(&|s| s.mixed),
        utterances: items.len(),
    })
}

fn neutral_empty() -> SentimentAggregate {
    SentimentAggregate {
        label: SentimentLabel::Neutral,
        score: 0.0,
        positive: 0.0,
        negative: 0.0,
        neutral: 1.0,
        mixed: 0.0,
        utterances: 0,
    }
}

/// The quarter (0–3) of a `duration_ms` call holding the utterance's midpoint.
pub fn quarter_of(u: &EnrichedUtterance, duration_ms: u64) -> u8 {
    let mid = (u.utterance.start_ms + u.utterance.end_ms) / 2;
    (mid * 4).checked_div(duration_ms).unwrap_or(0).min(3) as u8
}

pub fn summarise(utterances: &[EnrichedUtterance], duration_ms: u64) -> SentimentSummary {
    let by =
        |speaker: Speaker| aggregate(utterances.iter().filter(|u| u.utterance.speaker == speaker));
    let quarter_of = |u: &EnrichedUtterance| quarter_of(u, duration_ms);
    let quarters = (0u8..4)
        .map(|q| {
            let inside: Vec<&EnrichedUtterance> =
                utterances.iter().filter(|u| quarter_of(u) == q).collect();
            let of = |speaker: Speaker| {
                aggregate(
                    inside
                        .iter()
                        .copied()
                        .filter(|u| u.utterance.speaker == speaker),
                )
            };
            QuarterSentiment {
                quarter: q + 1,
                overall: aggregate(inside.iter().copied()),
                agent: of(Speaker::Agent),
                customer: of(Speaker::Customer),
            }
        })
        .collect();
    SentimentSummary {
        overall: aggregate(utterances).unwrap_or_else(neutral_empty),
        agent: by(Speaker::Agent),
        customer: by(Speaker::Customer),
        quarters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Utterance;

    fn scored(speaker: Speaker, start: u64, text: &str, score: f64) -> EnrichedUtterance {
        EnrichedUtterance {
            utterance: Utterance {
                index: 0,
                speaker,
                channel: 0,
                start_ms: start,
                end_ms: start + 1000,
                text: text.into(),
                confidence: 1.0,
            },
            sentiment: Sentiment {
                label: SentimentLabel::Neutral,
                positive: score.max(0.0),
                negative: (-score).max(0.0),
                neutral: 1.0 - score.abs(),
                mixed: 0.0,
                score,
            },
        }
    }

    #[test]
    fn weighted_by_words_and_split_in_quarters() {
        // 3 words at −0.6 and 1 word at +0.6: mean (−1.8 + 0.6) / 4 = −0.3 → NEGATIVE? No: both
        // strong signs and |−0.3| ≤ 0.3 → MIXED.
        let items = [
            scored(Speaker::Customer, 0, "this is awful", -0.6),
            scored(Speaker::Agent, 7000, "great", 0.6),
        ];
        let summary = summarise(&items, 8000);
        assert!((summary.overall.score + 0.3).abs() < 1e-9);
        assert_eq!(summary.overall.label, SentimentLabel::Mixed);
        assert_eq!(
            summary.customer.as_ref().unwrap().label,
            SentimentLabel::Negative
        );
        // Midpoints 0.5 s → Q1, 7.5 s → Q4.
        assert_eq!(summary.quarters[0].customer.as_ref().unwrap().utterances, 1);
        assert!(summary.quarters[1].overall.is_none());
        assert_eq!(
            summary.quarters[3].agent.as_ref().unwrap().label,
            SentimentLabel::Positive
        );
    }

    #[test]
    fn empty_call_is_neutral() {
        let summary = summarise(&[], 1000);
        assert_eq!(summary.overall.label, SentimentLabel::Neutral);
        assert_eq!(summary.quarters.len(), 4);
    }
}
