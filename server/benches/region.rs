//! The ledger at region scale: 1,000,000 findings of 10 counties over 5 years (2022–2026), on
//! SQLite and on PostgreSQL. Measures the load, the database size, p95 of a realistic mix of
//! ledger pages and of the statistics through the whole in-process API (auth, scope, SQL, JSON),
//! and an xlsx export of about 100,000 rows (time and peak memory growth of this process, which
//! is the server). Run with `cargo bench -p zhicha-server --bench region`; `REGION_FINDINGS`
//! scales the data down for quick runs. Lines starting `BENCH-FIGURE ` carry one figure as JSON
//! for `scripts/bench`, which also receives them in the file named by `BENCH_RESULTS`.
//! PostgreSQL is `ZHICHA_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`), in a
//! fresh schema dropped afterwards.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write as _;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{NaiveDate, Utc};
use common::{Backend, TestApp};
use http_body_util::BodyExt as _;
use region_data::{County, ENTERPRISES_PER_COUNTY, Generator, Rng, seed_region};
use sqlx::Row as _;
use tower::ServiceExt as _;
use zhicha_core::ledger::{FindingsPage, FindingsQuery, StatsQuery};
use zhicha_core::model::{FindingStatus, Level, Sector};

mod region_data;

/// Findings loaded per `bulk_load` call (one transaction), so memory stays bounded.
const BATCH: usize = 50_000;
const LEDGER_RUNS: usize = 30;
const STATS_RUNS: usize = 15;
const WARMUPS: usize = 3;

/// Prints one figure in the form `scripts/bench` collects and appends it to `BENCH_RESULTS`.
fn figure(id: &str, value: f64, unit: &str, note: &str) {
    let value = (value * 100.0).round() / 100.0;
    let json = serde_json::json!({ "id": id, "value": value, "unit": unit, "note": note });
    println!("BENCH-FIGURE {json}");
    if let Ok(file) = std::env::var("BENCH_RESULTS")
        && !file.is_empty()
    {
        let mut out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .expect("open BENCH_RESULTS");
        writeln!(out, "{json}").expect("write BENCH_RESULTS");
    }
}

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// One timed case: a label, the caller's token and the path.
struct Case {
    label: String,
    token: String,
    path: String,
}

/// Times each case `runs` times (after warm-ups), prints each case's p50/p95 and returns every
/// timing of the mix, sorted.
async fn measure_mix(t: &TestApp, cases: &[Case], runs: usize) -> Vec<Duration> {
    let mut all = Vec::new();
    for case in cases {
        for _ in 0..WARMUPS {
            let reply = t.get(&case.path, &case.token).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{}: {}",
                case.path,
                String::from_utf8_lossy(&reply.body)
            );
        }
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let start = Instant::now();
            let reply = t.get(&case.path, &case.token).await;
            times.push(start.elapsed());
            assert_eq!(reply.status, StatusCode::OK);
        }
        times.sort();
        println!(
            "  {:<58} p50 {:>8.1} ms   p95 {:>8.1} ms",
            case.label,
            percentile_ms(&times, 0.5),
            percentile_ms(&times, 0.95)
        );
        all.extend(times);
    }
    all.sort();
    all
}

async fn page(t: &TestApp, token: &str, path: &str) -> FindingsPage {
    let reply = t.get(path, token).await;
    assert_eq!(reply.status, StatusCode::OK);
    serde_json::from_slice(&reply.body).unwrap()
}

