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
    AckStatus, ErrorBody, MAX_BATCH_BYTES, MAX_BATCH_MUTATIONS, MAX_PROBE_ACKED, Mutation,
    MutationKind, MutationPayload, PushRequest, PushResponse,
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
                signature: None,
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
/// `sent_log` is the device's sent log in seq order; its latest entries' ids go with the probe.
pub fn probe(device_id: DeviceId, next_seq: u64, sent_log: &[OutboxEntry]) -> PushRequest {
    let from = sent_log.len().saturating_sub(MAX_PROBE_ACKED);
    PushRequest {
        device_id,
        mutations: Vec::new(),
        next_seq: Some(next_seq),
        acked: sent_log[from..]
            .iter()
            .map(|e| e.mutation.mutation_id)
            .collect(),
        device_time: None,
    }
}

/// The sent-log entries a probe's answer says the server holds as rejected, with the error to
/// show: they leave the sent log for the sync-errors list.
pub fn settle_probe(sent_log: &[OutboxEntry], response: &PushResponse) -> Vec<(u64, ErrorBody)> {
    response
        .acks
        .iter()
        .filter(|ack| ack.status == AckStatus::Rejected)
        .filter_map(|ack| {
            let entry = sent_log
                .iter()
                .find(|e| e.mutation.mutation_id == ack.mutation_id)?;
            let error = ack
                .error
                .clone()
                .unwrap_or_else(|| ErrorBody::new("rejected", "服务器恢复数据后拒绝了这条记录"));
            Some((entry.seq, error))
        })
        .collect()
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

mod memory;

pub use memory::{ApplyOutcome, Enqueued, Outbox};

#[cfg(test)]
mod tests;
