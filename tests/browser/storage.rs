//! IndexedDB storage: every store, atomic edits, index queries, the schema upgrade.

use wasm_bindgen_test::wasm_bindgen_test;
use zhicha::storage::{Db, DocumentRecord, EnterpriseSearch, UnsyncedCounts, schema};
use zhicha_core::ids::{EnterpriseId, PhotoHash};
use zhicha_core::model::{
    DocumentKind, FindingStatus, IssuedDocument, ItemResult, Outcome, PhotoOwner, Role, User,
};
use zhicha_core::outbox::Settlement;
use zhicha_core::protocol::{CommentPayload, ErrorBody, MutationKind, MutationPayload};

use crate::fixtures::{drop_db, enterprise, finding, fresh_db, inspection, photo_of};

#[wasm_bindgen_test]
async fn database_has_every_store_of_the_schema() {
    let t = fresh_db("stores").await;
    let names = t.db.store_names();
    for store in schema::V1_STORES.iter().chain([&schema::DOCUMENTS]) {
        assert!(
            names.iter().any(|n| n == store),
            "missing store {store}: {names:?}"
        );
    }
    assert_eq!(
        t.db.schema_version().await.unwrap(),
        schema::CURRENT_VERSION
    );
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn meta_and_device_id_survive_reopening() {
    let t = fresh_db("meta").await;
    let device = t.db.device_id().await.unwrap();
    t.db.put_meta("pull_cursor", &"c-42".to_owned())
        .await
        .unwrap();
    let name = t.name.clone();
    t.db.close();
    let db = Db::open(&name).await.unwrap();
    assert_eq!(db.device_id().await.unwrap(), device);
    assert_eq!(
        db.get_meta::<String>("pull_cursor")
            .await
            .unwrap()
            .as_deref(),
        Some("c-42")
    );
    assert_eq!(db.get_meta::<String>("nothing").await.unwrap(), None);
    drop_db(crate::fixtures::TestDb { name, db }).await;
}

#[wasm_bindgen_test]
async fn reference_data_is_stored_and_searchable() {
    let t = fresh_db("reference").await;
    let pack = zhicha_core::packs::all()[0].clone();
    t.db.put_packs(std::slice::from_ref(&pack)).await.unwrap();
    assert_eq!(
        t.db.pack(pack.id.as_str(), pack.version).await.unwrap(),
        Some(pack.clone())
    );
    assert_eq!(
        t.db.pack(pack.id.as_str(), pack.version + 1).await.unwrap(),
        None
    );
    assert_eq!(t.db.packs().await.unwrap().len(), 1);

    let mine = enterprise();
    let mut plant = enterprise();
    plant.id = EnterpriseId::new();
    plant.name = "苏里格经济开发区某化工厂".to_owned();
    plant.township = "苏里格经济开发区".to_owned();
    plant.address = "鄂托克旗苏里格经济开发区".to_owned();
    plant.credit_code = Some("91150600MA0Q000009".to_owned());
    t.db.put_enterprises(&[mine.clone(), plant.clone()])
        .await
        .unwrap();
    let search = |text: &str| EnterpriseSearch {
        text: text.to_owned(),
    };
    let names = |list: Vec<zhicha_core::model::Enterprise>| {
        list.into_iter().map(|e| e.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(t.db.search_enterprises(&search("化工")).await.unwrap()),
        vec![plant.name.clone()]
    );
    assert_eq!(
        names(t.db.search_enterprises(&search("ma0q")).await.unwrap()),
        vec![plant.name.clone()]
    );
    assert_eq!(
        names(t.db.search_enterprises(&search("树林召")).await.unwrap()),
        vec![mine.name.clone()]
    );
    assert_eq!(t.db.search_enterprises(&search("")).await.unwrap().len(), 2);
    assert_eq!(
        t.db.enterprise(&mine.id.to_string()).await.unwrap(),
        Some(mine.clone())
    );

    let user = User {
        id: zhicha_core::ids::UserId::new(),
        username: "inspector1".to_owned(),
        display_name: "李明".to_owned(),
        role: Role::Inspector,
        org_id: mine.org_id,
        certificate_no: Some("15001".to_owned()),
    };
    t.db.put_roster(std::slice::from_ref(&user)).await.unwrap();
    assert_eq!(t.db.roster().await.unwrap(), vec![user]);
    // Reference data is the server's: nothing of it is queued for sync.
    assert_eq!(
        t.db.unsynced_counts().await.unwrap(),
        UnsyncedCounts::default()
    );
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn every_edit_queues_its_mutation_in_seq_order() {
    let t = fresh_db("edits").await;
    let site = enterprise();
    t.db.save_enterprise(&site).await.unwrap();
    let mut visit = inspection(&site);
    t.db.save_inspection(&visit).await.unwrap();
    let answer = ItemResult {
        item_id: "coal-ug-4-01".to_owned(),
        outcome: Outcome::NonCompliant,
        finding_ids: vec![],
        note: String::new(),
    };
    let saved = t.db.save_item_result(visit.id, &answer).await.unwrap();
    assert_eq!(saved.item_results, vec![answer.clone()]);
    let changed = ItemResult {
        outcome: Outcome::Compliant,
        ..answer.clone()
    };
    let saved = t.db.save_item_result(visit.id, &changed).await.unwrap();
    assert_eq!(
        saved.item_results,
        vec![changed.clone()],
        "an answer is replaced, not duplicated"
    );
    assert_eq!(t.db.item_results(visit.id).await.unwrap(), vec![changed]);

    let hazard = finding(&visit, FindingStatus::Draft);
    let photo = photo_of(&hazard, "evidence-1");
    t.db.create_finding(&hazard, std::slice::from_ref(&photo))
        .await
        .unwrap();
    let mut submitted = hazard.clone();
    submitted.status = FindingStatus::Submitted;
    t.db.record_finding_action(
        &submitted,
        &MutationPayload::FindingSubmit(CommentPayload::default()),
    )
    .await
    .unwrap();
    assert_eq!(t.db.finding(hazard.id).await.unwrap(), Some(submitted));

    visit.summary = "现场检查情况".to_owned();
    t.db.save_inspection(&visit).await.unwrap();
    assert_eq!(
        t.db.inspection(visit.id).await.unwrap().unwrap().summary,
        "现场检查情况"
    );
    assert_eq!(t.db.inspections().await.unwrap().len(), 1);

    let outbox = t.db.outbox(100).await.unwrap();
    let kinds: Vec<MutationKind> = outbox.iter().map(|r| r.mutation.kind).collect();
    // The inspection's later saves (two answers, the summary) were merged into its first,
    // unsent save; the finding's save stays ahead of its attach and submit.
    assert_eq!(
        kinds,
        vec![
            MutationKind::EnterpriseSave,
            MutationKind::InspectionSave,
            MutationKind::FindingSave,
            MutationKind::PhotoAttach,
            MutationKind::FindingSubmit,
        ]
    );
    match outbox[1].mutation.decode().unwrap() {
        MutationPayload::InspectionSave(saved) => {
            // The last save wins: the summary edit of the record as the caller held it.
            assert_eq!(saved.summary, "现场检查情况");
        }
        other => panic!("{other:?}"),
    }
    let seqs: Vec<u64> = outbox.iter().map(|r| r.seq).collect();
    assert_eq!(
        seqs,
        (1..=5).collect::<Vec<_>>(),
        "seqs are strictly increasing by 1"
    );
    assert!(outbox.iter().all(|r| r.seq == r.mutation.seq));
    assert!(
        outbox.iter().all(|r| r.mutation.decode().is_ok()),
        "every payload decodes for its kind"
    );
    assert_eq!(t.db.limited_outbox_len(3).await, 3);
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn photos_are_kept_with_their_blob_until_uploaded() {
    let t = fresh_db("photos").await;
    let visit = inspection(&enterprise());
    let hazard = finding(&visit, FindingStatus::Draft);
    let first = photo_of(&hazard, "first");
    let second = photo_of(&hazard, "second");
    t.db.create_finding(&hazard, &[first, second])
        .await
        .unwrap();

    let stored =
        t.db.photos_of(&PhotoOwner::Finding(hazard.id))
            .await
            .unwrap();
    assert_eq!(stored.len(), 2);
    let bytes = zhicha::photo::blob_bytes(&stored[0].blob).await.unwrap();
    assert_eq!(
        PhotoHash::of_bytes(&bytes),
        stored[0].meta.hash,
        "the blob is the hashed bytes"
    );
    assert!(stored.iter().all(|p| !p.uploaded));
    assert_eq!(t.db.pending_photos().await.unwrap().len(), 2);
    assert_eq!(t.db.unsynced_counts().await.unwrap().photos, 2);

    let hash = stored[0].meta.hash.clone();
    t.db.mark_photo_uploaded(&hash).await.unwrap();
    assert!(t.db.photo(&hash).await.unwrap().unwrap().uploaded);
    assert_eq!(
        t.db.pending_photos().await.unwrap(),
        vec![stored[1].meta.hash.clone()]
    );
    assert_eq!(t.db.unsynced_counts().await.unwrap().photos, 1);
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn a_failed_finding_write_leaves_nothing_half_written() {
    let t = fresh_db("atomic").await;
    let visit = inspection(&enterprise());
    let hazard = finding(&visit, FindingStatus::Draft);
    t.db.create_finding(&hazard, &[photo_of(&hazard, "original")])
        .await
        .unwrap();
    let before = t.db.unsynced_counts().await.unwrap();

    // Creating the same finding again fails on the finding write, after the photo was written
    // in the same transaction: the photo and the outbox entries must not survive.
    let mut again = hazard.clone();
    again.description = "改写的描述".to_owned();
    let late_photo = photo_of(&hazard, "written-before-the-failure");
    let late_hash = late_photo.meta.hash.clone();
    let error =
        t.db.create_finding(&again, &[late_photo])
            .await
            .unwrap_err();
    assert!(error.to_string().contains("记录已存在"), "{error}");

    assert_eq!(
        t.db.photo(&late_hash).await.unwrap().map(|p| p.meta.hash),
        None
    );
    assert_eq!(t.db.finding(hazard.id).await.unwrap(), Some(hazard));
    assert_eq!(t.db.unsynced_counts().await.unwrap(), before);
    assert_eq!(
        t.db.outbox(100).await.unwrap().len(),
        2,
        "finding.save and photo.attach only"
    );
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn findings_are_found_by_inspection_status_and_enterprise() {
    let t = fresh_db("indexes").await;
    let site = enterprise();
    let first = inspection(&site);
    let second = inspection(&site);
    let a = finding(&first, FindingStatus::Draft);
    let b = finding(&first, FindingStatus::Rectifying);
    let c = finding(&second, FindingStatus::Rectifying);
    for f in [&a, &b, &c] {
        t.db.create_finding(f, &[]).await.unwrap();
    }
    let ids = |list: Vec<zhicha_core::model::Finding>| {
        let mut ids: Vec<String> = list.into_iter().map(|f| f.id.to_string()).collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        ids(t.db.findings_of_inspection(first.id).await.unwrap()),
        sorted(vec![a.id.to_string(), b.id.to_string()])
    );
    assert_eq!(
        ids(t
            .db
            .findings_with_status(FindingStatus::Rectifying)
            .await
            .unwrap()),
        sorted(vec![b.id.to_string(), c.id.to_string()])
    );
    assert_eq!(
        ids(t
            .db
            .findings_with_status(FindingStatus::Closed)
            .await
            .unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(
        t.db.findings_of_enterprise(&site.id.to_string())
            .await
            .unwrap()
            .len(),
        3
    );
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn settling_a_push_logs_acked_entries_and_keeps_rejected_ones_visible() {
    let t = fresh_db("settle").await;
    let site = enterprise();
    let visit = inspection(&site);
    t.db.save_enterprise(&site).await.unwrap();
    t.db.save_inspection(&visit).await.unwrap();
    t.db.create_finding(&finding(&visit, FindingStatus::Draft), &[])
        .await
        .unwrap();
    let outbox = t.db.outbox(100).await.unwrap();
    assert_eq!(outbox.len(), 3);
    t.db.mark_sent(&outbox).await.unwrap();
    let error = ErrorBody::new("validation", "检查人员不少于两人").with_field("inspectors");
    let settlement = Settlement {
        acked: vec![1],
        rejected: vec![(2, error.clone())],
        revs: vec![(site.id.0, 7)],
        gap: None,
    };
    t.db.settle_push(&outbox, &settlement).await.unwrap();
    assert_eq!(t.db.known_rev(site.id.0).await.unwrap(), Some(7));
    let left: Vec<u64> =
        t.db.outbox(100)
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
    assert_eq!(left, vec![3]);
    assert!(
        t.db.outbox(100).await.unwrap()[0].sent,
        "an unanswered entry stays frozen"
    );
    let log: Vec<u64> =
        t.db.sent_log()
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
    assert_eq!(log, vec![1], "an acked entry is kept for a replay");
    let errors = t.db.sync_errors().await.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].mutation, outbox[1].mutation);
    assert_eq!(errors[0].error, error);
    assert_eq!(
        t.db.unsynced_counts().await.unwrap(),
        UnsyncedCounts {
            mutations: 1,
            photos: 0,
            errors: 1
        }
    );
    t.db.discard_sync_error(errors[0].mutation_id)
        .await
        .unwrap();
    assert!(t.db.sync_errors().await.unwrap().is_empty());
    // The next edit of that entity carries the revision it was based on.
    t.db.save_enterprise(&site).await.unwrap();
    let next = t.db.outbox(100).await.unwrap().pop().unwrap();
    assert_eq!(next.mutation.base_rev, Some(7));
    assert_eq!(next.seq, 4);
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn upgrading_from_schema_v1_keeps_every_record() {
    let name = format!("zhicha-test-upgrade-{}", uuid::Uuid::now_v7());
    let site = enterprise();
    let visit = inspection(&site);
    let hazard = finding(&visit, FindingStatus::Submitted);
    {
        let v1 = Db::open_at(&name, 1).await.unwrap();
        assert!(!v1.store_names().iter().any(|s| s == schema::DOCUMENTS));
        v1.save_enterprise(&site).await.unwrap();
        v1.save_inspection(&visit).await.unwrap();
        v1.create_finding(&hazard, &[photo_of(&hazard, "kept")])
            .await
            .unwrap();
        v1.put_meta("pull_cursor", &"c-7".to_owned()).await.unwrap();
        assert_eq!(v1.schema_version().await.unwrap(), 1);
        v1.close();
    }
    let v2 = Db::open(&name).await.unwrap();
    assert_eq!(v2.schema_version().await.unwrap(), schema::CURRENT_VERSION);
    assert!(v2.store_names().iter().any(|s| s == schema::SENT));
    assert!(v2.store_names().iter().any(|s| s == schema::DOCUMENTS));
    assert_eq!(v2.inspection(visit.id).await.unwrap(), Some(visit.clone()));
    assert_eq!(v2.finding(hazard.id).await.unwrap(), Some(hazard.clone()));
    assert_eq!(
        v2.photos_of(&PhotoOwner::Finding(hazard.id))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(v2.outbox(100).await.unwrap().len(), 4);
    // The outbox index added in v3 covers entries queued under v1: a new save of the
    // inspection is merged into its unsent one.
    v2.save_inspection(&visit).await.unwrap();
    assert_eq!(v2.outbox(100).await.unwrap().len(), 4);
    assert_eq!(
        v2.get_meta::<String>("pull_cursor")
            .await
            .unwrap()
            .as_deref(),
        Some("c-7")
    );
    // The index added in v2 covers records written under v1.
    assert_eq!(
        v2.findings_of_enterprise(&site.id.to_string())
            .await
            .unwrap(),
        vec![hazard]
    );
    drop_db(crate::fixtures::TestDb { name, db: v2 }).await;
}

trait OutboxLen {
    async fn limited_outbox_len(&self, limit: u32) -> usize;
}

impl OutboxLen for Db {
    async fn limited_outbox_len(&self, limit: u32) -> usize {
        self.outbox(limit).await.unwrap().len()
    }
}

#[wasm_bindgen_test]
async fn an_issued_document_number_is_kept_and_never_reused() {
    let t = fresh_db("documents").await;
    let visit = inspection(&enterprise());
    let record = DocumentRecord {
        number: "达旗应急检记〔2026〕A7-0003号".to_owned(),
        inspection_id: visit.id,
        document: IssuedDocument {
            kind: DocumentKind::InspectionRecord,
            number: "达旗应急检记〔2026〕A7-0003号".to_owned(),
            issued_at: chrono::Utc::now(),
            service: None,
        },
        device_sequence: 3,
    };
    t.db.add_document(&record).await.unwrap();
    assert_eq!(
        t.db.documents_of(visit.id).await.unwrap(),
        vec![record.clone()]
    );
    let mut reused = record.clone();
    reused.inspection_id = inspection(&enterprise()).id;
    let error = t.db.add_document(&reused).await.unwrap_err();
    assert!(error.to_string().contains("记录已存在"), "{error}");
    assert_eq!(t.db.documents_of(visit.id).await.unwrap(), vec![record]);
    drop_db(t).await;
}

#[wasm_bindgen_test]
fn storage_warnings_and_logout_follow_the_numbers() {
    use zhicha::pwa::StorageStatus;
    use zhicha::state::logout_refusal;
    let nearly_full = StorageStatus {
        persisted: true,
        usage: 81.0,
        quota: 100.0,
    };
    assert!(nearly_full.is_nearly_full());
    assert!(
        !StorageStatus {
            usage: 80.0,
            ..nearly_full
        }
        .is_nearly_full()
    );
    assert!(
        !StorageStatus {
            usage: 5.0,
            quota: 0.0,
            ..nearly_full
        }
        .is_nearly_full(),
        "unknown quota"
    );
    assert_eq!(logout_refusal(UnsyncedCounts::default()), None);
    let refusal = logout_refusal(UnsyncedCounts {
        mutations: 0,
        photos: 2,
        errors: 0,
    })
    .unwrap();
    assert!(refusal.contains("2 张照片未同步"), "{refusal}");
}
