//! `switchboard user create`.

use switchboard_store::repo::{platform_accounts, users};

use crate::cli::UserCommand;
use crate::context::Context;

pub use switchboard_server::routes::views::generated_password;

pub async fn run(context: Context, command: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Create {
        tenant,
        email,
        role,
        password,
        platform_admin,
    } = command;
    let generated = password.is_none().then(generated_password);
    let password = password.or_else(|| generated.clone()).unwrap_or_default();
    if platform_admin {
        let mut tx = context.db.platform(&context.operator).await?;
        let account =
            platform_accounts::create_admin(&mut tx, &context.operator, &email, &password).await?;
        tx.commit().await?;
        println!("created platform admin {}", account.email);
    } else {
        let tenant = tenant.unwrap_or_default();
        let scope = context.tenant_scope(&tenant, "users").await?;
        let admin = scope
            .admin()
            .ok_or_else(|| anyhow::anyhow!("operator scope lacks admin rights"))?;
        let mut tx = context.db.write(&scope).await?;
        let user = users::create(&mut tx, admin, &email, role.into(), &password).await?;
        tx.commit().await?;
        println!(
            "created user {} ({}) in tenant {tenant}",
            user.email, user.role
        );
    }
    if let Some(password) = generated {
        println!("password (shown once): {password}");
    }
    Ok(())
}
