//! The device outbox as data plus pure functions: enqueueing with coalescing, choosing push
//! batches under both protocol limits, applying acks and gaps, the pull-overwrite rule, and the
//! retry backoff schedule. The PWA persists `Outbox` in IndexedDB and does the HTTP; nothing
//! here does I/O or reads a clock or a random source (they are passed in).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{DeviceId, MutationId};
use crate::protocol::{
    AckStatus, Change, ErrorBody, MAX_BATCH_BYTES, MAX_BATCH_MUTATIONS, Mutation, MutationPayload,
    PushRequest, PushResponse,
};

/// Where an outbox entry stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EntryState {
    /// Waiting to be sent.
    Pending,
    /// Sent in the current push; no answer yet. Never coalesced into: the server may have
    /// applied it already.
    InFlight,
    /// The server refused it; kept and shown in the "sync errors" list, never resent.
    Rejected { error: ErrorBody },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub mutation: Mutation,
    pub state: EntryState,
    /// Sent at least once. The server may have applied it even if no answer came back, so its
    /// payload is frozen: a later save must be a new mutation, never coalesced into this one
    /// (a resend would be answered `duplicate` and the newer content silently lost).
    #[serde(default)]
    pub sent: bool,
}

/// What `enqueue` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new entry with this seq.
    Appended(u64),
    /// The payload replaced that of the unsent save with this seq.
    Coalesced(u64),
}

/// What applying a push response changed, for the app to update its records in the same
/// IndexedDB transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyOutcome {
    /// Applied or duplicate: (mutation, entity, new server rev). Removed from the outbox.
    pub acked: Vec<(MutationId, Uuid, Option<i64>)>,
    /// Moved to the sync-errors list.
    pub rejected: Vec<MutationId>,
    /// The server asked to resend from this seq; pending entries were renumbered from it.
    pub resend_from: Option<u64>,
}

/// One device's outbox: entries in seq order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    /// The seq the next new mutation gets. The per-device counter starts at 1.
    pub next_seq: u64,
    #[serde(default)]
    pub entries: Vec<OutboxEntry>,
}

impl Default for Outbox {
    fn default() -> Self {
        Self {
            next_seq: 1,
            entries: Vec::new(),
        }
    }
}

