//! Ledger and statistics latency with 100,000 findings, on SQLite and on PostgreSQL: p50/p95 of
//! a ledger page (first page, scoped, deep with filters, text search) and of the statistics,
//! through the whole in-process API (auth, scope, SQL, JSON). Prints figures; run with
//! `cargo bench -p zhicha-server --bench ledger`. PostgreSQL is `ZHICHA_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), in a fresh schema dropped afterwards.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::Utc;
use common::{Backend, TestApp};
use zhicha_core::ids::{FindingId, InspectionId, PhotoHash};
use zhicha_core::ledger::FindingsPage;
use zhicha_core::model::{
    Enterprise, Finding, FindingStatus, HistoryEntry, Inspection, InspectionKind, InspectorRef,
    Level, Measure, User,
};
use zhicha_core::packs;

const FINDINGS: usize = 100_000;
const PER_INSPECTION: usize = 4;
const RUNS: usize = 60;

/// A small deterministic generator (xorshift), so both backends get the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[tokio::main]
async fn main() {
    println!(
        "zhicha-server ledger benchmark ({FINDINGS} findings, {RUNS} timed requests per case, \
         in-process API)"
    );
    run(Backend::Sqlite, "SQLite").await;
    match Backend::postgres().await {
        Some(backend) => run(backend, "PostgreSQL").await,
        None => println!("PostgreSQL: unreachable, not measured"),
    }
}

fn records(users: &[User], enterprises: &[Enterprise]) -> (Vec<Inspection>, Vec<Finding>) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let now = Utc::now();
    let inspectors: Vec<&User> = users
        .iter()
        .filter(|u| u.role == zhicha_core::model::Role::Inspector)
        .collect();
    let mut inspections = Vec::new();
    let mut findings = Vec::new();
    let descriptions = [
        "安全出口被货物堵塞",
        "配电箱未可靠接地",
        "灭火器压力不足",
        "主通风机无备用电源",
        "储罐区防火堤破损",
        "特种作业人员无证上岗",
    ];
    while findings.len() < FINDINGS {
        let who = inspectors[rng.below(inspectors.len())];
        let mate = inspectors[rng.below(inspectors.len())];
        let enterprise = &enterprises[rng.below(enterprises.len())];
        let pack = enterprise
            .sectors
            .iter()
            .find_map(|s| packs::for_sector(*s).first().map(|p| p.pack_ref()));
        // Spread over two years.
        let started_at = now - chrono::Duration::minutes(rng.below(2 * 365 * 24 * 60) as i64);
        let inspection = Inspection {
            entry: Default::default(),
            id: InspectionId::new(),
            org_id: who.org_id,
            enterprise_id: enterprise.id,
            kind: InspectionKind::Routine,
            packs: pack.into_iter().collect(),
            inspectors: [who, mate]
                .iter()
                .map(|u| InspectorRef {
                    user_id: u.id,
                    name: u.display_name.clone(),
                    certificate_no: u.certificate_no.clone().unwrap_or_default(),
                })
                .collect(),
            created_by: who.id,
            started_at,
            check_in: None,
            places: "生产区".to_owned(),
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
        };
        for k in 0..PER_INSPECTION {
            let created_at = started_at + chrono::Duration::minutes(5 * k as i64 + 5);
            let level = if rng.below(10) == 0 {
                Level::Major
            } else {
                Level::General
            };
            let status = match rng.below(20) {
                0 => FindingStatus::Draft,
                1..=3 => FindingStatus::Submitted,
                4 => FindingStatus::Returned,
                5..=9 => FindingStatus::Rectifying,
                10..=11 => FindingStatus::Verified,
                _ => FindingStatus::Closed,
            };
            let deadline = created_at.date_naive() + chrono::Days::new(rng.below(60) as u64 + 1);
            let history = if status == FindingStatus::Closed {
                vec![HistoryEntry {
                    at: created_at + chrono::Duration::days(rng.below(60) as i64),
                    by: who.id,
                    action: "close".to_owned(),
                    from: FindingStatus::Verified,
                    to: FindingStatus::Closed,
                    comment: String::new(),
                }]
            } else {
                vec![]
            };
            findings.push(Finding {
                id: FindingId::new(),
                inspection_id: inspection.id,
                enterprise_id: enterprise.id,
                org_id: inspection.org_id,
                item_id: None,
                description: descriptions[rng.below(descriptions.len())].to_owned(),
                place: format!("{}号车间", rng.below(30) + 1),
                level,
                legal_basis: "《中华人民共和国安全生产法》第四十一条".to_owned(),
                basis_unverified: false,
                measure: Measure::Deadline,
                deadline: Some(deadline),
                photos: vec![PhotoHash::of_bytes(&(findings.len() as u64).to_le_bytes())],
                after_photos: vec![],
                status,
                supervised: level == Level::Major && rng.below(3) == 0,
                created_by: who.id,
                created_at,
                history,
                corrections: vec![],
            });
        }
        inspections.push(inspection);
    }
    (inspections, findings)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Times `RUNS` GETs of `path` (after a few warm-ups) and prints p50/p95.
