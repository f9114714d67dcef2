//! Scale-out: two server processes (the real binary) on one PostgreSQL schema and one S3 bucket.
//! Simulated devices (the core's `Outbox` over HTTP) alternate between the two for every
//! request while a driver SIGKILLs one process or the other with a push in flight and restarts
//! it. Afterwards nothing acknowledged is lost, nothing is applied twice (each rev of a record
//! from exactly one acknowledged mutation), both processes serve the same records, and every
//! acknowledged photo is readable byte-exact from either. Needs PostgreSQL and the test S3 store.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Backend, bucket_objects, create_bucket, drop_schema, fresh_database_url, s3_env};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::sync::Mutex;
use uuid::Uuid;
use zhicha_core::ids::{
    DeviceId, EnterpriseId, FindingId, InspectionId, MutationId, PhotoHash, UserId,
};
use zhicha_core::model::{
    Finding, FindingStatus, Inspection, InspectionKind, InspectorRef, Level, Measure, PhotoMeta,
    PhotoOwner, PhotoRole, User,
};
use zhicha_core::outbox::Outbox;
use zhicha_core::protocol::{AckStatus, MutationPayload, PushResponse};
use zhicha_server::photos::PhotoStore;

const BIN: &str = env!("CARGO_BIN_EXE_zhicha-server");
/// SIGKILLs, alternating between the two processes.
const KILLS: usize = 10;
const DEVICES: [&str; 4] = ["inspector1", "inspector2", "inspector3", "inspector1"];

