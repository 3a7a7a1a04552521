//! `qa-config.json`, schema version 1: the QA rubric. Rules have an `id`, a `name`, `required`
//! and `weight`, and a `kind` with its own fields:
//! - `keyword`: `phrases`, `speaker`, `must` (`say` | `not_say`), optional window
//!   (`within_seconds` from the start, or `in_last_seconds` before the end);
//! - `semantic`: `examples` matched by embedding similarity ≥ `threshold` (default 0.6), with
//!   `speaker` and the same window;
//! - `metric`: `metric` `op` `value`, e.g. `agent_talk_ratio <= 0.7`;
//! - `sentiment`: a speaker's sentiment `at` the `start`, the `end` or `overall`, compared with
//!   a label (`NEGATIVE` < `NEUTRAL` = `MIXED` < `POSITIVE`) or a signed score;
//! - `llm`: a yes/no `question` put to the tenant's language model.
//!
//! `pass`: `{"mode": "all_required"}` (every required rule passes) or
//! `{"mode": "weighted", "threshold": 0.8}` (weighted share of passed applicable rules).

use serde::{Deserialize, Serialize};

use super::{ConfigProblems, parse_json, unknown_fields};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QaConfig {
    pub version: u32,
    pub pass: PassRule,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum PassRule {
    AllRequired,
    Weighted { threshold: f64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default = "one")]
    pub weight: f64,
    #[serde(flatten)]
    pub check: Check,
}

fn one() -> f64 {
    1.0
}

fn default_similarity() -> f64 {
    0.6
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeakerSelector {
    Agent,
    Customer,
    #[default]
    Any,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Must {
    #[default]
    Say,
    NotSay,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "==")]
    Eq,
}

impl Op {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Op::Le => left <= right,
            Op::Lt => left < right,
            Op::Ge => left >= right,
            Op::Gt => left > right,
            Op::Eq => (left - right).abs() < 1e-9,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Eq => "==",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricName {
    AgentTalkRatio,
    CustomerTalkRatio,
    Interruptions,
    AgentInterruptions,
    NonTalkRatio,
    NonTalkSeconds,
    DurationSeconds,
    WordsPerMinute,
    AgentWordsPerMinute,
    CustomerWordsPerMinute,
    WordCount,
    UtteranceCount,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentimentAt {
    Start,
    End,
    #[default]
    Overall,
}

/// A sentiment label (compared by rank) or a signed score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SentimentValue {
    Label(String),
    Score(f64),
}

/// `NEGATIVE` −1, `NEUTRAL` and `MIXED` 0, `POSITIVE` 1.
pub fn label_rank(label: &str) -> Option<i8> {
    match label.to_ascii_uppercase().as_str() {
        "NEGATIVE" => Some(-1),
        "NEUTRAL" | "MIXED" => Some(0),
        "POSITIVE" => Some(1),
        _ => None,
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Check {
    /// `phrase` is the name the first default rubric used.
    #[serde(alias = "phrase")]
    Keyword {
        phrases: Vec<String>,
        #[serde(default)]
        speaker: SpeakerSelector,
        #[serde(default)]
        must: Must,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        within_seconds: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_last_seconds: Option<f64>,
    },
    Semantic {
        examples: Vec<String>,
        #[serde(default)]
        speaker: SpeakerSelector,
        #[serde(default = "default_similarity")]
        threshold: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        within_seconds: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        in_last_seconds: Option<f64>,
    },
    Metric {
        metric: MetricName,
        op: Op,
        value: f64,
    },
    Sentiment {
        #[serde(default)]
        speaker: SpeakerSelector,
        #[serde(default)]
        at: SentimentAt,
        op: Op,
        value: SentimentValue,
    },
    Llm {
        question: String,
    },
}

const COMMON: &[&str] = &["id", "name", "required", "weight", "kind"];

fn kind_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "keyword" | "phrase" => &[
            "phrases",
            "speaker",
            "must",
            "within_seconds",
            "in_last_seconds",
        ],
        "semantic" => &[
            "examples",
            "speaker",
            "threshold",
            "within_seconds",
            "in_last_seconds",
        ],
        "metric" => &["metric", "op", "value"],
        "sentiment" => &["speaker", "at", "op", "value"],
        "llm" => &["question"],
        _ => return None,
    })
}

fn rule_label(i: usize, raw: &serde_json::Value) -> String {
    match raw.get("id").and_then(|v| v.as_str()) {
        Some(id) => format!("rules[{i}] (\"{id}\")"),
        None => format!("rules[{i}]"),
    }
}

