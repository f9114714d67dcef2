//! Auth, photos, receipts and bad input on SQLite and PostgreSQL: every bad request gets a 4xx
//! with the protocol's JSON error body.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Backend, TestApp, jpeg};
use serde_json::json;
use zhicha_core::ids::{DeviceId, PhotoHash};
use zhicha_core::model::{PhotoMeta, PhotoOwner, PhotoRole};
use zhicha_core::protocol::{AckStatus, MutationPayload};

on_both_backends!(
    login_gives_a_token_and_wrong_passwords_get_401_then_429,
    logout_revokes_the_token,
    requests_without_a_valid_token_get_401,
    photo_upload_verifies_the_hash_and_writes_once,
    a_photo_file_without_its_row_is_never_trusted,
    photos_and_receipts_are_only_for_those_in_scope,
    bad_input_gets_a_4xx_json_error,
    openapi_lists_the_endpoints,
    login_issues_stable_device_codes_and_bootstrap_lists_checklist_packs,
    expired_tokens_and_changed_passwords_end_sessions,
);

async fn login_gives_a_token_and_wrong_passwords_get_401_then_429(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    assert_eq!(device.token.len(), 64);
    assert_eq!(device.user.username, "inspector1");
    let login = |password: &str| json!({ "username": "inspector2", "password": password, "device_id": DeviceId::new() });
    let max = t.state.config.auth.login_max_failures;
    for _ in 0..max {
        t.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(login("wrong-password")),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    }
    let limited = t
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(login("zhicha-demo")),
        )
        .await;
    limited.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
    // Unknown users answer exactly like wrong passwords.
    let unknown = json!({ "username": "nobody", "password": "x", "device_id": DeviceId::new() });
    t.call(Method::POST, "/api/v1/auth/login", None, Some(unknown))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    t.finish().await;
}

