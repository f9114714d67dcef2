//! Photos in a real S3-compatible store (the SeaweedFS that `scripts/test` starts): uploads land
//! in the bucket under their hash and read back byte-exact after a restart, receipts say
//! complete, a hash mismatch writes nothing, and `/readyz` follows the store. Each photo test
//! runs with create-only writes and with the check-then-write fallback for stores without them
//! (`ZHICHA_S3_CREATE_ONLY=false`), on SQLite and PostgreSQL.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{
    Backend, Device, TestApp, assert_applied, bucket_client, bucket_objects, create_bucket, jpeg,
    s3_endpoint, use_s3,
};
use object_store::{ObjectStoreExt as _, PutPayload};
use serde_json::{Value, json};
use zhicha_core::ids::PhotoHash;
use zhicha_core::model::{Inspection, PhotoMeta, PhotoOwner, PhotoRole};
use zhicha_core::protocol::MutationPayload;
use zhicha_server::photos::PhotoStore;
use zhicha_server::{AppState, app};

on_both_backends!(
    photos_live_in_the_bucket_and_survive_a_restart,
    photos_live_in_the_bucket_and_survive_a_restart_without_create_only,
    an_object_already_in_the_bucket_is_taken_as_held,
    an_object_already_in_the_bucket_is_taken_as_held_without_create_only,
    a_hash_mismatch_stores_nothing,
    a_hash_mismatch_stores_nothing_without_create_only,
    readiness_follows_the_bucket,
);

/// The server on `backend` with its photos in a fresh bucket; None when S3 is not available.
async fn start(backend: Backend, create_only: bool) -> Option<(TestApp, String, String)> {
    let endpoint = s3_endpoint().await?;
    let bucket = create_bucket(&endpoint).await;
    let t = TestApp::start_with(backend, |config| {
        use_s3(config, &endpoint, &bucket, create_only);
    })
    .await;
    Some((t, endpoint, bucket))
}

