//! `zhicha-server`: the sync server of 直查 — the HTTP API under `/api/v1` and the built PWA.

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
}

impl AppState {
    /// Opens the database (running migrations) and the photo store named by `config`.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        let store = Store::open(&config).await?;
        let photos = PhotoStore::open(&config)?;
        let passwords = Passwords::new(&config.auth)?;
        Ok(Self {
            config: Arc::new(config),
            store,
            photos,
            passwords,
        })
    }
}

/// The whole HTTP application: the API, the health check and the PWA. Used by `serve` and tests.
pub fn app(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", routes::api())
        .route("/healthz", axum::routing::get(routes::health::healthz))
        .fallback_service(web::pwa(&state.config.dist))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::security_headers,
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
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
