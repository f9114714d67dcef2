//! Typed reads and writes of every store: reference data, inspections, findings, photos, outbox.

use chrono::{DateTime, Utc};
use js_sys::Reflect;
use rexie::KeyRange;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Blob;
use zhicha_core::documents::{DeviceCode, DocumentCounter, DocumentNumber};
use zhicha_core::ids::{DeviceId, FindingId, InspectionId, PhotoHash};
use zhicha_core::model::{
    DocumentKind, Enterprise, Finding, FindingStatus, Inspection, IssuedDocument, ItemResult,
    OrgUnit, PhotoMeta, PhotoOwner, User,
};
use zhicha_core::outbox;
use zhicha_core::packs::ChecklistPack;
use zhicha_core::protocol::{BootstrapResponse, Change, EntityKind, MutationPayload};

use super::outbox::{OutboxRecord, PULL_CURSOR_KEY, enqueue, only};
use super::schema::{
    BY_ENTERPRISE, BY_INSPECTION, BY_OWNER, BY_PENDING, BY_STATUS, CASES, DOCUMENTS, ENTERPRISES,
    FINDINGS, INSPECTIONS, ITEM_RESULTS, META, OUTBOX, PACKS, PHOTOS, ROSTER,
};
use super::{Db, StorageError, from_js, to_js, write_all};

pub(crate) const SCHEMA_VERSION_KEY: &str = "schema_version";
const DEVICE_ID_KEY: &str = "device_id";
/// The signed-in session (token, user, expiry), kept so the app opens offline.
pub(crate) const SESSION_KEY: &str = "session";
/// Tokens of sessions logged out on this device, still to be revoked on the server.
const REVOKE_KEY: &str = "revoke_tokens";
/// The device's document-number counters (`documents::DocumentCounter`).
const DOC_COUNTER_KEY: &str = "doc_counter";

pub(super) fn rev_key(id: uuid::Uuid) -> String {
    format!("rev/{id}")
}

/// The signed-in session, kept on the device so the app opens offline until it expires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
    pub device_code: String,
}

/// A compressed, hashed photo ready to store (the pipeline has already run).
pub struct NewPhoto {
    pub meta: PhotoMeta,
    pub blob: Blob,
}

/// A photo as kept on the device.
pub struct StoredPhoto {
    pub meta: PhotoMeta,
    pub blob: Blob,
    /// The server has confirmed it holds the bytes.
    pub uploaded: bool,
}

/// A filter over the offline enterprise directory.
#[derive(Debug, Clone, Default)]
pub struct EnterpriseSearch {
    /// Matches the name, the 统一社会信用代码, the address or the township.
    pub text: String,
}

impl EnterpriseSearch {
    pub fn matches(&self, enterprise: &Enterprise) -> bool {
        let text = self.text.trim();
        text.is_empty()
            || enterprise.name.contains(text)
            || enterprise
                .credit_code
                .as_deref()
                .is_some_and(|c| c.contains(&text.to_uppercase()))
            || enterprise.address.contains(text)
            || enterprise.township.contains(text)
            || enterprise.county.contains(text)
    }
}

#[derive(Serialize, Deserialize)]
struct PackRow {
    key: String,
    pack: ChecklistPack,
}

/// A document issued on the device: its number (the key) and the inspection it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub number: String,
    pub inspection_id: InspectionId,
    pub document: IssuedDocument,
    /// Document-number counters are per device and per kind; kept with the record for audits.
    #[serde(default)]
    pub device_sequence: u32,
}

#[derive(Serialize, Deserialize)]
struct ItemResultRow {
    key: String,
    inspection_id: InspectionId,
    result: ItemResult,
}

#[derive(Serialize, Deserialize)]
pub(super) struct PhotoRow {
    pub(super) hash: PhotoHash,
    pub(super) owner_id: String,
    pub(super) meta: PhotoMeta,
    /// Present (1) only while the server does not hold the bytes: a sparse index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pending: Option<u8>,
}

fn pack_key(id: &str, version: u32) -> String {
    format!("{id}@{version}")
}

pub(super) fn owner_id(owner: &PhotoOwner) -> String {
    match owner {
        PhotoOwner::Finding(id) => id.to_string(),
        PhotoOwner::Inspection(id) => id.to_string(),
    }
}

