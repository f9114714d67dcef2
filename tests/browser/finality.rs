//! Finished is final on the phone: once an inspection's documents are issued, the finding
//! editor's save path (`steps::save_correction_in`) refuses a content edit without 更正理由 and
//! stores nothing; with a reason it stores the finding with a `Correction` appended (who, why,
//! the fields core names) and queues it. Lifecycle changes and inspections without documents
//! need none.

use chrono::Utc;
use wasm_bindgen_test::wasm_bindgen_test;
use zhicha::steps::save_correction_in;
use zhicha::storage::Session;
use zhicha_core::model::{DocumentKind, Finding, FindingStatus, IssuedDocument, PhotoRole};
use zhicha_core::protocol::MutationKind;

use crate::fixtures::{drop_db, enterprise, finding, fresh_db, inspection, inspector, photo_of};

#[wasm_bindgen_test]
async fn an_edit_after_issue_is_saved_only_as_a_correction_with_a_reason() {
    let t = fresh_db("finality").await;
    let me = inspector("finality", "李明", "15001", None);
    t.db.put_session(&Session {
        token: "test-token".to_owned(),
        expires_at: Utc::now() + chrono::Duration::days(1),
        user: me.clone(),
        device_code: "A1".to_owned(),
    })
    .await
    .unwrap();
    let mut visit = inspection(&enterprise());
    visit.org_id = me.org_id;
    visit.created_by = me.id;
    visit.documents = vec![IssuedDocument {
        kind: DocumentKind::InspectionRecord,
        number: "达旗应急检记〔2026〕A1-1号".to_owned(),
        issued_at: Utc::now(),
        service: None,
    }];
    t.db.save_inspection(&visit).await.unwrap();
    let mut open = finding(&visit, FindingStatus::Submitted);
    open.created_by = me.id;
    t.db.create_finding(&open, &[]).await.unwrap();
    // Synced: the correction is a mutation of its own.
    let outbox = t.db.outbox(100).await.unwrap();
    t.db.mark_sent(&outbox).await.unwrap();

    let mut edited = open.clone();
    edited.description = "瓦斯检查记录缺夜班".to_owned();
    let photo = photo_of(&open, "evidence-after-issue");
    edited.photos.push(photo.meta.hash.clone());

    // No reason: refused with core's message, nothing stored, nothing queued.
    let refused = save_correction_in(
        &t.db,
        &open,
        edited.clone(),
        "  ",
        std::slice::from_ref(&photo),
    )
    .await;
    let message = refused.unwrap_err();
    assert!(message.contains("请填写更正理由"), "{message}");
    let stored = t.db.finding(open.id).await.unwrap().unwrap();
    assert_eq!(stored.description, open.description);
    assert!(stored.corrections.is_empty());
    assert_eq!(t.db.outbox(100).await.unwrap().len(), outbox.len());

    // With a reason: stored with the correction appended, and queued as finding.save.
    let saved = save_correction_in(&t.db, &open, edited, " 描述不准确 ", &[photo])
        .await
        .unwrap();
    let stored = t.db.finding(open.id).await.unwrap().unwrap();
    assert_eq!(stored, saved);
    assert_eq!(stored.description, "瓦斯检查记录缺夜班");
    assert_eq!(stored.corrections.len(), 1);
    let correction = &stored.corrections[0];
    assert_eq!(correction.by, me.id);
    assert_eq!(correction.reason, "描述不准确");
    assert_eq!(
        correction.fields,
        vec!["description".to_owned(), "photos".to_owned()]
    );
    let queued = t.db.outbox(100).await.unwrap();
    let kinds: Vec<MutationKind> = queued[outbox.len()..]
        .iter()
        .map(|r| r.mutation.kind)
        .collect();
    assert_eq!(
        kinds,
        [MutationKind::FindingSave, MutationKind::PhotoAttach]
    );
    let save = &queued[outbox.len()].mutation;
    let payload: Finding = serde_json::from_value(save.payload.clone()).unwrap();
    assert_eq!(payload.corrections, stored.corrections);

    // An after-photo (the lifecycle, not content) needs no reason and adds no correction.
    let mut after = photo_of(&open, "after-rectification");
    after.meta.role = PhotoRole::AfterRectification;
    let mut rectified = stored.clone();
    rectified.after_photos.push(after.meta.hash.clone());
    let saved = save_correction_in(&t.db, &stored, rectified, "", &[after])
        .await
        .unwrap();
    assert_eq!(saved.after_photos.len(), 1);
    assert_eq!(saved.corrections.len(), 1);
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn a_finding_of_an_inspection_without_documents_is_saved_without_a_reason() {
    let t = fresh_db("finality-free").await;
    let me = inspector("finality2", "王强", "15002", None);
    t.db.put_session(&Session {
        token: "test-token".to_owned(),
        expires_at: Utc::now() + chrono::Duration::days(1),
        user: me.clone(),
        device_code: "A1".to_owned(),
    })
    .await
    .unwrap();
    let mut visit = inspection(&enterprise());
    visit.org_id = me.org_id;
    t.db.save_inspection(&visit).await.unwrap();
    let mut draft = finding(&visit, FindingStatus::Draft);
    draft.created_by = me.id;
    t.db.create_finding(&draft, &[]).await.unwrap();
    let mut edited = draft.clone();
    edited.place = "1202 工作面".to_owned();
    let saved = save_correction_in(&t.db, &draft, edited, "", &[])
        .await
        .unwrap();
    assert_eq!(saved.place, "1202 工作面");
    assert!(saved.corrections.is_empty());
    drop_db(t).await;
}
