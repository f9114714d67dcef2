//! The `/api/v1` routes, one module per resource, merged here.

pub mod admin;
pub mod archive;
pub mod auth;
pub mod bootstrap;
pub mod cases;
pub mod checklists;
pub mod findings;
pub mod health;
pub mod ledger;
pub mod openapi;
pub mod photos;
pub mod plans;
pub mod reports;
pub mod stats;
pub mod sync;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use zhicha_core::protocol::MAX_JSON_BYTES;

use crate::{ApiError, AppState};

/// Every `/api/v1` route; unknown API paths answer a JSON 404, never the PWA.
///
/// JSON bodies are limited to 1 MB; photo uploads stream and count their own 10 MB limit; an
/// enterprise import file has its own limit (`MAX_IMPORT_BYTES`).
pub fn api() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(bootstrap::router())
        .merge(checklists::router())
        .merge(sync::router())
        .merge(findings::router())
        .merge(stats::router())
        .merge(ledger::router())
        .merge(archive::router())
        .merge(plans::router())
        .merge(cases::router())
        .merge(reports::router())
        .merge(admin::router())
        .merge(openapi::router())
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .merge(photos::router())
        .merge(admin::directory::import_router())
        .merge(reports::public_router())
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}
