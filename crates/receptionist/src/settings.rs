//! A tenant's receptionist settings: its own copy of an industry template (SPEC §8 clone /
//! inherit) plus what only the tenant knows — variables, greeting, agent name, personality,
//! voice, escalation number. Filler words and urgency keywords keep the `inherited` list (from
//! the template) apart from the tenant's `custom` list, so a sync replaces only the former.
//! Knowledge Q&A entries live in their own table; phone numbers in the platform's registry.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::template::{
    ActionHook, Behaviours, ProfileField, Scenario, Template, UrgencyKeyword, VariableDefinition,
    keyword_problems, scenario_problems,
};

pub const DEFAULT_KNOWLEDGE_THRESHOLD: f32 = 0.80;
pub const DEFAULT_VOICE: &str = "Polly.Joanna";
pub const DEFAULT_LANGUAGE: &str = "en-US";
pub const MAX_TEXT: usize = 2000;

/// Where the tenant's copy came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClonedFrom {
    pub template_id: String,
    pub version: i64,
    /// Unix milliseconds.
    pub cloned_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inherited<T> {
    pub inherited: Vec<T>,
    #[serde(default = "Vec::new")]
    pub custom: Vec<T>,
}

impl<T: Clone> Inherited<T> {
    pub fn all(&self) -> impl Iterator<Item = &T> {
        self.inherited.iter().chain(&self.custom)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceptionistSettings {
    pub cloned_from: ClonedFrom,
    pub agent_name: String,
    pub greeting: String,
    pub personality: String,
    /// A Twilio `<Say>` voice, e.g. `Polly.Joanna` or `alice`.
    pub voice: String,
    pub language: String,
    pub behaviours: Behaviours,
    pub action_hooks: Vec<ActionHook>,
    pub variable_definitions: Vec<VariableDefinition>,
    pub variables: BTreeMap<String, String>,
    pub filler_words: Inherited<String>,
    pub urgency_keywords: Inherited<UrgencyKeyword>,
    pub urgency_threshold: f32,
    pub scenarios: Vec<Scenario>,
    pub profile_fields: Vec<ProfileField>,
    pub quick_bio: String,
    /// E.164 number that `<Dial>` transfers to; without one, escalation takes a message.
    pub escalation_number: Option<String>,
    /// Cosine similarity at which a knowledge answer is used (SPEC §6: 0.80 by default).
    pub knowledge_threshold: f32,
    /// Whether unmatched utterances go to the tenant's language model before the fallback.
    pub use_language_model: bool,
}

impl ReceptionistSettings {
    /// A fresh copy of `template` for a tenant (SPEC §8 clone).
    pub fn clone_template(template: &Template, now_ms: i64) -> ReceptionistSettings {
        ReceptionistSettings {
            cloned_from: ClonedFrom {
                template_id: template.id.clone(),
                version: template.version,
                cloned_at: now_ms,
            },
            agent_name: "Alex".into(),
            greeting: template.greeting.clone(),
            personality: template.personality.clone(),
            voice: DEFAULT_VOICE.into(),
            language: DEFAULT_LANGUAGE.into(),
            behaviours: template.behaviours.clone(),
            action_hooks: template.action_hooks.clone(),
            variable_definitions: template.variables.clone(),
            variables: BTreeMap::new(),
            filler_words: Inherited {
                inherited: template.filler_words.clone(),
                custom: Vec::new(),
            },
            urgency_keywords: Inherited {
                inherited: template.urgency_keywords.clone(),
                custom: Vec::new(),
            },
            urgency_threshold: template.urgency_threshold,
            scenarios: template.scenarios.clone(),
            profile_fields: template.profile_fields.clone(),
            quick_bio: template.quick_bio.clone(),
            escalation_number: None,
            knowledge_threshold: DEFAULT_KNOWLEDGE_THRESHOLD,
            use_language_model: true,
        }
    }

    /// Syncs to a newer version of the template the tenant chose to follow: the template's parts
    /// are replaced (inherited lists, scenarios, definitions, behaviours, bio format); everything
    /// the tenant set (variables, custom lists, greeting, name, voice, personality, numbers,
    /// thresholds) stays. Scenarios the tenant added (ids not in the old template) are kept.
    pub fn sync_to(&self, template: &Template, old: Option<&Template>, now_ms: i64) -> Self {
        let mut next = self.clone();
        let old_ids: BTreeSet<&str> = old
            .map(|t| t.scenarios.iter().map(|s| s.id.as_str()).collect())
            .unwrap_or_default();
        let new_ids: BTreeSet<&str> = template.scenarios.iter().map(|s| s.id.as_str()).collect();
        let mut scenarios = template.scenarios.clone();
        scenarios.extend(
            self.scenarios
                .iter()
                .filter(|s| !old_ids.contains(s.id.as_str()) && !new_ids.contains(s.id.as_str()))
                .cloned(),
        );
        next.cloned_from = ClonedFrom {
            template_id: template.id.clone(),
            version: template.version,
            cloned_at: now_ms,
        };
        next.behaviours = template.behaviours.clone();
        next.action_hooks = template.action_hooks.clone();
        next.variable_definitions = template.variables.clone();
        next.filler_words.inherited = template.filler_words.clone();
        next.urgency_keywords.inherited = template.urgency_keywords.clone();
        next.urgency_threshold = template.urgency_threshold;
        next.scenarios = scenarios;
        next.profile_fields = template.profile_fields.clone();
        next.quick_bio = template.quick_bio.clone();
        next
    }

    /// Every problem, listed; an empty list means the settings may be saved.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let text_fields = [
            ("agent_name", &self.agent_name, 80),
            ("greeting", &self.greeting, MAX_TEXT),
            ("personality", &self.personality, MAX_TEXT * 2),
            ("voice", &self.voice, 80),
            ("language", &self.language, 20),
        ];
        for (name, value, max) in text_fields {
            if value.trim().is_empty() {
                problems.push(format!("{name}: must not be empty"));
            } else if value.len() > max {
                problems.push(format!("{name}: at most {max} bytes"));
            }
        }
        if let Some(number) = &self.escalation_number
            && !is_e164(number)
        {
            problems.push("escalation_number: an E.164 number such as +18005550100".into());
        }
        if !(0.5..=1.0).contains(&self.knowledge_threshold) {
            problems.push("knowledge_threshold: between 0.5 and 1.0".into());
        }
        if !(self.urgency_threshold > 0.0 && self.urgency_threshold <= 10.0) {
            problems.push("urgency_threshold: above 0 and at most 10".into());
        }
        let defined: BTreeSet<&str> = self
            .variable_definitions
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        for (name, value) in &self.variables {
            if !defined.contains(name.as_str()) && !is_builtin_variable(name) {
                problems.push(format!(
                    "variables.{name}: not defined by the template (defined: {})",
                    defined.iter().copied().collect::<Vec<_>>().join(", ")
                ));
            }
            if value.len() > MAX_TEXT {
                problems.push(format!("variables.{name}: at most {MAX_TEXT} bytes"));
            }
        }
        problems.extend(scenario_problems(&self.scenarios, &self.action_hooks));
        problems.extend(keyword_problems(
            &self.urgency_keywords.inherited,
            "urgency_keywords.inherited",
        ));
        problems.extend(keyword_problems(
            &self.urgency_keywords.custom,
            "urgency_keywords.custom",
        ));
        for (i, word) in self.filler_words.all().enumerate() {
            if word.trim().is_empty() {
                problems.push(format!("filler_words: entry {i} is empty"));
            }
        }
        problems
    }

