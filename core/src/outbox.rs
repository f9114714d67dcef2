//! The device outbox: the rules every device follows, as pure functions over its stored
//! entries. The PWA keeps one IndexedDB row per [`OutboxEntry`] (keyed by seq) and calls these
//! functions inside its transactions; the fault simulation keeps the same entries in memory
//! ([`Outbox`]). Nothing here does I/O or reads a clock or a random source (they are passed in).
//!
//! - [`plan_edit`]: a new write is appended, or merged into the entity's unsent save;
//! - [`cut_batch`]: the next push, under both protocol limits, only of the signed-in user;
//! - [`settle`]: what a push response means for each entry (acked, rejected, new revisions)
//!   and, at a sequence gap, where to resend from ([`GapPlan`]);
//! - [`on_refused`]: a push refused outright (4xx) is narrowed down to the one entry at fault;
//! - [`applies_pulled`]: a pulled change never overwrites an unsent local write;
//! - [`RecordSync`]: the per-record sync state the inspector sees.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{DeviceId, MutationId, UserId};
use crate::protocol::{
    AckStatus, Change, ErrorBody, MAX_BATCH_BYTES, MAX_BATCH_MUTATIONS, Mutation, MutationKind,
    MutationPayload, PushRequest, PushResponse,
};

/// One queued write as the device stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The mutation's seq, copied out as the store's key.
    pub seq: u64,
    pub mutation: Mutation,
    pub created_at: DateTime<Utc>,
    /// Sent at least once. The server may have applied it even if no answer came back, so its
    /// payload is frozen: a later save must be a new mutation, never merged into this one (a
    /// resend would be answered `duplicate` and the newer content silently lost).
    #[serde(default)]
    pub sent: bool,
    /// The user signed in when it was written: it is pushed only under that user's token.
    /// Absent on entries written before this field existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<UserId>,
}

impl OutboxEntry {
    /// A new entry with seq `seq` (what [`plan_edit`] appends). `payload` is the wire value;
    /// a bulk writer that fills it in later passes `Value::Null`.
    #[allow(clippy::too_many_arguments)]
    pub fn appended(
        seq: u64,
        mutation_id: MutationId,
        entity_id: Uuid,
        kind: MutationKind,
        base_rev: Option<i64>,
        payload: serde_json::Value,
        at: DateTime<Utc>,
        by: Option<UserId>,
    ) -> Self {
        Self {
            seq,
            mutation: Mutation {
                mutation_id,
                seq,
                kind,
                entity_id,
                base_rev,
                payload,
            },
            created_at: at,
            sent: false,
            by,
        }
    }

    /// Whether this entry may be pushed under `user`'s token.
    pub fn pushable_by(&self, user: UserId) -> bool {
        self.by.is_none_or(|by| by == user)
    }
}

/// A write about to be queued.
#[derive(Debug, Clone, Copy)]
pub struct Edit<'a> {
    pub mutation_id: MutationId,
    pub entity_id: Uuid,
    /// The server revision this device last saw of the entity.
    pub base_rev: Option<i64>,
    pub payload: &'a MutationPayload,
    pub at: DateTime<Utc>,
    pub by: Option<UserId>,
}

/// What to store for an edit.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    /// A new entry with the device's next seq; the next seq moves on by one.
    Append(OutboxEntry),
    /// The new payload replaces that of this unsent entry (same seq, same mutation id).
    Merge(OutboxEntry),
}

impl Planned {
    pub fn entry(&self) -> &OutboxEntry {
        match self {
            Planned::Append(e) | Planned::Merge(e) => e,
        }
    }
}

/// Queues a write. A full-record save is merged into the entity's latest queued entry when
/// that entry is an unsent save of the same kind, so order relative to the entity's other
/// mutations (submit, attach) is kept and a day of edits does not queue a copy per keystroke;
/// anything else is appended with `next_seq`. `latest` is the entity's newest queued entry.
pub fn plan_edit(latest: Option<&OutboxEntry>, next_seq: u64, edit: Edit<'_>) -> Planned {
    let kind = edit.payload.kind();
    if kind.is_save()
        && let Some(latest) = latest
        && !latest.sent
        && latest.mutation.kind == kind
        && latest.mutation.entity_id == edit.entity_id
        && latest.by == edit.by
    {
        let mut merged = latest.clone();
        merged.mutation.payload = edit.payload.to_value();
        return Planned::Merge(merged);
    }
    Planned::Append(OutboxEntry::appended(
        next_seq,
        edit.mutation_id,
        edit.entity_id,
        kind,
        edit.base_rev,
        edit.payload.to_value(),
        edit.at,
        edit.by,
    ))
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

/// Why nothing can be pushed although entries are queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CutError {
    /// The oldest entry was written while another user was signed in on this phone.
    #[error("本机有其他用户尚未同步的记录，请由该用户登录后同步")]
    OtherUser,
}

