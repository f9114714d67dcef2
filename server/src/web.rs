//! Serving the built PWA: cache headers that make updates safe, and the index.html fallback.
//!
//! `index.html` and `sw.js` must always be revalidated, or a phone keeps an old app forever;
//! Trunk's hashed assets never change under their name, so they are cached for a year.

use std::path::Path;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::Router;
use tower_http::services::{ServeDir, ServeFile};

const REVALIDATE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The PWA from `dist`: files as they are, any other path gets `index.html` (client routes).
pub fn pwa(dist: &Path) -> Router {
    let index = ServeFile::new(dist.join("index.html"));
    let files = ServeDir::new(dist)
        .append_index_html_on_directories(true)
        .fallback(index);
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let immutable = is_hashed_asset(request.uri().path());
    let mut response = next.run(request).await;
    let value = if immutable && response.status().is_success() {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

/// Trunk names built assets `name-<16 hex>.ext` (or `name-<16 hex>_bg.wasm`).
pub fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let stem = file.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::is_hashed_asset;

    #[test]
    fn trunk_hashed_names_are_recognised() {
        assert!(is_hashed_asset("/zhicha-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_hashed_asset("/zhicha-1a2b3c4d5e6f7a8b.js"));
        assert!(is_hashed_asset("/main-0123456789abcdef.css"));
    }

    #[test]
    fn unhashed_names_are_not_immutable() {
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/sw.js"));
        assert!(!is_hashed_asset("/manifest.webmanifest"));
        assert!(!is_hashed_asset("/icons/icon-192.png"));
        assert!(!is_hashed_asset("/inspections/new"));
    }
}
