//! `ai-config.json`, schema version 1: instructions for the summary and next steps, the model
//! choice, the language, how many sentences an extractive summary keeps, and the tenant's agent
//! domains and numbers (for direction and agent identification, SPEC §4.5).

use serde::{Deserialize, Serialize};

use super::{ConfigProblems, parse_json, unknown_fields};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AiConfig {
    pub version: u32,
    #[serde(default = "english")]
    pub language: String,
    pub summary_instructions: String,
    pub next_steps_instructions: String,
    /// Utterances an extractive summary keeps (1–10).
    #[serde(default = "three")]
    pub summary_sentences: usize,
    #[serde(default)]
    pub model: ModelChoice,
    #[serde(default)]
    pub agents: AgentDirectory,
    #[serde(default)]
    pub redaction: Redaction,
    #[serde(default)]
    pub outputs: Outputs,
}

/// Flat-file formats the publish stage writes besides CSV (SPEC §4.5).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outputs {
    /// Also write each call's flat rows as Parquet (`final/v2.0-flat/{calls,qa}/<id>.parquet`).
    #[serde(default)]
    pub parquet: bool,
}

/// PII redaction of transcripts (SPEC §4.3; `crate::redact`): off unless enabled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Redaction {
    #[serde(default)]
    pub enabled: bool,
    /// What is redacted; all of them unless listed.
    #[serde(default = "all_entities")]
    pub entities: Vec<crate::redact::Entity>,
}

impl Default for Redaction {
    fn default() -> Self {
        Redaction {
            enabled: false,
            entities: all_entities(),
        }
    }
}

impl Redaction {
    /// The entities to redact; empty when redaction is off.
    pub fn active(&self) -> &[crate::redact::Entity] {
        if self.enabled { &self.entities } else { &[] }
    }
}

fn all_entities() -> Vec<crate::redact::Entity> {
    crate::redact::Entity::ALL.to_vec()
}

fn english() -> String {
    "en".into()
}

fn three() -> usize {
    3
}

/// Which language model writes the summary and next steps and answers `llm` QA rules.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelChoice {
    pub engine: ModelEngine,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelEngine {
    /// No language model: an extractive summary and rule-based next steps (no network, no key).
    #[default]
    Embedded,
    /// The platform's hosted or self-hosted model (`LLM_PROVIDER` = openai or anthropic).
    Platform,
}

/// A party is an agent when its address ends with one of `domains` or is one of `numbers`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentDirectory {
    #[serde(default)]
    pub domains: Vec<String>,
    #[serde(default)]
    pub numbers: Vec<String>,
}

const FIELDS: &[&str] = &[
    "version",
    "language",
    "summary_instructions",
    "next_steps_instructions",
    "summary_sentences",
    "model",
    "agents",
    "redaction",
    "outputs",
];

