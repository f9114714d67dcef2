//! The server's side of push as pure rules: how each mutation of a batch is classified
//! (replay, repeat, gap, apply) and when a write is a conflict. The server loads what these
//! need (the device's last seq, its stored acks, who last wrote a record), calls them and
//! saves the outcome; the property tests check them against the outbox's side.

use std::collections::HashMap;

use crate::ids::{DeviceId, MutationId};
use crate::protocol::{Ack, AckStatus, Gap, Mutation, MutationKind};

/// What the server does with one mutation of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Step<A> {
    /// Applied in an earlier push: answer with the stored ack, change nothing.
    Replay(A),
    /// The same mutation appears earlier in this batch (at this index): answer as it was.
    Repeat(usize),
    /// New and in sequence: check and apply it.
    Apply,
}

/// A batch classified: one step per mutation up to the gap (the rest is not looked at).
#[derive(Debug, Clone, PartialEq)]
pub struct Classified<A> {
    pub steps: Vec<Step<A>>,
    /// The device's last applied seq after the batch.
    pub last_seq: u64,
    /// The first mutation out of sequence, if any: the device resends from `expected`.
    pub gap: Option<Gap>,
}

/// Classifies `mutations` (in the order pushed) for a device whose last applied seq is
/// `last_seq`. A mutation already applied (by id, in `stored`) is a replay whatever its seq now
/// is, so a device that renumbered its queue after a gap never has anything applied twice; a
/// new mutation must carry exactly the next seq, and the batch stops at the first that does not.
/// A push of no mutations is a probe: it answers a gap when the device's `next_seq` is not the
/// seq the server expects (the server lost acknowledged writes, or the device id was reused).
pub fn classify<A: Clone>(
    last_seq: u64,
    mutations: &[Mutation],
    stored: &HashMap<MutationId, A>,
    next_seq: Option<u64>,
) -> Classified<A> {
    if mutations.is_empty() {
        let expected = last_seq + 1;
        return Classified {
            steps: Vec::new(),
            last_seq,
            gap: next_seq
                .filter(|n| *n != expected)
                .map(|_| Gap { expected }),
        };
    }
    let mut steps = Vec::with_capacity(mutations.len());
    let mut first_in_batch: HashMap<MutationId, usize> = HashMap::new();
    let mut last = last_seq;
    let mut gap = None;
    for mutation in mutations {
        if let Some(ack) = stored.get(&mutation.mutation_id) {
            steps.push(Step::Replay(ack.clone()));
            continue;
        }
        if let Some(&earlier) = first_in_batch.get(&mutation.mutation_id) {
            steps.push(Step::Repeat(earlier));
            continue;
        }
        let expected = last + 1;
        if mutation.seq != expected {
            gap = Some(Gap { expected });
            break;
        }
        last = expected;
        first_in_batch.insert(mutation.mutation_id, steps.len());
        steps.push(Step::Apply);
    }
    Classified {
        steps,
        last_seq: last,
        gap,
    }
}

/// A probe's answer beside its gap: the stored acks of the device's acknowledged mutations
/// (`acked`) that this server holds as rejected, which the device then shows as sync errors
/// instead of believing them applied.
pub fn contradicted(acked: &[MutationId], stored: &HashMap<MutationId, Ack>) -> Vec<Ack> {
    acked
        .iter()
        .filter_map(|id| stored.get(id))
        .filter(|ack| ack.status == AckStatus::Rejected)
        .cloned()
        .collect()
}

/// The stored record a write lands on: its revision and the device that wrote it last
/// (absent for records written before devices were recorded, or by the server itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastWrite {
    pub rev: i64,
    pub device: Option<DeviceId>,
}

/// The one conflict rule (protocol.md, "Ownership and conflicts"). A write conflicts when the
/// record was last written by another device since the revision the writer saw:
/// - one device editing its own record several times offline is never a conflict, whatever
///   base revision its queued edits carry (the later ones were made on top of the earlier);
/// - two devices editing one record from the same revision is: the second to arrive finds the
///   record last written by the first, at a revision it did not see;
/// - a save that names no base revision of a record another device wrote is one too (it was
///   made without seeing that write); a lifecycle action that names none is checked by the
///   state machine alone.
pub fn is_conflict(
    kind: MutationKind,
    base_rev: Option<i64>,
    stored: Option<LastWrite>,
    device: DeviceId,
) -> bool {
    let Some(stored) = stored else {
        return false;
    };
    if stored.device == Some(device) {
        return false;
    }
    match base_rev {
        Some(base) => base != stored.rev,
        None => kind.is_save(),
    }
}

