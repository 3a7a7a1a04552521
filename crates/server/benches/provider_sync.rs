//! Benchmark: provider sync against the loopback simulator (the one the tests use).
//!
//!   cargo bench -p switchboard-server --bench provider_sync
//!
//! 1. Throughput: 10 tenants × 1,000 recordings, synced from scratch (recordings/min).
//! 2. Empty sync: the same tenants again, nothing new (ms per tenant).
//! 3. Empty sync at scale: 1,000 tenants with credentials and nothing new, to show that a
//!    15-minute schedule fits.

mod support;

#[path = "../tests/api/fixtures.rs"]
mod fixtures;
#[path = "../tests/api/provider_sim.rs"]
mod provider_sim;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use provider_sim::{Account, Faults, ProviderSim, Recording};
use switchboard_ingest::{Provider, SyncContext, sync_provider};
use switchboard_store::repo::secrets;
use switchboard_store::secrets::{Keyring, MasterKey};

fn account(client: &str, count: usize) -> Account {
    Account {
        client_id: client.into(),
        client_secret: "secret".into(),
        username: "user".into(),
        password: "password".into(),
        recordings: (0..count)
            .map(|i| Recording {
                id: format!("{client}-{i}"),
                started_at: format!(
                    "2026-11-01T00:{:02}:{:02}.{:03}Z",
                    i / 3600 % 60,
                    i / 60 % 60,
                    i % 1000
                ),
                audio: {
                    let mut audio = fixtures::wav((i % 251) as u8, 200);
                    audio.extend_from_slice(client.as_bytes());
                    audio.extend_from_slice(&(i as u32).to_le_bytes());
                    audio
                },
            })
            .collect(),
    }
}

/// Onboards a tenant and stores its Oak credential.
async fn add_tenant(
    env: &support::BenchEnv,
    keyring: &Keyring,
    id: &str,
    fields: &serde_json::Value,
) {
    let scope = env.tenant(id).await;
    let values: BTreeMap<String, String> = serde_json::from_value(fields.clone()).unwrap();
    let mut tx = env.db.write(&scope).await.unwrap();
    secrets::put(&mut tx, scope.admin().unwrap(), keyring, "oak", values)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::main]
async fn main() {
    let env = support::env("sbsync").await;
    let keyring = Arc::new(Keyring::new(
        MasterKey::from_base64(&MasterKey::generate_base64()).unwrap(),
        vec![],
    ));
    let ctx = SyncContext::new(env.db.clone(), env.storage.clone(), keyring.clone());

    // 1 and 2: 10 tenants × 1,000 recordings.
    let accounts: Vec<Account> = (0..10)
        .map(|i| account(&format!("client{i}"), 1000))
        .collect();
    let sim = ProviderSim::start(accounts.clone(), Faults::default()).await;
    for (i, account) in accounts.iter().enumerate() {
        add_tenant(
            &env,
            &keyring,
            &format!("tenant-{i:04}"),
            &sim.credentials(account),
        )
        .await;
    }
    let started = Instant::now();
    let runs = sync_provider(&ctx, &env.operator, Provider::Oak, None)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let fetched: i64 = runs.iter().map(|(_, r)| r.fetched).sum();
    assert_eq!(
        fetched,
        10_000,
        "{:?}",
        runs.iter().find(|(_, r)| r.error.is_some())
    );
    println!(
        "| 10 tenants × 1,000 recordings, first sync | {fetched} recordings | {:.1} s | {:.0} recordings/min |",
        elapsed.as_secs_f64(),
        fetched as f64 / elapsed.as_secs_f64() * 60.0
    );

    let started = Instant::now();
    let runs = sync_provider(&ctx, &env.operator, Provider::Oak, None)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(runs.iter().all(|(_, r)| r.fetched == 0));
    println!(
        "| same 10 tenants, nothing new | {} tenants | {:.2} s | {:.1} ms per tenant |",
        runs.len(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / runs.len() as f64
    );

    // 3: 1,000 tenants with credentials and no recordings.
    let empty: Vec<Account> = (0..990).map(|i| account(&format!("empty{i}"), 0)).collect();
    let empty_sim = ProviderSim::start(empty.clone(), Faults::default()).await;
    for (i, account) in empty.iter().enumerate() {
        add_tenant(
            &env,
            &keyring,
            &format!("empty-{i:04}"),
            &empty_sim.credentials(account),
        )
        .await;
    }
    let started = Instant::now();
    let runs = sync_provider(&ctx, &env.operator, Provider::Oak, None)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(runs.len(), 1000);
    assert!(
        runs.iter()
            .all(|(_, r)| r.error.is_none() && r.fetched == 0)
    );
    println!(
        "| 1,000 tenants, nothing new | {} tenants | {:.2} s | {:.1} ms per tenant; a 15-minute interval is {:.0}× that |",
        runs.len(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / runs.len() as f64,
        900.0 / elapsed.as_secs_f64()
    );
}
