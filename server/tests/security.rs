//! Security basics, each checked: the PWA's Content-Security-Policy and headers, no CORS, argon2id
//! password hashes, bearer tokens stored only as hashes, and the per-user login rate limit.

mod common;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use base64::Engine as _;
use common::{Backend, TestApp};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use sqlx::Connection as _;
use tower::ServiceExt as _;
use zhicha_core::ids::DeviceId;
use zhicha_server::{AppState, Config, app};

on_both_backends!(
    passwords_are_argon2id_and_tokens_are_stored_only_as_hashes,
    the_login_rate_limit_stops_guessing_one_user_and_spares_the_others,
);

/// What Trunk writes into `dist/index.html`: one inline module script, integrity attributes.
const TRUNK_INDEX: &str = r#"<!DOCTYPE html>
<html lang="zh-CN">
  <head>
    <meta charset="utf-8" />
    <title>直查</title>
<script type="module">
import init, * as bindings from '/zhicha-c81b822b73970071.js';
const wasm = await init({ module_or_path: '/zhicha-c81b822b73970071_bg.wasm' });
window.wasmBindings = bindings;
dispatchEvent(new CustomEvent("TrunkApplicationStarted", {detail: {wasm}}));
</script>
    <link rel="stylesheet" href="/main-d82c48b1ba54eae3.css" integrity="sha384-um6U"/>
  <link rel="modulepreload" href="/zhicha-c81b822b73970071.js" crossorigin="anonymous" integrity="sha384-qVRM"></head>
  <body></body>
</html>
"#;

fn sha256_source(script: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()))
    )
}

/// The text between `<script type="module">` and `</script>`, found independently of the server.
fn module_script(html: &str) -> &str {
    let start = html.find("<script type=\"module\">").unwrap() + "<script type=\"module\">".len();
    let end = html.find("</script>").unwrap();
    &html[start..end]
}

struct Site {
    dir: tempfile::TempDir,
    router: axum::Router,
}

async fn site(index: &str) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), index).unwrap();
    std::fs::write(
        dist.join("sw.js"),
        "self.addEventListener('fetch', () => {});",
    )
    .unwrap();
    let state = AppState::open(Config::for_tests(dir.path().join("data"), dist))
        .await
        .unwrap();
    Site {
        router: app(state),
        dir,
    }
}

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn csp(headers: &HeaderMap) -> Vec<String> {
    headers
        .get(header::CONTENT_SECURITY_POLICY)
        .expect("a Content-Security-Policy")
        .to_str()
        .unwrap()
        .split(';')
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

fn assert_basic_headers(headers: &HeaderMap, what: &str) {
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{what}");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer", "{what}");
    assert!(
        csp(headers).contains(&"frame-ancestors 'none'".to_owned()),
        "{what}: {:?}",
        csp(headers)
    );
    for cors in [
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
    ] {
        assert!(!headers.contains_key(cors), "{what}: {cors} sent");
    }
}

#[tokio::test]
async fn the_pwa_csp_allows_exactly_trunks_inline_script_and_nothing_inline_else() {
    let site = site(TRUNK_INDEX).await;
    let expected_script = format!(
        "script-src 'self' 'wasm-unsafe-eval' {}",
        sha256_source(module_script(TRUNK_INDEX))
    );
    for path in ["/", "/index.html", "/inspections/0192/checklist", "/sw.js"] {
        let (status, headers, _) = send(
            &site.router,
            Request::get(path).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_basic_headers(&headers, path);
        let policy = csp(&headers);
        for directive in [
            "default-src 'self'",
            expected_script.as_str(),
            "img-src 'self' blob: data:",
            // The 告知 recorded on the phone plays from a blob URL.
            "media-src 'self' blob:",
            "connect-src 'self'",
            "worker-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                policy.iter().any(|d| d == directive),
                "{path}: {directive} not in {policy:?}"
            );
        }
        assert!(
            policy
                .iter()
                .all(|d| !d.contains("unsafe-inline") && !d.contains("'unsafe-eval'")),
            "{policy:?}"
        );
    }

    // A rebuilt app (new wasm name, so a new inline script) gets a policy for the new script.
    let rebuilt = TRUNK_INDEX
        .replace("c81b822b73970071", "0123456789abcdef")
        .replace("TrunkApplicationStarted", "TrunkApplicationStarted2");
    std::fs::write(site.dir.path().join("dist").join("index.html"), &rebuilt).unwrap();
    let (_, headers, body) =
        send(&site.router, Request::get("/").body(Body::empty()).unwrap()).await;
    assert!(body.contains("0123456789abcdef"));
    let policy = csp(&headers).join(";");
    assert!(
        policy.contains(&sha256_source(module_script(&rebuilt))),
        "{policy}"
    );
    assert!(
        !policy.contains(&sha256_source(module_script(TRUNK_INDEX))),
        "{policy}"
    );
}

