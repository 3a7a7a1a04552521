//! `{placeholder}` filling. A placeholder whose variable is missing or blank is never spoken raw:
//! the sentence that holds it is left out, and when nothing is left the caller hears fallback
//! wording. The missing names are returned so the turn (and the readiness score) can say so.

use std::collections::BTreeMap;

/// What the caller hears when every sentence of a reply needed a missing variable.
pub const MISSING_FALLBACK: &str = "I don't have that information in front of me, but I can have someone from the team get back to you.";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filled {
    pub text: String,
    /// Variables the reply needed but the tenant has not set, in order of appearance.
    pub missing: Vec<String>,
}

impl Filled {
    /// True when some wording was left out or replaced.
    pub fn degraded(&self) -> bool {
        !self.missing.is_empty()
    }
}

/// The placeholder names in `text`, in order, without duplicates. A `{` without a matching `}`
/// or with characters other than letters, digits and `_` inside is plain text.
pub fn names(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, name) in placeholders(text) {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
    }
    out
}

/// `(byte range, name)` of each placeholder.
fn placeholders(text: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(open) = text[rest..].find('{').map(|i| i + rest) {
        let Some(close) = text[open + 1..].find('}').map(|i| i + open + 1) else {
            break;
        };
        let name = &text[open + 1..close];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push((open..close + 1, name));
            rest = close + 1;
        } else {
            rest = open + 1;
        }
    }
    out
}

/// Fills one sentence; `Err(missing)` when a variable is missing.
fn fill_sentence(
    sentence: &str,
    variables: &BTreeMap<String, String>,
) -> Result<String, Vec<String>> {
    let mut out = String::with_capacity(sentence.len());
    let mut missing = Vec::new();
    let mut last = 0;
    for (range, name) in placeholders(sentence) {
        out.push_str(&sentence[last..range.start]);
        match variables
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            Some(value) => out.push_str(value),
            None => missing.push(name.to_owned()),
        }
        last = range.end;
    }
    out.push_str(&sentence[last..]);
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}

/// Sentences, each with its trailing punctuation and space.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let end_of_sentence =
            matches!(b, b'.' | b'!' | b'?') && bytes.get(i + 1).is_none_or(|next| *next == b' ');
        if end_of_sentence {
            out.push(&text[start..(i + 1).min(text.len())]);
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// Fills `text` from `variables`, leaving out sentences that need a missing variable.
pub fn fill(text: &str, variables: &BTreeMap<String, String>) -> Filled {
    let mut kept = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    for sentence in sentences(text) {
        match fill_sentence(sentence, variables) {
            Ok(done) => kept.push(done.trim().to_owned()),
            Err(names) => {
                for name in names {
                    if !missing.contains(&name) {
                        missing.push(name);
                    }
                }
            }
        }
    }
    let text = if kept.is_empty() {
        MISSING_FALLBACK.to_owned()
    } else {
        kept.join(" ")
    };
    Filled { text, missing }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fills_every_placeholder() {
        let filled = fill(
            "I can help you schedule with {company_name}! Call {phone}.",
            &vars(&[("company_name", "Joe's Plumbing"), ("phone", "555 0100")]),
        );
        assert_eq!(
            filled.text,
            "I can help you schedule with Joe's Plumbing! Call 555 0100."
        );
        assert!(!filled.degraded());
    }

    #[test]
    fn a_missing_variable_drops_its_sentence_and_is_reported() {
        let filled = fill(
            "Our service call is {price}. A technician quotes before any work starts.",
            &vars(&[]),
        );
        assert_eq!(filled.text, "A technician quotes before any work starts.");
        assert_eq!(filled.missing, ["price"]);
    }

    #[test]
    fn blank_values_count_as_missing_and_never_speak_braces() {
        let filled = fill(
            "We are open {business_hours}.",
            &vars(&[("business_hours", "  ")]),
        );
        assert_eq!(filled.text, MISSING_FALLBACK);
        assert!(!filled.text.contains('{'));
        assert_eq!(filled.missing, ["business_hours"]);
    }

    #[test]
    fn braces_that_are_not_placeholders_stay_text() {
        assert_eq!(names("a {b c} {ok} {} {"), ["ok"]);
        assert_eq!(fill("Use {x y}.", &vars(&[])).text, "Use {x y}.");
    }

    #[test]
    fn decimals_do_not_split_sentences() {
        let filled = fill("It is $12.50 per visit. Ask {who}.", &vars(&[]));
        assert_eq!(filled.text, "It is $12.50 per visit.");
    }
}
