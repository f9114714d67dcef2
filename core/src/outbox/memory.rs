//! One device's outbox held in memory, built on the rules of `outbox` exactly as the PWA uses
//! them over IndexedDB: the fault simulation and the property tests drive it against the real
//! server.

use chrono::DateTime;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Edit, GapPlan, OutboxEntry, Planned, Refusal, after_gap, applies_pulled, batch_len, cut_batch,
    on_refused, plan_edit, probe, settle, settle_probe,
};
use crate::ids::{DeviceId, MutationId};
use crate::protocol::{
    Change, ErrorBody, MAX_BATCH_MUTATIONS, Mutation, MutationPayload, PushRequest, PushResponse,
};

/// What `Outbox::enqueue` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new entry with this seq.
    Appended(u64),
    /// The payload replaced that of the unsent save with this seq.
    Coalesced(u64),
}

/// What applying a push response changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyOutcome {
    /// Applied or duplicate: (mutation, entity, new server rev). Removed from the outbox.
    pub acked: Vec<(MutationId, Uuid, Option<i64>)>,
    /// Moved to the sync-errors list.
    pub rejected: Vec<MutationId>,
    /// The server asked to resend from this seq.
    pub gap: Option<GapPlan>,
}

/// One device's outbox held in memory, built on the functions above exactly as the PWA uses
/// them over IndexedDB: the fault simulation and the property tests drive it against the real
/// server. Entries are in seq order; the first `in_flight` of them are in the current push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    /// The seq the next new entry gets. The per-device counter starts at 1.
    pub next_seq: u64,
    #[serde(default)]
    pub queued: Vec<OutboxEntry>,
    #[serde(default)]
    pub in_flight: usize,
    #[serde(default)]
    pub rejected: Vec<(OutboxEntry, ErrorBody)>,
    /// Acknowledged entries, kept to replay after the server lost them (`GapPlan::Replay`).
    #[serde(default)]
    pub sent_log: Vec<OutboxEntry>,
}

impl Default for Outbox {
    fn default() -> Self {
        Self {
            next_seq: 1,
            queued: Vec::new(),
            in_flight: 0,
            rejected: Vec::new(),
            sent_log: Vec::new(),
        }
    }
}

