//! Load run against a running server: N simulated devices (default 200) each log in, then sync
//! for S seconds (default 60): push one or two new or edited findings, pull from their cursor,
//! and every few rounds check-then-put a photo, pausing `--think-ms` between rounds. Prints
//! p50/p90/p99/max latency per request kind and the error count. Used by `scripts/reliability`:
//!
//! `cargo run --release -p zhicha-server --example load -- http://127.0.0.1:8080 [devices] [secs] [think-ms]`

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use common::{Device, jpeg};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use zhicha_core::ids::{DeviceId, PhotoHash};
use zhicha_core::model::{Finding, User};
use zhicha_core::protocol::{AckStatus, PushResponse};

const USERS: [&str; 3] = ["inspector1", "inspector2", "inspector3"];

#[derive(Default)]
struct Stats {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    errors: BTreeMap<String, usize>,
    rejected: usize,
}

impl Stats {
    fn record(&mut self, kind: &'static str, took: Duration, ok: Result<(), String>) {
        self.latencies.entry(kind).or_default().push(took);
        if let Err(e) = ok {
            *self.errors.entry(format!("{kind}: {e}")).or_default() += 1;
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

async fn login(client: &reqwest::Client, base: &str, username: &str) -> Device {
    let device_id = DeviceId::new();
    // The server checks a bounded number of passwords at once and asks the rest to come back
    // (503 with Retry-After), as the app does.
    let body: Value = loop {
        let response = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(
                &json!({ "username": username, "password": "zhicha-demo", "device_id": device_id }),
            )
            .send()
            .await
            .expect("login");
        if response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            let after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            tokio::time::sleep(Duration::from_millis(after * 1000 / 4 + 50)).await;
            continue;
        }
        break response.json().await.expect("login answer");
    };
    let user: User = serde_json::from_value(body["user"].clone()).expect("user in login answer");
    Device {
        token: body["token"].as_str().expect("token").to_owned(),
        device_id,
        user,
        seq: AtomicU64::new(0),
    }
}

async fn status_of(request: reqwest::RequestBuilder) -> Result<reqwest::Response, String> {
    match request.send().await {
        Ok(r) if r.status().is_server_error() || r.status().is_client_error() => {
            Err(format!("HTTP {}", r.status().as_u16()))
        }
        Ok(r) => Ok(r),
        Err(e) => Err(if e.is_timeout() {
            "timeout".into()
        } else {
            "transport".into()
        }),
    }
}

#[allow(clippy::too_many_lines)]
async fn run_device(
    client: reqwest::Client,
    base: String,
    device: Device,
    seed: u64,
    until: Instant,
    think: Duration,
    stats: Arc<Mutex<Stats>>,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let auth = format!("Bearer {}", device.token);
    let enterprise = {
        let bootstrap: Value = client
            .get(format!("{base}/api/v1/bootstrap"))
            .header("authorization", &auth)
            .send()
            .await
            .expect("bootstrap")
            .json()
            .await
            .expect("bootstrap answer");
        serde_json::from_value(bootstrap["enterprises"][0]["id"].clone()).expect("an enterprise")
    };
    let inspection = device.inspection(enterprise);
    let mut findings: Vec<(Finding, i64)> = Vec::new();
    let mut pending = vec![device.save_inspection(&inspection, None)];
    let mut cursor = String::new();
    let mut round = 0u64;
    // Spread the first rounds over the think time so the devices do not march in step.
    tokio::time::sleep(think.mul_f64(rng.random::<f64>())).await;
    while Instant::now() < until {
        round += 1;
        if findings.len() < 5 || rng.random_bool(0.5) {
            let finding = device.finding(&inspection);
            pending.push(device.save_finding(&finding, None));
            findings.push((finding, 0));
        } else {
            let i = rng.random_range(0..findings.len());
            findings[i].0.description = format!("修改 {round}");
            let base_rev = Some(findings[i].1).filter(|r| *r > 0);
            pending.push(device.save_finding(&findings[i].0, base_rev));
        }
        // Push.
        let started = Instant::now();
        let reply = status_of(
            client
                .post(format!("{base}/api/v1/sync/push"))
                .header("authorization", &auth)
                .json(&json!({ "device_id": device.device_id, "mutations": pending })),
        )
        .await;
        let outcome = match reply {
            Ok(r) => match r.json::<PushResponse>().await {
                Ok(response) if response.gap.is_none() => {
                    let mut stats = stats.lock().await;
                    for ack in &response.acks {
                        if ack.status == AckStatus::Rejected {
                            stats.rejected += 1;
                        }
                        let entity = pending.iter().find(|m| m.mutation_id == ack.mutation_id);
                        if let (Some(m), Some(rev)) = (entity, ack.rev)
                            && let Some(f) = findings.iter_mut().find(|f| f.0.id.0 == m.entity_id)
                        {
                            f.1 = rev;
                        }
                    }
                    pending.clear();
                    Ok(())
                }
                Ok(response) => Err(format!("gap {:?}", response.gap)),
                Err(_) => Err("bad push answer".into()),
            },
            Err(e) => Err(e),
        };
        stats
            .lock()
            .await
            .record("push", started.elapsed(), outcome);
        // Pull from the cursor.
        let started = Instant::now();
        let reply = status_of(
            client
                .get(format!("{base}/api/v1/sync/pull?cursor={cursor}&limit=200"))
                .header("authorization", &auth),
        )
        .await;
        let outcome = match reply {
            Ok(r) => match r.json::<Value>().await {
                Ok(page) => {
                    cursor = page["cursor"].as_str().unwrap_or_default().to_owned();
                    Ok(())
                }
                Err(_) => Err("bad pull answer".into()),
            },
            Err(e) => Err(e),
        };
        stats
            .lock()
            .await
            .record("pull", started.elapsed(), outcome);
        // Every fourth round: a photo, HEAD then PUT.
        if round.is_multiple_of(4) {
            let bytes = jpeg(rng.random_range(20_000..60_000), rng.random());
            let hash = PhotoHash::of_bytes(&bytes);
            let url = format!("{base}/api/v1/photos/{hash}");
            let started = Instant::now();
            let head = client
                .head(&url)
                .header("authorization", &auth)
                .send()
                .await;
            let ok = match &head {
                Ok(r) if r.status() == 404 || r.status() == 200 => Ok(()),
                Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
                Err(_) => Err("transport".into()),
            };
            stats
                .lock()
                .await
                .record("photo HEAD", started.elapsed(), ok);
            let started = Instant::now();
            let put = status_of(
                client
                    .put(&url)
                    .header("authorization", &auth)
                    .header("content-type", "image/jpeg")
                    .body(bytes),
            )
            .await
            .map(|_| ());
            stats
                .lock()
                .await
                .record("photo PUT", started.elapsed(), put);
        }
        tokio::time::sleep(think).await;
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let devices: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(200);
    let secs: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(60);
    let think = Duration::from_millis(args.get(4).and_then(|a| a.parse().ok()).unwrap_or(1000));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(devices)
        .build()
        .expect("HTTP client");
    println!(
        "load: {devices} devices, {secs} s, {} ms between rounds, {base}",
        think.as_millis()
    );
    let login_started = Instant::now();
    let mut fleet = Vec::with_capacity(devices);
    for chunk in (0..devices).collect::<Vec<_>>().chunks(8) {
        let logins = chunk
            .iter()
            .map(|i| login(&client, &base, USERS[i % USERS.len()]));
        fleet.extend(futures_util::future::join_all(logins).await);
    }
    println!(
        "load: {devices} logins in {:.1} s (argon2id)",
        login_started.elapsed().as_secs_f64()
    );
    let stats = Arc::new(Mutex::new(Stats::default()));
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let tasks: Vec<_> = fleet
        .into_iter()
        .enumerate()
        .map(|(i, device)| {
            tokio::spawn(run_device(
                client.clone(),
                base.clone(),
                device,
                i as u64,
                until,
                think,
                Arc::clone(&stats),
            ))
        })
        .collect();
    for task in tasks {
        task.await.expect("a device task panicked");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stats = stats.lock().await;
    let mut all: Vec<Duration> = Vec::new();
    println!(
        "{:<12} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "request", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    for (kind, latencies) in &stats.latencies {
        let mut sorted = latencies.clone();
        sorted.sort_unstable();
        println!(
            "{kind:<12} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            sorted.len(),
            percentile(&sorted, 0.50),
            percentile(&sorted, 0.90),
            percentile(&sorted, 0.99),
            percentile(&sorted, 1.0)
        );
        all.extend(sorted);
    }
    all.sort_unstable();
    let errors: usize = stats.errors.values().sum();
    println!(
        "{:<12} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
        "all",
        all.len(),
        percentile(&all, 0.50),
        percentile(&all, 0.90),
        percentile(&all, 0.99),
        percentile(&all, 1.0)
    );
    println!(
        "load: {} requests in {elapsed:.1} s ({:.0}/s), errors: {errors}, rejected mutations: {}",
        all.len(),
        all.len() as f64 / elapsed,
        stats.rejected
    );
    for (error, n) in &stats.errors {
        println!("  error {error}: {n}");
    }
    println!(
        "LOAD_P50_MS={:.1} LOAD_P99_MS={:.1} LOAD_ERRORS={errors}",
        percentile(&all, 0.50),
        percentile(&all, 0.99)
    );
    if errors > 0 {
        std::process::exit(1);
    }
}
