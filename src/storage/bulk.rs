//! Bulk writes: many new findings (with their photos) and their outbox entries in one transaction.
//!
//! The per-edit path (`create_finding`) is what the app uses while an inspector works: each edit
//! is durable the moment it is saved. Bringing in many records at once (an import, a restore, a
//! benchmark against other stores' bulk APIs) would pay one transaction per record that way.
//! Here the whole batch is one transaction: every request is issued without waiting for the one
//! before, seqs are read and advanced once for the batch, and any failure keeps nothing. Each
//! payload is turned into a JS object once and shared by the entity row and its outbox entry
//! (the per-edit path builds the outbox payload through `serde_json::Value` a second time).

use chrono::Utc;
use js_sys::Reflect;
use wasm_bindgen::JsValue;
use zhicha_core::ids::MutationId;
use zhicha_core::model::{Finding, PhotoOwner};
use zhicha_core::outbox::OutboxEntry;
use zhicha_core::protocol::MutationKind;

use super::access::key;
use super::outbox::NEXT_SEQ_KEY;
use super::photos::{photo_row, uuid_of};
use super::pull::rev_key;
use super::schema::{FINDINGS, META, OUTBOX, PHOTOS};
use super::session::{SESSION_KEY, Session};
use super::{Db, NewPhoto, StorageError, from_js, to_js, write_all};

impl Db {
    /// Stores new findings with their photos, all in one transaction: the photos, the findings,
    /// and for each finding in order its `finding.save` then one `photo.attach` per photo, with
    /// consecutive seqs. All or nothing: if any finding already exists (or anything else fails)
    /// none of the batch is kept and the outbox is unchanged. Compress and hash photos first.
    pub async fn import_findings(
        &self,
        findings: &[(Finding, Vec<NewPhoto>)],
    ) -> Result<(), StorageError> {
        if findings.is_empty() {
            return Ok(());
        }
        // Everything that is not IndexedDB (serialising, building mutations) happens before the
        // transaction opens: awaiting anything else inside it would end it.
        let mut finding_rows = Vec::with_capacity(findings.len());
        let mut photo_rows = Vec::new();
        // (entity, kind, payload as a JS object, the entity is one of this batch's new findings)
        let mut payloads = Vec::new();
        for (finding, photos) in findings {
            let row = to_js(finding)?;
            payloads.push((finding.id.0, MutationKind::FindingSave, row.clone(), true));
            finding_rows.push(row);
            for photo in photos {
                photo_rows.push(photo_row(photo)?);
                let new_owner =
                    matches!(&photo.meta.owner, PhotoOwner::Finding(id) if *id == finding.id);
                payloads.push((
                    uuid_of(&photo.meta.owner),
                    MutationKind::PhotoAttach,
                    to_js(&photo.meta)?,
                    new_owner,
                ));
            }
        }
        let created_at = Utc::now();

        let tx = self.write(&[FINDINGS, PHOTOS, OUTBOX, META])?;
        write_all(tx, async |tx| {
            let meta = tx.store(META)?;
            let seq_key = JsValue::from_str(NEXT_SEQ_KEY);
            let first: u64 = meta
                .get(seq_key.clone())
                .await?
                .map(from_js)
                .transpose()?
                .unwrap_or(1);
            let by = meta
                .get(key(SESSION_KEY))
                .await?
                .map(from_js::<Session>)
                .transpose()?
                .map(|s| s.user.id);
            let mut outbox = Vec::with_capacity(payloads.len());
            for (seq, (entity_id, kind, payload, new_entity)) in (first..).zip(&payloads) {
                // A finding of this batch has no server revision; a photo attached to some
                // other record carries the revision this device last saw of that record.
                let base_rev: Option<i64> = if *new_entity {
                    None
                } else {
                    meta.get(key(rev_key(*entity_id)))
                        .await?
                        .map(from_js)
                        .transpose()?
                };
                // Every entry is appended (core's `plan_edit` merges only into an earlier
                // save of the same entity, and these findings are new); the payload is
                // filled in below with the JS object made once for the entity row.
                let record = OutboxEntry::appended(
                    seq,
                    MutationId::new(),
                    *entity_id,
                    *kind,
                    base_rev,
                    serde_json::Value::Null,
                    created_at,
                    by,
                );
                let value = to_js(&record)?;
                let mutation = Reflect::get(&value, &JsValue::from_str("mutation"))
                    .map_err(|e| StorageError::Format(format!("{e:?}")))?;
                Reflect::set(&mutation, &JsValue::from_str("payload"), payload)
                    .map_err(|e| StorageError::Format(format!("{e:?}")))?;
                outbox.push((value, None));
            }
            let next = first + payloads.len() as u64;
            // `add_all`/`put_all` issue every request at once and wait for the last; a failed
            // request aborts the transaction, which `write_all` reports as an error.
            tx.store(PHOTOS)?
                .put_all(photo_rows.into_iter().map(|row| (row, None)))
                .await?;
            tx.store(FINDINGS)?
                .add_all(finding_rows.into_iter().map(|row| (row, None)))
                .await?;
            tx.store(OUTBOX)?.add_all(outbox.into_iter()).await?;
            meta.put(&to_js(&next)?, Some(&seq_key)).await?;
            Ok(())
        })
        .await
    }
}