async fn put_photo(t: &TestApp, token: &str, hash: &str, bytes: Vec<u8>) -> common::Reply {
    t.send(
        Request::builder()
            .method(Method::PUT)
            .uri(format!("/api/v1/photos/{hash}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "image/jpeg")
            .body(Body::from(bytes))
            .unwrap(),
    )
    .await
}

async fn head_photo(t: &TestApp, token: &str, hash: &PhotoHash) -> StatusCode {
    t.call(
        Method::HEAD,
        &format!("/api/v1/photos/{hash}"),
        Some(token),
        None,
    )
    .await
    .status
}

/// An inspection with one finding that references `photos`, pushed with their attachments.
async fn inspection_with_photos(t: &TestApp, device: &Device, photos: &[&[u8]]) -> Inspection {
    let inspection = device.inspection(t.some_enterprise(device).await);
    let mut finding = device.finding(&inspection);
    finding.photos = photos.iter().map(|b| PhotoHash::of_bytes(b)).collect();
    let mut mutations = vec![
        device.save_inspection(&inspection, None),
        device.save_finding(&finding, None),
    ];
    for bytes in photos {
        let meta = PhotoMeta {
            hash: PhotoHash::of_bytes(bytes),
            owner: PhotoOwner::Finding(finding.id),
            role: PhotoRole::Evidence,
            bytes: bytes.len() as u64,
            width: 1600,
            height: 1200,
            mime: "image/jpeg".into(),
            captured_at: chrono::Utc::now(),
            offset_from_start_s: Some(30),
            location: None,
            no_fix: None,
            clock_offset_ms: None,
        };
        mutations.push(device.mutation(
            finding.id.0,
            None,
            &MutationPayload::PhotoAttach(Box::new(meta)),
        ));
    }
    assert_applied(&t.push(device, &mutations).await);
    inspection
}

async fn receipt(t: &TestApp, device: &Device, inspection: &Inspection) -> Value {
    let reply = t
        .get(
            &format!("/api/v1/sync/receipt?inspection={}", inspection.id),
            &device.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json()
}

async fn photos_live_in_the_bucket_and_survive_a_restart(backend: Backend) {
    survive_a_restart(backend, true).await;
}

async fn photos_live_in_the_bucket_and_survive_a_restart_without_create_only(backend: Backend) {
    survive_a_restart(backend, false).await;
}

async fn survive_a_restart(backend: Backend, create_only: bool) {
    let Some((mut t, endpoint, bucket)) = start(backend, create_only).await else {
        return;
    };
    let inspector = t.login("inspector1").await;
    let teammate = t.login("inspector2").await;
    let first = jpeg(300_000, 7);
    let second = jpeg(20_000, 9);
    let inspection = inspection_with_photos(&t, &inspector, &[&first, &second]).await;
    let before = receipt(&t, &inspector, &inspection).await;
    assert_eq!(before["complete"], false, "{before}");

    for bytes in [&first, &second] {
        let hash = PhotoHash::of_bytes(bytes);
        let reply = put_photo(&t, &inspector.token, hash.as_str(), bytes.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.json()["created"], true);
    }
    // Uploaded again (a retry after a lost answer): held, nothing written twice.
    let hash = PhotoHash::of_bytes(&first);
    let again = put_photo(&t, &inspector.token, hash.as_str(), first.clone()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["created"], false);

    let after = receipt(&t, &inspector, &inspection).await;
    assert_eq!(after["complete"], true, "{after}");
    assert_eq!(after["photos_present"].as_array().unwrap().len(), 2);

    // In the bucket under their content-addressed keys, byte-exact; nothing else there, and
    // nothing in the local photo folder.
    let objects = bucket_objects(&endpoint, &bucket).await;
    let expected: Vec<String> = [&first, &second]
        .iter()
        .map(|b| PhotoStore::key(&PhotoHash::of_bytes(b)).to_string())
        .collect();
    let mut keys: Vec<String> = objects.keys().cloned().collect();
    keys.sort();
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(objects[&expected[0]].as_ref(), first.as_slice());
    assert_eq!(objects[&expected[1]].as_ref(), second.as_slice());
    assert!(!t.dir.path().join("data").join("photos").exists());

    // A restart: a new server state over the same database and bucket.
    let config = (*t.state.config).clone();
    t.state.store.close().await;
    t.state = AppState::open(config)
        .await
        .expect("reopen the server state");
    t.router = app(t.state.clone());
    for device in [&inspector, &teammate] {
        for bytes in [&first, &second] {
            let hash = PhotoHash::of_bytes(bytes);
            let reply = t
                .get(&format!("/api/v1/photos/{hash}"), &device.token)
                .await;
            assert_eq!(reply.status, StatusCode::OK);
            assert_eq!(
                reply.body.as_ref(),
                bytes.as_slice(),
                "{hash} after restart"
            );
            assert_eq!(head_photo(&t, &device.token, &hash).await, StatusCode::OK);
        }
    }
    let restarted = receipt(&t, &inspector, &inspection).await;
    assert_eq!(restarted["complete"], true, "{restarted}");
    assert_eq!(restarted["photos_present"], after["photos_present"]);
    t.finish().await;
}

async fn an_object_already_in_the_bucket_is_taken_as_held(backend: Backend) {
    already_in_the_bucket(backend, true).await;
}

async fn an_object_already_in_the_bucket_is_taken_as_held_without_create_only(backend: Backend) {
    already_in_the_bucket(backend, false).await;
}

/// An object under a photo's name (another server of the same bucket, or a restore) is that
/// photo: the upload is recorded without writing, and answers "held".
async fn already_in_the_bucket(backend: Backend, create_only: bool) {
    let Some((t, endpoint, bucket)) = start(backend, create_only).await else {
        return;
    };
    let inspector = t.login("inspector1").await;
    let bytes = jpeg(40_000, 5);
    let hash = PhotoHash::of_bytes(&bytes);
    let client = bucket_client(&endpoint, &bucket);
    client
        .put(&PhotoStore::key(&hash), PutPayload::from(bytes.clone()))
        .await
        .unwrap();
    let written = client
        .head(&PhotoStore::key(&hash))
        .await
        .unwrap()
        .last_modified;
    let inspection = inspection_with_photos(&t, &inspector, &[&bytes]).await;
    assert_eq!(
        head_photo(&t, &inspector.token, &hash).await,
        StatusCode::NOT_FOUND
    );
    let reply = put_photo(&t, &inspector.token, hash.as_str(), bytes.clone()).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.json()["created"], false);
    assert_eq!(
        client
            .head(&PhotoStore::key(&hash))
            .await
            .unwrap()
            .last_modified,
        written,
        "the held object was written again"
    );
    assert_eq!(receipt(&t, &inspector, &inspection).await["complete"], true);
    let reply = t
        .get(&format!("/api/v1/photos/{hash}"), &inspector.token)
        .await;
    assert_eq!(reply.body.as_ref(), bytes.as_slice());
    t.finish().await;
}

async fn a_hash_mismatch_stores_nothing(backend: Backend) {
    hash_mismatch(backend, true).await;
}

async fn a_hash_mismatch_stores_nothing_without_create_only(backend: Backend) {
    hash_mismatch(backend, false).await;
}

async fn hash_mismatch(backend: Backend, create_only: bool) {
    let Some((t, endpoint, bucket)) = start(backend, create_only).await else {
        return;
    };
    let inspector = t.login("inspector1").await;
    let claimed = jpeg(10_000, 1);
    let mut sent = claimed.clone();
    sent[5_000] ^= 0x40; // one flipped bit on the way
    let inspection = inspection_with_photos(&t, &inspector, &[&claimed]).await;
    let hash = PhotoHash::of_bytes(&claimed);
    put_photo(&t, &inspector.token, hash.as_str(), sent)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "hash_mismatch");
    assert!(
        bucket_objects(&endpoint, &bucket).await.is_empty(),
        "a mismatched upload reached the bucket"
    );
    assert_eq!(
        head_photo(&t, &inspector.token, &hash).await,
        StatusCode::NOT_FOUND
    );
    let receipt = receipt(&t, &inspector, &inspection).await;
    assert_eq!(receipt["complete"], false, "{receipt}");
    assert_eq!(receipt["photos_present"], json!([]));
    t.finish().await;
}

async fn readiness_follows_the_bucket(backend: Backend) {
    let Some((t, _, _)) = start(backend.clone(), true).await else {
        return;
    };
    let reply = t.call(Method::GET, "/readyz", None, None).await;
    let body = reply.json();
    assert_eq!(body["photos"]["ok"], true, "{body}");
    assert_eq!(body["database"]["ok"], true, "{body}");
    t.finish().await;

    // A bucket that does not exist (a typo in ZHICHA_S3_BUCKET) is not ready either.
    let Some((t, _, _)) = start(backend.clone(), true).await else {
        return;
    };
    let config = {
        let mut config = (*t.state.config).clone();
        config.s3.bucket = Some(format!("zt-missing-{}", uuid::Uuid::now_v7().simple()));
        config
    };
    let missing = app(AppState::open(config).await.unwrap());
    let response = tower::ServiceExt::oneshot(
        missing,
        Request::get("/readyz").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = serde_json::from_slice(
        &axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(body["photos"]["ok"], false, "{body}");
    assert_eq!(body["database"]["ok"], true, "{body}");
    t.finish().await;

    // The same server with an endpoint nothing answers on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_endpoint = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let t = TestApp::start_with(backend, |config| {
        use_s3(config, &dead_endpoint, "zhicha-photos", true);
    })
    .await;
    let reply = t.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = reply.json();
    assert_eq!(body["status"], "not_ready", "{body}");
    assert_eq!(body["photos"]["ok"], false, "{body}");
    assert_eq!(body["database"]["ok"], true, "{body}");
    t.finish().await;
}
