//! Push and pull on SQLite and PostgreSQL: idempotent replay, seq gaps, rejections that still
//! advance the seq, the finding lifecycle over push, org scope, and pull under concurrent pushes.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::{Backend, TestApp};
use serde_json::json;
use uuid::Uuid;
use zhicha_core::ids::{EnterpriseId, MutationId, PhotoHash, UserId};
use zhicha_core::ledger::{FindingsPage, FindingsQuery, LedgerRow};
use zhicha_core::model::{Enterprise, FindingStatus, PhotoMeta, PhotoOwner, PhotoRole};
use zhicha_core::protocol::{
    AckStatus, CommentPayload, EntityKind, Mutation, MutationKind, MutationPayload, ReturnPayload,
};

on_both_backends!(
    a_replayed_push_returns_the_stored_acks_and_applies_nothing_twice,
    a_seq_gap_is_answered_with_the_expected_seq,
    a_rejected_mutation_advances_the_seq,
    the_lifecycle_runs_over_push_with_role_rules,
    an_edit_after_review_is_kept_and_goes_back_to_review,
    pull_is_scoped_to_the_users_team_or_subtree,
    pull_pages_by_cursor,
    pull_never_skips_a_change_while_others_push_concurrently,
    a_token_of_another_device_cannot_push,
    an_incomplete_finding_cannot_be_submitted,
    writes_outside_the_users_scope_are_rejected,
    concurrent_writers_of_one_finding_queue_and_every_version_is_kept,
    a_batch_is_applied_mutation_by_mutation_in_one_commit,
    a_batch_mixing_replays_rejections_and_new_mutations_acks_each_on_its_own,
    a_record_written_several_times_in_one_batch_keeps_every_version,
    ledger_columns_follow_an_enterprise_saved_in_the_same_batch,
);

async fn a_replayed_push_returns_the_stored_acks_and_applies_nothing_twice(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let inspection = device.inspection(t.some_enterprise(&device).await);
    let finding = device.finding(&inspection);
    let batch = vec![
        device.save_inspection(&inspection, None),
        device.save_finding(&finding, None),
        device.mutation(
            finding.id.0,
            Some(1),
            &MutationPayload::FindingSubmit(CommentPayload::default()),
        ),
    ];
    let first = t.push(&device, &batch).await;
    assert!(first.gap.is_none());
    let statuses: Vec<_> = first.acks.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [AckStatus::Applied; 3], "{first:?}");
    assert_eq!(first.acks[2].rev, Some(2));
    let seq_after_first = t.state.store.last_change_seq().await.unwrap();

    let replay = t.push(&device, &batch).await;
    assert!(replay.gap.is_none());
    for (stored, replayed) in first.acks.iter().zip(&replay.acks) {
        assert_eq!(replayed.mutation_id, stored.mutation_id);
        assert_eq!(replayed.status, AckStatus::Duplicate);
        assert_eq!(replayed.rev, stored.rev);
    }
    assert_eq!(
        t.state.store.last_change_seq().await.unwrap(),
        seq_after_first,
        "replay wrote changes"
    );
    let (rev, stored) = t
        .state
        .store
        .finding(&finding.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rev, 2);
    assert_eq!(stored.status, FindingStatus::Submitted);
    assert_eq!(
        stored.history.len(),
        1,
        "submit applied twice: {:?}",
        stored.history
    );
    t.finish().await;
}

async fn a_seq_gap_is_answered_with_the_expected_seq(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let enterprise = t.some_enterprise(&device).await;
    let one = device.save_inspection(&device.inspection(enterprise), None);
    let two = device.save_inspection(&device.inspection(enterprise), None);
    let three = device.save_inspection(&device.inspection(enterprise), None);
    assert_eq!(
        t.push(&device, std::slice::from_ref(&one)).await.acks[0].status,
        AckStatus::Applied
    );

    // Mutation 2 was lost on the way: 3 alone is a gap, nothing applied.
    let response = t.push(&device, std::slice::from_ref(&three)).await;
    assert!(response.acks.is_empty());
    assert_eq!(response.gap.unwrap().expected, 2);

    // A batch that is contiguous up to a hole: acks up to it, then the gap.
    let mut five = device.save_inspection(&device.inspection(enterprise), None);
    five.seq = 5;
    let response = t.push(&device, &[two.clone(), three.clone(), five]).await;
    assert_eq!(response.acks.len(), 2);
    assert!(response.acks.iter().all(|a| a.status == AckStatus::Applied));
    assert_eq!(response.gap.unwrap().expected, 4);

    // A seq from before, with a new id, is a gap too (the device must resend from the server's).
    let mut stale = device.save_inspection(&device.inspection(enterprise), None);
    stale.seq = 1;
    assert_eq!(t.push(&device, &[stale]).await.gap.unwrap().expected, 4);
    t.finish().await;
}

