//! Home: today's visits, then unfinished ones, then recently finished ones, a page at a time.

use chrono::{Duration, Utc};
use wasm_bindgen_test::wasm_bindgen_test;
use zhicha::pages::Page;
use zhicha::state;
use zhicha_core::home::HOME_PAGE;

use crate::fixtures;
use crate::screens::{find, find_all as all, open_app, sleep};

/// Polls until `query` matches exactly `count` elements, for up to 10 s.
async fn wait_count(query: &str, count: usize) {
    for _ in 0..200 {
        if all(query).len() == count {
            return;
        }
        sleep(50).await;
    }
    panic!("{query} matched {} elements, not {count}", all(query).len());
}

/// Taps 显示更多 until `count` rows show. The list is drawn again whenever a sync round starts
/// or ends (the app's own sync runs at start), which can take a tapped button away before its
/// click lands: the button is found afresh and tapped again only if nothing changed.
async fn show_more_until(count: usize) {
    let before = all("[data-testid=home-row]").len();
    for _ in 0..5 {
        find("[data-testid=home-more]").await.click();
        for _ in 0..60 {
            let now = all("[data-testid=home-row]").len();
            if now != before {
                assert_eq!(now, count, "one tap shows one more page");
                return;
            }
            sleep(50).await;
        }
    }
    panic!("显示更多 never showed more than {before} rows");
}

#[wasm_bindgen_test]
async fn home_lists_today_then_unfinished_then_recent_a_page_at_a_time() {
    let db = state::db().await.unwrap();
    let mut enterprise = fixtures::enterprise();
    enterprise.name = "首页分页测试煤矿".to_owned();
    db.save_enterprise(&enterprise).await.unwrap();
    let now = Utc::now();
    // Last month's finished visits (more than two pages), two left open last week, one today.
    for days in 0..(2 * HOME_PAGE as i64 + 2) {
        let mut done = fixtures::inspection(&enterprise);
        done.started_at = now - Duration::days(30 + days);
        done.finished_at = Some(done.started_at + Duration::hours(2));
        db.save_inspection(&done).await.unwrap();
    }
    for days in [6, 8] {
        let mut open = fixtures::inspection(&enterprise);
        open.started_at = now - Duration::days(days);
        db.save_inspection(&open).await.unwrap();
    }
    let today = fixtures::inspection(&enterprise);
    db.save_inspection(&today).await.unwrap();
    let total = db.inspections().await.unwrap().len();
    assert!(total > 2 * HOME_PAGE);

    let app = open_app(&Page::Home.path());
    wait_count("[data-testid=home-row]", HOME_PAGE).await;
    let more = find("[data-testid=home-more]").await;
    assert!(
        more.inner_text()
            .contains(&format!("已显示 {HOME_PAGE} / {total} 条")),
        "{}",
        more.inner_text()
    );
    let mut shown = HOME_PAGE;
    while shown < total {
        let next = (shown + HOME_PAGE).min(total);
        show_more_until(next).await;
        shown = next;
    }
    assert!(
        all("[data-testid=home-more]").is_empty(),
        "nothing more to show"
    );

    // Each section is headed once, in the order of the day's work.
    let sections: Vec<String> = all("[data-testid=home-section]")
        .iter()
        .map(|h| h.inner_text())
        .collect();
    assert_eq!(sections, ["今天", "未完成", "最近完成"]);

    // This enterprise's visits: today's first, then the open ones (newest first), then the
    // finished ones, newest first.
    let ours: Vec<String> = all("[data-testid=home-row]")
        .iter()
        .map(|r| r.inner_text())
        .filter(|t| t.contains("首页分页测试煤矿"))
        .collect();
    assert_eq!(ours.len(), 2 * HOME_PAGE + 5);
    let minute = |at| zhicha_core::time::minute(at);
    assert!(ours[0].contains(&minute(today.started_at)), "{}", ours[0]);
    assert!(
        ours[1].contains(&minute(now - Duration::days(6))),
        "{}",
        ours[1]
    );
    assert!(ours[1].contains("进行中") && ours[2].contains("进行中"));
    assert!(
        ours[3].contains(&minute(now - Duration::days(30))),
        "{}",
        ours[3]
    );
    assert!(ours[3..].iter().all(|r| r.contains("已完成")));
    drop(app);
}
