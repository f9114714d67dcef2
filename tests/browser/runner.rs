//! The checklist runner over a long list (the underground coal-mine checklist): the group index
//! with each group's count and its jump, 只看未检查, a whole group marked 不涉及 after one
//! confirmation, and the place and the filter kept across a reload.

use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;
use zhicha::pages::Page;
use zhicha::state;
use zhicha::storage::RunnerPlace;
use zhicha_core::fieldwork;
use zhicha_core::model::{Inspection, Outcome, Subsector};
use zhicha_core::packs::{self, ChecklistItem};

use crate::fixtures;
use crate::screens::{document, find, find_all as all, open_app, sleep, wait_text};

/// A group as the runner should list it.
struct Group {
    key: String,
    /// `pack · group`, as the list heads it.
    title: String,
    /// The group's own title, as the index and the bar say it.
    group_title: String,
    pack_title: String,
    items: Vec<ChecklistItem>,
}

/// A signed-in inspector, an underground coal mine and an inspection under way, with the
/// groups of its checklist.
async fn coal_mine_under_way() -> (Inspection, Vec<Group>) {
    let (_, inspection) = crate::screens::day_under_way().await;
    // The subsector `day_under_way` gives its enterprise.
    let walked = fieldwork::items_of(&inspection, packs::all(), &[Subsector::CoalUnderground]);
    let groups = fieldwork::item_groups(&walked)
        .into_iter()
        .map(|g| Group {
            key: g.key,
            title: g.title,
            group_title: g.group_title,
            pack_title: g.pack.title.clone(),
            items: g.items.into_iter().cloned().collect(),
        })
        .collect::<Vec<_>>();
    assert!(groups.len() > 4, "a long checklist of several groups");
    // Each test starts at the top of the page.
    web_sys::window().unwrap().scroll_to_with_x_and_y(0.0, 0.0);
    (inspection, groups)
}

async fn answer(inspection: &Inspection, item_id: &str, outcome: Outcome) -> Inspection {
    let db = state::db().await.unwrap();
    let current = db.inspection(inspection.id).await.unwrap().unwrap();
    let result = fieldwork::answer(&current, item_id, outcome);
    db.save_item_result(inspection.id, &result).await.unwrap()
}

fn section(key: &str) -> HtmlElement {
    document()
        .query_selector(&format!("section[data-group=\"{key}\"]"))
        .unwrap()
        .unwrap_or_else(|| panic!("no group {key}"))
        .dyn_into()
        .unwrap()
}

fn item(id: &str) -> HtmlElement {
    document()
        .query_selector(&format!("[data-item=\"{id}\"]"))
        .unwrap()
        .unwrap_or_else(|| panic!("no item {id}"))
        .dyn_into()
        .unwrap()
}

/// Whether the top of `el` is on screen (the window has been scrolled to it).
fn on_screen(el: &HtmlElement) -> bool {
    let top = el.get_bounding_client_rect().top();
    let height = web_sys::window()
        .unwrap()
        .inner_height()
        .unwrap()
        .as_f64()
        .unwrap();
    (0.0..height).contains(&top)
}

/// Polls for up to 5 s until `check` holds.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..100 {
        if check() {
            return;
        }
        sleep(50).await;
    }
    panic!("{what}: not reached");
}

