//! The call summary kept in memory: what the caller came for and how the call ended, in one or
//! two sentences built from the conversation itself (no model, deterministic):
//! `Caller: "<first substantive caller sentence>" … Outcome: <last thing our side said>.`
//! Topics are the caller's most frequent content words (ties by first use), for search and for
//! the dashboard; a live call's topics are its matched scenario categories instead.

use std::collections::HashMap;

use switchboard_receptionist::matching::{content_stems, words};

use crate::conversation::{Conversation, Role, sentences};

pub const MAX_TOPICS: usize = 5;
const MAX_QUOTE_CHARS: usize = 240;

fn quote(text: &str) -> String {
    let clipped: String = text.chars().take(MAX_QUOTE_CHARS).collect();
    if clipped.len() < text.len() {
        format!("{}…", clipped.trim_end())
    } else {
        clipped
    }
}

/// The first caller sentence with at least four words (else the longest one).
fn reason(conversation: &Conversation) -> Option<String> {
    let all: Vec<&str> = conversation
        .caller_lines()
        .into_iter()
        .flat_map(sentences)
        .collect();
    all.iter()
        .find(|s| words(s).len() >= 4)
        .or_else(|| all.iter().max_by_key(|s| s.len()))
        .map(|s| quote(s))
}

pub fn summarise(conversation: &Conversation) -> String {
    let outcome = conversation.lines(Role::Agent).last().map(|s| quote(s));
    match (reason(conversation), outcome) {
        (Some(reason), Some(outcome)) => format!("Caller: \"{reason}\" Outcome: {outcome}"),
        (Some(reason), None) => format!("Caller: \"{reason}\""),
        (None, Some(outcome)) => format!("The caller said nothing. Outcome: {outcome}"),
        (None, None) => "The caller said nothing.".to_owned(),
    }
}

/// The caller's most frequent content words.
pub fn topics(conversation: &Conversation) -> Vec<String> {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    let mut order = 0;
    for line in conversation.caller_lines() {
        for word in words(line) {
            if content_stems(&word).is_empty() || word.len() < 4 {
                continue;
            }
            let entry = counts.entry(word).or_insert((0, order));
            entry.0 += 1;
            order += 1;
        }
    }
    let mut ranked: Vec<(String, (usize, usize))> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
    ranked
        .into_iter()
        .take(MAX_TOPICS)
        .map(|(w, _)| w)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Message;

    fn conversation(lines: &[(&str, &str)]) -> Conversation {
        let messages: Vec<Message> = lines
            .iter()
            .map(|(r, c)| Message {
                role: (*r).into(),
                content: (*c).into(),
            })
            .collect();
        Conversation::parse(&messages).unwrap()
    }

    #[test]
    fn summary_names_the_reason_and_the_outcome() {
        let c = conversation(&[
            ("assistant", "Thanks for calling Acme, this is Sam."),
            ("user", "Hi. My furnace is making a banging noise."),
            (
                "assistant",
                "I'll book a technician visit for tomorrow morning.",
            ),
            ("user", "Great, thanks."),
        ]);
        assert_eq!(
            summarise(&c),
            "Caller: \"My furnace is making a banging noise.\" Outcome: I'll book a technician visit for tomorrow morning."
        );
        // Each content word once: first use decides, five at most ("thanks" is the sixth).
        assert_eq!(
            topics(&c),
            vec!["furnace", "making", "banging", "noise", "great"]
        );
    }

    #[test]
    fn a_silent_caller_still_gets_a_summary() {
        let c = conversation(&[("assistant", "Hello?"), ("user", "")]);
        assert_eq!(summarise(&c), "The caller said nothing. Outcome: Hello?");
    }
}
