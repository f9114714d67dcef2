//! Storage benchmarks in headless Chromium: printed figures, not timed assertions.
//!
//! Run with `scripts/bench-storage` (or `scripts/bench`, which sets these figures beside those of
//! PouchDB and raw IndexedDB). Measures one finding with one 12 MP photo end to end (the photo
//! pipeline plus the atomic write), 1,000 findings each saved as its own edit, and the bulk path
//! (`Db::import_findings`): 1,000 findings, and 100 findings with one ~270 KB photo each, in one
//! transaction, with their read-back.
//!
//! Lines starting `BENCH-FIGURE ` carry one figure as JSON for `scripts/bench`.
#![cfg(target_arch = "wasm32")]

use chrono::Utc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Blob, ImageEncodeOptions, OffscreenCanvas, OffscreenCanvasRenderingContext2d};
use zhicha::storage::{Db, NewPhoto};
use zhicha_core::ids::{EnterpriseId, FindingId, InspectionId, OrgId, PhotoHash, UserId};
use zhicha_core::model::{
    Finding, FindingStatus, Level, Measure, PhotoMeta, PhotoOwner, PhotoRole,
};

/// Runs of each bulk benchmark; the median is reported.
const RUNS: usize = 5;
const BULK_FINDINGS: usize = 1000;
const BULK_PHOTOS: usize = 100;
const PHOTO_BYTES: usize = 270 * 1024;

wasm_bindgen_test_configure!(run_in_browser);

fn now_ms() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Prints one figure in the form `scripts/bench` collects.
fn figure(id: &str, value: f64, unit: &str, note: &str) {
    console_log!(
        "BENCH-FIGURE {}",
        serde_json::json!({ "id": id, "value": value, "unit": unit, "note": note })
    );
}

fn finding(n: usize) -> Finding {
    finding_of(n, InspectionId::new())
}

fn finding_of(n: usize, inspection_id: InspectionId) -> Finding {
    Finding {
        id: FindingId::new(),
        inspection_id,
        enterprise_id: EnterpriseId::new(),
        org_id: OrgId::new(),
        item_id: Some(format!("coal-ug-8-{n:02}")),
        description: format!(
            "第{n}处：局部通风机未实现双风机双电源自动切换，现场查看切换试验记录缺失"
        ),
        place: "1201 回风巷".to_owned(),
        level: if n.is_multiple_of(5) {
            Level::Major
        } else {
            Level::General
        },
        legal_basis: "《煤矿重大事故隐患判定标准》第八条（三）".to_owned(),
        basis_unverified: false,
        measure: Measure::Deadline,
        deadline: chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
        photos: vec![],
        after_photos: vec![],
        status: FindingStatus::Draft,
        supervised: false,
        created_by: UserId::new(),
        created_at: Utc::now(),
        history: vec![],
        corrections: vec![],
    }
}

/// A 4000×3000 (12 MP) JPEG with enough detail to compress like a photo.
async fn camera_jpeg() -> Blob {
    let canvas = OffscreenCanvas::new(4000, 3000).unwrap();
    let ctx: OffscreenCanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    for i in 0..400u32 {
        ctx.set_fill_style_str(&format!("hsl({}, 60%, {}%)", (i * 37) % 360, 30 + i % 40));
        ctx.fill_rect(
            f64::from((i * 97) % 4000),
            f64::from((i * 53) % 3000),
            300.0,
            200.0,
        );
    }
    let options = ImageEncodeOptions::new();
    options.set_type("image/jpeg");
    options.set_quality(0.92);
    let promise = canvas.convert_to_blob_with_options(&options).unwrap();
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .unwrap()
        .dyn_into()
        .unwrap()
}

