//! The OpenAI-compatible and Anthropic clients against loopback servers that speak each
//! API's wire format: replies and usage, 429 with Retry-After, 5xx/529, refusals,
//! timeouts, and `json()` retrying an invalid reply.

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::SecretString;
use serde_json::{Value, json};
use switchboard_engines::llm::{
    Anthropic, ChatOptions, HttpLlmConfig, LanguageModel, LlmError, Message, OpenAiCompatible,
};

const KEY: &str = "sk-planted-secret-value";

/// What the fake answers next; `Reply::Text` is wrapped in the API's reply shape.
#[derive(Clone)]
enum Reply {
    Text(&'static str),
    Status(u16, Option<&'static str>),
    Hang,
}

#[derive(Default)]
struct Fake {
    script: VecDeque<Reply>,
    requests: Vec<(HeaderMap, Value)>,
}

type Shared = Arc<Mutex<Fake>>;

fn serve(script: Vec<Reply>) -> (String, Shared) {
    let fake: Shared = Arc::new(Mutex::new(Fake {
        script: script.into(),
        requests: Vec::new(),
    }));
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(openai))
        .route("/v1/messages", post(anthropic))
        .with_state(fake.clone());
    (format!("{}/v1", support::serve_on_loopback(app)), fake)
}

async fn next(fake: &Shared, headers: HeaderMap, body: Value) -> Reply {
    let mut fake = fake.lock().unwrap();
    fake.requests.push((headers, body));
    fake.script.pop_front().unwrap_or(Reply::Status(500, None))
}

fn status(code: u16, retry_after: Option<&'static str>, body: Value) -> Response {
    let mut response = (StatusCode::from_u16(code).unwrap(), Json(body)).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", seconds.parse().unwrap());
    }
    response
}

async fn openai(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    match next(&fake, headers, body).await {
        Reply::Text(text) => Json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
        }))
        .into_response(),
        Reply::Status(code, retry) => status(
            code,
            retry,
            json!({"error": {"message": format!("error {code}"), "type": "invalid_request_error", "code": null}}),
        ),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            StatusCode::OK.into_response()
        }
    }
}

async fn anthropic(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    match next(&fake, headers, body).await {
        Reply::Text(text) => Json(json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 20, "output_tokens": 7}
        }))
        .into_response(),
        Reply::Status(code, retry) => {
            let kind = if code == 529 {
                "overloaded_error"
            } else {
                "invalid_request_error"
            };
            status(
                code,
                retry,
                json!({"type": "error", "error": {"type": kind, "message": format!("error {code}")}}),
            )
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            StatusCode::OK.into_response()
        }
    }
}

fn config(base: &str) -> HttpLlmConfig {
    let mut config = HttpLlmConfig::new(base, "test-model", Some(SecretString::from(KEY)));
    config.timeout = Duration::from_millis(500);
    config
}

fn ask() -> Vec<Message> {
    vec![Message::system("You are terse."), Message::user("Say hi.")]
}

#[test]
fn openai_reply_usage_and_auth() {
    let (base, fake) = serve(vec![Reply::Text("hi")]);
    let model = OpenAiCompatible::new(config(&base)).unwrap();
    let reply = model.chat(&ask(), &ChatOptions::default()).unwrap();
    assert_eq!(
        (reply.text.as_str(), reply.input_tokens, reply.output_tokens),
        ("hi", 12, 5)
    );
    let fake = fake.lock().unwrap();
    let (headers, body) = &fake.requests[0];
    assert_eq!(headers["authorization"], format!("Bearer {KEY}"));
    assert_eq!(body["model"], "test-model");
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "You are terse."})
    );
}

#[test]
fn openai_429_honours_retry_after_then_succeeds() {
    let (base, fake) = serve(vec![
        Reply::Status(429, Some("1")),
        Reply::Status(503, None),
        Reply::Text("ok"),
    ]);
    let started = Instant::now();
    let reply = OpenAiCompatible::new(config(&base))
        .unwrap()
        .chat(&ask(), &ChatOptions::default())
        .unwrap();
    assert_eq!(reply.text, "ok");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(fake.lock().unwrap().requests.len(), 3);
}

