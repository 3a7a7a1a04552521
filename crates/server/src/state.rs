//! Shared state of the server.

use std::sync::Arc;

use switchboard_store::auth::Authenticator;
use switchboard_store::group_commit::GroupCommit;
use switchboard_store::secrets::Keyring;
use switchboard_store::{Db, Storage};

#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The public base URL (e.g. `https://switchboard.example.com`); `https` makes cookies
    /// `Secure`. Requests forwarded with `X-Forwarded-Proto: https` get `Secure` cookies too.
    pub public_url: Option<String>,
    /// The largest recording `POST /api/v1/calls` accepts (413 beyond).
    pub max_upload_bytes: u64,
    /// How long a provider connector waits for one HTTP answer.
    pub provider_timeout: std::time::Duration,
}

pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 200 * 1024 * 1024;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            public_url: None,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            provider_timeout: std::time::Duration::from_secs(20),
        }
    }
}

impl ServerConfig {
    pub fn behind_tls(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://"))
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Uploads' call rows and first jobs: those accepted at the same moment share a transaction
    /// (`GroupCommit::new(db)` of the same database).
    pub commits: Arc<GroupCommit>,
    pub storage: Storage,
    pub auth: Authenticator,
    /// Master keys of the secret store.
    pub keyring: Arc<Keyring>,
    pub config: Arc<ServerConfig>,
    /// The live-call receptionist: engines, the platform's Twilio account, matcher cache.
    pub receptionist: Arc<crate::receptionist::Receptionist>,
}
