//! Storage behind the re-inspection and leader screens: a re-inspection with after-photos is one
//! transaction that queues `finding.reinspect` (never a content edit), and a leader's decision
//! queues its own mutation.

use chrono::Utc;
use wasm_bindgen_test::wasm_bindgen_test;
use zhicha_core::ids::UserId;
use zhicha_core::lifecycle::{self, Actor, FindingAction};
use zhicha_core::model::{FindingStatus, PhotoOwner, PhotoRole, Role};
use zhicha_core::protocol::{
    CommentPayload, MutationKind, MutationPayload, ReinspectPayload, SupervisePayload,
};

use crate::fixtures::{drop_db, enterprise, finding, fresh_db, inspection, photo_of};

fn inspector() -> Actor {
    Actor {
        user_id: UserId::new(),
        role: Role::Inspector,
        same_team: true,
        in_scope: true,
    }
}

#[wasm_bindgen_test]
async fn a_reinspection_stores_after_photos_and_queues_reinspect_then_attach() {
    let t = fresh_db("reinspect").await;
    let visit = inspection(&enterprise());
    let open = finding(&visit, FindingStatus::Rectifying);
    t.db.create_finding(&open, &[]).await.unwrap();
    let queued_before = t.db.outbox(100).await.unwrap().len();

    let mut after = photo_of(&open, "after-rectification");
    after.meta.role = PhotoRole::AfterRectification;
    let hash = after.meta.hash.clone();
    let mut updated = open.clone();
    let action = FindingAction::Reinspect {
        passed: true,
        new_deadline: None,
    };
    lifecycle::apply(&mut updated, &action, &inspector(), Utc::now(), "已整改").unwrap();
    updated.after_photos.push(hash.clone());
    let payload = MutationPayload::FindingReinspect(ReinspectPayload {
        passed: true,
        new_deadline: None,
        inspection_id: None,
        after_photos: vec![hash.clone()],
        comment: "已整改".to_owned(),
    });
    t.db.record_finding_action_with_photos(&updated, &payload, &[after])
        .await
        .unwrap();

    let stored = t.db.finding(open.id).await.unwrap().unwrap();
    assert_eq!(stored.status, FindingStatus::Verified);
    assert_eq!(stored.after_photos, vec![hash.clone()]);
    let photos = t.db.photos_of(&PhotoOwner::Finding(open.id)).await.unwrap();
    assert_eq!(photos.len(), 1);
    assert!(!photos[0].uploaded, "the after-photo waits for upload");
    let kinds: Vec<MutationKind> = t.db.outbox(100).await.unwrap()[queued_before..]
        .iter()
        .map(|r| r.mutation.kind)
        .collect();
    assert_eq!(
        kinds,
        [MutationKind::FindingReinspect, MutationKind::PhotoAttach],
        "a re-inspection is not a content edit (which would send the finding back to review)"
    );
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn a_leader_decision_is_stored_with_its_own_mutation() {
    let t = fresh_db("decision").await;
    let visit = inspection(&enterprise());
    let mut major = finding(&visit, FindingStatus::Submitted);
    major.level = zhicha_core::model::Level::Major;
    t.db.create_finding(&major, &[]).await.unwrap();
    let leader = Actor {
        user_id: UserId::new(),
        role: Role::Leader,
        same_team: false,
        in_scope: true,
    };
    let mut updated = major.clone();
    lifecycle::apply(
        &mut updated,
        &FindingAction::Confirm,
        &leader,
        Utc::now(),
        "",
    )
    .unwrap();
    t.db.record_finding_action(
        &updated,
        &MutationPayload::FindingConfirm(CommentPayload::default()),
    )
    .await
    .unwrap();
    let on = FindingAction::Supervise { on: true };
    lifecycle::apply(&mut updated, &on, &leader, Utc::now(), "").unwrap();
    t.db.record_finding_action(
        &updated,
        &MutationPayload::FindingSupervise(SupervisePayload {
            supervised: true,
            comment: String::new(),
        }),
    )
    .await
    .unwrap();

    let stored = t.db.finding(major.id).await.unwrap().unwrap();
    assert_eq!(stored.status, FindingStatus::Rectifying);
    assert!(stored.supervised);
    let rectifying =
        t.db.findings_with_status(FindingStatus::Rectifying)
            .await
            .unwrap();
    assert_eq!(rectifying.len(), 1, "the board finds it by status");
    let kinds: Vec<MutationKind> = t.db.outbox(100).await.unwrap()[1..]
        .iter()
        .map(|r| r.mutation.kind)
        .collect();
    assert_eq!(
        kinds,
        [MutationKind::FindingConfirm, MutationKind::FindingSupervise]
    );
    drop_db(t).await;
}
