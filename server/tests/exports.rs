//! The ledger files against what the server accepts, on SQLite and PostgreSQL: CSV cells that a
//! spreadsheet would run as formulas come out inert; the workbook answers 200 and opens for the
//! longest text and the most extreme dates a finding may carry; a full sheet continues on the
//! next; nothing is left in the data folder.

mod common;

use std::io::Cursor;

use axum::http::StatusCode;
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{NaiveDate, TimeZone as _, Utc};
use common::{Backend, Device, TestApp, assert_applied};
use zhicha_core::ids::EnterpriseId;
use zhicha_core::ledger::FindingsPage;
use zhicha_core::model::{Enterprise, Finding, Inspection};
use zhicha_core::protocol::{CommentPayload, MutationPayload};
use zhicha_core::validation::MAX_TEXT_CHARS;
use zhicha_server::routes::ledger::{CELL_UNITS, CUT_MARKER, HEADERS, LedgerBook, SHEET};

on_both_backends!(
    csv_cells_starting_like_a_formula_get_a_leading_quote,
    the_workbook_cuts_the_longest_accepted_text_with_a_marker,
    the_workbook_writes_dates_outside_excels_range_as_text,
    a_full_sheet_continues_on_the_next_with_the_header,
);

/// Column of 被检查单位, 隐患描述, 隐患部位, 整改期限 and 发现日期 in the files.
const ENTERPRISE: usize = 1;
const DESCRIPTION: usize = 6;
const PLACE: usize = 7;
const DEADLINE: usize = 11;
const FOUND: usize = 14;

/// Pushes `findings` of `inspection` (with the inspection and, if given, an enterprise saved
/// first) and submits them, so they are in the ledger.
async fn submitted(
    t: &TestApp,
    device: &Device,
    enterprise: Option<&Enterprise>,
    inspection: &Inspection,
    findings: &[Finding],
) {
    let mut batch = Vec::new();
    if let Some(e) = enterprise {
        batch.push(device.mutation(
            e.id.0,
            None,
            &MutationPayload::EnterpriseSave(Box::new(e.clone())),
        ));
    }
    batch.push(device.save_inspection(inspection, None));
    for f in findings {
        batch.push(device.save_finding(f, None));
        batch.push(device.mutation(
            f.id.0,
            Some(1),
            &MutationPayload::FindingSubmit(CommentPayload::default()),
        ));
    }
    assert_applied(&t.push(device, &batch).await);
}

/// An enterprise made on site, in the directory's first enterprise's authority and region.
async fn on_site(t: &TestApp, device: &Device, name: &str) -> Enterprise {
    let bootstrap = t.get("/api/v1/bootstrap", &device.token).await.json();
    let mut e: Enterprise = serde_json::from_value(bootstrap["enterprises"][0].clone()).unwrap();
    e.id = EnterpriseId::new();
    e.name = name.to_owned();
    e.credit_code = None;
    e.ad_hoc = true;
    e
}

async fn workbook(t: &TestApp, device: &Device) -> Xlsx<Cursor<Vec<u8>>> {
    let reply = t.get("/api/v1/ledger.xlsx", &device.token).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply.headers["content-length"].to_str().unwrap(),
        reply.body.len().to_string()
    );
    open_workbook_from_rs(Cursor::new(reply.body.to_vec())).expect("the workbook opens")
}

/// The export's working files are gone once it is sent.
fn assert_no_files_left(t: &TestApp) {
    let tmp = t.dir.path().join("data").join("tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left in tmp/: {left:?}");
}

