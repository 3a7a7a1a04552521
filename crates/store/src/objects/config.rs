//! Object-storage settings (SPEC §1 names: `STORAGE_BACKEND`, `S3_*`, `PER_TENANT_BUCKETS`,
//! `BUCKET_PREFIX`).

use std::path::PathBuf;

use secrecy::SecretString;
use switchboard_core::{Area, TenantId};

#[derive(Clone, Debug)]
pub enum StorageConfig {
    Local { root: PathBuf },
    S3(S3Config),
}

#[derive(Clone, Debug)]
pub struct S3Config {
    /// A custom endpoint (MinIO, moto, Garage …); path-style requests are always used.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    /// `S3_RAW_BUCKET`: recordings and metadata as received.
    pub input_bucket: String,
    /// `S3_BUCKET`: results.
    pub results_bucket: String,
    /// `S3_CONFIG_BUCKET`: tenant configuration.
    pub config_bucket: String,
    pub per_tenant_buckets: bool,
    pub bucket_prefix: String,
}

impl S3Config {
    pub fn bucket_for(&self, area: Area) -> &str {
        match area {
            Area::Input => &self.input_bucket,
            Area::Results => &self.results_bucket,
            Area::Config => &self.config_bucket,
        }
    }

    pub fn dedicated_bucket(&self, tenant: &TenantId) -> String {
        format!("{}-{}", self.bucket_prefix, tenant)
    }
}
