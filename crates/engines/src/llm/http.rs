//! The retry loop shared by the HTTP clients: 429 and 5xx (Anthropic's 529 included) are
//! retried honouring `Retry-After`, timeouts and connection errors with backoff; other
//! 4xx answers are refusals. Error texts never include request headers (the API key).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{RequestBuilder, Response};
use serde_json::Value;

use super::{HttpLlmConfig, LlmError};
use crate::http_api;

pub fn client(config: &HttpLlmConfig) -> Result<reqwest::blocking::Client, LlmError> {
    reqwest::blocking::Client::builder()
        .timeout(config.timeout)
        .build()
        .map_err(|e| LlmError::Failed(format!("HTTP client: {e}")))
}

/// Sends the request built by `build` until it succeeds or attempts run out.
pub fn send_json(
    config: &HttpLlmConfig,
    build: impl Fn() -> RequestBuilder,
) -> Result<Value, LlmError> {
    let mut last = String::new();
    for attempt in 0..config.attempts.max(1) {
        if attempt > 0 {
            tracing::debug!(attempt, reason = %last, "retrying the language model");
        }
        let wait = match build().send() {
            Ok(response) if response.status().is_success() => {
                return response
                    .json::<Value>()
                    .map_err(|e| LlmError::Failed(format!("bad response body: {e}")));
            }
            Ok(response) => {
                let status = response.status();
                let retry_after = retry_after(&response);
                let message = error_message(response, status);
                if !http_api::retryable(status) {
                    return Err(LlmError::Refused(message));
                }
                last = message;
                retry_after.unwrap_or_else(|| backoff(attempt))
            }
            Err(e) => {
                last = e.without_url().to_string();
                backoff(attempt)
            }
        };
        if attempt + 1 < config.attempts {
            if wait > config.max_retry_wait {
                break;
            }
            std::thread::sleep(wait);
        }
    }
    Err(LlmError::Unavailable(last))
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 * 2u64.pow(attempt.min(6)))
}

/// `Retry-After` in seconds (the HTTP-date form is treated as absent).
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// `HTTP <status>: <error.message>`, or the status alone.
fn error_message(response: Response, status: StatusCode) -> String {
    let body = response.text().unwrap_or_default();
    http_api::error_message(&body).map_or_else(
        || format!("HTTP {status}"),
        |m| format!("HTTP {status}: {m}"),
    )
}
