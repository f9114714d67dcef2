//! Forms kept as they are typed: the start screen, a re-inspection and a drawn signature come back
//! after the app is closed and opened again, with a note and 放弃草稿, and their drafts go once
//! the real record is saved. Also the gallery input beside the camera one.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{
    CanvasRenderingContext2d, HtmlCanvasElement, HtmlElement, HtmlInputElement, HtmlTextAreaElement,
};
use zhicha::pages::Page;
use zhicha::state;
use zhicha_core::model::{Enterprise, Finding, FindingStatus, Inspection, InspectorRef, User};
use zhicha_core::packs;

use crate::fixtures;
use crate::screens::{document, find, open_app, sleep, wait_text};

/// Longer than the pause after which a draft is written.
const SETTLE_MS: u64 = 1_000;

/// A signed-in inspector with a colleague of the team, the packs, and a coal mine of the team.
async fn team() -> (User, User, Enterprise) {
    let db = state::db().await.expect("database");
    let user = fixtures::inspector("draft-inspector", "孙立", "15077101", None);
    let colleague = fixtures::inspector("draft-colleague", "周娜", "15077102", Some(user.org_id));
    fixtures::sign_in(&user).await;
    db.put_packs(packs::all()).await.expect("packs");
    db.put_roster(&[user.clone(), colleague.clone()])
        .await
        .expect("roster");
    let mut enterprise = fixtures::enterprise();
    enterprise.org_id = user.org_id;
    db.put_enterprises(std::slice::from_ref(&enterprise))
        .await
        .expect("enterprise");
    (user, colleague, enterprise)
}

/// Whether a draft is kept under `key` in `meta`.
async fn draft_kept(key: &str) -> bool {
    let db = state::db().await.unwrap();
    db.get_meta_raw(key).await.unwrap().is_some()
}

/// Waits until a draft is (or is no longer) kept under `key`.
async fn wait_draft(key: &str, kept: bool) {
    for _ in 0..100 {
        if draft_kept(key).await == kept {
            return;
        }
        sleep(50).await;
    }
    panic!("draft {key} kept={kept} not reached");
}

/// Types `value` into a field without leaving it (only `input` fires).
fn type_only(el: &HtmlElement, value: &str) {
    if let Some(input) = el.dyn_ref::<HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(area) = el.dyn_ref::<HtmlTextAreaElement>() {
        area.set_value(value);
    }
    el.dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

async fn input(query: &str) -> HtmlInputElement {
    find(query).await.dyn_into().unwrap()
}

fn start_key(enterprise: &Enterprise) -> String {
    format!("draft:start:enterprise:{}", enterprise.id.0)
}

#[wasm_bindgen_test]
async fn the_start_form_comes_back_after_a_reload_and_its_draft_goes_once_started() {
    let (_, colleague, enterprise) = team().await;
    let path = Page::StartInspection(enterprise.id).path();
    let key = start_key(&enterprise);
    let app = open_app(&path);
    let places = find("[data-testid=places]").await;
    assert!(
        document()
            .query_selector("[data-testid=draft-restored]")
            .unwrap()
            .is_none(),
        "a fresh form has no draft"
    );
    let colleague_box = format!(
        "[data-testid=co-inspectors] [data-user='{}'] input",
        colleague.id
    );
    find(&colleague_box).await.click();
    find("[data-testid=kind-routine]").await.click();
    type_only(&places, "主井、中央变电所");
    // The entry card too: why the gate's code was not scanned.
    crate::tasks::fill_entry(false).await;
    sleep(SETTLE_MS).await;
    drop(app);
    assert!(draft_kept(&key).await, "the draft is on the device");

    let app = open_app(&path);
    find("[data-testid=draft-restored]").await;
    wait_text("已恢复未保存的草稿", true).await;
    assert_eq!(
        input("[data-testid=places]").await.value(),
        "主井、中央变电所"
    );
    assert!(input(&colleague_box).await.checked(), "the co-inspector");
    let reason: web_sys::HtmlSelectElement = find("[data-testid=no-scan-reason]")
        .await
        .dyn_into()
        .unwrap();
    assert_eq!(
        reason.value(),
        zhicha_core::plan::NO_SCAN_REASONS[0],
        "the entry card's reason for no scan"
    );
    assert_eq!(
        find("[data-testid=kind-routine]")
            .await
            .get_attribute("aria-pressed")
            .as_deref(),
        Some("true"),
        "the kind"
    );

    // Started as a 四不两直 visit: the inspection keeps what was restored and the draft goes.
    find("[data-testid=kind-unannounced]").await.click();
    crate::tasks::settle_fix().await;
    crate::tasks::fill_entry(true).await;
    find("[data-testid=start]").await.click();
    find("[data-testid=item]").await;
    let db = state::db().await.unwrap();
    let started = db
        .inspections()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.enterprise_id == enterprise.id)
        .expect("started");
    assert_eq!(started.places, "主井、中央变电所");
    assert!(started.inspectors.iter().any(|i| i.user_id == colleague.id));
    wait_draft(&key, false).await;
    drop(app);
}

