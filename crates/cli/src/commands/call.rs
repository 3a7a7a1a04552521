//! `switchboard call simulate`: a phone call without a phone. It plays Twilio: posts the voice
//! webhook, then one gather per utterance, then the completed status — each request signed the
//! way Twilio signs (`X-Twilio-Signature`) with the auth token of the tenant that owns `--to`
//! (its `twilio` credential), else the platform's (`TWILIO_AUTH_TOKEN`) — and prints what the
//! receptionist says. Against `--url` (a running server) or, by default, the server's router
//! in this process on the same database.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use axum::body::Body;
use secrecy::ExposeSecret;
use switchboard_receptionist::twiml::{self, Verb};
use switchboard_store::auth::twilio::{self, CREDENTIAL};
use switchboard_store::repo::{phone_numbers, secrets};
use tower::ServiceExt;

use crate::context::Context;

pub struct Simulation {
    pub to: String,
    pub from: String,
    pub url: Option<String>,
    pub utterances: Vec<String>,
}

enum Transport {
    InProcess(axum::Router),
    Http(reqwest::Client),
}

struct Caller {
    transport: Transport,
    /// The base URL the signatures cover.
    base: String,
    token: String,
    account_sid: Option<String>,
    call_sid: String,
    from: String,
    to: String,
}

impl Caller {
    async fn post(&self, path: &str, extra: &[(&str, &str)]) -> anyhow::Result<String> {
        let mut params: Vec<(String, String)> = vec![
            ("CallSid".into(), self.call_sid.clone()),
            ("From".into(), self.from.clone()),
            ("To".into(), self.to.clone()),
            ("Direction".into(), "inbound".into()),
        ];
        if let Some(sid) = &self.account_sid {
            params.push(("AccountSid".into(), sid.clone()));
        }
        params.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let url = format!("{}{path}", self.base);
        let signature = twilio::signature(&self.token, &url, &params);
        let body = serde_urlencoded::to_string(&params)?;
        let (status, text) = match &self.transport {
            Transport::InProcess(router) => {
                let host = url::Url::parse(&self.base)?
                    .host_str()
                    .unwrap_or("localhost")
                    .to_owned();
                let request = http::Request::post(path)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("host", host)
                    .header("x-twilio-signature", signature)
                    .body(Body::from(body))?;
                let response = router.clone().oneshot(request).await?;
                let status = response.status();
                let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
                (status, String::from_utf8_lossy(&bytes).into_owned())
            }
            Transport::Http(client) => {
                let response = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("x-twilio-signature", signature)
                    .body(body)
                    .send()
                    .await
                    .with_context(|| format!("POST {url}"))?;
                let status = response.status();
                (status, response.text().await?)
            }
        };
        if !status.is_success() {
            bail!("{path} answered {status}: {text}");
        }
        Ok(text)
    }
}

/// Prints what the receptionist said; returns the next gather URL, or `None` when the call ends.
fn speak(xml: &str) -> anyhow::Result<Option<String>> {
    let response = twiml::parse(xml).map_err(|e| anyhow::anyhow!("unreadable TwiML: {e}"))?;
    let mut next = None;
    for verb in response.verbs {
        match verb {
            Verb::Say { text, .. } => {
                if next.is_none() {
                    println!("receptionist: {text}");
                }
            }
            Verb::Gather { action, prompt, .. } => {
                if let Some(prompt) = prompt
                    && let Verb::Say { text, .. } = *prompt
                {
                    println!("receptionist: {text}");
                }
                next = Some(action);
            }
            Verb::Dial { number } => {
                println!("  → transferred to {number}");
                return Ok(None);
            }
            Verb::Hangup => {
                if next.is_none() {
                    println!("  → the receptionist hung up");
                }
                return Ok(next);
            }
        }
    }
    Ok(next)
}

pub async fn simulate(context: Context, sim: Simulation) -> anyhow::Result<()> {
    phone_numbers::validate(&sim.to)?;
    let mut tx = context.db.platform(&context.operator).await?;
    let owner = phone_numbers::owner_of(&mut tx, &sim.to).await?;
    tx.commit().await?;
    let mut credential = None;
    if let Some(tenant) = &owner {
        let scope = context
            .tenant_scope(tenant.as_str(), "twilio credential (call simulate)")
            .await?;
        let mut tx = context.db.read(&scope).await?;
        credential = secrets::read(&mut tx, &context.keyring, CREDENTIAL).await?;
        tx.commit().await?;
    }
    let (token, account_sid) = match credential
        .as_ref()
        .and_then(|c| c.get("auth_token").map(|t| (t, c.get("account_sid"))))
    {
        Some((token, account)) => (
            token.expose_secret().to_owned(),
            account.map(|a| a.expose_secret().to_owned()),
        ),
        None => {
            let platform = context.settings.platform_twilio().context(
                "no Twilio auth token to sign with: the number's tenant has no `twilio` credential and TWILIO_AUTH_TOKEN is not set",
            )?;
            (
                platform.auth_token.expose_secret().to_owned(),
                platform.account_sid.clone(),
            )
        }
    };
    let (transport, base) = match &sim.url {
        Some(url) => (
            Transport::Http(reqwest::Client::new()),
            url.trim_end_matches('/').to_owned(),
        ),
        None => {
            let engines = Arc::new(super::worker::engines(&context.settings)?);
            let state = super::serve::app_state(&context, engines)?;
            let base = context
                .settings
                .public_url
                .clone()
                .unwrap_or_else(|| "http://localhost".into());
            (
                Transport::InProcess(switchboard_server::router(state)),
                base.trim_end_matches('/').to_owned(),
            )
        }
    };
    let caller = Caller {
        transport,
        base,
        token,
        account_sid,
        call_sid: format!("CA{}", uuid_hex()),
        from: sim.from.clone(),
        to: sim.to.clone(),
    };
    println!(
        "call {} from {} to {}",
        caller.call_sid, caller.from, caller.to
    );
    let started = std::time::Instant::now();
    let mut next = speak(
        &caller
            .post("/twilio/voice", &[("CallStatus", "ringing")])
            .await?,
    )?;
    for utterance in &sim.utterances {
        let Some(action) = next.take() else {
            break;
        };
        println!("caller: {utterance}");
        let reply = caller
            .post(
                &action,
                &[("SpeechResult", utterance), ("Confidence", "0.92")],
            )
            .await?;
        next = speak(&reply)?;
    }
    let duration = started.elapsed().as_secs().max(1).to_string();
    caller
        .post(
            "/twilio/status",
            &[("CallStatus", "completed"), ("CallDuration", &duration)],
        )
        .await?;
    println!("call ended (completed): handed to the pipeline and to the tenant's caller memory");
    Ok(())
}

fn uuid_hex() -> String {
    use rand::Rng;
    hex::encode(rand::rng().random::<[u8; 16]>())
}
