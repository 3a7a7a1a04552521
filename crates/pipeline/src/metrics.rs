//! Conversation metrics (SPEC §4.3), computed from utterance times alone:
//! - talk time per speaker: the union of that speaker's utterance spans;
//! - agent talk ratio: agent talk ÷ (agent + customer talk); absent when neither spoke (mono);
//! - non-talk time: the call's duration minus the union of every utterance span;
//! - interruptions: utterances that start while another speaker's utterance is under way,
//!   counted for the speaker who cut in;
//! - words per minute: a speaker's words ÷ that speaker's talk time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::record::{Speaker, Utterance};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpeakerMetrics {
    pub talk_ms: u64,
    pub words: usize,
    pub utterances: usize,
    pub words_per_minute: Option<f64>,
    /// Times this speaker started while the other was talking.
    pub interruptions: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationMetrics {
    pub duration_ms: u64,
    pub word_count: usize,
    pub utterance_count: usize,
    pub talk_ms: u64,
    pub non_talk_ms: u64,
    /// Non-talk time ÷ duration.
    pub non_talk_ratio: f64,
    pub agent_talk_ratio: Option<f64>,
    pub interruptions: usize,
    pub words_per_minute: Option<f64>,
    /// Keyed `agent`, `customer`, `unknown`.
    pub speakers: BTreeMap<String, SpeakerMetrics>,
}

/// Total length of the union of `[start, end)` spans.
fn union_ms(mut spans: Vec<(u64, u64)>) -> u64 {
    spans.sort_unstable();
    let mut total = 0;
    let mut current: Option<(u64, u64)> = None;
    for (start, end) in spans {
        match current {
            Some((s, e)) if start <= e => current = Some((s, e.max(end))),
            Some((s, e)) => {
                total += e - s;
                current = Some((start, end));
            }
            None => current = Some((start, end)),
        }
    }
    total + current.map_or(0, |(s, e)| e - s)
}

fn per_minute(words: usize, ms: u64) -> Option<f64> {
    (ms > 0).then(|| words as f64 * 60_000.0 / ms as f64)
}

pub fn compute(utterances: &[Utterance], duration_ms: u64) -> ConversationMetrics {
    let spans = |filter: &dyn Fn(&Utterance) -> bool| {
        utterances
            .iter()
            .filter(|u| filter(u))
            .map(|u| (u.start_ms, u.end_ms.max(u.start_ms)))
            .collect::<Vec<_>>()
    };
    // The recording can be shorter than the last timestamp claims; never report negative silence.
    let talk_ms = union_ms(spans(&|_| true));
    let duration_ms = duration_ms.max(talk_ms);
    let mut speakers: BTreeMap<String, SpeakerMetrics> = BTreeMap::new();
    for speaker in [Speaker::Agent, Speaker::Customer, Speaker::Unknown] {
        let mine: Vec<&Utterance> = utterances.iter().filter(|u| u.speaker == speaker).collect();
        if mine.is_empty() {
            continue;
        }
        let talk = union_ms(spans(&|u| u.speaker == speaker));
        let words = mine.iter().map(|u| u.words()).sum();
        speakers.insert(
            speaker.as_str().to_owned(),
            SpeakerMetrics {
                talk_ms: talk,
                words,
                utterances: mine.len(),
                words_per_minute: per_minute(words, talk),
                interruptions: 0,
            },
        );
    }
    let mut interruptions = 0;
    for u in utterances {
        let cut_in = utterances.iter().any(|other| {
            other.speaker != u.speaker && other.start_ms < u.start_ms && u.start_ms < other.end_ms
        });
        if cut_in {
            interruptions += 1;
            if let Some(metrics) = speakers.get_mut(u.speaker.as_str()) {
                metrics.interruptions += 1;
            }
        }
    }
    let talk_of = |name: &str| speakers.get(name).map_or(0, |m| m.talk_ms);
    let (agent, customer) = (talk_of("agent"), talk_of("customer"));
    let word_count = utterances.iter().map(Utterance::words).sum();
    ConversationMetrics {
        duration_ms,
        word_count,
        utterance_count: utterances.len(),
        talk_ms,
        non_talk_ms: duration_ms - talk_ms,
        non_talk_ratio: if duration_ms == 0 {
            0.0
        } else {
            (duration_ms - talk_ms) as f64 / duration_ms as f64
        },
        agent_talk_ratio: (agent + customer > 0).then(|| agent as f64 / (agent + customer) as f64),
        interruptions,
        words_per_minute: per_minute(word_count, talk_ms),
        speakers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(speaker: Speaker, start: u64, end: u64, text: &str) -> Utterance {
        Utterance {
            index: 0,
            speaker,
            channel: 0,
            start_ms: start,
            end_ms: end,
            text: text.into(),
            confidence: 1.0,
        }
    }

    /// Worked by hand: agent 0–4 s (4 words), customer 3–6 s (cuts in at 3 s, 3 words),
    /// agent 8–10 s (2 words); a 12 s call.
    #[test]
    fn hand_worked_call() {
        let m = compute(
            &[
                u(Speaker::Agent, 0, 4000, "hello how are you"),
                u(Speaker::Customer, 3000, 6000, "not great today"),
                u(Speaker::Agent, 8000, 10_000, "oh no"),
            ],
            12_000,
        );
        assert_eq!(m.word_count, 9);
        assert_eq!(m.utterance_count, 3);
        // Union: 0–6 s and 8–10 s = 8 s of talk, 4 s of silence.
        assert_eq!(m.talk_ms, 8000);
        assert_eq!(m.non_talk_ms, 4000);
        assert!((m.non_talk_ratio - 4.0 / 12.0).abs() < 1e-9);
        // Agent 6 s, customer 3 s.
        assert!((m.agent_talk_ratio.unwrap() - 6.0 / 9.0).abs() < 1e-9);
        assert_eq!(m.interruptions, 1);
        assert_eq!(m.speakers["customer"].interruptions, 1);
        assert_eq!(m.speakers["agent"].interruptions, 0);
        // Agent: 6 words in 6 s = 60 wpm.
        assert!((m.speakers["agent"].words_per_minute.unwrap() - 60.0).abs() < 1e-9);
        assert!((m.words_per_minute.unwrap() - 9.0 * 60.0 / 8.0).abs() < 1e-9);
    }

    #[test]
    fn mono_has_no_talk_ratio_and_empty_call_is_all_silence() {
        let m = compute(&[u(Speaker::Unknown, 1000, 2000, "hi")], 5000);
        assert_eq!(m.agent_talk_ratio, None);
        let empty = compute(&[], 5000);
        assert_eq!(empty.non_talk_ms, 5000);
        assert_eq!(empty.words_per_minute, None);
        assert_eq!(empty.non_talk_ratio, 1.0);
    }

    #[test]
    fn timestamps_past_the_end_never_underflow() {
        let m = compute(&[u(Speaker::Agent, 0, 9000, "long")], 5000);
        assert_eq!(m.duration_ms, 9000);
        assert_eq!(m.non_talk_ms, 0);
    }
}