#[wasm_bindgen_test]
async fn discarding_the_start_draft_empties_the_form_and_deletes_it() {
    let (_, _, enterprise) = team().await;
    let path = Page::StartInspection(enterprise.id).path();
    let key = start_key(&enterprise);
    let app = open_app(&path);
    type_only(&find("[data-testid=places]").await, "1201 综采工作面");
    // Closing before the pause after typing is over still keeps the last keystroke.
    sleep(30).await;
    drop(app);
    wait_draft(&key, true).await;

    let app = open_app(&path);
    find("[data-testid=draft-restored]").await;
    assert_eq!(
        input("[data-testid=places]").await.value(),
        "1201 综采工作面"
    );
    find("[data-testid=discard-draft]").await.click();
    wait_text("已恢复未保存的草稿", false).await;
    assert_eq!(input("[data-testid=places]").await.value(), "");
    wait_draft(&key, false).await;
    drop(app);

    let app = open_app(&path);
    find("[data-testid=places]").await;
    sleep(300).await;
    assert!(
        document()
            .query_selector("[data-testid=draft-restored]")
            .unwrap()
            .is_none()
    );
    assert_eq!(input("[data-testid=places]").await.value(), "");
    drop(app);
}

/// A finding of `user`'s team in rectification.
async fn rectifying(user: &User, enterprise: &Enterprise) -> Finding {
    let db = state::db().await.unwrap();
    let mut inspection = fixtures::inspection(enterprise);
    inspection.org_id = user.org_id;
    inspection.created_by = user.id;
    db.save_inspection(&inspection).await.unwrap();
    let mut finding = fixtures::finding(&inspection, FindingStatus::Rectifying);
    finding.org_id = user.org_id;
    db.save_finding(&finding, &[]).await.unwrap();
    finding
}

#[wasm_bindgen_test]
async fn a_reinspection_comes_back_after_a_reload_and_its_draft_goes_once_recorded() {
    let (user, _, enterprise) = team().await;
    let finding = rectifying(&user, &enterprise).await;
    let path = Page::Reinspect(finding.id).path();
    let key = format!("draft:reinspect:{}", finding.id.0);
    let app = open_app(&path);
    find("input[name=result][value=failed]").await.click();
    type_only(&find("input[name=new_deadline]").await, "2027-03-31");
    type_only(
        &find("textarea[name=comment]").await,
        "局部风筒仍未吊挂，限期再整改",
    );
    sleep(SETTLE_MS).await;
    drop(app);

    let app = open_app(&path);
    find("[data-testid=draft-restored]").await;
    assert!(
        input("input[name=result][value=failed]").await.checked(),
        "the verdict"
    );
    assert!(!input("input[name=result][value=passed]").await.checked());
    assert_eq!(
        input("input[name=new_deadline]").await.value(),
        "2027-03-31"
    );
    let comment: HtmlTextAreaElement = find("textarea[name=comment]").await.dyn_into().unwrap();
    assert_eq!(comment.value(), "局部风筒仍未吊挂，限期再整改");

    find("form button[type=submit]").await.click();
    let db = state::db().await.unwrap();
    let mut deadline = None;
    for _ in 0..200 {
        let stored = db.finding(finding.id).await.unwrap().unwrap();
        if stored.deadline != finding.deadline {
            deadline = stored.deadline;
            break;
        }
        sleep(50).await;
    }
    assert_eq!(
        deadline.map(|d| d.to_string()).as_deref(),
        Some("2027-03-31"),
        "recorded with the restored deadline"
    );
    wait_draft(&key, false).await;
    drop(app);
}

/// An unfinished inspection whose first inspector is `user`.
async fn to_sign(user: &User, enterprise: &Enterprise) -> Inspection {
    let db = state::db().await.unwrap();
    let mut inspection = fixtures::inspection(enterprise);
    inspection.org_id = user.org_id;
    inspection.created_by = user.id;
    inspection.inspectors[0] = InspectorRef {
        user_id: user.id,
        name: user.display_name.clone(),
        certificate_no: "15077101".to_owned(),
    };
    db.save_inspection(&inspection).await.unwrap();
    inspection
}

/// Dispatches a pointer event of `kind` at (`x`, `y`) of the page on `target`.
fn pointer(target: &HtmlElement, kind: &str, x: f64, y: f64) {
    let init = js_sys::Object::new();
    for (name, value) in [
        ("clientX", JsValue::from(x)),
        ("clientY", JsValue::from(y)),
        ("pointerId", JsValue::from(1)),
        ("bubbles", JsValue::TRUE),
    ] {
        js_sys::Reflect::set(&init, &name.into(), &value).unwrap();
    }
    let class: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"PointerEvent".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let event: web_sys::Event =
        js_sys::Reflect::construct(&class, &js_sys::Array::of2(&kind.into(), &init))
            .unwrap()
            .dyn_into()
            .unwrap();
    target.dispatch_event(&event).unwrap();
}