async fn a_rejected_mutation_advances_the_seq(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let inspection = device.inspection(t.some_enterprise(&device).await);
    // A finding whose inspection the server has never seen, and a payload of the wrong shape.
    let orphan = device.finding(&device.inspection(inspection.enterprise_id));
    let wrong_shape = Mutation {
        mutation_id: MutationId::new(),
        seq: 2,
        kind: MutationKind::FindingReturn,
        entity_id: Uuid::now_v7(),
        base_rev: None,
        payload: json!({ "supervised": "yes" }),
        signature: None,
    };
    let first = device.save_finding(&orphan, None);
    device.seq.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let good = device.save_inspection(&inspection, None);
    let response = t.push(&device, &[first.clone(), wrong_shape, good]).await;
    assert!(response.gap.is_none(), "{response:?}");
    let statuses: Vec<_> = response.acks.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [AckStatus::Rejected, AckStatus::Rejected, AckStatus::Applied]
    );
    assert_eq!(
        response.acks[0].error.as_ref().unwrap().code,
        "inspection_missing"
    );
    assert_eq!(
        response.acks[1].error.as_ref().unwrap().code,
        "invalid_payload"
    );
    assert!(
        t.state
            .store
            .finding(&orphan.id.to_string())
            .await
            .unwrap()
            .is_none()
    );

    // Replaying the rejected one answers the stored rejection, not a gap.
    let replay = t.push(&device, &[first]).await;
    assert!(replay.gap.is_none(), "{replay:?}");
    assert_eq!(replay.acks[0].status, AckStatus::Rejected);
    assert_eq!(
        replay.acks[0].error.as_ref().unwrap().code,
        "inspection_missing"
    );
    t.finish().await;
}

async fn the_lifecycle_runs_over_push_with_role_rules(backend: Backend) {
    let t = TestApp::start(backend).await;
    let inspector = t.login("inspector1").await;
    let leader = t.login("leader1").await;
    let other_team = t.login("inspector3").await;
    let inspection = inspector.inspection(t.some_enterprise(&inspector).await);
    let finding = inspector.finding(&inspection);
    let id = finding.id.0;
    let response = t
        .push(
            &inspector,
            &[
                inspector.save_inspection(&inspection, None),
                inspector.save_finding(&finding, None),
                inspector.mutation(
                    id,
                    Some(1),
                    &MutationPayload::FindingSubmit(CommentPayload::default()),
                ),
                // An inspector may not confirm: rejected, and the queue moves on.
                inspector.mutation(
                    id,
                    Some(2),
                    &MutationPayload::FindingConfirm(CommentPayload::default()),
                ),
            ],
        )
        .await;
    let statuses: Vec<_> = response.acks.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            AckStatus::Applied,
            AckStatus::Applied,
            AckStatus::Applied,
            AckStatus::Rejected
        ]
    );
    assert_eq!(response.acks[3].error.as_ref().unwrap().code, "forbidden");

    // Another team's inspector can neither edit nor review it.
    let response = t
        .push(
            &other_team,
            &[
                other_team.save_finding(&finding, Some(2)),
                other_team.mutation(
                    id,
                    Some(2),
                    &MutationPayload::FindingSubmit(CommentPayload::default()),
                ),
            ],
        )
        .await;
    assert!(
        response
            .acks
            .iter()
            .all(|a| a.status == AckStatus::Rejected),
        "{response:?}"
    );

    // The leader returns it without a reason (rejected), then with one, then it is resubmitted
    // and confirmed.
    let response = t
        .push(
            &leader,
            &[
                leader.mutation(
                    id,
                    Some(2),
                    &MutationPayload::FindingReturn(ReturnPayload {
                        comment: " ".into(),
                    }),
                ),
                leader.mutation(
                    id,
                    Some(2),
                    &MutationPayload::FindingReturn(ReturnPayload {
                        comment: "依据条款不准确".into(),
                    }),
                ),
            ],
        )
        .await;
    assert_eq!(response.acks[0].status, AckStatus::Rejected);
    assert_eq!(response.acks[1].status, AckStatus::Applied);
    let response = t
        .push(
            &inspector,
            &[inspector.mutation(
                id,
                Some(3),
                &MutationPayload::FindingSubmit(CommentPayload::default()),
            )],
        )
        .await;
    assert_eq!(response.acks[0].status, AckStatus::Applied);
    let response = t
        .push(
            &leader,
            &[leader.mutation(
                id,
                Some(4),
                &MutationPayload::FindingConfirm(CommentPayload {
                    comment: "同意".into(),
                }),
            )],
        )
        .await;
    assert_eq!(response.acks[0].status, AckStatus::Applied);
    assert_eq!(response.acks[0].rev, Some(5));
    let (_, stored) = t
        .state
        .store
        .finding(&id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, FindingStatus::Rectifying);
    let actions: Vec<_> = stored.history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["submit", "return", "submit", "confirm"]);
    t.finish().await;
}

