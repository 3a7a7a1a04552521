//! A tenant's configuration documents (SPEC §3: `config/<t>/ai-config.json` and
//! `qa-config.json`), their versioned schemas, and validation that names every problem. The
//! schemas are documented in `docs/config.md`.

pub mod ai;
pub mod qa;

pub use ai::AiConfig;
pub use qa::QaConfig;

/// Every problem found, each a sentence naming where it is.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct ConfigProblems(pub Vec<String>);

/// Parses a document, turning serde's first error into a problem list.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &str,
) -> Result<T, ConfigProblems> {
    serde_json::from_slice(bytes).map_err(|e| ConfigProblems(vec![format!("{what}: {e}")]))
}

/// Fields of `object` not in `known`, as problems prefixed with `at`.
pub(crate) fn unknown_fields(
    object: &serde_json::Value,
    known: &[&str],
    at: &str,
    problems: &mut Vec<String>,
) {
    if let Some(map) = object.as_object() {
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                problems.push(format!(
                    "{at}: unknown field \"{key}\" (known: {})",
                    known.join(", ")
                ));
            }
        }
    }
}
