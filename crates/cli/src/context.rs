//! What every command needs: settings, the database, object storage, and the operator's platform
//! capability.

use std::path::Path;

use anyhow::Context as _;
use switchboard_core::TenantId;
use switchboard_store::scope::AuditedAccess;
use switchboard_store::secrets::Keyring;
use switchboard_store::{Db, PlatformAdmin, Storage, TenantScope};

use crate::settings::Settings;

pub struct Context {
    pub settings: Settings,
    pub db: Db,
    pub storage: Storage,
    pub operator: PlatformAdmin,
    pub keyring: Keyring,
}

impl Context {
    /// Loads settings, migrates, and connects.
    pub async fn open(config: Option<&Path>) -> anyhow::Result<Context> {
        let settings = Settings::load(config)?;
        switchboard_server::telemetry::init(settings.log_format == "json", "warn");
        Self::connect(settings, true).await
    }

    pub async fn connect(settings: Settings, migrate: bool) -> anyhow::Result<Context> {
        let db_config = settings.db();
        if migrate {
            Db::migrate(&db_config).await.with_context(|| {
                format!(
                    "migrating {}",
                    switchboard_store::db::redact_url(
                        db_config.migration_url.as_ref().unwrap_or(&db_config.url)
                    )
                )
            })?;
        }
        let db = Db::connect(&db_config).await.with_context(|| {
            format!(
                "connecting to {}",
                switchboard_store::db::redact_url(&db_config.url)
            )
        })?;
        let storage = Storage::open(&settings.storage()?).context("opening object storage")?;
        let keyring = settings.keyring()?;
        let operator_name = std::env::var("USER").unwrap_or_else(|_| "console".into());
        let operator = PlatformAdmin::operator_console(&operator_name);
        if migrate {
            switchboard_server::receptionist::seed_builtin_templates(&db, &operator)
                .await
                .context("publishing the built-in receptionist templates")?;
        }
        Ok(Context {
            settings,
            db,
            storage,
            operator,
            keyring,
        })
    }

    /// Opens a tenant for the operator; the access is written to the tenant's audit log.
    pub async fn tenant_scope(&self, tenant: &str, what: &str) -> anyhow::Result<TenantScope> {
        let tenant = TenantId::parse(tenant).context("invalid tenant id")?;
        let reason = format!("switchboard {what} (operator console)");
        Ok(self
            .operator
            .open_tenant(
                &self.db,
                &tenant,
                AuditedAccess {
                    action: "write",
                    resource: what,
                    reason: &reason,
                    request_id: None,
                },
            )
            .await?)
    }
}
