//! Bucket creation and deletion for dedicated tenant buckets. `object_store` deliberately has no
//! bucket API, so these two calls are signed with `rusty-s3` (SigV4) and sent with reqwest.

use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use secrecy::ExposeSecret;

use super::S3Config;
use crate::{StoreError, StoreResult};

const SIGNATURE_TTL: Duration = Duration::from_secs(60);

fn bucket(config: &S3Config, name: &str) -> StoreResult<(Bucket, Credentials)> {
    let endpoint = config
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", config.region));
    let endpoint = endpoint
        .parse()
        .map_err(|_| StoreError::Bucket("S3_ENDPOINT is not a valid URL".into()))?;
    let bucket = Bucket::new(
        endpoint,
        UrlStyle::Path,
        name.to_owned(),
        config.region.clone(),
    )
    .map_err(|e| StoreError::Bucket(format!("bucket {name}: {e}")))?;
    let credentials = Credentials::new(
        config.access_key_id.clone().unwrap_or_default(),
        config
            .secret_access_key
            .as_ref()
            .map(|s| s.expose_secret().to_owned())
            .unwrap_or_default(),
    );
    Ok((bucket, credentials))
}

async fn send(
    method: reqwest::Method,
    url: url::Url,
    what: &str,
) -> StoreResult<reqwest::StatusCode> {
    let response = reqwest::Client::new()
        .request(method, url.as_str())
        // S3 wants a length even on an empty body (411 otherwise).
        .header(reqwest::header::CONTENT_LENGTH, 0)
        .send()
        .await
        .map_err(|e| StoreError::Bucket(format!("{what}: {e}")))?;
    Ok(response.status())
}

pub(super) async fn create(config: &S3Config, name: &str) -> StoreResult<()> {
    let (bucket, credentials) = bucket(config, name)?;
    let url = bucket.create_bucket(&credentials).sign(SIGNATURE_TTL);
    let status = send(reqwest::Method::PUT, url, "create bucket").await?;
    // 409 BucketAlreadyOwnedByYou: onboarding is retried after a crash.
    if status.is_success() || status == reqwest::StatusCode::CONFLICT {
        Ok(())
    } else {
        Err(StoreError::Bucket(format!(
            "create bucket {name}: HTTP {status}"
        )))
    }
}

pub(super) async fn delete(config: &S3Config, name: &str) -> StoreResult<()> {
    let (bucket, credentials) = bucket(config, name)?;
    let url = bucket.delete_bucket(&credentials).sign(SIGNATURE_TTL);
    let status = send(reqwest::Method::DELETE, url, "delete bucket").await?;
    if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
        Ok(())
    } else {
        Err(StoreError::Bucket(format!(
            "delete bucket {name}: HTTP {status}"
        )))
    }
}