async fn logout_revokes_the_token(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("leader1").await;
    assert_eq!(
        t.get("/api/v1/bootstrap", &device.token).await.status,
        StatusCode::OK
    );
    let reply = t
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&device.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    t.get("/api/v1/bootstrap", &device.token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    t.finish().await;
}

async fn requests_without_a_valid_token_get_401(backend: Backend) {
    let t = TestApp::start(backend).await;
    for path in [
        "/api/v1/bootstrap",
        "/api/v1/sync/pull",
        "/api/v1/checklists/fire/1",
    ] {
        t.call(Method::GET, path, None, None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
        t.get(path, "not-a-token")
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    t.finish().await;
}

async fn put_photo(t: &TestApp, token: &str, hash: &str, bytes: Vec<u8>) -> common::Reply {
    let request = Request::put(format!("/api/v1/photos/{hash}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "image/jpeg")
        .body(Body::from(bytes))
        .unwrap();
    t.send(request).await
}

async fn head_photo(t: &TestApp, token: &str, hash: &str) -> StatusCode {
    let request = Request::head(format!("/api/v1/photos/{hash}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    t.send(request).await.status
}

/// Files under the local photo store.
fn stored_objects(t: &TestApp) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        count(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    count(&t.dir.path().join("data").join("photos"))
}

async fn photo_upload_verifies_the_hash_and_writes_once(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let bytes = jpeg(300_000, 7);
    let hash = PhotoHash::of_bytes(&bytes);
    assert_eq!(
        head_photo(&t, &device.token, hash.as_str()).await,
        StatusCode::NOT_FOUND
    );

    let other = PhotoHash::of_bytes(b"something else");
    let reply = put_photo(&t, &device.token, other.as_str(), bytes.clone()).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "hash_mismatch");
    assert_eq!(stored_objects(&t), 0, "a mismatched upload reached storage");

    let reply = put_photo(&t, &device.token, hash.as_str(), bytes.clone()).await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["created"], true);
    assert_eq!(reply.json()["bytes"], bytes.len());
    let reply = put_photo(&t, &device.token, hash.as_str(), bytes.clone()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["created"], false);
    assert_eq!(stored_objects(&t), 1);
    assert_eq!(
        head_photo(&t, &device.token, hash.as_str()).await,
        StatusCode::OK
    );

    let text = b"<html>not a photo</html>".to_vec();
    put_photo(&t, &device.token, PhotoHash::of_bytes(&text).as_str(), text)
        .await
        .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let huge = jpeg(10 * 1024 * 1024 + 1, 1);
    put_photo(&t, &device.token, PhotoHash::of_bytes(&huge).as_str(), huge)
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    assert_eq!(stored_objects(&t), 1);

    // Larger than the buffer reserved up front: received whole all the same.
    let large = jpeg(3 * 1024 * 1024, 9);
    let large_hash = PhotoHash::of_bytes(&large);
    let reply = put_photo(&t, &device.token, large_hash.as_str(), large.clone()).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.json()["bytes"], large.len());
    assert_eq!(stored_objects(&t), 2);
    t.finish().await;
}

/// A file at a photo's name with no database row may be one a power cut or a failed flush left
/// with its bytes never on disk — even when its contents read back right from the page cache.
/// The upload must write and flush its own copy over it (a new inode), torn or not; once the
/// photo is recorded, a repeat upload trusts the file (same inode).
async fn a_photo_file_without_its_row_is_never_trusted(backend: Backend) {
    use std::os::unix::fs::MetadataExt as _;
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let path_of = |hash: &PhotoHash| {
        let h = hash.as_str();
        t.dir
            .path()
            .join("data")
            .join("photos")
            .join(&h[0..2])
            .join(&h[2..4])
            .join(format!("{h}.jpg"))
    };
    for (fill, leftover) in [(3u8, 100usize), (4, 0), (5, usize::MAX)] {
        let bytes = jpeg(50_000, fill);
        let hash = PhotoHash::of_bytes(&bytes);
        let path = path_of(&hash);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // Torn, empty, or complete (but never flushed as far as anyone can tell).
        std::fs::write(&path, &bytes[..leftover.min(bytes.len())]).unwrap();
        let planted = std::fs::metadata(&path).unwrap().ino();
        assert_eq!(
            head_photo(&t, &device.token, hash.as_str()).await,
            StatusCode::NOT_FOUND
        );

        let reply = put_photo(&t, &device.token, hash.as_str(), bytes.clone()).await;
        let complete = leftover == usize::MAX;
        let expected = if complete {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        assert_eq!(
            reply.status,
            expected,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        let written = std::fs::metadata(&path).unwrap().ino();
        assert_ne!(
            written, planted,
            "an unrecorded file was trusted (leftover {leftover})"
        );
        assert_eq!(
            head_photo(&t, &device.token, hash.as_str()).await,
            StatusCode::OK
        );

        let again = put_photo(&t, &device.token, hash.as_str(), bytes).await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(
            std::fs::metadata(&path).unwrap().ino(),
            written,
            "a recorded photo was rewritten"
        );
    }
    let staging: Vec<_> = walk(&t.dir.path().join("data").join("photos"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains('#'))
        .collect();
    assert!(staging.is_empty(), "staging files left behind: {staging:?}");
    t.finish().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

async fn photos_and_receipts_are_only_for_those_in_scope(backend: Backend) {
    let t = TestApp::start(backend).await;
    let inspector = t.login("inspector1").await;
    let teammate = t.login("inspector2").await;
    let leader = t.login("leader1").await;
    let other_team = t.login("inspector3").await;
    let inspection = inspector.inspection(t.some_enterprise(&inspector).await);
    let bytes = jpeg(50_000, 3);
    let hash = PhotoHash::of_bytes(&bytes);
    let mut finding = inspector.finding(&inspection);
    finding.photos = vec![hash.clone()];
    let meta = PhotoMeta {
        hash: hash.clone(),
        owner: PhotoOwner::Finding(finding.id),
        role: PhotoRole::Evidence,
        bytes: bytes.len() as u64,
        width: 1600,
        height: 1200,
        mime: "image/jpeg".into(),
        captured_at: chrono::Utc::now(),
        offset_from_start_s: Some(60),
        location: None,
        no_fix: None,
        clock_offset_ms: None,
    };
    let response = t
        .push(
            &inspector,
            &[
                inspector.save_inspection(&inspection, None),
                inspector.save_finding(&finding, None),
                inspector.mutation(
                    finding.id.0,
                    None,
                    &MutationPayload::PhotoAttach(Box::new(meta)),
                ),
            ],
        )
        .await;
    assert!(
        response.acks.iter().all(|a| a.status == AckStatus::Applied),
        "{response:?}"
    );

    let receipt_path = format!("/api/v1/sync/receipt?inspection={}", inspection.id);
    let receipt = t.get(&receipt_path, &inspector.token).await.json();
    assert_eq!(receipt["complete"], false);
    assert_eq!(receipt["photos_expected"], json!([hash]));
    assert_eq!(receipt["photos_present"], json!([]));

    assert_eq!(
        put_photo(&t, &inspector.token, hash.as_str(), bytes.clone())
            .await
            .status,
        StatusCode::CREATED
    );
    let receipt = t.get(&receipt_path, &inspector.token).await.json();
    assert_eq!(receipt["complete"], true, "{receipt}");
    assert_eq!(receipt["rev"], 1);

    let photo_path = format!("/api/v1/photos/{hash}");
    for allowed in [&inspector, &teammate, &leader] {
        let reply = t.get(&photo_path, &allowed.token).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body.as_ref(), bytes.as_slice());
        assert_eq!(reply.headers[header::CONTENT_TYPE], "image/jpeg");
    }
    t.get(&photo_path, &other_team.token)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    t.get(&receipt_path, &other_team.token)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let pulled = t.pull_all(&other_team, 100).await;
    assert!(
        pulled.iter().all(|c| c["id"] != json!(finding.id)),
        "inspector3 pulled team 1's finding"
    );
    // The photo attachment travels to the team by pull.
    let pulled = t.pull_all(&teammate, 100).await;
    assert!(
        pulled
            .iter()
            .any(|c| c["entity"] == "photo" && c["data"]["hash"] == json!(hash))
    );
    t.finish().await;
}

async fn bad_input_gets_a_4xx_json_error(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let raw = |body: &'static str, content_type: Option<&str>| {
        let mut request = Request::post("/api/v1/sync/push")
            .header(header::AUTHORIZATION, format!("Bearer {}", device.token));
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        request.body(Body::from(body)).unwrap()
    };
    t.send(raw("{\"device_id\": ", Some("application/json")))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "malformed_json");
    t.send(raw(
        "{\"device_id\": 42, \"mutations\": \"none\"}",
        Some("application/json"),
    ))
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_body");
    t.send(raw("{}", None))
        .await
        .assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let wrong_kind = json!({ "device_id": device.device_id, "mutations": [
        { "mutation_id": uuid::Uuid::now_v7(), "seq": 1, "kind": "finding.delete_everything",
          "entity_id": uuid::Uuid::now_v7(), "payload": {} } ] });
    t.call(
        Method::POST,
        "/api/v1/sync/push",
        Some(&device.token),
        Some(wrong_kind),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_body");
    let negative_seq = json!({ "device_id": device.device_id, "mutations": [
        { "mutation_id": uuid::Uuid::now_v7(), "seq": -1, "kind": "finding.submit",
          "entity_id": uuid::Uuid::now_v7(), "payload": {} } ] });
    t.call(
        Method::POST,
        "/api/v1/sync/push",
        Some(&device.token),
        Some(negative_seq),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_body");

    // Over 1 MB of JSON.
    let big =
        json!({ "device_id": device.device_id, "mutations": [], "padding": "x".repeat(1_100_000) });
    t.call(
        Method::POST,
        "/api/v1/sync/push",
        Some(&device.token),
        Some(big),
    )
    .await
    .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    // Over 100 mutations in a batch.
    let enterprise = t.some_enterprise(&device).await;
    let many: Vec<_> = (0..101)
        .map(|_| device.save_inspection(&device.inspection(enterprise), None))
        .collect();
    t.push_raw(&device, &many)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "batch_too_large");

    // Path tricks in the photo hash never reach storage.
    for hash in [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "%2E%2E",
        &"A".repeat(64),
        &format!("{}%2F", "a".repeat(63)),
        &"a".repeat(65),
        "photos",
    ] {
        let path = format!("/api/v1/photos/{hash}");
        t.get(&path, &device.token)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid");
        put_photo(&t, &device.token, hash, jpeg(10, 0))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "invalid");
    }
    for path in [
        "/api/v1/photos/../../etc/passwd",
        "/api/v1/photos/a/b",
        "/api/v1/nothing-here",
    ] {
        let reply = t.get(path, &device.token).await;
        assert!(reply.status.is_client_error(), "{path}: {}", reply.status);
        assert!(reply.json()["error"]["code"].is_string(), "{path}");
    }
    t.get("/api/v1/sync/receipt?inspection=not-a-uuid", &device.token)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    t.get("/api/v1/sync/receipt", &device.token)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    t.get(
        &format!("/api/v1/sync/receipt?inspection={}", uuid::Uuid::now_v7()),
        &device.token,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    t.get("/api/v1/checklists/fire/not-a-number", &device.token)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_path");
    t.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({ "username": "inspector1" })),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_body");
    // A NUL byte (which PostgreSQL text cannot hold) is bad input, not a server error.
    let nul =
        json!({ "username": "inspector\u{0}1", "password": "x", "device_id": DeviceId::new() });
    t.call(Method::POST, "/api/v1/auth/login", None, Some(nul))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    let bootstrap = t.get("/api/v1/bootstrap", &device.token).await.json();
    let mut enterprise: zhicha_core::model::Enterprise =
        serde_json::from_value(bootstrap["enterprises"][0].clone()).unwrap();
    enterprise.id = zhicha_core::ids::EnterpriseId::new();
    enterprise.credit_code = None;
    enterprise.ad_hoc = true;
    enterprise.name = "无证\u{0}作坊".to_owned();
    let save = MutationPayload::EnterpriseSave(Box::new(enterprise.clone()));
    let fresh = t.login("inspector1").await;
    let response = t
        .push(&fresh, &[fresh.mutation(enterprise.id.0, None, &save)])
        .await;
    assert_eq!(response.acks[0].status, AckStatus::Rejected, "{response:?}");
    // Wrong methods answer 405 in the same shape.
    t.call(
        Method::DELETE,
        "/api/v1/sync/push",
        Some(&device.token),
        None,
    )
    .await
    .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    t.finish().await;
}

async fn openapi_lists_the_endpoints(backend: Backend) {
    let t = TestApp::start(backend).await;
    let reply = t
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let doc = reply.json();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/bootstrap",
        "/api/v1/checklists/{id}/{version}",
        "/api/v1/sync/push",
        "/api/v1/sync/pull",
        "/api/v1/sync/receipt",
        "/api/v1/photos/{sha256}",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from openapi.json"
        );
    }
    for schema in [
        "PushRequest",
        "PushResponse",
        "Mutation",
        "Ack",
        "PullResponse",
        "ErrorResponse",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
    t.finish().await;
}

async fn login_issues_stable_device_codes_and_bootstrap_lists_checklist_packs(backend: Backend) {
    let t = TestApp::start(backend).await;
    let code = |reply: common::Reply| reply.json()["device_code"].as_str().unwrap().to_owned();
    let login = |device: DeviceId| json!({ "username": "inspector1", "password": "zhicha-demo", "device_id": device });
    let (phone, tablet) = (DeviceId::new(), DeviceId::new());
    let first = code(
        t.call(Method::POST, "/api/v1/auth/login", None, Some(login(phone)))
            .await,
    );
    let second = code(
        t.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(login(tablet)),
        )
        .await,
    );
    let again = code(
        t.call(Method::POST, "/api/v1/auth/login", None, Some(login(phone)))
            .await,
    );
    assert_eq!((first.as_str(), second.as_str()), ("A0", "A1"));
    assert_eq!(again, first, "a device keeps its code");

    let device = t.login("inspector3").await;
    let bootstrap = t.get("/api/v1/bootstrap", &device.token).await.json();
    let packs = bootstrap["packs"].as_array().unwrap();
    assert!(!packs.is_empty());
    assert_eq!(bootstrap["user"]["username"], "inspector3");
    let orgs: Vec<_> = bootstrap["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].clone())
        .collect();
    assert!(
        orgs.contains(&json!("达拉特旗应急管理局")) && !orgs.contains(&json!("综合行政执法一中队")),
        "{orgs:?}"
    );
    let (id, version) = (
        packs[0]["id"].as_str().unwrap(),
        packs[0]["version"].as_u64().unwrap(),
    );
    let pack = t
        .get(&format!("/api/v1/checklists/{id}/{version}"), &device.token)
        .await;
    assert_eq!(pack.status, StatusCode::OK);
    assert_eq!(pack.json()["id"], id);
    t.get(&format!("/api/v1/checklists/{id}/999"), &device.token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    t.finish().await;
}

async fn expired_tokens_and_changed_passwords_end_sessions(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (mut config, schema) = common::config_for(&backend, dir.path()).await;
    config.auth.token_ttl_hours = -1;
    let state = zhicha_server::AppState::open(config).await.unwrap();
    zhicha_server::operator::seed::demo(&state.store, &state.passwords)
        .await
        .unwrap();
    let router = zhicha_server::app(state.clone());
    let login = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "username": "leader1", "password": "zhicha-demo", "device_id": DeviceId::new() })
                .to_string(),
        ))
        .unwrap();
    use tower::ServiceExt as _;
    let response = router.clone().oneshot(login).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let token = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bootstrap = Request::get("/api/v1/bootstrap")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = router.oneshot(bootstrap).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "an expired token was accepted"
    );
    state.store.close().await;
    if let (Backend::Postgres(url), Some(schema)) = (&backend, &schema) {
        common::drop_schema(url, schema).await;
    }

    let t = TestApp::start(backend).await;
    let device = t.login("inspector2").await;
    assert_eq!(
        t.get("/api/v1/bootstrap", &device.token).await.status,
        StatusCode::OK
    );
    let hash = t.state.passwords.hash("a-new-long-password").await.unwrap();
    assert!(
        t.state
            .store
            .set_password("inspector2", &hash, None)
            .await
            .unwrap()
    );
    t.get("/api/v1/bootstrap", &device.token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    t.finish().await;
}
