//! Test fixtures: a server on SQLite or on PostgreSQL (a fresh schema per test) seeded with the
//! demo bureau, devices that log in and push, and record builders.
//!
//! PostgreSQL is `ZHICHA_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`). When
//! it is unreachable the PostgreSQL variants say so loudly and pass, unless `ZHICHA_REQUIRE_PG=1`,
//! in which case they fail.

// Each test binary (and the benchmark) uses a different part of these helpers.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::Utc;
use serde_json::{Value, json};
use sqlx::Connection as _;
use tower::ServiceExt as _;
use uuid::Uuid;
use zhicha_core::ids::{DeviceId, EnterpriseId, FindingId, InspectionId, MutationId};
use zhicha_core::model::{
    Finding, FindingStatus, Inspection, InspectionKind, InspectorRef, Level, Measure, User,
};
use zhicha_core::protocol::{Mutation, MutationPayload, PushResponse};
use zhicha_server::operator::seed;
use zhicha_server::{AppState, Config, app};

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Generates one `#[tokio::test]` per backend for each listed `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(backend) = $crate::common::Backend::postgres().await {
                        super::$name(backend).await;
                    }
                }
            )*
        }
    };
}

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// The server URL; each test gets its own schema in it.
    Postgres(String),
}

impl Backend {
    /// PostgreSQL if reachable; None (with a loud note) if not, or a panic when required.
    pub async fn postgres() -> Option<Self> {
        let url = std::env::var("ZHICHA_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
        let required = std::env::var("ZHICHA_REQUIRE_PG").is_ok_and(|v| v == "1");
        match sqlx::PgConnection::connect(&url).await {
            Ok(conn) => {
                let _ = conn.close().await;
                Some(Self::Postgres(url))
            }
            Err(error) if required => {
                panic!("ZHICHA_REQUIRE_PG=1 but PostgreSQL at {url} is unreachable: {error}")
            }
            Err(error) => {
                eprintln!(
                    "!!! PostgreSQL at {url} unreachable ({error}): PostgreSQL variant NOT run; \
                     set ZHICHA_REQUIRE_PG=1 to make this a failure"
                );
                None
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }
}

/// Appends a `search_path` option to a PostgreSQL URL.
pub fn with_search_path(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// Creates a fresh schema and returns its name.
pub async fn create_schema(url: &str) -> String {
    let schema = format!("zt_{}", Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .expect("create schema");
    let _ = conn.close().await;
    schema
}

/// For a test that runs the real binary: on PostgreSQL a fresh schema and the `DATABASE_URL`
/// that selects it (drop the schema afterwards); on SQLite neither.
pub async fn fresh_database_url(backend: &Backend) -> (Option<String>, Option<String>) {
    match backend {
        Backend::Postgres(url) => {
            let schema = create_schema(url).await;
            let database_url = with_search_path(url, &schema);
            (Some(schema), Some(database_url))
        }
        Backend::Sqlite => (None, None),
    }
}

pub async fn drop_schema(url: &str, schema: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(url).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .execute(&mut conn)
            .await;
        let _ = conn.close().await;
    }
}

/// A configuration for `backend` in `dir`; for PostgreSQL a fresh schema (returned).
pub async fn config_for(backend: &Backend, dir: &std::path::Path) -> (Config, Option<String>) {
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>直查</title>",
    )
    .unwrap();
    let mut config = Config::for_tests(dir.join("data"), dist);
    let schema = match backend {
        Backend::Sqlite => None,
        Backend::Postgres(url) => {
            let schema = create_schema(url).await;
            config.database_url = Some(with_search_path(url, &schema));
            Some(schema)
        }
    };
    (config, schema)
}

/// The demo-seeded server, called in process.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub dir: tempfile::TempDir,
    pub backend: Backend,
    schema: Option<String>,
}

/// One response.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts a protocol error body with this status and code.
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let body = self.json();
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Like `start`, with the configuration changed by `adjust` first.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (mut config, schema) = config_for(&backend, dir.path()).await;
        adjust(&mut config);
        let state = AppState::open(config).await.expect("open the server state");
        seed::demo(&state.store, &state.passwords)
            .await
            .expect("seed the demo data");
        let router = app(state.clone());
        Self {
            state,
            router,
            dir,
            backend,
            schema,
        }
    }

    /// Closes the pools and drops the PostgreSQL schema.
    pub async fn finish(self) {
        self.state.store.close().await;
        if let (Backend::Postgres(url), Some(schema)) = (&self.backend, &self.schema) {
            drop_schema(url, schema).await;
        }
    }

    /// A direct connection to the server's database (SQLite file or the test's schema).
    pub async fn database(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        let url = self.state.config.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.dir.path().join("data").join("zhicha.db").display()
            )
        });
        sqlx::AnyConnection::connect(&url).await.unwrap()
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&json).unwrap())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// Logs `username` in (demo password) from a new device.
    pub async fn login(&self, username: &str) -> Device {
        self.login_device(username, DeviceId::new()).await
    }

    pub async fn login_device(&self, username: &str, device_id: DeviceId) -> Device {
        let reply = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "username": username, "password": seed::DEMO_PASSWORD, "device_id": device_id })),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let body = reply.json();
        let user: User = serde_json::from_value(body["user"].clone()).unwrap();
        Device {
            token: body["token"].as_str().unwrap().to_owned(),
            device_id,
            user,
            seq: AtomicU64::new(0),
        }
    }

    /// Pushes mutations and returns the parsed response (asserting 200).
    pub async fn push(&self, device: &Device, mutations: &[Mutation]) -> PushResponse {
        let reply = self.push_raw(device, mutations).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        serde_json::from_slice(&reply.body).unwrap()
    }

    pub async fn push_raw(&self, device: &Device, mutations: &[Mutation]) -> Reply {
        self.call(
            Method::POST,
            "/api/v1/sync/push",
            Some(&device.token),
            Some(json!({ "device_id": device.device_id, "mutations": mutations })),
        )
        .await
    }

    /// An enterprise id from the caller's bootstrap directory.
    pub async fn some_enterprise(&self, device: &Device) -> EnterpriseId {
        let reply = self.get("/api/v1/bootstrap", &device.token).await;
        assert_eq!(reply.status, StatusCode::OK);
        serde_json::from_value(reply.json()["enterprises"][0]["id"].clone()).unwrap()
    }

    /// Pulls everything visible to `device` from the start, following `has_more`.
    pub async fn pull_all(&self, device: &Device, limit: u32) -> Vec<Value> {
        let mut cursor = String::new();
        let mut changes = Vec::new();
        loop {
            let reply = self
                .get(
                    &format!("/api/v1/sync/pull?cursor={cursor}&limit={limit}"),
                    &device.token,
                )
                .await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            let page = reply.json();
            changes.extend(page["changes"].as_array().unwrap().iter().cloned());
            cursor = page["cursor"].as_str().unwrap().to_owned();
            if !page["has_more"].as_bool().unwrap() {
                return changes;
            }
        }
    }
}

/// A logged-in device with its own outbox seq.
pub struct Device {
    pub token: String,
    pub device_id: DeviceId,
    pub user: User,
    pub seq: AtomicU64,
}

impl Device {
    /// The next outbox mutation of this device.
    pub fn mutation(
        &self,
        entity_id: Uuid,
        base_rev: Option<i64>,
        payload: &MutationPayload,
    ) -> Mutation {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        Mutation::new(MutationId::new(), seq, entity_id, base_rev, payload)
    }

    /// A new inspection by this device's user in their team.
    pub fn inspection(&self, enterprise: EnterpriseId) -> Inspection {
        Inspection {
            entry: Default::default(),
            id: InspectionId::new(),
            org_id: self.user.org_id,
            enterprise_id: enterprise,
            kind: InspectionKind::Unannounced,
            packs: vec![zhicha_core::packs::latest_all()[0].pack_ref()],
            // Inspections are made by two officers.
            inspectors: vec![
                InspectorRef {
                    user_id: self.user.id,
                    name: self.user.display_name.clone(),
                    certificate_no: self.user.certificate_no.clone().unwrap_or_default(),
                },
                InspectorRef {
                    user_id: zhicha_core::ids::UserId::new(),
                    name: "同组执法人员".to_owned(),
                    certificate_no: "15062199".to_owned(),
                },
            ],
            created_by: self.user.id,
            started_at: Utc::now(),
            check_in: None,
            places: "主井口".to_owned(),
            item_results: vec![],
            summary: String::new(),
            finished_at: None,
            enterprise_signature: None,
            documents: vec![],
            reinspected_findings: vec![],
            fire_venues: vec![],
            inspector_signatures: vec![],
            recording: None,
            corrections: vec![],
        }
    }

    /// A new draft finding of `inspection` by this device's user.
    pub fn finding(&self, inspection: &Inspection) -> Finding {
        Finding {
            id: FindingId::new(),
            inspection_id: inspection.id,
            enterprise_id: inspection.enterprise_id,
            org_id: inspection.org_id,
            item_id: None,
            description: "安全出口被货物堵塞".to_owned(),
            place: "二层仓库".to_owned(),
            level: Level::General,
            legal_basis: "《中华人民共和国消防法》第二十八条".to_owned(),
            basis_unverified: false,
            measure: Measure::Deadline,
            deadline: Some(Utc::now().date_naive() + chrono::Days::new(15)),
            photos: vec![],
            after_photos: vec![],
            status: FindingStatus::Draft,
            supervised: false,
            created_by: self.user.id,
            created_at: Utc::now(),
            history: vec![],
            corrections: vec![],
        }
    }

    pub fn save_inspection(&self, inspection: &Inspection, base_rev: Option<i64>) -> Mutation {
        self.mutation(
            inspection.id.0,
            base_rev,
            &MutationPayload::InspectionSave(Box::new(inspection.clone())),
        )
    }

    pub fn save_finding(&self, finding: &Finding, base_rev: Option<i64>) -> Mutation {
        self.mutation(
            finding.id.0,
            base_rev,
            &MutationPayload::FindingSave(Box::new(finding.clone())),
        )
    }
}

/// A login request as if from `address` (the connection's peer, which the per-address login
/// limit counts).
pub fn login_from(address: &str, username: &str, password: &str) -> Request<Body> {
    let mut request = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "username": username, "password": password, "device_id": DeviceId::new() })
                .to_string(),
        ))
        .unwrap();
    let peer: std::net::SocketAddr = format!("{address}:40000").parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    request
}

/// Bytes that look like a JPEG (magic number) followed by `n` bytes of `fill`.
pub fn jpeg(n: usize, fill: u8) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend(std::iter::repeat_n(fill, n));
    bytes
}

/// Asserts that every mutation of a push was applied (and that there were some: a push that
/// stopped at a seq gap answers no acks at all).
pub fn assert_applied(response: &PushResponse) {
    assert!(
        !response.acks.is_empty()
            && response.gap.is_none()
            && response
                .acks
                .iter()
                .all(|a| a.status == zhicha_core::protocol::AckStatus::Applied),
        "{response:?}"
    );
}

/// An inspection and a finding of `device`'s team, pushed and applied.
pub async fn recorded(t: &TestApp, device: &Device) -> (Inspection, Finding) {
    let inspection = device.inspection(t.some_enterprise(device).await);
    let finding = device.finding(&inspection);
    let response = t
        .push(
            device,
            &[
                device.save_inspection(&inspection, None),
                device.save_finding(&finding, None),
            ],
        )
        .await;
    assert_applied(&response);
    (inspection, finding)
}

/// The test S3 store: `ZHICHA_TEST_S3_ENDPOINT` (a SeaweedFS that `scripts/test` starts). When
/// it is unset or does not answer, S3 tests say so loudly and pass, unless `ZHICHA_REQUIRE_S3=1`
/// (set by `scripts/test`), in which case they fail.
pub async fn s3_endpoint() -> Option<String> {
    let required = std::env::var("ZHICHA_REQUIRE_S3").is_ok_and(|v| v == "1");
    let problem = match std::env::var("ZHICHA_TEST_S3_ENDPOINT") {
        Err(_) => "ZHICHA_TEST_S3_ENDPOINT is not set".to_owned(),
        Ok(endpoint) => match reqwest::get(format!("{endpoint}/")).await {
            Ok(_) => return Some(endpoint.trim_end_matches('/').to_owned()),
            Err(error) => format!("S3 at {endpoint} unreachable ({error})"),
        },
    };
    assert!(!required, "ZHICHA_REQUIRE_S3=1 but {problem}");
    eprintln!(
        "!!! {problem}: S3 test NOT run; scripts/test starts SeaweedFS for it \
         (set ZHICHA_REQUIRE_S3=1 to make this a failure)"
    );
    None
}

/// Creates a fresh bucket in the test store and returns its name. SeaweedFS without configured
/// identities takes an unsigned request.
pub async fn create_bucket(endpoint: &str) -> String {
    let bucket = format!("zt-{}", Uuid::now_v7().simple());
    let client = reqwest::Client::new();
    let mut last = String::new();
    // Just after start-up SeaweedFS may answer 5xx for a moment.
    for _ in 0..50 {
        match client.put(format!("{endpoint}/{bucket}")).send().await {
            Ok(r) if r.status().is_success() => return bucket,
            Ok(r) => last = format!("{}: {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("could not create bucket {bucket} at {endpoint}: {last}");
}

/// Points `config`'s photo store at `bucket` of the test store.
pub fn use_s3(config: &mut Config, endpoint: &str, bucket: &str, create_only: bool) {
    config.s3.bucket = Some(bucket.to_owned());
    config.s3.endpoint = Some(endpoint.to_owned());
    config.s3.region = "us-east-1".to_owned();
    config.s3.access_key_id = Some("zhicha-test".to_owned());
    config.s3.secret_access_key = Some("zhicha-test".to_owned());
    config.s3.allow_http = true;
    config.s3.create_only = create_only;
}

/// The same settings as environment variables, for the real binary.
pub fn s3_env(endpoint: &str, bucket: &str, create_only: bool) -> Vec<(&'static str, String)> {
    vec![
        ("ZHICHA_S3_BUCKET", bucket.to_owned()),
        ("ZHICHA_S3_ENDPOINT", endpoint.to_owned()),
        ("ZHICHA_S3_REGION", "us-east-1".to_owned()),
        ("ZHICHA_S3_ACCESS_KEY_ID", "zhicha-test".to_owned()),
        ("ZHICHA_S3_SECRET_ACCESS_KEY", "zhicha-test".to_owned()),
        ("ZHICHA_S3_ALLOW_HTTP", "true".to_owned()),
        ("ZHICHA_S3_CREATE_ONLY", create_only.to_string()),
    ]
}

/// A client of `bucket` in the test store, to look at what the server wrote.
pub fn bucket_client(endpoint: &str, bucket: &str) -> object_store::aws::AmazonS3 {
    object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_endpoint(endpoint)
        .with_region("us-east-1")
        .with_access_key_id("zhicha-test")
        .with_secret_access_key("zhicha-test")
        .with_allow_http(true)
        .build()
        .expect("an S3 client for the test bucket")
}

/// Every object in `bucket` with its bytes, by key.
pub async fn bucket_objects(
    endpoint: &str,
    bucket: &str,
) -> std::collections::BTreeMap<String, Bytes> {
    use futures_util::TryStreamExt as _;
    use object_store::{ObjectStore as _, ObjectStoreExt as _};
    let client = bucket_client(endpoint, bucket);
    let metas: Vec<_> = client
        .list(None)
        .try_collect()
        .await
        .expect("list the bucket");
    let mut objects = std::collections::BTreeMap::new();
    for meta in metas {
        let bytes = client
            .get(&meta.location)
            .await
            .expect("get an object")
            .bytes()
            .await
            .expect("read an object");
        objects.insert(meta.location.to_string(), bytes);
    }
    objects
}
