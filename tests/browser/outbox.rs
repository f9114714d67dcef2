//! The outbox in IndexedDB carrying out core's decisions: recovery from a sequence gap (a
//! reused device id, a server restored from an older copy), an entry refused outright, and a
//! second user on a shared phone.

use chrono::{Days, Utc};
use wasm_bindgen_test::wasm_bindgen_test;
use zhicha::storage::{Db, OutboxRecord, Session, SwitchError};
use zhicha_core::ids::{OrgId, UserId};
use zhicha_core::model::{FindingStatus, PhotoOwner, Role, User};
use zhicha_core::outbox::{self, CutError, GapPlan, Settlement};
use zhicha_core::protocol::ErrorBody;

use crate::fixtures::{drop_db, enterprise, finding, fresh_db, inspection, photo_of};

fn user(name: &str) -> User {
    User {
        id: UserId::new(),
        username: name.to_owned(),
        display_name: name.to_owned(),
        role: Role::Inspector,
        org_id: OrgId::new(),
        certificate_no: None,
    }
}

async fn sign_in(db: &Db, user: &User) {
    db.switch_user(user).await.expect("switch user");
    db.put_session(&Session {
        token: format!("token-{}", user.username),
        expires_at: Utc::now() + Days::new(1),
        user: user.clone(),
        device_code: "A1".to_owned(),
    })
    .await
    .expect("session");
}

/// Queues three entries for three records: an enterprise, an inspection, a finding.
async fn three_entries(db: &Db) -> Vec<OutboxRecord> {
    let site = enterprise();
    let visit = inspection(&site);
    db.save_enterprise(&site).await.unwrap();
    db.save_inspection(&visit).await.unwrap();
    db.create_finding(&finding(&visit, FindingStatus::Draft), &[])
        .await
        .unwrap();
    db.outbox(100).await.unwrap()
}

fn seqs(entries: &[OutboxRecord]) -> Vec<u64> {
    entries.iter().map(|e| e.seq).collect()
}

fn ids(entries: &[OutboxRecord]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e.mutation.mutation_id.to_string())
        .collect()
}

/// Regression: the server expected a higher seq (the device id had been used before) and the
/// push loop reported an error on every round; the queue never moved.
#[wasm_bindgen_test]
async fn a_gap_above_the_queue_renumbers_it_keeping_mutation_ids() {
    let t = fresh_db("gap-renumber").await;
    let queued = three_entries(&t.db).await;
    t.db.recover_gap(GapPlan::Renumber { from: 10 })
        .await
        .unwrap();
    let after = t.db.outbox(100).await.unwrap();
    assert_eq!(seqs(&after), [10, 11, 12]);
    assert!(after.iter().all(|e| e.seq == e.mutation.seq));
    assert_eq!(ids(&after), ids(&queued));
    assert_eq!(t.db.next_seq().await.unwrap(), 13);
    // New edits continue after the renumbered queue.
    t.db.save_enterprise(&enterprise()).await.unwrap();
    assert_eq!(t.db.outbox(100).await.unwrap().last().unwrap().seq, 13);
    drop_db(t).await;
}