#[wasm_bindgen_test]
async fn the_index_lists_each_group_with_its_count_and_jumps_to_it() {
    let (inspection, groups) = coal_mine_under_way().await;
    for it in &groups[0].items {
        answer(&inspection, &it.id, Outcome::Compliant).await;
    }
    answer(&inspection, &groups[1].items[0].id, Outcome::NonCompliant).await;
    let app = open_app(&Page::Inspection(inspection.id).path());
    wait_text("已检查", true).await;

    find("[data-testid=index-toggle]").await.click();
    let index = find("[data-testid=group-index]").await;
    eventually("the index opens", || !index.hidden()).await;
    let entries: Vec<HtmlElement> = groups
        .iter()
        .map(|g| {
            document()
                .query_selector(&format!(
                    "[data-testid=index-entry][data-target=\"{}\"]",
                    g.key
                ))
                .unwrap()
                .unwrap_or_else(|| panic!("the index lists {}", g.title))
                .dyn_into()
                .unwrap()
        })
        .collect();
    assert_eq!(
        all("[data-testid=group-index] > li")
            .iter()
            .filter(|li| li
                .query_selector("[data-testid=index-entry]")
                .unwrap()
                .is_some())
            .count(),
        groups.len(),
        "one line per group"
    );
    assert!(
        index.inner_text().contains(&groups[0].pack_title),
        "the pack is named"
    );
    for (entry, group) in entries.iter().zip(&groups) {
        assert!(
            entry.inner_text().contains(&group.group_title),
            "{} lists {}",
            entry.inner_text(),
            group.group_title
        );
    }
    let first = entries[0].inner_text();
    let n = groups[0].items.len();
    assert!(
        first.contains(&format!("✓ {n}/{n}")),
        "done and counted: {first}"
    );
    assert!(
        entries[0].class_list().contains("runner__entry--done"),
        "a finished group is marked"
    );
    let second = entries[1].inner_text();
    assert!(
        second.contains(&format!("1/{}", groups[1].items.len())) && !second.contains('✓'),
        "counted, not done: {second}"
    );

    // Jump to the last group: it comes on screen and becomes the current one.
    let last = groups.last().unwrap();
    let target = entries.last().unwrap();
    assert!(
        !on_screen(&section(&last.key)),
        "the last group starts off screen"
    );
    target.click();
    eventually("the last group is scrolled into view", || {
        on_screen(&section(&last.key))
    })
    .await;
    assert!(web_sys::window().unwrap().scroll_y().unwrap() > 0.0);
    assert!(index.hidden(), "the index closes after the jump");
    assert_eq!(
        target.get_attribute("aria-current").as_deref(),
        Some("true")
    );
    let current = find("[data-testid=current-group]").await.inner_text();
    assert!(
        current.contains(&last.group_title),
        "current group shown: {current}"
    );
    // Still there once the scrolling settled (the jump is not undone by its own scroll).
    sleep(600).await;
    assert!(on_screen(&section(&last.key)));
    assert_eq!(
        target.get_attribute("aria-current").as_deref(),
        Some("true")
    );
    drop(app);
}

#[wasm_bindgen_test]
async fn only_unanswered_hides_answered_items_and_closes_finished_groups() {
    let (inspection, groups) = coal_mine_under_way().await;
    for it in &groups[0].items {
        answer(&inspection, &it.id, Outcome::NotApplicable).await;
    }
    let app = open_app(&Page::Inspection(inspection.id).path());
    wait_text("已检查", true).await;
    let second = &groups[1].items;
    find(&format!(
        "[data-item=\"{}\"] [data-testid=answer-ok]",
        second[0].id
    ))
    .await
    .click();
    wait_text(&format!("已检查 {} /", groups[0].items.len() + 1), true).await;
    assert!(
        !item(&second[0].id).hidden(),
        "shown while the filter is off"
    );

    let toggle = find("[data-testid=only-unanswered]").await;
    toggle.click();
    eventually("answered items hide", || item(&second[0].id).hidden()).await;
    assert_eq!(
        toggle.get_attribute("aria-pressed").as_deref(),
        Some("true")
    );
    assert!(groups[0].items.iter().all(|it| item(&it.id).hidden()));
    assert!(!item(&second[1].id).hidden(), "open items stay");
    let done = section(&groups[0].key)
        .query_selector("[data-testid=group-done]")
        .unwrap()
        .expect("a finished group says so");
    assert!(done.text_content().unwrap().contains("已全部检查"));
    assert!(
        section(&groups[1].key)
            .query_selector("[data-testid=group-done]")
            .unwrap()
            .is_none()
    );

    // Answering under the filter: the item goes, the filter stays.
    find(&format!(
        "[data-item=\"{}\"] [data-testid=answer-ok]",
        second[1].id
    ))
    .await
    .click();
    eventually("the answered item hides", || item(&second[1].id).hidden()).await;
    assert_eq!(
        toggle.get_attribute("aria-pressed").as_deref(),
        Some("true")
    );

    toggle.click();
    eventually("all items back", || !item(&second[1].id).hidden()).await;
    drop(app);
}