async fn an_edit_after_review_is_kept_and_goes_back_to_review(backend: Backend) {
    let t = TestApp::start(backend).await;
    let inspector = t.login("inspector1").await;
    let leader = t.login("leader1").await;
    let inspection = inspector.inspection(t.some_enterprise(&inspector).await);
    let mut finding = inspector.finding(&inspection);
    let id = finding.id.0;
    t.push(
        &inspector,
        &[
            inspector.save_inspection(&inspection, None),
            inspector.save_finding(&finding, None),
            inspector.mutation(
                id,
                Some(1),
                &MutationPayload::FindingSubmit(CommentPayload::default()),
            ),
        ],
    )
    .await;
    let confirmed = t
        .push(
            &leader,
            &[leader.mutation(
                id,
                Some(2),
                &MutationPayload::FindingConfirm(CommentPayload::default()),
            )],
        )
        .await;
    assert_eq!(confirmed.acks[0].rev, Some(3));
    // The inspector edited offline on rev 2, before seeing the confirmation.
    finding.description = "安全出口被货物堵塞，疏散指示标志损坏".to_owned();
    let edit = t
        .push(&inspector, &[inspector.save_finding(&finding, Some(2))])
        .await;
    assert_eq!(edit.acks[0].status, AckStatus::Applied);
    let (rev, stored) = t
        .state
        .store
        .finding(&id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rev, 4);
    assert_eq!(stored.description, finding.description);
    assert_eq!(
        stored.status,
        FindingStatus::Submitted,
        "an edit after review goes back to review"
    );
    assert_eq!(
        t.state
            .store
            .revision_count(EntityKind::Finding, &id.to_string())
            .await
            .unwrap(),
        3,
        "every replaced version is kept"
    );
    t.finish().await;
}

