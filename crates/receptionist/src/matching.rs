//! Utterance matching: normalisation (lower case, punctuation, filler words stripped), urgency
//! (summed keyword weights), and similarity of an utterance to a phrase — lexical (the share of
//! the phrase's content words the caller said, with light stemming) and, when an embedder is
//! loaded, semantic (cosine of MiniLM embeddings). A phrase's score is the higher of the two.

use crate::template::UrgencyKeyword;

/// Words that carry no topic; left out of the lexical score.
const STOPWORDS: &[&str] = &[
    "a", "an", "the", "i", "me", "my", "we", "our", "you", "your", "it", "is", "are", "am", "be",
    "to", "of", "for", "on", "in", "at", "do", "does", "can", "could", "would", "will", "please",
    "and", "or", "what", "with", "there", "this", "that", "some", "any", "need", "want", "have",
    "has", "get", "about", "someone", "how", "when", "where", "which", "who", "need", "i'd", "i'm",
];

/// Lower-cased words of `text`: letters, digits and inner apostrophes.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|w| w.trim_matches(|c| c == '\'' || c == '’').replace('’', "'"))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The utterance without filler words or phrases, as one lower-case line of words.
pub fn normalize<'a>(text: &str, fillers: impl IntoIterator<Item = &'a String>) -> String {
    let mut tokens = words(text);
    let mut phrases: Vec<Vec<String>> = fillers.into_iter().map(|f| words(f)).collect();
    // Longer filler phrases first, so "you know" goes before "you".
    phrases.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for phrase in phrases.iter().filter(|p| !p.is_empty()) {
        let mut i = 0;
        while i + phrase.len() <= tokens.len() {
            if tokens[i..i + phrase.len()] == phrase[..] {
                tokens.drain(i..i + phrase.len());
            } else {
                i += 1;
            }
        }
    }
    tokens.join(" ")
}

/// Whether `phrase` occurs in `hay` as whole words.
fn contains_words(hay: &[String], phrase: &str) -> bool {
    let needle = words(phrase);
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle.as_slice())
}

/// The summed weight of the urgency keywords present, and which they were.
pub fn urgency<'a>(
    normalized: &str,
    keywords: impl IntoIterator<Item = &'a UrgencyKeyword>,
) -> (f32, Vec<String>) {
    let hay = words(normalized);
    let mut total = 0.0;
    let mut hits = Vec::new();
    for keyword in keywords {
        if contains_words(&hay, &keyword.word) && !hits.contains(&keyword.word) {
            total += keyword.weight;
            hits.push(keyword.word.clone());
        }
    }
    (total, hits)
}

/// A light stemmer: enough to match "leaking" with "leak", "scheduled" with "schedule" and
/// "services" with "service" (a trailing `e` is dropped after the suffix, on both sides).
fn stem(word: &str) -> String {
    let mut w = word.trim_end_matches("'s");
    for suffix in ["ing", "ed", "s"] {
        if w.len() > suffix.len() + 2
            && !(suffix == "s" && w.ends_with("ss"))
            && let Some(stripped) = w.strip_suffix(suffix)
        {
            w = stripped;
            break;
        }
    }
    if w.len() > 3 {
        w = w.strip_suffix('e').unwrap_or(w);
    }
    w.to_owned()
}

/// Content-word stems of a text.
pub fn content_stems(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .map(|w| stem(&w))
        .collect()
}

/// The share of the phrase's content words present in the utterance (0 when the phrase has none).
pub fn lexical(utterance_stems: &[String], phrase_stems: &[String]) -> f32 {
    if phrase_stems.is_empty() {
        return 0.0;
    }
    let found = phrase_stems
        .iter()
        .filter(|s| utterance_stems.contains(s))
        .count();
    found as f32 / phrase_stems.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fillers_are_stripped_longest_first_and_whole_words_only() {
        let fillers: Vec<String> = ["um", "you know", "like", "so"].map(String::from).to_vec();
        assert_eq!(
            normalize(
                "Um, so, you know, my sink is like... leaking! Sonny said so.",
                &fillers
            ),
            "my sink is leaking sonny said"
        );
    }

    #[test]
    fn urgency_sums_each_keyword_once() {
        let keywords = vec![
            UrgencyKeyword {
                word: "emergency".into(),
                weight: 0.5,
            },
            UrgencyKeyword {
                word: "gas smell".into(),
                weight: 0.8,
            },
        ];
        let (score, hits) = urgency("emergency there is a gas smell emergency", &keywords);
        assert!((score - 1.3).abs() < 1e-6);
        assert_eq!(hits, ["emergency", "gas smell"]);
        assert_eq!(urgency("the gas bill smell", &keywords).0, 0.0);
    }

    #[test]
    fn lexical_score_is_the_share_of_content_words() {
        let u = content_stems("I need to book an appointment for Tuesday");
        assert_eq!(lexical(&u, &content_stems("book an appointment")), 1.0);
        assert_eq!(lexical(&u, &content_stems("cancel my appointment")), 0.5);
        assert_eq!(lexical(&u, &content_stems("the")), 0.0);
        let leak = content_stems("my pipes are leaking");
        assert_eq!(lexical(&leak, &content_stems("pipe leak")), 1.0);
        let s = content_stems("services scheduled closes glass");
        assert_eq!(s, content_stems("service schedule close glass"));
    }
}
