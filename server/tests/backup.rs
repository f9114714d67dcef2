//! The restore drill, on the real binary and SQLite: `backup` while the server serves and a
//! device writes, `restore` into a fresh data folder, the device reconnects and resends what
//! the backup missed (core's `Outbox`, as the PWA does); a backup under a busy writer is a
//! consistent database; `restore` refuses a data folder in use and a damaged backup, and a
//! backup of an older schema is migrated forward by the next `serve`.

mod common;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection as _;
use uuid::Uuid;
use zhicha_core::ids::{DeviceId, EnterpriseId, MutationId, PhotoHash};
use zhicha_core::model::{Finding, User};
use zhicha_core::outbox::Outbox;
use zhicha_core::protocol::{MutationPayload, PushRequest, PushResponse};
use zhicha_server::Store;
use zhicha_server::operator::backup::{DATABASE, MANIFEST};

const BIN: &str = env!("CARGO_BIN_EXE_zhicha-server");

/// The binary on the data folder `data` (the PWA folder next to it), with fast password hashing.
fn command(data: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env("ZHICHA_DATA", data)
        .env("ZHICHA_DIST", data.with_file_name("dist"))
        .env("ZHICHA_ARGON2_M_KIB", "64")
        .env("ZHICHA_ARGON2_T", "1")
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .env_remove("DATABASE_URL")
        .env_remove("ZHICHA_DEMO")
        .env_remove("ZHICHA_S3_BUCKET");
    command
}