/// Whether a device that will number its next mutation `next_seq` holds mutations the server
/// has not applied (it has applied up to `last_applied`). A login as another user is refused
/// then: those mutations belong to the user who made them.
pub fn holds_unsynced(next_seq: u64, last_applied: u64) -> bool {
    next_seq > last_applied.saturating_add(1)
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::protocol::CommentPayload;
    use crate::protocol::MutationPayload;

    fn m(seq: u64) -> Mutation {
        Mutation::new(
            MutationId::new(),
            seq,
            Uuid::now_v7(),
            None,
            &MutationPayload::FindingSubmit(CommentPayload::default()),
        )
    }

    #[test]
    fn in_sequence_mutations_are_applied_and_advance_the_seq() {
        let batch = [m(4), m(5), m(6)];
        let c = classify::<()>(3, &batch, &HashMap::new(), None);
        assert_eq!(c.steps, [Step::Apply, Step::Apply, Step::Apply]);
        assert_eq!((c.last_seq, c.gap), (6, None));
    }

    #[test]
    fn a_batch_stops_at_the_first_seq_out_of_order() {
        let batch = [m(4), m(6), m(7)];
        let c = classify::<()>(3, &batch, &HashMap::new(), None);
        assert_eq!(c.steps, [Step::Apply]);
        assert_eq!(c.gap, Some(Gap { expected: 5 }));
        assert_eq!(c.last_seq, 4);
    }

    #[test]
    fn a_stored_mutation_is_a_replay_even_with_a_new_seq() {
        let first = m(1);
        let mut renumbered = first.clone();
        renumbered.seq = 9;
        let stored = HashMap::from([(first.mutation_id, "ack")]);
        let c = classify(1, &[renumbered, m(2)], &stored, None);
        assert_eq!(c.steps, [Step::Replay("ack"), Step::Apply]);
        assert_eq!(c.last_seq, 2);
    }

    #[test]
    fn a_mutation_repeated_within_a_batch_is_answered_as_its_first_copy() {
        let a = m(1);
        let c = classify::<()>(0, &[a.clone(), a], &HashMap::new(), None);
        assert_eq!(c.steps, [Step::Apply, Step::Repeat(0)]);
        assert_eq!(c.last_seq, 1);
    }

    #[test]
    fn a_server_behind_the_device_answers_a_gap_at_its_own_next_seq() {
        let c = classify::<()>(10, &[m(40)], &HashMap::new(), None);
        assert!(c.steps.is_empty());
        assert_eq!(c.gap, Some(Gap { expected: 11 }));
    }

    /// Regression: a device with nothing queued never pushed, so it never learned that a
    /// restored server had lost the writes it had acknowledged.
    #[test]
    fn an_empty_push_probes_for_a_gap() {
        let probe = |next| classify::<()>(7, &[], &HashMap::new(), next).gap;
        assert_eq!(probe(Some(8)), None);
        assert_eq!(
            probe(Some(12)),
            Some(Gap { expected: 8 }),
            "the server lost 8..11"
        );
        assert_eq!(
            probe(Some(3)),
            Some(Gap { expected: 8 }),
            "the device is behind"
        );
        assert_eq!(probe(None), None, "an older app's empty push");
    }

    /// Regression (property tests): after a restore, a network duplicate of an old push was
    /// judged again and refused what had been applied; the device's probe found no gap and it
    /// believed the write applied for ever.
    #[test]
    fn a_probe_is_told_which_acknowledged_mutations_the_server_holds_as_rejected() {
        let (kept, refused, unknown) = (MutationId::new(), MutationId::new(), MutationId::new());
        let ack = |id, status| Ack {
            mutation_id: id,
            status,
            rev: None,
            error: None,
        };
        let stored = HashMap::from([
            (kept, ack(kept, AckStatus::Applied)),
            (refused, ack(refused, AckStatus::Rejected)),
        ]);
        let answer = contradicted(&[kept, refused, unknown], &stored);
        assert_eq!(answer, [ack(refused, AckStatus::Rejected)]);
    }

    const SAVE: MutationKind = MutationKind::FindingSave;
    const CONFIRM: MutationKind = MutationKind::FindingConfirm;

    fn written(rev: i64, device: DeviceId) -> Option<LastWrite> {
        Some(LastWrite {
            rev,
            device: Some(device),
        })
    }

    #[test]
    fn a_device_holds_unsynced_mutations_when_its_next_seq_is_past_the_servers() {
        assert!(!holds_unsynced(1, 0), "a new device");
        assert!(!holds_unsynced(8, 7), "everything applied");
        assert!(holds_unsynced(9, 7), "seq 8 not applied");
        assert!(
            !holds_unsynced(3, 7),
            "a device behind the server holds nothing new"
        );
    }

    #[test]
    fn a_new_record_is_never_a_conflict() {
        assert!(!is_conflict(SAVE, None, None, DeviceId::new()));
        assert!(!is_conflict(SAVE, Some(3), None, DeviceId::new()));
    }

    /// Regression: the device stamped every queued edit with the last revision it had pulled,
    /// so its second offline edit of a record arrived "based on" a revision its own first edit
    /// had replaced, and was flagged.
    #[test]
    fn one_device_editing_its_own_record_repeatedly_is_not_a_conflict() {
        let a = DeviceId::new();
        assert!(!is_conflict(SAVE, None, written(1, a), a));
        assert!(!is_conflict(SAVE, Some(3), written(5, a), a));
    }

    #[test]
    fn two_devices_editing_from_the_same_revision_conflict() {
        let (a, b) = (DeviceId::new(), DeviceId::new());
        // Both saw rev 3; a's edit made rev 4; b's arrives based on 3.
        assert!(is_conflict(SAVE, Some(3), written(4, a), b));
        // b had seen a's write: no conflict.
        assert!(!is_conflict(SAVE, Some(4), written(4, a), b));
    }

    #[test]
    fn a_save_without_a_base_over_another_devices_write_conflicts_an_action_does_not() {
        let (a, b) = (DeviceId::new(), DeviceId::new());
        assert!(is_conflict(SAVE, None, written(2, a), b));
        assert!(!is_conflict(CONFIRM, None, written(2, a), b));
        assert!(is_conflict(CONFIRM, Some(1), written(2, a), b));
    }

    #[test]
    fn a_record_of_unknown_last_writer_conflicts_unless_the_base_matches() {
        let b = DeviceId::new();
        let unknown = Some(LastWrite {
            rev: 2,
            device: None,
        });
        assert!(is_conflict(SAVE, Some(1), unknown, b));
        assert!(!is_conflict(SAVE, Some(2), unknown, b));
    }
}
