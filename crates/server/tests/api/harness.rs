//! `TestApp`: a fresh database (SQLite file in a temp dir, or a new PostgreSQL database dropped on
//! `Drop`), fresh storage (a temp dir, or new S3 buckets), and the real router driven in-process.

#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode};
use serde_json::{Value, json};
use switchboard_server::receptionist::Receptionist;
use switchboard_server::{AppState, ServerConfig, router};
use switchboard_store::auth::jwt::{JwtIssuerConfig, JwtVerifier};
use switchboard_store::auth::twilio::PlatformTwilio;
use switchboard_store::auth::{Authenticated, Authenticator};
use switchboard_store::group_commit::GroupCommit;
use switchboard_store::objects::S3Config;
use switchboard_store::repo::platform_accounts;
use switchboard_store::secrets::{Keyring, MasterKey};
use switchboard_store::{
    Backend, Db, DbConfig, PlatformAdmin, Storage, StorageConfig, TenantScope,
};
use tower::ServiceExt;

pub const PASSWORD: &str = "correct-horse-battery";

pub fn backend() -> Backend {
    match std::env::var("SWITCHBOARD_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

pub fn s3_endpoint() -> Option<String> {
    match std::env::var("SWITCHBOARD_TEST_STORAGE").as_deref() {
        Ok("s3") => Some(
            std::env::var("SWITCHBOARD_TEST_S3_ENDPOINT")
                .expect("SWITCHBOARD_TEST_STORAGE=s3 needs SWITCHBOARD_TEST_S3_ENDPOINT"),
        ),
        _ => None,
    }
}

fn random_suffix() -> String {
    use rand::Rng;
    hex::encode(rand::rng().random::<[u8; 6]>())
}

/// A PostgreSQL database of its own, dropped with the test.
pub struct PgDatabase {
    pub name: String,
    pub owner_url: String,
    pub app_url: String,
    admin_url: String,
}

fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("database url");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

impl PgDatabase {
    async fn create() -> PgDatabase {
        use sqlx::Connection;
        let owner = std::env::var("SWITCHBOARD_TEST_PG_OWNER_URL")
            .expect("SWITCHBOARD_TEST_BACKEND=postgres needs SWITCHBOARD_TEST_PG_OWNER_URL");
        let app = std::env::var("SWITCHBOARD_TEST_PG_APP_URL")
            .expect("SWITCHBOARD_TEST_BACKEND=postgres needs SWITCHBOARD_TEST_PG_APP_URL");
        let name = format!("sbtest_{}", random_suffix());
        let mut conn = sqlx::PgConnection::connect(&owner)
            .await
            .expect("owner connection");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        PgDatabase {
            owner_url: with_database(&owner, &name),
            app_url: with_database(&app, &name),
            admin_url: owner,
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Dropped outside the test's runtime, which may be shutting down.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
    }
}

pub struct TestAppBuilder {
    max_upload_bytes: u64,
    issuers: Vec<JwtIssuerConfig>,
    pool_size: u32,
    per_tenant_buckets: bool,
    public_url: Option<String>,
    engines: Option<Arc<switchboard_pipeline::Engines>>,
    twilio: Option<PlatformTwilio>,
}

pub struct TestApp {
    pub router: Router,
    pub db: Db,
    pub db_config: DbConfig,
    pub storage: Storage,
    pub storage_root: Option<std::path::PathBuf>,
    pub auth: Authenticator,
    pub keyring: Arc<Keyring>,
    pub operator: PlatformAdmin,
    pub platform_token: String,
    pub pg: Option<PgDatabase>,
    pub s3: Option<S3Config>,
    pub receptionist: Arc<Receptionist>,
    pub state: AppState,
    restart_with: (
        Option<Arc<switchboard_pipeline::Engines>>,
        Option<PlatformTwilio>,
    ),
    _dir: tempfile::TempDir,
}

/// A tenant made through the platform API, with an admin and a member token.
#[derive(Clone, Debug)]
pub struct TestTenant {
    pub id: String,
    pub admin_email: String,
    pub admin_token: String,
    pub member_token: String,
}

#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    Session {
        cookie: &'a str,
        csrf: Option<&'a str>,
    },
}

#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
    pub bytes: Vec<u8>,
}

