//! Access under attack, on SQLite and PostgreSQL: login attempts counted atomically, per user
//! name and address and per address; a full hashing gate answers 503; logout, password change and disabled accounts end sessions; the
//! photo quota and the upload gate; body and handler timeouts; readiness.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Backend, Reply, TestApp, jpeg, login_from};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use zhicha_core::ids::DeviceId;
use zhicha_server::operator::seed::DEMO_PASSWORD;

on_both_backends!(
    parallel_wrong_passwords_get_at_most_the_limit_of_401s,
    guessing_from_one_address_locks_neither_the_user_elsewhere_nor_other_addresses_out,
    a_full_hashing_gate_answers_503_with_retry_after,
    logout_password_change_and_disabling_end_sessions,
    the_photo_quota_stops_new_photos_but_not_held_ones,
    readiness_checks_the_database_and_the_photo_store,
);

fn retry_after(reply: &Reply) -> i64 {
    reply
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After on {}", reply.status))
}

/// Sends every request at once and returns the statuses.
async fn all_at_once(t: &TestApp, requests: Vec<Request<Body>>) -> Vec<Reply> {
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let router = t.router.clone();
            tokio::spawn(async move {
                use tower::ServiceExt as _;
                let response = router.oneshot(request).await.unwrap();
                let status = response.status();
                let headers = response.headers().clone();
                let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                Reply {
                    status,
                    headers,
                    body,
                }
            })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

async fn parallel_wrong_passwords_get_at_most_the_limit_of_401s(backend: Backend) {
    let t = TestApp::start(backend).await;
    let max = t.state.config.auth.login_max_failures;
    let requests = (0..40)
        .map(|i| login_from("198.51.100.7", "leader1", &format!("guess-{i}")))
        .collect();
    let replies = all_at_once(&t, requests).await;
    let unauthorized = replies
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    // Each attempt is recorded before it is counted, so parallel attempts may all see one
    // another and all be refused; never may more than the limit reach the password check.
    assert!(
        unauthorized <= max as usize,
        "{unauthorized} answers 401, the limit is {max}"
    );
    for reply in replies
        .iter()
        .filter(|r| r.status != StatusCode::UNAUTHORIZED)
    {
        reply.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        let after = retry_after(reply);
        assert!((1..=900).contains(&after), "Retry-After {after}");
    }
    // Guessing on one at a time: the failures of the flood still count, so all told exactly
    // the limit of guesses reach the password check.
    let mut total = unauthorized;
    for i in 0..=max {
        let reply = t
            .send(login_from("198.51.100.7", "leader1", &format!("again-{i}")))
            .await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        reply.assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
        total += 1;
    }
    assert_eq!(total, max as usize);
    // The right password is refused too while limited: guessing cannot find it.
    t.send(login_from("198.51.100.7", "leader1", DEMO_PASSWORD))
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    t.finish().await;
}

async fn guessing_from_one_address_locks_neither_the_user_elsewhere_nor_other_addresses_out(
    backend: Backend,
) {
    let t = TestApp::start_with(backend, |config| {
        config.auth.login_max_failures = 3;
        config.auth.login_max_per_address = 6;
    })
    .await;
    let attacker = "203.0.113.66";
    for i in 0..3 {
        t.send(login_from(attacker, "leader1", &format!("guess-{i}")))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    }
    t.send(login_from(attacker, "leader1", "guess-3"))
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // The real leader, at the office, still logs in.
    let office = t
        .send(login_from("192.0.2.10", "leader1", DEMO_PASSWORD))
        .await;
    assert_eq!(office.status, StatusCode::OK);
    // The attacker turns to other names: the address's own limit stops that.
    let mut statuses = Vec::new();
    for name in ["inspector1", "inspector2", "inspector3", "admin", "nobody"] {
        statuses.push(t.send(login_from(attacker, name, "guess")).await.status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
        ]
    );
    // Another address is not affected by that either.
    let colleague = t
        .send(login_from("192.0.2.11", "inspector1", DEMO_PASSWORD))
        .await;
    assert_eq!(colleague.status, StatusCode::OK);
    t.finish().await;
}

async fn a_full_hashing_gate_answers_503_with_retry_after(backend: Backend) {
    let t = TestApp::start_with(backend, |config| {
        config.auth.argon2_m_kib = argon2::Params::DEFAULT_M_COST;
        config.auth.argon2_t = argon2::Params::DEFAULT_T_COST;
        config.auth.hashing_slots = Some(1);
        config.auth.login_max_failures = 1000;
        config.auth.login_max_per_address = 1000;
    })
    .await;
    let requests = (0..24)
        .map(|i| login_from(&format!("192.0.2.{}", 100 + i), "inspector1", "wrong"))
        .collect();
    let replies = all_at_once(&t, requests).await;
    let busy: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(
        !busy.is_empty(),
        "one slot and 24 at once: some must be turned away"
    );
    for reply in &busy {
        reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, "busy");
        assert_eq!(retry_after(reply), 1);
    }
    for reply in replies
        .iter()
        .filter(|r| r.status != StatusCode::SERVICE_UNAVAILABLE)
    {
        reply.assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    }
    // A turned-away attempt is not counted as a failure: the user is not locked out by it.
    let ok = t
        .send(login_from("192.0.2.100", "inspector1", DEMO_PASSWORD))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    t.finish().await;
}

