//! The enterprise dossier from the picker and the start screen, offline: the last visit, the open hazards and the
//! history of one enterprise, read from the phone alone.

use chrono::{Duration, Utc};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlInputElement;
use zhicha::pages::Page;
use zhicha::state;
use zhicha_core::model::FindingStatus;

use crate::fixtures;
use crate::screens::{find, open_app, sleep, wait_text};

#[wasm_bindgen_test]
async fn the_picker_opens_an_enterprises_dossier_with_its_last_visit_and_open_hazards() {
    let user = fixtures::inspector("dossier-test", "王建军", "15062101", None);
    fixtures::sign_in(&user).await;
    let db = state::db().await.unwrap();
    let mut enterprise = fixtures::enterprise();
    enterprise.name = "档案测试化工有限公司".to_owned();
    db.save_enterprise(&enterprise).await.unwrap();
    let mut visit = fixtures::inspection(&enterprise);
    visit.started_at = Utc::now() - Duration::days(20);
    visit.finished_at = Some(visit.started_at + Duration::hours(3));
    db.save_inspection(&visit).await.unwrap();
    let mut open = fixtures::finding(&visit, FindingStatus::Rectifying);
    open.description = "储罐区可燃气体报警器失效".to_owned();
    db.create_finding(&open, &[]).await.unwrap();

    let app = open_app(&Page::PickEnterprise.path());
    let search: HtmlInputElement = find("[data-testid=enterprise-search]")
        .await
        .unchecked_into();
    search.set_value("档案测试化工");
    search
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    let mut link = None;
    for _ in 0..100 {
        let candidate = find("[data-testid=enterprise-dossier]").await;
        if candidate.get_attribute("href") == Some(Page::Dossier(enterprise.id).path()) {
            link = Some(candidate);
            break;
        }
        sleep(50).await;
    }
    let link = link.expect("the enterprise's row offers its dossier");
    assert_eq!(link.inner_text(), "档案");
    drop(app);

    // The start screen offers it too, before the inspector goes in.
    let app = open_app(&Page::StartInspection(enterprise.id).path());
    let from_start = find("[data-testid=start-dossier]").await;
    assert_eq!(
        from_start.get_attribute("href"),
        Some(Page::Dossier(enterprise.id).path())
    );
    drop(app);

    // What the links open, with no server at all.
    let app = open_app(&Page::Dossier(enterprise.id).path());
    let last = find("[data-testid=dossier-last-visit]").await;
    let when = zhicha_core::time::minute(visit.started_at);
    for _ in 0..100 {
        if last.inner_text().contains(&when) {
            break;
        }
        sleep(50).await;
    }
    assert!(last.inner_text().contains(&when), "{}", last.inner_text());
    assert!(last.inner_text().contains("李明"), "{}", last.inner_text());
    wait_text("储罐区可燃气体报警器失效", true).await;
    wait_text("未销号隐患（1 条）", true).await;
    drop(app);
}
