//! Fault injection against the real binary: a fleet of simulated devices (the core's `Outbox`
//! over HTTP) syncs records and photos while a driver SIGKILLs and restarts the server at random
//! moments, at least 50 times. Afterwards every record and photo is held exactly once, every
//! acknowledged mutation is there (each rev came from exactly one acked mutation), and the change
//! log has no gaps. On SQLite and PostgreSQL.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Backend, drop_schema, fresh_database_url};
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

const BIN: &str = env!("CARGO_BIN_EXE_zhicha-server");
/// How many times the server is killed (at least 50; `ZHICHA_FAULT_KILLS` raises it).
const KILLS: usize = 55;
const DEVICES: [&str; 4] = ["inspector1", "inspector2", "inspector3", "inspector1"];

on_both_backends!(records_and_photos_survive_sigkill_at_random_points);

/// The server process, restarted on the same address and data.
struct Server {
    child: Option<Child>,
    addr: String,
    dir: std::path::PathBuf,
    database_url: Option<String>,
}

impl Server {
    fn spawn(&mut self, demo: bool) {
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .env("ZHICHA_ADDR", &self.addr)
            .env("ZHICHA_DATA", self.dir.join("data"))
            .env("ZHICHA_DIST", self.dir.join("dist"))
            .env("RUST_LOG", "error")
            .env("ZHICHA_ARGON2_M_KIB", "1024")
            .env("ZHICHA_ARGON2_T", "1")
            .env_remove("DATABASE_URL")
            .env_remove("ZHICHA_DEMO")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if demo {
            command.arg("--demo");
        }
        if let Some(url) = &self.database_url {
            command.env("DATABASE_URL", url);
        }
        self.child = Some(command.spawn().expect("start zhicha-server"));
    }

    /// Waits until `/healthz` answers (the server listens only after migrations).
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
    /// Per entity: the revs of its acknowledged mutations (one per mutation).
    revs: BTreeMap<Uuid, Vec<i64>>,
    /// Per finding: the description of its last acknowledged save.
    last_description: BTreeMap<Uuid, String>,
    inspections: BTreeSet<Uuid>,
    /// Photos the server answered 200/201 to.
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
    /// Photos attached but not yet acknowledged by the server's PUT.
    to_upload: Vec<(PhotoHash, Vec<u8>)>,
    /// Payload descriptions by mutation id, to know what an ack acknowledged.
    described: BTreeMap<MutationId, (Uuid, bool, Option<String>)>,
    ledger: Ledger,
    edits: u64,
}

impl Sim {
    fn enqueue(&mut self, entity: Uuid, payload: &MutationPayload, description: Option<String>) {
        let id = MutationId::new();
        // The rev this device last saw of the record, as the app sends it.
        let base_rev = self
            .ledger
            .revs
            .get(&entity)
            .and_then(|revs| revs.iter().max().copied());
        self.outbox.enqueue(id, entity, base_rev, payload);
        // A coalesced save replaces the payload of an earlier entry: that entry now carries it.
        let seq_entry = self
            .outbox
            .queued
            .iter()
            .rev()
            .find(|e| e.mutation.entity_id == entity && e.mutation.kind == payload.kind())
            .map(|e| e.mutation.mutation_id)
            .unwrap_or(id);
        self.described
            .insert(seq_entry, (entity, payload.kind().is_save(), description));
    }

