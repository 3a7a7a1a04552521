//! `switchboard tenant create|list|suspend|resume|delete`.

use anyhow::{Context as _, bail};
use switchboard_core::TenantId;
use switchboard_store::onboarding::{self, OnboardRequest};
use switchboard_store::repo::{phone_numbers, tenants};

use crate::cli::TenantCommand;
use crate::commands::user::generated_password;
use crate::context::Context;

pub async fn run(context: Context, command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create {
            id,
            name,
            admin_email,
            admin_password,
            template,
            plan,
            dedicated_storage,
        } => {
            let generated = admin_password.is_none().then(generated_password);
            let receptionist_template = template.clone();
            let onboarded = onboarding::onboard(
                &context.db,
                &context.storage,
                &context.operator,
                OnboardRequest {
                    id: TenantId::parse(&id).context("invalid tenant id")?,
                    name,
                    industry_template: template,
                    plan,
                    dedicated_storage: dedicated_storage.then_some(true),
                    admin_email,
                    admin_password: admin_password
                        .or_else(|| generated.clone())
                        .unwrap_or_default(),
                },
            )
            .await?;
            println!(
                "created tenant {} ({}), admin {}",
                onboarded.tenant.id, onboarded.tenant.name, onboarded.admin.email
            );
            if let Some(password) = generated {
                println!("admin password (shown once): {password}");
            }
            if let Some(template) = receptionist_template {
                let scope = context
                    .tenant_scope(&id, "receptionist template (onboarding)")
                    .await?;
                switchboard_server::receptionist::clone_at_onboarding(
                    &context.db,
                    &scope,
                    &template,
                )
                .await
                .with_context(|| format!("cloning receptionist template {template:?}"))?;
                println!("receptionist cloned from template {template}");
            }
        }
        TenantCommand::AddNumber { id, number } => {
            let tenant = TenantId::parse(&id).context("invalid tenant id")?;
            let mut tx = context.db.platform(&context.operator).await?;
            tenants::get(&mut tx, &tenant)
                .await?
                .with_context(|| format!("no tenant {id}"))?;
            phone_numbers::assign(&mut tx, &number, &tenant).await?;
            tx.commit().await?;
            println!("{number} now rings tenant {id}");
        }
        TenantCommand::RemoveNumber { id, number } => {
            let tenant = TenantId::parse(&id).context("invalid tenant id")?;
            let mut tx = context.db.platform(&context.operator).await?;
            phone_numbers::release(&mut tx, &number, &tenant).await?;
            tx.commit().await?;
            println!("{number} released from tenant {id}");
        }
        TenantCommand::List => {
            let mut tx = context.db.platform(&context.operator).await?;
            let all = tenants::list(&mut tx).await?;
            tx.commit().await?;
            println!("{:<24} {:<10} {:<10} NAME", "ID", "STATUS", "STORAGE");
            for tenant in all {
                println!(
                    "{:<24} {:<10} {:<10} {}",
                    tenant.id,
                    tenant.status.as_str(),
                    tenant.storage_mode.as_str(),
                    tenant.name
                );
            }
        }
        TenantCommand::Suspend { id } => {
            let tenant = onboarding::set_active(
                &context.db,
                &context.operator,
                &TenantId::parse(&id)?,
                false,
            )
            .await?;
            println!("tenant {} is {}", tenant.id, tenant.status.as_str());
        }
        TenantCommand::Resume { id } => {
            let tenant = onboarding::set_active(
                &context.db,
                &context.operator,
                &TenantId::parse(&id)?,
                true,
            )
            .await?;
            println!("tenant {} is {}", tenant.id, tenant.status.as_str());
        }
        TenantCommand::Delete { id, yes } => {
            if !yes {
                bail!("deleting a tenant purges all of its data; run again with --yes to confirm");
            }
            let report = onboarding::delete_tenant(
                &context.db,
                &context.storage,
                &context.operator,
                &TenantId::parse(&id)?,
            )
            .await?;
            println!("deleted tenant {id}: {} objects", report.objects);
            for (table, rows) in report.rows {
                println!("  {table}: {rows} rows");
            }
        }
    }
    Ok(())
}
