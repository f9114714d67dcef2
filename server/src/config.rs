//! Server configuration: one struct, defaults overridden by environment variables or flags.
//!
//! | variable | default | what it does |
//! | --- | --- | --- |
//! | `ZHICHA_ADDR` | `127.0.0.1:8080` | address to listen on |
//! | `ZHICHA_DATA` | `data` | folder of the SQLite database, local photo store and upload temp files |
//! | `ZHICHA_DIST` | `dist` | folder of the built PWA served at `/` |
//! | `DATABASE_URL` | unset | a `postgres://` URL selects PostgreSQL; unset or `sqlite://` uses SQLite in `ZHICHA_DATA` |
//! | `ZHICHA_DEMO` | `false` | `serve`: seed the demo bureau when the database is empty and print the accounts |
//! | `ZHICHA_S3_BUCKET` | unset | store photos in this S3-compatible bucket instead of `ZHICHA_DATA/photos` |
//! | `ZHICHA_S3_ENDPOINT` | unset | endpoint of an S3-compatible service (MinIO, OSS, COS …) |
//! | `ZHICHA_S3_REGION` | `us-east-1` | S3 region |
//! | `ZHICHA_S3_ACCESS_KEY_ID` / `ZHICHA_S3_SECRET_ACCESS_KEY` | unset | S3 credentials (secret redacted in logs) |
//! | `ZHICHA_S3_ALLOW_HTTP` | `false` | allow a plain-http endpoint (a local MinIO) |
//! | `ZHICHA_S3_CREATE_ONLY` | `true` | write photos create-only (`If-None-Match: *`); `false` for stores that reject or ignore that header (Aliyun OSS, Tencent COS): a lookup, then a plain write when the photo is absent — safe because a photo's name is its content hash |
//! | `ZHICHA_TOKEN_TTL_HOURS` | `720` | lifetime of a login token (an offline session lasts until then) |
//! | `ZHICHA_LOGIN_MAX_FAILURES` | `5` | failed logins for one user name from one client address within the window before 429 |
//! | `ZHICHA_LOGIN_MAX_PER_ADDRESS` | `30` | failed logins from one client address (any user name) within the window before 429 |
//! | `ZHICHA_LOGIN_WINDOW_SECS` | `900` | the login rate-limit window |
//! | `ZHICHA_CLIENT_IP_HEADER` | unset | behind a reverse proxy: the header that carries the client address (`X-Forwarded-For`: its last entry; `X-Real-IP`); unset: the connection's peer address |
//! | `ZHICHA_ARGON2_M_KIB` / `ZHICHA_ARGON2_T` / `ZHICHA_ARGON2_P` | `19456` / `2` / `1` | argon2id cost (the recommended defaults; tests lower them) |
//! | `ZHICHA_HASHING_SLOTS` | cores − 1 (at least 1) | password checks run at once, each on its own thread with one argon2 block; as many again may wait, more answer 503 |
//! | `ZHICHA_PHOTO_QUOTA_MB` | `2048` | megabytes of new photos one user may upload within 24 hours (429 past it) |
//! | `ZHICHA_MAX_UPLOADS` | `16` | photo uploads received at once; 16 times as many wait their turn, more answer 503 |
//! | `ZHICHA_BODY_TIMEOUT_SECS` | `30` | longest pause while a request body arrives (408 past it) |
//! | `ZHICHA_REQUEST_TIMEOUT_SECS` | `120` | longest a handler may take to answer (503 past it) |
//! | `ZHICHA_TLS_CERT` / `ZHICHA_TLS_KEY` | unset | PEM certificate chain and key: HTTPS on `ZHICHA_ADDR` |
//! | `ZHICHA_REDIRECT_ADDR` | unset | with TLS: a plain-HTTP listener that redirects to HTTPS |

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// How the server runs. Every field is listed above with its variable.
#[derive(Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "ZHICHA_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Folder for the SQLite database and the photo store.
    #[arg(long, env = "ZHICHA_DATA", default_value = "data")]
    pub data: PathBuf,
    /// Folder of the built PWA (`trunk build` output) served at `/`.
    #[arg(long, env = "ZHICHA_DIST", default_value = "dist")]
    pub dist: PathBuf,
    /// `postgres://…` for PostgreSQL; unset (or `sqlite://…`) for SQLite in the data folder.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Seed the demo bureau when the database is empty, and print the demo accounts.
    #[arg(long, env = "ZHICHA_DEMO", value_parser = clap::builder::FalseyValueParser::new())]
    pub demo: bool,
    #[command(flatten)]
    pub s3: S3Config,
    #[command(flatten)]
    pub auth: AuthConfig,
    #[command(flatten)]
    pub limits: LimitsConfig,
    #[command(flatten)]
    pub tls: crate::tls::TlsConfig,
}

