//! Property tests of the push path: random scenarios of several devices, each driving core's
//! `Outbox` against the real server (in process), with lost answers, resent and duplicated
//! pushes, server restarts and restores from an older copy of the database. Every answer the
//! server gives is checked against a reference model built from core's own rules
//! (`push::classify` for replays, gaps and probes, `push::is_conflict` for conflicts) and a
//! small model of the authorisation and lifecycle rules (for rejections); and at the end of
//! each case, once every device has synced until nothing is queued or in flight and its probe
//! finds nothing missing, the server's state must show that:
//!
//! 1. **no mutation is lost**: every record holds the content of the last write in the
//!    server's receipt order (where two devices edit one record, one last version is current
//!    and the other kept as a revision), and each device's last edit of every record it wrote
//!    is that content, a kept revision, or in the device's visible sync-errors list;
//! 2. **nothing is applied twice**: a record's revision count is its number of distinct applied
//!    writes minus one (a replay or duplicate adds none), and a device's seq on the server is
//!    the number of mutations the device appended (merged edits not counted), less rejected
//!    ones a restored server forgot;
//! 3. **a conflict is flagged exactly when the rule says so**: each kept revision's conflict
//!    flag, and a finding's `flagged`, is `push::is_conflict` of the write that replaced it,
//!    given the record's last writing device and rev as the server acknowledged them.
//!
//! The generator: 2–4 devices of one team (inspector1 and inspector2 in turn, so two devices
//! may share a user), optionally one device of another team; 4–25 operations: create an
//! inspection or a finding, edit a record 1–3 times offline (a device first fetches a record it
//! does not have), submit a finding, refresh from the server, sync (a batch, or with nothing
//! queued the app's probe); a push whose answer is lost (the server applied it, the device calls
//! `push_failed` and resends later); a server kill with a push in flight, delivered or not (the
//! app restarts on the same data); a network duplicate of the device's last push, whose answer
//! goes nowhere; the other team's device writing the team's records; and on SQLite a copy of
//! the database (`VACUUM INTO`) and a later restore from it, after which the devices keep their
//! outboxes and sent logs (core's `GapPlan::Replay`). The shrunk scenarios of failures found so
//! far are plain tests at the end of the file.
//!
//! Cases: SQLite runs 1,000 by default, each on its own copy of a seeded template database.
//! PostgreSQL runs 500 by default on one shared schema, each case with its own devices and
//! records so cases cannot interfere (a fresh migrated and seeded schema per case would cost
//! more than the case): a PostgreSQL case costs more than a SQLite one and cannot restore (that
//! would need a copy of the schema; snapshot and restore are no-ops there), so fewer cases keep
//! the file within about three minutes on two cores (about 90 s with both tests in parallel).
//! `PROPTEST_CASES=N` sets both (read by proptest's `contextualize_config`, as in its
//! `proptest!` macro); `ZHICHA_PG_PROPTEST_CASES=N` sets PostgreSQL's alone, e.g.
//! `PROPTEST_CASES=10000 cargo test -p zhicha-server --test push_props -- --nocapture`.
//! A failure prints the shrunk scenario with the pushes and answers of its run;
//! `PROPTEST_RNG_SEED=N` repeats a run. Cases share nothing but the starting database (on
//! PostgreSQL the schema, in which each case's devices and records are its own) and a tally of
//! what they covered, printed at the end; shrinking replays each candidate from scratch.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode, header};
use common::Backend;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{Value, json};
use sqlx::Connection as _;
use tower::ServiceExt as _;
use uuid::Uuid;
use zhicha_core::ids::{DeviceId, EnterpriseId, MutationId, OrgId, UserId};
use zhicha_core::model::{Finding, FindingStatus, Inspection, User};
use zhicha_core::outbox::{Enqueued, GapPlan, Outbox};
use zhicha_core::protocol::{
    Ack, AckStatus, CommentPayload, EntityKind, ErrorBody, Mutation, MutationPayload, PushRequest,
    PushResponse,
};
use zhicha_core::push::{self, LastWrite, Step};
use zhicha_core::revision::RevisionsResponse;
use zhicha_server::operator::seed;
use zhicha_server::{AppState, Config, app};

// ---------------------------------------------------------------------------------------------
// Scenarios

/// One step of a scenario. Device and record numbers are taken modulo what exists, so every
/// generated (and shrunk) scenario runs; an operation that cannot apply does nothing.
#[derive(Debug, Clone)]
enum Op {
    /// The device starts an inspection of its team.
    NewInspection { dev: usize },
    /// The device adds a finding to an inspection it has.
    NewFinding { dev: usize, inspection: usize },
    /// The device edits a record of its team `times` times without pushing in between.
    Edit {
        dev: usize,
        record: usize,
        times: u8,
    },
    /// The device submits a finding of its team for review.
    Submit { dev: usize, finding: usize },
    /// The device refreshes the records it has from the server (not those with queued writes).
    Pull { dev: usize },
    /// One step of the device's sync round: its next batch, or with nothing queued its probe;
    /// the answer is applied.
    Push { dev: usize },
    /// The server applies the device's push but the answer never arrives.
    PushLost { dev: usize },
    /// The server dies with the device's push in flight, after applying it or before; it
    /// restarts on the same data.
    Kill { dev: usize, delivered: bool },
    /// The network delivers one of the device's earlier pushes again (`back` = 0: the last);
    /// that answer goes nowhere.
    Duplicate { dev: usize, back: usize },
    /// A copy of the database is taken (SQLite).
    Snapshot,
    /// The server is restored from the last copy (SQLite).
    Restore,
    /// The other team's device writes a record of this team: a save or a submit.
    Intrude { record: usize, save: bool },
}

