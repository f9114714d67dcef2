//! Unit tests of the outbox rules and of the in-memory outbox built on them.

use super::*;
use crate::ids::MutationId;
use crate::ids::PhotoHash;
use crate::model::{PhotoMeta, PhotoOwner, PhotoRole};
use crate::protocol::tests::{finding, inspection, t0};
use crate::protocol::{Ack, Change, CommentPayload, Gap, MAX_PROBE_ACKED};

fn save(f: &crate::model::Finding) -> MutationPayload {
    MutationPayload::FindingSave(Box::new(f.clone()))
}

fn submit() -> MutationPayload {
    MutationPayload::FindingSubmit(CommentPayload::default())
}

fn ack(m: &Mutation, status: AckStatus, rev: Option<i64>) -> Ack {
    Ack {
        mutation_id: m.mutation_id,
        status,
        rev,
        error: None,
    }
}

fn seqs(o: &Outbox) -> Vec<u64> {
    o.unsent().map(|m| m.seq).collect()
}

fn edit(entity: Uuid, payload: &MutationPayload, by: Option<UserId>) -> Edit<'_> {
    Edit {
        mutation_id: MutationId::new(),
        entity_id: entity,
        base_rev: None,
        payload,
        at: t0(),
        by,
    }
}

#[test]
fn seqs_start_at_one_and_increase_by_one() {
    let mut o = Outbox::new();
    let f = finding();
    let i = inspection();
    o.enqueue(
        MutationId::new(),
        i.id.0,
        None,
        &MutationPayload::InspectionSave(Box::new(i)),
    );
    o.enqueue(MutationId::new(), f.id.0, None, &save(&f));
    o.enqueue(MutationId::new(), f.id.0, None, &submit());
    assert_eq!(seqs(&o), [1, 2, 3]);
    assert_eq!(o.next_seq, 4);
}

