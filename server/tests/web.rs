//! The server serves the built PWA: health, app-route fallback, cache headers, JSON 404 for the API.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;
use zhicha_server::{AppState, Config, app};

struct Site {
    _dir: tempfile::TempDir,
    router: axum::Router,
}

async fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>直查</title>",
    )
    .unwrap();
    std::fs::write(dist.join("zhicha-0123456789abcdef_bg.wasm"), b"\0asm").unwrap();
    std::fs::write(
        dist.join("sw.js"),
        "self.addEventListener('fetch', () => {});",
    )
    .unwrap();
    let config = Config::for_tests(dir.path().join("data"), dist);
    let state = AppState::open(config).await.unwrap();
    Site {
        router: app(state),
        _dir: dir,
    }
}

async fn get(site: &Site, path: &str) -> (StatusCode, Option<String>, String) {
    let response = site
        .router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let cache = response
        .headers()
        .get(header::CACHE_CONTROL)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, cache, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn healthz_answers_ok() {
    let (status, _, body) = get(&site().await, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"ok\""), "{body}");
}

#[tokio::test]
async fn app_routes_fall_back_to_index_html_and_revalidate() {
    let site = site().await;
    for path in ["/", "/inspections/0192/checklist", "/review"] {
        let (status, cache, body) = get(&site, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body.contains("直查"), "{path}: {body}");
        assert_eq!(cache.as_deref(), Some("no-cache"), "{path}");
    }
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_the_service_worker_is_not() {
    let site = site().await;
    let (status, cache, _) = get(&site, "/zhicha-0123456789abcdef_bg.wasm").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        cache.as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    let (status, cache, _) = get(&site, "/sw.js").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cache.as_deref(), Some("no-store"));
}

#[tokio::test]
async fn unknown_api_paths_get_a_json_404_not_the_app() {
    let (status, _, body) = get(&site().await, "/api/v1/no-such-thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"]["code"], "not_found");
}
