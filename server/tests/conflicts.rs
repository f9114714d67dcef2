//! The one conflict rule (`zhicha_core::push::is_conflict`) as the server applies it, and the
//! shared-phone login rule (`push::holds_unsynced`), on SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use common::{Backend, Device, TestApp, assert_applied, recorded};
use serde_json::json;
use zhicha_core::ids::DeviceId;
use zhicha_core::model::Finding;
use zhicha_core::revision::RevisionsResponse;

on_both_backends!(
    one_device_editing_its_own_record_offline_several_times_is_not_a_conflict,
    two_devices_editing_from_the_same_revision_conflict_once,
    a_login_as_another_user_on_a_phone_holding_unsynced_work_is_refused,
);

async fn history(t: &TestApp, leader: &Device, finding: &Finding) -> RevisionsResponse {
    let reply = t
        .get(
            &format!("/api/v1/findings/{}/revisions", finding.id),
            &leader.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    serde_json::from_slice(&reply.body).unwrap()
}

/// Regression: the app stamps each queued edit with the last revision it had pulled, so the
/// second offline edit of a record (no revision yet, or an older one) was flagged as a conflict
/// although the only writer was the same phone.
async fn one_device_editing_its_own_record_offline_several_times_is_not_a_conflict(
    backend: Backend,
) {
    let t = TestApp::start(backend).await;
    let phone = t.login("inspector1").await;
    let leader = t.login("leader1").await;
    let (_, finding) = recorded(&t, &phone).await;
    // Three more edits made offline: the first two before the phone had heard of rev 1, the
    // third based on rev 1 while the server is already at rev 3.
    let mut edits = Vec::new();
    for (n, base) in [None, None, Some(1)].into_iter().enumerate() {
        let mut edited = finding.clone();
        edited.description = format!("安全出口被货物堵塞（第 {} 次补充）", n + 1);
        edits.push(phone.save_finding(&edited, base));
    }
    assert_applied(&t.push(&phone, &edits).await);
    let history = history(&t, &leader, &finding).await;
    assert_eq!(history.rev, 4);
    assert!(!history.flagged, "{history:?}");
    assert!(
        history
            .revisions
            .iter()
            .all(|r| !r.conflict && r.reason == "edit")
    );
    t.finish().await;
}

async fn two_devices_editing_from_the_same_revision_conflict_once(backend: Backend) {
    let t = TestApp::start(backend).await;
    let phone = t.login("inspector1").await;
    let tablet = t.login("inspector2").await;
    let leader = t.login("leader1").await;
    let (_, finding) = recorded(&t, &phone).await;
    let mut mine = finding.clone();
    mine.description = "手机上的修改".to_owned();
    assert_applied(&t.push(&phone, &[phone.save_finding(&mine, Some(1))]).await);
    // The tablet edits from rev 1 too, twice before it hears back.
    let mut theirs = finding.clone();
    theirs.place = "平板上的修改".to_owned();
    let first = tablet.save_finding(&theirs, Some(1));
    theirs.place = "平板上的第二次修改".to_owned();
    let second = tablet.save_finding(&theirs, Some(1));
    assert_applied(&t.push(&tablet, &[first, second]).await);
    let history = history(&t, &leader, &finding).await;
    assert!(history.flagged);
    let conflicts: Vec<u64> = history
        .revisions
        .iter()
        .filter(|r| r.conflict)
        .map(|r| r.rev)
        .collect();
    // Rev 2 (the phone's) was replaced by the tablet's stale edit: a conflict. Rev 3 (the
    // tablet's own) was replaced by its second edit: not one.
    assert_eq!(conflicts, [2], "{history:?}");
    t.finish().await;
}

async fn login(t: &TestApp, username: &str, device: DeviceId, next_seq: u64) -> common::Reply {
    t.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({
            "username": username,
            "password": zhicha_server::operator::seed::DEMO_PASSWORD,
            "device_id": device,
            "next_seq": next_seq,
        })),
    )
    .await
}

/// Regression: on a shared phone a second user could log in over the first user's unsynced
/// work, which was then pushed under the second user's token.
async fn a_login_as_another_user_on_a_phone_holding_unsynced_work_is_refused(backend: Backend) {
    let t = TestApp::start(backend).await;
    let phone = t.login("inspector1").await;
    recorded(&t, &phone).await; // seqs 1 and 2 applied
    // The phone holds seq 3 and 4, not yet pushed.
    let refused = login(&t, "inspector2", phone.device_id, 5).await;
    refused.assert_error(StatusCode::CONFLICT, "conflict");
    // The same user may always log in again.
    assert_eq!(
        login(&t, "inspector1", phone.device_id, 5).await.status,
        StatusCode::OK
    );
    // With everything applied, another user may.
    assert_eq!(
        login(&t, "inspector2", phone.device_id, 3).await.status,
        StatusCode::OK
    );
    // An app that does not say (older version) is not refused.
    let old = t
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({
                "username": "inspector3",
                "password": zhicha_server::operator::seed::DEMO_PASSWORD,
                "device_id": phone.device_id,
            })),
        )
        .await;
    assert_eq!(old.status, StatusCode::OK);
    t.finish().await;
}