/// Bounds on what one user or one request may take of the server.
#[derive(Clone, Debug, Args)]
pub struct LimitsConfig {
    /// Megabytes of new photos one user may upload within 24 hours.
    #[arg(long, env = "ZHICHA_PHOTO_QUOTA_MB", default_value_t = 2048)]
    pub photo_quota_mb: u64,
    /// Photo uploads received at once.
    #[arg(long, env = "ZHICHA_MAX_UPLOADS", default_value_t = 16)]
    pub max_uploads: usize,
    /// Longest pause, in seconds, while a request body arrives.
    #[arg(long, env = "ZHICHA_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,
    /// Longest a handler may take to answer, in seconds.
    #[arg(long, env = "ZHICHA_REQUEST_TIMEOUT_SECS", default_value_t = 120)]
    pub request_timeout_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            photo_quota_mb: 2048,
            max_uploads: 16,
            body_timeout_secs: 30,
            request_timeout_secs: 120,
        }
    }
}

/// S3-compatible photo storage; used when `bucket` is set.
#[derive(Clone, Args)]
pub struct S3Config {
    #[arg(id = "s3_bucket", long = "s3-bucket", env = "ZHICHA_S3_BUCKET")]
    pub bucket: Option<String>,
    #[arg(id = "s3_endpoint", long = "s3-endpoint", env = "ZHICHA_S3_ENDPOINT")]
    pub endpoint: Option<String>,
    #[arg(
        id = "s3_region",
        long = "s3-region",
        env = "ZHICHA_S3_REGION",
        default_value = "us-east-1"
    )]
    pub region: String,
    #[arg(
        id = "s3_access_key_id",
        long = "s3-access-key-id",
        env = "ZHICHA_S3_ACCESS_KEY_ID"
    )]
    pub access_key_id: Option<String>,
    #[arg(
        id = "s3_secret_access_key",
        long = "s3-secret-access-key",
        env = "ZHICHA_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub secret_access_key: Option<String>,
    #[arg(
        id = "s3_allow_http",
        long = "s3-allow-http",
        env = "ZHICHA_S3_ALLOW_HTTP",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub allow_http: bool,
    /// Write photos create-only (`If-None-Match: *`). Off for stores that reject or ignore the
    /// header: the photo is looked up and written plainly when absent, which is safe because
    /// its name is the hash of its bytes (two writers of one name write the same bytes).
    #[arg(
        id = "s3_create_only",
        long = "s3-create-only",
        env = "ZHICHA_S3_CREATE_ONLY",
        default_value = "true",
        action = clap::ArgAction::Set,
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub create_only: bool,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            bucket: None,
            endpoint: None,
            region: "us-east-1".to_owned(),
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
            create_only: true,
        }
    }
}