impl Outbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a write (see [`plan_edit`]).
    pub fn enqueue(
        &mut self,
        mutation_id: MutationId,
        entity_id: Uuid,
        base_rev: Option<i64>,
        payload: &MutationPayload,
    ) -> Enqueued {
        let latest = self
            .queued
            .iter()
            .rposition(|e| e.mutation.entity_id == entity_id);
        let edit = Edit {
            mutation_id,
            entity_id,
            base_rev,
            payload,
            at: DateTime::UNIX_EPOCH,
            by: None,
        };
        match plan_edit(latest.map(|i| &self.queued[i]), self.next_seq, edit) {
            Planned::Append(entry) => {
                self.next_seq += 1;
                let seq = entry.seq;
                self.queued.push(entry);
                Enqueued::Appended(seq)
            }
            Planned::Merge(entry) => {
                let seq = entry.seq;
                if let Some(i) = latest {
                    self.queued[i] = entry;
                }
                Enqueued::Coalesced(seq)
            }
        }
    }

    /// Mutations still to be delivered (queued or in flight), in seq order.
    pub fn unsent(&self) -> impl Iterator<Item = &Mutation> {
        self.queued.iter().map(|e| &e.mutation)
    }

    /// The count shown as "unsynced"; logout is refused while it is not zero.
    pub fn unsent_count(&self) -> usize {
        self.queued.len()
    }

    /// The sync-errors list.
    pub fn rejected(&self) -> impl Iterator<Item = (&Mutation, &ErrorBody)> {
        self.rejected.iter().map(|(e, error)| (&e.mutation, error))
    }

    /// The user acknowledged a sync error.
    pub fn dismiss_rejected(&mut self, mutation_id: MutationId) -> bool {
        let before = self.rejected.len();
        self.rejected
            .retain(|(e, _)| e.mutation.mutation_id != mutation_id);
        self.rejected.len() != before
    }

    /// Takes the next push batch and marks it in flight; None while a push is outstanding or
    /// nothing is queued.
    pub fn next_batch(&mut self, device_id: DeviceId) -> Option<PushRequest> {
        self.next_batch_of(device_id, MAX_BATCH_MUTATIONS)
    }

    /// Like `next_batch`, at most `limit` entries (after a refusal narrowed the batch).
    pub fn next_batch_of(&mut self, device_id: DeviceId, limit: usize) -> Option<PushRequest> {
        if self.in_flight > 0 || self.queued.is_empty() {
            return None;
        }
        // Entries made here carry no user: every one is this simulated user's.
        let n = match self.queued.first().and_then(|e| e.by) {
            Some(user) => cut_batch(&self.queued, user, limit).ok()?.len(),
            None => {
                let all: Vec<&Mutation> = self.queued.iter().map(|e| &e.mutation).collect();
                batch_len(&all).min(limit.max(1))
            }
        };
        for e in &mut self.queued[..n] {
            e.sent = true;
        }
        self.in_flight = n;
        Some(PushRequest {
            device_id,
            mutations: self.queued[..n]
                .iter()
                .map(|e| e.mutation.clone())
                .collect(),
            next_seq: Some(self.next_seq),
            acked: Vec::new(),
            device_time: None,
        })
    }

    /// With nothing queued or in flight but acknowledged entries in the sent log: the probe
    /// that tells whether the server still holds them (answer it with `apply_response`).
    pub fn probe(&self, device_id: DeviceId) -> Option<PushRequest> {
        (self.in_flight == 0 && self.queued.is_empty() && !self.sent_log.is_empty())
            .then(|| probe(device_id, self.next_seq, &self.sent_log))
    }

    /// A transport failure or 5xx: everything in flight stays queued, unchanged (and sent).
    pub fn push_failed(&mut self) {
        self.in_flight = 0;
    }

    /// The server refused the push outright (4xx): narrow down or reject (see [`on_refused`]).
    /// Returns the limit for the next batch.
    pub fn push_refused(&mut self, error: ErrorBody) -> usize {
        let batch = &self.queued[..self.in_flight];
        let refusal = on_refused(batch, error);
        self.in_flight = 0;
        match refusal {
            Some(Refusal::Narrow { len }) => len,
            Some(Refusal::Reject { seq, error }) => {
                if let Some(i) = self.queued.iter().position(|e| e.seq == seq) {
                    let entry = self.queued.remove(i);
                    self.rejected.push((entry, error));
                }
                MAX_BATCH_MUTATIONS
            }
            None => MAX_BATCH_MUTATIONS,
        }
    }

    /// Applies a push response (see [`settle`] and [`after_gap`]).
    pub fn apply_response(&mut self, response: &PushResponse) -> ApplyOutcome {
        if self.in_flight == 0 {
            // A probe's answer: acknowledged entries the server holds as rejected.
            for (seq, error) in settle_probe(&self.sent_log, response) {
                if let Some(i) = self.sent_log.iter().position(|e| e.seq == seq) {
                    let entry = self.sent_log.remove(i);
                    self.rejected.push((entry, error));
                }
            }
        }
        let batch: Vec<OutboxEntry> = self.queued[..self.in_flight].to_vec();
        self.in_flight = 0;
        let settled = settle(&batch, response, self.next_seq);
        let mut out = ApplyOutcome {
            gap: settled.gap,
            ..ApplyOutcome::default()
        };
        let mut kept = Vec::with_capacity(self.queued.len());
        for entry in std::mem::take(&mut self.queued) {
            if settled.acked.contains(&entry.seq) {
                let rev = settled
                    .revs
                    .iter()
                    .rev()
                    .find(|(id, _)| *id == entry.mutation.entity_id)
                    .map(|(_, rev)| *rev);
                out.acked
                    .push((entry.mutation.mutation_id, entry.mutation.entity_id, rev));
                self.sent_log.push(entry);
            } else if let Some((_, error)) = settled.rejected.iter().find(|(s, _)| *s == entry.seq)
            {
                out.rejected.push(entry.mutation.mutation_id);
                self.rejected.push((entry, error.clone()));
            } else {
                kept.push(entry);
            }
        }
        self.queued = kept;
        if let Some(plan) = settled.gap {
            let (queued, next) = after_gap(plan, &self.sent_log, &self.queued);
            if let GapPlan::Replay { from } = plan {
                self.sent_log.retain(|e| e.seq < from);
            }
            self.queued = queued;
            self.next_seq = next;
        }
        out
    }

    /// Whether a write to `entity_id` is still waiting to reach the server.
    pub fn has_unsent_for(&self, entity_id: Uuid) -> bool {
        !applies_pulled(entity_id, &self.queued)
    }

    /// Pulled changes never overwrite an entity that has an unsent local write.
    pub fn should_apply_pulled(&self, change: &Change) -> bool {
        applies_pulled(change.id, &self.queued)
    }
}