/// Regression: a server restored from an older copy expected a seq the device had already had
/// acknowledged; the device stopped syncing for good and the lost writes never came back.
#[wasm_bindgen_test]
async fn a_restored_server_gets_acknowledged_entries_again_from_the_sent_log() {
    let t = fresh_db("gap-replay").await;
    let site = enterprise();
    let visit = inspection(&site);
    let hazard = finding(&visit, FindingStatus::Draft);
    t.db.save_enterprise(&site).await.unwrap();
    t.db.save_inspection(&visit).await.unwrap();
    t.db.create_finding(&hazard, &[photo_of(&hazard, "evidence")])
        .await
        .unwrap();
    let sent = t.db.outbox(100).await.unwrap();
    assert_eq!(seqs(&sent), [1, 2, 3, 4]);
    t.db.mark_sent(&sent).await.unwrap();
    let settlement = Settlement {
        acked: seqs(&sent),
        ..Settlement::default()
    };
    t.db.settle_push(&sent, &settlement).await.unwrap();
    let hash = sent[3].mutation.payload["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let hash = zhicha_core::ids::PhotoHash::parse(&hash).unwrap();
    t.db.mark_photo_uploaded(&hash).await.unwrap();
    t.db.put_evidence_complete(visit.id, true).await.unwrap();
    assert!(t.db.outbox(100).await.unwrap().is_empty());
    // One more edit after the backup was taken... and the server comes back holding seq 1 only.
    let later = enterprise();
    t.db.save_enterprise(&later).await.unwrap();
    t.db.recover_gap(GapPlan::Replay { from: 2 }).await.unwrap();
    let queued = t.db.outbox(100).await.unwrap();
    assert_eq!(seqs(&queued), [2, 3, 4, 5]);
    assert_eq!(
        ids(&queued[..3]),
        ids(&sent[1..]),
        "the lost writes, as first sent"
    );
    assert!(
        queued[..3].iter().all(|e| e.sent),
        "replayed entries stay frozen"
    );
    assert_eq!(queued[3].mutation.entity_id, later.id.0);
    assert_eq!(seqs(&t.db.sent_log().await.unwrap()), [1]);
    assert_eq!(t.db.next_seq().await.unwrap(), 6);
    // Photos and receipts are checked against the restored server again.
    assert_eq!(t.db.pending_photos().await.unwrap(), vec![hash]);
    assert!(!t.db.evidence_complete(visit.id).await.unwrap());
    assert_eq!(
        t.db.photos_of(&PhotoOwner::Finding(hazard.id))
            .await
            .unwrap()
            .len(),
        1,
        "the photo itself is kept"
    );
    drop_db(t).await;
}

/// Regression: a push the server refused outright (413, 400) was resent on every round for
/// ever; now the entry at fault moves to the visible sync errors and the rest goes on.
#[wasm_bindgen_test]
async fn an_entry_refused_outright_moves_to_the_sync_errors() {
    let t = fresh_db("refused").await;
    let queued = three_entries(&t.db).await;
    let error = ErrorBody::new("payload_too_large", "请求体过大");
    match outbox::on_refused(&queued[..1], error.clone()) {
        Some(outbox::Refusal::Reject { seq, error }) => {
            let entry = queued.iter().find(|e| e.seq == seq).unwrap();
            t.db.reject_queued(entry, &error).await.unwrap();
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(seqs(&t.db.outbox(100).await.unwrap()), [2, 3]);
    let errors = t.db.sync_errors().await.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].error, error);
    assert_eq!(errors[0].mutation, queued[0].mutation);
    drop_db(t).await;
}

/// Regression: on a shared phone the next user saw the previous user's records, inherited the
/// pull cursor, and an expired session could push one user's outbox under another's token.
#[wasm_bindgen_test]
async fn another_user_cannot_sign_in_over_unsynced_work_and_otherwise_starts_clean() {
    let t = fresh_db("switch").await;
    let (first, second) = (user("inspector-a"), user("inspector-b"));
    sign_in(&t.db, &first).await;
    let device = t.db.device_id().await.unwrap();
    let queued = three_entries(&t.db).await;
    assert!(queued.iter().all(|e| e.by == Some(first.id)));
    // The queue is the first user's: never pushed under the second user's token.
    assert_eq!(
        outbox::cut_batch(&queued, second.id, 100),
        Err(CutError::OtherUser)
    );
    assert!(matches!(
        t.db.may_sign_in("inspector-b").await,
        Err(SwitchError::Unsynced(_))
    ));
    assert!(t.db.may_sign_in("inspector-a").await.is_ok());
    assert!(matches!(
        t.db.switch_user(&second).await,
        Err(SwitchError::Unsynced(_))
    ));
    assert_eq!(
        t.db.inspections().await.unwrap().len(),
        1,
        "nothing cleared"
    );

    // Everything reaches the server; now the second user may sign in, and starts clean.
    t.db.mark_sent(&queued).await.unwrap();
    let settlement = Settlement {
        acked: seqs(&queued),
        ..Settlement::default()
    };
    t.db.settle_push(&queued, &settlement).await.unwrap();
    t.db.put_meta("pull_cursor", &"c:41".to_owned())
        .await
        .unwrap();
    let next_seq = t.db.next_seq().await.unwrap();
    assert!(t.db.may_sign_in("inspector-b").await.is_ok());
    sign_in(&t.db, &second).await;
    assert!(t.db.inspections().await.unwrap().is_empty());
    assert!(t.db.sent_log().await.unwrap().is_empty());
    assert_eq!(t.db.pull_cursor().await.unwrap(), None);
    assert_eq!(t.db.owner().await.unwrap().map(|u| u.id), Some(second.id));
    // The phone's own identity and counters stay.
    assert_eq!(t.db.device_id().await.unwrap(), device);
    assert_eq!(t.db.next_seq().await.unwrap(), next_seq);
    // The same user signing in again keeps everything.
    t.db.save_enterprise(&enterprise()).await.unwrap();
    sign_in(&t.db, &second).await;
    assert_eq!(t.db.outbox(100).await.unwrap().len(), 1);
    drop_db(t).await;
}
