//! The outbox, the sent log and the sync-errors list in IndexedDB. Every rule is core's
//! (`zhicha_core::outbox`): this module loads the entries a rule needs, calls it, and saves
//! what it decided, each step in one transaction.

use chrono::{DateTime, Duration, Utc};
use js_sys::Reflect;
use rexie::{KeyRange, Transaction};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use zhicha_core::ids::MutationId;
use zhicha_core::model::User;
use zhicha_core::outbox::{self, Edit, GapPlan, OutboxEntry, Planned, Settlement};
use zhicha_core::protocol::{ErrorBody, Mutation, MutationPayload};

use super::access::key;
use super::photos::uuid_of;
use super::pull::rev_key;
use super::schema::{
    BY_ENTITY, BY_PENDING, DOCUMENTS, ENTERPRISES, FINDINGS, INSPECTIONS, ITEM_RESULTS, META,
    OUTBOX, PHOTOS, ROSTER, SENT, SYNC_ERRORS,
};
use super::session::{SESSION_KEY, Session};
use super::{Db, StorageError, from_js, to_js, write_all};

/// One queued mutation as stored (core's entry, keyed by its seq).
pub type OutboxRecord = OutboxEntry;

/// The next protocol seq to hand out; seqs are strictly increasing by 1 per device.
pub(super) const NEXT_SEQ_KEY: &str = "next_seq";
/// The user whose records the device holds; set at login, kept across logouts, so that the
/// next login as someone else can tell (`Db::switch_user`).
const OWNER_KEY: &str = "owner";
pub(super) const PULL_CURSOR_KEY: &str = "pull_cursor";
/// Acknowledged mutations are kept this long for a replay to a restored server.
const SENT_LOG_DAYS: i64 = 30;
/// And at most this many.
const SENT_LOG_MAX: usize = 20_000;

/// A mutation the server rejected, kept for the inspector to fix and resend or discard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncErrorRecord {
    pub mutation_id: MutationId,
    pub mutation: Mutation,
    pub error: ErrorBody,
    pub at: DateTime<Utc>,
}

/// What is on the device and not yet on the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnsyncedCounts {
    pub mutations: u32,
    pub photos: u32,
    pub errors: u32,
}

impl UnsyncedCounts {
    pub fn any(&self) -> bool {
        self.mutations + self.photos + self.errors > 0
    }
}

/// Why another user may not sign in on this phone now.
#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    #[error(
        "本机还有上一位用户未同步的记录（{} 条记录、{} 张照片、{} 条同步错误）。请由该用户登录并同步后再换人登录。",
        .0.mutations, .0.photos, .0.errors
    )]
    Unsynced(UnsyncedCounts),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

async fn get_in<T: serde::de::DeserializeOwned>(
    tx: &Transaction,
    store: &str,
    k: JsValue,
) -> Result<Option<T>, StorageError> {
    tx.store(store)?.get(k).await?.map(from_js).transpose()
}

/// Queues a write for `entity_id` inside the caller's transaction (which must include
/// `OUTBOX` and `META`): core decides whether it is a new entry or merged into the entity's
/// unsent save.
pub(super) async fn enqueue(
    tx: &Transaction,
    entity_id: uuid::Uuid,
    payload: &MutationPayload,
) -> Result<(), StorageError> {
    let meta = tx.store(META)?;
    let seq_key = JsValue::from_str(NEXT_SEQ_KEY);
    let next_seq: u64 = get_in(tx, META, seq_key.clone()).await?.unwrap_or(1);
    // The revision this device last saw, so the server can tell an edit from a conflict.
    let base_rev: Option<i64> = get_in(tx, META, key(rev_key(entity_id))).await?;
    let by = get_in::<Session>(tx, META, key(SESSION_KEY))
        .await?
        .map(|s| s.user.id);
    let outbox = tx.store(OUTBOX)?;
    // A database still at an older schema (only ever opened so by the upgrade tests) has no
    // index by entity: the whole queue is read instead.
    let rows = match outbox.index(BY_ENTITY) {
        Ok(index) => index.get_all(Some(only(key(entity_id))?), None).await?,
        Err(_) => outbox.get_all(None, None).await?,
    };
    let latest: Option<OutboxRecord> = rows
        .into_iter()
        .map(from_js::<OutboxRecord>)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|e| e.mutation.entity_id == entity_id)
        .max_by_key(|e| e.seq);
    let edit = Edit {
        mutation_id: MutationId::new(),
        entity_id,
        base_rev,
        payload,
        at: Utc::now(),
        by,
    };
    match outbox::plan_edit(latest.as_ref(), next_seq, edit) {
        Planned::Append(entry) => {
            outbox.add(&to_js(&entry)?, None).await?;
            meta.put(&to_js(&(next_seq + 1))?, Some(&seq_key)).await?;
        }
        Planned::Merge(entry) => {
            outbox.put(&to_js(&entry)?, None).await?;
        }
    }
    Ok(())
}