/// Follows `next_cursor` up to `pages` pages of `query` and returns the query of the page after.
async fn deep(t: &TestApp, token: &str, query: &FindingsQuery, pages: usize) -> (String, usize) {
    let mut query = query.clone();
    let mut rows = 0;
    for _ in 0..pages {
        let p = page(
            t,
            token,
            &format!("/api/v1/findings?{}", query.to_query_string()),
        )
        .await;
        rows += p.rows.len();
        match p.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    (
        format!("/api/v1/findings?{}", query.to_query_string()),
        rows,
    )
}

/// A value in kB from /proc/self/status.
fn proc_status_kb(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// The database's size on disk in MB: SQLite's file and WAL, or every relation of the
/// schema (tables with their indexes and TOAST).
async fn database_mb(t: &TestApp) -> f64 {
    match t.backend {
        Backend::Sqlite => {
            let data = t.dir.path().join("data");
            ["zhicha.db", "zhicha.db-wal"]
                .iter()
                .filter_map(|f| std::fs::metadata(data.join(f)).ok())
                .map(|m| m.len() as f64)
                .sum::<f64>()
                / 1e6
        }
        Backend::Postgres(_) => {
            let mut db = t.database().await;
            let row = sqlx::query(
                "SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS BIGINT) \
                 FROM pg_class c WHERE c.relkind = 'r' \
                 AND c.relnamespace = CAST(current_schema() AS regnamespace)",
            )
            .fetch_one(&mut db)
            .await
            .unwrap();
            row.get::<i64, _>(0) as f64 / 1e6
        }
    }
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

async fn run(backend: Backend, db: &str, name: &str, total: usize) {
    let t = TestApp::start(backend).await;
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);

    // Seeding: directories, accounts, then the findings a batch at a time, then ANALYZE.
    let start = Instant::now();
    let region = seed_region(&t, &mut rng).await;
    let directories = start.elapsed().as_secs_f64();
    let mut generator = Generator::new();
    let (mut inspections, mut findings) = (0, 0);
    let mut generating = Duration::ZERO;
    while generator.made < total {
        let g = Instant::now();
        let (i, f) = generator.batch(&region, BATCH, total);
        generating += g.elapsed();
        t.state.store.bulk_load(&i, &f).await.unwrap();
        inspections += i.len();
        findings += f.len();
    }
    t.state.store.analyze().await.unwrap();
    let seed = start.elapsed().as_secs_f64();
    println!(
        "{name}: {inspections} inspections, {findings} findings in {seed:.1} s \
         (directories {directories:.1} s, generating records {:.1} s)",
        generating.as_secs_f64()
    );
    figure(
        &format!("region-seed/{db}"),
        seed,
        "s",
        &format!(
            "{findings} findings, {inspections} inspections, 10 counties × {ENTERPRISES_PER_COUNTY} \
             enterprises, 2–3 teams each; Store::bulk_load in batches of {BATCH} plus ANALYZE; \
             includes {:.1} s generating records in the same process",
            generating.as_secs_f64()
        ),
    );
    let size = database_mb(&t).await;
    figure(
        &format!("region-size/{db}"),
        size,
        "MB",
        match t.backend {
            Backend::Sqlite => "database file + WAL after loading and ANALYZE",
            Backend::Postgres(_) => {
                "sum of pg_total_relation_size of the schema's tables (indexes, TOAST included)"
            }
        },
    );

    let county = &region.counties[0];
    let admin = t.login("c0_admin").await.token;
    let leader = t.login("c0_leader").await.token;
    let region_leader = t.login("region_leader").await.token;
    let q = |f: FindingsQuery| format!("/api/v1/findings?{}", f.to_query_string());
    let case = |label: &str, token: &str, path: String| Case {
        label: label.to_owned(),
        token: token.to_owned(),
        path,
    };

    // The ledger mix.
    let by_county = FindingsQuery {
        status: Some(FindingStatus::Rectifying),
        ..FindingsQuery::default()
    };
    let (deep_county, _) = deep(&t, &admin, &by_county, 20).await;
    let (deep_region, skipped) = deep(
        &t,
        &region_leader,
        &FindingsQuery {
            limit: Some(500),
            ..FindingsQuery::default()
        },
        (total / 1000).clamp(1, 100),
    )
    .await;
    let deep_region = deep_region.replace("limit=500", "limit=50");
    let deep_region_label = format!("region leader, page at row {skipped} (cursor)");
    let ledger_cases = [
        case(
            "county admin, first page",
            &admin,
            q(FindingsQuery::default()),
        ),
        case(
            "county leader, first page",
            &leader,
            q(FindingsQuery::default()),
        ),
        case(
            "region leader, first page",
            &region_leader,
            q(FindingsQuery::default()),
        ),
        case(
            "county admin, rectifying, page 21 (cursor)",
            &admin,
            deep_county,
        ),
        case(&deep_region_label, &region_leader, deep_region),
        case(
            "county leader, sector=hazardous chemicals, level=major",
            &leader,
            q(FindingsQuery {
                sector: Some(Sector::HazardousChemicals),
                level: Some(Level::Major),
                ..FindingsQuery::default()
            }),
        ),
        case(
            "county admin, closed, 2024-01-01..2024-06-30",
            &admin,
            q(FindingsQuery {
                status: Some(FindingStatus::Closed),
                from: date(2024, 1, 1),
                to: date(2024, 6, 30),
                ..FindingsQuery::default()
            }),
        ),
        case(
            "region leader, overdue, major",
            &region_leader,
            q(FindingsQuery {
                overdue: Some(true),
                level: Some(Level::Major),
                ..FindingsQuery::default()
            }),
        ),
        case(
            "county admin, text search q=接地",
            &admin,
            q(FindingsQuery {
                q: Some("接地".to_owned()),
                ..FindingsQuery::default()
            }),
        ),
        case(
            "region leader, county + township + 2025, text q=动火",
            &region_leader,
            q(FindingsQuery {
                county: Some(county.name.to_owned()),
                township: Some(county.enterprises[0].township.clone()),
                from: date(2025, 1, 1),
                to: date(2025, 12, 31),
                q: Some("动火".to_owned()),
                ..FindingsQuery::default()
            }),
        ),
    ];
    println!("{name}: ledger pages ({LEDGER_RUNS} timed requests per case)");
    let times = measure_mix(&t, &ledger_cases, LEDGER_RUNS).await;
    figure(
        &format!("region-ledger-p95/{db}"),
        percentile_ms(&times, 0.95),
        "ms",
        &format!(
            "p95 of {} requests ({} cases × {LEDGER_RUNS}: first pages for a county admin, a \
             county leader and the region leader, deep pages via cursor, sector/level, \
             status+date range, overdue, text search); p50 {:.1} ms; max {:.1} ms",
            times.len(),
            ledger_cases.len(),
            percentile_ms(&times, 0.5),
            percentile_ms(&times, 1.0)
        ),
    );

    // The statistics mix.
    let s = |f: StatsQuery| format!("/api/v1/stats?{}", f.to_query_string());
    let last_year = (Utc::now() - chrono::Duration::days(365)).date_naive();
    let stats_cases = [
        case("county admin, all", &admin, s(StatsQuery::default())),
        case(
            "county leader, last 12 months",
            &leader,
            s(StatsQuery {
                from: Some(last_year),
                ..StatsQuery::default()
            }),
        ),
        case(
            "county leader, coal, 2024",
            &leader,
            s(StatsQuery {
                sector: Some(Sector::Coal),
                from: date(2024, 1, 1),
                to: date(2024, 12, 31),
                ..StatsQuery::default()
            }),
        ),
        case(
            "region leader, whole region",
            &region_leader,
            s(StatsQuery::default()),
        ),
        case(
            "region leader, whole region, last 12 months",
            &region_leader,
            s(StatsQuery {
                from: Some(last_year),
                ..StatsQuery::default()
            }),
        ),
        case(
            "region leader, one county",
            &region_leader,
            s(StatsQuery {
                county: Some(county.name.to_owned()),
                ..StatsQuery::default()
            }),
        ),
    ];
    println!("{name}: statistics ({STATS_RUNS} timed requests per case)");
    let times = measure_mix(&t, &stats_cases, STATS_RUNS).await;
    figure(
        &format!("region-stats-p95/{db}"),
        percentile_ms(&times, 0.95),
        "ms",
        &format!(
            "p95 of {} requests ({} cases × {STATS_RUNS}: a county admin and leader, the region \
             leader over the region and one county, with and without sector/date filters); \
             p50 {:.1} ms; max {:.1} ms",
            times.len(),
            stats_cases.len(),
            percentile_ms(&times, 0.5),
            percentile_ms(&times, 1.0)
        ),
    );

    export(&t, &region_leader, county, db, name).await;
    t.finish().await;
}

/// The xlsx export of one county's ledger (about a tenth of the region) by the region leader:
/// time until the whole body is received, and peak resident memory growth of this process.
async fn export(t: &TestApp, token: &str, county: &County, db: &str, name: &str) {
    let filter = FindingsQuery {
        county: Some(county.name.to_owned()),
        limit: Some(1),
        ..FindingsQuery::default()
    };
    let rows = page(
        t,
        token,
        &format!("/api/v1/findings?{}", filter.to_query_string()),
    )
    .await
    .total;
    let path = format!(
        "/api/v1/ledger.xlsx?{}",
        FindingsQuery {
            limit: None,
            ..filter
        }
        .to_query_string()
    );
    // Peak memory: reset VmHWM to the current resident set, export, read VmHWM.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_before = proc_status_kb("VmRSS:");
    let start = Instant::now();
    let request = Request::get(&path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = t.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut bytes = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            bytes += data.len();
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let growth = (proc_status_kb("VmHWM:") - rss_before) / 1024.0;
    println!(
        "{name}: ledger.xlsx of {rows} rows: {seconds:.1} s, {:.1} MB; peak RSS {:.0} MB over \
         {:.0} MB before",
        bytes as f64 / 1e6,
        growth,
        rss_before / 1024.0
    );
    figure(
        &format!("region-export/{db}"),
        seconds,
        "s",
        &format!(
            "GET /api/v1/ledger.xlsx?county=… by the region leader: {rows} rows, {:.1} MB \
             workbook, body streamed and counted until its end",
            bytes as f64 / 1e6
        ),
    );
    if reset {
        figure(
            &format!("region-export-rss/{db}"),
            growth,
            "MB",
            &format!(
                "VmHWM after the export minus VmRSS before it, peak reset by writing 5 to \
                 /proc/self/clear_refs; the server runs in this process{} and the body is \
                 counted, not kept; {:.0} MB resident before",
                if db == "sqlite" {
                    " (SQLite's page cache included)"
                } else {
                    ""
                },
                rss_before / 1024.0
            ),
        );
    } else {
        println!("{name}: /proc/self/clear_refs not writable, export memory not measured");
    }
}

#[tokio::main]
async fn main() {
    let total = std::env::var("REGION_FINDINGS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    println!(
        "zhicha-server region benchmark ({total} findings, 10 counties, 2022-01-01 until today, \
         in-process API)"
    );
    run(Backend::Sqlite, "sqlite", "SQLite", total).await;
    match Backend::postgres().await {
        Some(backend) => run(backend, "postgres", "PostgreSQL", total).await,
        None => println!("PostgreSQL: not measured (unreachable)"),
    }
}