async fn csv_cells_starting_like_a_formula_get_a_leading_quote(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let admin = t.login("admin").await;
    let enterprise = on_site(&t, &device, "=HYPERLINK(\"http://x\",\"点击\")").await;
    let inspection = device.inspection(enterprise.id);
    let texts = [
        "=1+1",
        "@SUM(1)",
        "+x",
        "-x",
        "\t=1+1",
        "\r=1+1",
        "安全出口被货物堵塞",
    ];
    let findings: Vec<Finding> = texts
        .iter()
        .map(|text| {
            let mut f = device.finding(&inspection);
            f.description = (*text).to_owned();
            f.place = format!("={text}");
            f
        })
        .collect();
    submitted(&t, &device, Some(&enterprise), &inspection, &findings).await;

    let reply = t.get("/api/v1/ledger.csv", &admin.token).await;
    assert_eq!(reply.status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(&reply.body[3..]);
    assert_eq!(reader.headers().unwrap(), HEADERS.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    for text in texts {
        let row = rows
            .iter()
            .find(|r| r[DESCRIPTION].trim_start_matches('\'') == text)
            .unwrap_or_else(|| panic!("a row for {text:?}"));
        let inert = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{text}")
        } else {
            text.to_owned()
        };
        assert_eq!(&row[DESCRIPTION], inert, "隐患描述 {text:?}");
        assert_eq!(&row[PLACE], format!("'={text}"), "隐患部位 {text:?}");
        assert_eq!(
            &row[ENTERPRISE], "'=HYPERLINK(\"http://x\",\"点击\")",
            "被检查单位"
        );
    }
    // The row number and the dates are not text that could start a formula.
    for (n, row) in rows.iter().enumerate() {
        assert_eq!(&row[0], (n + 1).to_string());
    }
    // No cell of any row of the seeded ledger starts like a formula.
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} in {row:?}"
            );
        }
    }
    t.finish().await;
}

async fn the_workbook_cuts_the_longest_accepted_text_with_a_marker(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let admin = t.login("admin").await;
    let inspection = device.inspection(t.some_enterprise(&device).await);
    // The longest description the server stores, in characters outside the BMP: two UTF-16
    // units each, so 40,000 units, past Excel's 32,767.
    let mut long = device.finding(&inspection);
    long.description = "𠀀".repeat(MAX_TEXT_CHARS);
    long.place = "字".repeat(MAX_TEXT_CHARS);
    let mut short = device.finding(&inspection);
    short.description = "𠀀".repeat(CELL_UNITS / 2);
    submitted(
        &t,
        &device,
        None,
        &inspection,
        &[long.clone(), short.clone()],
    )
    .await;

    let mut book = workbook(&t, &admin).await;
    let sheet = book.worksheet_range(SHEET).unwrap();
    let texts: Vec<(String, String)> = (1..sheet.height())
        .map(|r| {
            let cell = |c: usize| sheet.get((r, c)).map(|d| d.to_string()).unwrap_or_default();
            (cell(DESCRIPTION), cell(PLACE))
        })
        .collect();
    let cut = texts
        .iter()
        .find(|(d, _)| d.ends_with(CUT_MARKER))
        .expect("the long description is cut with the marker");
    let kept = cut.0.strip_suffix(CUT_MARKER).unwrap();
    assert!(cut.0.encode_utf16().count() <= CELL_UNITS);
    assert_eq!(
        kept.chars().count(),
        (CELL_UNITS - CUT_MARKER.encode_utf16().count()) / 2,
        "as many whole characters as fit"
    );
    assert!(kept.chars().all(|c| c == '𠀀'), "no character split");
    // 20,000 characters of the BMP fit whole; so does a description at the limit.
    assert_eq!(cut.1, long.place);
    assert!(
        texts.iter().any(|(d, _)| *d == short.description),
        "a description of exactly {CELL_UNITS} units is whole"
    );
    // The CSV carries the whole text.
    let reply = t.get("/api/v1/ledger.csv", &admin.token).await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    assert!(text.contains(&long.description));
    assert_no_files_left(&t);
    t.finish().await;
}