#[wasm_bindgen_test]
async fn bench_one_finding_with_a_12_mp_photo() {
    let name = format!("zhicha-bench-photo-{}", uuid::Uuid::now_v7());
    let db = Db::open(&name).await.unwrap();
    let original = camera_jpeg().await;
    let mut pipeline = Vec::new();
    let mut total = Vec::new();
    let mut stored_kb = 0.0;
    for n in 0..10 {
        let start = now_ms();
        let photo = zhicha::photo::process(&original).await.unwrap();
        let processed = now_ms();
        stored_kb = photo.bytes as f64 / 1024.0;
        let mut f = finding(n);
        let new = photo.into_new_photo(
            PhotoOwner::Finding(f.id),
            PhotoRole::Evidence,
            Utc::now(),
            None,
            None,
        );
        f.photos.push(new.meta.hash.clone());
        db.create_finding(&f, std::slice::from_ref(&new))
            .await
            .unwrap();
        let end = now_ms();
        pipeline.push(processed - start);
        total.push(end - start);
    }
    figure(
        "pipeline/zhicha",
        median(total.clone()),
        "ms",
        &format!(
            "median of 10; 12 MP in, {stored_kb:.0} KB stored with its finding and outbox entries"
        ),
    );
    console_log!(
        "BENCH one finding + one 12 MP photo (4000x3000 -> 1600x1200 JPEG, {:.0} KB): median {:.0} ms end to end, of which photo pipeline {:.0} ms (10 runs)",
        stored_kb,
        median(total),
        median(pipeline)
    );
    db.close();
    Db::delete(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn bench_1000_findings() {
    let name = format!("zhicha-bench-findings-{}", uuid::Uuid::now_v7());
    let db = Db::open(&name).await.unwrap();
    let findings: Vec<Finding> = (0..1000).map(finding).collect();
    let start = now_ms();
    for f in &findings {
        db.create_finding(f, &[]).await.unwrap();
    }
    let written = now_ms();
    let counts = db.unsynced_counts().await.unwrap();
    assert_eq!(counts.mutations, 1000);
    let read_start = now_ms();
    let mut read = 0;
    for f in findings.iter().step_by(10) {
        read += usize::from(db.finding(f.id).await.unwrap().is_some());
    }
    let read_end = now_ms();
    figure(
        "findings-write-per-edit/zhicha",
        written - start,
        "ms",
        "1,000 findings, each its own transaction (the app's per-edit path)",
    );
    console_log!(
        "BENCH 1,000 findings, each its own edit (finding + outbox entry in one transaction): {:.0} ms total, {:.2} ms per finding; {} point reads: {:.2} ms each",
        written - start,
        (written - start) / 1000.0,
        read,
        (read_end - read_start) / read as f64
    );
    db.close();
    Db::delete(&name).await.unwrap();
}

/// `bytes` of noise after a JPEG signature, like a compressed photo (the same generator as the
/// peers' page in bench/pages/local.js).
fn photo_bytes(bytes: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    let mut data: Vec<u8> = (0..bytes)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    data[..4].copy_from_slice(&[0xFF, 0xD8, 0xFF, 0xE0]);
    data
}

fn new_photo(finding: &Finding, bytes: &[u8]) -> NewPhoto {
    let array = js_sys::Uint8Array::from(bytes);
    let blob = Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&array)).unwrap();
    NewPhoto {
        meta: PhotoMeta {
            hash: PhotoHash::of_bytes(bytes),
            owner: PhotoOwner::Finding(finding.id),
            role: PhotoRole::Evidence,
            bytes: bytes.len() as u64,
            width: 1600,
            height: 1200,
            mime: "image/jpeg".to_owned(),
            captured_at: Utc::now(),
            offset_from_start_s: None,
            location: None,
            no_fix: None,
            clock_offset_ms: None,
        },
        blob,
    }
}

#[wasm_bindgen_test]
async fn bench_bulk_1000_findings() {
    let mut write = Vec::new();
    let mut read = Vec::new();
    for _ in 0..RUNS {
        let name = format!("zhicha-bench-bulk-{}", uuid::Uuid::now_v7());
        let db = Db::open(&name).await.unwrap();
        let inspection = InspectionId::new();
        let batch: Vec<(Finding, Vec<NewPhoto>)> = (0..BULK_FINDINGS)
            .map(|n| (finding_of(n, inspection), vec![]))
            .collect();
        let start = now_ms();
        db.import_findings(&batch).await.unwrap();
        let written = now_ms();
        let back = db.findings_of_inspection(inspection).await.unwrap();
        let read_end = now_ms();
        assert_eq!(back.len(), BULK_FINDINGS);
        assert_eq!(
            db.unsynced_counts().await.unwrap().mutations as usize,
            BULK_FINDINGS
        );
        write.push(written - start);
        read.push(read_end - written);
        db.close();
        Db::delete(&name).await.unwrap();
    }
    let note = format!("median of {RUNS}; one transaction: findings + outbox entries");
    figure("findings-write/zhicha", median(write), "ms", &note);
    figure(
        "findings-read/zhicha",
        median(read),
        "ms",
        &format!("median of {RUNS}; all findings of the inspection by index, typed"),
    );
}

#[wasm_bindgen_test]
async fn bench_bulk_100_photos() {
    let mut write = Vec::new();
    let mut read = Vec::new();
    for run in 0..RUNS {
        let name = format!("zhicha-bench-bulk-photos-{}", uuid::Uuid::now_v7());
        let db = Db::open(&name).await.unwrap();
        let inspection = InspectionId::new();
        // Hashing belongs to the photo pipeline (measured on its own), so it happens here first.
        let batch: Vec<(Finding, Vec<NewPhoto>)> = (0..BULK_PHOTOS)
            .map(|n| {
                let mut f = finding_of(n, inspection);
                let photo = new_photo(&f, &photo_bytes(PHOTO_BYTES, (run * 1000 + n + 1) as u32));
                f.photos.push(photo.meta.hash.clone());
                (f, vec![photo])
            })
            .collect();
        let start = now_ms();
        db.import_findings(&batch).await.unwrap();
        let written = now_ms();
        let mut bytes = 0.0;
        for (f, _) in &batch {
            for photo in db.photos_of(&PhotoOwner::Finding(f.id)).await.unwrap() {
                let buffer = wasm_bindgen_futures::JsFuture::from(photo.blob.array_buffer())
                    .await
                    .unwrap();
                bytes += buffer.unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64;
            }
        }
        let read_end = now_ms();
        assert_eq!(bytes as usize, BULK_PHOTOS * PHOTO_BYTES);
        write.push(written - start);
        read.push(read_end - written);
        db.close();
        Db::delete(&name).await.unwrap();
    }
    figure(
        "photos-write/zhicha",
        median(write),
        "ms",
        &format!(
            "median of {RUNS}; one transaction: {BULK_PHOTOS} findings, their photos and outbox entries"
        ),
    );
    figure(
        "photos-read/zhicha",
        median(read),
        "ms",
        &format!("median of {RUNS}; each finding's photos by index, bytes read"),
    );
}