/// How many pixels of the pad are ink (dark).
fn inked_pixels(pad: &HtmlCanvasElement) -> usize {
    let context: CanvasRenderingContext2d =
        pad.get_context("2d").unwrap().unwrap().dyn_into().unwrap();
    let data = context
        .get_image_data(0.0, 0.0, f64::from(pad.width()), f64::from(pad.height()))
        .unwrap()
        .data();
    data.chunks(4).filter(|p| p[0] < 100).count()
}

const PAD: &str = "[data-testid=inspector-signer] [data-testid=signature-pad]";

#[wasm_bindgen_test]
async fn a_drawn_signature_comes_back_after_a_reload_until_it_is_confirmed() {
    let (user, _, enterprise) = team().await;
    let inspection = to_sign(&user, &enterprise).await;
    let path = Page::Finish(inspection.id).path();
    let key = format!("draft:signature:{}:{}", inspection.id.0, user.id.0);
    let app = open_app(&path);
    let pad = find(PAD).await;
    let rect = pad.get_bounding_client_rect();
    let (left, top) = (rect.left() + 10.0, rect.top() + rect.height() / 2.0);
    pointer(&pad, "pointerdown", left, top);
    for step in 1..=20 {
        pointer(
            &pad,
            "pointermove",
            left + f64::from(step) * 8.0,
            top + f64::from(step % 3),
        );
    }
    pointer(&pad, "pointerup", left + 160.0, top);
    let drawn = inked_pixels(&pad.clone().dyn_into().unwrap());
    assert!(drawn > 100, "the stroke is on the pad ({drawn} px)");
    sleep(SETTLE_MS).await;
    drop(app);

    let app = open_app(&path);
    find("[data-testid=inspector-signer] [data-testid=draft-restored]").await;
    let pad: HtmlCanvasElement = find(PAD).await.dyn_into().unwrap();
    let mut restored = 0;
    for _ in 0..40 {
        restored = inked_pixels(&pad);
        if restored > 0 {
            break;
        }
        sleep(50).await;
    }
    assert!(
        restored * 10 >= drawn * 8,
        "the stroke is drawn again ({restored} of {drawn} px)"
    );

    // 确认签名: the signature is stored and the draft goes.
    let confirm = find("[data-testid=inspector-signer] [data-testid=confirm-signature]").await;
    confirm.click();
    let db = state::db().await.unwrap();
    let mut signed = false;
    for _ in 0..200 {
        let stored = db.inspection(inspection.id).await.unwrap().unwrap();
        if stored
            .inspector_signatures
            .iter()
            .any(|s| s.user_id == user.id)
        {
            signed = true;
            break;
        }
        sleep(50).await;
    }
    assert!(signed, "the restored signature is confirmed and stored");
    wait_draft(&key, false).await;
    drop(app);
}

#[wasm_bindgen_test]
async fn discarding_a_signature_draft_clears_the_pad() {
    let (user, _, enterprise) = team().await;
    let inspection = to_sign(&user, &enterprise).await;
    let path = Page::Finish(inspection.id).path();
    let key = format!("draft:signature:{}:{}", inspection.id.0, user.id.0);
    let app = open_app(&path);
    let pad = find(PAD).await;
    let rect = pad.get_bounding_client_rect();
    let (left, top) = (rect.left() + 20.0, rect.top() + 20.0);
    pointer(&pad, "pointerdown", left, top);
    pointer(&pad, "pointermove", left + 100.0, top + 40.0);
    pointer(&pad, "pointerup", left + 100.0, top + 40.0);
    drop(app);
    wait_draft(&key, true).await;

    let app = open_app(&path);
    find("[data-testid=inspector-signer] [data-testid=discard-draft]")
        .await
        .click();
    wait_text("已恢复未保存的草稿", false).await;
    let pad: HtmlCanvasElement = find(PAD).await.dyn_into().unwrap();
    assert_eq!(inked_pixels(&pad), 0, "the pad is blank again");
    wait_draft(&key, false).await;
    drop(app);
}

