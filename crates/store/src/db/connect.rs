//! Opening a pool for either backend.

use std::time::Duration;

use secrecy::SecretString;
use sqlx::any::{AnyPoolOptions, install_default_drivers};

use super::{Backend, Db};
use crate::{StoreError, StoreResult};

#[derive(Clone, Debug)]
pub struct DbConfig {
    /// The URL the application connects with (on PostgreSQL: the app role).
    pub url: SecretString,
    /// The URL migrations run with (on PostgreSQL: the owner role). Defaults to `url`.
    pub migration_url: Option<SecretString>,
    pub max_connections: u32,
}

impl DbConfig {
    pub fn new(url: impl Into<String>) -> DbConfig {
        DbConfig {
            url: SecretString::from(url.into()),
            migration_url: None,
            max_connections: 10,
        }
    }
}

pub(super) async fn connect(url: &str, max_connections: u32) -> StoreResult<Db> {
    install_default_drivers();
    let backend = Backend::from_url(url).ok_or_else(|| {
        StoreError::Invalid("DATABASE_URL must start with sqlite:, postgres: or postgresql:".into())
    })?;
    let url = match backend {
        Backend::Sqlite => sqlite_url(url)?,
        Backend::Postgres => url.to_owned(),
    };
    let mut options = AnyPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(10));
    if backend == Backend::Sqlite {
        options = options.after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL lets readers run beside the writer; the busy timeout makes writers queue
                // instead of failing; foreign keys are off by default in SQLite.
                for pragma in [
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA busy_timeout = 5000",
                    "PRAGMA foreign_keys = ON",
                    "PRAGMA synchronous = NORMAL",
                ] {
                    sqlx::query(pragma).execute(&mut *conn).await?;
                }
                Ok(())
            })
        });
    }
    let pool = options.connect(&url).await?;
    let writers =
        (backend == Backend::Sqlite).then(|| std::sync::Arc::new(tokio::sync::Semaphore::new(1)));
    Ok(Db {
        pool,
        backend,
        writers,
    })
}

/// Adds `mode=rwc` (create if missing) and creates the parent directory of a file database.
fn sqlite_url(url: &str) -> StoreResult<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    if !path.is_empty()
        && path != ":memory:"
        && let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|err| {
            StoreError::Invalid(format!("cannot create the database directory: {err}"))
        })?;
    }
    Ok(if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}
