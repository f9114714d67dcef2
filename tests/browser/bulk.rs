//! Bulk import of findings: everything stored with its outbox entries in order, all or nothing.

use wasm_bindgen_test::wasm_bindgen_test;
use zhicha::storage::NewPhoto;
use zhicha_core::model::{Finding, FindingStatus, PhotoOwner};
use zhicha_core::protocol::{MutationKind, MutationPayload};

use crate::fixtures::{drop_db, enterprise, finding, fresh_db, inspection, photo_of};

/// Three findings; the second has two photos, the others none.
fn batch() -> Vec<(Finding, Vec<NewPhoto>)> {
    let visit = inspection(&enterprise());
    (0..3)
        .map(|n| {
            let f = finding(&visit, FindingStatus::Draft);
            let photos = if n == 1 {
                vec![photo_of(&f, "first photo"), photo_of(&f, "second photo")]
            } else {
                vec![]
            };
            (f, photos)
        })
        .collect()
}

#[wasm_bindgen_test]
async fn import_stores_findings_photos_and_outbox_entries_in_order() {
    let t = fresh_db("bulk-order").await;
    let batch = batch();
    t.db.import_findings(&batch).await.unwrap();

    for (f, photos) in &batch {
        assert_eq!(t.db.finding(f.id).await.unwrap().as_ref(), Some(f));
        let stored = t.db.photos_of(&PhotoOwner::Finding(f.id)).await.unwrap();
        assert_eq!(stored.len(), photos.len());
    }
    assert_eq!(t.db.pending_photos().await.unwrap().len(), 2);

    let outbox = t.db.outbox(100).await.unwrap();
    let order: Vec<(u64, MutationKind, uuid::Uuid)> = outbox
        .iter()
        .map(|r| (r.seq, r.mutation.kind, r.mutation.entity_id))
        .collect();
    let ids: Vec<uuid::Uuid> = batch.iter().map(|(f, _)| f.id.0).collect();
    assert_eq!(
        order,
        vec![
            (1, MutationKind::FindingSave, ids[0]),
            (2, MutationKind::FindingSave, ids[1]),
            (3, MutationKind::PhotoAttach, ids[1]),
            (4, MutationKind::PhotoAttach, ids[1]),
            (5, MutationKind::FindingSave, ids[2]),
        ]
    );
    assert!(outbox.iter().all(|r| r.mutation.seq == r.seq));
    // Each payload is what the per-edit path queues for the same change.
    let expected: Vec<MutationPayload> = batch
        .iter()
        .flat_map(|(f, photos)| {
            std::iter::once(MutationPayload::FindingSave(Box::new(f.clone()))).chain(
                photos
                    .iter()
                    .map(|p| MutationPayload::PhotoAttach(Box::new(p.meta.clone()))),
            )
        })
        .collect();
    let decoded: Vec<MutationPayload> = outbox
        .iter()
        .map(|r| r.mutation.decode().unwrap())
        .collect();
    assert_eq!(decoded, expected);
    for (record, payload) in outbox.iter().zip(&expected) {
        assert_eq!(record.mutation.payload, payload.to_value());
    }
    assert!(outbox.iter().all(|r| r.mutation.base_rev.is_none()));

    // The per-edit path continues the same sequence.
    let visit = inspection(&enterprise());
    let next = finding(&visit, FindingStatus::Draft);
    t.db.create_finding(&next, &[]).await.unwrap();
    let outbox = t.db.outbox(100).await.unwrap();
    assert_eq!(outbox.last().map(|r| r.seq), Some(6));
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn import_continues_after_edits_made_one_by_one() {
    let t = fresh_db("bulk-after-edits").await;
    let visit = inspection(&enterprise());
    let first = finding(&visit, FindingStatus::Draft);
    t.db.create_finding(&first, &[]).await.unwrap();
    t.db.import_findings(&batch()).await.unwrap();
    let seqs: Vec<u64> =
        t.db.outbox(100)
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn import_keeps_nothing_when_one_finding_already_exists() {
    let t = fresh_db("bulk-atomic").await;
    let batch = batch();
    // The last finding of the batch is already stored: adding it again must fail.
    let (existing, _) = &batch[2];
    t.db.create_finding(existing, &[]).await.unwrap();

    assert!(t.db.import_findings(&batch).await.is_err());

    for (f, _) in &batch[..2] {
        assert_eq!(t.db.finding(f.id).await.unwrap(), None);
        assert!(
            t.db.photos_of(&PhotoOwner::Finding(f.id))
                .await
                .unwrap()
                .is_empty()
        );
    }
    assert!(t.db.pending_photos().await.unwrap().is_empty());
    let outbox = t.db.outbox(100).await.unwrap();
    assert_eq!(outbox.len(), 1, "only the earlier single edit is queued");
    // The seq counter did not move either: the next edit gets 2.
    let visit = inspection(&enterprise());
    t.db.create_finding(&finding(&visit, FindingStatus::Draft), &[])
        .await
        .unwrap();
    let seqs: Vec<u64> =
        t.db.outbox(100)
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
    assert_eq!(seqs, vec![1, 2]);
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn import_of_nothing_changes_nothing() {
    let t = fresh_db("bulk-empty").await;
    t.db.import_findings(&[]).await.unwrap();
    assert!(t.db.outbox(100).await.unwrap().is_empty());
    drop_db(t).await;
}