impl Op {
    /// The device number it names, if any.
    fn dev(&self) -> Option<usize> {
        match *self {
            Op::NewInspection { dev }
            | Op::NewFinding { dev, .. }
            | Op::Edit { dev, .. }
            | Op::Submit { dev, .. }
            | Op::Pull { dev }
            | Op::Push { dev }
            | Op::PushLost { dev }
            | Op::Kill { dev, .. }
            | Op::Duplicate { dev, .. } => Some(dev),
            Op::Snapshot | Op::Restore | Op::Intrude { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
struct Scenario {
    team_devices: usize,
    outsider: bool,
    ops: Vec<Op>,
}

fn op() -> impl Strategy<Value = Op> {
    let dev = 0..5usize;
    prop_oneof![
        6 => dev.clone().prop_map(|dev| Op::Push { dev }),
        5 => dev.clone().prop_map(|dev| Op::NewInspection { dev }),
        4 => (dev.clone(), 0..4usize)
            .prop_map(|(dev, inspection)| Op::NewFinding { dev, inspection }),
        8 => (dev.clone(), 0..8usize, 1..=3u8)
            .prop_map(|(dev, record, times)| Op::Edit { dev, record, times }),
        2 => (dev.clone(), 0..8usize).prop_map(|(dev, finding)| Op::Submit { dev, finding }),
        2 => dev.clone().prop_map(|dev| Op::Pull { dev }),
        2 => dev.clone().prop_map(|dev| Op::PushLost { dev }),
        2 => (dev.clone(), any::<bool>())
            .prop_map(|(dev, delivered)| Op::Kill { dev, delivered }),
        3 => (dev, 0..4usize).prop_map(|(dev, back)| Op::Duplicate { dev, back }),
        2 => Just(Op::Snapshot),
        3 => Just(Op::Restore),
        1 => (0..8usize, any::<bool>()).prop_map(|(record, save)| Op::Intrude { record, save }),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        2..=4usize,
        any::<bool>(),
        proptest::collection::vec(op(), 4..=25),
    )
        .prop_map(|(team_devices, outsider, ops)| Scenario {
            team_devices,
            outsider,
            ops,
        })
}

// ---------------------------------------------------------------------------------------------
// The server under test, in process

/// The app over one database, restartable on the same data or on a restored copy.
struct Server {
    state: AppState,
    router: Router,
    config: Config,
}

impl Server {
    async fn open(config: Config) -> Self {
        let state = AppState::open(config.clone())
            .await
            .expect("open the server state");
        let router = app(state.clone());
        Self {
            state,
            router,
            config,
        }
    }

    /// Stops the app and starts a new one on the same database.
    async fn restart(&mut self) {
        self.state.store.close().await;
        *self = Self::open(self.config.clone()).await;
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&json).unwrap())
            }
            None => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    async fn login(&self, username: &str) -> common::Device {
        let device_id = DeviceId::new();
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({
                    "username": username,
                    "password": seed::DEMO_PASSWORD,
                    "device_id": device_id,
                })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        let user: User = serde_json::from_value(body["user"].clone()).unwrap();
        common::Device {
            token: body["token"].as_str().unwrap().to_owned(),
            device_id,
            user,
            seq: AtomicU64::new(0),
        }
    }

    async fn push(&self, device: &common::Device, request: &PushRequest) -> PushResponse {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/sync/push",
                Some(&device.token),
                Some(serde_json::to_value(request).unwrap()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "push: {body}");
        serde_json::from_value(body).unwrap()
    }

    /// A direct connection to the database (for what no endpoint shows: a device's seq and an
    /// inspection's kept versions).
    async fn database(&self) -> sqlx::AnyConnection {
        let url = self.config.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}", self.config.data.join("zhicha.db").display())
        });
        sqlx::AnyConnection::connect(&url).await.unwrap()
    }
}

/// The SQLite database file of a data folder.
fn db_file(data: &Path) -> PathBuf {
    data.join("zhicha.db")
}

/// Copies the database to `to` (which must not exist), consistent whatever the WAL holds.
async fn vacuum_into(server: &Server, to: &Path) {
    let _ = std::fs::remove_file(to);
    let mut db = server.database().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "VACUUM INTO '{}'",
        to.display().to_string().replace('\'', "''")
    )))
    .execute(&mut db)
    .await
    .expect("VACUUM INTO");
    let _ = db.close().await;
}

