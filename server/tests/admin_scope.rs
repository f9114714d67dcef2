//! An admin manages his own bureau, on SQLite and PostgreSQL: in a region with two bureaus on
//! one server, the second bureau's admin neither sees nor writes the first bureau's records; the
//! first bureau's admin does; a superuser made from the command line sees both.

mod common;

use axum::http::StatusCode;
use common::{Backend, TestApp, assert_applied};
use zhicha_core::ids::{OrgId, UserId};
use zhicha_core::model::{OrgUnit, Role, User};
use zhicha_core::protocol::AckStatus;

on_both_backends!(an_admin_sees_and_writes_only_his_own_bureau);

/// A second bureau at the root of the tree with one team and an admin; returns the team's id.
async fn second_bureau(t: &TestApp) -> OrgId {
    let bureau = OrgUnit {
        id: OrgId::new(),
        parent_id: None,
        name: "杭锦旗应急管理局".into(),
        doc_code: "杭旗应急".into(),
        region: "杭锦旗".into(),
        review_authority: String::new(),
        court: String::new(),
    };
    let team = OrgUnit {
        id: OrgId::new(),
        parent_id: Some(bureau.id),
        name: "杭锦旗执法一中队".into(),
        doc_code: "杭旗应急".into(),
        region: "杭锦旗".into(),
        review_authority: String::new(),
        court: String::new(),
    };
    t.state.store.insert_org(&bureau).await.unwrap();
    t.state.store.insert_org(&team).await.unwrap();
    let hash = t
        .state
        .passwords
        .hash(zhicha_server::operator::seed::DEMO_PASSWORD)
        .await
        .unwrap();
    let admin = User {
        id: UserId::new(),
        username: "hangjin-admin".into(),
        display_name: "杭锦旗管理员".into(),
        role: Role::Admin,
        org_id: bureau.id,
        certificate_no: None,
    };
    assert!(t.state.store.insert_user(&admin, &hash).await.unwrap());
    team.id
}

async fn an_admin_sees_and_writes_only_his_own_bureau(backend: Backend) {
    let t = TestApp::start(backend).await;
    let other_team = second_bureau(&t).await;
    let inspector = t.login("inspector1").await;
    let inspection = inspector.inspection(t.some_enterprise(&inspector).await);
    let finding = inspector.finding(&inspection);
    assert_applied(
        &t.push(
            &inspector,
            &[
                inspector.save_inspection(&inspection, None),
                inspector.save_finding(&finding, None),
            ],
        )
        .await,
    );
    // A draft is not in the ledger yet; who may read it shows in its revisions and the pull.
    let revisions = format!("/api/v1/findings/{}/revisions", finding.id);
    let pulls_it = |pulled: Vec<serde_json::Value>| {
        pulled
            .iter()
            .any(|c| c["id"] == serde_json::json!(finding.id.to_string()))
    };
    // The demo bureau's own admin sees and reads the finding.
    let own = t.login("admin").await;
    assert_eq!(t.get(&revisions, &own.token).await.status, StatusCode::OK);
    assert!(pulls_it(t.pull_all(&own, 1000).await));

    // The other bureau's admin: not in his lists, pulls, revisions or ledger; cannot write it.
    let stranger = t.login("hangjin-admin").await;
    assert!(
        !pulls_it(t.pull_all(&stranger, 1000).await),
        "pulled another bureau's finding"
    );
    t.get(&revisions, &stranger.token)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    t.get(
        &format!("/api/v1/findings?team={}", inspector.user.org_id),
        &stranger.token,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let mut edited = finding.clone();
    edited.description = "另一旗管理员改写".into();
    let response = t
        .push(&stranger, &[stranger.save_finding(&edited, Some(1))])
        .await;
    assert_eq!(response.acks[0].status, AckStatus::Rejected, "{response:?}");
    assert_eq!(
        response.acks[0].error.as_ref().unwrap().code,
        "forbidden",
        "{response:?}"
    );
    // His own bureau is his: its team's queries answer.
    assert_eq!(
        t.get(
            &format!("/api/v1/findings?team={other_team}"),
            &stranger.token
        )
        .await
        .status,
        StatusCode::OK
    );

    // Made a superuser from the command line, the same admin sees the whole region.
    assert!(
        t.state
            .store
            .set_superuser("hangjin-admin", true)
            .await
            .unwrap()
    );
    assert_eq!(
        t.get(&revisions, &stranger.token).await.status,
        StatusCode::OK
    );
    assert!(pulls_it(t.pull_all(&stranger, 1000).await));
    // Only an admin can be one.
    assert!(
        !t.state
            .store
            .set_superuser("inspector1", true)
            .await
            .unwrap()
    );
    t.finish().await;
}