#[wasm_bindgen_test]
async fn a_group_is_marked_not_applicable_after_one_confirmation_keeping_its_answers() {
    let (inspection, groups) = coal_mine_under_way().await;
    let group = groups
        .iter()
        .find(|g| g.items.len() >= 3)
        .expect("a group of three items");
    answer(&inspection, &group.items[0].id, Outcome::NonCompliant).await;
    answer(&inspection, &group.items[1].id, Outcome::Compliant).await;
    let app = open_app(&Page::Inspection(inspection.id).path());
    wait_text("已检查 2 /", true).await;

    let ask: HtmlElement = section(&group.key)
        .query_selector("[data-testid=group-na]")
        .unwrap()
        .expect("本组全部不涉及")
        .dyn_into()
        .unwrap();
    assert!(ask.inner_text().contains("本组全部不涉及"));
    ask.click();
    let confirm = find("[data-testid=group-na-confirm]").await;
    let open = group.items.len() - 2;
    assert!(
        confirm.inner_text().contains(&format!("{open} 个未检查项")),
        "{}",
        confirm.inner_text()
    );
    // Nothing is written before the confirmation.
    sleep(200).await;
    let db = state::db().await.unwrap();
    let stored = db.inspection(inspection.id).await.unwrap().unwrap();
    assert_eq!(stored.item_results.len(), 2);

    let yes: HtmlElement = confirm
        .query_selector("[data-testid=group-na-yes]")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    yes.click();
    wait_text(&format!("已检查 {} /", group.items.len()), true).await;
    let stored = db.inspection(inspection.id).await.unwrap().unwrap();
    let outcome = |id: &str| fieldwork::outcome_of(&stored, id);
    assert_eq!(outcome(&group.items[0].id), Some(Outcome::NonCompliant));
    assert_eq!(outcome(&group.items[1].id), Some(Outcome::Compliant));
    assert!(
        group.items[2..]
            .iter()
            .all(|it| outcome(&it.id) == Some(Outcome::NotApplicable))
    );
    assert_eq!(
        stored.item_results.len(),
        group.items.len(),
        "no item of another group"
    );
    assert!(
        db.item_results(inspection.id)
            .await
            .unwrap()
            .iter()
            .filter(|r| r.outcome == Outcome::NotApplicable)
            .count()
            == open,
        "each saved as its own result row"
    );
    assert!(
        document()
            .query_selector("[data-testid=group-na-confirm]")
            .unwrap()
            .is_none()
    );
    let count = section(&group.key)
        .query_selector("[data-testid=group-count]")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap();
    assert!(count.starts_with('✓'), "the group is done: {count}");
    assert!(
        section(&group.key)
            .query_selector("[data-testid=group-na]")
            .unwrap()
            .is_none(),
        "nothing left to mark"
    );
    drop(app);
}

#[wasm_bindgen_test]
async fn a_finished_inspection_offers_no_group_not_applicable() {
    let (mut inspection, groups) = coal_mine_under_way().await;
    inspection.finished_at = Some(inspection.started_at);
    let db = state::db().await.unwrap();
    db.save_inspection(&inspection).await.unwrap();
    let app = open_app(&Page::Inspection(inspection.id).path());
    wait_text("本次检查已结束", true).await;
    find(&format!("section[data-group=\"{}\"]", groups[0].key)).await;
    assert!(
        document()
            .query_selector("[data-testid=group-na]")
            .unwrap()
            .is_none()
    );
    drop(app);
}

