//! Object storage (SPEC §3) through `object_store`: a local directory (the default) or
//! S3-compatible storage. Keys are built only here, from a [`TenantScope`]'s tenant and a validated
//! [`RelativeName`]. In S3 mode the three areas map to three buckets (shared mode) or everything
//! lives in the tenant's own bucket `<BUCKET_PREFIX>-<tenant>` (dedicated mode); the key inside a
//! bucket is always the full SPEC layout `<area>/<tenant>/<name>`. Every object is tagged
//! `tenant-id=<tenant>` (S3 object tagging; on the local backend the tenant is the path itself).

mod buckets;
mod config;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutOptions, PutPayload, TagSet,
};
use secrecy::ExposeSecret;
use switchboard_core::{Area, ObjectKey, RelativeName, TenantId};

pub use config::{S3Config, StorageConfig};

use crate::scope::{PlatformAdmin, TenantScope};
use crate::{StoreError, StoreResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageMode {
    /// The tenant's objects live under its prefix in the shared buckets (or directory).
    Shared,
    /// The tenant has its own bucket.
    Dedicated,
}

impl StorageMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StorageMode::Shared => "shared",
            StorageMode::Dedicated => "dedicated",
        }
    }

    pub(crate) fn parse(raw: &str) -> StoreResult<StorageMode> {
        match raw {
            "shared" => Ok(StorageMode::Shared),
            "dedicated" => Ok(StorageMode::Dedicated),
            other => Err(StoreError::Invalid(format!(
                "unknown storage mode {other:?}"
            ))),
        }
    }
}

enum Backend {
    Local {
        store: Arc<LocalFileSystem>,
    },
    S3 {
        config: Box<S3Config>,
        shared: HashMap<&'static str, Arc<dyn ObjectStore>>,
        dedicated: Mutex<HashMap<TenantId, Arc<dyn ObjectStore>>>,
    },
}

#[derive(Clone)]
pub struct Storage {
    backend: Arc<Backend>,
    per_tenant_buckets: bool,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &*self.backend {
            Backend::Local { .. } => "local",
            Backend::S3 { .. } => "s3",
        };
        f.debug_struct("Storage").field("backend", &kind).finish()
    }
}

fn s3_store(config: &S3Config, bucket: &str) -> StoreResult<Arc<dyn ObjectStore>> {
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_region(&config.region)
        .with_virtual_hosted_style_request(false);
    if let Some(endpoint) = &config.endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    if let Some(key) = &config.access_key_id {
        builder = builder.with_access_key_id(key);
    }
    if let Some(secret) = &config.secret_access_key {
        builder = builder.with_secret_access_key(secret.expose_secret());
    }
    Ok(Arc::new(builder.build()?))
}

impl Storage {
    pub fn open(config: &StorageConfig) -> StoreResult<Storage> {
        match config {
            StorageConfig::Local { root } => {
                std::fs::create_dir_all(root).map_err(|err| {
                    StoreError::Invalid(format!(
                        "cannot create the storage directory {}: {err}",
                        root.display()
                    ))
                })?;
                Ok(Storage {
                    backend: Arc::new(Backend::Local {
                        // fsync: a recording acknowledged as stored survives a power cut, as
                        // on S3; cleanup: a purged tenant leaves no empty directories.
                        store: Arc::new(
                            LocalFileSystem::new_with_prefix(root)?
                                .with_fsync(true)
                                .with_automatic_cleanup(true),
                        ),
                    }),
                    per_tenant_buckets: false,
                })
            }
            StorageConfig::S3(s3) => {
                let mut shared = HashMap::new();
                for area in Area::ALL {
                    shared.insert(area.as_str(), s3_store(s3, s3.bucket_for(area))?);
                }
                Ok(Storage {
                    per_tenant_buckets: s3.per_tenant_buckets,
                    backend: Arc::new(Backend::S3 {
                        config: Box::new(s3.clone()),
                        shared,
                        dedicated: Mutex::new(HashMap::new()),
                    }),
                })
            }
        }
    }

    /// The storage mode new tenants get unless they ask otherwise.
    pub fn default_mode(&self) -> StorageMode {
        if self.per_tenant_buckets {
            StorageMode::Dedicated
        } else {
            StorageMode::Shared
        }
    }

