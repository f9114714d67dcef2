//! Test data and helpers shared by the browser tests.

use chrono::{NaiveDate, Utc};
use wasm_bindgen::JsCast;
use web_sys::{Blob, ImageEncodeOptions, OffscreenCanvas, OffscreenCanvasRenderingContext2d};
use zhicha::storage::{Db, Session};
use zhicha_core::ids::{EnterpriseId, FindingId, InspectionId, OrgId, PhotoHash, UserId};
use zhicha_core::model::{
    Enterprise, Finding, FindingStatus, Inspection, InspectionKind, InspectorRef, Level, Measure,
    PhotoMeta, PhotoOwner, PhotoRole, Role, Sector, User,
};

/// An inspector of team `org_id` (a new team when None).
pub fn inspector(username: &str, name: &str, certificate: &str, org_id: Option<OrgId>) -> User {
    User {
        id: UserId::new(),
        username: username.to_owned(),
        display_name: name.to_owned(),
        role: Role::Inspector,
        org_id: org_id.unwrap_or_else(OrgId::new),
        certificate_no: Some(certificate.to_owned()),
    }
}

/// `user` signed in on this phone (in the app's own database), on device A1, for a day.
pub async fn sign_in(user: &User) {
    let db = zhicha::state::db().await.expect("database");
    db.put_session(&Session {
        token: "test-token".to_owned(),
        expires_at: Utc::now() + chrono::Duration::days(1),
        user: user.clone(),
        device_code: "A1".to_owned(),
    })
    .await
    .expect("session");
}

/// A database of its own for one test; deleted by `drop_db`.
pub struct TestDb {
    pub name: String,
    pub db: Db,
}

pub async fn fresh_db(test: &str) -> TestDb {
    let name = format!("zhicha-test-{test}-{}", uuid::Uuid::now_v7());
    let db = Db::open(&name).await.expect("open database");
    TestDb { name, db }
}

pub async fn drop_db(test: TestDb) {
    test.db.close();
    Db::delete(&test.name).await.expect("delete database");
}

pub fn enterprise() -> Enterprise {
    Enterprise {
        key: false,
        grade: None,
        id: EnterpriseId::new(),
        org_id: OrgId::new(),
        name: "树林召镇某煤矿".to_owned(),
        credit_code: Some("91150621MA0N000001".to_owned()),
        address: "达拉特旗树林召镇".to_owned(),
        county: "达拉特旗".to_owned(),
        township: "树林召镇".to_owned(),
        sectors: vec![Sector::Coal],
        subsectors: vec![],
        legal_representative: "张三".to_owned(),
        contact_phone: "0477-0000000".to_owned(),
        location: None,
        ad_hoc: false,
        merged_into: None,
    }
}

pub fn inspection(enterprise: &Enterprise) -> Inspection {
    Inspection {
        entry: Default::default(),
        id: InspectionId::new(),
        org_id: enterprise.org_id,
        enterprise_id: enterprise.id,
        kind: InspectionKind::Unannounced,
        packs: vec![],
        inspectors: vec![
            InspectorRef {
                user_id: UserId::new(),
                name: "李明".to_owned(),
                certificate_no: "15001".to_owned(),
            },
            InspectorRef {
                user_id: UserId::new(),
                name: "王强".to_owned(),
                certificate_no: "15002".to_owned(),
            },
        ],
        created_by: UserId::new(),
        started_at: Utc::now(),
        check_in: None,
        places: "主斜井".to_owned(),
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

pub fn finding(inspection: &Inspection, status: FindingStatus) -> Finding {
    Finding {
        id: FindingId::new(),
        inspection_id: inspection.id,
        enterprise_id: inspection.enterprise_id,
        org_id: inspection.org_id,
        item_id: None,
        description: "瓦斯检查记录不全".to_owned(),
        place: "1201 工作面".to_owned(),
        level: Level::General,
        legal_basis: String::new(),
        basis_unverified: false,
        measure: Measure::Deadline,
        deadline: NaiveDate::from_ymd_opt(2026, 12, 31),
        photos: vec![],
        after_photos: vec![],
        status,
        supervised: false,
        created_by: inspection.created_by,
        created_at: Utc::now(),
        history: vec![],
        corrections: vec![],
    }
}

/// A fake photo record (the bytes need not be an image for storage tests).
pub fn photo_of(finding: &Finding, content: &str) -> zhicha::storage::NewPhoto {
    let bytes = content.as_bytes();
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let blob = Blob::new_with_u8_array_sequence(&parts).expect("blob");
    zhicha::storage::NewPhoto {
        meta: PhotoMeta {
            hash: PhotoHash::of_bytes(bytes),
            owner: PhotoOwner::Finding(finding.id),
            role: PhotoRole::Evidence,
            bytes: bytes.len() as u64,
            width: 1600,
            height: 1200,
            mime: "image/jpeg".to_owned(),
            captured_at: Utc::now(),
            offset_from_start_s: Some(60),
            location: None,
            no_fix: None,
            clock_offset_ms: None,
        },
        blob,
    }
}

/// A `width`×`height` JPEG with some detail in it, drawn in the browser.
pub async fn jpeg(width: u32, height: u32) -> Blob {
    let canvas = OffscreenCanvas::new(width, height).expect("canvas");
    let context: OffscreenCanvasRenderingContext2d = canvas
        .get_context("2d")
        .expect("context")
        .expect("2d")
        .dyn_into()
        .expect("2d context");
    for i in 0..40u32 {
        context.set_fill_style_str(&format!("hsl({}, 70%, 50%)", i * 9));
        let x = f64::from(i * width / 40);
        context.fill_rect(
            x,
            f64::from(i * height / 80),
            f64::from(width / 40),
            f64::from(height / 2),
        );
    }
    let options = ImageEncodeOptions::new();
    options.set_type("image/jpeg");
    options.set_quality(0.92);
    let promise = canvas
        .convert_to_blob_with_options(&options)
        .expect("encode");
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .expect("blob")
        .dyn_into()
        .expect("Blob")
}