impl QaConfig {
    /// Parses and validates; the error lists every problem.
    pub fn parse(bytes: &[u8]) -> Result<QaConfig, ConfigProblems> {
        let raw: serde_json::Value = parse_json(bytes, "qa-config.json")?;
        let Some(object) = raw.as_object() else {
            return Err(ConfigProblems(vec![
                "qa-config.json must be a JSON object".into(),
            ]));
        };
        let mut problems = Vec::new();
        unknown_fields(
            &raw,
            &["version", "pass", "rules"],
            "qa-config.json",
            &mut problems,
        );
        match object.get("version").and_then(|v| v.as_u64()) {
            Some(1) => {}
            Some(other) => problems.push(format!(
                "version: {other} is not a known schema version (known: 1)"
            )),
            None => problems.push("version: required, a number (1)".into()),
        }
        let pass = match object.get("pass") {
            Some(value) => match serde_json::from_value::<PassRule>(value.clone()) {
                Ok(pass) => Some(pass),
                Err(e) => {
                    problems.push(format!(
                        "pass: {e} (use {{\"mode\": \"all_required\"}} or {{\"mode\": \"weighted\", \"threshold\": 0.8}})"
                    ));
                    None
                }
            },
            None => {
                problems.push("pass: required".into());
                None
            }
        };
        if let Some(PassRule::Weighted { threshold }) = &pass
            && !(0.0..=1.0).contains(threshold)
        {
            problems.push("pass.threshold: must be between 0 and 1".into());
        }
        let raw_rules = match object.get("rules") {
            Some(serde_json::Value::Array(rules)) => rules.as_slice(),
            _ => {
                problems.push("rules: required, a list of rules".into());
                &[]
            }
        };
        if raw_rules.len() > 100 {
            problems.push("rules: at most 100 rules".into());
        }
        let mut rules = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (i, raw_rule) in raw_rules.iter().enumerate() {
            let at = rule_label(i, raw_rule);
            let kind = raw_rule.get("kind").and_then(|k| k.as_str()).unwrap_or("");
            match kind_fields(kind) {
                Some(fields) => {
                    let known: Vec<&str> = COMMON.iter().chain(fields).copied().collect();
                    unknown_fields(raw_rule, &known, &at, &mut problems);
                }
                None => {
                    problems.push(format!(
                        "{at}: kind \"{kind}\" is not one of keyword, semantic, metric, sentiment, llm"
                    ));
                    continue;
                }
            }
            let rule: Rule = match serde_json::from_value(raw_rule.clone()) {
                Ok(rule) => rule,
                Err(e) => {
                    problems.push(format!("{at}: {e}"));
                    continue;
                }
            };
            check_rule(&rule, &at, &mut problems);
            if !seen.insert(rule.id.clone()) {
                problems.push(format!("{at}: the id \"{}\" is used twice", rule.id));
            }
            rules.push(rule);
        }
        match (problems.is_empty(), pass) {
            (true, Some(pass)) => Ok(QaConfig {
                version: 1,
                pass,
                rules,
            }),
            _ => Err(ConfigProblems(problems)),
        }
    }
}

