//! GB 35181 composite judgement on the inspector's screens: the venue category asked at the
//! start when the fire pack is chosen, the composite elements counted as they are answered
//! 不符合, and the 重大火灾隐患 finding proposed at the rule's threshold.

use chrono::Utc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{HtmlElement, HtmlInputElement};
use zhicha::pages::Page;
use zhicha::state;

use zhicha_core::model::{Enterprise, FireVenue, ItemResult, Level, Outcome, Sector, User};
use zhicha_core::packs;

use crate::fixtures;
use crate::screens::{document, find, open_app, sleep, type_into, wait_text};

/// A signed-in inspector with a colleague, the packs, and a shopping mall of his team.
async fn mall() -> (User, Enterprise) {
    let db = state::db().await.expect("database");
    let user = fixtures::inspector("fire-inspector", "赵刚", "15063101", None);
    let colleague = fixtures::inspector("fire-colleague", "钱敏", "15063102", Some(user.org_id));
    fixtures::sign_in(&user).await;
    db.put_packs(packs::all()).await.expect("packs");
    db.put_roster(&[user.clone(), colleague])
        .await
        .expect("roster");
    let mut enterprise = fixtures::enterprise();
    enterprise.name = "达拉特旗万家购物广场".to_owned();
    enterprise.sectors = vec![Sector::Fire];
    enterprise.subsectors = vec![];
    enterprise.org_id = user.org_id;
    db.put_enterprises(std::slice::from_ref(&enterprise))
        .await
        .expect("enterprise");
    (user, enterprise)
}

/// Ticks the checkbox of the label under `scope` whose text contains `text`.
async fn tick(scope: &str, text: &str) {
    find(scope).await;
    for n in 1..=30 {
        let Some(label) = document()
            .query_selector(&format!("{scope} label:nth-of-type({n})"))
            .unwrap()
        else {
            break;
        };
        let label: HtmlElement = label.dyn_into().unwrap();
        if label.inner_text().contains(text) {
            let input: HtmlInputElement = label
                .query_selector("input")
                .unwrap()
                .unwrap()
                .dyn_into()
                .unwrap();
            input.click();
            return;
        }
    }
    panic!("no label {text:?} in {scope}");
}

#[wasm_bindgen_test]
async fn the_start_asks_the_venue_when_the_fire_pack_is_chosen() {
    let (_, enterprise) = mall().await;
    let app = open_app(&Page::StartInspection(enterprise.id).path());
    // The fire pack is pre-selected for a fire venue, so the categories are asked.
    find("[data-testid=fire-venues]").await;
    wait_text("人员密集场所", true).await;
    tick("[data-testid=co-inspectors]", "钱敏").await;
    // Wait for the position fix to settle (headless: refused, so a reason is asked).
    for _ in 0..200 {
        if document()
            .query_selector("[data-testid=fix-note]")
            .unwrap()
            .is_some()
            || document().body().unwrap().inner_text().contains("已定位")
        {
            break;
        }
        sleep(50).await;
    }
    if let Some(note) = document().query_selector("[data-testid=fix-note]").unwrap() {
        // The reason field listens to `input`.
        let note: HtmlInputElement = note.dyn_into().unwrap();
        note.set_value("室内无定位信号");
        note.dispatch_event(&web_sys::Event::new("input").unwrap())
            .unwrap();
    }
    // 扫码入企 has no camera here: the reason, and the 四不两直 approval.
    crate::tasks::fill_entry(true).await;
    find("[data-testid=start]").await.click();
    wait_text("使用消防检查表须选择场所类别", true).await;
    tick("[data-testid=fire-venues]", "人员密集场所").await;
    find("[data-testid=start]").await.click();
    // Started: the runner counts composite elements for the chosen venue.
    find("[data-testid=composite]").await;
    wait_text("场所类别：人员密集场所", true).await;
    drop(app);
}