#[test]
fn repeated_saves_of_an_unsent_record_merge_into_one() {
    let mut o = Outbox::new();
    let mut f = finding();
    assert_eq!(
        o.enqueue(MutationId::new(), f.id.0, None, &save(&f)),
        Enqueued::Appended(1)
    );
    f.description = "改后的描述".into();
    assert_eq!(
        o.enqueue(MutationId::new(), f.id.0, None, &save(&f)),
        Enqueued::Coalesced(1)
    );
    assert_eq!(o.unsent_count(), 1);
    let m = o.unsent().next().unwrap();
    match m.decode().unwrap() {
        MutationPayload::FindingSave(saved) => assert_eq!(saved.description, "改后的描述"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_merge_keeps_the_entrys_seq_and_mutation_id() {
    let f = finding();
    let first = plan_edit(None, 7, edit(f.id.0, &save(&f), None));
    let Planned::Append(stored) = first else {
        panic!("{first:?}")
    };
    let again = plan_edit(Some(&stored), 8, edit(f.id.0, &save(&f), None));
    let Planned::Merge(merged) = again else {
        panic!("{again:?}")
    };
    assert_eq!(merged.seq, 7);
    assert_eq!(merged.mutation.mutation_id, stored.mutation.mutation_id);
}

#[test]
fn another_users_entry_is_never_merged_into() {
    let f = finding();
    let (a, b) = (UserId::new(), UserId::new());
    let Planned::Append(stored) = plan_edit(None, 1, edit(f.id.0, &save(&f), Some(a))) else {
        panic!()
    };
    assert!(matches!(
        plan_edit(Some(&stored), 2, edit(f.id.0, &save(&f), Some(b))),
        Planned::Append(_)
    ));
}

#[test]
fn a_save_after_a_submit_is_not_merged_past_it() {
    let mut o = Outbox::new();
    let f = finding();
    o.enqueue(MutationId::new(), f.id.0, None, &save(&f));
    o.enqueue(MutationId::new(), f.id.0, None, &submit());
    assert_eq!(
        o.enqueue(MutationId::new(), f.id.0, None, &save(&f)),
        Enqueued::Appended(3)
    );
    let kinds: Vec<_> = o.unsent().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            MutationKind::FindingSave,
            MutationKind::FindingSubmit,
            MutationKind::FindingSave
        ]
    );
}

#[test]
fn a_save_in_flight_is_never_merged_into() {
    let mut o = Outbox::new();
    let f = finding();
    o.enqueue(MutationId::new(), f.id.0, None, &save(&f));
    o.next_batch(DeviceId::new()).unwrap();
    assert_eq!(
        o.enqueue(MutationId::new(), f.id.0, None, &save(&f)),
        Enqueued::Appended(2)
    );
}

/// Regression: a push that failed after the server applied it put the entry back to
/// pending; the next save was coalesced into it, the resend was answered `duplicate`, and
/// the newer content was lost although it was acknowledged.
#[test]
fn a_save_that_was_sent_once_is_never_merged_into_even_after_a_failed_push() {
    let mut o = Outbox::new();
    let mut f = finding();
    o.enqueue(MutationId::new(), f.id.0, None, &save(&f));
    let device = DeviceId::new();
    assert!(o.next_batch(device).is_some());
    o.push_failed();
    f.description = "推送失败后的修改".into();
    assert_eq!(
        o.enqueue(MutationId::new(), f.id.0, None, &save(&f)),
        Enqueued::Appended(2)
    );
    let batch = o.next_batch(device).unwrap();
    assert_eq!(batch.mutations.len(), 2);
    match batch.mutations[1].decode().unwrap() {
        MutationPayload::FindingSave(saved) => {
            assert_eq!(saved.description, "推送失败后的修改")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn saves_of_different_entities_are_not_merged() {
    let mut o = Outbox::new();
    let (a, b) = (finding(), finding());
    o.enqueue(MutationId::new(), a.id.0, None, &save(&a));
    assert_eq!(
        o.enqueue(MutationId::new(), b.id.0, None, &save(&b)),
        Enqueued::Appended(2)
    );
}

#[test]
fn batches_stop_at_one_hundred_mutations() {
    let mut o = Outbox::new();
    for _ in 0..250 {
        let f = finding();
        o.enqueue(MutationId::new(), f.id.0, None, &submit());
    }
    let dev = DeviceId::new();
    let b = o.next_batch(dev).unwrap();
    assert_eq!(b.mutations.len(), MAX_BATCH_MUTATIONS);
    assert_eq!(b.mutations[0].seq, 1);
    assert!(o.next_batch(dev).is_none(), "one push at a time");
}

#[test]
fn batches_stop_under_the_byte_limit() {
    let mut o = Outbox::new();
    for _ in 0..60 {
        let mut f = finding();
        f.description = "隐".repeat(3000); // ~9 KB per mutation
        o.enqueue(MutationId::new(), f.id.0, None, &save(&f));
    }
    let b = o.next_batch(DeviceId::new()).unwrap();
    assert!(b.mutations.len() < 60);
    let size = serde_json::to_vec(&b).unwrap().len();
    assert!(size <= MAX_BATCH_BYTES, "{size}");
    // And it is full: one more would not fit.
    let next = &o.queued[b.mutations.len()];
    assert!(size + next.mutation.wire_size() > MAX_BATCH_BYTES - ENVELOPE_BYTES);
}

#[test]
fn an_oversized_mutation_is_sent_alone_rather_than_stalling_the_queue() {
    let mut o = Outbox::new();
    let mut f = finding();
    f.description = "x".repeat(MAX_BATCH_BYTES + 10);
    o.enqueue(MutationId::new(), f.id.0, None, &save(&f));
    o.enqueue(MutationId::new(), f.id.0, None, &submit());
    let b = o.next_batch(DeviceId::new()).unwrap();
    assert_eq!(b.mutations.len(), 1);
}

#[test]
fn a_batch_holds_only_the_signed_in_users_entries() {
    let (a, b) = (UserId::new(), UserId::new());
    let f = finding();
    let entries: Vec<OutboxEntry> = [Some(a), Some(a), Some(b)]
        .into_iter()
        .enumerate()
        .map(|(i, by)| {
            plan_edit(None, i as u64 + 1, edit(f.id.0, &submit(), by))
                .entry()
                .clone()
        })
        .collect();
    assert_eq!(cut_batch(&entries, a, 100).unwrap().len(), 2);
    assert_eq!(cut_batch(&entries, b, 100), Err(CutError::OtherUser));
    assert_eq!(cut_batch(&entries, a, 1).unwrap().len(), 1);
    assert!(cut_batch(&[], b, 100).unwrap().is_empty());
}

#[test]
fn acks_remove_applied_and_duplicate_and_keep_rejected_visible() {
    let mut o = Outbox::new();
    for _ in 0..3 {
        let g = finding();
        o.enqueue(MutationId::new(), g.id.0, None, &save(&g));
    }
    let b = o.next_batch(DeviceId::new()).unwrap();
    let resp = PushResponse {
        acks: vec![
            ack(&b.mutations[0], AckStatus::Applied, Some(1)),
            Ack {
                error: Some(
                    ErrorBody::new("validation", "重大隐患至少需要一张照片").with_field("photos"),
                ),
                ..ack(&b.mutations[1], AckStatus::Rejected, None)
            },
            ack(&b.mutations[2], AckStatus::Duplicate, Some(4)),
        ],
        gap: None,
    };
    let out = o.apply_response(&resp);
    assert_eq!(out.acked.len(), 2);
    assert_eq!(out.rejected, vec![b.mutations[1].mutation_id]);
    assert_eq!(o.unsent_count(), 0);
    let rejected: Vec<_> = o.rejected().collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].1.message, "重大隐患至少需要一张照片");
    // Rejected entries are never sent again.
    assert!(o.next_batch(DeviceId::new()).is_none());
    assert!(o.dismiss_rejected(b.mutations[1].mutation_id));
    assert_eq!(o.rejected().count(), 0);
    assert_eq!(o.sent_log.len(), 2, "acked entries are kept for a replay");
}

#[test]
fn settle_reports_the_revisions_the_server_gave() {
    let f = finding();
    let entry = plan_edit(None, 1, edit(f.id.0, &save(&f), None))
        .entry()
        .clone();
    let s = settle(
        std::slice::from_ref(&entry),
        &PushResponse {
            acks: vec![ack(&entry.mutation, AckStatus::Applied, Some(5))],
            gap: None,
        },
        2,
    );
    assert_eq!(s.acked, [1]);
    assert_eq!(s.revs, [(f.id.0, 5)]);
    assert!(s.unanswered(std::slice::from_ref(&entry)).is_empty());
}

#[test]
fn unanswered_mutations_stay_queued_and_frozen() {
    let mut o = Outbox::new();
    let f = finding();
    o.enqueue(MutationId::new(), f.id.0, None, &save(&f));
    o.enqueue(MutationId::new(), f.id.0, None, &submit());
    let b = o.next_batch(DeviceId::new()).unwrap();
    o.apply_response(&PushResponse {
        acks: vec![ack(&b.mutations[0], AckStatus::Applied, Some(1))],
        gap: None,
    });
    assert_eq!(seqs(&o), [2]);
    assert!(o.queued[0].sent);
    assert_eq!(o.in_flight, 0);
}

#[test]
fn a_gap_above_the_device_renumbers_queued_entries_from_the_expected_seq() {
    let mut o = Outbox::new();
    for _ in 0..3 {
        let g = finding();
        o.enqueue(MutationId::new(), g.id.0, None, &save(&g));
    }
    let ids: Vec<_> = o.unsent().map(|m| m.mutation_id).collect();
    o.next_batch(DeviceId::new()).unwrap();
    // The server's counter is at 7 (the device id was used before): nothing applied.
    let out = o.apply_response(&PushResponse {
        acks: vec![],
        gap: Some(Gap { expected: 7 }),
    });
    assert_eq!(out.gap, Some(GapPlan::Renumber { from: 7 }));
    assert_eq!(seqs(&o), [7, 8, 9]);
    assert!(o.queued.iter().all(|e| e.seq == e.mutation.seq));
    assert_eq!(o.next_seq, 10);
    let b = o.next_batch(DeviceId::new()).unwrap();
    assert_eq!(b.mutations[0].seq, 7);
    let resent: Vec<_> = b.mutations.iter().map(|m| m.mutation_id).collect();
    assert_eq!(resent, ids, "same mutation ids: nothing can apply twice");
}

#[test]
fn a_gap_after_partial_acks_resends_the_rest_in_order() {
    let mut o = Outbox::new();
    let ids: Vec<_> = (0..4)
        .map(|_| {
            let g = finding();
            o.enqueue(MutationId::new(), g.id.0, None, &save(&g));
            g.id
        })
        .collect();
    let b = o.next_batch(DeviceId::new()).unwrap();
    let out = o.apply_response(&PushResponse {
        acks: vec![ack(&b.mutations[0], AckStatus::Applied, Some(1))],
        gap: Some(Gap { expected: 3 }),
    });
    assert_eq!(out.acked.len(), 1);
    assert_eq!(seqs(&o), [3, 4, 5]);
    let order: Vec<_> = o.unsent().map(|m| m.entity_id).collect();
    assert_eq!(order, ids[1..].iter().map(|i| i.0).collect::<Vec<_>>());
}

/// Regression: a server restored from an older copy answered a gap below the device's
/// queue; the device reported an error on every round and never synced again.
#[test]
fn a_server_that_lost_acknowledged_writes_gets_them_again_from_the_sent_log() {
    let mut o = Outbox::new();
    let fs: Vec<_> = (0..3).map(|_| finding()).collect();
    for f in &fs {
        o.enqueue(MutationId::new(), f.id.0, None, &save(f));
    }
    let b = o.next_batch(DeviceId::new()).unwrap();
    o.apply_response(&PushResponse {
        acks: b
            .mutations
            .iter()
            .map(|m| ack(m, AckStatus::Applied, Some(1)))
            .collect(),
        gap: None,
    });
    let lost: Vec<_> = b.mutations[1..].iter().map(|m| m.mutation_id).collect();
    let g = finding();
    o.enqueue(MutationId::new(), g.id.0, None, &save(&g));
    assert_eq!(seqs(&o), [4]);
    o.next_batch(DeviceId::new()).unwrap();
    // Restored: the server holds only seq 1.
    let out = o.apply_response(&PushResponse {
        acks: vec![],
        gap: Some(Gap { expected: 2 }),
    });
    assert_eq!(out.gap, Some(GapPlan::Replay { from: 2 }));
    assert_eq!(seqs(&o), [2, 3, 4]);
    let replayed: Vec<_> = o.queued[..2]
        .iter()
        .map(|e| e.mutation.mutation_id)
        .collect();
    assert_eq!(replayed, lost);
    assert_eq!(o.queued[2].mutation.entity_id, g.id.0);
    assert_eq!(o.sent_log.len(), 1);
    assert_eq!(o.next_seq, 5);
}

/// Regression: a device whose queue was empty when the server was restored never pushed
/// again, so the writes the server lost never came back.
#[test]
fn a_probe_with_an_empty_queue_finds_a_restored_server_and_replays() {
    let mut o = Outbox::new();
    let f = finding();
    let dev = DeviceId::new();
    assert!(o.probe(dev).is_none(), "nothing was ever acknowledged");
    o.enqueue(MutationId::new(), f.id.0, None, &save(&f));
    let b = o.next_batch(dev).unwrap();
    assert!(o.probe(dev).is_none(), "a push is in flight");
    o.apply_response(&PushResponse {
        acks: vec![ack(&b.mutations[0], AckStatus::Applied, Some(1))],
        gap: None,
    });
    let probe = o.probe(dev).unwrap();
    assert!(probe.mutations.is_empty());
    assert_eq!(probe.next_seq, Some(2));
    // The restored server has nothing of this device: it expects seq 1.
    let out = o.apply_response(&PushResponse {
        acks: vec![],
        gap: Some(Gap { expected: 1 }),
    });
    assert_eq!(out.gap, Some(GapPlan::Replay { from: 1 }));
    assert_eq!(seqs(&o), [1]);
    assert_eq!(o.queued[0].mutation.mutation_id, b.mutations[0].mutation_id);
    // A server ahead of the device (its id was used before) moves only the next seq.
    let mut fresh = Outbox::new();
    fresh.sent_log.push(o.queued[0].clone());
    fresh.apply_response(&PushResponse {
        acks: vec![],
        gap: Some(Gap { expected: 40 }),
    });
    assert!(fresh.queued.is_empty());
    assert_eq!(fresh.next_seq, 40);
}

/// Regression (property tests): a restored server judged a network duplicate of an old push
/// again and refused what it had once applied; the device went on believing it applied.
#[test]
fn a_probe_moves_entries_the_server_now_holds_as_rejected_to_the_sync_errors() {
    let mut o = Outbox::new();
    let dev = DeviceId::new();
    let fs: Vec<_> = (0..2).map(|_| finding()).collect();
    for f in &fs {
        o.enqueue(MutationId::new(), f.id.0, None, &save(f));
    }
    let b = o.next_batch(dev).unwrap();
    o.apply_response(&PushResponse {
        acks: b
            .mutations
            .iter()
            .map(|m| ack(m, AckStatus::Applied, Some(1)))
            .collect(),
        gap: None,
    });
    let probe = o.probe(dev).unwrap();
    let acked: Vec<_> = b.mutations.iter().map(|m| m.mutation_id).collect();
    assert_eq!(
        probe.acked, acked,
        "the latest acknowledged ids, oldest first"
    );
    let refused = Ack {
        error: Some(ErrorBody::new(
            "inspection_missing",
            "所属检查尚未同步到服务器",
        )),
        ..ack(&b.mutations[0], AckStatus::Rejected, None)
    };
    o.apply_response(&PushResponse {
        acks: vec![refused],
        gap: None,
    });
    let errors: Vec<_> = o
        .rejected()
        .map(|(m, e)| (m.mutation_id, e.code.clone()))
        .collect();
    assert_eq!(errors, [(acked[0], "inspection_missing".to_owned())]);
    assert_eq!(o.sent_log.len(), 1);
}

#[test]
fn a_probe_names_at_most_the_latest_hundred_acknowledged_mutations() {
    let f = finding();
    let log: Vec<OutboxEntry> = (1..=150)
        .map(|seq| {
            plan_edit(None, seq, edit(f.id.0, &submit(), None))
                .entry()
                .clone()
        })
        .collect();
    let probe = probe(DeviceId::new(), 151, &log);
    assert_eq!(probe.acked.len(), MAX_PROBE_ACKED);
    assert_eq!(probe.acked[0], log[50].mutation.mutation_id);
    assert!(probe.mutations.is_empty());
}

#[test]
fn a_refused_push_is_halved_down_to_the_entry_at_fault_which_is_rejected() {
    let mut o = Outbox::new();
    for _ in 0..4 {
        let g = finding();
        o.enqueue(MutationId::new(), g.id.0, None, &save(&g));
    }
    let dev = DeviceId::new();
    let error = ErrorBody::new("payload_too_large", "请求过大");
    o.next_batch(dev).unwrap();
    let limit = o.push_refused(error.clone());
    assert_eq!(limit, 2);
    assert_eq!(o.next_batch_of(dev, limit).unwrap().mutations.len(), 2);
    let limit = o.push_refused(error.clone());
    assert_eq!(o.next_batch_of(dev, limit).unwrap().mutations.len(), 1);
    o.push_refused(error);
    assert_eq!(o.rejected().count(), 1);
    assert_eq!(seqs(&o), [2, 3, 4], "the rest is still queued");
    assert_eq!(on_refused(&[], ErrorBody::new("x", "y")), None);
}

#[test]
fn transport_failure_keeps_everything_for_retry() {
    let mut o = Outbox::new();
    let f = finding();
    o.enqueue(MutationId::new(), f.id.0, None, &save(&f));
    let first = o.next_batch(DeviceId::new()).unwrap();
    o.push_failed();
    let again = o.next_batch(DeviceId::new()).unwrap();
    assert_eq!(
        first.mutations, again.mutations,
        "same ids: the retry is idempotent"
    );
}

#[test]
fn a_late_duplicate_ack_for_an_unknown_mutation_is_ignored() {
    let mut o = Outbox::new();
    let out = o.apply_response(&PushResponse {
        acks: vec![Ack {
            mutation_id: MutationId::new(),
            status: AckStatus::Duplicate,
            rev: Some(1),
            error: None,
        }],
        gap: None,
    });
    assert!(out.acked.is_empty());
}

#[test]
fn pulled_changes_do_not_overwrite_entities_with_unsent_writes() {
    let mut o = Outbox::new();
    let f = finding();
    let photo = PhotoMeta {
        hash: PhotoHash::parse(&"ab".repeat(32)).unwrap(),
        owner: PhotoOwner::Finding(f.id),
        role: PhotoRole::Evidence,
        bytes: 1,
        width: 1,
        height: 1,
        mime: "image/jpeg".into(),
        captured_at: t0(),
        offset_from_start_s: None,
        location: None,
        no_fix: None,
        clock_offset_ms: None,
    };
    o.enqueue(
        MutationId::new(),
        f.id.0,
        None,
        &MutationPayload::PhotoAttach(Box::new(photo)),
    );
    let change = Change {
        entity: crate::protocol::EntityKind::Finding,
        id: f.id.0,
        rev: 3,
        data: None,
        deleted: false,
    };
    assert!(!o.should_apply_pulled(&change));
    let other = Change {
        id: Uuid::now_v7(),
        ..change
    };
    assert!(o.should_apply_pulled(&other));
}

#[test]
fn outbox_survives_persistence() {
    let mut o = Outbox::new();
    let f = finding();
    o.enqueue(MutationId::new(), f.id.0, Some(2), &save(&f));
    let back: Outbox = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
    assert_eq!(back, o);
}

/// Regression: a colleague's inspection pulled to the phone has no receipt of this phone's,
/// and was shown as 待同步 for ever while the sync panel said everything was synced.
#[test]
fn a_colleagues_pulled_record_is_never_this_phones_unsynced_work() {
    let id = Uuid::now_v7();
    let none = UnsyncedEntities::default();
    assert_eq!(
        RecordSync::of(&[id], &none, false, false, false),
        RecordSync::FromServer
    );
    assert_eq!(
        RecordSync::of(&[id], &none, false, false, true),
        RecordSync::Pending
    );
    assert_eq!(
        RecordSync::of(&[id], &none, false, true, true),
        RecordSync::Synced
    );
    let queued = UnsyncedEntities {
        queued: vec![id],
        ..UnsyncedEntities::default()
    };
    assert_eq!(
        RecordSync::of(&[id], &queued, false, false, false),
        RecordSync::Pending
    );
}

#[test]
fn backoff_grows_exponentially_within_jitter_bounds_and_caps() {
    assert_eq!(backoff_delay(0, 0.0), Duration::from_secs(1));
    assert_eq!(backoff_delay(0, 1.0), Duration::from_secs(2));
    assert_eq!(backoff_delay(3, 0.0), Duration::from_secs(8));
    assert_eq!(backoff_delay(3, 1.0), Duration::from_secs(16));
    for attempt in 0..40 {
        let lo = backoff_delay(attempt, 0.0);
        let hi = backoff_delay(attempt, 0.999);
        assert!(lo > Duration::ZERO && lo <= hi && hi <= BACKOFF_MAX);
        assert!(
            backoff_delay(attempt + 1, 0.0) >= lo,
            "lower bound never shrinks"
        );
    }
    assert_eq!(backoff_delay(20, 1.0), BACKOFF_MAX);
    assert_eq!(backoff_delay(u32::MAX, 0.0), BACKOFF_MAX / 2);
}

#[test]
fn backoff_jitter_spreads_devices_and_tolerates_bad_random_input() {
    assert_ne!(backoff_delay(4, 0.1), backoff_delay(4, 0.9));
    assert_eq!(backoff_delay(4, f64::NAN), backoff_delay(4, 0.5));
    assert_eq!(backoff_delay(4, -3.0), backoff_delay(4, 0.0));
}