/// One server process, restarted on the same address with the same settings.
struct Server {
    child: Option<Child>,
    addr: String,
    data: std::path::PathBuf,
    dist: std::path::PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Server {
    fn spawn(&mut self, demo: bool) {
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .env("ZHICHA_ADDR", &self.addr)
            .env("ZHICHA_DATA", &self.data)
            .env("ZHICHA_DIST", &self.dist)
            .env("RUST_LOG", "error")
            .env("ZHICHA_ARGON2_M_KIB", "1024")
            .env("ZHICHA_ARGON2_T", "1")
            .env_remove("ZHICHA_DEMO")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if demo {
            command.arg("--demo");
        }
        self.child = Some(command.spawn().expect("start zhicha-server"));
    }

    async fn wait_healthy(&mut self, client: &reqwest::Client) {
        let started = Instant::now();
        loop {
            if let Ok(r) = client
                .get(format!("http://{}/healthz", self.addr))
                .send()
                .await
                && r.status().is_success()
            {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("the server exited on start: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server not healthy in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What a device has had acknowledged.
#[derive(Default)]
struct Ledger {
    /// Per entity: the revs of its acknowledged saves (one per mutation).
    revs: BTreeMap<Uuid, Vec<i64>>,
    /// Per finding: the description of its last acknowledged save.
    last_description: BTreeMap<Uuid, String>,
    inspections: BTreeSet<Uuid>,
    /// Photos a server answered 200/201 to.
    photos: BTreeSet<String>,
    acked: usize,
    rejected: Vec<String>,
}

struct Sim {
    name: String,
    device_id: DeviceId,
    token: String,
    user: User,
    enterprise: EnterpriseId,
    outbox: Outbox,
    inspections: Vec<Inspection>,
    findings: Vec<Finding>,
    to_upload: Vec<(PhotoHash, Vec<u8>)>,
    /// What each queued mutation carries: its entity, whether it is a save, its description.
    described: BTreeMap<MutationId, (Uuid, bool, Option<String>)>,
    ledger: Ledger,
    edits: u64,
    /// Requests that failed in transit (a process killed or down).
    failed: usize,
}

impl Sim {
    fn enqueue(&mut self, entity: Uuid, payload: &MutationPayload, description: Option<String>) {
        let id = MutationId::new();
        let base_rev = self
            .ledger
            .revs
            .get(&entity)
            .and_then(|revs| revs.iter().max().copied());
        self.outbox.enqueue(id, entity, base_rev, payload);
        // A coalesced save replaces the payload of an earlier entry: that entry now carries it.
        let entry = self
            .outbox
            .queued
            .iter()
            .rev()
            .find(|e| e.mutation.entity_id == entity && e.mutation.kind == payload.kind())
            .map_or(id, |e| e.mutation.mutation_id);
        self.described
            .insert(entry, (entity, payload.kind().is_save(), description));
    }

    /// One to three new writes: inspections, findings, edits and photo attachments.
    fn work(&mut self, rng: &mut StdRng) {
        for _ in 0..rng.random_range(1..=3) {
            if self.inspections.is_empty() || rng.random_bool(0.1) {
                let inspection = new_inspection(&self.user, self.enterprise);
                self.enqueue(
                    inspection.id.0,
                    &MutationPayload::InspectionSave(Box::new(inspection.clone())),
                    None,
                );
                self.ledger.inspections.insert(inspection.id.0);
                self.inspections.push(inspection);
            } else if self.findings.is_empty() || rng.random_bool(0.3) {
                let inspection =
                    self.inspections[rng.random_range(0..self.inspections.len())].clone();
                let finding = new_finding(&self.user, &inspection, format!("{} 新隐患", self.name));
                let description = finding.description.clone();
                self.enqueue(
                    finding.id.0,
                    &MutationPayload::FindingSave(Box::new(finding.clone())),
                    Some(description),
                );
                self.findings.push(finding);
            } else if rng.random_bool(0.6) {
                let i = rng.random_range(0..self.findings.len());
                self.edits += 1;
                self.findings[i].description = format!("{} 修改 {}", self.name, self.edits);
                let finding = self.findings[i].clone();
                let description = finding.description.clone();
                self.enqueue(
                    finding.id.0,
                    &MutationPayload::FindingSave(Box::new(finding)),
                    Some(description),
                );
            } else {
                let i = rng.random_range(0..self.findings.len());
                let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
                bytes.extend((0..rng.random_range(1_000..30_000)).map(|_| rng.random::<u8>()));
                let hash = PhotoHash::of_bytes(&bytes);
                self.findings[i].photos.push(hash.clone());
                let finding = self.findings[i].clone();
                let description = finding.description.clone();
                self.enqueue(
                    finding.id.0,
                    &MutationPayload::FindingSave(Box::new(finding.clone())),
                    Some(description),
                );
                let meta = PhotoMeta {
                    hash: hash.clone(),
                    owner: PhotoOwner::Finding(finding.id),
                    role: PhotoRole::Evidence,
                    bytes: bytes.len() as u64,
                    width: 1600,
                    height: 1200,
                    mime: "image/jpeg".into(),
                    captured_at: chrono::Utc::now(),
                    offset_from_start_s: Some(10),
                    location: None,
                    no_fix: None,
                    clock_offset_ms: None,
                };
                self.enqueue(
                    finding.id.0,
                    &MutationPayload::PhotoAttach(Box::new(meta)),
                    None,
                );
                self.to_upload.push((hash, bytes));
            }
        }
    }

    /// Pushes one batch to `bases[turn % 2]`, then each waiting photo to the next process in
    /// turn. `in_flight[i]` counts pushes on their way to process `i`, for the driver to aim at.
    async fn sync(
        &mut self,
        client: &reqwest::Client,
        bases: &[String; 2],
        in_flight: &[AtomicUsize; 2],
        turn: &mut usize,
    ) {
        if let Some(batch) = self.outbox.next_batch(self.device_id) {
            let target = *turn % 2;
            *turn += 1;
            in_flight[target].fetch_add(1, Ordering::SeqCst);
            let reply = client
                .post(format!("{}/api/v1/sync/push", bases[target]))
                .bearer_auth(&self.token)
                .json(&batch)
                .send()
                .await;
            let response = match reply {
                Ok(r) if r.status() == 200 => r.json::<PushResponse>().await.ok(),
                Ok(r) if r.status().is_client_error() => {
                    panic!(
                        "{}: push answered {}: {:?}",
                        self.name,
                        r.status(),
                        r.text().await
                    )
                }
                _ => None,
            };
            in_flight[target].fetch_sub(1, Ordering::SeqCst);
            match response {
                Some(response) => {
                    self.take_acks(&response);
                    self.outbox.apply_response(&response);
                }
                None => {
                    self.failed += 1;
                    self.outbox.push_failed();
                }
            }
        }
        let mut remaining = Vec::new();
        for (hash, bytes) in std::mem::take(&mut self.to_upload) {
            let base = &bases[*turn % 2];
            *turn += 1;
            let url = format!("{base}/api/v1/photos/{hash}");
            let held = client
                .head(&url)
                .bearer_auth(&self.token)
                .send()
                .await
                .map(|r| r.status());
            let stored = match held {
                Ok(s) if s == 404 => client
                    .put(&url)
                    .bearer_auth(&self.token)
                    .header("content-type", "image/jpeg")
                    .body(bytes.clone())
                    .send()
                    .await
                    .map(|r| r.status()),
                other => other,
            };
            match stored {
                Ok(s) if s == 200 || s == 201 => {
                    self.ledger.photos.insert(hash.to_string());
                }
                Ok(s) if s.is_client_error() && s != 404 => {
                    panic!("{}: photo upload answered {s}", self.name)
                }
                _ => {
                    self.failed += 1;
                    remaining.push((hash, bytes));
                }
            }
        }
        self.to_upload = remaining;
    }

    fn take_acks(&mut self, response: &PushResponse) {
        for ack in &response.acks {
            let Some((entity, saves, description)) = self.described.get(&ack.mutation_id).cloned()
            else {
                continue;
            };
            if !self
                .outbox
                .queued
                .iter()
                .any(|e| e.mutation.mutation_id == ack.mutation_id)
            {
                continue; // acknowledged before
            }
            match ack.status {
                AckStatus::Applied | AckStatus::Duplicate => {
                    self.ledger.acked += 1;
                    if let Some(rev) = ack.rev.filter(|_| saves) {
                        self.ledger.revs.entry(entity).or_default().push(rev);
                    }
                    if let Some(description) = description {
                        self.ledger.last_description.insert(entity, description);
                    }
                }
                AckStatus::Rejected => self.ledger.rejected.push(format!("{ack:?}")),
            }
        }
    }

    fn done(&self) -> bool {
        self.outbox.unsent_count() == 0 && self.to_upload.is_empty()
    }
}

fn new_inspection(user: &User, enterprise: EnterpriseId) -> Inspection {
    Inspection {
        entry: Default::default(),
        id: InspectionId::new(),
        org_id: user.org_id,
        enterprise_id: enterprise,
        kind: InspectionKind::Unannounced,
        packs: vec![zhicha_core::packs::latest_all()[0].pack_ref()],
        inspectors: vec![
            InspectorRef {
                user_id: user.id,
                name: user.display_name.clone(),
                certificate_no: user.certificate_no.clone().unwrap_or_default(),
            },
            InspectorRef {
                user_id: UserId::new(),
                name: "同组执法人员".to_owned(),
                certificate_no: "15062199".to_owned(),
            },
        ],
        created_by: user.id,
        started_at: chrono::Utc::now(),
        check_in: None,
        places: "主井口".to_owned(),
        item_results: vec![],
        summary: String::new(),
        finished_at: None,
        enterprise_signature: None,
        documents: vec![],
        reinspected_findings: vec![],
        fire_venues: vec![],
        inspector_signatures: vec![],
        recording: None,
        corrections: vec![],
    }
}

fn new_finding(user: &User, inspection: &Inspection, description: String) -> Finding {
    Finding {
        id: FindingId::new(),
        inspection_id: inspection.id,
        enterprise_id: inspection.enterprise_id,
        org_id: inspection.org_id,
        item_id: None,
        description,
        place: "二层仓库".to_owned(),
        level: Level::General,
        legal_basis: "《中华人民共和国消防法》第二十八条".to_owned(),
        basis_unverified: false,
        measure: Measure::Deadline,
        deadline: Some(chrono::Utc::now().date_naive() + chrono::Days::new(15)),
        photos: vec![],
        after_photos: vec![],
        status: FindingStatus::Draft,
        supervised: false,
        created_by: user.id,
        created_at: chrono::Utc::now(),
        history: vec![],
        corrections: vec![],
    }
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    username: &str,
) -> (DeviceId, String, User, EnterpriseId) {
    let device_id = DeviceId::new();
    let body: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "username": username, "password": "zhicha-demo", "device_id": device_id }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    let user: User = serde_json::from_value(body["user"].clone()).unwrap();
    let bootstrap: Value = client
        .get(format!("{base}/api/v1/bootstrap"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let enterprise = serde_json::from_value(bootstrap["enterprises"][0]["id"].clone()).unwrap();
    (device_id, token, user, enterprise)
}

/// Every finding and inspection `token` pulls from `base`, at its latest rev.
async fn pull_latest(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> BTreeMap<Uuid, (i64, Value)> {
    let mut cursor = String::new();
    let mut latest: BTreeMap<Uuid, (i64, Value)> = BTreeMap::new();
    loop {
        let page: Value = client
            .get(format!("{base}/api/v1/sync/pull?cursor={cursor}&limit=500"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for change in page["changes"].as_array().unwrap() {
            if change["entity"] == "finding" || change["entity"] == "inspection" {
                let id: Uuid = serde_json::from_value(change["id"].clone()).unwrap();
                let rev = change["rev"].as_i64().unwrap();
                let entry = latest.entry(id).or_insert((0, Value::Null));
                assert!(rev >= entry.0, "{id}: pulled rev {rev} after {}", entry.0);
                *entry = (rev, change["data"].clone());
            }
        }
        cursor = page["cursor"].as_str().unwrap().to_owned();
        if page["has_more"] == false {
            return latest;
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_share_one_database_and_bucket_through_kills() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    let Some(endpoint) = common::s3_endpoint().await else {
        return;
    };
    let Backend::Postgres(pg_url) = &backend else {
        unreachable!()
    };
    let seed = std::env::var("ZHICHA_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random::<u64>());
    eprintln!("two_instances: ZHICHA_FUZZ_SEED={seed}, {KILLS} kills");
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>直查</title>",
    )
    .unwrap();
    let (schema, database_url) = fresh_database_url(&backend).await;
    let database_url = database_url.unwrap();
    let bucket = create_bucket(&endpoint).await;
    let mut env = s3_env(&endpoint, &bucket, true);
    env.push(("DATABASE_URL", database_url.clone()));

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    // Two processes as on two machines: each its own address and data folder.
    let mut servers: Vec<Server> = (0..2)
        .map(|i| Server {
            child: None,
            addr: format!("127.0.0.1:{}", free_port()),
            data: dir.path().join(format!("data-{i}")),
            dist: dist.clone(),
            env: env.clone(),
        })
        .collect();
    servers[0].spawn(true);
    servers[0].wait_healthy(&client).await;
    servers[1].spawn(false);
    servers[1].wait_healthy(&client).await;
    let bases = [
        format!("http://{}", servers[0].addr),
        format!("http://{}", servers[1].addr),
    ];

    let mut sims = Vec::new();
    for (i, name) in DEVICES.iter().enumerate() {
        // Logged in on one process, the session is good on the other.
        let (device_id, token, user, enterprise) = login(&client, &bases[i % 2], name).await;
        sims.push(Arc::new(Mutex::new(Sim {
            name: format!("{name}#{i}"),
            device_id,
            token,
            user,
            enterprise,
            outbox: Outbox::new(),
            inspections: Vec::new(),
            findings: Vec::new(),
            to_upload: Vec::new(),
            described: BTreeMap::new(),
            ledger: Ledger::default(),
            edits: 0,
            failed: 0,
        })));
    }

    let writing = Arc::new(AtomicBool::new(true));
    let in_flight = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let mut tasks = Vec::new();
    for (i, sim) in sims.iter().enumerate() {
        let (sim, writing, in_flight, client, bases) = (
            Arc::clone(sim),
            Arc::clone(&writing),
            Arc::clone(&in_flight),
            client.clone(),
            bases.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(i as u64 + 1));
            let mut turn = i;
            while writing.load(Ordering::SeqCst) {
                let mut sim = sim.lock().await;
                if sim.outbox.unsent_count() < 40 {
                    sim.work(&mut rng);
                }
                sim.sync(&client, &bases, &in_flight, &mut turn).await;
                drop(sim);
                tokio::time::sleep(Duration::from_millis(rng.random_range(2..15))).await;
            }
        }));
    }

    // The driver: one process, then the other, is killed while a push is on its way to it,
    // stays down a moment (the devices carry on with the other) and is restarted.
    let mut rng = StdRng::seed_from_u64(seed);
    let mut aimed = 0;
    let started = Instant::now();
    for kill in 0..KILLS {
        let target = kill % 2;
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..300))).await;
        let aiming = Instant::now();
        while in_flight[target].load(Ordering::SeqCst) == 0
            && aiming.elapsed() < Duration::from_secs(2)
        {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        if in_flight[target].load(Ordering::SeqCst) > 0 {
            aimed += 1;
        }
        servers[target].kill();
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..200))).await;
        servers[target].spawn(false);
        servers[target].wait_healthy(&client).await;
    }
    writing.store(false, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    eprintln!(
        "two_instances: {KILLS} kills ({aimed} with a push in flight) in {:?}",
        started.elapsed()
    );
    assert!(aimed > 0, "no kill caught a push in flight");

    // Drain with both processes up.
    let drain = Instant::now();
    for (i, sim) in sims.iter().enumerate() {
        let mut sim = sim.lock().await;
        let mut turn = i;
        while !sim.done() {
            assert!(
                drain.elapsed() < Duration::from_secs(60),
                "{} could not drain",
                sim.name
            );
            sim.sync(&client, &bases, &in_flight, &mut turn).await;
        }
    }

    let mut ledgers = Vec::new();
    let mut failed = 0;
    for sim in sims {
        let sim = Arc::try_unwrap(sim).ok().unwrap().into_inner();
        assert!(
            sim.ledger.rejected.is_empty(),
            "{}: rejected {:?}",
            sim.name,
            sim.ledger.rejected
        );
        failed += sim.failed;
        ledgers.push((sim.name, sim.ledger));
    }
    let acked: usize = ledgers.iter().map(|l| l.1.acked).sum();
    assert!(
        acked >= 100,
        "too little traffic to mean anything: {acked} acked mutations"
    );

    // Both processes serve the same records, and every acknowledged write is there.
    let admin = login(&client, &bases[0], "admin").await.1;
    let latest = pull_latest(&client, &bases[0], &admin).await;
    assert_eq!(
        latest,
        pull_latest(&client, &bases[1], &admin).await,
        "the two processes disagree"
    );
    let mut photos = BTreeSet::new();
    for (name, ledger) in &ledgers {
        for (entity, revs) in &ledger.revs {
            let mut sorted = revs.clone();
            sorted.sort_unstable();
            let expected: Vec<i64> = (1..=sorted.len() as i64).collect();
            assert_eq!(sorted, expected, "{name}: {entity} acked revs");
            let (rev, data) = latest
                .get(entity)
                .unwrap_or_else(|| panic!("{name}: {entity} missing"));
            assert_eq!(*rev, sorted.len() as i64, "{name}: {entity} server rev");
            if let Some(description) = ledger.last_description.get(entity) {
                assert_eq!(data["description"], json!(description), "{name}: {entity}");
            }
        }
        for inspection in &ledger.inspections {
            assert!(
                latest.contains_key(inspection),
                "{name}: inspection {inspection} missing"
            );
        }
        photos.extend(ledger.photos.iter().cloned());
    }
    assert!(!photos.is_empty(), "no photo was uploaded");
    for base in &bases {
        for hash in &photos {
            let r = client
                .get(format!("{base}/api/v1/photos/{hash}"))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "photo {hash} from {base}");
            let bytes = r.bytes().await.unwrap();
            assert_eq!(
                PhotoHash::of_bytes(&bytes).to_string(),
                *hash,
                "photo {hash} from {base}"
            );
        }
        let ready: Value = client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ready["photos"]["ok"], true, "{base}: {ready}");
    }
    for server in &mut servers {
        server.kill();
    }

    // The database: one row per photo, no gap in the change log; the bucket: each recorded
    // photo once, under its hash, with its bytes, and nothing in either data folder.
    let mut db = sqlx::PgConnection::connect(&database_url).await.unwrap();
    let seqs: Vec<i64> = sqlx::query_scalar("SELECT seq FROM change_log ORDER BY seq")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let last: i64 = sqlx::query_scalar("SELECT last FROM change_counter")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "the change log has gaps"
    );
    let rows: Vec<String> = sqlx::query_scalar("SELECT hash FROM photos")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let _ = db.close().await;
    let held: BTreeSet<String> = rows.iter().cloned().collect();
    assert_eq!(held.len(), rows.len(), "a photo recorded twice");
    assert!(photos.is_subset(&held), "acknowledged photos not recorded");
    let objects = bucket_objects(&endpoint, &bucket).await;
    for hash in &held {
        let key = PhotoStore::key(&PhotoHash::parse(hash).unwrap()).to_string();
        let bytes = objects
            .get(&key)
            .unwrap_or_else(|| panic!("recorded photo {hash} not in the bucket"));
        assert_eq!(PhotoHash::of_bytes(bytes).to_string(), *hash, "{key}");
    }
    for server in &servers {
        assert!(
            !server.data.join("photos").exists(),
            "photos written locally"
        );
    }
    eprintln!(
        "two_instances: {acked} acked mutations, {failed} requests failed in transit, \
         {} records, {} photos, change log 1..={last}",
        latest.len(),
        photos.len()
    );
    if let Some(schema) = &schema {
        drop_schema(pg_url, schema).await;
    }
}
