//! Sends a live call's SMS follow-up (the `sms` job queued by the receptionist when the call
//! ended) through Twilio's Messages API: `POST {api}/2010-04-01/Accounts/{AccountSid}/Messages.json`
//! with the form fields `To`, `From`, `Body` and HTTP basic auth (account sid, auth token). The
//! account is the tenant's `twilio` credential (`account_sid` + `auth_token`), else the
//! platform's. A 429 or 5xx answer, or no answer, is retried with the job's backoff; any other
//! refusal is permanent and keeps Twilio's code and message as the job's reason.
//!
//! Twilio has no idempotency key for Messages: a worker killed after Twilio accepted the message
//! and before its transaction committed sends it again on the retry. The window is one HTTP
//! answer wide; the message sid is recorded in the same transaction that completes the job.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use switchboard_store::StoreResult;
use switchboard_store::auth::twilio::{CREDENTIAL, PlatformTwilio};
use switchboard_store::queue::{self, ClaimedJob};
use switchboard_store::repo::secrets;
use switchboard_store::repo::sms::{self, SMS_JOB};
use switchboard_store::secrets::Keyring;

use crate::stages::StageError;
use crate::worker::Pipeline;

/// Twilio's public REST API.
pub const TWILIO_API_URL: &str = "https://api.twilio.com";

/// What the worker needs to send messages.
#[derive(Clone)]
pub struct Messaging {
    pub keyring: Arc<Keyring>,
    pub platform: Option<PlatformTwilio>,
    /// Base URL of the REST API (`TWILIO_API_URL`).
    pub api_url: String,
    pub http: reqwest::Client,
}

impl Messaging {
    pub fn new(
        keyring: Arc<Keyring>,
        platform: Option<PlatformTwilio>,
        api_url: &str,
    ) -> Messaging {
        Messaging {
            keyring,
            platform,
            api_url: api_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap_or_default(),
        }
    }
}

/// Twilio's error body.
#[derive(serde::Deserialize)]
struct TwilioError {
    code: Option<i64>,
    message: Option<String>,
}

#[derive(serde::Deserialize)]
struct Created {
    sid: String,
}

/// Sends the call's queued message and completes the job; a message already sent or skipped
/// completes it without sending.
pub async fn send(pipeline: &Pipeline, job: &ClaimedJob) -> Result<(), StageError> {
    let Some(messaging) = pipeline.messaging.as_ref() else {
        return Err(StageError::permanent(
            "this worker cannot send SMS (no messaging configured)",
        ));
    };
    let mut tx = pipeline.db.read(&job.scope).await?;
    let message = sms::get(&mut tx, &job.call_id).await?;
    let own = secrets::read(&mut tx, &messaging.keyring, CREDENTIAL).await?;
    tx.commit().await?;
    let Some(message) = message else {
        return Err(StageError::permanent(
            "no SMS message is recorded for this call",
        ));
    };
    let sent = if message.status == "queued" {
        let (account, token) = account(own, messaging.platform.as_ref())?;
        Some(post(messaging, &account, &token, &message).await?)
    } else {
        None
    };
    let mut tx = pipeline.db.write(&job.scope).await?;
    if !queue::complete_in(&mut tx, job).await? {
        return Ok(());
    }
    if let Some(sid) = sent {
        sms::mark_sent(&mut tx, &job.call_id, &sid).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Records a failed attempt on the job and on the message, in one transaction: retried with the
/// job's backoff, or — refused for good, or out of attempts — the job is dead and the message
/// `failed` with the reason. The call's own state is untouched: the follow-up is beside it.
/// Returns whether the job is dead.
pub async fn fail(pipeline: &Pipeline, job: &ClaimedJob, error: &StageError) -> StoreResult<bool> {
    let mut tx = pipeline.db.write(&job.scope).await?;
    let dead = crate::worker::record_failure_in(&mut tx, job, SMS_JOB, error).await?;
    sms::note_failure(&mut tx, &job.call_id, &error.reason, dead).await?;
    tx.commit().await?;
    Ok(dead)
}

/// The account to send from: the tenant's own, else the platform's.
fn account(
    own: Option<secrets::SecretFields>,
    platform: Option<&PlatformTwilio>,
) -> Result<(String, SecretString), StageError> {
    if let Some(fields) = own
        && let (Some(sid), Some(token)) = (fields.get("account_sid"), fields.get("auth_token"))
    {
        return Ok((sid.expose_secret().to_owned(), token.clone()));
    }
    if let Some(platform) = platform
        && let Some(sid) = &platform.account_sid
    {
        return Ok((sid.clone(), platform.auth_token.clone()));
    }
    Err(StageError::permanent(
        "no Twilio account to send from: store the tenant's twilio credential with account_sid \
         and auth_token (PUT /api/v1/credentials/twilio)",
    ))
}

async fn post(
    messaging: &Messaging,
    account: &str,
    token: &SecretString,
    message: &sms::SmsMessage,
) -> Result<String, StageError> {
    let url = format!(
        "{}/2010-04-01/Accounts/{account}/Messages.json",
        messaging.api_url
    );
    let response = messaging
        .http
        .post(&url)
        .basic_auth(account, Some(token.expose_secret()))
        .form(&[
            ("To", message.to_number.as_str()),
            ("From", message.from_number.as_str()),
            ("Body", message.body.as_str()),
        ])
        .send()
        .await
        // Without the URL: reqwest's error text may carry it, and nothing secret belongs there,
        // but the reason should read the same whatever the host.
        .map_err(|e| {
            StageError::retry(format!("Twilio could not be reached: {}", e.without_url()))
        })?;
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    if status.is_success() {
        return serde_json::from_slice::<Created>(&body)
            .map(|created| created.sid)
            .map_err(|_| StageError::retry("Twilio accepted the message without a message sid"));
    }
    let error: Option<TwilioError> = serde_json::from_slice(&body).ok();
    let reason = format!(
        "Twilio refused the message ({}): {}{}",
        status.as_u16(),
        error
            .as_ref()
            .and_then(|e| e.message.clone())
            .unwrap_or_else(|| "no error message".into()),
        error
            .and_then(|e| e.code)
            .map(|code| format!(" (code {code})"))
            .unwrap_or_default()
    );
    if status.as_u16() == 429 || status.is_server_error() {
        Err(StageError::retry(reason))
    } else {
        Err(StageError::permanent(reason))
    }
}