#[wasm_bindgen_test]
async fn three_composite_elements_at_a_crowded_venue_propose_a_major_fire_hazard() {
    let (user, enterprise) = mall().await;
    let db = state::db().await.unwrap();
    let fire = packs::in_force_in(
        packs::all(),
        "fire",
        zhicha_core::time::china_date(Utc::now()),
    )
    .unwrap();
    let mut inspection = fixtures::inspection(&enterprise);
    inspection.created_by = user.id;
    inspection.org_id = user.org_id;
    inspection.packs = vec![fire.pack_ref()];
    inspection.fire_venues = vec![FireVenue::Crowded];
    // Two elements of the crowded-venue rule already answered 不符合.
    inspection.item_results = ["fire-7-3-1", "fire-7-5"]
        .into_iter()
        .map(|id| ItemResult {
            item_id: id.to_owned(),
            outcome: Outcome::NonCompliant,
            finding_ids: vec![],
            note: String::new(),
        })
        .collect();
    db.save_inspection(&inspection).await.unwrap();

    let runner = Page::Inspection(inspection.id).path();
    let app = open_app(&runner);
    wait_text("已发现 2 项，阈值 3 项", true).await;
    assert!(
        document()
            .query_selector("[data-testid=composite-proposal]")
            .unwrap()
            .is_none(),
        "two elements do not reach the threshold"
    );
    // The third element: 7.9.3, answered 不符合 (the editor opens for its own finding).
    find("[data-item=fire-7-9-3] [data-testid=answer-bad]")
        .await
        .click();
    for _ in 0..200 {
        let stored = db.inspection(inspection.id).await.unwrap().unwrap();
        if stored.item_results.len() == 3 {
            break;
        }
        sleep(50).await;
    }
    drop(app);

    let app = open_app(&runner);
    find("[data-testid=composite-proposal]").await;
    wait_text("已发现 3 项，阈值 3 项", true).await;
    let record = find("[data-testid=composite-record]").await;
    let editor = Page::NewFinding(inspection.id, Some("fire-crowded-3".to_owned())).path();
    assert_eq!(
        record.get_attribute("href").as_deref(),
        Some(editor.as_str())
    );
    drop(app);
    let app = open_app(&editor);
    let description = find("[data-testid=finding-description]").await;
    let text = description
        .dyn_ref::<web_sys::HtmlTextAreaElement>()
        .map(|a| a.value())
        .or_else(|| description.dyn_ref::<HtmlInputElement>().map(|i| i.value()))
        .unwrap();
    assert!(
        text.starts_with("人员密集场所存在综合判定要素3项"),
        "{text}"
    );
    assert!(
        text.contains("7.3.1") && text.contains("7.5") && text.contains("7.9.3"),
        "{text}"
    );
    let major = find("[data-testid=level-major]").await;
    assert_eq!(major.get_attribute("aria-pressed").as_deref(), Some("true"));
    type_into(&find("[data-testid=finding-place]").await, "三层中庭");
    find("[data-testid=saved]").await;
    drop(app);

    let stored = db.findings_of_inspection(inspection.id).await.unwrap();
    let composite = stored
        .iter()
        .find(|f| f.item_id.as_deref() == Some("fire-crowded-3"))
        .expect("the proposed finding is stored");
    assert_eq!(composite.level, Level::Major);
    assert!(composite.legal_basis.contains("综合判定"));
    // The rule is not an item: the answers stay as they were.
    let again = db.inspection(inspection.id).await.unwrap().unwrap();
    assert!(
        again
            .item_results
            .iter()
            .all(|r| r.item_id != "fire-crowded-3")
    );

    // Recorded once: no longer proposed.
    let app = open_app(&runner);
    wait_text("已记录重大火灾隐患", true).await;
    assert!(
        document()
            .query_selector("[data-testid=composite-proposal]")
            .unwrap()
            .is_none()
    );
    drop(app);
}