    /// The variables a reply can use: the tenant's own plus `agent_name`.
    pub fn reply_variables(&self) -> BTreeMap<String, String> {
        let mut vars = self.variables.clone();
        vars.insert("agent_name".into(), self.agent_name.clone());
        vars
    }
}

/// Variables every tenant has without defining them.
pub fn is_builtin_variable(name: &str) -> bool {
    name == "agent_name"
}

/// `+` then 8 to 15 digits.
pub fn is_e164(number: &str) -> bool {
    number
        .strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::builtin;

    #[test]
    fn a_clone_records_its_origin_and_keeps_lists_apart() {
        let template = builtin().remove(3);
        let mut copy = ReceptionistSettings::clone_template(&template, 42);
        assert_eq!(copy.cloned_from.template_id, "plumbing-hvac");
        assert_eq!(copy.cloned_from.cloned_at, 42);
        copy.filler_words.custom.push("y'all".into());
        copy.variables.insert("company_name".into(), "Joe's".into());
        assert!(copy.problems().is_empty(), "{:?}", copy.problems());

        let mut v2 = template.clone();
        v2.version = 2;
        v2.filler_words.push("anyhow".into());
        v2.scenarios.remove(0);
        let mut custom = copy.scenarios[1].clone();
        custom.id = "tenant_own".into();
        copy.scenarios.push(custom);
        let synced = copy.sync_to(&v2, Some(&template), 99);
        assert_eq!(synced.cloned_from.version, 2);
        assert!(
            synced
                .filler_words
                .inherited
                .contains(&"anyhow".to_string())
        );
        assert_eq!(synced.filler_words.custom, ["y'all"]);
        assert_eq!(synced.variables["company_name"], "Joe's");
        assert!(synced.scenarios.iter().any(|s| s.id == "tenant_own"));
        assert!(
            !synced
                .scenarios
                .iter()
                .any(|s| s.id == template.scenarios[0].id)
        );
    }

    #[test]
    fn problems_name_each_field() {
        let mut copy = ReceptionistSettings::clone_template(&builtin().remove(0), 0);
        copy.escalation_number = Some("555".into());
        copy.variables.insert("nope".into(), "x".into());
        copy.greeting = " ".into();
        let problems = copy.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("greeting"));
    }
}
