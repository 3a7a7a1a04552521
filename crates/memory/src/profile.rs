//! The caller profile: the tenant template's profile fields, filled from what the caller said
//! (or set explicitly by the API caller), and the quick bio rendered from the template's format
//! (`{name} | {city} | Client since {client_since} | {policies}`).
//!
//! Extraction is by pattern, per field name, for the fields the built-in templates define
//! (name, city/area, address, *_since years, policies, budget, looking_for, equipment,
//! renewal_month). A field with no pattern (e.g. `notes`) is filled only explicitly. Patterns
//! look at the caller's lines only, so a receptionist's "This is Sam from Acme" is never taken
//! for the caller's name. They are deliberately narrow: a wrong fact in a profile is worse than
//! a missing one, and the hosted language model path can fill the rest later.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use switchboard_receptionist::placeholders;
use switchboard_receptionist::template::ProfileField;

/// Longest value stored for a field.
pub const MAX_FIELD_CHARS: usize = 200;
/// The quick bio when no segment of the format can be rendered.
pub const NEW_CALLER_BIO: &str = "New caller";

static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i:\b(?:my name is|my name's|this is|i am|i'm|name is))\s+([A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+){0,2})")
        .expect("valid pattern")
});
static PLACE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i:\b(?:i live in|we live in|i'm in|i am in|we're in|located in|i'm from|i am from|based in|moving to|move to|in the))\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})(?i:\s+area)?")
        .expect("valid pattern")
});
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\d{1,6}\s+(?:[A-Za-z]+\s+){1,3}(?:street|st|avenue|ave|road|rd|drive|dr|lane|ln|court|ct|boulevard|blvd|way|place|pl|circle|terrace)\b\.?)")
        .expect("valid pattern")
});
static SINCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:client|customer|member|with you|with your company|insured with)[^.?!]{0,30}?\bsince\s+((?:19|20)\d\d)\b")
        .expect("valid pattern")
});
static YEARS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:client|customer|member|with you|with your company|insured with)[^.?!]{0,30}?\b(?:for|about|over)\s+(\d{1,2})\s+years\b")
        .expect("valid pattern")
});
static POLICY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(a|an|one|two|three|four|five|\d)\s+(auto|car|home|homeowners|life|renters|umbrella|business|boat|motorcycle)\s+polic(?:y|ies)\b")
        .expect("valid pattern")
});
static BUDGET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(\$\s?\d[\d,.]*\s*(?:k|thousand|million|m)?|\b\d[\d,.]*\s*(?:thousand|million)(?:\s+dollars)?)")
        .expect("valid pattern")
});
static LOOKING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:looking to|want to|wanting to|hoping to|planning to|need to|trying to)\s+((?:buy|sell|rent|lease)\b[^.,!?]{0,60})")
        .expect("valid pattern")
});
static EQUIPMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:my|our|the)\s+((?:(?:gas|electric|oil|old|new|tankless)\s+)?(?:furnace|boiler|water heater|heat pump|air conditioner|ac unit|a/c|hvac system|sump pump|garbage disposal))\b")
        .expect("valid pattern")
});
static RENEWAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\brenew\w*\b[^.?!]{0,30}?\b(january|february|march|april|may|june|july|august|september|october|november|december)\b")
        .expect("valid pattern")
});

/// Words that follow "I'm"/"this is" but are not names.
const NOT_NAMES: &[&str] = &[
    "I",
    "Calling",
    "Looking",
    "Just",
    "Not",
    "Sorry",
    "Trying",
    "Having",
    "Going",
    "Still",
    "Here",
    "Interested",
    "Wondering",
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "From",
    "With",
    "About",
    "Very",
    "So",
    "Really",
    "Urgent",
    "Fine",
    "Good",
    "Great",
    "Okay",
    "Ok",
    "Yes",
    "No",
    "Hello",
    "Hi",
];

