//! A small JSON Schema subset for language-model replies: `type`, `required`,
//! `properties`, `items`, `enum`, `minItems`, `minLength`. Hand-written because the full
//! validators pull in remote-reference resolution and many dependencies for rules we
//! do not use; every problem is reported with its JSON pointer.

use serde_json::Value;

pub fn validate(value: &Value, schema: &Value) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    check(value, schema, "", &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn type_matches(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn check(value: &Value, schema: &Value, at: &str, problems: &mut Vec<String>) {
    let here = if at.is_empty() { "/" } else { at };
    if let Some(expected) = schema.get("type").and_then(Value::as_str)
        && !type_matches(value, expected)
    {
        problems.push(format!("{here}: expected {expected}"));
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        problems.push(format!(
            "{here}: must be one of {}",
            Value::Array(options.clone())
        ));
    }
    if let (Some(min), Some(s)) = (
        schema.get("minLength").and_then(Value::as_u64),
        value.as_str(),
    ) && (s.chars().count() as u64) < min
    {
        problems.push(format!("{here}: shorter than {min} characters"));
    }
    if let Some(object) = value.as_object() {
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(key) {
                problems.push(format!("{at}/{key}: required"));
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (key, sub) in properties {
                if let Some(v) = object.get(key) {
                    check(v, sub, &format!("{at}/{key}"), problems);
                }
            }
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < min
        {
            problems.push(format!("{here}: fewer than {min} items"));
        }
        if let Some(sub) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(item, sub, &format!("{at}/{i}"), problems);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn problems_are_listed_with_pointers() {
        let schema = json!({"type": "object", "required": ["summary", "steps"], "properties": {
            "summary": {"type": "string", "minLength": 1},
            "steps": {"type": "array", "items": {"type": "string"}},
            "verdict": {"enum": ["pass", "fail"]}}});
        assert!(super::validate(&json!({"summary": "ok", "steps": ["a"]}), &schema).is_ok());
        let problems = super::validate(
            &json!({"summary": "", "steps": ["a", 2], "verdict": "maybe"}),
            &schema,
        )
        .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("/steps/1")));
        let missing = super::validate(&json!({}), &schema).unwrap_err();
        assert_eq!(missing, vec!["/summary: required", "/steps: required"]);
    }
}