async fn measure(t: &TestApp, token: &str, label: &str, path: &str) -> (f64, f64) {
    for _ in 0..5 {
        let reply = t.get(path, token).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{path}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let reply = t.get(path, token).await;
        times.push(start.elapsed());
        assert_eq!(reply.status, StatusCode::OK);
    }
    times.sort();
    let (p50, p95) = (percentile(&times, 0.5), percentile(&times, 0.95));
    println!("  {label:<52} p50 {p50:>7.1} ms   p95 {p95:>7.1} ms");
    (p50, p95)
}

async fn page(t: &TestApp, token: &str, path: &str) -> FindingsPage {
    let reply = t.get(path, token).await;
    assert_eq!(reply.status, StatusCode::OK);
    serde_json::from_slice(&reply.body).unwrap()
}

async fn run(backend: Backend, name: &str) {
    let t = TestApp::start(backend).await;
    let store = &t.state.store;
    let users = store.users().await.unwrap();
    let enterprises = store.enterprises_in(None).await.unwrap();
    let (inspections, findings) = records(&users, &enterprises);
    let start = Instant::now();
    store.bulk_load(&inspections, &findings).await.unwrap();
    store.analyze().await.unwrap();
    println!(
        "{name}: loaded {} inspections, {} findings in {:.1} s",
        inspections.len(),
        findings.len(),
        start.elapsed().as_secs_f64()
    );
    let admin = t.login("admin").await;
    let leader = t.login("leader1").await;
    let township = &enterprises[0].township;
    let town = zhicha_core::ledger::percent_encode(township);

    let mut pages = Vec::new();
    let mut stats = Vec::new();
    pages.push(
        measure(
            &t,
            &admin.token,
            "ledger first page (admin, all)",
            "/api/v1/findings",
        )
        .await,
    );
    pages.push(
        measure(
            &t,
            &leader.token,
            "ledger first page (leader, team subtree)",
            "/api/v1/findings",
        )
        .await,
    );
    let filtered = format!("/api/v1/findings?status=rectifying&level=general&township={town}");
    pages.push(
        measure(
            &t,
            &admin.token,
            "ledger first page (status+level+township)",
            &filtered,
        )
        .await,
    );
    // A deep page: 20 pages into the filtered ledger.
    let mut cursor = String::new();
    for _ in 0..20 {
        let p = page(&t, &admin.token, &format!("{filtered}&cursor={cursor}")).await;
        cursor = p.next_cursor.expect("enough rows for 20 pages");
    }
    pages.push(
        measure(
            &t,
            &admin.token,
            "ledger page 21 (status+level+township)",
            &format!("{filtered}&cursor={cursor}"),
        )
        .await,
    );
    // A deep page of the whole ledger: 50,000 rows in.
    let mut cursor = String::new();
    for _ in 0..100 {
        let p = page(
            &t,
            &admin.token,
            &format!("/api/v1/findings?limit=500&cursor={cursor}"),
        )
        .await;
        cursor = p.next_cursor.expect("enough rows");
    }
    pages.push(
        measure(
            &t,
            &admin.token,
            "ledger page at row 50,000 (no filter)",
            &format!("/api/v1/findings?cursor={cursor}"),
        )
        .await,
    );
    pages.push(
        measure(
            &t,
            &admin.token,
            "ledger overdue major, supervised",
            "/api/v1/findings?overdue=true&level=major&supervised=true",
        )
        .await,
    );
    let text = measure(
        &t,
        &admin.token,
        "ledger text search q=接地 (scan, no target)",
        &format!(
            "/api/v1/findings?q={}",
            zhicha_core::ledger::percent_encode("接地")
        ),
    )
    .await;
    stats.push(measure(&t, &admin.token, "stats (admin, all)", "/api/v1/stats").await);
    stats.push(
        measure(
            &t,
            &leader.token,
            "stats (leader, team subtree)",
            "/api/v1/stats",
        )
        .await,
    );
    let year_ago = (Utc::now() - chrono::Duration::days(365)).date_naive();
    stats.push(
        measure(
            &t,
            &admin.token,
            "stats (township, last 12 months)",
            &format!("/api/v1/stats?township={town}&from={year_ago}"),
        )
        .await,
    );
    let start = Instant::now();
    let reply = t.get("/api/v1/ledger.xlsx", &admin.token).await;
    assert_eq!(reply.status, StatusCode::OK);
    println!(
        "  ledger.xlsx of every row: {:.1} s, {:.1} MB",
        start.elapsed().as_secs_f64(),
        reply.body.len() as f64 / 1e6
    );
    let worst = |v: &[(f64, f64)]| v.iter().map(|x| x.1).fold(0.0, f64::max);
    println!(
        "{name}: worst p95 ledger page {:.1} ms (target 50), statistics {:.1} ms (target 200); \
         text search p95 {:.1} ms",
        worst(&pages),
        worst(&stats),
        text.1
    );
    t.finish().await;
}