    /// The tenant's objects.
    pub fn tenant(&self, scope: &TenantScope) -> StoreResult<TenantObjects> {
        self.for_tenant(scope.tenant(), scope.storage_mode())
    }

    pub(crate) fn for_tenant(
        &self,
        tenant: &TenantId,
        mode: StorageMode,
    ) -> StoreResult<TenantObjects> {
        let stores = match (&*self.backend, mode) {
            (Backend::Local { store }, StorageMode::Shared) => {
                let store: Arc<dyn ObjectStore> = store.clone();
                [store.clone(), store.clone(), store]
            }
            (Backend::Local { .. }, StorageMode::Dedicated) => {
                return Err(StoreError::Invalid(
                    "dedicated storage needs STORAGE_BACKEND=s3".into(),
                ));
            }
            (Backend::S3 { shared, .. }, StorageMode::Shared) => {
                Area::ALL.map(|area| shared[area.as_str()].clone())
            }
            (
                Backend::S3 {
                    config, dedicated, ..
                },
                StorageMode::Dedicated,
            ) => {
                let mut cache = dedicated.lock().unwrap_or_else(|e| e.into_inner());
                let store = match cache.get(tenant) {
                    Some(store) => store.clone(),
                    None => {
                        let store = s3_store(config, &config.dedicated_bucket(tenant))?;
                        cache.insert(tenant.clone(), store.clone());
                        store
                    }
                };
                [store.clone(), store.clone(), store]
            }
        };
        Ok(TenantObjects {
            tenant: tenant.clone(),
            stores,
        })
    }

    /// Creates the tenant's dedicated bucket (S3 only).
    pub(crate) async fn create_dedicated_bucket(&self, tenant: &TenantId) -> StoreResult<()> {
        match &*self.backend {
            Backend::S3 { config, .. } => {
                buckets::create(config, &config.dedicated_bucket(tenant)).await
            }
            Backend::Local { .. } => Err(StoreError::Invalid(
                "dedicated storage needs STORAGE_BACKEND=s3".into(),
            )),
        }
    }

    /// Deletes every object of the tenant (and its dedicated bucket); returns how many objects.
    pub(crate) async fn purge_tenant(
        &self,
        tenant: &TenantId,
        mode: StorageMode,
    ) -> StoreResult<u64> {
        let objects = self.for_tenant(tenant, mode)?;
        let mut deleted = 0;
        for area in Area::ALL {
            deleted += objects.purge_area(area).await?;
        }
        if let (
            Backend::S3 {
                config, dedicated, ..
            },
            StorageMode::Dedicated,
        ) = (&*self.backend, mode)
        {
            buckets::delete(config, &config.dedicated_bucket(tenant)).await?;
            dedicated
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(tenant);
        }
        Ok(deleted)
    }

    /// How many objects the tenant has, in shared prefixes and in a dedicated bucket. A platform
    /// operation (offboarding checks, usage); a missing dedicated bucket counts as empty.
    pub async fn tenant_object_count(
        &self,
        _by: &PlatformAdmin,
        tenant: &TenantId,
    ) -> StoreResult<u64> {
        let mut count = 0;
        let mut modes = vec![StorageMode::Shared];
        if matches!(&*self.backend, Backend::S3 { .. }) {
            modes.push(StorageMode::Dedicated);
        }
        for mode in modes {
            let objects = self.for_tenant(tenant, mode)?;
            for area in Area::ALL {
                match objects.list(area, None).await {
                    Ok(names) => count += names.len() as u64,
                    Err(StoreError::Objects(err))
                        if mode == StorageMode::Dedicated && is_missing_bucket(&err) => {}
                    Err(err) => return Err(err),
                }
            }
        }
        Ok(count)
    }

    /// Readiness: the storage answers a listing.
    pub async fn ping(&self) -> StoreResult<()> {
        let store: Arc<dyn ObjectStore> = match &*self.backend {
            Backend::Local { store } => store.clone(),
            Backend::S3 { shared, .. } => shared[Area::Config.as_str()].clone(),
        };
        let _ = store.list(None).try_next().await?;
        Ok(())
    }

    /// Where a key lands on disk (local backend only), for tests of path containment.
    pub fn local_path(&self, key: &ObjectKey) -> Option<PathBuf> {
        match &*self.backend {
            Backend::Local { store } => store.path_to_filesystem(&Path::from(key.to_string())).ok(),
            Backend::S3 { .. } => None,
        }
    }
}

