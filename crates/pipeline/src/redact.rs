//! PII redaction of transcripts (SPEC §4.3), when a tenant's ai-config turns it on: e-mail
//! addresses become `[EMAIL]`, card-like digit runs (13–19 digits) `[CARD]`, and other runs of
//! 7 or more digits (phone, account, policy and social-security numbers) `[NUMBER]`.
//!
//! A digit run is digits or spoken digit words ("five five five, oh one nine nine"; "double" and
//! "triple" count for the digits they repeat) joined by at most three separator characters
//! (spaces, `-`, `.`, `,`, `/`, parentheses), so "(415) 555-0199", "4111 1111 1111 1111" and
//! "four one five five five five oh one nine nine" are each one run. Shorter runs — prices,
//! times, dates, house numbers — stay. Card numbers are not Luhn-checked: speech-to-text often
//! gets one digit wrong, and a near-card number is still personal data.
//!
//! E-mail addresses are matched as written (`john.smith@example.com`) and as spoken and
//! transcribed (`john smith at example dot com`, for common top-level domains).

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// What a tenant has redacted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Email,
    Card,
    Number,
}

impl Entity {
    pub const ALL: [Entity; 3] = [Entity::Email, Entity::Card, Entity::Number];

    fn marker(self) -> &'static str {
        match self {
            Entity::Email => "[EMAIL]",
            Entity::Card => "[CARD]",
            Entity::Number => "[NUMBER]",
        }
    }
}

/// How many of each entity a text had replaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replaced {
    pub email: usize,
    pub card: usize,
    pub number: usize,
}

impl Replaced {
    pub fn add(&mut self, other: Replaced) {
        self.email += other.email;
        self.card += other.card;
        self.number += other.number;
    }

    fn count(&mut self, entity: Entity) {
        match entity {
            Entity::Email => self.email += 1,
            Entity::Card => self.card += 1,
            Entity::Number => self.number += 1,
        }
    }
}

/// What was redacted in a call's transcript: recorded in the enriched artifact and the final
/// record's provenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub entities: Vec<Entity>,
    pub replaced: Replaced,
}

const TLDS: &str = "com|net|org|edu|gov|io|co|us|uk|ca|info|biz|me";

static WRITTEN_EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b")
        .expect("a valid pattern")
});

static SPOKEN_EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    // A name ("jsmith", "john dot smith"), "at", a domain, "dot <tld>". Only one word before
    // "at" is taken: "my email is john at …" must keep "my email is".
    Regex::new(&format!(
        r"(?i)\b[a-z0-9._-]+(?: dot [a-z0-9_-]+){{0,2}} at [a-z0-9-]+(?: dot [a-z0-9-]+){{0,2}} dot (?:{TLDS})\b"
    ))
    .expect("a valid pattern")
});

const DIGIT_WORD: &str = r"zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple";

static DIGIT_RUN: LazyLock<Regex> = LazyLock::new(|| {
    let token = format!(r"(?:\d+|\b(?:{DIGIT_WORD})\b)");
    Regex::new(&format!(
        r"(?i)(?:\+|\()?{token}(?:[\s\-.,/()]{{1,3}}{token})*\)?"
    ))
    .expect("a valid pattern")
});

static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)\d+|\b(?:{DIGIT_WORD})\b")).expect("a valid pattern")
});

/// How many digits a run stands for.
fn digits(run: &str) -> usize {
    TOKEN
        .find_iter(run)
        .map(|t| {
            let t = t.as_str();
            if t.as_bytes()[0].is_ascii_digit() {
                t.len()
            } else {
                match t.to_ascii_lowercase().as_str() {
                    // "triple five" is three digits: two here, one for "five".
                    "triple" => 2,
                    _ => 1,
                }
            }
        })
        .sum()
}

/// What a digit run is, if it is redacted at all.
fn classify(run: &str) -> Option<Entity> {
    match digits(run) {
        13..=19 => Some(Entity::Card),
        n if n >= 7 => Some(Entity::Number),
        _ => None,
    }
}