async fn logout_password_change_and_disabling_end_sessions(backend: Backend) {
    let t = TestApp::start(backend).await;
    // Logout revokes the token on the server.
    let phone = t.login("inspector1").await;
    assert_eq!(
        t.get("/api/v1/bootstrap", &phone.token).await.status,
        StatusCode::OK
    );
    let out = t
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&phone.token),
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    t.get("/api/v1/bootstrap", &phone.token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");

    // A password change keeps the session that made it and ends every other one.
    let (phone, tablet) = (t.login("inspector1").await, t.login("inspector1").await);
    let change =
        |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    t.call(
        Method::POST,
        "/api/v1/auth/password",
        Some(&phone.token),
        Some(change("not-the-password", "a-new-secret-1")),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    for weak in ["short", DEMO_PASSWORD] {
        let reply = t
            .call(
                Method::POST,
                "/api/v1/auth/password",
                Some(&phone.token),
                Some(change(DEMO_PASSWORD, weak)),
            )
            .await;
        reply.assert_error(StatusCode::BAD_REQUEST, "invalid");
        assert_eq!(reply.json()["error"]["field"], "new_password");
    }
    let changed = t
        .call(
            Method::POST,
            "/api/v1/auth/password",
            Some(&phone.token),
            Some(change(DEMO_PASSWORD, "a-new-secret-1")),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.get("/api/v1/bootstrap", &phone.token).await.status,
        StatusCode::OK
    );
    t.get("/api/v1/bootstrap", &tablet.token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let login = |password: &str| json!({ "username": "inspector1", "password": password, "device_id": DeviceId::new() });
    t.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(login(DEMO_PASSWORD)),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    let again = t
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(login("a-new-secret-1")),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);

    // The operator ends one lost phone's sessions by its device code, then disables a user.
    let (lost, kept) = (t.login("inspector2").await, t.login("inspector2").await);
    let code: String = {
        let sessions = t.state.store.sessions("inspector2").await.unwrap();
        let lost_id = lost.device_id.to_string();
        sessions
            .into_iter()
            .find(|s| s.device_id == lost_id)
            .and_then(|s| s.device_code)
            .expect("the lost phone's code")
    };
    assert_eq!(
        t.state
            .store
            .revoke_sessions("inspector2", Some(&code))
            .await
            .unwrap(),
        Some(1)
    );
    t.get("/api/v1/bootstrap", &lost.token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        t.get("/api/v1/bootstrap", &kept.token).await.status,
        StatusCode::OK
    );
    assert!(t.state.store.set_active("inspector2", false).await.unwrap());
    t.get("/api/v1/bootstrap", &kept.token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    t.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({ "username": "inspector2", "password": DEMO_PASSWORD, "device_id": DeviceId::new() })),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    t.finish().await;
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn put_photo(t: &TestApp, token: &str, bytes: &[u8], declare_length: bool) -> Reply {
    let mut request = Request::put(format!("/api/v1/photos/{}", sha(bytes)))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "image/jpeg");
    if declare_length {
        request = request.header(header::CONTENT_LENGTH, bytes.len());
    }
    t.send(request.body(Body::from(bytes.to_vec())).unwrap())
        .await
}

async fn the_photo_quota_stops_new_photos_but_not_held_ones(backend: Backend) {
    let t = TestApp::start_with(backend, |config| config.limits.photo_quota_mb = 1).await;
    let phone = t.login("inspector1").await;
    let (first, second, third) = (jpeg(400_000, 1), jpeg(400_000, 2), jpeg(400_000, 3));
    assert_eq!(
        put_photo(&t, &phone.token, &first, true).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        put_photo(&t, &phone.token, &second, false).await.status,
        StatusCode::CREATED
    );
    for declared in [true, false] {
        let refused = put_photo(&t, &phone.token, &third, declared).await;
        refused.assert_error(StatusCode::TOO_MANY_REQUESTS, "photo_quota");
        let message = refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("1 MB"), "{message}");
        let after = retry_after(&refused);
        assert!((86_000..=86_400).contains(&after), "Retry-After {after}");
    }
    // A photo the server holds already costs nothing: re-sending it still succeeds.
    assert_eq!(
        put_photo(&t, &phone.token, &first, true).await.status,
        StatusCode::OK
    );
    // The quota is per user.
    let colleague = t.login("inspector2").await;
    assert_eq!(
        put_photo(&t, &colleague.token, &third, true).await.status,
        StatusCode::CREATED
    );
    t.finish().await;
}