impl Outbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a write. A full-record save replaces the payload of an unsent save of the same
    /// entity and kind when that save is the entity's latest queued mutation (so order
    /// relative to the entity's submit/attach mutations is kept); otherwise it is appended.
    pub fn enqueue(
        &mut self,
        mutation_id: MutationId,
        entity_id: Uuid,
        base_rev: Option<i64>,
        payload: &MutationPayload,
    ) -> Enqueued {
        let kind = payload.kind();
        if kind.is_save() {
            let latest = self
                .entries
                .iter_mut()
                .rev()
                .filter(|e| !matches!(e.state, EntryState::Rejected { .. }))
                .find(|e| e.mutation.entity_id == entity_id);
            if let Some(e) = latest
                && e.state == EntryState::Pending
                && !e.sent
                && e.mutation.kind == kind
            {
                e.mutation.payload = payload.to_value();
                return Enqueued::Coalesced(e.mutation.seq);
            }
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.entries.push(OutboxEntry {
            mutation: Mutation::new(mutation_id, seq, entity_id, base_rev, payload),
            state: EntryState::Pending,
            sent: false,
        });
        Enqueued::Appended(seq)
    }

    /// Mutations still to be delivered (pending or in flight), in seq order.
    pub fn unsent(&self) -> impl Iterator<Item = &Mutation> {
        self.entries
            .iter()
            .filter(|e| !matches!(e.state, EntryState::Rejected { .. }))
            .map(|e| &e.mutation)
    }

    /// The count shown as "unsynced"; logout is refused while it is not zero.
    pub fn unsent_count(&self) -> usize {
        self.unsent().count()
    }

    /// The sync-errors list.
    pub fn rejected(&self) -> impl Iterator<Item = (&Mutation, &ErrorBody)> {
        self.entries.iter().filter_map(|e| match &e.state {
            EntryState::Rejected { error } => Some((&e.mutation, error)),
            _ => None,
        })
    }

    /// The user acknowledged a sync error; only rejected entries can be dismissed.
    pub fn dismiss_rejected(&mut self, mutation_id: MutationId) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| {
            !(e.mutation.mutation_id == mutation_id
                && matches!(e.state, EntryState::Rejected { .. }))
        });
        self.entries.len() != before
    }

    /// Takes the next push batch and marks it in flight; None while a push is outstanding or
    /// nothing is pending.
    pub fn next_batch(&mut self, device_id: DeviceId) -> Option<PushRequest> {
        if self.entries.iter().any(|e| e.state == EntryState::InFlight) {
            return None;
        }
        let pending: Vec<&Mutation> = self
            .entries
            .iter()
            .filter(|e| e.state == EntryState::Pending)
            .map(|e| &e.mutation)
            .collect();
        let n = batch_len(&pending);
        if n == 0 {
            return None;
        }
        let mut mutations = Vec::with_capacity(n);
        for e in self
            .entries
            .iter_mut()
            .filter(|e| e.state == EntryState::Pending)
            .take(n)
        {
            e.state = EntryState::InFlight;
            e.sent = true;
            mutations.push(e.mutation.clone());
        }
        Some(PushRequest {
            device_id,
            mutations,
        })
    }

    /// A transport failure or 5xx: everything in flight goes back to pending, unchanged.
    pub fn push_failed(&mut self) {
        for e in &mut self.entries {
            if e.state == EntryState::InFlight {
                e.state = EntryState::Pending;
            }
        }
    }

    /// Applies a push response: acked entries leave, rejected ones move to the errors list,
    /// unanswered ones go back to pending, and a gap renumbers the pending entries from the
    /// seq the server expects (they were never applied: the server dedupes by mutation id
    /// before it checks the seq).
    pub fn apply_response(&mut self, resp: &PushResponse) -> ApplyOutcome {
        let mut out = ApplyOutcome::default();
        for ack in &resp.acks {
            let Some(pos) = self
                .entries
                .iter()
                .position(|e| e.mutation.mutation_id == ack.mutation_id)
            else {
                continue; // Already applied from an earlier response.
            };
            match ack.status {
                AckStatus::Applied | AckStatus::Duplicate => {
                    let entry = self.entries.remove(pos);
                    let entity = entry.mutation.entity_id;
                    if let Some(rev) = ack.rev {
                        // Our own write is now the revision we have seen of the entity.
                        for e in &mut self.entries {
                            if e.mutation.entity_id == entity
                                && e.mutation.kind.entity() == entry.mutation.kind.entity()
                                && e.state == EntryState::Pending
                                && e.mutation.base_rev.is_none_or(|b| b < rev)
                            {
                                e.mutation.base_rev = Some(rev);
                            }
                        }
                    }
                    out.acked.push((ack.mutation_id, entity, ack.rev));
                }
                AckStatus::Rejected => {
                    let error = ack
                        .error
                        .clone()
                        .unwrap_or_else(|| ErrorBody::new("rejected", "服务器拒绝了此项修改"));
                    self.entries[pos].state = EntryState::Rejected { error };
                    out.rejected.push(ack.mutation_id);
                }
            }
        }
        self.push_failed();
        if let Some(gap) = resp.gap {
            let mut seq = gap.expected;
            for e in self
                .entries
                .iter_mut()
                .filter(|e| e.state == EntryState::Pending)
            {
                e.mutation.seq = seq;
                seq += 1;
            }
            self.next_seq = seq;
            out.resend_from = Some(gap.expected);
        }
        out
    }

    /// Whether a write to `entity_id` is still waiting to reach the server.
    pub fn has_unsent_for(&self, entity_id: Uuid) -> bool {
        self.unsent().any(|m| m.entity_id == entity_id)
    }

    /// Pulled changes never overwrite an entity that has an unsent local write.
    pub fn should_apply_pulled(&self, change: &Change) -> bool {
        !self.has_unsent_for(change.id)
    }
}

/// Overhead of the push envelope around the mutations (`{"device_id":"…","mutations":[]}`).
const ENVELOPE_BYTES: usize = 96;