pub(super) fn key(value: impl ToString) -> JsValue {
    JsValue::from_str(&value.to_string())
}

impl Db {
    /// This device's id, made on first use and kept for the life of the database.
    pub async fn device_id(&self) -> Result<DeviceId, StorageError> {
        if let Some(id) = self.get_meta(DEVICE_ID_KEY).await? {
            return Ok(id);
        }
        let id = DeviceId::new();
        self.put_meta(DEVICE_ID_KEY, &id).await?;
        Ok(id)
    }

    pub async fn session(&self) -> Result<Option<Session>, StorageError> {
        self.get_meta(SESSION_KEY).await
    }

    pub async fn put_session(&self, session: &Session) -> Result<(), StorageError> {
        self.put_meta(SESSION_KEY, session).await
    }

    /// Forgets the signed-in session. Callers check first that nothing is unsynced. Its token
    /// joins the tokens still to be revoked on the server, in the same transaction, so a
    /// logout offline is finished (`revoke_pending`) on the next connection.
    pub async fn clear_session(&self) -> Result<(), StorageError> {
        let Some(session) = self.session().await? else {
            return Ok(());
        };
        let mut pending = self.pending_revocations().await?;
        if !pending.contains(&session.token) {
            pending.push(session.token);
        }
        let pending = to_js(&pending)?;
        let tx = self.write(&[META])?;
        write_all(tx, async |tx| {
            let store = tx.store(META)?;
            store.delete(key(SESSION_KEY)).await?;
            store.put(&pending, Some(&key(REVOKE_KEY))).await?;
            Ok(())
        })
        .await
    }

    /// Tokens of sessions logged out here that the server has not yet been told of.
    pub async fn pending_revocations(&self) -> Result<Vec<String>, StorageError> {
        Ok(self.get_meta(REVOKE_KEY).await?.unwrap_or_default())
    }

    /// The server revoked (or no longer knows) `token`.
    pub async fn revocation_done(&self, token: &str) -> Result<(), StorageError> {
        let mut pending = self.pending_revocations().await?;
        pending.retain(|t| t != token);
        self.put_meta(REVOKE_KEY, &pending).await
    }

    // ----- reference data from the server (no outbox) -----

    pub async fn put_packs(&self, packs: &[ChecklistPack]) -> Result<(), StorageError> {
        let rows: Vec<JsValue> = packs
            .iter()
            .map(|pack| {
                to_js(&PackRow {
                    key: pack_key(pack.id.as_str(), pack.version),
                    pack: pack.clone(),
                })
            })
            .collect::<Result<_, _>>()?;
        let tx = self.write(&[PACKS])?;
        write_all(tx, async |tx| {
            let store = tx.store(PACKS)?;
            for row in &rows {
                store.put(row, None).await?;
            }
            Ok(())
        })
        .await
    }

    pub async fn pack(
        &self,
        id: &str,
        version: u32,
    ) -> Result<Option<ChecklistPack>, StorageError> {
        let tx = self.read(&[PACKS])?;
        let row = tx.store(PACKS)?.get(key(pack_key(id, version))).await?;
        Ok(row.map(from_js::<PackRow>).transpose()?.map(|row| row.pack))
    }

    pub async fn packs(&self) -> Result<Vec<ChecklistPack>, StorageError> {
        let rows: Vec<PackRow> = self.all(PACKS).await?;
        Ok(rows.into_iter().map(|row| row.pack).collect())
    }

    pub async fn put_enterprises(&self, enterprises: &[Enterprise]) -> Result<(), StorageError> {
        self.put_many(ENTERPRISES, enterprises).await
    }

    pub async fn enterprise(&self, id: &str) -> Result<Option<Enterprise>, StorageError> {
        self.get_one(ENTERPRISES, id).await
    }