#[wasm_bindgen_test]
async fn the_place_and_the_filter_survive_a_reload() {
    let (inspection, groups) = coal_mine_under_way().await;
    let path = Page::Inspection(inspection.id).path();
    let app = open_app(&path);
    wait_text("已检查 0 /", true).await;
    let target = &groups[groups.len() - 2];
    find("[data-testid=index-toggle]").await.click();
    let entry: HtmlElement = find(&format!(
        "[data-testid=index-entry][data-target=\"{}\"]",
        target.key
    ))
    .await;
    entry.click();
    eventually("jumped", || on_screen(&section(&target.key))).await;
    find("[data-testid=only-unanswered]").await.click();
    let db = state::db().await.unwrap();
    let wanted = RunnerPlace {
        group: Some(target.key.clone()),
        only_unanswered: true,
    };
    let mut kept = RunnerPlace::default();
    for _ in 0..100 {
        kept = db.runner_place(inspection.id).await.unwrap();
        if kept == wanted {
            break;
        }
        sleep(50).await;
    }
    assert_eq!(kept, wanted, "the place is kept on the device");
    drop(app);

    // Reopened on the same database: back at the same group with the filter on.
    let window = web_sys::window().unwrap();
    window.scroll_to_with_x_and_y(0.0, 0.0);
    let app = open_app(&path);
    let toggle = find("[data-testid=only-unanswered]").await;
    assert_eq!(
        toggle.get_attribute("aria-pressed").as_deref(),
        Some("true")
    );
    eventually("back at the group", || {
        window.scroll_y().unwrap() > 0.0 && on_screen(&section(&target.key))
    })
    .await;
    let current = find("[data-testid=current-group]").await.inner_text();
    assert!(
        current.contains(&target.group_title),
        "current group: {current}"
    );
    sleep(600).await;
    assert!(on_screen(&section(&target.key)), "and stays there");
    drop(app);
}

#[wasm_bindgen_test]
async fn a_group_marked_not_applicable_is_one_write_that_keeps_answers_made_meanwhile() {
    let t = fixtures::fresh_db("group-na").await;
    let visit = fixtures::inspection(&fixtures::enterprise());
    t.db.save_inspection(&visit).await.unwrap();
    let answer = |item: &str, outcome| zhicha_core::model::ItemResult {
        item_id: item.to_owned(),
        outcome,
        finding_ids: vec![],
        note: String::new(),
    };
    // Answered 符合 on another screen after the group's list was read.
    t.db.save_item_result(visit.id, &answer("g-1", Outcome::Compliant))
        .await
        .unwrap();
    let queued = t.db.outbox(100).await.unwrap().len();
    let saved =
        t.db.save_item_results(
            visit.id,
            &[
                answer("g-1", Outcome::NotApplicable),
                answer("g-2", Outcome::NotApplicable),
                answer("g-3", Outcome::NotApplicable),
            ],
            true,
        )
        .await
        .unwrap();
    let outcome = |id: &str| fieldwork::outcome_of(&saved, id);
    assert_eq!(
        outcome("g-1"),
        Some(Outcome::Compliant),
        "an answer is never overwritten"
    );
    assert_eq!(outcome("g-2"), Some(Outcome::NotApplicable));
    assert_eq!(outcome("g-3"), Some(Outcome::NotApplicable));
    let stored = t.db.inspection(visit.id).await.unwrap().unwrap();
    assert_eq!(stored.item_results, saved.item_results);
    assert_eq!(t.db.item_results(visit.id).await.unwrap().len(), 3);
    // The inspection's pending save is one entry, not one per item.
    assert_eq!(t.db.outbox(100).await.unwrap().len(), queued);
    fixtures::drop_db(t).await;
}
