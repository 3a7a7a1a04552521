//! Memories from a conversation: the caller's own statements about themselves, their property
//! or their needs ("My basement floods every spring.", "I have two cars on the policy."), one
//! sentence each, kept verbatim so a memory never says more than the caller did. Questions,
//! greetings and sentences under four words are skipped; at most [`MAX_PER_CALL`] per call,
//! the first ones said.

use switchboard_receptionist::matching::words;

use crate::conversation::sentences;

pub const MAX_PER_CALL: usize = 5;
pub const MAX_MEMORY_CHARS: usize = 1000;

/// Openings of a first-person statement of fact.
const SELF_MARKERS: &[&[&str]] = &[
    &["my"],
    &["our"],
    &["i", "have"],
    &["i've"],
    &["i", "had"],
    &["i", "own"],
    &["i", "live"],
    &["i", "need"],
    &["i", "want"],
    &["i", "work"],
    &["i'm"],
    &["i", "am"],
    &["we", "have"],
    &["we've"],
    &["we", "own"],
    &["we", "live"],
    &["we", "need"],
    &["we're"],
    &["we", "are"],
    &["i'd", "like"],
    &["i", "would", "like"],
];

const GREETINGS: &[&str] = &["hi", "hello", "hey", "thanks", "thank", "bye", "goodbye"];

fn is_fact(sentence: &str) -> bool {
    if sentence.trim_end().ends_with('?') {
        return false;
    }
    let w = words(sentence);
    if w.len() < 4 {
        return false;
    }
    let starts_with_greeting_only = GREETINGS.contains(&w[0].as_str()) && w.len() < 6;
    !starts_with_greeting_only
        && SELF_MARKERS.iter().any(|m| {
            w.windows(m.len())
                .any(|win| win.iter().zip(*m).all(|(a, b)| a == b))
        })
}

/// The caller's statements worth remembering, in order, without repeats.
pub fn facts(caller_lines: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in caller_lines {
        for sentence in sentences(line) {
            if out.len() == MAX_PER_CALL {
                return out;
            }
            if is_fact(sentence) {
                let text: String = sentence.chars().take(MAX_MEMORY_CHARS).collect();
                if !out.iter().any(|o| o.eq_ignore_ascii_case(&text)) {
                    out.push(text);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_about_the_caller_are_kept_and_questions_are_not() {
        let got = facts(&[
            "Hi there. My basement floods every spring.",
            "Can you send someone today?",
            "I have a sump pump but it's old. Thanks.",
            "my basement floods every spring.",
            "Okay.",
        ]);
        assert_eq!(
            got,
            vec![
                "My basement floods every spring.",
                "I have a sump pump but it's old."
            ]
        );
    }

    #[test]
    fn at_most_five_per_call() {
        let lines: Vec<String> = (0..9)
            .map(|i| format!("My car number {i} is blue."))
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(facts(&refs).len(), MAX_PER_CALL);
    }
}