async fn pull_is_scoped_to_the_users_team_or_subtree(backend: Backend) {
    let t = TestApp::start(backend).await;
    let team1 = t.login("inspector1").await;
    let team2 = t.login("inspector3").await;
    let enterprise = t.some_enterprise(&team1).await;
    let i1 = team1.inspection(enterprise);
    let f1 = team1.finding(&i1);
    t.push(
        &team1,
        &[
            team1.save_inspection(&i1, None),
            team1.save_finding(&f1, None),
        ],
    )
    .await;
    let i2 = team2.inspection(enterprise);
    t.push(&team2, &[team2.save_inspection(&i2, None)]).await;

    let ids = |changes: Vec<serde_json::Value>| -> BTreeSet<String> {
        changes
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let seen_by_team2 = ids(t.pull_all(&team2, 100).await);
    assert!(seen_by_team2.contains(&i2.id.to_string()));
    assert!(
        !seen_by_team2.contains(&i1.id.to_string()),
        "inspector3 pulled team 1's inspection"
    );
    assert!(
        !seen_by_team2.contains(&f1.id.to_string()),
        "inspector3 pulled team 1's finding"
    );

    let leader = t.login("leader1").await;
    let seen_by_leader = ids(t.pull_all(&leader, 100).await);
    assert!(seen_by_leader.contains(&f1.id.to_string()));
    assert!(
        !seen_by_leader.contains(&i2.id.to_string()),
        "a team leader sees only their team"
    );

    // A leader at the bureau sees the whole subtree.
    let bureau = t.login("admin").await.user.org_id;
    let chief = zhicha_core::model::User {
        id: zhicha_core::ids::UserId::new(),
        username: "chief".to_owned(),
        display_name: "局领导".to_owned(),
        role: zhicha_core::model::Role::Leader,
        org_id: bureau,
        certificate_no: None,
    };
    let hash = t
        .state
        .passwords
        .hash(zhicha_server::operator::seed::DEMO_PASSWORD)
        .await
        .unwrap();
    assert!(t.state.store.insert_user(&chief, &hash).await.unwrap());
    let chief = t.login("chief").await;
    let seen_by_chief = ids(t.pull_all(&chief, 100).await);
    assert!(
        seen_by_chief.contains(&f1.id.to_string()) && seen_by_chief.contains(&i2.id.to_string())
    );

    let admin = t.login("admin").await;
    let seen_by_admin = ids(t.pull_all(&admin, 100).await);
    assert!(
        seen_by_admin.contains(&f1.id.to_string()) && seen_by_admin.contains(&i2.id.to_string())
    );

    // Direct reads are scoped too.
    let reply = t
        .get(
            &format!("/api/v1/sync/receipt?inspection={}", i1.id),
            &team2.token,
        )
        .await;
    reply.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let bootstrap = t.get("/api/v1/bootstrap", &team2.token).await.json();
    assert!(bootstrap["open_findings"].as_array().unwrap().is_empty());
    let roster: Vec<_> = bootstrap["roster"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(roster, [json!("inspector3")]);
    assert!(!bootstrap["enterprises"].as_array().unwrap().is_empty());
    t.finish().await;
}

async fn pull_pages_by_cursor(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let enterprise = t.some_enterprise(&device).await;
    let batch: Vec<_> = (0..5)
        .map(|_| device.save_inspection(&device.inspection(enterprise), None))
        .collect();
    t.push(&device, &batch).await;
    let first = t
        .get("/api/v1/sync/pull?limit=2", &device.token)
        .await
        .json();
    assert_eq!(first["changes"].as_array().unwrap().len(), 2);
    assert_eq!(first["has_more"], true);
    // The seeded directory comes first (directory changes are pulled too), then the pushes.
    let all = t.pull_all(&device, 2).await;
    let (directory, records): (Vec<_>, Vec<_>) =
        all.iter().partition(|c| c["entity"] == "enterprise");
    assert_eq!(directory.len(), 14);
    assert_eq!(records.len(), 5);
    assert!(all[..14].iter().all(|c| c["entity"] == "enterprise"));
    assert!(
        records
            .iter()
            .all(|c| c["entity"] == "inspection" && c["rev"] == 1 && c["data"]["id"] == c["id"])
    );
    let end = t.pull_all(&device, 1000).await;
    assert_eq!(end, all, "page size does not change what is pulled");
    // From the last cursor there is nothing new.
    let mut cursor = String::new();
    loop {
        let page = t
            .get(
                &format!("/api/v1/sync/pull?cursor={cursor}&limit=1000"),
                &device.token,
            )
            .await
            .json();
        cursor = page["cursor"].as_str().unwrap().to_owned();
        if page["has_more"] == false {
            break;
        }
    }
    let tail = t
        .get(&format!("/api/v1/sync/pull?cursor={cursor}"), &device.token)
        .await
        .json();
    assert_eq!(tail["changes"], json!([]));
    assert_eq!(tail["cursor"], json!(cursor));
    t.get("/api/v1/sync/pull?cursor=garbage", &device.token)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    t.get("/api/v1/sync/pull?limit=many", &device.token)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    t.finish().await;
}

async fn pull_never_skips_a_change_while_others_push_concurrently(backend: Backend) {
    const PUSHERS: usize = 6;
    const BATCHES: usize = 8;
    const PER_BATCH: usize = 10;
    let t = Arc::new(TestApp::start(backend).await);
    let leader = Arc::new(t.login("leader1").await);
    let enterprise = t.some_enterprise(&leader).await;

    let mut pushers = Vec::new();
    for n in 0..PUSHERS {
        let t = Arc::clone(&t);
        pushers.push(tokio::spawn(async move {
            let device = t
                .login(if n % 2 == 0 {
                    "inspector1"
                } else {
                    "inspector2"
                })
                .await;
            let inspection = device.inspection(enterprise);
            t.push(&device, &[device.save_inspection(&inspection, None)])
                .await;
            let mut ids = vec![inspection.id.to_string()];
            for _ in 0..BATCHES {
                let batch: Vec<_> = (0..PER_BATCH)
                    .map(|_| {
                        let finding = device.finding(&inspection);
                        ids.push(finding.id.to_string());
                        device.save_finding(&finding, None)
                    })
                    .collect();
                let response = t.push(&device, &batch).await;
                assert!(
                    response.acks.iter().all(|a| a.status == AckStatus::Applied),
                    "{response:?}"
                );
            }
            ids
        }));
    }

    // A puller keeps pulling small pages while the pushers run, never restarting its cursor.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let puller = {
        let (t, leader, done) = (Arc::clone(&t), Arc::clone(&leader), Arc::clone(&done));
        tokio::spawn(async move {
            let mut seen = BTreeSet::new();
            let mut cursor = String::new();
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let reply = t
                    .get(
                        &format!("/api/v1/sync/pull?cursor={cursor}&limit=7"),
                        &leader.token,
                    )
                    .await;
                assert_eq!(reply.status, StatusCode::OK);
                let page = reply.json();
                for change in page["changes"].as_array().unwrap() {
                    seen.insert(change["id"].as_str().unwrap().to_owned());
                }
                cursor = page["cursor"].as_str().unwrap().to_owned();
                if finished && !page["has_more"].as_bool().unwrap() {
                    return seen;
                }
                if !page["has_more"].as_bool().unwrap() {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let mut written = BTreeSet::new();
    for pusher in pushers {
        written.extend(pusher.await.unwrap());
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = puller.await.unwrap();
    assert_eq!(written.len(), PUSHERS * (1 + BATCHES * PER_BATCH));
    let missed: Vec<_> = written.difference(&seen).collect();
    assert!(
        missed.is_empty(),
        "the puller skipped {} changes: {:?}",
        missed.len(),
        &missed[..missed.len().min(5)]
    );
    match Arc::try_unwrap(t) {
        Ok(t) => t.finish().await,
        Err(_) => panic!("test app still shared"),
    }
}

async fn a_token_of_another_device_cannot_push(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let reply = t
        .call(
            Method::POST,
            "/api/v1/sync/push",
            Some(&device.token),
            Some(json!({ "device_id": Uuid::now_v7(), "mutations": [] })),
        )
        .await;
    reply.assert_error(StatusCode::FORBIDDEN, "forbidden");
    t.finish().await;
}

async fn an_incomplete_finding_cannot_be_submitted(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let inspection = device.inspection(t.some_enterprise(&device).await);
    let mut finding = device.finding(&inspection);
    finding.place = String::new();
    let response = t
        .push(
            &device,
            &[
                device.save_inspection(&inspection, None),
                // An incomplete draft is fine …
                device.save_finding(&finding, None),
                // … but it cannot go to review.
                device.mutation(
                    finding.id.0,
                    Some(1),
                    &MutationPayload::FindingSubmit(CommentPayload::default()),
                ),
            ],
        )
        .await;
    let statuses: Vec<_> = response.acks.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [AckStatus::Applied, AckStatus::Applied, AckStatus::Rejected]
    );
    let error = response.acks[2].error.as_ref().unwrap();
    assert_eq!(
        (error.code.as_str(), error.field.as_deref()),
        ("validation", Some("place"))
    );
    // An inspection with one officer is refused outright.
    let mut alone = device.inspection(inspection.enterprise_id);
    alone.inspectors.truncate(1);
    let response = t
        .push(&device, &[device.save_inspection(&alone, None)])
        .await;
    assert_eq!(
        response.acks[0].error.as_ref().unwrap().field.as_deref(),
        Some("inspectors")
    );
    t.finish().await;
}

async fn writes_outside_the_users_scope_are_rejected(backend: Backend) {
    let t = TestApp::start(backend).await;
    let team1 = t.login("inspector1").await;
    let team2 = t.login("inspector3").await;
    let mut inspection = team1.inspection(t.some_enterprise(&team1).await);
    inspection.org_id = team2.user.org_id;
    let response = t
        .push(&team1, &[team1.save_inspection(&inspection, None)])
        .await;
    assert_eq!(response.acks[0].error.as_ref().unwrap().code, "forbidden");

    // An unlicensed site found on the spot may be added by an inspector and reaches the team;
    // the directory itself is the admin's.
    let bootstrap = t.get("/api/v1/bootstrap", &team1.token).await.json();
    let mut listed: zhicha_core::model::Enterprise =
        serde_json::from_value(bootstrap["enterprises"][0].clone()).unwrap();
    let mut ad_hoc = listed.clone();
    ad_hoc.id = zhicha_core::ids::EnterpriseId::new();
    ad_hoc.name = "无证小作坊（现场发现）".to_owned();
    ad_hoc.credit_code = None;
    ad_hoc.ad_hoc = true;
    let mut duplicate = ad_hoc.clone();
    duplicate.id = zhicha_core::ids::EnterpriseId::new();
    duplicate.credit_code = listed.credit_code.clone();
    listed.name = "改名".to_owned();
    let response = t
        .push(
            &team1,
            &[
                team1.mutation(
                    ad_hoc.id.0,
                    None,
                    &MutationPayload::EnterpriseSave(Box::new(ad_hoc.clone())),
                ),
                team1.mutation(
                    listed.id.0,
                    Some(1),
                    &MutationPayload::EnterpriseSave(Box::new(listed)),
                ),
                team1.mutation(
                    duplicate.id.0,
                    None,
                    &MutationPayload::EnterpriseSave(Box::new(duplicate)),
                ),
            ],
        )
        .await;
    assert_eq!(response.acks[0].status, AckStatus::Applied, "{response:?}");
    assert_eq!(response.acks[1].error.as_ref().unwrap().code, "forbidden");
    assert_eq!(response.acks[2].error.as_ref().unwrap().code, "conflict");
    let teammate = t.login("inspector2").await;
    let pulled = t.pull_all(&teammate, 100).await;
    assert!(
        pulled
            .iter()
            .any(|c| c["entity"] == "enterprise" && c["id"] == json!(ad_hoc.id))
    );
    t.finish().await;
}

async fn concurrent_writers_of_one_finding_queue_and_every_version_is_kept(backend: Backend) {
    const EDITS: usize = 10;
    let t = Arc::new(TestApp::start(backend).await);
    let first = t.login("inspector1").await;
    let inspection = first.inspection(t.some_enterprise(&first).await);
    t.push(&first, &[first.save_inspection(&inspection, None)])
        .await;
    let finding = first.finding(&inspection);
    let devices = [t.login("inspector1").await, t.login("inspector2").await].map(Arc::new);

    // Two devices create the same finding at the same moment: one creates, one updates.
    let mut tasks = Vec::new();
    for device in &devices {
        let (t, device, finding) = (Arc::clone(&t), Arc::clone(device), finding.clone());
        tasks.push(tokio::spawn(async move {
            let mut created = finding.clone();
            created.created_by = device.user.id;
            t.push(&device, &[device.save_finding(&created, None)])
                .await
        }));
    }
    let mut revs = BTreeSet::new();
    for task in tasks {
        let response = task.await.unwrap();
        assert_eq!(response.acks[0].status, AckStatus::Applied, "{response:?}");
        revs.insert(response.acks[0].rev.unwrap());
    }
    assert_eq!(revs, BTreeSet::from([1, 2]));

    // Then both edit it concurrently, one mutation per request.
    let mut tasks = Vec::new();
    for device in &devices {
        let (t, device, finding) = (Arc::clone(&t), Arc::clone(device), finding.clone());
        tasks.push(tokio::spawn(async move {
            let mut revs = Vec::new();
            for n in 0..EDITS {
                let mut edited = finding.clone();
                edited.description = format!("{} 第{n}次修改", device.user.username);
                let response = t
                    .push(&device, &[device.save_finding(&edited, Some(1))])
                    .await;
                assert_eq!(response.acks[0].status, AckStatus::Applied, "{response:?}");
                revs.push(response.acks[0].rev.unwrap());
            }
            revs
        }));
    }
    for task in tasks {
        revs.extend(task.await.unwrap());
    }
    let last = 2 + 2 * EDITS as i64;
    assert_eq!(
        revs,
        (1..=last).collect::<BTreeSet<_>>(),
        "two writes got the same rev"
    );
    let id = finding.id.to_string();
    assert_eq!(t.state.store.finding(&id).await.unwrap().unwrap().0, last);
    assert_eq!(
        t.state
            .store
            .revision_count(EntityKind::Finding, &id)
            .await
            .unwrap(),
        last - 1,
        "every replaced version is kept"
    );
    match Arc::try_unwrap(t) {
        Ok(t) => t.finish().await,
        Err(_) => panic!("test app still shared"),
    }
}

/// A batch commits once, but each mutation still stands on its own: a later one sees an earlier
/// one, a repeat inside the batch is a duplicate, a rejection between applied ones leaves
/// nothing behind, and the change log holds one change per applied record write, in order.
async fn a_batch_is_applied_mutation_by_mutation_in_one_commit(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let inspection = device.inspection(t.some_enterprise(&device).await);
    let finding = device.finding(&inspection);
    let orphan = device.finding(&device.inspection(inspection.enterprise_id));
    let create = device.save_inspection(&inspection, None);
    let save = device.save_finding(&finding, None);
    let before = t.state.store.last_change_seq().await.unwrap();
    let batch = vec![
        create,
        save.clone(),
        save.clone(),
        device.save_finding(&orphan, None),
        device.mutation(
            finding.id.0,
            Some(1),
            &MutationPayload::FindingSubmit(CommentPayload::default()),
        ),
    ];
    let response = t.push(&device, &batch).await;
    assert!(response.gap.is_none(), "{response:?}");
    let statuses: Vec<_> = response.acks.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            AckStatus::Applied,
            AckStatus::Applied,
            AckStatus::Duplicate,
            AckStatus::Rejected,
            AckStatus::Applied
        ],
        "{response:?}"
    );
    assert_eq!(response.acks[2].rev, response.acks[1].rev);
    assert_eq!(response.acks[4].rev, Some(2));
    assert!(
        t.state
            .store
            .finding(&orphan.id.to_string())
            .await
            .unwrap()
            .is_none()
    );
    let (rev, stored) = t
        .state
        .store
        .finding(&finding.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((rev, stored.status), (2, FindingStatus::Submitted));
    // Inspection, finding, submitted finding: three changes, nothing for the duplicate or the
    // rejection.
    assert_eq!(t.state.store.last_change_seq().await.unwrap(), before + 3);

    // The next batch carries on from the seq after the last mutation, the repeat included.
    let next = t
        .push(&device, &[device.save_inspection(&inspection, Some(1))])
        .await;
    assert!(next.gap.is_none(), "{next:?}");
    assert_eq!(next.acks[0].status, AckStatus::Applied);
    assert_eq!(next.acks[0].rev, Some(2));
    t.finish().await;
}

/// Replays (of an applied and of a rejected mutation), new mutations that are applied or
/// rejected, and a repeat inside the batch, all in one batch: each gets the ack it would get
/// alone, and only the applied ones leave anything behind.
async fn a_batch_mixing_replays_rejections_and_new_mutations_acks_each_on_its_own(
    backend: Backend,
) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let inspection = device.inspection(t.some_enterprise(&device).await);
    let first = device.finding(&inspection);
    let orphan = device.finding(&device.inspection(inspection.enterprise_id));
    let create = device.save_inspection(&inspection, None);
    let save_first = device.save_finding(&first, None);
    let save_orphan = device.save_finding(&orphan, None);
    let response = t
        .push(
            &device,
            &[create.clone(), save_first.clone(), save_orphan.clone()],
        )
        .await;
    let statuses: Vec<_> = response.acks.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [AckStatus::Applied, AckStatus::Applied, AckStatus::Rejected],
        "{response:?}"
    );
    let before = t.state.store.last_change_seq().await.unwrap();

    let second = device.finding(&inspection);
    let mut forged = device.finding(&inspection);
    forged.created_by = UserId::new();
    let save_second = device.save_finding(&second, None);
    let batch = vec![
        create,
        save_first,
        save_orphan,
        save_second.clone(),
        device.save_finding(&forged, None),
        device.mutation(
            first.id.0,
            Some(1),
            &MutationPayload::FindingSubmit(CommentPayload::default()),
        ),
        save_second,
    ];
    let response = t.push(&device, &batch).await;
    assert!(response.gap.is_none(), "{response:?}");
    let statuses: Vec<_> = response.acks.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            AckStatus::Duplicate,
            AckStatus::Duplicate,
            AckStatus::Rejected,
            AckStatus::Applied,
            AckStatus::Rejected,
            AckStatus::Applied,
            AckStatus::Duplicate,
        ],
        "{response:?}"
    );
    for (ack, mutation) in response.acks.iter().zip(&batch) {
        assert_eq!(ack.mutation_id, mutation.mutation_id);
    }
    let revs: Vec<_> = response.acks.iter().map(|a| a.rev).collect();
    assert_eq!(
        revs,
        [Some(1), Some(1), None, Some(1), None, Some(2), Some(1)]
    );
    let code = |n: usize| response.acks[n].error.as_ref().map(|e| e.code.clone());
    assert_eq!(code(2).as_deref(), Some("inspection_missing"));
    assert_eq!(code(4).as_deref(), Some("invalid"));
    let store = &t.state.store;
    assert!(
        store
            .finding(&forged.id.to_string())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .finding(&second.id.to_string())
            .await
            .unwrap()
            .unwrap()
            .0,
        1
    );
    let (rev, stored) = store.finding(&first.id.to_string()).await.unwrap().unwrap();
    assert_eq!((rev, stored.status), (2, FindingStatus::Submitted));
    // The new finding and the submit; nothing for the replays and the rejection.
    assert_eq!(store.last_change_seq().await.unwrap(), before + 2);

    // The rejected new mutation advanced the seq like the others.
    let next = t
        .push(&device, &[device.save_inspection(&inspection, Some(1))])
        .await;
    assert!(next.gap.is_none(), "{next:?}");
    assert_eq!(next.acks[0].status, AckStatus::Applied);
    t.finish().await;
}

