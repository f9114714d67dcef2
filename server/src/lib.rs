//! `zhicha-server`: the sync server of 直查 — the HTTP API under `/api/v1` and the built PWA.

pub mod cli;
pub mod config;
pub mod error;
pub mod routes;
pub mod web;

use std::sync::Arc;

use axum::Router;

pub use config::Config;
pub use error::ApiError;

/// Everything a request handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
}

impl AppState {
    pub fn new(config: Config) -> Self {
        Self { config: Arc::new(config) }
    }
}

/// The whole HTTP application: the API, the health check and the PWA. Used by `serve` and tests.
pub fn app(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", routes::api())
        .route("/healthz", axum::routing::get(routes::health::healthz))
        .fallback_service(web::pwa(&state.config.dist))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
