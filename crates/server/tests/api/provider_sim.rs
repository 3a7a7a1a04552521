//! A ClarifyGo/Oak-style provider on loopback, speaking the wire contract of
//! `switchboard_ingest::oak`, with the faults a real one has: pagination, tokens that expire
//! mid-sync, 5xx answers, slow pages, malformed items, duplicate listings and broken downloads.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

#[derive(Clone)]
pub struct Recording {
    pub id: String,
    pub started_at: String,
    pub audio: Vec<u8>,
}

#[derive(Clone)]
pub struct Account {
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub password: String,
    pub recordings: Vec<Recording>,
}

#[derive(Default)]
pub struct Faults {
    /// Tokens stop working after this many authorised requests (0: never).
    pub token_uses: usize,
    /// The first request for this page number answers 503.
    pub fail_page_once: Option<u64>,
    /// This page answers after a delay.
    pub slow_page: Option<(u64, Duration)>,
    /// An item without an id is appended to page 1.
    pub malformed_item: bool,
    /// This recording id is listed on every page again.
    pub duplicate: Option<String>,
    /// Downloads of these ids answer 500.
    pub broken_downloads: Vec<String>,
}

#[derive(Default)]
pub struct Counters {
    pub tokens_issued: usize,
    pub lists: usize,
    pub downloads: usize,
}

#[derive(Default)]
struct Sim {
    accounts: Vec<Account>,
    faults: Faults,
    counters: Counters,
    /// token → (client_id, uses left or usize::MAX)
    tokens: HashMap<String, (String, usize)>,
    failed_pages: Vec<u64>,
}

#[derive(Clone)]
pub struct ProviderSim {
    pub base_url: String,
    state: Arc<Mutex<Sim>>,
}

const PAGE_SIZE: usize = 3;

impl ProviderSim {
    pub async fn start(accounts: Vec<Account>, faults: Faults) -> ProviderSim {
        let state = Arc::new(Mutex::new(Sim {
            accounts,
            faults,
            ..Sim::default()
        }));
        let app = Router::new()
            .route("/oak/oauth/token", post(token))
            .route("/oak/recordings", get(list))
            .route("/oak/recordings/{id}/audio", get(download))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        ProviderSim {
            base_url: format!("http://{addr}/oak"),
            state,
        }
    }

    /// The credential fields a tenant stores for `account`.
    pub fn credentials(&self, account: &Account) -> Value {
        json!({
            "base_url": self.base_url, "client_id": account.client_id, "client_secret": account.client_secret,
            "username": account.username, "password": account.password, "token_path": "/oauth/token",
            "recordings_path": "/recordings", "recording_download_path": "/recordings/{id}/audio",
        })
    }

    pub fn tokens_issued(&self) -> usize {
        self.state.lock().unwrap().counters.tokens_issued
    }

    pub fn fix_downloads(&self) {
        self.state.lock().unwrap().faults.broken_downloads.clear();
    }

    pub fn add_recording(&self, client_id: &str, recording: Recording) {
        let mut sim = self.state.lock().unwrap();
        let account = sim
            .accounts
            .iter_mut()
            .find(|a| a.client_id == client_id)
            .unwrap();
        account.recordings.push(recording);
    }
}

async fn token(
    State(state): State<Arc<Mutex<Sim>>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut sim = state.lock().unwrap();
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let ok = field("grant_type") == "password"
        && sim.accounts.iter().any(|a| {
            a.client_id == field("client_id")
                && a.client_secret == field("client_secret")
                && a.username == field("username")
                && a.password == field("password")
        });
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    sim.counters.tokens_issued += 1;
    let token = format!("tok-{}-{}", field("client_id"), sim.counters.tokens_issued);
    let uses = if sim.faults.token_uses == 0 {
        usize::MAX
    } else {
        sim.faults.token_uses
    };
    sim.tokens.insert(token.clone(), (field("client_id"), uses));
    axum::Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}))
        .into_response()
}

/// The account behind the bearer token, spending one use.
fn authorise(sim: &mut Sim, headers: &HeaderMap) -> Option<String> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .to_owned();
    let (client, uses) = sim.tokens.get_mut(&token)?;
    if *uses == 0 {
        return None;
    }
    *uses -= 1;
    Some(client.clone())
}

async fn list(
    State(state): State<Arc<Mutex<Sim>>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let page: u64 = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let delay = {
        let mut sim = state.lock().unwrap();
        sim.counters.lists += 1;
        let Some(client) = authorise(&mut sim, &headers) else {
            return StatusCode::UNAUTHORIZED.into_response();
        };
        if sim.faults.fail_page_once == Some(page) && !sim.failed_pages.contains(&page) {
            sim.failed_pages.push(page);
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        let since = query.get("since").cloned().unwrap_or_default();
        let account = sim.accounts.iter().find(|a| a.client_id == client).unwrap();
        let mut visible: Vec<&Recording> = account
            .recordings
            .iter()
            .filter(|r| r.started_at >= since)
            .collect();
        visible.sort_by(|a, b| a.started_at.cmp(&b.started_at));
        let start = (page as usize - 1) * PAGE_SIZE;
        let mut items: Vec<Value> = visible
            .iter()
            .skip(start)
            .take(PAGE_SIZE)
            .map(|r| json!({"id": r.id, "started_at": r.started_at, "calling_party": "+15550001111", "agent": "agent@example.test", "direction": "inbound", "queue": "support"}))
            .collect();
        if let Some(dup) = &sim.faults.duplicate
            && let Some(r) = account.recordings.iter().find(|r| &r.id == dup)
            && r.started_at >= since
        {
            items.push(json!({"id": r.id, "started_at": r.started_at}));
        }
        if page == 1 && sim.faults.malformed_item {
            items.push(json!({"started_at": "2026-11-01T00:00:00Z", "note": "no id"}));
        }
        let next = (start + PAGE_SIZE < visible.len()).then_some(page + 1);
        let delay = sim
            .faults
            .slow_page
            .filter(|(p, _)| *p == page)
            .map(|(_, d)| d);
        (
            axum::Json(json!({"recordings": items, "next_page": next})),
            delay,
        )
    };
    let (body, delay) = delay;
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    body.into_response()
}

async fn download(
    State(state): State<Arc<Mutex<Sim>>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut sim = state.lock().unwrap();
    sim.counters.downloads += 1;
    let Some(client) = authorise(&mut sim, &headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if sim.faults.broken_downloads.contains(&id) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let account = sim.accounts.iter().find(|a| a.client_id == client).unwrap();
    match account.recordings.iter().find(|r| r.id == id) {
        Some(recording) => recording.audio.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