async fn the_workbook_writes_dates_outside_excels_range_as_text(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let admin = t.login("admin").await;
    let inspection = device.inspection(t.some_enterprise(&device).await);
    // A deadline may not be before the finding's date, so the 1800 one is found in 1800.
    let mut old = device.finding(&inspection);
    old.description = "1800 年的隐患".to_owned();
    old.created_at = Utc.with_ymd_and_hms(1800, 3, 1, 2, 0, 0).unwrap();
    old.deadline = NaiveDate::from_ymd_opt(1800, 6, 1);
    let mut far = device.finding(&inspection);
    far.description = "期限在一万年".to_owned();
    far.deadline = NaiveDate::from_ymd_opt(10_000, 1, 1);
    let mut last = device.finding(&inspection);
    last.description = "期限在 Excel 的最后一天".to_owned();
    last.deadline = NaiveDate::from_ymd_opt(9999, 12, 31);
    submitted(
        &t,
        &device,
        None,
        &inspection,
        &[old.clone(), far.clone(), last.clone()],
    )
    .await;

    let mut book = workbook(&t, &admin).await;
    let sheet = book.worksheet_range(SHEET).unwrap();
    let row = |description: &str| {
        (1..sheet.height())
            .find(|&r| {
                sheet
                    .get((r, DESCRIPTION))
                    .is_some_and(|d| matches!(d, Data::String(s) if s == description))
            })
            .unwrap_or_else(|| panic!("a row for {description}"))
    };
    let cell = |r: usize, c: usize| sheet.get((r, c)).cloned().unwrap_or(Data::Empty);
    let r = row(&old.description);
    assert_eq!(cell(r, DEADLINE), Data::String("1800-06-01".to_owned()));
    assert_eq!(cell(r, FOUND), Data::String("1800-03-01".to_owned()));
    let r = row(&far.description);
    assert!(
        matches!(&cell(r, DEADLINE), Data::String(s) if s.contains("10000-01-01")),
        "{:?}",
        cell(r, DEADLINE)
    );
    assert!(matches!(cell(r, FOUND), Data::DateTime(_)));
    let r = row(&last.description);
    let Data::DateTime(deadline) = cell(r, DEADLINE) else {
        panic!("9999-12-31 is an Excel date, got {:?}", cell(r, DEADLINE));
    };
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
    assert_eq!(
        epoch + chrono::Duration::days(deadline.as_f64() as i64),
        NaiveDate::from_ymd_opt(9999, 12, 31).unwrap()
    );
    // The CSV has them as they are.
    let reply = t.get("/api/v1/ledger.csv", &admin.token).await;
    assert_eq!(reply.status, StatusCode::OK);
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    assert!(text.contains("1800-06-01") && text.contains("1800-03-01"));
    assert_no_files_left(&t);
    t.finish().await;
}

/// Excel's 1,048,575 data rows are too many for a test; the book's sheet size is a parameter.
async fn a_full_sheet_continues_on_the_next_with_the_header(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let admin = t.login("admin").await;
    let inspection = device.inspection(t.some_enterprise(&device).await);
    let findings: Vec<Finding> = (0..5)
        .map(|n| {
            let mut f = device.finding(&inspection);
            f.description = format!("隐患 {n}");
            f
        })
        .collect();
    submitted(&t, &device, None, &inspection, &findings).await;
    let page: FindingsPage =
        serde_json::from_slice(&t.get("/api/v1/findings?limit=100", &admin.token).await.body)
            .unwrap();
    assert_eq!(page.rows.len(), 5);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.xlsx");
    let mut book = LedgerBook::new(dir.path(), 2).unwrap();
    book.write(&page.rows[..3]).unwrap();
    book.write(&page.rows[3..]).unwrap();
    book.save(&path).unwrap();
    let mut xlsx: Xlsx<_> = calamine::open_workbook(&path).unwrap();
    assert_eq!(
        xlsx.sheet_names(),
        [SHEET, "隐患台账（2）", "隐患台账（3）"]
    );
    let mut numbers = Vec::new();
    let mut descriptions = Vec::new();
    for name in xlsx.sheet_names() {
        let sheet = xlsx.worksheet_range(&name).unwrap();
        let header: Vec<String> = (0..HEADERS.len())
            .map(|c| sheet.get((0, c)).map(|d| d.to_string()).unwrap_or_default())
            .collect();
        assert_eq!(header, HEADERS, "{name}");
        for r in 1..sheet.height() {
            numbers.push(sheet.get((r, 0)).cloned().unwrap());
            descriptions.push(sheet.get((r, DESCRIPTION)).unwrap().to_string());
        }
    }
    assert_eq!(
        numbers,
        (1..=5)
            .map(|n| Data::Float(f64::from(n)))
            .collect::<Vec<_>>(),
        "序号 runs on across sheets"
    );
    let want: Vec<&str> = page.rows.iter().map(|r| r.description.as_str()).collect();
    assert_eq!(descriptions, want);
    t.finish().await;
}
