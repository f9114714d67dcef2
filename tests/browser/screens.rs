//! The inspector's screens mounted as the app runs them (the whole `App`, routed by the address),
//! driven through the DOM: the finding editor's validation and autosave, and a checklist answer
//! that survives the app being closed and opened again.
//!
//! The app keeps its data in the database named `zhicha`; each test writes its own records with
//! fresh ids into it and reads back only those.

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{HtmlElement, HtmlInputElement, HtmlSelectElement};
use zhicha::app::App;
use zhicha::pages::Page;
use zhicha::state;
use zhicha_core::ids::UserId;
use zhicha_core::model::{FindingStatus, Inspection, Level, Measure, Outcome, Subsector, User};
use zhicha_core::packs;
use zhicha_core::protocol::MutationKind;

use crate::fixtures;

pub(crate) fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

pub(crate) async fn sleep(ms: u64) {
    gloo::timers::future::sleep(Duration::from_millis(ms)).await;
}

/// Every element matching `query`, in document order (through `querySelectorAll`: NodeList is
/// not among the crate's web-sys features).
pub(crate) fn find_all(query: &str) -> Vec<HtmlElement> {
    let doc = document();
    let select: js_sys::Function = js_sys::Reflect::get(&doc, &"querySelectorAll".into())
        .unwrap()
        .unchecked_into();
    let list = select.call1(&doc, &query.into()).unwrap();
    js_sys::Array::from(&list)
        .iter()
        .map(|n| n.unchecked_into())
        .collect()
}

/// Polls the DOM until `query` matches, for up to 10 s.
pub(crate) async fn find(query: &str) -> HtmlElement {
    for _ in 0..200 {
        if let Ok(Some(el)) = document().query_selector(query) {
            return el.dyn_into().unwrap();
        }
        sleep(50).await;
    }
    panic!(
        "nothing matched {query}; page: {}",
        document().body().unwrap().inner_text()
    );
}

/// Polls until the page text contains (or, with `present = false`, no longer contains) `text`.
pub(crate) async fn wait_text(text: &str, present: bool) {
    for _ in 0..200 {
        if document().body().unwrap().inner_text().contains(text) == present {
            return;
        }
        sleep(50).await;
    }
    panic!(
        "text {text:?} present={present} not reached; page: {}",
        document().body().unwrap().inner_text()
    );
}

/// Sets a field as a person would and leaves it (the app saves on `change`).
pub(crate) fn type_into(el: &HtmlElement, value: &str) {
    if let Some(input) = el.dyn_ref::<HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(select) = el.dyn_ref::<HtmlSelectElement>() {
        select.set_value(value);
    } else if let Some(area) = el.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        area.set_value(value);
    }
    let change = web_sys::Event::new("change").unwrap();
    el.dispatch_event(&change).unwrap();
}

/// A signed-in inspector and an underground coal mine with an inspection under way.
pub(crate) async fn day_under_way() -> (User, Inspection) {
    let db = state::db().await.expect("database");
    let user = fixtures::inspector("inspector-test", "李明", "15001", None);
    fixtures::sign_in(&user).await;
    // The packs a login downloads (the app carries none of its own).
    db.put_packs(packs::all()).await.expect("packs");
    let mut enterprise = fixtures::enterprise();
    enterprise.subsectors = vec![Subsector::CoalUnderground];
    // The inspection (and its findings) belong to the inspector's own team.
    enterprise.org_id = user.org_id;
    db.put_enterprises(std::slice::from_ref(&enterprise))
        .await
        .expect("enterprise");
    let mut inspection = fixtures::inspection(&enterprise);
    inspection.created_by = user.id;
    inspection.packs = vec![packs::latest("coal-underground").unwrap().pack_ref()];
    db.save_inspection(&inspection).await.expect("inspection");
    (user, inspection)
}

/// Mounts the app at `path` into a fresh element; dropping the handle closes it.
pub(crate) fn open_app(path: &str) -> impl Drop + use<> {
    web_sys::window()
        .unwrap()
        .history()
        .unwrap()
        .push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))
        .unwrap();
    let host: HtmlElement = document()
        .create_element("div")
        .unwrap()
        .dyn_into()
        .unwrap();
    document().body().unwrap().append_child(&host).unwrap();
    leptos::mount::mount_to(host, App)
}

