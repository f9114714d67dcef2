//! Serving the built PWA: cache headers that make updates safe, precompressed files, and the
//! index.html fallback.
//!
//! `index.html` must always be revalidated and `sw.js` is never stored, or a phone keeps an old
//! app forever; Trunk's hashed assets never change under their name, so they are cached for a
//! year.
//! The build writes a brotli (`.br`) and a gzip (`.gz`) copy next to every compressible file of
//! `dist/`; the one the browser's `Accept-Encoding` names first is sent, so the wasm is compressed
//! once at the highest level at build time instead of on every request.
//!
//! Every response carries security headers. The PWA's Content-Security-Policy allows only what a
//! Trunk-built Leptos app needs: its own files, `'wasm-unsafe-eval'` to compile the wasm, and the
//! one inline `<script type="module">` Trunk writes into `index.html`, allowed by its SHA-256,
//! computed from the `index.html` being served (re-read when the file changes). API responses get
//! `default-src 'none'`: JSON and photos never need to run anything.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::Router;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use tower_http::services::{ServeDir, ServeFile};

const REVALIDATE: &str = "no-cache";
/// The service worker is never stored by the HTTP cache: every update check gets it whole from
/// the server. A copy read while a new build was being written (or any stale copy) would
/// otherwise be revalidated as "not modified" and keep a phone on its old app.
const NEVER_STORED: &str = "no-store";
/// The one script whose staleness strands a phone on an old app.
const SERVICE_WORKER: &str = "/sw.js";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// On HTTPS the browser is told to use nothing else for a year (ignored on plain HTTP).
const HSTS: &str = "max-age=31536000";

/// The PWA from `dist`: files as they are (or their precompressed copy), any other path gets
/// `index.html` (client routes).
pub fn pwa(dist: &Path) -> Router {
    let index = ServeFile::new(dist.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(dist)
        .append_index_html_on_directories(true)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    let policy = Arc::new(PwaPolicy::new(dist.join("index.html")));
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
        .layer(middleware::from_fn(move |request, next| {
            pwa_headers(Arc::clone(&policy), request, next)
        }))
}

/// The PWA's policy without the inline-script hashes, which are appended to `script-src`.
const PWA_CSP_HEAD: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'";
const PWA_CSP_TAIL: &str = "; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; \
    worker-src 'self'; \
    style-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";
/// The policy of API responses (JSON, photo bytes): nothing may run, nothing may frame them.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The PWA's Content-Security-Policy, cached for one version (mtime, length) of `index.html`.
struct PwaPolicy {
    index: PathBuf,
    cached: Mutex<Option<(Option<SystemTime>, u64, HeaderValue)>>,
}

impl PwaPolicy {
    fn new(index: PathBuf) -> Self {
        Self {
            index,
            cached: Mutex::new(None),
        }
    }

    /// The policy for the `index.html` now on disk (no hashes if it cannot be read).
    fn current(&self) -> HeaderValue {
        let meta = std::fs::metadata(&self.index).ok();
        let key = (
            meta.as_ref().and_then(|m| m.modified().ok()),
            meta.as_ref().map_or(0, std::fs::Metadata::len),
        );
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((modified, len, value)) = cached.as_ref()
            && (*modified, *len) == key
        {
            return value.clone();
        }
        let html = std::fs::read_to_string(&self.index).unwrap_or_default();
        let value = HeaderValue::from_str(&pwa_csp(&html))
            .unwrap_or_else(|_| HeaderValue::from_static(API_CSP));
        *cached = Some((key.0, key.1, value.clone()));
        value
    }
}

/// The PWA's Content-Security-Policy for this `index.html`: its inline scripts allowed by hash.
pub fn pwa_csp(index_html: &str) -> String {
    let mut policy = PWA_CSP_HEAD.to_owned();
    for script in inline_scripts(index_html) {
        let digest = Sha256::digest(script.as_bytes());
        policy.push_str(" 'sha256-");
        policy.push_str(&base64::engine::general_purpose::STANDARD.encode(digest));
        policy.push('\'');
    }
    policy.push_str(PWA_CSP_TAIL);
    policy
}

/// The text of every `<script>` without a `src` attribute, as the browser hashes it (the HTML
/// parser turns CR LF and lone CR into LF before anything else).
pub fn inline_scripts(html: &str) -> Vec<String> {
    let mut scripts = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(start) = lower[at..].find("<script").map(|i| at + i) {
        let Some(open_end) = lower[start..].find('>').map(|i| start + i) else {
            break;
        };
        let Some(close) = lower[open_end..].find("</script").map(|i| open_end + i) else {
            break;
        };
        let attributes = &lower[start + "<script".len()..open_end];
        let has_src = attributes
            .split(|c: char| c.is_ascii_whitespace())
            .any(|a| a == "src" || a.starts_with("src="));
        if !has_src {
            let text = &html[open_end + 1..close];
            scripts.push(text.replace("\r\n", "\n").replace('\r', "\n"));
        }
        at = close;
    }
    scripts
}

async fn pwa_headers(policy: Arc<PwaPolicy>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, policy.current());
    response
}