/// The next push: the longest prefix of `queued` (in seq order) that fits the protocol limits,
/// at most `limit` entries, and was written by `user`. Empty when nothing is queued.
pub fn cut_batch(
    queued: &[OutboxEntry],
    user: UserId,
    limit: usize,
) -> Result<&[OutboxEntry], CutError> {
    let own = queued.iter().take_while(|e| e.pushable_by(user)).count();
    if own == 0 && !queued.is_empty() {
        return Err(CutError::OtherUser);
    }
    let mutations: Vec<&Mutation> = queued[..own].iter().map(|e| &e.mutation).collect();
    let n = batch_len(&mutations).min(limit.max(1));
    Ok(&queued[..n])
}

/// Where to go on after the server answered a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapPlan {
    /// The server expects a higher seq than the device's next entry (the device id was used
    /// before, e.g. a copied browser profile): renumber the queued entries from `from`. They
    /// keep their mutation ids, so anything the server did apply is answered `duplicate`.
    Renumber { from: u64 },
    /// The server expects a seq the device already had acknowledged: it lost acknowledged
    /// writes (restored from an older copy). Queue again every acknowledged entry kept in the
    /// device's sent log with seq ≥ `from`, ahead of the queued ones, and renumber all from
    /// `from`. Their mutation ids are unknown to the restored server, so each is applied once.
    Replay { from: u64 },
}

impl GapPlan {
    pub fn from(self) -> u64 {
        match self {
            GapPlan::Renumber { from } | GapPlan::Replay { from } => from,
        }
    }
}

/// What a push response means for the entries of the batch that was sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settlement {
    /// Applied or duplicate: they leave the outbox (into the sent log).
    pub acked: Vec<u64>,
    /// Refused by the rules: moved to the visible sync-errors list, never resent.
    pub rejected: Vec<(u64, ErrorBody)>,
    /// The revision of each entity the server reported, in ack order: this device has now
    /// seen its own write.
    pub revs: Vec<(Uuid, i64)>,
    pub gap: Option<GapPlan>,
}

impl Settlement {
    /// Entries of the batch the server did not answer: they stay queued (and stay `sent`).
    pub fn unanswered<'a>(&self, batch: &'a [OutboxEntry]) -> Vec<&'a OutboxEntry> {
        batch
            .iter()
            .filter(|e| {
                !self.acked.contains(&e.seq) && !self.rejected.iter().any(|(s, _)| *s == e.seq)
            })
            .collect()
    }
}

/// The push that checks, with nothing queued, that the server still holds what it
/// acknowledged: no mutations, the device's next seq. Worth sending only while the sent log
/// holds entries a restored server could have lost.
pub fn probe(device_id: DeviceId, next_seq: u64) -> PushRequest {
    PushRequest {
        device_id,
        mutations: Vec::new(),
        next_seq: Some(next_seq),
    }
}

/// Reads a push response against the batch it answers (empty for a probe); `next_seq` is the
/// seq the device's next new entry gets. Acks for mutations not in the batch (a late answer to
/// an earlier push) are ignored.
pub fn settle(batch: &[OutboxEntry], response: &PushResponse, next_seq: u64) -> Settlement {
    let mut out = Settlement::default();
    for ack in &response.acks {
        let Some(entry) = batch
            .iter()
            .find(|e| e.mutation.mutation_id == ack.mutation_id)
        else {
            continue;
        };
        match ack.status {
            AckStatus::Applied | AckStatus::Duplicate => {
                out.acked.push(entry.seq);
                if let Some(rev) = ack.rev {
                    out.revs.push((entry.mutation.entity_id, rev));
                }
            }
            AckStatus::Rejected => {
                let error = ack
                    .error
                    .clone()
                    .unwrap_or_else(|| ErrorBody::new("rejected", "服务器拒绝了这条记录"));
                out.rejected.push((entry.seq, error));
            }
        }
    }
    if let Some(gap) = response.gap {
        let next = out.unanswered(batch).first().map_or(next_seq, |e| e.seq);
        out.gap = Some(if gap.expected < next {
            GapPlan::Replay { from: gap.expected }
        } else {
            GapPlan::Renumber { from: gap.expected }
        });
    }
    out
}

