//! What the HTTP engines (remote speech-to-text, language models) share about the APIs
//! they call: which answers are worth retrying, and the human message in an error body.

use reqwest::StatusCode;
use serde_json::Value;

/// 429 and every 5xx (Anthropic's 529 "overloaded" included) are temporary.
pub(crate) fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// `error.message` of an OpenAI- or Anthropic-style error body, if there is one.
pub(crate) fn error_message(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    value
        .pointer("/error/message")
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_messages() {
        assert!(retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(retryable(StatusCode::from_u16(529).unwrap()));
        assert!(!retryable(StatusCode::UNAUTHORIZED));
        let anthropic =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(error_message(anthropic).as_deref(), Some("Overloaded"));
        assert_eq!(error_message("<html>bad gateway</html>"), None);
    }
}