/// Puts `files` in a file input as a person picking them would, and fires `change`.
fn pick_files(input: &HtmlInputElement, files: &[web_sys::File]) {
    let class: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"DataTransfer".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    let transfer = js_sys::Reflect::construct(&class, &js_sys::Array::new()).unwrap();
    let items = js_sys::Reflect::get(&transfer, &"items".into()).unwrap();
    let add: js_sys::Function = js_sys::Reflect::get(&items, &"add".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    for file in files {
        add.call1(&items, file).unwrap();
    }
    let list: web_sys::FileList = js_sys::Reflect::get(&transfer, &"files".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    input.set_files(Some(&list));
    input
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
}

async fn jpeg_file(name: &str) -> web_sys::File {
    let blob = fixtures::jpeg(800, 600).await;
    let options = web_sys::FilePropertyBag::new();
    options.set_type("image/jpeg");
    web_sys::File::new_with_blob_sequence_and_options(&js_sys::Array::of1(&blob), name, &options)
        .unwrap()
}

#[wasm_bindgen_test]
async fn a_photo_from_the_gallery_is_stored_like_one_from_the_camera() {
    let (user, _, enterprise) = team().await;
    let db = state::db().await.unwrap();
    let inspection = to_sign(&user, &enterprise).await;
    let mut finding = fixtures::finding(&inspection, FindingStatus::Draft);
    finding.created_by = user.id;
    finding.org_id = user.org_id;
    db.save_finding(&finding, &[]).await.unwrap();
    let app = open_app(&Page::Finding(finding.id).path());
    let camera = input("[data-testid=finding-photo-input]").await;
    assert_eq!(
        camera.get_attribute("capture").as_deref(),
        Some("environment")
    );
    let gallery = input("[data-testid=finding-photo-input-gallery]").await;
    assert!(
        !gallery.has_attribute("capture"),
        "the gallery opens the album"
    );
    assert_eq!(gallery.accept(), "image/*");
    wait_text("从相册选择", true).await;
    pick_files(&gallery, &[jpeg_file("相册.jpg").await]);
    let mut photos = Vec::new();
    for _ in 0..200 {
        photos = db.finding(finding.id).await.unwrap().unwrap().photos;
        if !photos.is_empty() {
            break;
        }
        sleep(50).await;
    }
    assert_eq!(
        photos.len(),
        1,
        "the picked photo is stored with the finding"
    );
    let stored = db.photo(&photos[0]).await.unwrap().expect("its bytes");
    assert_eq!(stored.meta.mime, "image/jpeg");
    drop(app);

    // The re-inspection's after-photos can come from the gallery too.
    let rectifying = rectifying(&user, &enterprise).await;
    let app = open_app(&Page::Reinspect(rectifying.id).path());
    let camera = input("input[name=after_photos]").await;
    assert_eq!(
        camera.get_attribute("capture").as_deref(),
        Some("environment")
    );
    let gallery = input("[data-testid=after-photos-gallery]").await;
    assert!(!gallery.has_attribute("capture"));
    pick_files(&gallery, &[jpeg_file("整改后.jpg").await]);
    find(".photo-strip img").await;
    drop(app);
}

#[wasm_bindgen_test]
async fn the_enterprise_signer_or_refusal_typed_comes_back_until_it_is_recorded() {
    let (user, _, enterprise) = team().await;
    let inspection = to_sign(&user, &enterprise).await;
    let path = Page::Finish(inspection.id).path();
    let key = format!("draft:finish:{}", inspection.id.0);
    let app = open_app(&path);
    type_only(&find("[data-testid=signer-name]").await, "孙立新");
    find("[data-testid=refuse]").await.click();
    type_only(&find("[data-testid=witness]").await, "村支书 刘强");
    type_only(
        &find("[data-testid=refusal-note]").await,
        "负责人拒绝在检查记录上签字",
    );
    sleep(SETTLE_MS).await;
    drop(app);

    let app = open_app(&path);
    find("[data-testid=enterprise-signer] [data-testid=draft-restored]").await;
    assert_eq!(input("[data-testid=witness]").await.value(), "村支书 刘强");
    assert_eq!(
        input("[data-testid=refusal-note]").await.value(),
        "负责人拒绝在检查记录上签字"
    );
    let refuse = find("[data-testid=refuse]").await;
    assert_eq!(
        refuse.get_attribute("aria-pressed").as_deref(),
        Some("true")
    );
    // The name typed for signing is back too.
    let sign_tab: HtmlElement = refuse
        .previous_element_sibling()
        .unwrap()
        .dyn_into()
        .unwrap();
    sign_tab.click();
    assert_eq!(input("[data-testid=signer-name]").await.value(), "孙立新");
    refuse.click();

    find("[data-testid=record-refusal]").await.click();
    wait_text("已记录拒绝签字", true).await;
    let db = state::db().await.unwrap();
    let stored = db.inspection(inspection.id).await.unwrap().unwrap();
    match stored.enterprise_signature {
        Some(zhicha_core::model::EnterpriseSignature::Refused { witness_name, .. }) => {
            assert_eq!(witness_name, "村支书 刘强");
        }
        other => panic!("refusal not recorded: {other:?}"),
    }
    wait_draft(&key, false).await;
    drop(app);
}