#[tokio::test]
async fn the_api_sends_security_headers_and_no_cors_to_any_origin() {
    let site = site(TRUNK_INDEX).await;
    let (status, headers, _) = send(
        &site.router,
        Request::get("/api/v1/health")
            .header(header::ORIGIN, "https://evil.example")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_basic_headers(&headers, "GET /api/v1/health");
    assert!(
        csp(&headers).contains(&"default-src 'none'".to_owned()),
        "{:?}",
        csp(&headers)
    );

    // A CORS preflight is not granted: no Access-Control-* headers, whatever the status.
    for path in [
        "/api/v1/auth/login",
        "/api/v1/sync/push",
        "/api/v1/bootstrap",
        "/",
    ] {
        let (status, headers, _) = send(
            &site.router,
            Request::builder()
                .method(Method::OPTIONS)
                .uri(path)
                .header(header::ORIGIN, "https://evil.example")
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .header(
                    header::ACCESS_CONTROL_REQUEST_HEADERS,
                    "authorization, content-type",
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(!status.is_server_error(), "{path}: {status}");
        assert_basic_headers(&headers, path);
    }
    // A cross-origin login attempt gets no CORS grant either (the browser withholds the answer).
    let (_, headers, _) = send(
        &site.router,
        Request::post("/api/v1/auth/login")
            .header(header::ORIGIN, "https://evil.example")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"username": "x", "password": "y", "device_id": DeviceId::new()}).to_string(),
            ))
            .unwrap(),
    )
    .await;
    assert_basic_headers(&headers, "POST /api/v1/auth/login");
}

/// A direct connection to the test server's database.
async fn database(t: &TestApp) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    let url = t.state.config.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            t.dir.path().join("data").join("zhicha.db").display()
        )
    });
    sqlx::AnyConnection::connect(&url).await.unwrap()
}

async fn passwords_are_argon2id_and_tokens_are_stored_only_as_hashes(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let second = t.login("inspector1").await;
    assert_ne!(device.token, second.token, "tokens must be random");
    let mut db = database(&t).await;

    let hashes: Vec<String> = sqlx::query_scalar("SELECT password_hash FROM users")
        .fetch_all(&mut db)
        .await
        .unwrap();
    assert!(hashes.len() >= 5);
    for hash in &hashes {
        assert!(hash.starts_with("$argon2id$v=19$m="), "{hash}");
        assert!(
            !hash.contains(zhicha_server::operator::seed::DEMO_PASSWORD),
            "{hash}"
        );
    }
    // The stored hash is a real argon2id hash of the password (and of nothing else).
    use argon2::password_hash::PasswordVerifier as _;
    let parsed = hashes[0].as_str();
    let argon2 = argon2::Argon2::default();
    assert!(
        argon2
            .verify_password(
                zhicha_server::operator::seed::DEMO_PASSWORD.as_bytes(),
                parsed
            )
            .is_ok()
    );
    assert!(argon2.verify_password(b"zhicha-demo2", parsed).is_err());
    // Every hashing draws a fresh salt.
    let (a, b) = (
        t.state.passwords.hash("same-password").await.unwrap(),
        t.state.passwords.hash("same-password").await.unwrap(),
    );
    assert_ne!(a.split('$').nth(4), b.split('$').nth(4), "{a} {b}");

    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM tokens")
        .fetch_all(&mut db)
        .await
        .unwrap();
    for token in [&device.token, &second.token] {
        let digest: String = Sha256::digest(token.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(
            stored.contains(&digest),
            "the token's SHA-256 is not stored"
        );
        assert!(!stored.contains(token), "a token is stored in the clear");
    }
    // The hash itself is not a credential.
    let digest: String = Sha256::digest(device.token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    t.get("/api/v1/bootstrap", &digest)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        t.get("/api/v1/bootstrap", &device.token).await.status,
        StatusCode::OK
    );
    let _ = db.close().await;
    t.finish().await;
}

async fn the_login_rate_limit_stops_guessing_one_user_and_spares_the_others(backend: Backend) {
    let t = TestApp::start(backend).await;
    let login = |user: &str, password: &str| json!({ "username": user, "password": password, "device_id": DeviceId::new() });
    let max = t.state.config.auth.login_max_failures;
    let mut statuses = Vec::new();
    for i in 0..max + 3 {
        let reply = t
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(login("leader1", &format!("guess-{i}"))),
            )
            .await;
        statuses.push(reply.status.as_u16());
    }
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count() as i64,
        max,
        "{statuses:?}"
    );
    assert_eq!(limited, 3, "{statuses:?}");
    // Even the right password is refused while limited: guessing cannot find it.
    t.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(login(
            "leader1",
            zhicha_server::operator::seed::DEMO_PASSWORD,
        )),
    )
    .await
    .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // Another user is not locked out by the attack.
    let ok = t
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(login(
                "inspector1",
                zhicha_server::operator::seed::DEMO_PASSWORD,
            )),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    t.finish().await;
}