impl AiConfig {
    /// Parses and validates; the error lists every problem.
    pub fn parse(bytes: &[u8]) -> Result<AiConfig, ConfigProblems> {
        let raw: serde_json::Value = parse_json(bytes, "ai-config.json")?;
        let mut problems = Vec::new();
        if !raw.is_object() {
            return Err(ConfigProblems(vec![
                "ai-config.json must be a JSON object".into(),
            ]));
        }
        unknown_fields(&raw, FIELDS, "ai-config.json", &mut problems);
        unknown_fields(&raw["model"], &["engine"], "model", &mut problems);
        unknown_fields(
            &raw["agents"],
            &["domains", "numbers"],
            "agents",
            &mut problems,
        );
        unknown_fields(
            &raw["redaction"],
            &["enabled", "entities"],
            "redaction",
            &mut problems,
        );
        unknown_fields(&raw["outputs"], &["parquet"], "outputs", &mut problems);
        let config: AiConfig = match serde_json::from_value(raw) {
            Ok(config) => config,
            Err(e) => {
                problems.push(format!("ai-config.json: {e}"));
                return Err(ConfigProblems(problems));
            }
        };
        if config.version != 1 {
            problems.push(format!(
                "version: {} is not a known schema version (known: 1)",
                config.version
            ));
        }
        if config.language.trim().is_empty() || config.language.len() > 16 {
            problems.push("language: give a language code such as \"en\"".into());
        }
        for (field, text) in [
            ("summary_instructions", &config.summary_instructions),
            ("next_steps_instructions", &config.next_steps_instructions),
        ] {
            if text.trim().is_empty() {
                problems.push(format!("{field}: must not be empty"));
            } else if text.len() > 4000 {
                problems.push(format!("{field}: at most 4000 characters"));
            }
        }
        if !(1..=10).contains(&config.summary_sentences) {
            problems.push("summary_sentences: must be between 1 and 10".into());
        }
        for (i, domain) in config.agents.domains.iter().enumerate() {
            let plain = domain.trim_start_matches('@');
            if plain.is_empty() || !plain.contains('.') || plain.contains(char::is_whitespace) {
                problems.push(format!(
                    "agents.domains[{i}]: \"{domain}\" is not a domain like \"example.com\""
                ));
            }
        }
        for (i, number) in config.agents.numbers.iter().enumerate() {
            if crate::parties::normalise_number(number).is_none() {
                problems.push(format!(
                    "agents.numbers[{i}]: \"{number}\" is not a phone number (digits, optional leading +)"
                ));
            }
        }
        if config.redaction.enabled && config.redaction.entities.is_empty() {
            problems.push(
                "redaction.entities: list at least one of \"email\", \"card\", \"number\" (or leave it out for all three)"
                    .into(),
            );
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigProblems(problems))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onboarding_default_is_valid() {
        let config =
            AiConfig::parse(switchboard_store::onboarding::DEFAULT_AI_CONFIG.as_bytes()).unwrap();
        assert_eq!(config.model.engine, ModelEngine::Embedded);
        assert_eq!(config.summary_sentences, 3);
    }

    #[test]
    fn every_problem_is_listed() {
        let err = AiConfig::parse(
            br#"{"version": 2, "summary_instructions": "", "next_steps_instructions": "x",
                 "summary_sentences": 0, "colour": "red",
                 "agents": {"domains": ["nodot"], "numbers": ["call me"]}}"#,
        )
        .unwrap_err();
        let all = err.to_string();
        for expected in [
            "unknown field \"colour\"",
            "version: 2",
            "summary_instructions: must not be empty",
            "summary_sentences",
            "agents.domains[0]",
            "agents.numbers[0]",
        ] {
            assert!(all.contains(expected), "{expected:?} missing from {all}");
        }
        assert_eq!(err.0.len(), 6, "{all}");
    }

    #[test]
    fn wrong_types_and_non_objects_are_problems() {
        assert!(AiConfig::parse(b"[]").is_err());
        assert!(AiConfig::parse(b"{not json").is_err());
        let err = AiConfig::parse(
            br#"{"version": 1, "summary_instructions": "a", "next_steps_instructions": "b", "model": {"engine": "gpt"}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("gpt"), "{err}");
    }

    #[test]
    fn redaction_is_off_by_default_and_validated() {
        let base = r#""version": 1, "summary_instructions": "a", "next_steps_instructions": "b""#;
        let parse = |extra: &str| AiConfig::parse(format!("{{{base}{extra}}}").as_bytes());
        assert!(parse("").unwrap().redaction.active().is_empty());
        let on = parse(r#", "redaction": {"enabled": true}"#).unwrap();
        assert_eq!(on.redaction.active(), crate::redact::Entity::ALL);
        let some = parse(r#", "redaction": {"enabled": true, "entities": ["email"]}"#).unwrap();
        assert_eq!(some.redaction.active(), [crate::redact::Entity::Email]);
        let off = parse(r#", "redaction": {"enabled": false, "entities": ["email"]}"#).unwrap();
        assert!(off.redaction.active().is_empty());
        let err = parse(r#", "redaction": {"enabled": true, "entities": [], "mask": "*"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("redaction: unknown field \"mask\""), "{err}");
        assert!(
            err.contains("redaction.entities: list at least one"),
            "{err}"
        );
        let err = parse(r#", "redaction": {"enabled": true, "entities": ["ssn"]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("ssn"), "{err}");
    }
}
