//! Global industry templates (SPEC §8): platform-owned, versioned. The built-in ones ship in the
//! binary (`templates/*.json`); a platform admin can publish a new version of any template, which
//! never changes a tenant's copy.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// What a scenario does after its reply is spoken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionHook {
    /// Keep listening.
    None,
    /// Transfer to the tenant's escalation number (`<Dial>`).
    Escalate,
    OfferScheduling,
    TakeMessage,
    /// Send an SMS follow-up after the call (recorded on the turn for the follow-up job).
    SendSms,
    HangUp,
}

impl ActionHook {
    pub const ALL: [ActionHook; 6] = [
        ActionHook::None,
        ActionHook::Escalate,
        ActionHook::OfferScheduling,
        ActionHook::TakeMessage,
        ActionHook::SendSms,
        ActionHook::HangUp,
    ];

    /// The name stored on a turn and written in templates (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            ActionHook::None => "none",
            ActionHook::Escalate => "escalate",
            ActionHook::OfferScheduling => "offer_scheduling",
            ActionHook::TakeMessage => "take_message",
            ActionHook::SendSms => "send_sms",
            ActionHook::HangUp => "hang_up",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub category: String,
    /// Phrases a caller might say; matched after filler words are stripped.
    pub triggers: Vec<String>,
    /// The reply, with `{placeholders}` filled from the tenant's variables.
    pub reply: String,
    pub action: ActionHook,
    /// For `send_sms`: the text message sent to the caller after the call, with
    /// `{placeholders}`; without one, the spoken reply is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UrgencyKeyword {
    pub word: String,
    pub weight: f32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDefinition {
    pub name: String,
    pub description: String,
    pub required: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileField {
    pub name: String,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviours {
    pub tone: String,
    pub pace: String,
    pub emotion: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    pub version: i64,
    pub name: String,
    pub description: String,
    pub greeting: String,
    pub personality: String,
    pub behaviours: Behaviours,
    pub action_hooks: Vec<ActionHook>,
    pub filler_words: Vec<String>,
    pub urgency_keywords: Vec<UrgencyKeyword>,
    /// The summed weight of urgency keywords at which a call is escalated.
    pub urgency_threshold: f32,
    pub variables: Vec<VariableDefinition>,
    pub scenarios: Vec<Scenario>,
    pub profile_fields: Vec<ProfileField>,
    /// The caller's quick bio, e.g. `{name} | {city} | Client since {client_since}`.
    pub quick_bio: String,
}

/// The templates that ship with the binary; the platform's template table is seeded from them.
pub fn builtin() -> Vec<Template> {
    [
        include_str!("../templates/universal.json"),
        include_str!("../templates/insurance-agency.json"),
        include_str!("../templates/real-estate-agency.json"),
        include_str!("../templates/plumbing-hvac.json"),
    ]
    .iter()
    .map(|raw| Template::parse(raw.as_bytes()).expect("a built-in template is valid"))
    .collect()
}

/// Template ids: lowercase letters, digits and '-', 1–60 characters.
pub fn valid_id(id: &str) -> bool {
    (1..=60).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Template {
    /// Parses and validates a template document; every problem is listed.
    pub fn parse(bytes: &[u8]) -> Result<Template, Vec<String>> {
        let template: Template =
            serde_json::from_slice(bytes).map_err(|e| vec![format!("invalid JSON: {e}")])?;
        let problems = template.problems();
        if problems.is_empty() {
            Ok(template)
        } else {
            Err(problems)
        }
    }

    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !valid_id(&self.id) {
            problems.push("id: use 1 to 60 lowercase letters, digits or '-'".into());
        }
        if self.version < 1 {
            problems.push("version: must be 1 or more".into());
        }
        if self.name.trim().is_empty() {
            problems.push("name: must not be empty".into());
        }
        if self.greeting.trim().is_empty() {
            problems.push("greeting: must not be empty".into());
        }
        if !(0.0..=10.0).contains(&self.urgency_threshold) || self.urgency_threshold == 0.0 {
            problems.push("urgency_threshold: must be above 0 and at most 10".into());
        }
        let defined: BTreeSet<&str> = self.variables.iter().map(|v| v.name.as_str()).collect();
        if defined.len() != self.variables.len() {
            problems.push("variables: names must be unique".into());
        }
        problems.extend(scenario_problems(&self.scenarios, &self.action_hooks));
        problems.extend(keyword_problems(&self.urgency_keywords, "urgency_keywords"));
        let fields: BTreeSet<&str> = self
            .profile_fields
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        for name in crate::placeholders::names(&self.quick_bio) {
            if !fields.contains(name.as_str()) {
                problems.push(format!(
                    "quick_bio: {{{name}}} is not one of the profile_fields"
                ));
            }
        }
        problems
    }
}

/// The longest follow-up text a scenario may define (Twilio's limit for one message body).
pub const SMS_MAX_CHARS: usize = 1600;

/// Problems of a scenario list (shared by templates and a tenant's copy).
pub fn scenario_problems(scenarios: &[Scenario], hooks: &[ActionHook]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    for (i, s) in scenarios.iter().enumerate() {
        let at = format!("scenarios[{i}]");
        if s.id.trim().is_empty() || !ids.insert(s.id.as_str()) {
            problems.push(format!("{at}.id: must be present and unique"));
        }
        if s.triggers.iter().all(|t| t.trim().is_empty()) {
            problems.push(format!("{at}.triggers: at least one trigger phrase"));
        }
        if s.reply.trim().is_empty() {
            problems.push(format!("{at}.reply: must not be empty"));
        }
        if let Some(sms) = &s.sms
            && (sms.trim().is_empty() || sms.chars().count() > SMS_MAX_CHARS)
        {
            problems.push(format!(
                "{at}.sms: between 1 and {SMS_MAX_CHARS} characters"
            ));
        }
        if !hooks.contains(&s.action) {
            problems.push(format!(
                "{at}.action: {:?} is not one of the action hooks",
                s.action
            ));
        }
    }
    problems
}

pub fn keyword_problems(keywords: &[UrgencyKeyword], at: &str) -> Vec<String> {
    keywords
        .iter()
        .enumerate()
        .filter_map(|(i, k)| {
            if k.word.trim().is_empty() {
                Some(format!("{at}[{i}].word: must not be empty"))
            } else if !(0.0..=1.0).contains(&k.weight) {
                Some(format!("{at}[{i}].weight: between 0 and 1"))
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_are_valid_and_cover_the_four_industries() {
        let ids: Vec<String> = builtin().into_iter().map(|t| t.id).collect();
        assert_eq!(
            ids,
            [
                "universal",
                "insurance-agency",
                "real-estate-agency",
                "plumbing-hvac"
            ]
        );
    }

    #[test]
    fn action_hook_names_are_their_serde_names() {
        for hook in ActionHook::ALL {
            assert_eq!(serde_json::to_value(hook).unwrap(), hook.as_str());
        }
    }

    #[test]
    fn problems_are_listed_together() {
        let mut t = builtin().remove(0);
        t.id = "Bad Id".into();
        t.scenarios[0].triggers.clear();
        t.quick_bio = "{nope}".into();
        t.scenarios[1].sms = Some("x".repeat(SMS_MAX_CHARS + 1));
        let problems = t.problems();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.ends_with(".sms: between 1 and 1600 characters")),
            "{problems:?}"
        );
    }
}