fn attach(device: &common::Device, hash: &PhotoHash, owner: PhotoOwner, width: u32) -> Mutation {
    let owner_id = match owner {
        PhotoOwner::Finding(id) => id.0,
        PhotoOwner::Inspection(id) => id.0,
    };
    let meta = PhotoMeta {
        hash: hash.clone(),
        owner,
        role: PhotoRole::Evidence,
        bytes: 1000,
        width,
        height: 1200,
        mime: "image/jpeg".into(),
        captured_at: chrono::Utc::now(),
        offset_from_start_s: Some(60),
        location: None,
        no_fix: None,
        clock_offset_ms: None,
    };
    device.mutation(
        owner_id,
        None,
        &MutationPayload::PhotoAttach(Box::new(meta)),
    )
}

/// One batch creating a finding and an inspection and then editing, submitting and saving
/// them again: each write gets the next rev, every replaced version is kept, the record's
/// photo references are those of its last version and a photo attached twice keeps the last
/// metadata.
async fn a_record_written_several_times_in_one_batch_keeps_every_version(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let inspection = device.inspection(t.some_enterprise(&device).await);
    let mut finding = device.finding(&inspection);
    let (one, two) = (PhotoHash::of_bytes(b"one"), PhotoHash::of_bytes(b"two"));
    finding.photos = vec![one.clone()];
    let mut edited = finding.clone();
    edited.description = "安全出口被货物堵塞，已部分清理".to_owned();
    edited.photos = vec![two.clone()];
    let mut moved_on = inspection.clone();
    moved_on.places = "主井口、副井口".to_owned();
    let owner = PhotoOwner::Finding(finding.id);
    let before = t.state.store.last_change_seq().await.unwrap();
    let batch = vec![
        device.save_inspection(&inspection, None),
        device.save_finding(&finding, None),
        device.save_finding(&edited, Some(1)),
        device.mutation(
            finding.id.0,
            Some(2),
            &MutationPayload::FindingSubmit(CommentPayload::default()),
        ),
        device.save_inspection(&moved_on, Some(1)),
        attach(&device, &two, owner.clone(), 1600),
        attach(&device, &two, owner, 800),
    ];
    let response = t.push(&device, &batch).await;
    assert!(
        response.acks.iter().all(|a| a.status == AckStatus::Applied),
        "{response:?}"
    );
    let revs: Vec<_> = response.acks.iter().map(|a| a.rev.unwrap()).collect();
    assert_eq!(revs, [1, 1, 2, 3, 2, 1, 1]);

    let store = &t.state.store;
    let id = finding.id.to_string();
    let (rev, stored) = store.finding(&id).await.unwrap().unwrap();
    assert_eq!((rev, stored.status), (3, FindingStatus::Submitted));
    assert_eq!(stored.description, edited.description);
    assert_eq!(stored.photos, std::slice::from_ref(&two));
    assert_eq!(
        store
            .revision_count(EntityKind::Finding, &id)
            .await
            .unwrap(),
        2
    );
    let (rev, stored) = store
        .inspection(&inspection.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((rev, stored.places.as_str()), (2, "主井口、副井口"));
    assert_eq!(
        store
            .revision_count(EntityKind::Inspection, &inspection.id.to_string())
            .await
            .unwrap(),
        1
    );
    // One change per applied mutation.
    assert_eq!(store.last_change_seq().await.unwrap(), before + 7);

    // The first version's photo is no longer expected.
    let receipt = t
        .get(
            &format!("/api/v1/sync/receipt?inspection={}", inspection.id),
            &device.token,
        )
        .await
        .json();
    assert_eq!(receipt["photos_expected"], json!([two]));

    // A teammate pulls each record once, at its last rev, and the attachment's last metadata.
    let teammate = t.login("inspector2").await;
    let pulled = t.pull_all(&teammate, 100).await;
    let of = |id: String| -> Vec<&serde_json::Value> {
        pulled.iter().filter(|c| c["id"] == json!(id)).collect()
    };
    let finding_changes = of(id.clone());
    let records: Vec<_> = finding_changes
        .iter()
        .filter(|c| c["entity"] == "finding")
        .collect();
    assert_eq!(records.len(), 1, "{finding_changes:?}");
    assert_eq!(records[0]["rev"], 3);
    let photos: Vec<_> = finding_changes
        .iter()
        .filter(|c| c["entity"] == "photo")
        .collect();
    assert_eq!(photos.len(), 1, "{finding_changes:?}");
    assert_eq!(photos[0]["data"]["width"], 800);
    let inspections = of(inspection.id.to_string());
    assert_eq!(inspections.len(), 1, "{inspections:?}");
    assert_eq!(inspections[0]["rev"], 2);
    t.finish().await;
}

async fn ledger_row(
    t: &TestApp,
    token: &str,
    enterprise: EnterpriseId,
    status: FindingStatus,
) -> LedgerRow {
    let query = FindingsQuery {
        enterprise: Some(enterprise),
        status: Some(status),
        ..FindingsQuery::default()
    };
    let reply = t
        .get(
            &format!("/api/v1/findings?{}", query.to_query_string()),
            token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let page: FindingsPage = serde_json::from_value(reply.json()).unwrap();
    assert_eq!(page.rows.len(), 1, "{:?}", page.rows);
    page.rows.into_iter().next().unwrap()
}

/// A finding's ledger columns come from its enterprise as the batch left it: a site found on
/// the spot and saved in the same batch before the finding, then renamed in a later batch
/// after the finding was submitted in it.
async fn ledger_columns_follow_an_enterprise_saved_in_the_same_batch(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let admin = t.login("admin").await;
    let bootstrap = t.get("/api/v1/bootstrap", &device.token).await.json();
    let mut site: Enterprise = serde_json::from_value(bootstrap["enterprises"][0].clone()).unwrap();
    site.id = EnterpriseId::new();
    site.name = "无证加工点（现场发现）".to_owned();
    site.credit_code = None;
    site.ad_hoc = true;
    let save_site = |site: &Enterprise, base_rev| {
        device.mutation(
            site.id.0,
            base_rev,
            &MutationPayload::EnterpriseSave(Box::new(site.clone())),
        )
    };
    let inspection = device.inspection(site.id);
    let finding = device.finding(&inspection);
    let response = t
        .push(
            &device,
            &[
                save_site(&site, None),
                device.save_inspection(&inspection, None),
                device.save_finding(&finding, None),
            ],
        )
        .await;
    assert!(
        response.acks.iter().all(|a| a.status == AckStatus::Applied),
        "{response:?}"
    );
    let row = ledger_row(&t, &admin.token, site.id, FindingStatus::Draft).await;
    assert_eq!(row.id, finding.id);
    assert_eq!(row.enterprise_name, site.name);
    assert_eq!(row.township, site.township);

    let mut renamed = site.clone();
    renamed.name = "某某加工点（已登记字号）".to_owned();
    let response = t
        .push(
            &device,
            &[
                device.mutation(
                    finding.id.0,
                    Some(1),
                    &MutationPayload::FindingSubmit(CommentPayload::default()),
                ),
                save_site(&renamed, Some(1)),
            ],
        )
        .await;
    assert!(
        response.acks.iter().all(|a| a.status == AckStatus::Applied),
        "{response:?}"
    );
    let row = ledger_row(&t, &admin.token, site.id, FindingStatus::Submitted).await;
    assert_eq!(row.enterprise_name, renamed.name);
    assert_eq!(row.rev, 2);
    t.finish().await;
}