    /// The offline directory, filtered, sorted by name.
    pub async fn search_enterprises(
        &self,
        search: &EnterpriseSearch,
    ) -> Result<Vec<Enterprise>, StorageError> {
        let mut list: Vec<Enterprise> = self.all(ENTERPRISES).await?;
        list.retain(|e| search.matches(e));
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    pub async fn put_roster(&self, users: &[User]) -> Result<(), StorageError> {
        self.put_many(ROSTER, users).await
    }

    pub async fn roster(&self) -> Result<Vec<User>, StorageError> {
        self.all(ROSTER).await
    }

    // ----- user edits: entity and outbox entry in one transaction -----

    /// Saves an inspection (header, check-in, signatures…) and queues `inspection.save`.
    pub async fn save_inspection(&self, inspection: &Inspection) -> Result<(), StorageError> {
        let value = to_js(inspection)?;
        let payload = MutationPayload::InspectionSave(Box::new(inspection.clone()));
        let tx = self.write(&[INSPECTIONS, OUTBOX, META])?;
        write_all(tx, async |tx| {
            tx.store(INSPECTIONS)?.put(&value, None).await?;
            enqueue(tx, inspection.id.0, &payload).await
        })
        .await
    }

    /// Records one checklist answer: the answer row, the inspection's copy of it and the
    /// `inspection.save` entry, together.
    pub async fn save_item_result(
        &self,
        inspection_id: InspectionId,
        result: &ItemResult,
    ) -> Result<Inspection, StorageError> {
        self.save_item_results(inspection_id, std::slice::from_ref(result), false)
            .await
    }

    /// Records several answers in one transaction (本组全部不涉及): all of them or none. With
    /// `only_open`, an item already answered when the transaction runs keeps its answer.
    pub async fn save_item_results(
        &self,
        inspection_id: InspectionId,
        results: &[ItemResult],
        only_open: bool,
    ) -> Result<Inspection, StorageError> {
        let tx = self.write(&[INSPECTIONS, ITEM_RESULTS, OUTBOX, META])?;
        let mut saved = None;
        write_all(tx, async |tx| {
            let inspections = tx.store(INSPECTIONS)?;
            let current = inspections.get(key(inspection_id)).await?;
            let mut inspection: Inspection = current
                .map(from_js)
                .transpose()?
                .ok_or_else(|| StorageError::NotFound(format!("检查 {inspection_id}")))?;
            let answers = tx.store(ITEM_RESULTS)?;
            for result in results {
                match inspection
                    .item_results
                    .iter_mut()
                    .find(|r| r.item_id == result.item_id)
                {
                    Some(_) if only_open => continue,
                    Some(existing) => *existing = result.clone(),
                    None => inspection.item_results.push(result.clone()),
                }
                let row = to_js(&ItemResultRow {
                    key: format!("{inspection_id}/{}", result.item_id),
                    inspection_id,
                    result: result.clone(),
                })?;
                answers.put(&row, None).await?;
            }
            inspections.put(&to_js(&inspection)?, None).await?;
            let payload = MutationPayload::InspectionSave(Box::new(inspection.clone()));
            enqueue(tx, inspection_id.0, &payload).await?;
            saved = Some(inspection);
            Ok(())
        })
        .await?;
        saved.ok_or_else(|| StorageError::Aborted("检查记录未保存".to_owned()))
    }

    /// Saves an enterprise made on site and queues `enterprise.save`.
    pub async fn save_enterprise(&self, enterprise: &Enterprise) -> Result<(), StorageError> {
        let value = to_js(enterprise)?;
        let payload = MutationPayload::EnterpriseSave(Box::new(enterprise.clone()));
        let tx = self.write(&[ENTERPRISES, OUTBOX, META])?;
        write_all(tx, async |tx| {
            tx.store(ENTERPRISES)?.put(&value, None).await?;
            enqueue(tx, enterprise.id.0, &payload).await
        })
        .await
    }

    /// Saves a finding with any new photos: the photos, the finding, `finding.save` and one
    /// `photo.attach` per photo, all or nothing. Compress and hash photos before calling.
    pub async fn save_finding(
        &self,
        finding: &Finding,
        photos: &[NewPhoto],
    ) -> Result<(), StorageError> {
        self.write_finding(finding, photos, false).await
    }

    /// Like `save_finding` for a finding that must not exist yet (a new id).
    pub async fn create_finding(
        &self,
        finding: &Finding,
        photos: &[NewPhoto],
    ) -> Result<(), StorageError> {
        self.write_finding(finding, photos, true).await
    }

    async fn write_finding(
        &self,
        finding: &Finding,
        photos: &[NewPhoto],
        create: bool,
    ) -> Result<(), StorageError> {
        let value = to_js(finding)?;
        let photo_rows = photos
            .iter()
            .map(photo_row)
            .collect::<Result<Vec<_>, _>>()?;
        let save = MutationPayload::FindingSave(Box::new(finding.clone()));
        let tx = self.write(&[FINDINGS, PHOTOS, OUTBOX, META])?;
        write_all(tx, async |tx| {
            let store = tx.store(PHOTOS)?;
            for row in &photo_rows {
                store.put(row, None).await?;
            }
            let findings = tx.store(FINDINGS)?;
            if create {
                findings.add(&value, None).await?;
            } else {
                findings.put(&value, None).await?;
            }
            enqueue(tx, finding.id.0, &save).await?;
            for photo in photos {
                let attach = MutationPayload::PhotoAttach(Box::new(photo.meta.clone()));
                enqueue(tx, uuid_of(&photo.meta.owner), &attach).await?;
            }
            Ok(())
        })
        .await
    }

    /// Stores a photo that belongs to an inspection (gate photo, signature) and queues it.
    pub async fn attach_inspection_photo(&self, photo: &NewPhoto) -> Result<(), StorageError> {
        let row = photo_row(photo)?;
        let attach = MutationPayload::PhotoAttach(Box::new(photo.meta.clone()));
        let tx = self.write(&[PHOTOS, OUTBOX, META])?;
        write_all(tx, async |tx| {
            tx.store(PHOTOS)?.put(&row, None).await?;
            enqueue(tx, uuid_of(&photo.meta.owner), &attach).await
        })
        .await
    }

    /// A lifecycle step on a finding (submit, reinspect, a leader's decision): the updated
    /// finding and its mutation, together.
    pub async fn record_finding_action(
        &self,
        finding: &Finding,
        action: &MutationPayload,
    ) -> Result<(), StorageError> {
        let value = to_js(finding)?;
        let tx = self.write(&[FINDINGS, OUTBOX, META])?;
        write_all(tx, async |tx| {
            tx.store(FINDINGS)?.put(&value, None).await?;
            enqueue(tx, finding.id.0, action).await
        })
        .await
    }

    /// Records an issued document. A number is issued once: reusing one is an error, never an
    /// overwrite (the paper copy already carries it).
    pub async fn add_document(&self, record: &DocumentRecord) -> Result<(), StorageError> {
        let value = to_js(record)?;
        let tx = self.write(&[DOCUMENTS])?;
        write_all(tx, async |tx| {
            tx.store(DOCUMENTS)?.add(&value, None).await?;
            Ok(())
        })
        .await
    }

    /// Issues numbers for `kinds` and records them on the inspection, all in one transaction
    /// with the device's counters: a number is never issued twice, even if the app is closed
    /// half-way, and the inspection that carries it is queued for sync with it.
    /// A 整改复查意见书 takes the number N of the order it `follows` (its formatted number),
    /// unless this device already issued that 复查 number (a second re-inspection of the same
    /// order), then a new N.
    pub async fn issue_documents(
        &self,
        inspection: &Inspection,
        kinds: &[DocumentKind],
        org_code: &str,
        device: &DeviceCode,
        at: DateTime<Utc>,
        follows: Option<&str>,
    ) -> Result<Inspection, StorageError> {
        let tx = self.write(&[INSPECTIONS, DOCUMENTS, OUTBOX, META])?;
        let mut saved = inspection.clone();
        write_all(tx, async |tx| {
            let meta = tx.store(META)?;
            let counter_key = key(DOC_COUNTER_KEY);
            let mut counter: DocumentCounter = meta
                .get(counter_key.clone())
                .await?
                .map(from_js)
                .transpose()?
                .filter(|c: &DocumentCounter| &c.device == device)
                .unwrap_or_else(|| DocumentCounter::new(device.clone()));
            let documents = tx.store(DOCUMENTS)?;
            for kind in kinds {
                if saved.documents.iter().any(|d| d.kind == *kind) {
                    continue;
                }
                // Every document of the inspection shares one N (reference §3); a 复查 takes
                // its order's.
                let reuse = match follows.map(str::parse::<DocumentNumber>) {
                    Some(Ok(order))
                        if *kind == DocumentKind::ReinspectionOpinion
                            && saved.documents.is_empty() =>
                    {
                        let number = order.with_kind(*kind);
                        let taken = documents.get(number.to_string().into()).await?.is_some();
                        (!taken).then_some(number)
                    }
                    _ => None,
                };
                let number = match reuse {
                    Some(number) => number,
                    None => counter.number_for(org_code, &saved.documents, *kind, at),
                };
                let document = IssuedDocument {
                    kind: *kind,
                    number: number.to_string(),
                    issued_at: at,
                    service: None,
                };
                let record = DocumentRecord {
                    number: document.number.clone(),
                    inspection_id: saved.id,
                    document: document.clone(),
                    device_sequence: number.seq,
                };
                documents.add(&to_js(&record)?, None).await?;
                saved.documents.push(document);
            }
            meta.put(&to_js(&counter)?, Some(&counter_key)).await?;
            tx.store(INSPECTIONS)?.put(&to_js(&saved)?, None).await?;
            let payload = MutationPayload::InspectionSave(Box::new(saved.clone()));
            enqueue(tx, saved.id.0, &payload).await
        })
        .await?;
        Ok(saved)
    }

    /// The org units the server listed at bootstrap (names and document codes).
    pub async fn orgs(&self) -> Result<Vec<OrgUnit>, StorageError> {
        Ok(self.get_meta("orgs").await?.unwrap_or_default())
    }

    /// The documents issued for an inspection.
    pub async fn documents_of(
        &self,
        id: InspectionId,
    ) -> Result<Vec<DocumentRecord>, StorageError> {
        self.by_index(DOCUMENTS, BY_INSPECTION, key(id)).await
    }

    // ----- what comes back from the server -----

    /// Applies one pulled page and stores the new cursor in the same transaction. A change to an
    /// entity with a pending local mutation is not applied over it (the local edit wins on the
    /// device and reaches the server next); its revision is still recorded.
    pub async fn apply_pulled(
        &self,
        changes: &[Change],
        cursor: &str,
    ) -> Result<usize, StorageError> {
        let tx = self.write(&[FINDINGS, INSPECTIONS, ENTERPRISES, CASES, OUTBOX, META])?;
        let mut applied = 0;
        write_all(tx, async |tx| {
            let pending: Vec<OutboxRecord> = tx
                .store(OUTBOX)?
                .get_all(None, None)
                .await?
                .into_iter()
                .map(from_js)
                .collect::<Result<_, _>>()?;
            let meta = tx.store(META)?;
            for change in changes {
                let store = match change.entity {
                    EntityKind::Finding => FINDINGS,
                    EntityKind::Inspection => INSPECTIONS,
                    EntityKind::Enterprise => ENTERPRISES,
                    EntityKind::Case => CASES,
                    _ => continue,
                };
                meta.put(&to_js(&change.rev)?, Some(&key(rev_key(change.id))))
                    .await?;
                if !outbox::applies_pulled(change.id, &pending) {
                    continue;
                }
                let target = tx.store(store)?;
                match (&change.data, change.deleted) {
                    (_, true) => target.delete(key(change.id)).await?,
                    (Some(data), false) => {
                        target.put(&to_js(data)?, None).await?;
                    }
                    (None, false) => continue,
                }
                applied += 1;
            }
            meta.put(&to_js(cursor)?, Some(&key(PULL_CURSOR_KEY)))
                .await?;
            Ok(())
        })
        .await?;
        Ok(applied)
    }

    /// Where the last pull stopped.
    pub async fn pull_cursor(&self) -> Result<Option<String>, StorageError> {
        self.get_meta(PULL_CURSOR_KEY).await
    }

    /// The server revision last seen of an entity.
    pub async fn known_rev(&self, id: uuid::Uuid) -> Result<Option<i64>, StorageError> {
        self.get_meta(&rev_key(id)).await
    }

    /// Records whether the server holds all of an inspection's evidence (its receipt).
    pub async fn put_evidence_complete(
        &self,
        id: InspectionId,
        complete: bool,
    ) -> Result<(), StorageError> {
        self.put_meta(&format!("receipt/{id}"), &complete).await
    }

    pub async fn evidence_complete(&self, id: InspectionId) -> Result<bool, StorageError> {
        Ok(self
            .get_meta(&format!("receipt/{id}"))
            .await?
            .unwrap_or(false))
    }

    /// Stores what the server sends a device for a day offline (with the plans' tasks, caps and
    /// visit counts). Open findings with pending local mutations keep the local version.
    pub async fn put_bootstrap(&self, bootstrap: &BootstrapResponse) -> Result<(), StorageError> {
        // Core's pull rule holds here too: nothing from the server replaces a record with a
        // queued local write (an enterprise added on site, a finding being reworked).
        let queued = self.outbox(u32::MAX).await?;
        self.put_roster(&bootstrap.roster).await?;
        let enterprises: Vec<&Enterprise> = bootstrap
            .enterprises
            .iter()
            .filter(|e| outbox::applies_pulled(e.id.0, &queued))
            .collect();
        self.put_many(ENTERPRISES, &enterprises).await?;
        let findings: Vec<&Finding> = bootstrap
            .open_findings
            .iter()
            .filter(|f| outbox::applies_pulled(f.id.0, &queued))
            .collect();
        self.put_many(FINDINGS, &findings).await?;
        self.put_plan_data(bootstrap).await?;
        self.put_meta("orgs", &bootstrap.orgs).await
    }

    // ----- reads -----

    pub async fn inspection(&self, id: InspectionId) -> Result<Option<Inspection>, StorageError> {
        self.get_one(INSPECTIONS, id).await
    }

    /// Every inspection on the device, newest first.
    pub async fn inspections(&self) -> Result<Vec<Inspection>, StorageError> {
        let mut list: Vec<Inspection> = self.all(INSPECTIONS).await?;
        list.sort_by_key(|i| std::cmp::Reverse(i.started_at));
        Ok(list)
    }

    pub async fn item_results(&self, id: InspectionId) -> Result<Vec<ItemResult>, StorageError> {
        let rows: Vec<ItemResultRow> = self.by_index(ITEM_RESULTS, BY_INSPECTION, key(id)).await?;
        Ok(rows.into_iter().map(|row| row.result).collect())
    }

    pub async fn finding(&self, id: FindingId) -> Result<Option<Finding>, StorageError> {
        self.get_one(FINDINGS, id).await
    }

    pub async fn findings_of_inspection(
        &self,
        id: InspectionId,
    ) -> Result<Vec<Finding>, StorageError> {
        self.by_index(FINDINGS, BY_INSPECTION, key(id)).await
    }

    pub async fn findings_with_status(
        &self,
        status: FindingStatus,
    ) -> Result<Vec<Finding>, StorageError> {
        self.by_index(FINDINGS, BY_STATUS, to_js(&status)?).await
    }

    pub async fn findings_of_enterprise(&self, id: &str) -> Result<Vec<Finding>, StorageError> {
        self.by_index(FINDINGS, BY_ENTERPRISE, key(id)).await
    }

    /// A photo with its full image on the device; None when absent, or when only its
    /// thumbnail is kept (`photo_cache`).
    pub async fn photo(&self, hash: &PhotoHash) -> Result<Option<StoredPhoto>, StorageError> {
        let tx = self.read(&[PHOTOS])?;
        let value = tx.store(PHOTOS)?.get(key(hash)).await?;
        value.filter(has_full).map(stored_photo).transpose()
    }

    /// Photos of a finding or an inspection, in capture order.
    pub async fn photos_of(&self, owner: &PhotoOwner) -> Result<Vec<StoredPhoto>, StorageError> {
        let tx = self.read(&[PHOTOS])?;
        let values = tx
            .store(PHOTOS)?
            .index(BY_OWNER)?
            .get_all(Some(range(key(owner_id(owner)))?), None)
            .await?;
        let mut photos = values
            .into_iter()
            .filter(has_full)
            .map(stored_photo)
            .collect::<Result<Vec<_>, _>>()?;
        photos.sort_by_key(|p| p.meta.captured_at);
        Ok(photos)
    }

    /// Hashes of the photos the server does not hold yet.
    pub async fn pending_photos(&self) -> Result<Vec<PhotoHash>, StorageError> {
        let tx = self.read(&[PHOTOS])?;
        let keys = tx
            .store(PHOTOS)?
            .index(BY_PENDING)?
            .get_all_keys(None, None)
            .await?;
        keys.into_iter().map(from_js).collect()
    }

    /// The server confirmed it holds this photo.
    pub async fn mark_photo_uploaded(&self, hash: &PhotoHash) -> Result<(), StorageError> {
        let tx = self.write(&[PHOTOS])?;
        write_all(tx, async |tx| {
            let store = tx.store(PHOTOS)?;
            let Some(value) = store.get(key(hash)).await? else {
                return Err(StorageError::NotFound(format!("照片 {hash}")));
            };
            Reflect::delete_property(
                value.unchecked_ref::<js_sys::Object>(),
                &JsValue::from_str("pending"),
            )
            .map_err(|e| StorageError::Format(format!("{e:?}")))?;
            store.put(&value, None).await?;
            Ok(())
        })
        .await
    }

    // ----- generic helpers -----

    async fn put_many<T: Serialize>(&self, store: &str, items: &[T]) -> Result<(), StorageError> {
        let values = items.iter().map(to_js).collect::<Result<Vec<_>, _>>()?;
        let tx = self.write(&[store])?;
        write_all(tx, async |tx| {
            let store = tx.store(store)?;
            for value in &values {
                store.put(value, None).await?;
            }
            Ok(())
        })
        .await
    }

    pub(super) async fn get_one<T: serde::de::DeserializeOwned>(
        &self,
        store: &str,
        id: impl ToString,
    ) -> Result<Option<T>, StorageError> {
        let tx = self.read(&[store])?;
        let value = tx.store(store)?.get(key(id)).await?;
        value.map(from_js).transpose()
    }

    pub(super) async fn all<T: serde::de::DeserializeOwned>(
        &self,
        store: &str,
    ) -> Result<Vec<T>, StorageError> {
        let tx = self.read(&[store])?;
        let values = tx.store(store)?.get_all(None, None).await?;
        values.into_iter().map(from_js).collect()
    }

    pub(super) async fn by_index<T: serde::de::DeserializeOwned>(
        &self,
        store: &str,
        index: &str,
        value: JsValue,
    ) -> Result<Vec<T>, StorageError> {
        let tx = self.read(&[store])?;
        let values = tx
            .store(store)?
            .index(index)?
            .get_all(Some(range(value)?), None)
            .await?;
        values.into_iter().map(from_js).collect()
    }
}

pub(super) fn uuid_of(owner: &PhotoOwner) -> uuid::Uuid {
    match owner {
        PhotoOwner::Finding(id) => id.0,
        PhotoOwner::Inspection(id) => id.0,
    }
}

fn range(value: JsValue) -> Result<KeyRange, StorageError> {
    only(value)
}

pub(super) fn photo_row(photo: &NewPhoto) -> Result<JsValue, StorageError> {
    let row = to_js(&PhotoRow {
        hash: photo.meta.hash.clone(),
        owner_id: owner_id(&photo.meta.owner),
        meta: photo.meta.clone(),
        pending: Some(1),
    })?;
    Reflect::set(&row, &JsValue::from_str("blob"), &photo.blob)
        .map_err(|e| StorageError::Format(format!("{e:?}")))?;
    Ok(row)
}

/// The row still holds its full image (a confirmed photo's may have been pruned).
pub(super) fn has_full(value: &JsValue) -> bool {
    Reflect::get(value, &JsValue::from_str("blob")).is_ok_and(|b| b.is_instance_of::<Blob>())
}

fn stored_photo(value: JsValue) -> Result<StoredPhoto, StorageError> {
    let blob = Reflect::get(&value, &JsValue::from_str("blob"))
        .ok()
        .and_then(|b| b.dyn_into::<Blob>().ok())
        .ok_or_else(|| StorageError::Format("照片数据缺失".to_owned()))?;
    let row: PhotoRow = from_js(value)?;
    Ok(StoredPhoto {
        meta: row.meta,
        blob,
        uploaded: row.pending.is_none(),
    })
}