impl Response {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

async fn create_bucket(endpoint: &str, name: &str) {
    let status = reqwest::Client::new()
        .put(format!("{endpoint}/{name}"))
        .send()
        .await
        .expect("create bucket")
        .status();
    assert!(status.is_success(), "creating bucket {name}: {status}");
}

impl TestAppBuilder {
    pub fn issuers(mut self, issuers: Vec<JwtIssuerConfig>) -> Self {
        self.issuers = issuers;
        self
    }

    pub fn max_upload_bytes(mut self, bytes: u64) -> Self {
        self.max_upload_bytes = bytes;
        self
    }

    pub fn pool_size(mut self, size: u32) -> Self {
        self.pool_size = size;
        self
    }

    pub fn per_tenant_buckets(mut self) -> Self {
        self.per_tenant_buckets = true;
        self
    }

    /// The public base URL Twilio signs webhooks with.
    pub fn public_url(mut self, url: &str) -> Self {
        self.public_url = Some(url.to_owned());
        self
    }

    /// Engines for the receptionist (without: lexical matching, no language model).
    pub fn engines(mut self, engines: Arc<switchboard_pipeline::Engines>) -> Self {
        self.engines = Some(engines);
        self
    }

    /// The platform's Twilio account.
    pub fn platform_twilio(mut self, account_sid: &str, auth_token: &str) -> Self {
        self.twilio = Some(PlatformTwilio {
            account_sid: Some(account_sid.to_owned()),
            auth_token: auth_token.to_owned().into(),
        });
        self
    }

    pub async fn build(self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db_config, pg) = match backend() {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                (DbConfig::new(url), None)
            }
            Backend::Postgres => {
                let pg = PgDatabase::create().await;
                let mut config = DbConfig::new(pg.app_url.clone());
                config.migration_url = Some(pg.owner_url.clone().into());
                (config, Some(pg))
            }
        };
        let db_config = DbConfig {
            max_connections: self.pool_size,
            ..db_config
        };
        Db::migrate(&db_config).await.expect("migrate");
        let db = Db::connect(&db_config).await.expect("connect");

        let (storage_config, storage_root, s3) = match s3_endpoint() {
            None => {
                let root = dir.path().join("objects");
                (
                    StorageConfig::Local { root: root.clone() },
                    Some(root),
                    None,
                )
            }
            Some(endpoint) => {
                let prefix = format!("sbt-{}", random_suffix());
                let s3 = S3Config {
                    endpoint: Some(endpoint.clone()),
                    region: "us-east-1".into(),
                    access_key_id: Some("testing".into()),
                    secret_access_key: Some("testing".to_owned().into()),
                    input_bucket: format!("{prefix}-input"),
                    results_bucket: format!("{prefix}-results"),
                    config_bucket: format!("{prefix}-config"),
                    per_tenant_buckets: self.per_tenant_buckets,
                    bucket_prefix: format!("{prefix}-t"),
                };
                for bucket in [&s3.input_bucket, &s3.results_bucket, &s3.config_bucket] {
                    create_bucket(&endpoint, bucket).await;
                }
                (StorageConfig::S3(s3.clone()), None, Some(s3))
            }
        };
        let storage = Storage::open(&storage_config).expect("storage");

        let jwt = if self.issuers.is_empty() {
            None
        } else {
            Some(JwtVerifier::new(self.issuers).expect("issuers"))
        };
        let auth = Authenticator::new(db.clone(), jwt);
        let keyring = Arc::new(Keyring::new(
            MasterKey::from_base64(&MasterKey::generate_base64()).unwrap(),
            vec![],
        ));
        let operator = PlatformAdmin::operator_console("tests");
        let mut tx = db.platform(&operator).await.unwrap();
        let (_, platform_token) = platform_accounts::create_token(&mut tx, &operator, "tests")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        switchboard_server::receptionist::seed_builtin_templates(&db, &operator)
            .await
            .expect("templates");
        let receptionist = Arc::new(Receptionist::new(self.engines.clone(), self.twilio.clone()));