/// Gives `entries` (in order) consecutive seqs from `from`; returns the device's next seq.
pub fn renumber(entries: &mut [OutboxEntry], from: u64) -> u64 {
    let mut seq = from;
    for e in entries {
        e.seq = seq;
        e.mutation.seq = seq;
        seq += 1;
    }
    seq
}

/// The entries to queue after a gap, in push order: for a replay, the sent log's entries from
/// the expected seq on, then the queued ones; renumbered from the expected seq. A replayed
/// entry is marked sent (its payload must stay as the server first saw it).
pub fn after_gap(
    plan: GapPlan,
    sent_log: &[OutboxEntry],
    queued: &[OutboxEntry],
) -> (Vec<OutboxEntry>, u64) {
    let mut entries: Vec<OutboxEntry> = match plan {
        GapPlan::Replay { from } => sent_log
            .iter()
            .filter(|e| e.seq >= from)
            .cloned()
            .map(|mut e| {
                e.sent = true;
                e
            })
            .collect(),
        GapPlan::Renumber { .. } => Vec::new(),
    };
    entries.sort_by_key(|e| e.seq);
    entries.extend(queued.iter().cloned());
    let next = renumber(&mut entries, plan.from());
    (entries, next)
}

/// What to do when the server refused a whole push outright (a 4xx other than an expired
/// login: malformed, too large, …). Resending it unchanged would fail for ever.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Send only the first `len` entries next, to find the one at fault.
    Narrow { len: usize },
    /// This single entry is at fault: move it to the sync-errors list with the server's reason.
    Reject { seq: u64, error: ErrorBody },
}

/// Halves a refused batch until the entry at fault is alone, then rejects that entry.
pub fn on_refused(batch: &[OutboxEntry], error: ErrorBody) -> Option<Refusal> {
    match batch {
        [] => None,
        [one] => Some(Refusal::Reject {
            seq: one.seq,
            error,
        }),
        _ => Some(Refusal::Narrow {
            len: batch.len() / 2,
        }),
    }
}

/// Pulled changes never overwrite an entity that has a queued local write: the local edit
/// wins on the device and reaches the server next.
pub fn applies_pulled(entity_id: Uuid, queued: &[OutboxEntry]) -> bool {
    !queued.iter().any(|e| e.mutation.entity_id == entity_id)
}

/// Entity ids with parts not yet on the server, for the per-record sync state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnsyncedEntities {
    pub queued: Vec<Uuid>,
    pub rejected: Vec<Uuid>,
    pub photos: Vec<Uuid>,
}

/// Per-record sync state as the inspector sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordSync {
    /// 待同步
    Pending,
    /// 同步中
    Syncing,
    /// 照片待上传
    PhotosPending,
    /// 出错
    Error,
    /// 已同步 (with the server's receipt: evidence complete)
    Synced,
    /// A colleague's record pulled from the server: nothing of it is this phone's to send.
    FromServer,
}

impl RecordSync {
    /// The state of a record made of `ids` (an inspection and its findings). `own` says whether
    /// the record was made by the signed-in user (a colleague's pulled inspection is not this
    /// phone's unsynced work, whatever its receipt says).
    pub fn of(
        ids: &[Uuid],
        unsynced: &UnsyncedEntities,
        running: bool,
        receipt_complete: bool,
        own: bool,
    ) -> Self {
        let any = |list: &[Uuid]| list.iter().any(|id| ids.contains(id));
        if any(&unsynced.rejected) {
            Self::Error
        } else if any(&unsynced.queued) {
            if running {
                Self::Syncing
            } else {
                Self::Pending
            }
        } else if any(&unsynced.photos) {
            if running {
                Self::Syncing
            } else {
                Self::PhotosPending
            }
        } else if receipt_complete {
            Self::Synced
        } else if !own {
            Self::FromServer
        } else {
            Self::Pending
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Pending => "待同步",
            Self::Syncing => "同步中",
            Self::PhotosPending => "照片待上传",
            Self::Error => "出错",
            Self::Synced => "已同步 · 证据已全部上传",
            Self::FromServer => "同事的记录 · 已在服务器",
        }
    }
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
        })
    }

    /// With nothing queued or in flight but acknowledged entries in the sent log: the probe
    /// that tells whether the server still holds them (answer it with `apply_response`).
    pub fn probe(&self, device_id: DeviceId) -> Option<PushRequest> {
        (self.in_flight == 0 && self.queued.is_empty() && !self.sent_log.is_empty())
            .then(|| probe(device_id, self.next_seq))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PhotoHash;
    use crate::model::{PhotoMeta, PhotoOwner, PhotoRole};
    use crate::protocol::tests::{finding, inspection, t0};
    use crate::protocol::{Ack, Change, CommentPayload, Gap};

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
}
