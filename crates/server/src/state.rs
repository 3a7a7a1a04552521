//! Shared state of the server.

use std::sync::Arc;

use switchboard_store::auth::Authenticator;
use switchboard_store::secrets::Keyring;
use switchboard_store::{Db, Storage};

#[derive(Clone, Debug, Default)]
pub struct ServerConfig {
    /// The public base URL (e.g. `https://switchboard.example.com`); `https` makes cookies
    /// `Secure`. Requests forwarded with `X-Forwarded-Proto: https` get `Secure` cookies too.
    pub public_url: Option<String>,
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
    pub storage: Storage,
    pub auth: Authenticator,
    /// Master keys of the secret store.
    pub keyring: Arc<Keyring>,
    pub config: Arc<ServerConfig>,
}
