//! The ClarifyGo/Oak-style REST provider. Credentials (a secret-store entry named `oak`):
//! `{base_url, client_id, client_secret, username, password, token_path, recordings_path,
//! recording_download_path}`. The wire contract this client speaks:
//!
//! 1. `POST {base_url}{token_path}`, form `grant_type=password&client_id&client_secret&username&password`
//!    → `{"access_token": "…", "expires_in": 3600}`. Refreshed on expiry and on a 401.
//! 2. `GET {base_url}{recordings_path}?since=<RFC 3339>&page=<n>` with `Authorization: Bearer`
//!    → `{"recordings": [{"id": "…", "started_at": "2026-11-20T10:00:00Z", …metadata}], "next_page": n+1 | null}`.
//!    Recordings at or after `since`; every field besides `id` and `started_at` is kept as metadata.
//! 3. `GET {base_url}{recording_download_path}` with `{id}` replaced → the audio bytes.
//!
//! 5xx answers, timeouts and connection errors are retried with exponential backoff.

use std::time::{Duration, Instant};

use bytes::Bytes;
use secrecy::ExposeSecret;
use serde::Deserialize;
use switchboard_store::repo::secrets::SecretFields;

const ATTEMPTS: u32 = 3;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum OakError {
    #[error("credential field `{0}` is missing")]
    MissingField(&'static str),
    #[error("the provider refused the credentials (HTTP {0})")]
    Unauthorized(u16),
    #[error("the provider answered HTTP {status} for {what}")]
    Status { status: u16, what: &'static str },
    #[error("the provider could not be reached for {what}: {reason}")]
    Transport { what: &'static str, reason: String },
    #[error("the provider's {what} response is malformed")]
    Malformed { what: &'static str },
}

struct Credentials {
    base_url: String,
    client_id: String,
    client_secret: String,
    username: String,
    password: String,
    token_path: String,
    recordings_path: String,
    recording_download_path: String,
}

impl Credentials {
    fn from_fields(fields: &SecretFields) -> Result<Credentials, OakError> {
        let get = |name: &'static str| {
            fields
                .get(name)
                .map(|v| v.expose_secret().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or(OakError::MissingField(name))
        };
        Ok(Credentials {
            base_url: get("base_url")?.trim_end_matches('/').to_owned(),
            client_id: get("client_id")?,
            client_secret: get("client_secret")?,
            username: get("username")?,
            password: get("password")?,
            token_path: get("token_path")?,
            recordings_path: get("recordings_path")?,
            recording_download_path: get("recording_download_path")?,
        })
    }
}

/// One listed recording: its id, start time, and all of its metadata.
#[derive(Clone, Debug)]
pub struct Listing {
    pub id: String,
    pub started_at: String,
    pub meta: serde_json::Value,
}

/// A listed item that could not be used (no id or no start time).
#[derive(Clone, Debug)]
pub struct Malformed {
    pub id: Option<String>,
    pub reason: String,
}

pub struct Page {
    pub recordings: Vec<Listing>,
    pub malformed: Vec<Malformed>,
    pub next_page: Option<u64>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

pub struct OakClient {
    http: reqwest::Client,
    credentials: Credentials,
    token: Option<(String, Instant)>,
}

fn transport(what: &'static str, err: reqwest::Error) -> OakError {
    OakError::Transport {
        what,
        reason: if err.is_timeout() {
            "timed out".into()
        } else {
            "connection failed".into()
        },
    }
}

impl OakClient {
    pub fn new(fields: &SecretFields) -> Result<OakClient, OakError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| transport("client setup", e))?;
        Ok(OakClient {
            http,
            credentials: Credentials::from_fields(fields)?,
            token: None,
        })
    }

    /// Shorter timeouts, for tests of slow providers.
    pub fn with_timeout(mut self, timeout: Duration) -> OakClient {
        if let Ok(http) = reqwest::Client::builder().timeout(timeout).build() {
            self.http = http;
        }
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.credentials.base_url, path)
    }

    async fn fetch_token(&mut self) -> Result<String, OakError> {
        let c = &self.credentials;
        let form = [
            ("grant_type", "password"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
            ("username", c.username.as_str()),
            ("password", c.password.as_str()),
        ];
        let response = self
            .http
            .post(self.url(&c.token_path))
            .form(&form)
            .send()
            .await
            .map_err(|e| transport("token", e))?;
        let status = response.status().as_u16();
        if status == 400 || status == 401 || status == 403 {
            return Err(OakError::Unauthorized(status));
        }
        if !response.status().is_success() {
            return Err(OakError::Status {
                status,
                what: "token",
            });
        }
        let token: TokenResponse = response
            .json()
            .await
            .map_err(|_| OakError::Malformed { what: "token" })?;
        // Renew a little early; a provider that states no lifetime gets five minutes.
        let lifetime =
            Duration::from_secs(token.expires_in.unwrap_or(300).saturating_sub(10).max(1));
        self.token = Some((token.access_token.clone(), Instant::now() + lifetime));
        Ok(token.access_token)
    }

    async fn bearer(&mut self) -> Result<String, OakError> {
        match &self.token {
            Some((token, until)) if Instant::now() < *until => Ok(token.clone()),
            _ => self.fetch_token().await,
        }
    }

    /// A GET with the bearer token: one token refresh on 401, backoff retries on 5xx and transport
    /// errors.
    async fn get(
        &mut self,
        url: &str,
        query: &[(&str, String)],
        what: &'static str,
    ) -> Result<reqwest::Response, OakError> {
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.bearer().await?;
            let result = self
                .http
                .get(url)
                .query(query)
                .bearer_auth(&token)
                .send()
                .await;
            let retryable = match result {
                Ok(response)
                    if response.status() == reqwest::StatusCode::UNAUTHORIZED && !refreshed =>
                {
                    refreshed = true;
                    self.token = None;
                    attempt -= 1;
                    continue;
                }
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) if response.status().is_server_error() => OakError::Status {
                    status: response.status().as_u16(),
                    what,
                },
                Ok(response) if response.status() == reqwest::StatusCode::UNAUTHORIZED => {
                    return Err(OakError::Unauthorized(401));
                }
                Ok(response) => {
                    return Err(OakError::Status {
                        status: response.status().as_u16(),
                        what,
                    });
                }
                Err(err) => transport(what, err),
            };
            if attempt >= ATTEMPTS {
                return Err(retryable);
            }
            tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempt))).await;
        }
    }

    pub async fn list(&mut self, since: Option<&str>, page: u64) -> Result<Page, OakError> {
        let mut query = vec![("page", page.to_string())];
        if let Some(since) = since {
            query.push(("since", since.to_owned()));
        }
        let url = self.url(&self.credentials.recordings_path.clone());
        let body: serde_json::Value = self
            .get(&url, &query, "recordings")
            .await?
            .json()
            .await
            .map_err(|_| OakError::Malformed { what: "recordings" })?;
        let items = body
            .get("recordings")
            .and_then(|r| r.as_array())
            .ok_or(OakError::Malformed { what: "recordings" })?;
        let mut page_out = Page {
            recordings: Vec::new(),
            malformed: Vec::new(),
            next_page: body.get("next_page").and_then(|n| n.as_u64()),
        };
        for item in items {
            let id = item.get("id").and_then(|v| match v {
                serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            let started_at = item
                .get("started_at")
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty());
            match (id, started_at, item.is_object()) {
                (Some(id), Some(started_at), true) => page_out.recordings.push(Listing {
                    id,
                    started_at: started_at.to_owned(),
                    meta: item.clone(),
                }),
                (id, _, _) => page_out.malformed.push(Malformed {
                    id,
                    reason: "a listed recording needs an `id` and a `started_at`".into(),
                }),
            }
        }
        Ok(page_out)
    }

    pub async fn download(&mut self, id: &str) -> Result<Bytes, OakError> {
        let encoded: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
        let path = self
            .credentials
            .recording_download_path
            .replace("{id}", &encoded);
        let url = self.url(&path);
        self.get(&url, &[], "download")
            .await?
            .bytes()
            .await
            .map_err(|e| transport("download", e))
    }
}
