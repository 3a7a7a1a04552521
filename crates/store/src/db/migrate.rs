//! Migrations, one directory per backend. On PostgreSQL they run as the owner role and then grant
//! the app role (the user of `DATABASE_URL`) data access only: it owns nothing, so it cannot
//! disable row-level security.

use secrecy::ExposeSecret;
use sqlx::AssertSqlSafe;
use sqlx::migrate::Migrator;

use super::{Backend, DbConfig, connect::connect};
use crate::{StoreError, StoreResult};

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

pub(super) async fn run(config: &DbConfig) -> StoreResult<()> {
    let owner_url = config.migration_url.as_ref().unwrap_or(&config.url);
    let owner = connect(owner_url.expose_secret(), 1).await?;
    match owner.backend {
        Backend::Sqlite => SQLITE.run(&owner.pool).await?,
        Backend::Postgres => {
            POSTGRES.run(&owner.pool).await?;
            if let Some(app_role) = app_role(config)? {
                grant_app_role(&owner, &app_role).await?;
            }
        }
    }
    owner.pool.close().await;
    Ok(())
}

/// The app role, when it differs from the owner role.
fn app_role(config: &DbConfig) -> StoreResult<Option<String>> {
    let Some(owner_url) = &config.migration_url else {
        return Ok(None);
    };
    let user = |raw: &str| -> StoreResult<String> {
        url::Url::parse(raw)
            .map(|u| u.username().to_owned())
            .map_err(|_| StoreError::Invalid("the database URL cannot be parsed".into()))
    };
    let app = user(config.url.expose_secret())?;
    let owner = user(owner_url.expose_secret())?;
    if app.is_empty() || app == owner {
        return Ok(None);
    }
    if !app.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(StoreError::Invalid(
            "the app role name may contain only letters, digits and '_'".into(),
        ));
    }
    Ok(Some(app))
}

async fn grant_app_role(owner: &super::Db, role: &str) -> StoreResult<()> {
    for statement in [
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
        // The app never reads the migration bookkeeping.
        format!("REVOKE ALL ON _sqlx_migrations FROM {role}"),
    ] {
        sqlx::query(AssertSqlSafe(statement))
            .execute(&owner.pool)
            .await?;
    }
    Ok(())
}