/// How many of `mutations` (from the front) fit one push: at most `MAX_BATCH_MUTATIONS` and
/// `MAX_BATCH_BYTES` serialized. A single mutation larger than the byte limit is still sent
/// alone, or the queue would stall behind it (the server's own limit is `MAX_JSON_BYTES`).
pub fn batch_len(mutations: &[&Mutation]) -> usize {
    let mut bytes = ENVELOPE_BYTES;
    let mut n = 0;
    for m in mutations.iter().take(MAX_BATCH_MUTATIONS) {
        let size = m.wire_size() + 1;
        if n > 0 && bytes + size > MAX_BATCH_BYTES {
            break;
        }
        bytes += size;
        n += 1;
    }
    n
}

/// First retry delay.
pub const BACKOFF_BASE: Duration = Duration::from_secs(2);
/// Longest retry delay.
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// The delay before retry number `attempt` (0-based) after a transport failure or 5xx:
/// exponential from `BACKOFF_BASE`, capped at `BACKOFF_MAX`, with "equal jitter" — half the
/// step fixed, half scaled by `random` in [0, 1) — so devices that lost the link together do
/// not retry together, and no delay is ever zero.
pub fn backoff_delay(attempt: u32, random: f64) -> Duration {
    let step = BACKOFF_BASE
        .checked_mul(2u32.saturating_pow(attempt.min(31)))
        .unwrap_or(BACKOFF_MAX)
        .min(BACKOFF_MAX);
    let r = if random.is_finite() {
        random.clamp(0.0, 1.0)
    } else {
        0.5
    };
    step / 2 + step.mul_f64(r) / 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PhotoHash;
    use crate::model::{PhotoMeta, PhotoOwner, PhotoRole};
    use crate::protocol::tests::{finding, inspection, t0};
    use crate::protocol::{Ack, CommentPayload, Gap, MutationKind};

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
    fn repeated_saves_of_an_unsent_record_coalesce_into_one() {
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
    fn a_save_after_a_submit_is_not_coalesced_past_it() {
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
    fn a_save_in_flight_is_never_coalesced_into() {
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
    fn a_save_that_was_sent_once_is_never_coalesced_into_even_after_a_failed_push() {
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
    fn saves_of_different_entities_are_not_coalesced() {
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
        let next = o
            .entries
            .iter()
            .find(|e| e.state == EntryState::Pending)
            .unwrap();
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
                        ErrorBody::new("validation", "重大隐患至少需要一张照片")
                            .with_field("photos"),
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
        assert!(o.entries.is_empty());
    }

    #[test]
    fn an_ack_bumps_base_rev_of_later_writes_to_the_same_entity() {
        let mut o = Outbox::new();
        let f = finding();
        o.enqueue(MutationId::new(), f.id.0, None, &save(&f));
        let b = o.next_batch(DeviceId::new()).unwrap();
        o.enqueue(MutationId::new(), f.id.0, None, &submit());
        o.apply_response(&PushResponse {
            acks: vec![ack(&b.mutations[0], AckStatus::Applied, Some(1))],
            gap: None,
        });
        assert_eq!(o.unsent().next().unwrap().base_rev, Some(1));
    }

    #[test]
    fn unanswered_mutations_return_to_pending() {
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
        assert!(o.entries.iter().all(|e| e.state == EntryState::Pending));
    }

    #[test]
    fn a_gap_renumbers_pending_mutations_from_the_expected_seq() {
        let mut o = Outbox::new();
        for _ in 0..3 {
            let g = finding();
            o.enqueue(MutationId::new(), g.id.0, None, &save(&g));
        }
        o.next_batch(DeviceId::new()).unwrap();
        // The server's counter is at 7 (e.g. the device's was reset): nothing applied.
        let out = o.apply_response(&PushResponse {
            acks: vec![],
            gap: Some(Gap { expected: 7 }),
        });
        assert_eq!(out.resend_from, Some(7));
        assert_eq!(seqs(&o), [7, 8, 9]);
        assert_eq!(o.next_seq, 10);
        let b = o.next_batch(DeviceId::new()).unwrap();
        assert_eq!(b.mutations[0].seq, 7);
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
            gap: Some(Gap { expected: 2 }),
        });
        assert_eq!(out.acked.len(), 1);
        assert_eq!(seqs(&o), [2, 3, 4]);
        let order: Vec<_> = o.unsent().map(|m| m.entity_id).collect();
        assert_eq!(order, ids[1..].iter().map(|i| i.0).collect::<Vec<_>>());
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
}
