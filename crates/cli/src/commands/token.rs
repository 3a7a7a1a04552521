//! `switchboard token create|revoke`. The token is printed alone on stdout's last line, so scripts
//! can capture it.

use switchboard_store::repo::{platform_accounts, tokens};

use crate::cli::TokenCommand;
use crate::context::Context;

pub async fn run(context: Context, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            tenant,
            role,
            name,
            platform,
        } => {
            if platform {
                let mut tx = context.db.platform(&context.operator).await?;
                let (id, secret) =
                    platform_accounts::create_token(&mut tx, &context.operator, &name).await?;
                tx.commit().await?;
                eprintln!("created platform token {id}");
                println!("{secret}");
            } else {
                let tenant = tenant.unwrap_or_default();
                let scope = context.tenant_scope(&tenant, "api_tokens").await?;
                let admin = scope
                    .admin()
                    .ok_or_else(|| anyhow::anyhow!("operator scope lacks admin rights"))?;
                let mut tx = context.db.write(&scope).await?;
                let (token, secret) = tokens::create(&mut tx, admin, &name, role.into()).await?;
                tx.commit().await?;
                eprintln!(
                    "created {} token {} in tenant {tenant}",
                    token.role, token.id
                );
                println!("{secret}");
            }
        }
        TokenCommand::Revoke {
            id,
            tenant,
            platform,
        } => {
            if platform {
                let mut tx = context.db.platform(&context.operator).await?;
                platform_accounts::revoke_token(&mut tx, &context.operator, &id).await?;
                tx.commit().await?;
            } else {
                let tenant = tenant.unwrap_or_default();
                let scope = context.tenant_scope(&tenant, "api_tokens").await?;
                let admin = scope
                    .admin()
                    .ok_or_else(|| anyhow::anyhow!("operator scope lacks admin rights"))?;
                let mut tx = context.db.write(&scope).await?;
                tokens::revoke(&mut tx, admin, &id).await?;
                tx.commit().await?;
            }
            println!("revoked token {id}");
        }
    }
    Ok(())
}