/// `text` with the `entities` replaced, and how many were.
pub fn redact(text: &str, entities: &[Entity]) -> (String, Replaced) {
    let mut replaced = Replaced::default();
    let mut out = text.to_owned();
    if entities.contains(&Entity::Email) {
        for pattern in [&*WRITTEN_EMAIL, &*SPOKEN_EMAIL] {
            let mut n = 0;
            out = pattern
                .replace_all(&out, |_: &regex::Captures| {
                    n += 1;
                    Entity::Email.marker()
                })
                .into_owned();
            replaced.email += n;
        }
    }
    let wanted = |e: Entity| entities.contains(&e);
    if wanted(Entity::Card) || wanted(Entity::Number) {
        let mut counts = Replaced::default();
        out = DIGIT_RUN
            .replace_all(&out, |caps: &regex::Captures| {
                let run = &caps[0];
                match classify(run) {
                    // A card-like run is a number to a tenant that redacts numbers only.
                    Some(Entity::Card) if wanted(Entity::Card) => {
                        counts.count(Entity::Card);
                        Entity::Card.marker().to_owned()
                    }
                    Some(_) if wanted(Entity::Number) => {
                        counts.count(Entity::Number);
                        Entity::Number.marker().to_owned()
                    }
                    _ => run.to_owned(),
                }
            })
            .into_owned();
        replaced.add(counts);
    }
    (out, replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> String {
        redact(text, &Entity::ALL).0
    }

    #[test]
    fn written_and_spoken_emails_are_replaced() {
        assert_eq!(
            all("Send it to john.smith+bills@example.co.uk please."),
            "Send it to [EMAIL] please."
        );
        assert_eq!(
            all("It's john dot smith at gmail dot com."),
            "It's [EMAIL]."
        );
        assert_eq!(
            all("My email is jsmith at example dot co dot uk"),
            "My email is [EMAIL]"
        );
        assert_eq!(
            all("Look at this dot, it's fine."),
            "Look at this dot, it's fine."
        );
    }

    #[test]
    fn cards_phone_and_account_numbers_are_replaced() {
        assert_eq!(
            all("My card is 4111 1111 1111 1111, expiry 12/27."),
            "My card is [CARD], expiry 12/27."
        );
        assert_eq!(all("Card 4111-1111-1111-1111."), "Card [CARD].");
        assert_eq!(
            all("Call me at (415) 555-0199 or +1 415 555 0100."),
            "Call me at [NUMBER] or [NUMBER]."
        );
        assert_eq!(all("Policy number 88231907."), "Policy number [NUMBER].");
        assert_eq!(all("SSN 123-45-6789."), "SSN [NUMBER].");
        assert_eq!(
            all("It's four one five, five five five, oh one nine nine."),
            "It's [NUMBER]."
        );
        assert_eq!(
            all("Four one five double five five oh one nine nine"),
            "[NUMBER]"
        );
    }

    #[test]
    fn short_numbers_stay() {
        for text in [
            "A service call is $125 and we open at 8:30.",
            "I have two cars and one house.",
            "It happened on March 3, 2024 at 10 30.",
            "We live at 1450 Oak Street, apartment 12.",
            "Oh, one more thing.",
        ] {
            assert_eq!(all(text), text);
        }
    }

    #[test]
    fn only_the_chosen_entities_are_replaced_and_counted() {
        let text = "Email a@b.com, card 4111111111111111, phone 415 555 0199.";
        let (out, n) = redact(text, &[Entity::Email]);
        assert_eq!(
            out,
            "Email [EMAIL], card 4111111111111111, phone 415 555 0199."
        );
        assert_eq!(
            n,
            Replaced {
                email: 1,
                card: 0,
                number: 0
            }
        );
        let (out, n) = redact(text, &[Entity::Number]);
        assert_eq!(out, "Email a@b.com, card [NUMBER], phone [NUMBER].");
        assert_eq!(
            n,
            Replaced {
                email: 0,
                card: 0,
                number: 2
            }
        );
        let (out, n) = redact(text, &Entity::ALL);
        assert_eq!(out, "Email [EMAIL], card [CARD], phone [NUMBER].");
        assert_eq!(
            n,
            Replaced {
                email: 1,
                card: 1,
                number: 1
            }
        );
        assert_eq!(redact(text, &[]).0, text);
    }
}
