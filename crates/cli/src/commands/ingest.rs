//! `switchboard ingest run`.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use switchboard_core::TenantId;
use switchboard_ingest::{Provider, SyncContext, sync_provider};

use crate::cli::IngestCommand;
use crate::context::Context;

pub async fn run(context: Context, command: IngestCommand) -> anyhow::Result<()> {
    let IngestCommand::Run { provider, tenant } = command;
    let Some(provider) = Provider::parse(&provider) else {
        bail!("unknown provider {provider:?} (known: oak, bucket-drop)");
    };
    let only = tenant
        .map(|t| TenantId::parse(&t))
        .transpose()
        .context("invalid tenant id")?;
    let mut ctx = SyncContext::new(
        context.db.clone(),
        context.storage.clone(),
        Arc::new(context.keyring.clone()),
    );
    ctx.request_timeout = context.settings.server().provider_timeout;
    let runs = sync_provider(&ctx, &context.operator, provider, only.as_ref()).await?;
    if runs.is_empty() {
        println!("no tenant has {} credentials", provider.name());
    }
    for (tenant, run) in runs {
        println!(
            "{tenant}: fetched {}, skipped {}, failed {}{}",
            run.fetched,
            run.skipped,
            run.failed,
            run.error
                .map(|e| format!(", error: {e}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}