fn check_rule(rule: &Rule, at: &str, problems: &mut Vec<String>) {
    let id_ok = !rule.id.is_empty()
        && rule.id.len() <= 64
        && rule
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !id_ok {
        problems.push(format!(
            "{at}: id must be 1–64 lowercase letters, digits or '_' (it names the qa_<id> column)"
        ));
    }
    if rule.name.trim().is_empty() {
        problems.push(format!("{at}: name must not be empty"));
    }
    if !(rule.weight.is_finite() && rule.weight >= 0.0) {
        problems.push(format!("{at}: weight must be a number ≥ 0"));
    }
    let window = |within: &Option<f64>, last: &Option<f64>, problems: &mut Vec<String>| {
        if within.is_some() && last.is_some() {
            problems.push(format!(
                "{at}: give within_seconds or in_last_seconds, not both"
            ));
        }
        for (field, value) in [("within_seconds", within), ("in_last_seconds", last)] {
            if value.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
                problems.push(format!("{at}: {field} must be a number > 0"));
            }
        }
    };
    match &rule.check {
        Check::Keyword {
            phrases,
            within_seconds,
            in_last_seconds,
            ..
        } => {
            if phrases.iter().all(|p| p.trim().is_empty()) {
                problems.push(format!("{at}: phrases must hold at least one phrase"));
            }
            window(within_seconds, in_last_seconds, problems);
        }
        Check::Semantic {
            examples,
            threshold,
            within_seconds,
            in_last_seconds,
            ..
        } => {
            if examples.iter().all(|p| p.trim().is_empty()) {
                problems.push(format!("{at}: examples must hold at least one phrase"));
            }
            if !(0.0..=1.0).contains(threshold) {
                problems.push(format!("{at}: threshold must be between 0 and 1"));
            }
            window(within_seconds, in_last_seconds, problems);
        }
        Check::Metric { value, .. } => {
            if !value.is_finite() {
                problems.push(format!("{at}: value must be a number"));
            }
        }
        Check::Sentiment { value, .. } => match value {
            SentimentValue::Label(label) if label_rank(label).is_none() => problems.push(format!(
                "{at}: value \"{label}\" is not POSITIVE, NEUTRAL, MIXED, NEGATIVE or a score"
            )),
            SentimentValue::Score(score) if !(-1.0..=1.0).contains(score) => {
                problems.push(format!("{at}: a score value must be between -1 and 1"))
            }
            _ => {}
        },
        Check::Llm { question } => {
            if question.trim().is_empty() || question.len() > 1000 {
                problems.push(format!("{at}: question must have 1 to 1000 characters"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onboarding_default_is_valid() {
        let config =
            QaConfig::parse(switchboard_store::onboarding::DEFAULT_QA_CONFIG.as_bytes()).unwrap();
        assert_eq!(config.pass, PassRule::AllRequired);
        assert!(!config.rules.is_empty());
    }

    #[test]
    fn every_rule_kind_parses() {
        let config = QaConfig::parse(
            br#"{"version": 1, "pass": {"mode": "weighted", "threshold": 0.75}, "rules": [
              {"id": "greet", "name": "Greets", "kind": "keyword", "phrases": ["hello"], "speaker": "agent", "within_seconds": 30},
              {"id": "no_swear", "name": "No swearing", "kind": "keyword", "phrases": ["damn"], "must": "not_say"},
              {"id": "empathy", "name": "Empathy", "kind": "semantic", "examples": ["I understand how frustrating this is"], "speaker": "agent"},
              {"id": "talk", "name": "Lets the customer talk", "kind": "metric", "metric": "agent_talk_ratio", "op": "<=", "value": 0.7},
              {"id": "happy_end", "name": "Ends well", "kind": "sentiment", "speaker": "customer", "at": "end", "op": ">=", "value": "NEUTRAL"},
              {"id": "verified", "name": "Verifies identity", "kind": "llm", "question": "Did the agent verify the caller?", "weight": 2}
            ]}"#,
        )
        .unwrap();
        assert_eq!(config.rules.len(), 6);
        assert_eq!(config.rules[5].weight, 2.0);
        assert!(matches!(
            config.rules[2].check,
            Check::Semantic { threshold, .. } if threshold == 0.6
        ));
    }

    #[test]
    fn every_problem_is_listed_with_its_rule() {
        let err = QaConfig::parse(
            br#"{"version": 1, "pass": {"mode": "weighted", "threshold": 3}, "rules": [
              {"id": "a", "name": "A", "kind": "keyword", "phrases": [], "phrasez": ["x"]},
              {"id": "a", "name": "", "kind": "metric", "metric": "agent_talk_ratio", "op": "<=", "value": 1},
              {"id": "b", "name": "B", "kind": "telepathy"},
              {"id": "C!", "name": "C", "kind": "metric", "metric": "vibes", "op": "<=", "value": 1},
              {"id": "d", "name": "D", "kind": "sentiment", "op": ">=", "value": "HAPPY"}
            ]}"#,
        )
        .unwrap_err();
        let all = err.to_string();
        for expected in [
            "pass.threshold",
            "rules[0] (\"a\"): unknown field \"phrasez\"",
            "rules[0] (\"a\"): phrases must hold at least one phrase",
            "rules[1] (\"a\"): name must not be empty",
            "rules[1] (\"a\"): the id \"a\" is used twice",
            "rules[2] (\"b\"): kind \"telepathy\"",
            "rules[3] (\"C!\")",
            "vibes",
            "rules[4] (\"d\"): value \"HAPPY\"",
        ] {
            assert!(all.contains(expected), "{expected:?} missing from {all}");
        }
    }
}
