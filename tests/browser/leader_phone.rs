//! Leaders on phones: the ledger's and the statistics' filters folded behind one button that
//! says how many filters apply, the data and the exports outside the fold.

use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{HtmlElement, HtmlSelectElement};
use zhicha::components::filter_fold::{fold_label, wide_screen};
use zhicha::pages::Page;
use zhicha::state;
use zhicha_core::model::Role;

use crate::fixtures;
use crate::screens::{find, open_app, sleep};

fn is_open(fold: &HtmlElement) -> bool {
    fold.has_attribute("open")
}

/// Polls until `el`'s text is `text`, for up to 5 s.
async fn wait_inner_text(el: &HtmlElement, text: &str) {
    for _ in 0..100 {
        if el.inner_text() == text {
            return;
        }
        sleep(50).await;
    }
    assert_eq!(el.inner_text(), text);
}

#[wasm_bindgen_test]
async fn the_ledger_filters_fold_behind_one_button_that_counts_them() {
    let mut leader = fixtures::inspector("fold-leader", "赵志刚", "15062100", None);
    leader.role = Role::Leader;
    fixtures::sign_in(&leader).await;

    let app = open_app(&Page::Ledger.path());
    let fold = find("[data-testid=filter-fold]").await;
    let toggle = find("[data-testid=filter-toggle]").await;
    assert_eq!(toggle.inner_text(), fold_label(0));
    assert_eq!(fold_label(0), "筛选条件（全部）");
    // Folded on a phone, open on a wide screen.
    assert_eq!(is_open(&fold), wide_screen());
    // The exports are outside the fold: reachable without opening it.
    let export = find(".export-actions button").await;
    assert!(!fold.contains(Some(&export)), "export inside the fold");

    if !is_open(&fold) {
        toggle.click();
        for _ in 0..50 {
            if is_open(&fold) {
                break;
            }
            sleep(20).await;
        }
    }
    assert!(is_open(&fold), "the button opens the filters");
    let status: HtmlSelectElement = find("select[name=status]").await.unchecked_into();
    assert!(
        fold.contains(Some(&status)),
        "the filters are inside the fold"
    );
    status.set_value("returned");
    status
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    let overdue = find("input[name=overdue]").await;
    overdue.click();
    // Applied only by 查询: the button counts what is applied, not what is typed.
    assert_eq!(toggle.inner_text(), fold_label(0));
    find(".filter-fold button[type=submit]").await.click();
    wait_inner_text(&toggle, "筛选条件（已选 2 项）").await;
    drop(app);

    let app = open_app(&Page::Stats.path());
    let toggle = find("[data-testid=filter-toggle]").await;
    assert_eq!(toggle.inner_text(), fold_label(0));
    let export = find("[data-testid=stats-export]").await;
    let fold = find("[data-testid=filter-fold]").await;
    assert!(!fold.contains(Some(&export)), "export inside the fold");
    drop(app);
    state::db().await.unwrap().clear_session().await.unwrap();
}
