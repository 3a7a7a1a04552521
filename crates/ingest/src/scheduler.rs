//! Runs every provider's sync on an interval with jitter, until shutdown. Several processes may
//! run it: the per-tenant lease makes one of them do each tenant's sync.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use switchboard_store::PlatformAdmin;

use crate::sync::{Provider, SyncContext, sync_provider};

pub async fn run(
    ctx: SyncContext,
    admin: PlatformAdmin,
    interval: Duration,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let jitter = interval.as_millis() as u64 / 10;
        let wait = interval + Duration::from_millis(rand::rng().random_range(0..=jitter.max(1)));
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(wait) => {}
        }
        for provider in Provider::ALL {
            match sync_provider(&ctx, &admin, provider, None).await {
                Ok(runs) => tracing::info!(
                    provider = provider.name(),
                    tenants = runs.len(),
                    "scheduled sync done"
                ),
                Err(err) => {
                    tracing::error!(provider = provider.name(), error = %err, "scheduled sync failed")
                }
            }
        }
    }
}
