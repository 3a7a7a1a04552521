//! `switchboard secrets generate-key|rotate`.

use std::path::Path;

use switchboard_store::repo::{secrets, tenants};
use switchboard_store::secrets::MasterKey;

use crate::cli::SecretsCommand;
use crate::context::Context;

pub async fn run(config: Option<&Path>, command: SecretsCommand) -> anyhow::Result<()> {
    match command {
        SecretsCommand::GenerateKey => {
            println!("{}", MasterKey::generate_base64());
            Ok(())
        }
        SecretsCommand::Rotate => rotate(Context::open(config).await?).await,
    }
}

/// Rewraps tenant by tenant; each tenant's access is audited in its log.
async fn rotate(context: Context) -> anyhow::Result<()> {
    let mut tx = context.db.platform(&context.operator).await?;
    let all = tenants::list(&mut tx).await?;
    tx.commit().await?;
    let mut total = 0;
    for tenant in all {
        let scope = context.tenant_scope(tenant.id.as_str(), "secrets").await?;
        let admin = scope
            .admin()
            .ok_or_else(|| anyhow::anyhow!("operator scope lacks admin rights"))?;
        let mut tx = context.db.write(&scope).await?;
        let rewrapped = secrets::rewrap(&mut tx, admin, &context.keyring).await?;
        tx.commit().await?;
        if rewrapped > 0 {
            println!("{}: {rewrapped} secrets rewrapped", tenant.id);
        }
        total += rewrapped;
    }
    println!(
        "{total} secrets rewrapped under master key {}",
        context.keyring.current_id()
    );
    Ok(())
}