/// Headers on every response, API and PWA: no MIME sniffing, no referrer, no framing, a
/// default policy that the PWA replaces with its own, and HSTS when the server speaks HTTPS.
pub async fn security_headers(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(API_CSP));
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if state.config.tls.enabled() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let immutable = is_hashed_asset(request.uri().path());
    let worker = request.uri().path() == SERVICE_WORKER;
    let mut response = next.run(request).await;
    let value = if worker {
        NEVER_STORED
    } else if immutable && response.status().is_success() {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    // The same URL is sent brotli, gzip or plain: shared caches must keep them apart.
    if !headers.contains_key(header::VARY) {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
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
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt as _;

    use super::{inline_scripts, is_hashed_asset, pwa, pwa_csp};

    async fn get(dist: &std::path::Path, path: &str, accept: &str) -> axum::response::Response {
        let request = Request::get(path)
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .unwrap();
        pwa(dist).oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn the_precompressed_copy_the_browser_accepts_is_sent() {
        let dist = tempfile::tempdir().unwrap();
        let wasm = "/zhicha-1a2b3c4d5e6f7a8b_bg.wasm";
        std::fs::write(dist.path().join(&wasm[1..]), b"plain").unwrap();
        std::fs::write(dist.path().join(format!("{}.br", &wasm[1..])), b"brotli").unwrap();
        std::fs::write(dist.path().join(format!("{}.gz", &wasm[1..])), b"gzip").unwrap();
        std::fs::write(dist.path().join("index.html"), b"<html></html>").unwrap();
        std::fs::write(dist.path().join("index.html.br"), b"brotli index").unwrap();

        let response = get(dist.path(), wasm, "gzip, deflate, br, zstd").await;
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/wasm");
        assert_eq!(response.headers()[header::VARY], "accept-encoding");
        assert!(
            response.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );

        let response = get(dist.path(), wasm, "gzip").await;
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        let response = get(dist.path(), wasm, "identity").await;
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none());

        // A client route gets index.html, precompressed too.
        let response = get(dist.path(), "/inspections/new", "br").await;
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
    }

    #[test]
    fn inline_scripts_are_found_and_external_ones_skipped() {
        let html = "<head><script type=\"module\">\r\nimport init from '/a.js';\r\n</script>\
            <script src=\"/x.js\"></script><SCRIPT>b()</SCRIPT></head>";
        assert_eq!(
            inline_scripts(html),
            ["\nimport init from '/a.js';\n", "b()"]
        );
    }

    #[test]
    fn the_policy_carries_the_hash_of_each_inline_script() {
        // printf 'alert(1)' | openssl dgst -sha256 -binary | base64
        let policy = pwa_csp("<script>alert(1)</script>");
        assert!(
            policy.contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"),
            "{policy}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
    }

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
