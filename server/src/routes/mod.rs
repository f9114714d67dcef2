//! The `/api/v1` routes, one module per resource, merged here.

pub mod health;

use axum::Router;

use crate::{ApiError, AppState};

/// Every `/api/v1` route; unknown API paths answer a JSON 404, never the PWA.
pub fn api() -> Router<AppState> {
    Router::new().merge(health::router()).fallback(|| async { ApiError::NotFound })
}
