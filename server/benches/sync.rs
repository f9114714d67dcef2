//! Throughput over a real socket, on SQLite and on PostgreSQL: mutations/s for 10,000
//! findings pushed in batches of 100, and photo PUT MB/s. Prints figures; run with
//! `cargo bench -p zhicha-server`. PostgreSQL is `ZHICHA_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), in a fresh schema dropped afterwards.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::{Backend, config_for, drop_schema, jpeg};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use zhicha_core::ids::{DeviceId, PhotoHash};
use zhicha_core::model::User;
use zhicha_core::protocol::{AckStatus, PushResponse};
use zhicha_server::operator::seed;
use zhicha_server::{AppState, app};

const FINDINGS: usize = 10_000;
const BATCH: usize = 100;
const PHOTOS: usize = 40;
const PHOTO_BYTES: usize = 1024 * 1024;

#[tokio::main]
async fn main() {
    println!(
        "zhicha-server sync benchmark (one device, sequential requests over HTTP on 127.0.0.1)"
    );
    run(Backend::Sqlite, "SQLite").await;
    match Backend::postgres().await {
        Some(backend) => run(backend, "PostgreSQL").await,
        None => println!("PostgreSQL: unreachable, not measured"),
    }
}

async fn run(backend: Backend, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut config, schema) = config_for(&backend, dir.path()).await;
    config.auth = zhicha_server::config::AuthConfig::default();
    let state = AppState::open(config).await.unwrap();
    seed::demo(&state.store, &state.passwords).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(axum::serve(listener, app(state.clone())).into_future());

    let client = reqwest::Client::new();
    let device_id = DeviceId::new();
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "username": "inspector1", "password": seed::DEMO_PASSWORD, "device_id": device_id }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device = common::Device {
        token: login["token"].as_str().unwrap().to_owned(),
        device_id,
        user: serde_json::from_value::<User>(login["user"].clone()).unwrap(),
        seq: Default::default(),
    };
    let bootstrap: Value = client
        .get(format!("{base}/api/v1/bootstrap"))
        .bearer_auth(&device.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let enterprise = serde_json::from_value(bootstrap["enterprises"][0]["id"].clone()).unwrap();
    let inspection = device.inspection(enterprise);
    push(
        &client,
        &base,
        &device,
        vec![device.save_inspection(&inspection, None)],
    )
    .await;

    let batches: Vec<Vec<_>> = (0..FINDINGS / BATCH)
        .map(|_| {
            (0..BATCH)
                .map(|_| device.save_finding(&device.finding(&inspection), None))
                .collect()
        })
        .collect();
    let started = Instant::now();
    for batch in batches {
        push(&client, &base, &device, batch).await;
    }
    let push_secs = started.elapsed().as_secs_f64();

    let photos: Vec<Vec<u8>> = (0..PHOTOS)
        .map(|n| {
            let mut bytes = jpeg(PHOTO_BYTES - 4, 0);
            for (i, b) in bytes.iter_mut().enumerate().skip(4) {
                *b = (i as u64)
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(n as u64) as u8;
            }
            bytes
        })
        .collect();
    let started = Instant::now();
    for bytes in photos {
        let hash = PhotoHash::of_bytes(&bytes);
        let reply = client
            .put(format!("{base}/api/v1/photos/{hash}"))
            .bearer_auth(&device.token)
            .header("content-type", "image/jpeg")
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 201);
    }
    let photo_secs = started.elapsed().as_secs_f64();
    let megabytes = (PHOTOS * PHOTO_BYTES) as f64 / 1e6;

    println!(
        "{name}: {FINDINGS} findings in batches of {BATCH}: {:.0} mutations/s ({:.1} ms per batch); \
         photo PUT {PHOTOS} x {:.1} MB: {:.1} MB/s",
        FINDINGS as f64 / push_secs,
        push_secs * 1000.0 / (FINDINGS / BATCH) as f64,
        PHOTO_BYTES as f64 / 1e6,
        megabytes / photo_secs,
    );
    server.abort();
    state.store.close().await;
    if let (Backend::Postgres(url), Some(schema)) = (&backend, schema) {
        drop_schema(url, &schema).await;
    }
}

async fn push(
    client: &reqwest::Client,
    base: &str,
    device: &common::Device,
    mutations: Vec<zhicha_core::protocol::Mutation>,
) {
    let response: PushResponse = client
        .post(format!("{base}/api/v1/sync/push"))
        .bearer_auth(&device.token)
        .json(&json!({ "device_id": device.device_id, "mutations": mutations }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(response.gap.is_none() && response.acks.iter().all(|a| a.status == AckStatus::Applied));
}