        let state = AppState {
            db: db.clone(),
            commits: Arc::new(GroupCommit::new(db.clone())),
            storage: storage.clone(),
            auth: auth.clone(),
            keyring: keyring.clone(),
            config: Arc::new(ServerConfig {
                max_upload_bytes: self.max_upload_bytes,
                public_url: self.public_url.clone(),
                ..ServerConfig::default()
            }),
            receptionist: receptionist.clone(),
        };
        TestApp {
            router: router(state.clone()),
            state,
            restart_with: (self.engines, self.twilio),
            db,
            db_config,
            storage,
            storage_root,
            auth,
            keyring,
            operator,
            platform_token,
            pg,
            s3,
            receptionist,
            _dir: dir,
        }
    }
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            max_upload_bytes: switchboard_server::state::DEFAULT_MAX_UPLOAD_BYTES,
            issuers: Vec::new(),
            pool_size: 5,
            per_tenant_buckets: false,
            public_url: None,
            engines: None,
            twilio: None,
        }
    }

    pub async fn new() -> TestApp {
        TestApp::builder().build().await
    }

    /// The same server after a restart: same database and storage, nothing cached in memory.
    pub fn restart(&mut self) {
        let (engines, twilio) = self.restart_with.clone();
        self.receptionist = Arc::new(Receptionist::new(engines, twilio));
        self.router = router(AppState {
            receptionist: self.receptionist.clone(),
            commits: Arc::new(GroupCommit::new(self.db.clone())),
            ..self.state.clone()
        });
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> Response {
        let mut request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path);
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => {
                request = request.header("authorization", format!("Bearer {token}"))
            }
            Auth::Session { cookie, csrf } => {
                request = request.header("cookie", format!("sb_session={cookie}"));
                if let Some(csrf) = csrf {
                    request = request.header("x-csrf-token", csrf);
                }
            }
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        self.send(request).await
    }

    pub async fn send(&self, request: Request<Body>) -> Response {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 16 << 20)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            body,
            text,
            bytes: bytes.to_vec(),
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.call("GET", path, Auth::Bearer(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.call("POST", path, Auth::Bearer(token), Some(body))
            .await
    }

    /// Logs in with the JSON API; returns (cookie value, csrf token).
    pub async fn login(
        &self,
        tenant: Option<&str>,
        email: &str,
        password: &str,
    ) -> Result<(String, String), Response> {
        let response = self
            .call(
                "POST",
                "/api/v1/auth/login",
                Auth::None,
                Some(json!({ "tenant": tenant, "email": email, "password": password })),
            )
            .await;
        if response.status != StatusCode::OK {
            return Err(response);
        }
        let set_cookie = response.headers["set-cookie"].to_str().unwrap().to_owned();
        let cookie = set_cookie
            .split(';')
            .next()
            .and_then(|pair| pair.strip_prefix("sb_session="))
            .unwrap()
            .to_owned();
        Ok((
            cookie,
            response.body["csrf_token"].as_str().unwrap().to_owned(),
        ))
    }

    /// Onboards a tenant through the platform API and mints an admin and a member token.
    pub async fn tenant(&self, id: &str) -> TestTenant {
        let admin_email = format!("admin@{id}.test");
        let created = self
            .post("/api/v1/platform/tenants", &self.platform_token, json!({
                "id": id, "name": format!("{id} Inc."), "admin_email": admin_email, "admin_password": PASSWORD,
            }))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let (cookie, csrf) = self.login(Some(id), &admin_email, PASSWORD).await.unwrap();
        let session = Auth::Session {
            cookie: &cookie,
            csrf: Some(&csrf),
        };
        let mut tokens = Vec::new();
        for role in ["admin", "member"] {
            let made = self
                .call(
                    "POST",
                    "/api/v1/tokens",
                    session,
                    Some(json!({ "name": role, "role": role })),
                )
                .await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
            tokens.push(made.body["secret"].as_str().unwrap().to_owned());
        }
        TestTenant {
            id: id.to_owned(),
            admin_email,
            admin_token: tokens[0].clone(),
            member_token: tokens[1].clone(),
        }
    }

    /// The scope a token proves, for tests that use the storage API directly.
    pub async fn scope(&self, token: &str) -> TenantScope {
        match self.auth.bearer(token).await.expect("valid token") {
            Authenticated::Tenant { scope, .. } => scope,
            other => panic!("not a tenant credential: {other:?}"),
        }
    }

    /// Rows of `table` that belong to `tenant`, counted by the owner role with the tenant set (so
    /// PostgreSQL's row-level security shows them).
    pub async fn count_rows(&self, table: &str, tenant: &str) -> i64 {
        use sqlx::{Connection, Row};
        let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = $1");
        match &self.pg {
            Some(pg) => {
                let mut conn = sqlx::PgConnection::connect(&pg.owner_url).await.unwrap();
                let mut tx = conn.begin().await.unwrap();
                sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
                    .bind(tenant)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(tenant)
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
                row.get::<i64, _>("n")
            }
            None => {
                let url = secrecy::ExposeSecret::expose_secret(&self.db_config.url).to_owned();
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(tenant)
                    .fetch_one(&mut conn)
                    .await
                    .unwrap();
                row.get::<i64, _>("n")
            }
        }
    }
}