#[wasm_bindgen_test]
async fn the_finding_editor_shows_the_core_rules_and_saves_each_change() {
    let (_, inspection) = day_under_way().await;
    let pack = packs::latest("coal-underground").unwrap();
    let item = pack
        .items
        .iter()
        .find(|i| i.major && i.clause.is_some())
        .expect("a major item");
    let app = open_app(&Page::NewFinding(inspection.id, Some(item.id.clone())).path());

    // Pre-filled from the major item, and the rules a 重大 finding must meet are shown at once.
    let major = find("[data-testid=level-major]").await;
    assert_eq!(major.get_attribute("aria-pressed").as_deref(), Some("true"));
    wait_text("重大隐患至少需要一张照片", true).await;
    wait_text("请填写隐患所在部位或场所", true).await;
    wait_text("限期整改须填写整改期限", true).await;
    let basis: web_sys::HtmlTextAreaElement = find("[data-testid=finding-legal_basis]")
        .await
        .dyn_into()
        .unwrap();
    assert!(basis.value().contains(&pack.standard.name));

    // One change: the finding is written, linked to its item, and queued for sync.
    type_into(
        &find("[data-testid=finding-place]").await,
        "1201 综采工作面",
    );
    find("[data-testid=saved]").await;
    wait_text("请填写隐患所在部位或场所", false).await;
    let db = state::db().await.unwrap();
    let findings = db.findings_of_inspection(inspection.id).await.unwrap();
    assert_eq!(findings.len(), 1, "one change makes exactly one finding");
    let finding = &findings[0];
    assert_eq!(finding.place, "1201 综采工作面");
    assert_eq!(finding.level, Level::Major);
    assert_eq!(finding.status, FindingStatus::Draft);
    let stored = db.inspection(inspection.id).await.unwrap().unwrap();
    let answer = stored
        .item_results
        .iter()
        .find(|r| r.item_id == item.id)
        .expect("the item is answered");
    assert_eq!(answer.outcome, Outcome::NonCompliant);
    assert_eq!(answer.finding_ids, vec![finding.id]);
    let queued = db.outbox(u32::MAX).await.unwrap();
    assert!(
        queued.iter().any(|r| r.mutation.entity_id == finding.id.0
            && r.mutation.kind == MutationKind::FindingSave)
    );

    // A measure the level forbids is refused in words, and kept visible until changed.
    type_into(
        &find("[data-testid=finding-measure]").await,
        Measure::Immediate.label_zh(),
    );
    wait_text("重大隐患须停产停业或限期治理，不能选择立即整改", true).await;
    let deadline = (Utc::now() + Days::days(10)).format("%Y-%m-%d").to_string();
    type_into(
        &find("[data-testid=finding-measure]").await,
        Measure::Deadline.label_zh(),
    );
    type_into(&find("[data-testid=finding-deadline]").await, &deadline);
    wait_text("限期整改须填写整改期限", false).await;
    sleep(200).await;
    let saved = db.finding(finding.id).await.unwrap().unwrap();
    assert_eq!(saved.measure, Measure::Deadline);
    assert_eq!(
        saved.deadline.map(|d| d.format("%Y-%m-%d").to_string()),
        Some(deadline)
    );

    // Typing alone, without leaving the field, is saved after a short pause.
    let description: web_sys::HtmlTextAreaElement = find("[data-testid=finding-description]")
        .await
        .dyn_into()
        .unwrap();
    description.set_value("瓦斯超限仍在作业");
    description
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    let mut stored = String::new();
    for _ in 0..60 {
        sleep(50).await;
        stored = db.finding(finding.id).await.unwrap().unwrap().description;
        if stored == "瓦斯超限仍在作业" {
            break;
        }
    }
    assert_eq!(
        stored, "瓦斯超限仍在作业",
        "typed text is saved without leaving the field"
    );
    drop(app);
}

#[wasm_bindgen_test]
async fn a_checklist_answer_survives_closing_and_reopening_the_app() {
    let (_, inspection) = day_under_way().await;
    let path = Page::Inspection(inspection.id).path();
    let app = open_app(&path);
    wait_text("已检查 0 /", true).await;
    find("[data-testid=item] [data-testid=answer-ok]")
        .await
        .click();
    wait_text("已检查 1 /", true).await;
    drop(app);

    let db = state::db().await.unwrap();
    let stored = db.inspection(inspection.id).await.unwrap().unwrap();
    assert_eq!(stored.item_results.len(), 1);
    assert_eq!(stored.item_results[0].outcome, Outcome::Compliant);

    let app = open_app(&path);
    wait_text("已检查 1 /", true).await;
    let first = find("[data-testid=item] [data-testid=answer-ok]").await;
    assert_eq!(first.get_attribute("aria-pressed").as_deref(), Some("true"));
    drop(app);
}

#[wasm_bindgen_test]
async fn a_returned_finding_shows_the_leaders_reason_and_can_be_resubmitted() {
    let (user, inspection) = day_under_way().await;
    let db = state::db().await.unwrap();
    let mut finding = fixtures::finding(&inspection, FindingStatus::Returned);
    finding.created_by = user.id;
    finding.history.push(zhicha_core::model::HistoryEntry {
        at: Utc::now(),
        by: UserId::new(),
        action: "return".to_owned(),
        from: FindingStatus::Submitted,
        to: FindingStatus::Returned,
        comment: "部位写得不清楚，请注明巷道名称".to_owned(),
    });
    db.save_finding(&finding, &[]).await.unwrap();
    let app = open_app(&Page::Finding(finding.id).path());
    let reason = find("[data-testid=return-reason]").await;
    assert!(
        reason
            .inner_text()
            .contains("部位写得不清楚，请注明巷道名称")
    );
    wait_text("修改完毕，重新提交审核", true).await;
    let resubmit = find("[data-testid=resubmit]").await;
    resubmit.click();
    wait_text("状态：待审核", true).await;
    let stored = db.finding(finding.id).await.unwrap().unwrap();
    assert_eq!(stored.status, FindingStatus::Submitted);
    assert!(
        db.outbox(u32::MAX)
            .await
            .unwrap()
            .iter()
            .any(|r| r.mutation.entity_id == finding.id.0
                && r.mutation.kind == MutationKind::FindingSubmit)
    );
    assert!(
        document()
            .query_selector("[data-testid=return-reason]")
            .unwrap()
            .is_none()
    );
    drop(app);
}