const NUMBER_WORDS: &[(&str, u32)] = &[
    ("a", 1),
    ("an", 1),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
];

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first
            .to_uppercase()
            .chain(c.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

fn name(line: &str) -> Option<String> {
    NAME.captures_iter(line).find_map(|c| {
        let words: Vec<&str> = c[1]
            .split_whitespace()
            .take_while(|w| !NOT_NAMES.contains(w))
            .collect();
        (!words.is_empty()).then(|| words.join(" "))
    })
}

fn place(line: &str) -> Option<String> {
    PLACE
        .captures_iter(line)
        .map(|c| c[1].to_owned())
        .find(|p| !NOT_NAMES.contains(&p.split_whitespace().next().unwrap_or_default()))
}

fn since_year(line: &str, year_now: i32) -> Option<String> {
    if let Some(c) = SINCE.captures(line) {
        return Some(c[1].to_owned());
    }
    YEARS.captures(line).and_then(|c| {
        let years: i32 = c[1].parse().ok()?;
        (years > 0 && years < 80).then(|| (year_now - years).to_string())
    })
}

fn policies(line: &str) -> Option<String> {
    let found: Vec<String> = POLICY
        .captures_iter(line)
        .map(|c| {
            let count = c[1].to_ascii_lowercase();
            let n = NUMBER_WORDS
                .iter()
                .find(|(w, _)| *w == count)
                .map(|(_, n)| *n)
                .or_else(|| count.parse().ok())
                .unwrap_or(1);
            let kind = match c[2].to_ascii_lowercase().as_str() {
                "car" => "Auto".to_owned(),
                "homeowners" => "Home".to_owned(),
                other => capitalise(other),
            };
            format!("{n} {kind}")
        })
        .collect();
    (!found.is_empty()).then(|| found.join(" + "))
}

fn first_capture(re: &Regex, line: &str) -> Option<String> {
    re.captures(line).map(|c| c[1].trim().to_owned())
}

/// The value the caller's line gives for one field, if a pattern knows the field.
fn extract_field(field: &str, line: &str, year_now: i32) -> Option<String> {
    let field = field.to_ascii_lowercase();
    match field.as_str() {
        "name" | "full_name" | "caller_name" => name(line),
        "city" | "area" | "location" | "town" => place(line),
        "address" | "service_address" => first_capture(&ADDRESS, line),
        "policies" => policies(line),
        "budget" => first_capture(&BUDGET, line),
        "looking_for" => first_capture(&LOOKING, line).map(|s| s.to_lowercase()),
        "equipment" => first_capture(&EQUIPMENT, line).map(|s| s.to_lowercase()),
        "renewal_month" => RENEWAL.captures(line).map(|c| capitalise(&c[1])),
        f if f.ends_with("_since") => since_year(line, year_now),
        _ => None,
    }
}

/// The profile fields the caller's lines give; a later line wins over an earlier one.
pub fn extract(
    caller_lines: &[&str],
    fields: &[ProfileField],
    year_now: i32,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in caller_lines {
        for field in fields {
            if let Some(value) = extract_field(&field.name, line, year_now) {
                out.insert(field.name.clone(), clip(&value));
            }
        }
    }
    out
}

pub fn clip(value: &str) -> String {
    value.trim().chars().take(MAX_FIELD_CHARS).collect()
}

/// The quick bio: the format's `|`-separated segments whose placeholders are all known, joined
/// with ` | `; [`NEW_CALLER_BIO`] when none is.
pub fn quick_bio(format: &str, fields: &BTreeMap<String, String>) -> String {
    let segments: Vec<String> = format
        .split('|')
        .map(str::trim)
        .filter(|segment| !segment.is_empty())
        .filter_map(|segment| {
            let names = placeholders::names(segment);
            let known = names
                .iter()
                .all(|n| fields.get(n).is_some_and(|v| !v.trim().is_empty()));
            known.then(|| {
                names.iter().fold(segment.to_owned(), |text, n| {
                    text.replace(&format!("{{{n}}}"), fields[n].trim())
                })
            })
        })
        .collect();
    if segments.is_empty() {
        NEW_CALLER_BIO.to_owned()
    } else {
        segments.join(" | ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(names: &[&str]) -> Vec<ProfileField> {
        names
            .iter()
            .map(|n| ProfileField {
                name: (*n).into(),
                description: String::new(),
            })
            .collect()
    }

    #[test]
    fn insurance_caller_fields_are_extracted_and_rendered() {
        let lines = [
            "Hi, my name is John Smith and I live in Orange County.",
            "I've been a client since 2020, I have two auto policies and a home policy.",
            "My home policy renews in March I think.",
        ];
        let got = extract(
            &lines,
            &fields(&["name", "city", "client_since", "policies", "renewal_month"]),
            2026,
        );
        assert_eq!(got["name"], "John Smith");
        assert_eq!(got["city"], "Orange County");
        assert_eq!(got["client_since"], "2020");
        assert_eq!(got["policies"], "2 Auto + 1 Home");
        assert_eq!(got["renewal_month"], "March");
        assert_eq!(
            quick_bio(
                "{name} | {city} | Client since {client_since} | {policies}",
                &got
            ),
            "John Smith | Orange County | Client since 2020 | 2 Auto + 1 Home"
        );
    }

    #[test]
    fn plumbing_and_real_estate_fields() {
        let got = extract(
            &[
                "This is Maria Lopez, our gas furnace is banging.",
                "The address is 42 Elm Street in Tustin.",
                "We've been customers for 6 years.",
            ],
            &fields(&["name", "address", "equipment", "customer_since"]),
            2026,
        );
        assert_eq!(got["name"], "Maria Lopez");
        assert_eq!(got["address"], "42 Elm Street");
        assert_eq!(got["equipment"], "gas furnace");
        assert_eq!(got["customer_since"], "2020");
        let got = extract(
            &["We're looking to buy a three bedroom house in the Irvine area, budget is $850k."],
            &fields(&["looking_for", "area", "budget"]),
            2026,
        );
        assert_eq!(
            got["looking_for"],
            "buy a three bedroom house in the irvine area"
        );
        assert_eq!(got["area"], "Irvine");
        assert_eq!(got["budget"], "$850k");
    }

    #[test]
    fn non_names_and_unknown_fields_are_left_alone() {
        let got = extract(
            &[
                "I'm calling about my policy.",
                "this is urgent",
                "I'm looking for help",
            ],
            &fields(&["name", "notes"]),
            2026,
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn the_bio_keeps_only_segments_it_can_fill() {
        let mut f = BTreeMap::new();
        assert_eq!(quick_bio("{name} | {city}", &f), NEW_CALLER_BIO);
        f.insert("city".to_owned(), "Irvine".to_owned());
        assert_eq!(
            quick_bio("{name} | {city} | Client since {client_since}", &f),
            "Irvine"
        );
    }
}