    /// Makes one to three new writes: inspections, findings, edits and photo attachments.
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
            } else if rng.random_bool(0.7) {
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
                bytes.extend((0..rng.random_range(1_000..40_000)).map(|_| rng.random::<u8>()));
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

    /// One sync round: push one batch, then try to upload the photos. Errors are retried later.
    async fn sync(&mut self, client: &reqwest::Client, base: &str) {
        if let Some(batch) = self.outbox.next_batch(self.device_id) {
            let reply = client
                .post(format!("{base}/api/v1/sync/push"))
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
            match response {
                Some(response) => {
                    for ack in &response.acks {
                        let Some((entity, saves, description)) =
                            self.described.get(&ack.mutation_id).cloned()
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
                                // Saves bump the record's rev; an attachment has the photo's own.
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
                    self.outbox.apply_response(&response);
                }
                None => self.outbox.push_failed(),
            }
        }
        let mut remaining = Vec::new();
        for (hash, bytes) in std::mem::take(&mut self.to_upload) {
            let url = format!("{base}/api/v1/photos/{hash}");
            let held = client
                .head(&url)
                .bearer_auth(&self.token)
                .send()
                .await
                .map(|r| r.status());
            let stored = match held {
                Ok(s) if s == 200 => Ok(s),
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
                _ => remaining.push((hash, bytes)),
            }
        }
        self.to_upload = remaining;
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn records_and_photos_survive_sigkill_at_random_points(backend: Backend) {
    let seed = std::env::var("ZHICHA_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random::<u64>());
    let kills = std::env::var("ZHICHA_FAULT_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(KILLS)
        .max(50);
    eprintln!("faults: ZHICHA_FUZZ_SEED={seed}, {kills} kills");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("dist")).unwrap();
    std::fs::write(
        dir.path().join("dist").join("index.html"),
        "<!doctype html><title>直查</title>",
    )
    .unwrap();
    let (schema, database_url) = fresh_database_url(&backend).await;
    let addr = format!("127.0.0.1:{}", free_port());
    let base = format!("http://{addr}");
    let mut server = Server {
        child: None,
        addr,
        dir: dir.path().to_owned(),
        database_url: database_url.clone(),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    server.spawn(true);
    server.wait_healthy(&client).await;

    let mut sims = Vec::new();
    for (i, name) in DEVICES.iter().enumerate() {
        let (device_id, token, user, enterprise) = login(&client, &base, name).await;
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
        })));
    }

    // The fleet: work and sync in a loop until told to stop making new writes.
    let writing = Arc::new(AtomicBool::new(true));
    let rounds = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (i, sim) in sims.iter().enumerate() {
        let (sim, writing, rounds, client, base) = (
            Arc::clone(sim),
            Arc::clone(&writing),
            Arc::clone(&rounds),
            client.clone(),
            base.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(i as u64 + 1));
            while writing.load(Ordering::SeqCst) {
                let mut sim = sim.lock().await;
                if sim.outbox.unsent_count() < 40 {
                    sim.work(&mut rng);
                }
                sim.sync(&client, &base).await;
                drop(sim);
                rounds.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(rng.random_range(2..15))).await;
            }
        }));
    }

    // The driver: kill at a random moment after the server is back, restart at once.
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(rng.random_range(5..120))).await;
        server.kill();
        server.spawn(false);
        server.wait_healthy(&client).await;
    }
    writing.store(false, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    eprintln!(
        "faults: {kills} kills in {:?}, {} device rounds",
        started.elapsed(),
        rounds.load(Ordering::SeqCst)
    );

    // Drain: the server stays up; every outbox and upload queue must empty.
    let drain = Instant::now();
    for sim in &sims {
        let mut sim = sim.lock().await;
        while !sim.done() {
            assert!(
                drain.elapsed() < Duration::from_secs(60),
                "{} could not drain",
                sim.name
            );
            sim.sync(&client, &base).await;
        }
    }

    let mut ledgers = Vec::new();
    for sim in sims {
        let sim = Arc::try_unwrap(sim).ok().unwrap().into_inner();
        assert!(
            sim.ledger.rejected.is_empty(),
            "{}: rejected {:?}",
            sim.name,
            sim.ledger.rejected
        );
        ledgers.push((sim.name, sim.token, sim.ledger));
    }
    let acked: usize = ledgers.iter().map(|l| l.2.acked).sum();
    assert!(
        acked >= 100,
        "too little traffic to mean anything: {acked} acked mutations"
    );

    // The server's view, through the API: every acknowledged write of every device is there.
    let admin = login(&client, &base, "admin").await.1;
    let mut cursor = String::new();
    let mut latest: BTreeMap<Uuid, (i64, Value)> = BTreeMap::new();
    loop {
        let page: Value = client
            .get(format!("{base}/api/v1/sync/pull?cursor={cursor}&limit=500"))
            .bearer_auth(&admin)
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
            break;
        }
    }
    let mut photos = BTreeSet::new();
    for (name, _, ledger) in &ledgers {
        for (entity, revs) in &ledger.revs {
            let mut sorted = revs.clone();
            sorted.sort_unstable();
            let expected: Vec<i64> = (1..=sorted.len() as i64).collect();
            // Each rev from exactly one acknowledged mutation: nothing applied twice, nothing lost.
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
    for hash in &photos {
        let r = client
            .get(format!("{base}/api/v1/photos/{hash}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "photo {hash}");
        let bytes = r.bytes().await.unwrap();
        assert_eq!(
            PhotoHash::of_bytes(&bytes).to_string(),
            *hash,
            "photo {hash} corrupted"
        );
    }
    server.kill();
    // A last start sweeps what the final kill may have left of unfinished writes.
    server.spawn(false);
    server.wait_healthy(&client).await;
    server.kill();

    // The database: one row per record and photo, no gap in the change log.
    sqlx::any::install_default_drivers();
    let url = database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            dir.path().join("data").join("zhicha.db").display()
        )
    });
    let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
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
    let held: BTreeSet<String> = rows.iter().cloned().collect();
    assert_eq!(held.len(), rows.len(), "a photo recorded twice");
    assert!(photos.is_subset(&held), "acknowledged photos not recorded");
    let _ = db.close().await;
    // Photo objects on disk: exactly one per recorded hash, each with the right bytes.
    let mut files = Vec::new();
    let mut stack = vec![dir.path().join("data").join("photos")];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    let mut on_disk = BTreeSet::new();
    for file in &files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(file).unwrap();
        assert_eq!(
            PhotoHash::of_bytes(&bytes).to_string(),
            stem,
            "{} corrupted",
            file.display()
        );
        assert!(on_disk.insert(stem), "{} held twice", file.display());
    }
    assert!(
        held.is_subset(&on_disk),
        "recorded photos missing from storage"
    );
    // (Uploads no longer pass through `tmp/`; older versions left `.part` files there.)
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("data").join("tmp"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(
        leftovers.is_empty(),
        "upload temp files left: {leftovers:?}"
    );
    eprintln!(
        "faults: {acked} acked mutations, {} records, {} photos, change log 1..={last}",
        latest.len(),
        photos.len()
    );
    if let (Backend::Postgres(url), Some(schema)) = (&backend, &schema) {
        drop_schema(url, schema).await;
    }
}
