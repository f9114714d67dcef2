//! `zhicha-server`: the sync server of 直查 — the HTTP API under `/api/v1` and the built PWA.

pub mod access;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod operator;
pub mod photos;
pub mod routes;
pub mod rules;
pub mod scope;
pub mod serve;
pub mod tls;
pub mod web;

use std::sync::Arc;

use axum::Router;

pub use config::Config;
pub use db::Store;
pub use error::ApiError;

use crate::auth::Passwords;
use crate::photos::PhotoStore;

/// Everything a request handler may need, cheap to clone. Nothing here is state another
/// replica would need: sessions, rate limits and sync state all live in the database.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub photos: PhotoStore,
    pub passwords: Passwords,
    /// Photo uploads received at once.
    pub uploads: access::Gate,
}

impl AppState {
    /// Opens the database (running migrations) and the photo store named by `config`.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let store = Store::open(&config).await?;
        let photos = PhotoStore::open(&config)?;
        let passwords = Passwords::new(&config.auth)?;
        // An upload waiting its turn has read none of its body yet: it costs a connection, not
        // memory, so many may wait; only the ones receiving hold their bytes.
        let uploads =
            access::Gate::with_queue(config.limits.max_uploads, config.limits.max_uploads * 16);
        Ok(Self {
            config: Arc::new(config),
            store,
            photos,
            passwords,
            uploads,
        })
    }
}

/// The whole HTTP application: the API, the health and readiness checks and the PWA, behind
/// the access log (one INFO line per request, with its `x-request-id`), the body and handler
/// timeouts, compression and the security headers. Used by `serve` and tests.
pub fn app(state: AppState) -> Router {
    use std::time::Duration;

    use axum::http::HeaderName;
    use tower_http::compression::Predicate as _;
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
    use tower_http::timeout::RequestBodyTimeoutLayer;

    let request_id = HeaderName::from_static("x-request-id");
    let limits = &state.config.limits;
    let handler_timeout = Duration::from_secs(limits.request_timeout_secs);
    let router = Router::new()
        .nest("/api/v1", routes::api())
        .route("/healthz", axum::routing::get(routes::health::healthz))
        .route("/readyz", axum::routing::get(routes::health::readyz))
        .fallback_service(web::pwa(&state.config.dist))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::security_headers,
        ))
        .layer(
            // An xlsx is a zip already; compressing it again only costs time.
            tower_http::compression::CompressionLayer::new().compress_when(
                tower_http::compression::DefaultPredicate::new().and(
                    tower_http::compression::predicate::NotForContentType::const_new(
                        "application/vnd.openxmlformats",
                    ),
                ),
            ),
        )
        .layer(axum::middleware::from_fn_with_state(
            handler_timeout,
            access::handler_timeout,
        ))
        .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(
            limits.body_timeout_secs,
        )));
    access::with_access_log(router)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); colours only on a terminal.
pub fn init_tracing() {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