/// `GET /<bucket>/<key>?tagging` against the S3 test server, signed (SigV4) with the test keys.
pub async fn s3_get_tagging(endpoint: &str, bucket: &str, key: &str) -> String {
    use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
    let bucket = Bucket::new(
        endpoint.parse().unwrap(),
        UrlStyle::Path,
        bucket.to_owned(),
        "us-east-1",
    )
    .unwrap();
    let credentials = Credentials::new("testing", "testing");
    let mut action = bucket.get_object(Some(&credentials), key);
    action.query_mut().insert("tagging", "");
    let url = action.sign(std::time::Duration::from_secs(60));
    reqwest::get(url.as_str())
        .await
        .expect("tagging request")
        .text()
        .await
        .unwrap()
}

/// A signed `ListObjectsV2` of a bucket: (HTTP status, body).
pub async fn s3_list(endpoint: &str, bucket: &str) -> (u16, String) {
    use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
    let bucket = Bucket::new(
        endpoint.parse().unwrap(),
        UrlStyle::Path,
        bucket.to_owned(),
        "us-east-1",
    )
    .unwrap();
    let credentials = Credentials::new("testing", "testing");
    let url = bucket
        .list_objects_v2(Some(&credentials))
        .sign(std::time::Duration::from_secs(60));
    let response = reqwest::get(url.as_str()).await.expect("list request");
    (response.status().as_u16(), response.text().await.unwrap())
}

pub use crate::fixtures::wav;

/// One multipart part: (name, filename, bytes).
pub type Part<'a> = (&'a str, Option<&'a str>, Vec<u8>);

impl TestApp {
    /// `POST /api/v1/calls` with a multipart body built from `parts`.
    pub async fn upload(&self, token: &str, parts: &[Part<'_>]) -> Response {
        let boundary = "switchboard-test-boundary-7d1f";
        let mut body = Vec::new();
        for (name, filename, bytes) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match filename {
                Some(file) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
                ),
                None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let request = Request::post("/api/v1/calls")
            .header("authorization", format!("Bearer {token}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }
}

impl TestApp {
    pub async fn run_sync_request(&self, token: &str) -> Response {
        self.call("POST", "/api/v1/ingest/oak/run", Auth::Bearer(token), None)
            .await
    }
}
