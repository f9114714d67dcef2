//! Storage benchmarks in headless Chromium: printed figures, not timed assertions.
//!
//! Run with `scripts/bench-storage`. Measures one finding with one 12 MP photo end to end (the
//! photo pipeline plus the atomic write) and 1,000 findings each saved as its own edit.
#![cfg(target_arch = "wasm32")]

use chrono::Utc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Blob, ImageEncodeOptions, OffscreenCanvas, OffscreenCanvasRenderingContext2d};
use zhicha::storage::Db;
use zhicha_core::ids::{EnterpriseId, FindingId, InspectionId, OrgId, UserId};
use zhicha_core::model::{Finding, FindingStatus, Level, Measure, PhotoOwner, PhotoRole};

wasm_bindgen_test_configure!(run_in_browser);

fn now_ms() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn finding(n: usize) -> Finding {
    Finding {
        id: FindingId::new(),
        inspection_id: InspectionId::new(),
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
