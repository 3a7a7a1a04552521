//! Normalising provider metadata (SPEC §3: "provider metadata as received (+ normalised fields)").
//! Providers name the same facts differently; the pipeline reads the SPEC names. The received
//! fields are kept as they are, and a `normalised` object is added with the SPEC names found
//! under any known alias.

use serde_json::{Map, Value};

/// SPEC field → aliases seen in provider payloads, in order of preference.
const ALIASES: &[(&str, &[&str])] = &[
    (
        "calling_party",
        &[
            "calling_party",
            "from",
            "caller",
            "caller_number",
            "callerNumber",
            "ani",
            "source_number",
        ],
    ),
    (
        "called_party",
        &[
            "called_party",
            "to",
            "callee",
            "called_number",
            "calledNumber",
            "dnis",
            "destination_number",
        ],
    ),
    (
        "started_at",
        &[
            "started_at",
            "start_time",
            "startTime",
            "call_start",
            "date_time",
            "timestamp",
        ],
    ),
    ("ended_at", &["ended_at", "end_time", "endTime", "call_end"]),
    (
        "direction",
        &["direction", "call_direction", "callDirection"],
    ),
    (
        "agent",
        &[
            "agent",
            "agent_id",
            "agentId",
            "agent_email",
            "user",
            "extension",
        ],
    ),
    (
        "duration_seconds",
        &["duration_seconds", "duration", "durationSeconds", "length"],
    ),
];

/// `meta` with a `normalised` object holding the SPEC fields it could find. Non-objects and
/// values that are neither strings nor numbers are left out of `normalised`.
pub fn with_normalised_fields(mut meta: Map<String, Value>) -> Map<String, Value> {
    let mut normalised = Map::new();
    for (field, aliases) in ALIASES {
        let found = aliases.iter().find_map(|alias| match meta.get(*alias) {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                Some(Value::String(s.trim().to_owned()))
            }
            Some(Value::Number(n)) => Some(Value::Number(n.clone())),
            _ => None,
        });
        if let Some(value) = found {
            normalised.insert((*field).to_owned(), value);
        }
    }
    if let Some(Value::String(direction)) = normalised.get("direction") {
        let lower = direction.to_lowercase();
        let canonical = match lower.as_str() {
            "in" | "inbound" | "incoming" => "inbound",
            "out" | "outbound" | "outgoing" => "outbound",
            "internal" => "internal",
            _ => "unknown",
        };
        normalised.insert("direction".into(), Value::String(canonical.into()));
    }
    meta.insert("normalised".into(), Value::Object(normalised));
    meta
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(value: Value) -> Value {
        Value::Object(with_normalised_fields(value.as_object().unwrap().clone()))
    }

    #[test]
    fn aliases_map_to_spec_names_and_received_fields_stay() {
        let out = run(
            json!({"callerNumber": "+15551234567", "to": "+15557654321", "startTime": "2026-11-20T10:00:00Z",
                             "callDirection": "Incoming", "agentId": "ana@acme.test", "duration": 93, "queue": "support"}),
        );
        assert_eq!(
            out["normalised"],
            json!({
                "calling_party": "+15551234567", "called_party": "+15557654321", "started_at": "2026-11-20T10:00:00Z",
                "direction": "inbound", "agent": "ana@acme.test", "duration_seconds": 93,
            })
        );
        assert_eq!(out["queue"], "support");
        assert_eq!(out["callerNumber"], "+15551234567");
    }

    #[test]
    fn spec_names_win_over_aliases_and_junk_is_ignored() {
        let out = run(
            json!({"calling_party": "+1", "from": "+2", "direction": "sideways", "agent": {"id": 1}}),
        );
        assert_eq!(
            out["normalised"],
            json!({"calling_party": "+1", "direction": "unknown"})
        );
    }
}
