//! Storage errors. Handlers map these centrally (not found → 404, conflict → 409, pool exhausted →
//! 503); a database error is never turned into "not found".

use switchboard_core::ObjectKeyError;

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    ObjectKey(#[from] ObjectKeyError),
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error")]
    Database(#[source] sqlx::Error),
    #[error("object storage error")]
    Objects(#[from] object_store::Error),
    #[error("object storage error: {0}")]
    Bucket(String),
    #[error(transparent)]
    Secret(#[from] crate::secrets::KeyringError),
    /// A stored document (JSON) that no longer parses: a server fault, never the caller's.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(err)
            }
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                StoreError::Conflict("already exists".into())
            }
            other => StoreError::Database(other),
        }
    }
}