async fn readiness_checks_the_database_and_the_photo_store(backend: Backend) {
    let t = TestApp::start(backend).await;
    let ready = t.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.json());
    let body = ready.json();
    assert_eq!(body["status"], "ready");
    assert!(body["disk"]["free_bytes"].as_u64().unwrap() > 0, "{body}");
    // The photo folder turns into a file: photos cannot be written, so not ready.
    let photos = t.dir.path().join("data").join("photos");
    let _ = std::fs::remove_dir_all(&photos);
    std::fs::write(&photos, b"not a folder").unwrap();
    let broken = t.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(broken.status, StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = broken.json();
    assert_eq!(body["photos"]["ok"], false, "{body}");
    assert_eq!(body["database"]["ok"], true, "{body}");
    // Liveness is another question: the process still answers.
    assert_eq!(
        t.call(Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
    std::fs::remove_file(&photos).unwrap();
    t.finish().await;
}

/// A body that sends a little and then nothing more.
fn stalled_body() -> Body {
    let first = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{\"device_id\":"))
    });
    Body::from_stream(futures_util::StreamExt::chain(
        first,
        futures_util::stream::pending(),
    ))
}

fn push_with_stalled_body(token: &str) -> Request<Body> {
    Request::post("/api/v1/sync/push")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(stalled_body())
        .unwrap()
}

#[tokio::test]
async fn a_stalled_body_answers_408_and_a_stalled_handler_503() {
    let t = TestApp::start_with(Backend::Sqlite, |config| {
        config.limits.body_timeout_secs = 1;
    })
    .await;
    let phone = t.login("inspector1").await;
    let started = Instant::now();
    t.send(push_with_stalled_body(&phone.token))
        .await
        .assert_error(StatusCode::REQUEST_TIMEOUT, "body_timeout");
    assert!(started.elapsed() < Duration::from_secs(10));
    t.finish().await;

    let t = TestApp::start_with(Backend::Sqlite, |config| {
        config.limits.body_timeout_secs = 600;
        config.limits.request_timeout_secs = 1;
    })
    .await;
    let phone = t.login("inspector1").await;
    let started = Instant::now();
    let reply = t.send(push_with_stalled_body(&phone.token)).await;
    reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, "timeout");
    assert!(reply.headers.contains_key(header::RETRY_AFTER));
    assert!(started.elapsed() < Duration::from_secs(10));
    t.finish().await;
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let t = TestApp::start(Backend::Sqlite).await;
    let first = t.call(Method::GET, "/healthz", None, None).await;
    let second = t.call(Method::GET, "/api/v1/nothing", None, None).await;
    let id = |reply: &Reply| reply.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id(&first).len(), 36);
    assert_ne!(id(&first), id(&second));
    t.finish().await;
}