fn is_missing_bucket(err: &object_store::Error) -> bool {
    matches!(err, object_store::Error::NotFound { .. }) || err.to_string().contains("NoSuchBucket")
}

/// One tenant's objects. Every method takes a name relative to the tenant's area and validates it.
pub struct TenantObjects {
    tenant: TenantId,
    /// Indexed like `Area::ALL`.
    stores: [Arc<dyn ObjectStore>; 3],
}

impl TenantObjects {
    fn store(&self, area: Area) -> &Arc<dyn ObjectStore> {
        &self.stores[Area::ALL.iter().position(|a| *a == area).unwrap_or(0)]
    }

    fn location(&self, area: Area, name: &str) -> StoreResult<(ObjectKey, Path)> {
        let key = ObjectKey::new(area, &self.tenant, RelativeName::parse(name)?);
        let path = Path::parse(key.to_string())
            .map_err(|e| StoreError::Invalid(format!("invalid object path: {e}")))?;
        Ok((key, path))
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    pub async fn put(&self, area: Area, name: &str, bytes: Bytes) -> StoreResult<ObjectKey> {
        let (key, path) = self.location(area, name)?;
        let mut tags = TagSet::default();
        tags.push("tenant-id", self.tenant.as_str());
        let options = PutOptions {
            tags,
            ..PutOptions::default()
        };
        self.store(area)
            .put_opts(&path, PutPayload::from(bytes), options)
            .await?;
        Ok(key)
    }

    pub async fn get(&self, area: Area, name: &str) -> StoreResult<Bytes> {
        let (_, path) = self.location(area, name)?;
        match self.store(area).get(&path).await {
            Ok(result) => Ok(result.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => Err(StoreError::NotFound("object")),
            Err(err) => Err(err.into()),
        }
    }

    /// The object's size in bytes.
    pub async fn size(&self, area: Area, name: &str) -> StoreResult<u64> {
        let (_, path) = self.location(area, name)?;
        match self.store(area).head(&path).await {
            Ok(meta) => Ok(meta.size),
            Err(object_store::Error::NotFound { .. }) => Err(StoreError::NotFound("object")),
            Err(err) => Err(err.into()),
        }
    }

    /// The object (or bytes `range` of it, a ranged GET on S3) as a stream, so a long recording
    /// is served without holding it in memory.
    pub async fn stream(
        &self,
        area: Area,
        name: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> StoreResult<futures::stream::BoxStream<'static, StoreResult<Bytes>>> {
        let (_, path) = self.location(area, name)?;
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        match self.store(area).get_opts(&path, options).await {
            Ok(result) => Ok(Box::pin(result.into_stream().map_err(StoreError::from))),
            Err(object_store::Error::NotFound { .. }) => Err(StoreError::NotFound("object")),
            Err(err) => Err(err.into()),
        }
    }

    pub async fn delete(&self, area: Area, name: &str) -> StoreResult<()> {
        let (_, path) = self.location(area, name)?;
        match self.store(area).delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Names (relative to the tenant's area) of the objects under `prefix`, sorted.
    pub async fn list(&self, area: Area, prefix: Option<&str>) -> StoreResult<Vec<String>> {
        let base = ObjectKey::tenant_prefix(area, &self.tenant);
        let full = match prefix {
            Some(prefix) => format!("{base}/{}", RelativeName::parse(prefix)?.as_str()),
            None => base.clone(),
        };
        let path = Path::parse(&full)
            .map_err(|e| StoreError::Invalid(format!("invalid object path: {e}")))?;
        let metas: Vec<_> = self.store(area).list(Some(&path)).try_collect().await?;
        let strip = format!("{base}/");
        let mut names: Vec<String> = metas
            .into_iter()
            .filter_map(|meta| {
                meta.location
                    .as_ref()
                    .strip_prefix(&strip)
                    .map(str::to_owned)
            })
            .collect();
        names.sort();
        Ok(names)
    }

    async fn purge_area(&self, area: Area) -> StoreResult<u64> {
        let mut deleted = 0;
        for name in self.list(area, None).await? {
            self.delete(area, &name).await?;
            deleted += 1;
        }
        Ok(deleted)
    }
}