/// Sessions, the login rate limit and the password hash cost.
#[derive(Clone, Debug, Args)]
pub struct AuthConfig {
    /// Hours a login token stays valid.
    #[arg(long, env = "ZHICHA_TOKEN_TTL_HOURS", default_value_t = 720)]
    pub token_ttl_hours: i64,
    /// Failed logins for one user name from one client address within the window before 429.
    #[arg(long, env = "ZHICHA_LOGIN_MAX_FAILURES", default_value_t = 5)]
    pub login_max_failures: i64,
    /// Failed logins from one client address, any user name, within the window before 429.
    #[arg(long, env = "ZHICHA_LOGIN_MAX_PER_ADDRESS", default_value_t = 30)]
    pub login_max_per_address: i64,
    /// Behind a reverse proxy: the request header that carries the client's address.
    #[arg(long, env = "ZHICHA_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// Password checks run at once (default: one fewer than the cores, at least one).
    #[arg(long, env = "ZHICHA_HASHING_SLOTS")]
    pub hashing_slots: Option<usize>,
    /// Length of the login rate-limit window in seconds.
    #[arg(long, env = "ZHICHA_LOGIN_WINDOW_SECS", default_value_t = 900)]
    pub login_window_secs: i64,
    /// argon2id memory cost in KiB.
    #[arg(long, env = "ZHICHA_ARGON2_M_KIB", default_value_t = argon2::Params::DEFAULT_M_COST)]
    pub argon2_m_kib: u32,
    /// argon2id iterations.
    #[arg(long, env = "ZHICHA_ARGON2_T", default_value_t = argon2::Params::DEFAULT_T_COST)]
    pub argon2_t: u32,
    /// argon2id parallelism.
    #[arg(long, env = "ZHICHA_ARGON2_P", default_value_t = argon2::Params::DEFAULT_P_COST)]
    pub argon2_p: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            token_ttl_hours: 720,
            login_max_failures: 5,
            login_max_per_address: 30,
            client_ip_header: None,
            hashing_slots: None,
            login_window_secs: 900,
            argon2_m_kib: argon2::Params::DEFAULT_M_COST,
            argon2_t: argon2::Params::DEFAULT_T_COST,
            argon2_p: argon2::Params::DEFAULT_P_COST,
        }
    }
}

impl AuthConfig {
    /// The cheapest argon2 parameters the crate accepts, and room for parallel logins: for
    /// tests only.
    pub fn fast_for_tests() -> Self {
        Self {
            argon2_m_kib: argon2::Params::MIN_M_COST.max(8),
            argon2_t: 1,
            // Hashing this cheap needs no gate; tests of the gate set their own.
            hashing_slots: Some(64),
            ..Self::default()
        }
    }
}

impl Config {
    /// A configuration for tests: data and dist in the given folders, any free port, SQLite,
    /// cheap password hashing.
    pub fn for_tests(data: PathBuf, dist: PathBuf) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data,
            dist,
            database_url: None,
            demo: false,
            s3: S3Config::default(),
            auth: AuthConfig::fast_for_tests(),
            limits: LimitsConfig::default(),
            tls: crate::tls::TlsConfig::default(),
        }
    }

    /// True when `DATABASE_URL` names a PostgreSQL database.
    pub fn uses_postgres(&self) -> bool {
        self.database_url
            .as_deref()
            .is_some_and(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
    }
}

/// Shows a secret as `***` so configuration can be logged.
fn redact(secret: Option<&str>) -> Option<&'static str> {
    secret.map(|_| "***")
}

/// Only the scheme and host part of a database URL: user names and passwords stay out of logs.
fn redact_url(url: Option<&str>) -> Option<String> {
    url.map(|url| match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://***@{host}"),
        _ => url.to_owned(),
    })
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("data", &self.data)
            .field("dist", &self.dist)
            .field("database_url", &redact_url(self.database_url.as_deref()))
            .field("demo", &self.demo)
            .field("s3", &self.s3)
            .field("auth", &self.auth)
            .field("limits", &self.limits)
            .field("tls", &self.tls)
            .finish()
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &redact(self.secret_access_key.as_deref()),
            )
            .field("allow_http", &self.allow_http)
            .field("create_only", &self.create_only)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secrets() {
        let mut config = Config::for_tests("data".into(), "dist".into());
        config.database_url = Some("postgres://zhicha:hunter2@db.example:5432/zhicha".into());
        config.s3.secret_access_key = Some("s3cr3t".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("db.example:5432/zhicha"), "{shown}");
    }

    #[test]
    fn only_postgres_urls_select_postgres() {
        let mut config = Config::for_tests("data".into(), "dist".into());
        assert!(!config.uses_postgres());
        config.database_url = Some("sqlite://other.db".into());
        assert!(!config.uses_postgres());
        config.database_url = Some("postgresql://localhost/test".into());
        assert!(config.uses_postgres());
    }
}
