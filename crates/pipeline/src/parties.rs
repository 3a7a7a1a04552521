//! Direction and agent identification (SPEC §4.5). A party is an agent when its address ends
//! with one of the tenant's agent domains or is one of its agent numbers (compared as digits).
//! Direction: the provider's statement when it gives one; otherwise calling agent → outbound,
//! called agent → inbound, both → internal, neither → unknown. The agent id is the provider's
//! agent field (a string, or an object's `email`/`id`), else the agent party's address.

use serde_json::Value;

use crate::config::ai::AgentDirectory;

/// `+1 (415) 555-0101` → `+14155550101`; `None` when it is not a phone number.
pub fn normalise_number(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => ("+", rest),
        None => ("", trimmed),
    };
    if rest.is_empty()
        || !rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.'))
    {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    (3..=17)
        .contains(&digits.len())
        .then(|| format!("{plus}{digits}"))
}

fn digits(raw: &str) -> String {
    raw.chars().filter(char::is_ascii_digit).collect()
}

impl AgentDirectory {
    pub fn is_agent(&self, party: &str) -> bool {
        let party = party.trim().to_lowercase();
        if party.is_empty() {
            return false;
        }
        let domain_match = self.domains.iter().any(|domain| {
            let domain = domain.trim().trim_start_matches('@').to_lowercase();
            !domain.is_empty()
                && (party.ends_with(&format!("@{domain}"))
                    || party.ends_with(&format!(".{domain}")))
        });
        let number_match = normalise_number(&party).is_some_and(|n| {
            self.numbers
                .iter()
                .any(|agent| !digits(agent).is_empty() && digits(agent) == digits(&n))
        });
        domain_match || number_match
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parties {
    pub direction: String,
    pub calling_party: Option<String>,
    pub called_party: Option<String>,
    pub agent_id: Option<String>,
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// From call metadata (as stored: received fields plus `normalised`).
pub fn identify(meta: &Value, agents: &AgentDirectory) -> Parties {
    let normalised = meta.get("normalised").unwrap_or(&Value::Null);
    let calling = text(normalised.get("calling_party"));
    let called = text(normalised.get("called_party"));
    let is_agent = |party: &Option<String>| party.as_deref().is_some_and(|p| agents.is_agent(p));
    let (calling_agent, called_agent) = (is_agent(&calling), is_agent(&called));
    let stated = text(normalised.get("direction")).filter(|d| d != "unknown");
    let direction = stated.unwrap_or_else(|| {
        match (calling_agent, called_agent) {
            (true, false) => "outbound",
            (false, true) => "inbound",
            (true, true) => "internal",
            (false, false) => "unknown",
        }
        .to_owned()
    });
    let provider_agent = text(normalised.get("agent")).or_else(|| {
        let agent = meta.get("agent")?;
        text(agent.get("email")).or_else(|| text(agent.get("id")))
    });
    let party_agent = if calling_agent {
        calling.clone()
    } else if called_agent {
        called.clone()
    } else {
        None
    };
    Parties {
        direction,
        agent_id: provider_agent.or(party_agent).map(|a| a.to_lowercase()),
        calling_party: calling,
        called_party: called,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agents() -> AgentDirectory {
        AgentDirectory {
            domains: vec!["acme.example".into()],
            numbers: vec!["+1 800 555 0100".into()],
        }
    }

    fn meta(normalised: Value) -> Value {
        json!({ "normalised": normalised })
    }

    #[test]
    fn direction_from_agent_parties() {
        let a = agents();
        let cases = [
            (
                json!({"calling_party": "ana@acme.example", "called_party": "+14155550101"}),
                "outbound",
                Some("ana@acme.example"),
            ),
            (
                json!({"calling_party": "+14155550101", "called_party": "+18005550100"}),
                "inbound",
                Some("+18005550100"),
            ),
            (
                json!({"calling_party": "ana@acme.example", "called_party": "bob@sub.acme.example"}),
                "internal",
                Some("ana@acme.example"),
            ),
            (
                json!({"calling_party": "+14155550101", "called_party": "eve@acme.example.evil"}),
                "unknown",
                None,
            ),
            (json!({}), "unknown", None),
        ];
        for (normalised, direction, agent) in cases {
            let parties = identify(&meta(normalised.clone()), &a);
            assert_eq!(parties.direction, direction, "{normalised}");
            assert_eq!(parties.agent_id.as_deref(), agent, "{normalised}");
        }
    }

    #[test]
    fn provider_statement_and_agent_field_win() {
        let parties = identify(
            &json!({"agent": {"id": "agent-7", "email": "Sarah@Acme.example"},
                    "normalised": {"direction": "outbound", "calling_party": "+14155550101", "called_party": "+18005550100"}}),
            &agents(),
        );
        assert_eq!(parties.direction, "outbound");
        assert_eq!(parties.agent_id.as_deref(), Some("sarah@acme.example"));
    }

    #[test]
    fn numbers_normalise() {
        assert_eq!(
            normalise_number("+1 (415) 555-0101").as_deref(),
            Some("+14155550101")
        );
        assert_eq!(normalise_number("call me"), None);
        assert_eq!(normalise_number("+"), None);
    }
}