#[test]
fn refusals_timeouts_and_exhausted_retries_are_typed() {
    let (base, fake) = serve(vec![Reply::Status(401, None)]);
    let err = OpenAiCompatible::new(config(&base))
        .unwrap()
        .chat(&ask(), &ChatOptions::default())
        .unwrap_err();
    assert!(
        matches!(&err, LlmError::Refused(m) if m.contains("error 401")),
        "{err}"
    );
    assert!(!err.retryable());
    assert_eq!(
        fake.lock().unwrap().requests.len(),
        1,
        "a refusal is not retried"
    );

    let (base, _) = serve(vec![Reply::Hang, Reply::Hang, Reply::Hang]);
    let err = OpenAiCompatible::new(config(&base))
        .unwrap()
        .chat(&ask(), &ChatOptions::default())
        .unwrap_err();
    assert!(err.retryable(), "{err}");

    // A Retry-After beyond the allowed wait gives up at once rather than blocking.
    let (base, fake) = serve(vec![Reply::Status(429, Some("3600"))]);
    let err = OpenAiCompatible::new(config(&base))
        .unwrap()
        .chat(&ask(), &ChatOptions::default())
        .unwrap_err();
    assert!(err.retryable());
    assert_eq!(fake.lock().unwrap().requests.len(), 1);
    assert!(!format!("{err} {err:?}").contains(KEY));
}

#[test]
fn json_retries_an_invalid_reply_with_the_problem() {
    let schema = json!({"type": "object", "required": ["summary"], "properties": {"summary": {"type": "string"}}});
    let (base, fake) = serve(vec![
        Reply::Text("Here you go: {\"summary\": 3}"),
        Reply::Text("{\"summary\": \"Caller moved house.\"}"),
    ]);
    let (value, usage) = OpenAiCompatible::new(config(&base))
        .unwrap()
        .json(&ask(), &schema)
        .unwrap();
    assert_eq!(value["summary"], "Caller moved house.");
    assert_eq!(usage.input_tokens, 24);
    let fake = fake.lock().unwrap();
    let second = &fake.requests[1].1["messages"];
    let last = second.as_array().unwrap().last().unwrap();
    assert!(
        last["content"]
            .as_str()
            .unwrap()
            .contains("/summary: expected string"),
        "{last}"
    );

    drop(fake);
    let (base, _) = serve(vec![
        Reply::Text("no"),
        Reply::Text("still no"),
        Reply::Text("{}"),
    ]);
    let err = OpenAiCompatible::new(config(&base))
        .unwrap()
        .json(&ask(), &schema)
        .unwrap_err();
    assert!(
        matches!(err, LlmError::InvalidJson(ref m) if m.contains("required")),
        "{err}"
    );
}

#[test]
fn anthropic_system_field_headers_and_overload_retry() {
    let (base, fake) = serve(vec![Reply::Status(529, None), Reply::Text("hello")]);
    let model = Anthropic::new(config(&base)).unwrap();
    let messages = vec![
        Message::system("Be brief."),
        Message::user("One."),
        Message::user("Two."),
    ];
    let reply = model.chat(&messages, &ChatOptions::default()).unwrap();
    assert_eq!(
        (reply.text.as_str(), reply.input_tokens, reply.output_tokens),
        ("hello", 20, 7)
    );
    let fake = fake.lock().unwrap();
    assert_eq!(fake.requests.len(), 2);
    let (headers, body) = &fake.requests[1];
    assert_eq!(headers["x-api-key"], KEY);
    assert_eq!(headers["anthropic-version"], "2023-06-01");
    assert_eq!(body["system"], "Be brief.");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "One.\n\nTwo."}])
    );

    drop(fake);
    let (base, _) = serve(vec![Reply::Status(400, None)]);
    let err = Anthropic::new(config(&base))
        .unwrap()
        .chat(&messages, &ChatOptions::default())
        .unwrap_err();
    assert!(
        matches!(&err, LlmError::Refused(m) if m.contains("error 400")),
        "{err}"
    );
}