/// Replaces a stopped server's database with the copy at `from`.
fn put_copy(data: &Path, from: &Path) {
    let file = db_file(data);
    for suffix in ["-wal", "-shm"] {
        let mut side = file.clone().into_os_string();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    std::fs::copy(from, &file).expect("copy the database");
}

/// What every case starts from.
struct Fixture {
    backend: Backend,
    /// SQLite: a seeded database each case copies. PostgreSQL: the shared server.
    template: PathBuf,
    shared: Option<Server>,
    dist: PathBuf,
    root: tempfile::TempDir,
    schema: Option<String>,
    enterprise: EnterpriseId,
    /// In how many cases each kind of event happened (printed, to show what the runs covered).
    coverage: std::sync::Mutex<BTreeMap<String, u64>>,
}

impl Fixture {
    async fn new(backend: Backend) -> Self {
        let root = tempfile::tempdir().unwrap();
        let (config, schema) = common::config_for(&backend, root.path()).await;
        let dist = config.dist.clone();
        let server = Server::open(config).await;
        seed::demo(&server.state.store, &server.state.passwords)
            .await
            .expect("seed the demo data");
        let device = server.login("inspector1").await;
        let (_, bootstrap) = server
            .call(Method::GET, "/api/v1/bootstrap", Some(&device.token), None)
            .await;
        let enterprise: EnterpriseId =
            serde_json::from_value(bootstrap["enterprises"][0]["id"].clone()).unwrap();
        let template = root.path().join("template.db");
        let shared = match backend {
            Backend::Sqlite => {
                vacuum_into(&server, &template).await;
                server.state.store.close().await;
                None
            }
            Backend::Postgres(_) => Some(server),
        };
        Self {
            backend,
            template,
            shared,
            dist,
            root,
            schema,
            enterprise,
            coverage: std::sync::Mutex::default(),
        }
    }

    async fn finish(self) {
        if let Some(server) = &self.shared {
            server.state.store.close().await;
        }
        if let (Backend::Postgres(url), Some(schema)) = (&self.backend, &self.schema) {
            common::drop_schema(url, schema).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The reference model of the server

#[derive(Debug, Clone)]
struct ModelWrite {
    mutation_id: MutationId,
    device: DeviceId,
    /// `push::is_conflict` of this write.
    conflict: bool,
}

#[derive(Debug, Clone)]
struct ModelRecord {
    org: OrgId,
    created_by: UserId,
    status: FindingStatus,
    /// The content token of each rev (index rev - 1): a finding's description, an inspection's
    /// places.
    contents: Vec<String>,
    /// The write that made each rev (index rev - 1).
    writes: Vec<ModelWrite>,
}

impl ModelRecord {
    fn rev(&self) -> i64 {
        self.writes.len() as i64
    }

    fn content(&self) -> &str {
        self.contents.last().map_or("", String::as_str)
    }

    fn flagged(&self) -> bool {
        self.writes.iter().any(|w| w.conflict)
    }
}

#[derive(Debug, Clone, Default)]
struct ModelDevice {
    last_seq: u64,
    /// Stored acks, as a replay answers them.
    acks: HashMap<MutationId, Ack>,
}

/// Who pushes: the device and its user's id and team.
#[derive(Debug, Clone, Copy)]
struct Author {
    device: DeviceId,
    user: UserId,
    org: OrgId,
}

/// What the server should hold, derived from core's rules and the pushes it received in order.
#[derive(Debug, Clone, Default)]
struct Model {
    devices: HashMap<DeviceId, ModelDevice>,
    records: HashMap<Uuid, ModelRecord>,
}

fn replayed(ack: &Ack) -> Ack {
    Ack {
        status: match ack.status {
            AckStatus::Rejected => AckStatus::Rejected,
            AckStatus::Applied | AckStatus::Duplicate => AckStatus::Duplicate,
        },
        ..ack.clone()
    }
}

fn rejected(code: &str) -> Result<i64, String> {
    Err(code.to_owned())
}

impl Model {
    /// The answer the server owes to this push, with the model moved on as the server should.
    fn push(&mut self, author: Author, request: &PushRequest) -> PushResponse {
        let mutations = &request.mutations;
        let device = self.devices.entry(author.device).or_default();
        let classified = push::classify(device.last_seq, mutations, &device.acks, request.next_seq);
        device.last_seq = classified.last_seq;
        let mut acks: Vec<Ack> = Vec::new();
        for (step, mutation) in classified.steps.into_iter().zip(mutations) {
            let ack = match step {
                Step::Replay(ack) => ack,
                Step::Repeat(earlier) => replayed(&acks[earlier]),
                Step::Apply => {
                    let ack = match self.apply(author, mutation) {
                        Ok(rev) => Ack {
                            mutation_id: mutation.mutation_id,
                            status: AckStatus::Applied,
                            rev: Some(rev),
                            error: None,
                        },
                        Err(code) => Ack {
                            mutation_id: mutation.mutation_id,
                            status: AckStatus::Rejected,
                            rev: None,
                            error: Some(ErrorBody::new(code, "")),
                        },
                    };
                    self.devices
                        .get_mut(&author.device)
                        .unwrap()
                        .acks
                        .insert(mutation.mutation_id, replayed(&ack));
                    ack
                }
            };
            acks.push(ack);
        }
        if mutations.is_empty() {
            // A probe: the acknowledged mutations this server holds as rejected.
            let device = &self.devices[&author.device];
            acks = push::contradicted(&request.acked, &device.acks);
        }
        PushResponse {
            acks,
            gap: classified.gap,
        }
    }

    /// One new, in-sequence mutation: its rev, or the code of its rejection. Only what the
    /// generator produces is modelled; anything else is a bug of this test.
    fn apply(&mut self, author: Author, mutation: &Mutation) -> Result<i64, String> {
        let payload = mutation
            .decode()
            .expect("the test sends well-formed payloads");
        let id = mutation.entity_id;
        let stored = self.records.get(&id);
        match payload {
            MutationPayload::InspectionSave(inspection) => {
                match stored {
                    Some(record) if record.org != author.org => return rejected("forbidden"),
                    Some(_) => {}
                    None if inspection.org_id != author.org => return rejected("forbidden"),
                    None if inspection.created_by != author.user => return rejected("invalid"),
                    None => {}
                }
                Ok(self.write(
                    author,
                    mutation,
                    inspection.org_id,
                    inspection.created_by,
                    Some(inspection.places.clone()),
                    None,
                ))
            }
            MutationPayload::FindingSave(finding) => {
                let org = match stored {
                    Some(record) if record.org != author.org => return rejected("forbidden"),
                    Some(record) => record.org,
                    None => {
                        let Some(inspection) = self.records.get(&finding.inspection_id.0) else {
                            return rejected("inspection_missing");
                        };
                        if inspection.org != author.org {
                            return rejected("forbidden");
                        }
                        if finding.created_by != author.user {
                            return rejected("invalid");
                        }
                        inspection.org
                    }
                };
                let status = stored.map_or(FindingStatus::Draft, |r| r.status);
                Ok(self.write(
                    author,
                    mutation,
                    org,
                    finding.created_by,
                    Some(finding.description.clone()),
                    Some(status),
                ))
            }
            MutationPayload::FindingSubmit(_) => {
                let Some(record) = stored else {
                    return rejected("not_found");
                };
                if record.org != author.org {
                    return rejected("forbidden");
                }
                if !matches!(
                    record.status,
                    FindingStatus::Draft | FindingStatus::Returned
                ) {
                    return rejected("invalid_transition");
                }
                let (org, created_by) = (record.org, record.created_by);
                Ok(self.write(
                    author,
                    mutation,
                    org,
                    created_by,
                    None,
                    Some(FindingStatus::Submitted),
                ))
            }
            other => panic!("not generated: {other:?}"),
        }
    }

    /// Applies a write: the record's next rev, written by `author`, conflicting per core's rule.
    fn write(
        &mut self,
        author: Author,
        mutation: &Mutation,
        org: OrgId,
        created_by: UserId,
        content: Option<String>,
        status: Option<FindingStatus>,
    ) -> i64 {
        let id = mutation.entity_id;
        let stored = self.records.get(&id).map(|r| LastWrite {
            rev: r.rev(),
            device: r.writes.last().map(|w| w.device),
        });
        let conflict = push::is_conflict(mutation.kind, mutation.base_rev, stored, author.device);
        let record = self.records.entry(id).or_insert_with(|| ModelRecord {
            org,
            created_by,
            status: FindingStatus::Draft,
            contents: Vec::new(),
            writes: Vec::new(),
        });
        let content = content.unwrap_or_else(|| record.content().to_owned());
        record.contents.push(content);
        if let Some(status) = status {
            record.status = status;
        }
        record.writes.push(ModelWrite {
            mutation_id: mutation.mutation_id,
            device: author.device,
            conflict,
        });
        record.rev()
    }
}

// ---------------------------------------------------------------------------------------------
// Devices

#[derive(Debug, Clone)]
enum Content {
    Inspection(Box<Inspection>),
    Finding(Box<Finding>),
}

/// A record as a device holds it.
#[derive(Debug, Clone)]
struct Local {
    /// The server revision this device last saw (its base for the next write).
    seen_rev: Option<i64>,
    content: Content,
}

/// A record made in this case.
#[derive(Debug, Clone, Copy)]
struct Made {
    id: Uuid,
    kind: EntityKind,
    team: usize,
}

struct Dev {
    name: String,
    device: common::Device,
    team: usize,
    outbox: Outbox,
    known: BTreeMap<Uuid, Local>,
    /// The batches sent, oldest first (for a network duplicate).
    sent: Vec<PushRequest>,
    /// Mutations appended to the outbox (merged edits not counted).
    appended: u64,
    /// Per record: the content of this device's last save and the mutation that carries it.
    last_saves: BTreeMap<Uuid, (String, MutationId)>,
    edits: u64,
}

impl Dev {
    fn author(&self) -> Author {
        Author {
            device: self.device.device_id,
            user: self.device.user.id,
            org: self.device.user.org_id,
        }
    }

    /// Queues a write; returns the mutation id that carries it.
    fn enqueue(
        &mut self,
        id: Uuid,
        base_rev: Option<i64>,
        payload: &MutationPayload,
    ) -> MutationId {
        let seq = match self
            .outbox
            .enqueue(MutationId::new(), id, base_rev, payload)
        {
            Enqueued::Appended(seq) => {
                self.appended += 1;
                seq
            }
            Enqueued::Coalesced(seq) => seq,
        };
        self.outbox
            .queued
            .iter()
            .find(|e| e.seq == seq)
            .expect("the entry just queued")
            .mutation
            .mutation_id
    }

    /// Queues a save of the local content of `id`.
    fn save(&mut self, id: Uuid) {
        let local = &self.known[&id];
        let (payload, content) = match &local.content {
            Content::Inspection(i) => {
                (MutationPayload::InspectionSave(i.clone()), i.places.clone())
            }
            Content::Finding(f) => (
                MutationPayload::FindingSave(f.clone()),
                f.description.clone(),
            ),
        };
        let base_rev = local.seen_rev;
        let mutation_id = self.enqueue(id, base_rev, &payload);
        self.last_saves.insert(id, (content, mutation_id));
    }

    /// The next edit's content token: which device, which edit.
    fn next_token(&mut self) -> String {
        self.edits += 1;
        format!("{} edit {}", self.name, self.edits)
    }
}

/// Runs one scenario against a server; Err with what went wrong.
struct Case<'f> {
    fixture: &'f Fixture,
    server: Server,
    /// SQLite: this case's data folder (dropped with the case).
    dir: Option<tempfile::TempDir>,
    devs: Vec<Dev>,
    admin: common::Device,
    made: Vec<Made>,
    model: Model,
    snapshot: Option<(PathBuf, Model)>,
    log: Vec<String>,
    events: std::collections::BTreeSet<&'static str>,
}

/// A kept version as the server shows it.
struct Kept {
    rev: i64,
    /// The content token (see `ModelRecord::contents`).
    content: String,
    /// The write that replaced it was a conflict.
    conflict: bool,
    /// The device of that write.
    device: Option<DeviceId>,
}

/// What one step of a sync round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Synced {
    /// Pushed a batch, or probed and found a gap: the round goes on.
    Batch,
    /// Nothing to push, or the probe found the server holding everything.
    Idle,
}

fn fail(message: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(message.into())
}

impl<'f> Case<'f> {
    async fn start(fixture: &'f Fixture, scenario: &Scenario) -> Case<'f> {
        let (server, dir) = match &fixture.shared {
            Some(shared) => (Server::open((*shared.state.config).clone()).await, None),
            None => {
                let dir = tempfile::tempdir_in(fixture.root.path()).unwrap();
                let data = dir.path().join("data");
                std::fs::create_dir_all(&data).unwrap();
                std::fs::copy(&fixture.template, db_file(&data)).unwrap();
                let config = Config::for_tests(data, fixture.dist.clone());
                (Server::open(config).await, Some(dir))
            }
        };
        let mut devs = Vec::new();
        let mut users: Vec<(&str, usize)> = (0..scenario.team_devices)
            .map(|n| {
                (
                    if n % 2 == 0 {
                        "inspector1"
                    } else {
                        "inspector2"
                    },
                    1,
                )
            })
            .collect();
        if scenario.outsider {
            users.push(("inspector3", 2));
        }
        for (n, (username, team)) in users.into_iter().enumerate() {
            devs.push(Dev {
                name: format!("dev{n}"),
                device: server.login(username).await,
                team,
                outbox: Outbox::new(),
                known: BTreeMap::new(),
                sent: Vec::new(),
                appended: 0,
                last_saves: BTreeMap::new(),
                edits: 0,
            });
        }
        let admin = server.login("admin").await;
        Case {
            fixture,
            server,
            dir,
            devs,
            admin,
            made: Vec::new(),
            model: Model::default(),
            snapshot: None,
            log: Vec::new(),
            events: std::collections::BTreeSet::new(),
        }
    }

    async fn finish(mut self) {
        for record in self.model.records.values() {
            let devices: std::collections::BTreeSet<DeviceId> =
                record.writes.iter().map(|w| w.device).collect();
            if devices.len() > 1 {
                self.events.insert("a record written by two devices");
            }
            if record.flagged() {
                self.events.insert("a conflict by push::is_conflict");
            }
        }
        {
            let mut coverage = self.fixture.coverage.lock().unwrap();
            for event in &self.events {
                *coverage.entry((*event).to_owned()).or_default() += 1;
            }
            *coverage.entry("(cases)".to_owned()).or_default() += 1;
        }
        self.server.state.store.close().await;
        drop(self.dir);
    }

    fn note(&mut self, text: String) {
        self.log.push(text);
    }

    /// Delivers a request to the server and checks the answer against the model's.
    async fn deliver(
        &mut self,
        d: usize,
        request: &PushRequest,
    ) -> Result<PushResponse, TestCaseError> {
        let response = self.server.push(&self.devs[d].device, request).await;
        let expected = self.model.push(self.devs[d].author(), request);
        let seqs: Vec<String> = request
            .mutations
            .iter()
            .map(|m| format!("{}:{}@{:?}", m.seq, m.kind, m.base_rev))
            .collect();
        let summary: Vec<String> = response
            .acks
            .iter()
            .map(|a| match (&a.status, &a.error) {
                (AckStatus::Rejected, Some(e)) => format!("rejected {}", e.code),
                (status, _) => format!("{status:?} {:?}", a.rev),
            })
            .collect();
        let note = format!(
            "    {} pushed [{}] -> [{}] gap {:?}",
            self.devs[d].name,
            seqs.join(", "),
            summary.join(", "),
            response.gap.map(|g| g.expected)
        );
        self.note(note);
        for ack in &response.acks {
            self.events.insert(
                match (ack.status, ack.error.as_ref().map(|e| e.code.as_str())) {
                    (AckStatus::Applied, _) => "ack: applied",
                    (AckStatus::Duplicate, _) => "ack: duplicate",
                    (AckStatus::Rejected, Some("forbidden")) => "ack: rejected forbidden",
                    (AckStatus::Rejected, Some("not_found")) => "ack: rejected not_found",
                    (AckStatus::Rejected, Some("invalid_transition")) => {
                        "ack: rejected invalid_transition"
                    }
                    (AckStatus::Rejected, Some("inspection_missing")) => {
                        "ack: rejected inspection_missing"
                    }
                    (AckStatus::Rejected, Some("invalid")) => "ack: rejected invalid",
                    (AckStatus::Rejected, _) => "ack: rejected (other)",
                },
            );
        }
        let same = response.gap == expected.gap
            && response.acks.len() == expected.acks.len()
            && response.acks.iter().zip(&expected.acks).all(|(a, e)| {
                a.mutation_id == e.mutation_id
                    && a.status == e.status
                    && a.rev == e.rev
                    && a.error.as_ref().map(|e| &e.code) == e.error.as_ref().map(|e| &e.code)
            });
        if !same {
            return Err(fail(format!(
                "the server answered a push unlike the model of core's rules\n\
                 request: {request:#?}\nserver: {response:#?}\nmodel: {expected:#?}"
            )));
        }
        Ok(response)
    }

    /// The device applies an answer: the outbox settles and the revisions it reported are seen.
    fn hear(&mut self, d: usize, response: &PushResponse) {
        let dev = &mut self.devs[d];
        let outcome = dev.outbox.apply_response(response);
        match outcome.gap {
            Some(GapPlan::Replay { .. }) => self.events.insert("gap: replay from the sent log"),
            Some(GapPlan::Renumber { .. }) => self.events.insert("gap: renumber"),
            None => false,
        };
        let dev = &mut self.devs[d];
        for (_, entity, rev) in outcome.acked {
            if let (Some(rev), Some(local)) = (rev, dev.known.get_mut(&entity)) {
                local.seen_rev = Some(rev);
            }
        }
    }

    /// A record of the device's team, by number, that the device has or can fetch.
    async fn pick(&mut self, d: usize, n: usize, kind: Option<EntityKind>) -> Option<Uuid> {
        let team = self.devs[d].team;
        let candidates: Vec<Made> = self
            .made
            .iter()
            .filter(|m| m.team == team && kind.is_none_or(|k| m.kind == k))
            .copied()
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let made = candidates[n % candidates.len()];
        if !self.devs[d].known.contains_key(&made.id) {
            let local = self.fetch(made).await?;
            self.devs[d].known.insert(made.id, local);
        }
        Some(made.id)
    }

    /// A record as the server holds it now (what a pull would bring).
    async fn fetch(&self, made: Made) -> Option<Local> {
        let store = &self.server.state.store;
        let id = made.id.to_string();
        match made.kind {
            EntityKind::Inspection => {
                let (rev, inspection) = store.inspection(&id).await.unwrap()?;
                Some(Local {
                    seen_rev: Some(rev),
                    content: Content::Inspection(Box::new(inspection)),
                })
            }
            _ => {
                let (rev, finding) = store.finding(&id).await.unwrap()?;
                Some(Local {
                    seen_rev: Some(rev),
                    content: Content::Finding(Box::new(finding)),
                })
            }
        }
    }

    async fn run(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let devices = self.devs.len();
        let sqlite = self.fixture.shared.is_none();
        match *op {
            Op::NewInspection { dev } => {
                let d = dev % devices;
                let mut inspection = self.devs[d].device.inspection(self.fixture.enterprise);
                inspection.places = self.devs[d].next_token();
                let id = inspection.id.0;
                self.made.push(Made {
                    id,
                    kind: EntityKind::Inspection,
                    team: self.devs[d].team,
                });
                let dev = &mut self.devs[d];
                dev.known.insert(
                    id,
                    Local {
                        seen_rev: None,
                        content: Content::Inspection(Box::new(inspection)),
                    },
                );
                dev.save(id);
            }
            Op::NewFinding { dev, inspection } => {
                let d = dev % devices;
                let Some(inspection_id) =
                    self.pick(d, inspection, Some(EntityKind::Inspection)).await
                else {
                    return Ok(());
                };
                let Content::Inspection(inspection) = &self.devs[d].known[&inspection_id].content
                else {
                    unreachable!()
                };
                let mut finding = self.devs[d].device.finding(inspection);
                finding.description = self.devs[d].next_token();
                let id = finding.id.0;
                self.made.push(Made {
                    id,
                    kind: EntityKind::Finding,
                    team: self.devs[d].team,
                });
                let dev = &mut self.devs[d];
                dev.known.insert(
                    id,
                    Local {
                        seen_rev: None,
                        content: Content::Finding(Box::new(finding)),
                    },
                );
                dev.save(id);
            }
            Op::Edit { dev, record, times } => {
                let d = dev % devices;
                let Some(id) = self.pick(d, record, None).await else {
                    return Ok(());
                };
                for _ in 0..times {
                    let token = self.devs[d].next_token();
                    let dev = &mut self.devs[d];
                    match &mut dev.known.get_mut(&id).unwrap().content {
                        Content::Inspection(i) => i.places = token,
                        Content::Finding(f) => f.description = token,
                    }
                    dev.save(id);
                }
            }
            Op::Submit { dev, finding } => {
                let d = dev % devices;
                let Some(id) = self.pick(d, finding, Some(EntityKind::Finding)).await else {
                    return Ok(());
                };
                let dev = &mut self.devs[d];
                let base_rev = dev.known[&id].seen_rev;
                dev.enqueue(
                    id,
                    base_rev,
                    &MutationPayload::FindingSubmit(CommentPayload::default()),
                );
            }
            Op::Pull { dev } => {
                let d = dev % devices;
                let ids: Vec<Uuid> = self.devs[d].known.keys().copied().collect();
                for id in ids {
                    if self.devs[d].outbox.has_unsent_for(id) {
                        continue;
                    }
                    let Some(made) = self.made.iter().find(|m| m.id == id).copied() else {
                        continue;
                    };
                    if let Some(local) = self.fetch(made).await {
                        self.devs[d].known.insert(id, local);
                    }
                }
            }
            Op::Push { dev } => {
                self.sync_step(dev % devices).await?;
            }
            Op::PushLost { dev } => {
                let d = dev % devices;
                let device_id = self.devs[d].device.device_id;
                if let Some(request) = self.devs[d].outbox.next_batch(device_id) {
                    self.deliver(d, &request).await?;
                    self.devs[d].outbox.push_failed();
                    self.devs[d].sent.push(request);
                    self.events.insert("an answer lost");
                }
            }
            Op::Kill { dev, delivered } => {
                let d = dev % devices;
                let device_id = self.devs[d].device.device_id;
                if let Some(request) = self.devs[d].outbox.next_batch(device_id) {
                    self.events.insert(if delivered {
                        "a kill after the push was applied"
                    } else {
                        "a kill before the push arrived"
                    });
                    if delivered {
                        self.deliver(d, &request).await?;
                        self.devs[d].sent.push(request);
                    }
                    self.devs[d].outbox.push_failed();
                }
                self.server.restart().await;
            }
            Op::Duplicate { dev, back } => {
                let d = dev % devices;
                let sent = &self.devs[d].sent;
                if let Some(request) = sent.iter().rev().nth(back % sent.len().max(1)).cloned() {
                    self.events.insert("a push delivered twice");
                    let response = self.deliver(d, &request).await?;
                    if response
                        .acks
                        .iter()
                        .any(|a| a.status != AckStatus::Duplicate)
                    {
                        self.events.insert("a push delivered twice was judged anew");
                    }
                }
            }
            // PostgreSQL: not modelled (see the header).
            Op::Snapshot if sqlite => {
                let dir = self.dir.as_ref().unwrap().path().join("snapshot.db");
                vacuum_into(&self.server, &dir).await;
                self.snapshot = Some((dir, self.model.clone()));
            }
            Op::Restore if sqlite => {
                if let Some((copy, model)) = &self.snapshot {
                    if self
                        .model
                        .devices
                        .iter()
                        .any(|(id, d)| d.last_seq > model.devices.get(id).map_or(0, |m| m.last_seq))
                    {
                        self.events.insert("restore lost acknowledged writes");
                    }
                    self.server.state.store.close().await;
                    put_copy(&self.server.config.data, copy);
                    self.model = model.clone();
                    self.server = Server::open(self.server.config.clone()).await;
                }
            }
            Op::Snapshot | Op::Restore => {}
            Op::Intrude { record, save } => {
                let Some(d) = self.devs.iter().position(|dev| dev.team == 2) else {
                    return Ok(());
                };
                let targets: Vec<Made> =
                    self.made.iter().filter(|m| m.team == 1).copied().collect();
                if targets.is_empty() {
                    return Ok(());
                }
                let made = targets[record % targets.len()];
                // A copy of the record as a device of its team holds it.
                let Some(content) = self
                    .devs
                    .iter()
                    .find_map(|dev| dev.known.get(&made.id))
                    .map(|l| l.content.clone())
                else {
                    return Ok(());
                };
                let payload = match (save, content) {
                    (true, Content::Inspection(i)) => MutationPayload::InspectionSave(i),
                    (true, Content::Finding(f)) => MutationPayload::FindingSave(f),
                    (false, Content::Finding(_)) => {
                        MutationPayload::FindingSubmit(CommentPayload::default())
                    }
                    (false, Content::Inspection(_)) => return Ok(()),
                };
                self.devs[d].enqueue(made.id, None, &payload);
            }
        }
        Ok(())
    }

    /// One push of a device's sync round, as the app makes it: its next batch, or with nothing
    /// queued a probe (while its sent log holds entries), with the answer applied.
    async fn sync_step(&mut self, d: usize) -> Result<Synced, TestCaseError> {
        let device_id = self.devs[d].device.device_id;
        if let Some(request) = self.devs[d].outbox.next_batch(device_id) {
            let response = self.deliver(d, &request).await?;
            self.hear(d, &response);
            self.devs[d].sent.push(request);
            return Ok(Synced::Batch);
        }
        if let Some(probe) = self.devs[d].outbox.probe(device_id) {
            let response = self.deliver(d, &probe).await?;
            self.hear(d, &response);
            if response.gap.is_some() {
                self.events.insert("a probe found a gap");
                return Ok(Synced::Batch);
            }
        }
        Ok(Synced::Idle)
    }

    /// Every device syncs until nothing is queued or in flight and its probe finds the server
    /// holding everything it acknowledged.
    async fn drain(&mut self) -> Result<(), TestCaseError> {
        for _round in 0..20 {
            let mut idle = true;
            for d in 0..self.devs.len() {
                if self.sync_step(d).await? == Synced::Batch {
                    idle = false;
                }
            }
            if idle {
                return Ok(());
            }
        }
        let stuck: Vec<String> = self
            .devs
            .iter()
            .filter(|d| !d.outbox.queued.is_empty())
            .map(|d| format!("{}: {:?}", d.name, d.outbox.queued))
            .collect();
        Err(fail(format!("the outboxes never drained: {stuck:#?}")))
    }

    /// The three properties, against the server's final state.
    async fn check(&mut self) -> Result<(), TestCaseError> {
        let store = self.server.state.store.clone();
        let mut db = self.server.database().await;

        // The devices' seqs are the model's (what each device's pushes should have left).
        let mut seqs = Vec::new();
        for dev in &self.devs {
            let last_seq: i64 =
                sqlx::query_scalar("SELECT last_seq FROM devices WHERE device_id = $1")
                    .bind(dev.device.device_id.to_string())
                    .fetch_one(&mut db)
                    .await
                    .unwrap();
            let model_seq = self
                .model
                .devices
                .get(&dev.device.device_id)
                .map_or(0, |d| d.last_seq);
            prop_assert_eq!(
                last_seq as u64,
                model_seq,
                "{}: the server's seq differs from the model's",
                dev.name
            );
            seqs.push(model_seq);
        }

        for made in self.made.clone() {
            let id = made.id.to_string();
            let model = self.model.records.get(&made.id);
            // The server's current version: rev and content.
            let current: Option<(i64, String)> = match made.kind {
                EntityKind::Inspection => store
                    .inspection(&id)
                    .await
                    .unwrap()
                    .map(|(rev, i)| (rev, i.places)),
                _ => store
                    .finding(&id)
                    .await
                    .unwrap()
                    .map(|(rev, f)| (rev, f.description)),
            };
            let model_current = model.map(|r| (r.rev(), r.content().to_owned()));
            prop_assert_eq!(
                &current,
                &model_current,
                "{:?} {}: the server's (rev, content) differs from the model's",
                made.kind,
                id
            );
            // The kept versions, oldest first, and a finding's flag.
            let mut flagged: Option<bool> = None;
            let kept: Vec<Kept> = match made.kind {
                EntityKind::Inspection => {
                    let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
                        "SELECT rev, reason, data, device_id FROM revisions \
                         WHERE entity = 'inspection' AND entity_id = $1 ORDER BY rev",
                    )
                    .bind(&id)
                    .fetch_all(&mut db)
                    .await
                    .unwrap();
                    rows.into_iter()
                        .map(|(rev, reason, data, device)| {
                            let i: Inspection = serde_json::from_str(&data).unwrap();
                            Kept {
                                rev,
                                content: i.places,
                                conflict: reason == "conflict",
                                device: device.map(|d| d.parse().unwrap()),
                            }
                        })
                        .collect()
                }
                _ => match self.revisions(made.id).await {
                    None => Vec::new(),
                    Some(response) => {
                        flagged = Some(response.flagged);
                        let mut kept: Vec<Kept> = response
                            .revisions
                            .into_iter()
                            .map(|r| Kept {
                                rev: r.rev as i64,
                                content: r.finding.description,
                                conflict: r.conflict,
                                device: r.device_id,
                            })
                            .collect();
                        kept.reverse();
                        kept
                    }
                },
            };
            let count = store.revision_count(made.kind, &id).await.unwrap();
            prop_assert_eq!(count as usize, kept.len());
            let Some(model) = model else {
                prop_assert!(kept.is_empty());
                continue;
            };
            // 2. One kept version per applied write but the first: nothing applied twice.
            prop_assert_eq!(
                kept.len(),
                model.writes.len() - 1,
                "{:?} {}: {} kept versions for {} distinct applied writes",
                made.kind,
                id,
                kept.len(),
                model.writes.len()
            );
            let mut distinct: Vec<MutationId> =
                model.writes.iter().map(|w| w.mutation_id).collect();
            distinct.sort();
            distinct.dedup();
            prop_assert_eq!(
                distinct.len(),
                model.writes.len(),
                "the model applied a mutation twice"
            );
            for (n, kept) in kept.iter().enumerate() {
                prop_assert_eq!(kept.rev, n as i64 + 1, "{}: kept revs are not 1, 2, …", id);
                prop_assert_eq!(
                    &kept.content,
                    &model.contents[n],
                    "{:?} {} rev {}: kept content differs",
                    made.kind,
                    id,
                    kept.rev
                );
                // The write that replaced it came from the device the model says.
                prop_assert_eq!(
                    kept.device,
                    Some(model.writes[n + 1].device),
                    "{:?} {} rev {}: replaced from another device than {}",
                    made.kind,
                    id,
                    kept.rev,
                    self.dev_name(model.writes[n + 1].device)
                );
            }
            // 3. Each write that replaced a version was flagged a conflict (and a finding
            // `flagged`) exactly when core's rule says so, given the record's last writing
            // device and rev as the server had acknowledged them.
            let rule: Vec<bool> = model.writes[1..].iter().map(|w| w.conflict).collect();
            let kept_flags: Vec<bool> = kept.iter().map(|k| k.conflict).collect();
            let writers: Vec<String> = model.writes[1..]
                .iter()
                .map(|w| self.dev_name(w.device))
                .collect();
            prop_assert!(
                kept_flags == rule && flagged.is_none_or(|f| f == model.flagged()),
                "{:?} {}: the conflict flags of the writes replacing revs 1.. (by {:?}) are \
                 {:?}, flagged {:?}; push::is_conflict says {:?}, flagged {}",
                made.kind,
                id,
                writers,
                kept_flags,
                flagged,
                rule,
                model.flagged()
            );
        }

        // 1. No mutation lost: each device's last save of each record is the record's current
        // content, a kept version, or in the device's visible sync-errors list.
        for dev in &self.devs {
            for (id, (content, mutation_id)) in &dev.last_saves {
                if dev
                    .outbox
                    .rejected
                    .iter()
                    .any(|(e, _)| e.mutation.mutation_id == *mutation_id)
                {
                    continue;
                }
                let record = self.model.records.get(id);
                let on_server = record.is_some_and(|r| r.contents.iter().any(|c| c == content));
                prop_assert!(
                    on_server,
                    "{}: its last save of {} ({:?}) is neither on the server nor among its \
                     sync errors: lost",
                    dev.name,
                    id,
                    content
                );
                // The write that carried it was applied (once).
                prop_assert!(
                    record.is_some_and(|r| r.writes.iter().any(|w| w.mutation_id == *mutation_id)),
                    "{}: the mutation with its last save of {} was never applied",
                    dev.name,
                    id
                );
            }
        }

        // 2. A device's seq on the server is the number of mutations it appended (merged edits
        // are not), less the rejected ones a restored server no longer knows: a rejection is
        // never resent (it stays in the device's sync-errors list), so a replay numbers the
        // rest without it.
        for (dev, seq) in self.devs.iter().zip(seqs) {
            let acks = self
                .model
                .devices
                .get(&dev.device.device_id)
                .map(|d| &d.acks);
            let forgotten = dev
                .outbox
                .rejected
                .iter()
                .filter(|(e, _)| acks.is_none_or(|a| !a.contains_key(&e.mutation.mutation_id)))
                .count() as u64;
            prop_assert_eq!(
                seq,
                dev.appended - forgotten,
                "{}: the server's seq is not the number of mutations the device made ({}) less \
                 the rejections the server forgot ({}): fewer means some never reached it \
                 again, more that some were applied twice",
                dev.name,
                dev.appended,
                forgotten
            );
        }
        let _ = db.close().await;
        Ok(())
    }

    fn dev_name(&self, device: DeviceId) -> String {
        self.devs
            .iter()
            .find(|d| d.device.device_id == device)
            .map_or_else(|| device.to_string(), |d| d.name.clone())
    }

    async fn revisions(&self, id: Uuid) -> Option<RevisionsResponse> {
        let (status, body) = self
            .server
            .call(
                Method::GET,
                &format!("/api/v1/findings/{id}/revisions"),
                Some(&self.admin.token),
                None,
            )
            .await;
        match status {
            StatusCode::OK => Some(serde_json::from_value(body).unwrap()),
            StatusCode::NOT_FOUND => None,
            other => panic!("revisions of {id}: {other} {body}"),
        }
    }
}

async fn run_case(fixture: &Fixture, scenario: &Scenario) -> Result<(), TestCaseError> {
    let mut case = Case::start(fixture, scenario).await;
    let result = async {
        for (n, op) in scenario.ops.iter().enumerate() {
            let on = op
                .dev()
                .map(|d| format!(" ({})", case.devs[d % case.devs.len()].name));
            case.note(format!("{n:>2} {op:?}{}", on.unwrap_or_default()));
            case.run(op).await?;
        }
        case.note("-- drain".to_owned());
        case.drain().await?;
        case.check().await
    }
    .await;
    let result = result.map_err(|e| {
        let log = case.log.join("\n");
        let names: Vec<String> = case
            .devs
            .iter()
            .map(|d| {
                format!(
                    "{} = {} ({})",
                    d.name, d.device.device_id, d.device.user.username
                )
            })
            .collect();
        fail(format!("{e}\ndevices: {}\n{log}", names.join(", ")))
    });
    case.finish().await;
    result
}

// ---------------------------------------------------------------------------------------------
// The tests

fn run_all(backend: Backend, default_cases: u32, cases_override: Option<u32>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    sqlx::any::install_default_drivers();
    let fixture = runtime.block_on(Fixture::new(backend));
    let config = proptest::test_runner::contextualize_config(ProptestConfig {
        cases: default_cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let config = ProptestConfig {
        cases: cases_override.unwrap_or(config.cases),
        ..config
    };
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let started = Instant::now();
    let result = runner.run(&scenario(), |scenario| {
        runtime.block_on(run_case(&fixture, &scenario))
    });
    eprintln!(
        "push_props on {}: {cases} cases in {:.1?}",
        if fixture.shared.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        started.elapsed()
    );
    eprintln!("cases in which each event happened:");
    for (event, n) in fixture.coverage.lock().unwrap().iter() {
        eprintln!("  {n:>6}  {event}");
    }
    runtime.block_on(fixture.finish());
    if let Err(error) = result {
        panic!("{error}");
    }
}

#[test]
fn push_properties_on_sqlite() {
    run_all(Backend::Sqlite, 1000, None);
}

#[test]
fn push_properties_on_postgres() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(backend) = runtime.block_on(Backend::postgres()) else {
        return;
    };
    drop(runtime);
    let cases = std::env::var("ZHICHA_PG_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok());
    run_all(backend, 500, cases);
}

/// One scenario on SQLite, as a plain test.
fn run_scenario(team_devices: usize, ops: Vec<Op>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    sqlx::any::install_default_drivers();
    let fixture = runtime.block_on(Fixture::new(Backend::Sqlite));
    let scenario = Scenario {
        team_devices,
        outsider: false,
        ops,
    };
    let result = runtime.block_on(run_case(&fixture, &scenario));
    runtime.block_on(fixture.finish());
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// Regression, shrunk from `push_properties_on_sqlite`: the server is restored from a copy
/// older than a device's acknowledged write, and the device has nothing queued afterwards. It
/// pushed nothing, so no gap ever told it to replay its sent log and the write stayed lost,
/// until an empty push with the device's next seq became a probe.
#[test]
fn a_restored_server_gets_back_the_writes_of_a_device_with_nothing_queued() {
    run_scenario(
        2,
        vec![
            Op::Snapshot,
            Op::NewInspection { dev: 0 },
            Op::Push { dev: 0 },
            Op::Restore,
        ],
    );
}

/// Shrunk from `push_properties_on_sqlite` (currently fails). dev1 adds a finding to dev0's
/// inspection (acknowledged); the server is restored from a copy from before the inspection,
/// and a network duplicate of dev1's push reaches it before dev0 resends the inspection. The
/// restored server does not know the mutation, so it judges it again: the inspection is
/// missing, the finding is rejected, and that answer goes nowhere. The duplicate took the seq
/// the restored server had lost, so dev1's probe finds no gap and nothing is replayed: a
/// finding the server had acknowledged is gone without a sync error. (An edit of a colleague's
/// record, judged again as a creation by someone who is not its creator, is lost the same way.)
#[test]
fn a_duplicate_push_reaching_a_restored_server_loses_nothing_silently() {
    run_scenario(
        2,
        vec![
            Op::Snapshot,
            Op::NewInspection { dev: 0 },
            Op::Push { dev: 0 },
            Op::NewFinding {
                dev: 1,
                inspection: 0,
            },
            Op::Push { dev: 1 },
            Op::Restore,
            Op::Duplicate { dev: 1, back: 0 },
        ],
    );
}