/// Runs an operator command to its end: (success, stdout, stderr).
fn run(data: &Path, args: &[&str]) -> (bool, String, String) {
    let output = command(data)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run zhicha-server");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Starts `serve` (with `args`) on a free port and waits until it listens.
    fn start(data: &Path, args: &[&str]) -> Self {
        let dist = data.with_file_name("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>直查</title>",
        )
        .unwrap();
        let mut child = command(data)
            .arg("serve")
            .args(args)
            .env("ZHICHA_ADDR", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .expect("start zhicha-server");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("server exited before listening")
                .unwrap();
            if let Some(url) = line.strip_prefix("直查 zhicha: ") {
                break url.trim_end_matches('/').to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Self { child, base }
    }

    /// SIGTERM, and waits for the graceful exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        for _ in 0..400 {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "server exited with {status:?}");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("server did not stop");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A device: its login and its outbox, as the app holds them.
struct Phone {
    device: common::Device,
    outbox: Outbox,
    /// The server's rev of each record this device wrote, from its acks.
    revs: HashMap<Uuid, i64>,
}

impl Phone {
    async fn login(client: &reqwest::Client, base: &str, username: &str) -> Self {
        let device_id = DeviceId::new();
        let body: Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(
                &json!({ "username": username, "password": "zhicha-demo", "device_id": device_id }),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let user: User = serde_json::from_value(body["user"].clone()).expect("logged in");
        Self {
            device: common::Device {
                token: body["token"].as_str().unwrap().to_owned(),
                device_id,
                user,
                seq: AtomicU64::new(0),
            },
            outbox: Outbox::new(),
            revs: HashMap::new(),
        }
    }

    async fn enterprise(&self, client: &reqwest::Client, base: &str) -> EnterpriseId {
        let body: Value = client
            .get(format!("{base}/api/v1/bootstrap"))
            .bearer_auth(&self.device.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        serde_json::from_value(body["enterprises"][0]["id"].clone()).unwrap()
    }

    fn write(&mut self, entity: Uuid, payload: &MutationPayload) {
        let base_rev = self.revs.get(&entity).copied();
        self.outbox
            .enqueue(MutationId::new(), entity, base_rev, payload);
    }

    fn save_finding(&mut self, finding: &Finding) {
        self.write(
            finding.id.0,
            &MutationPayload::FindingSave(Box::new(finding.clone())),
        );
    }

    async fn post(
        &self,
        client: &reqwest::Client,
        base: &str,
        request: &PushRequest,
    ) -> PushResponse {
        let reply = client
            .post(format!("{base}/api/v1/sync/push"))
            .bearer_auth(&self.device.token)
            .json(request)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        reply.json().await.unwrap()
    }

    /// Pushes until nothing is queued, then probes as the app does with an empty queue; a gap
    /// the probe finds queues the sent log again. Returns how many probes found a gap.
    async fn sync(&mut self, client: &reqwest::Client, base: &str) -> usize {
        let mut gaps = 0;
        for _ in 0..20 {
            if let Some(batch) = self.outbox.next_batch(self.device.device_id) {
                let response = self.post(client, base, &batch).await;
                let outcome = self.outbox.apply_response(&response);
                assert!(outcome.rejected.is_empty(), "{response:?}");
                for (_, entity, rev) in outcome.acked {
                    if let Some(rev) = rev {
                        self.revs.insert(entity, rev);
                    }
                }
                gaps += usize::from(outcome.gap.is_some());
                continue;
            }
            let Some(probe) = self.outbox.probe(self.device.device_id) else {
                return gaps;
            };
            let response = self.post(client, base, &probe).await;
            let outcome = self.outbox.apply_response(&response);
            if outcome.gap.is_none() {
                return gaps;
            }
            gaps += 1;
        }
        panic!("the outbox did not drain");
    }

    /// Uploads a photo unless the server holds it (the app's check after a gap); the status.
    async fn upload(&self, client: &reqwest::Client, base: &str, bytes: &[u8]) -> u16 {
        let hash = PhotoHash::of_bytes(bytes);
        let url = format!("{base}/api/v1/photos/{hash}");
        let held = client
            .head(&url)
            .bearer_auth(&self.device.token)
            .send()
            .await
            .unwrap();
        if held.status() == 200 {
            return 200;
        }
        let reply = client
            .put(&url)
            .bearer_auth(&self.device.token)
            .header("content-type", "image/jpeg")
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success(), "{}", reply.status());
        reply.status().as_u16()
    }

    async fn download(&self, client: &reqwest::Client, base: &str, bytes: &[u8]) -> Vec<u8> {
        let reply = client
            .get(format!(
                "{base}/api/v1/photos/{}",
                PhotoHash::of_bytes(bytes)
            ))
            .bearer_auth(&self.device.token)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        reply.bytes().await.unwrap().to_vec()
    }
}

async fn sqlite(file: &Path) -> sqlx::SqliteConnection {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(false);
    sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap()
}

async fn count(db: &mut sqlx::SqliteConnection, sql: &'static str, bind: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind.to_owned())
        .fetch_one(db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_gets_back_everything_the_device_wrote_before_and_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backup = dir.path().join("backup");
    let client = reqwest::Client::new();
    let server = Server::start(&data, &["--demo"]);
    let base = server.base.clone();

    // Before the backup: an inspection and a finding with a photo.
    let mut phone = Phone::login(&client, &base, "inspector1").await;
    let enterprise = phone.enterprise(&client, &base).await;
    let inspection = phone.device.inspection(enterprise);
    let photo1 = common::jpeg(40_000, 1);
    let mut finding1 = phone.device.finding(&inspection);
    finding1.photos = vec![PhotoHash::of_bytes(&photo1)];
    phone.write(
        inspection.id.0,
        &MutationPayload::InspectionSave(Box::new(inspection.clone())),
    );
    phone.save_finding(&finding1);
    assert_eq!(phone.sync(&client, &base).await, 0);
    let demo = photo_files(&data);
    assert_eq!(phone.upload(&client, &base, &photo1).await, 201);

    let (ok, out, err) = run(&data, &["backup", backup.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("已备份照片 {} 张", demo + 1)),
        "{out}"
    );

    // After it: an edit of the finding and a second finding with its own photo.
    finding1.description = "安全出口被货物堵塞（已拍照取证）".to_owned();
    phone.save_finding(&finding1);
    let photo2 = common::jpeg(50_000, 2);
    let mut finding2 = phone.device.finding(&inspection);
    finding2.photos = vec![PhotoHash::of_bytes(&photo2)];
    phone.save_finding(&finding2);
    assert_eq!(phone.sync(&client, &base).await, 0);
    assert_eq!(phone.upload(&client, &base, &photo2).await, 201);
    server.stop();

    let restored = dir.path().join("restored");
    let (ok, out, err) = run(&restored, &["restore", backup.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let server = Server::start(&restored, &[]);
    let base = server.base.clone();

    // The device still holds its session (it is in the backup) and its sent log: the probe
    // finds the server expecting seq 3, and the device sends its last two writes again.
    assert_eq!(phone.sync(&client, &base).await, 1);
    assert_eq!(
        phone.upload(&client, &base, &photo1).await,
        200,
        "photo 1 is in the backup"
    );
    assert_eq!(phone.upload(&client, &base, &photo2).await, 201);
    assert_eq!(phone.download(&client, &base, &photo1).await, photo1);
    assert_eq!(phone.download(&client, &base, &photo2).await, photo2);
    assert_eq!(
        phone.sync(&client, &base).await,
        0,
        "nothing is missing any more"
    );

    let mut db = sqlite(&restored.join(DATABASE)).await;
    let device = phone.device.device_id.to_string();
    assert_eq!(
        count(
            &mut db,
            "SELECT last_seq FROM devices WHERE device_id = ?",
            &device
        )
        .await,
        4
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM acks WHERE device_id = ? AND status = 'applied'",
            &device
        )
        .await,
        4,
        "each write applied once"
    );
    let inspection_id = inspection.id.to_string();
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM inspections WHERE id = ?",
            &inspection_id
        )
        .await,
        1
    );
    let findings: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT id, rev, data FROM findings WHERE inspection_id = ? ORDER BY id")
            .bind(&inspection_id)
            .fetch_all(&mut db)
            .await
            .unwrap();
    assert_eq!(findings.len(), 2, "{findings:?}");
    let by_id: HashMap<_, _> = findings
        .into_iter()
        .map(|(id, rev, data)| (id, (rev, data)))
        .collect();
    let (rev, data) = &by_id[&finding1.id.to_string()];
    assert_eq!(*rev, 2, "the finding's two saves, no more");
    assert!(data.contains("已拍照取证"), "{data}");
    assert_eq!(by_id[&finding2.id.to_string()].0, 1);
    assert_eq!(
        count(
            &mut db,
            "SELECT COUNT(*) FROM revisions WHERE entity_id = ?",
            &finding1.id.to_string()
        )
        .await,
        1
    );
    let photos: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photos WHERE hash IN (?, ?)")
        .bind(PhotoHash::of_bytes(&photo1).to_string())
        .bind(PhotoHash::of_bytes(&photo2).to_string())
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(photos, 2);
    db.close().await.unwrap();
    server.stop();
}

/// A writer pushing and uploading as fast as it can while `backup` runs.
async fn busy_writer(base: String, stop: Arc<AtomicBool>, rounds: Arc<AtomicU64>) {
    let client = reqwest::Client::new();
    let mut phone = Phone::login(&client, &base, "inspector2").await;
    let enterprise = phone.enterprise(&client, &base).await;
    let mut n = 0u8;
    while !stop.load(Ordering::SeqCst) {
        let inspection = phone.device.inspection(enterprise);
        phone.write(
            inspection.id.0,
            &MutationPayload::InspectionSave(Box::new(inspection.clone())),
        );
        let photo = common::jpeg(20_000 + usize::from(n), n);
        for i in 0..10 {
            let mut finding = phone.device.finding(&inspection);
            if i == 0 {
                finding.photos = vec![PhotoHash::of_bytes(&photo)];
            }
            phone.save_finding(&finding);
        }
        phone.sync(&client, &base).await;
        phone.upload(&client, &base, &photo).await;
        n = n.wrapping_add(1);
        rounds.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_a_busy_writer_is_a_consistent_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backup = dir.path().join("backup");
    let server = Server::start(&data, &["--demo"]);
    let stop = Arc::new(AtomicBool::new(false));
    let rounds = Arc::new(AtomicU64::new(0));
    let writer = tokio::spawn(busy_writer(
        server.base.clone(),
        stop.clone(),
        rounds.clone(),
    ));
    while rounds.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let path = backup.clone();
    let data_dir = data.clone();
    let (ok, out, err) =
        tokio::task::spawn_blocking(move || run(&data_dir, &["backup", path.to_str().unwrap()]))
            .await
            .unwrap();
    assert!(ok, "{out}{err}");
    let during = rounds.load(Ordering::SeqCst);
    while rounds.load(Ordering::SeqCst) < during + 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    server.stop();

    let copy = backup.join(DATABASE);
    assert_eq!(Store::sqlite_integrity_check(&copy).await.unwrap(), ["ok"]);
    let mut db = sqlite(&copy).await;
    // One snapshot: every device's seq is its count of acks, the change log has no gap, every
    // finding's inspection is there, every recorded photo's bytes are in the backup.
    let devices: Vec<(String, i64)> = sqlx::query_as("SELECT device_id, last_seq FROM devices")
        .fetch_all(&mut db)
        .await
        .unwrap();
    for (device, last_seq) in devices {
        let acks = count(
            &mut db,
            "SELECT COUNT(*) FROM acks WHERE device_id = ?",
            &device,
        )
        .await;
        assert_eq!(acks, last_seq, "device {device}");
    }
    let (log, last): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM change_log), (SELECT last FROM change_counter)",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(log, last);
    let orphans: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM findings f WHERE NOT EXISTS \
         (SELECT 1 FROM inspections i WHERE i.id = f.inspection_id)",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(orphans, 0);
    let photos: Vec<String> = sqlx::query_scalar("SELECT hash FROM photos")
        .fetch_all(&mut db)
        .await
        .unwrap();
    assert!(!photos.is_empty());
    db.close().await.unwrap();
    let manifest = std::fs::read_to_string(backup.join(MANIFEST)).unwrap();
    for hash in &photos {
        assert!(
            manifest.contains(&format!("{hash}  photos/")),
            "{hash} not backed up"
        );
    }

    // And it restores.
    let (ok, out, err) = run(
        &dir.path().join("restored"),
        &["restore", backup.to_str().unwrap()],
    );
    assert!(ok, "{out}{err}");
}

/// The photo files in a data folder: the demo stores its findings' photos as uploads would.
fn photo_files(data: &Path) -> usize {
    snapshot(&data.join("photos"))
        .iter()
        .filter(|(path, _)| path.extension().is_some_and(|e| e == "jpg"))
        .count()
}

/// Every entry of a folder, with its bytes, to see that a refused restore changed nothing.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path.clone());
                files.push((path, Vec::new()));
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn restore_refuses_a_data_folder_in_use_and_a_damaged_backup_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, _, err) = run(&data, &["demo", "seed"]);
    assert!(ok, "{err}");
    let demo = photo_files(&data);
    let photo = common::jpeg(1000, 7);
    let hash = PhotoHash::of_bytes(&photo);
    let h = hash.as_str();
    let place = data.join("photos").join(&h[..2]).join(&h[2..4]);
    std::fs::create_dir_all(&place).unwrap();
    std::fs::write(place.join(format!("{h}.jpg")), &photo).unwrap();
    // An unfinished write is not a photo.
    std::fs::write(place.join(format!("{h}.jpg#123")), b"half").unwrap();
    let backup = dir.path().join("backup");
    let (ok, out, err) = run(&data, &["backup", backup.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains(&format!("已备份照片 {} 张", demo + 1)),
        "{out}"
    );
    let manifest = std::fs::read_to_string(backup.join(MANIFEST)).unwrap();
    // The database and every photo; the unfinished write is left out.
    assert_eq!(manifest.lines().count(), demo + 2, "{manifest}");

    // A second backup into the same folder is refused.
    let (ok, _, err) = run(&data, &["backup", backup.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("不是空的"), "{err}");

    // Restoring over the live data folder is refused, and it is left as it was.
    let before = snapshot(&data);
    let (ok, _, err) = run(&data, &["restore", backup.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("数据目录") && err.contains("不是空的"),
        "{err}"
    );
    assert_eq!(snapshot(&data), before);

    // A photo damaged in the backup: refused, and the new data folder is not left half made.
    let copy = backup.join(format!("photos/{}/{}/{h}.jpg", &h[..2], &h[2..4]));
    let mut bytes = std::fs::read(&copy).unwrap();
    bytes[500] ^= 1;
    std::fs::write(&copy, &bytes).unwrap();
    let fresh = dir.path().join("fresh");
    let (ok, _, err) = run(&fresh, &["restore", backup.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("SHA-256 与清单不符"), "{err}");
    assert!(!fresh.exists());
    std::fs::create_dir(&fresh).unwrap();
    let (ok, _, _) = run(&fresh, &["restore", backup.to_str().unwrap()]);
    assert!(!ok);
    assert!(snapshot(&fresh).is_empty());

    // Not a backup at all.
    let (ok, _, err) = run(&fresh, &["restore", data.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains(MANIFEST), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_an_older_schema_restores_and_is_migrated_by_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // The database an older version left: only the first migration.
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    let mut migrator = sqlx::migrate::Migrator::new(folder).await.unwrap();
    let all = migrator.migrations.len();
    migrator.migrations = migrator.migrations[..1].to_vec().into();
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(data.join(DATABASE))
        .create_if_missing(true);
    let mut db = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    migrator.run(&mut db).await.unwrap();
    db.close().await.unwrap();

    let backup = dir.path().join("backup");
    let (ok, out, err) = run(&data, &["backup", backup.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let mut db = sqlite(&data.join(DATABASE)).await;
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(applied, 1, "backup does not migrate the database it copies");

    let restored = dir.path().join("restored");
    let (ok, out, err) = run(&restored, &["restore", backup.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    let server = Server::start(&restored, &["--demo"]);
    let client = reqwest::Client::new();
    let phone = Phone::login(&client, &server.base, "inspector1").await;
    assert!(!phone.device.token.is_empty());
    server.stop();
    let mut db = sqlite(&restored.join(DATABASE)).await;
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(applied as usize, all);
}
