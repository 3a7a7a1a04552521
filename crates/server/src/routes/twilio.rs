//! Twilio voice webhooks (SPEC §6): `POST /twilio/voice`, `/twilio/gather`, `/twilio/status`.
//! `X-Twilio-Signature` is verified before anything else (see `store::auth::twilio`); unsigned or
//! mis-signed requests get 403 and touch nothing. The URL that was signed is the configured
//! public base URL (for proxies) plus the request's path and query; without one, the request's
//! own scheme (`X-Forwarded-Proto`) and `Host`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use switchboard_store::TenantScope;
use switchboard_store::auth::twilio::TwilioCaller;

use crate::error::{ApiError, ApiResult};
use crate::receptionist::conversation::{self, CallInfo};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/twilio/voice", post(voice))
        .route("/twilio/gather", post(gather))
        .route("/twilio/status", post(status))
}

fn twiml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

/// The URL Twilio signed.
fn signed_url(state: &AppState, headers: &HeaderMap, uri: &http::Uri) -> String {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    if let Some(base) = &state.config.public_url {
        return format!("{}{path}", base.trim_end_matches('/'));
    }
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|v| *v == "https")
        .unwrap_or("http");
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    format!("{scheme}://{host}{path}")
}

/// A verified webhook: its form parameters and whom it is for.
struct Verified {
    params: Vec<(String, String)>,
    caller: TwilioCaller,
}

impl Verified {
    fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn call(&self) -> ApiResult<CallInfo<'_>> {
        let call_sid = self
            .get("CallSid")
            .filter(|s| !s.is_empty() && s.len() <= 64)
            .ok_or_else(|| ApiError::bad_request("CallSid is required"))?;
        Ok(CallInfo {
            call_sid,
            from: self.get("From").unwrap_or_default(),
            to: self.get("To").unwrap_or_default(),
        })
    }

    fn scope(&self) -> Option<&TenantScope> {
        match &self.caller {
            TwilioCaller::Tenant(scope) => Some(scope),
            TwilioCaller::Unrouted => None,
        }
    }
}

async fn verify(
    state: &AppState,
    headers: &HeaderMap,
    uri: &http::Uri,
    body: &Bytes,
) -> ApiResult<Verified> {
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok());
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| ApiError::bad_request("the body must be application/x-www-form-urlencoded"))?;
    let url = signed_url(state, headers, uri);
    let caller = state
        .auth
        .twilio(
            &state.keyring,
            state.receptionist.twilio.as_ref(),
            &url,
            &params,
            signature,
        )
        .await
        .map_err(|err| match err {
            switchboard_store::auth::AuthError::Store(store) => ApiError::from(store),
            _ => {
                tracing::warn!(url, "Twilio webhook refused: missing or invalid signature");
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "invalid_signature",
                    "the X-Twilio-Signature header is missing or does not match this request",
                )
            }
        })?;
    Ok(Verified { params, caller })
}

async fn voice(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> ApiResult<Response> {
    let verified = verify(&state, &headers, &uri, &body).await?;
    let Some(scope) = verified.scope() else {
        return Ok(twiml(conversation::unrouted()));
    };
    let xml = conversation::greet(&state, scope, verified.call()?).await?;
    Ok(twiml(xml))
}

async fn gather(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> ApiResult<Response> {
    let verified = verify(&state, &headers, &uri, &body).await?;
    let Some(scope) = verified.scope() else {
        return Ok(twiml(conversation::unrouted()));
    };
    let turn: i64 = uri
        .query()
        .and_then(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .ok()?
                .into_iter()
                .find(|(k, _)| k == "turn")
                .and_then(|(_, v)| v.parse().ok())
        })
        .ok_or_else(|| ApiError::bad_request("the gather URL needs ?turn=N"))?;
    let speech = verified.get("SpeechResult").unwrap_or_default().to_owned();
    let xml = conversation::reply(&state, scope, verified.call()?, turn, &speech).await?;
    Ok(twiml(xml))
}

async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    body: Bytes,
) -> ApiResult<Response> {
    let verified = verify(&state, &headers, &uri, &body).await?;
    if let Some(scope) = verified.scope() {
        let call_status = verified.get("CallStatus").unwrap_or("completed").to_owned();
        let final_status = matches!(
            call_status.as_str(),
            "completed" | "busy" | "no-answer" | "failed" | "canceled"
        );
        if final_status {
            let duration = verified.get("CallDuration").and_then(|d| d.parse().ok());
            conversation::finish(&state, scope, verified.call()?, &call_status, duration).await?;
        }
    }
    Ok(twiml(
        switchboard_receptionist::twiml::Response::new().render(),
    ))
}