pub(super) fn only(value: JsValue) -> Result<KeyRange, StorageError> {
    KeyRange::only(&value).map_err(|e| StorageError::from(rexie::Error::from(e)))
}

impl Db {
    /// The oldest `limit` queued mutations, in seq order.
    pub async fn outbox(&self, limit: u32) -> Result<Vec<OutboxRecord>, StorageError> {
        let tx = self.read(&[OUTBOX])?;
        let values = tx.store(OUTBOX)?.get_all(None, Some(limit)).await?;
        values.into_iter().map(from_js).collect()
    }

    /// The seq the device's next new mutation will get.
    pub async fn next_seq(&self) -> Result<u64, StorageError> {
        Ok(self.get_meta(NEXT_SEQ_KEY).await?.unwrap_or(1))
    }

    /// Marks entries as sent before they go out: from now on they are frozen (core never
    /// merges a later edit into an entry the server may have applied).
    pub async fn mark_sent(&self, batch: &[OutboxRecord]) -> Result<(), StorageError> {
        let rows = batch
            .iter()
            .filter(|e| !e.sent)
            .map(|e| {
                to_js(&OutboxRecord {
                    sent: true,
                    ..e.clone()
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if rows.is_empty() {
            return Ok(());
        }
        let tx = self.write(&[OUTBOX])?;
        write_all(tx, async |tx| {
            let outbox = tx.store(OUTBOX)?;
            for row in &rows {
                outbox.put(row, None).await?;
            }
            Ok(())
        })
        .await
    }

    /// Stores what core read from a push response, at once: acknowledged entries move to the
    /// sent log, rejected ones to the visible sync-errors list, the reported revisions are
    /// recorded. A gap is handled after this (`recover_gap`).
    pub async fn settle_push(
        &self,
        batch: &[OutboxRecord],
        settlement: &Settlement,
    ) -> Result<(), StorageError> {
        let now = Utc::now();
        let sent = batch
            .iter()
            .filter(|e| settlement.acked.contains(&e.seq))
            .map(|e| {
                to_js(&OutboxRecord {
                    sent: true,
                    ..e.clone()
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let errors = settlement
            .rejected
            .iter()
            .filter_map(|(seq, error)| {
                let entry = batch.iter().find(|e| e.seq == *seq)?;
                Some(to_js(&SyncErrorRecord {
                    mutation_id: entry.mutation.mutation_id,
                    mutation: entry.mutation.clone(),
                    error: error.clone(),
                    at: now,
                }))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let gone: Vec<u64> = settlement
            .acked
            .iter()
            .copied()
            .chain(settlement.rejected.iter().map(|(seq, _)| *seq))
            .collect();
        let tx = self.write(&[OUTBOX, SENT, SYNC_ERRORS, META])?;
        write_all(tx, async |tx| {
            let outbox = tx.store(OUTBOX)?;
            for seq in &gone {
                outbox.delete(JsValue::from_f64(*seq as f64)).await?;
            }
            let log = tx.store(SENT)?;
            for row in &sent {
                log.put(row, None).await?;
            }
            let meta = tx.store(META)?;
            for (id, rev) in &settlement.revs {
                meta.put(&to_js(rev)?, Some(&key(rev_key(*id)))).await?;
            }
            let list = tx.store(SYNC_ERRORS)?;
            for row in &errors {
                list.put(row, None).await?;
            }
            Ok(())
        })
        .await
    }

    /// Moves one queued entry the server refused outright to the sync-errors list.
    pub async fn reject_queued(
        &self,
        entry: &OutboxRecord,
        error: &ErrorBody,
    ) -> Result<(), StorageError> {
        let row = to_js(&SyncErrorRecord {
            mutation_id: entry.mutation.mutation_id,
            mutation: entry.mutation.clone(),
            error: error.clone(),
            at: Utc::now(),
        })?;
        let tx = self.write(&[OUTBOX, SYNC_ERRORS])?;
        write_all(tx, async |tx| {
            tx.store(OUTBOX)?
                .delete(JsValue::from_f64(entry.seq as f64))
                .await?;
            tx.store(SYNC_ERRORS)?.put(&row, None).await?;
            Ok(())
        })
        .await
    }

    /// Carries out core's plan after a sequence gap, in one transaction: the queue (and for a
    /// replay, the sent log's entries from the expected seq on) renumbered from where the
    /// server expects, and the device's next seq after them. For a replay, every photo on the
    /// device is checked against the server again and every receipt is asked for again: the
    /// server may have lost those too.
    pub async fn recover_gap(&self, plan: GapPlan) -> Result<(), StorageError> {
        let tx = self.write(&[OUTBOX, SENT, META, PHOTOS])?;
        write_all(tx, async |tx| {
            let outbox = tx.store(OUTBOX)?;
            let queued: Vec<OutboxRecord> = outbox
                .get_all(None, None)
                .await?
                .into_iter()
                .map(from_js)
                .collect::<Result<_, _>>()?;
            let log = tx.store(SENT)?;
            let logged: Vec<OutboxRecord> = match plan {
                GapPlan::Replay { from } => log
                    .get_all(Some(lower_bound(from)?), None)
                    .await?
                    .into_iter()
                    .map(from_js)
                    .collect::<Result<_, _>>()?,
                GapPlan::Renumber { .. } => Vec::new(),
            };
            let (entries, next) = outbox::after_gap(plan, &logged, &queued);
            outbox.clear().await?;
            for entry in &logged {
                log.delete(JsValue::from_f64(entry.seq as f64)).await?;
            }
            for entry in &entries {
                outbox.add(&to_js(entry)?, None).await?;
            }
            let meta = tx.store(META)?;
            meta.put(&to_js(&next)?, Some(&JsValue::from_str(NEXT_SEQ_KEY)))
                .await?;
            if matches!(plan, GapPlan::Replay { .. }) {
                for k in meta.get_all_keys(None, None).await? {
                    if k.as_string().is_some_and(|k| k.starts_with("receipt/")) {
                        meta.delete(k).await?;
                    }
                }
                let photos = tx.store(PHOTOS)?;
                for row in photos.get_all(None, None).await? {
                    Reflect::set(&row, &JsValue::from_str("pending"), &JsValue::from_f64(1.0))
                        .map_err(|e| StorageError::Format(format!("{e:?}")))?;
                    photos.put(&row, None).await?;
                }
            }
            Ok(())
        })
        .await
    }

    /// Drops sent-log entries older than the replay window (and beyond its cap).
    pub async fn prune_sent_log(&self, now: DateTime<Utc>) -> Result<(), StorageError> {
        let cutoff = now - Duration::days(SENT_LOG_DAYS);
        let tx = self.write(&[SENT])?;
        write_all(tx, async |tx| {
            let log = tx.store(SENT)?;
            let entries: Vec<OutboxRecord> = log
                .get_all(None, None)
                .await?
                .into_iter()
                .map(from_js)
                .collect::<Result<_, _>>()?;
            let over = entries.len().saturating_sub(SENT_LOG_MAX);
            for (i, entry) in entries.iter().enumerate() {
                if i < over || entry.created_at < cutoff {
                    log.delete(JsValue::from_f64(entry.seq as f64)).await?;
                }
            }
            Ok(())
        })
        .await
    }

    /// Moves sent-log entries (by seq) to the sync-errors list with the server's reason: a
    /// probe found the server holding them as rejected.
    pub async fn reject_sent(&self, refused: &[(u64, ErrorBody)]) -> Result<(), StorageError> {
        if refused.is_empty() {
            return Ok(());
        }
        let tx = self.write(&[SENT, SYNC_ERRORS])?;
        write_all(tx, async |tx| {
            let log = tx.store(SENT)?;
            let errors = tx.store(SYNC_ERRORS)?;
            for (seq, error) in refused {
                let key = JsValue::from_f64(*seq as f64);
                let Some(entry) = get_in::<OutboxRecord>(tx, SENT, key.clone()).await? else {
                    continue;
                };
                let row = to_js(&SyncErrorRecord {
                    mutation_id: entry.mutation.mutation_id,
                    mutation: entry.mutation.clone(),
                    error: error.clone(),
                    at: Utc::now(),
                })?;
                errors.put(&row, None).await?;
                log.delete(key).await?;
            }
            Ok(())
        })
        .await
    }

    /// Whether any acknowledged entry is kept for a replay.
    pub async fn has_sent_log(&self) -> Result<bool, StorageError> {
        let tx = self.read(&[SENT])?;
        Ok(tx.store(SENT)?.count(None).await? > 0)
    }

    /// The acknowledged entries kept for a replay, in seq order.
    pub async fn sent_log(&self) -> Result<Vec<OutboxRecord>, StorageError> {
        let tx = self.read(&[SENT])?;
        let values = tx.store(SENT)?.get_all(None, None).await?;
        values.into_iter().map(from_js).collect()
    }

    pub async fn sync_errors(&self) -> Result<Vec<SyncErrorRecord>, StorageError> {
        let tx = self.read(&[SYNC_ERRORS])?;
        let values = tx.store(SYNC_ERRORS)?.get_all(None, None).await?;
        values.into_iter().map(from_js).collect()
    }

    /// Drops a rejected mutation the inspector chose to discard.
    pub async fn discard_sync_error(&self, id: MutationId) -> Result<(), StorageError> {
        let tx = self.write(&[SYNC_ERRORS])?;
        write_all(tx, async |tx| {
            Ok(tx.store(SYNC_ERRORS)?.delete(key(id)).await?)
        })
        .await
    }

    /// Queues a rejected mutation again (after the inspector fixed what the server said) as a
    /// new mutation with a new id and seq, and removes it from the sync errors.
    pub async fn resend_sync_error(&self, id: MutationId) -> Result<(), StorageError> {
        let tx = self.write(&[SYNC_ERRORS, OUTBOX, META])?;
        write_all(tx, async |tx| {
            let errors = tx.store(SYNC_ERRORS)?;
            let record: SyncErrorRecord = get_in(tx, SYNC_ERRORS, key(id))
                .await?
                .ok_or_else(|| StorageError::NotFound(format!("同步错误 {id}")))?;
            let payload = record
                .mutation
                .decode()
                .map_err(|e| StorageError::Format(e.to_string()))?;
            enqueue(tx, record.mutation.entity_id, &payload).await?;
            errors.delete(key(id)).await?;
            Ok(())
        })
        .await
    }

    /// What has not reached the server: queued mutations, photos, rejected mutations.
    pub async fn unsynced_counts(&self) -> Result<UnsyncedCounts, StorageError> {
        let tx = self.read(&[OUTBOX, PHOTOS, SYNC_ERRORS])?;
        Ok(UnsyncedCounts {
            mutations: tx.store(OUTBOX)?.count(None).await?,
            photos: tx.store(PHOTOS)?.index(BY_PENDING)?.count(None).await?,
            errors: tx.store(SYNC_ERRORS)?.count(None).await?,
        })
    }

    /// The entity ids with something not yet on the server: queued mutations, rejected ones and
    /// the owners of photos not yet uploaded.
    pub async fn unsynced_entities(
        &self,
    ) -> Result<zhicha_core::outbox::UnsyncedEntities, StorageError> {
        let queued = self
            .outbox(u32::MAX)
            .await?
            .into_iter()
            .map(|r| r.mutation.entity_id)
            .collect();
        let rejected = self
            .sync_errors()
            .await?
            .into_iter()
            .map(|r| r.mutation.entity_id)
            .collect();
        let mut photos = Vec::new();
        for hash in self.pending_photos().await? {
            if let Some(photo) = self.photo(&hash).await? {
                photos.push(uuid_of(&photo.meta.owner));
            }
        }
        Ok(zhicha_core::outbox::UnsyncedEntities {
            queued,
            rejected,
            photos,
        })
    }

    /// The user whose records this phone holds, if anyone has signed in.
    pub async fn owner(&self) -> Result<Option<User>, StorageError> {
        match self.get_meta::<User>(OWNER_KEY).await? {
            Some(owner) => Ok(Some(owner)),
            // Before the owner was recorded, the stored session said whose records these are.
            None => Ok(self.session().await?.map(|s| s.user)),
        }
    }

    /// Checked before a login is sent: another user may not sign in while the phone holds the
    /// previous user's unsynced work (it is theirs, and would otherwise be pushed under the new
    /// user's name or lost). The server checks the same with the device's next seq.
    pub async fn may_sign_in(&self, username: &str) -> Result<(), SwitchError> {
        match self.owner().await? {
            Some(owner) if owner.username != username => {
                let counts = self.unsynced_counts().await?;
                if counts.any() {
                    return Err(SwitchError::Unsynced(counts));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Makes `user` the phone's user before their login is stored. The same user: nothing
    /// changes. Another user: refused while the previous user's work is not all on the server;
    /// otherwise the previous user's records, revisions, receipts, session and pull cursor are
    /// cleared, so the new user starts from what the server lets them see. The device id, its
    /// seq counter and its document-number counters stay: they belong to the phone.
    pub async fn switch_user(&self, user: &User) -> Result<(), SwitchError> {
        let owner = self.owner().await?.map(|o| o.id);
        if owner == Some(user.id) {
            return self.put_meta(OWNER_KEY, user).await.map_err(Into::into);
        }
        let counts = self.unsynced_counts().await?;
        if owner.is_some() && counts.any() {
            return Err(SwitchError::Unsynced(counts));
        }
        let stores = [
            INSPECTIONS,
            ITEM_RESULTS,
            FINDINGS,
            PHOTOS,
            DOCUMENTS,
            ENTERPRISES,
            ROSTER,
            SENT,
            SYNC_ERRORS,
            OUTBOX,
            META,
        ];
        let tx = self.write(&stores)?;
        write_all(tx, async |tx| {
            if owner.is_some() {
                for store in &stores[..stores.len() - 1] {
                    tx.store(store)?.clear().await?;
                }
            }
            let meta = tx.store(META)?;
            for k in meta.get_all_keys(None, None).await? {
                let text = k.as_string().unwrap_or_default();
                let per_user = text == PULL_CURSOR_KEY
                    || text == SESSION_KEY
                    || text.starts_with("rev/")
                    || text.starts_with("receipt/");
                if owner.is_some() && per_user {
                    meta.delete(k).await?;
                }
            }
            meta.put(&to_js(user)?, Some(&JsValue::from_str(OWNER_KEY)))
                .await?;
            Ok(())
        })
        .await?;
        Ok(())
    }
}

fn lower_bound(seq: u64) -> Result<KeyRange, StorageError> {
    KeyRange::lower_bound(&JsValue::from_f64(seq as f64), Some(false))
        .map_err(|e| StorageError::from(rexie::Error::from(e)))
}
