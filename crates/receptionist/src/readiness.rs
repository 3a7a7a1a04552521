//! The readiness score (SPEC §8): how complete a tenant's receptionist configuration is, and what
//! is missing. Each check has a weight; the score is the weighted share of checks passed, 0–100.

use serde::Serialize;

use crate::placeholders;
use crate::settings::ReceptionistSettings;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub passed: bool,
    pub weight: u32,
    /// What to do, when the check fails; what is fine, when it passes.
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Readiness {
    pub score: u32,
    pub ready: bool,
    pub checks: Vec<Check>,
    /// Placeholders used by the greeting or a scenario whose variable is not set: callers hear
    /// fallback wording instead.
    pub warnings: Vec<String>,
}

/// What the score looks at besides the settings.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub phone_numbers: usize,
    pub knowledge_entries: usize,
    pub rubric_present: bool,
    pub newer_template_version: Option<i64>,
}

pub fn score(settings: Option<&ReceptionistSettings>, inputs: &Inputs) -> Readiness {
    let mut checks = Vec::new();
    let mut warnings = Vec::new();
    let Some(settings) = settings else {
        checks.push(Check {
            id: "template",
            passed: false,
            weight: 40,
            message: "clone an industry template (POST /api/v1/receptionist/clone)".into(),
        });
        return finish(checks, warnings, inputs);
    };
    checks.push(Check {
        id: "template",
        passed: true,
        weight: 10,
        message: format!(
            "cloned from {} v{}",
            settings.cloned_from.template_id, settings.cloned_from.version
        ),
    });
    let missing_required: Vec<&str> = settings
        .variable_definitions
        .iter()
        .filter(|d| d.required)
        .filter(|d| {
            settings
                .variables
                .get(&d.name)
                .is_none_or(|v| v.trim().is_empty())
        })
        .map(|d| d.name.as_str())
        .collect();
    checks.push(Check {
        id: "required_variables",
        passed: missing_required.is_empty(),
        weight: 30,
        message: if missing_required.is_empty() {
            "every required variable is set".into()
        } else {
            format!(
                "set the required variables: {}",
                missing_required.join(", ")
            )
        },
    });
    let vars = settings.reply_variables();
    let greeting = placeholders::fill(&settings.greeting, &vars);
    checks.push(Check {
        id: "greeting",
        passed: !settings.greeting.trim().is_empty() && !greeting.degraded(),
        weight: 15,
        message: if greeting.degraded() {
            format!("the greeting needs: {}", greeting.missing.join(", "))
        } else {
            "greeting set".into()
        },
    });
    checks.push(Check {
        id: "phone_number",
        passed: inputs.phone_numbers > 0,
        weight: 20,
        message: if inputs.phone_numbers > 0 {
            format!("{} number(s) assigned", inputs.phone_numbers)
        } else {
            "no phone number is assigned: ask the platform administrator for one".into()
        },
    });
    checks.push(Check {
        id: "knowledge",
        passed: inputs.knowledge_entries > 0,
        weight: 10,
        message: if inputs.knowledge_entries > 0 {
            format!("{} knowledge entries", inputs.knowledge_entries)
        } else {
            "add knowledge Q&A entries (POST /api/v1/receptionist/knowledge)".into()
        },
    });
    checks.push(Check {
        id: "escalation_number",
        passed: settings.escalation_number.is_some(),
        weight: 5,
        message: if settings.escalation_number.is_some() {
            "escalation number set".into()
        } else {
            "set an escalation number, or transfers become messages".into()
        },
    });
    for scenario in &settings.scenarios {
        let filled = placeholders::fill(&scenario.reply, &vars);
        if filled.degraded() {
            warnings.push(format!(
                "scenario {} uses unset variable(s) {}: callers hear fallback wording",
                scenario.id,
                filled.missing.join(", ")
            ));
        }
    }
    if let Some(version) = inputs.newer_template_version {
        warnings.push(format!(
            "template {} v{version} is available (you have v{}); sync when ready",
            settings.cloned_from.template_id, settings.cloned_from.version
        ));
    }
    finish(checks, warnings, inputs)
}

fn finish(mut checks: Vec<Check>, warnings: Vec<String>, inputs: &Inputs) -> Readiness {
    checks.push(Check {
        id: "rubric",
        passed: inputs.rubric_present,
        weight: 10,
        message: if inputs.rubric_present {
            "QA rubric present".into()
        } else {
            "write a QA rubric (PUT /api/v1/config/qa)".into()
        },
    });
    let total: u32 = checks.iter().map(|c| c.weight).sum();
    let passed: u32 = checks.iter().filter(|c| c.passed).map(|c| c.weight).sum();
    let score = (passed * 100).checked_div(total).unwrap_or(0);
    Readiness {
        score,
        ready: checks.iter().all(|c| c.passed),
        checks,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::builtin;

    #[test]
    fn a_fresh_clone_lists_what_is_missing() {
        let settings = ReceptionistSettings::clone_template(&builtin().remove(3), 0);
        let r = score(
            Some(&settings),
            &Inputs {
                rubric_present: true,
                ..Inputs::default()
            },
        );
        assert!(!r.ready);
        let failed: Vec<&str> = r
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.id)
            .collect();
        assert_eq!(
            failed,
            [
                "required_variables",
                "greeting",
                "phone_number",
                "knowledge",
                "escalation_number"
            ]
        );
        assert_eq!(r.score, 20);
        assert!(r.warnings.iter().any(|w| w.contains("service_call_price")));
    }

    #[test]
    fn a_complete_configuration_scores_100() {
        let mut settings = ReceptionistSettings::clone_template(&builtin().remove(0), 0);
        for (k, v) in [
            ("company_name", "Acme"),
            ("business_hours", "9 to 5"),
            ("address", "1 Main St"),
            ("website", "acme dot example"),
        ] {
            settings.variables.insert(k.into(), v.into());
        }
        settings.escalation_number = Some("+18005550100".into());
        let inputs = Inputs {
            phone_numbers: 1,
            knowledge_entries: 3,
            rubric_present: true,
            newer_template_version: None,
        };
        let r = score(Some(&settings), &inputs);
        assert_eq!((r.score, r.ready), (100, true), "{r:?}");
        assert!(r.warnings.is_empty());
    }
}
