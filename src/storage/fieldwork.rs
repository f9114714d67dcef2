//! Inspections, their checklist answers, findings and issued documents: each edit one transaction
//! with its outbox entry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use zhicha_core::documents::{DeviceCode, DocumentCounter, DocumentNumber};
use zhicha_core::ids::{FindingId, InspectionId};
use zhicha_core::model::{
    DocumentKind, Finding, FindingStatus, Inspection, IssuedDocument, ItemResult,
};
use zhicha_core::protocol::MutationPayload;

use super::access::key;
use super::outbox::enqueue;
use super::photos::{NewPhoto, photo_row, uuid_of};
use super::schema::{
    BY_ENTERPRISE, BY_INSPECTION, BY_STATUS, DOCUMENTS, FINDINGS, INSPECTIONS, ITEM_RESULTS, META,
    OUTBOX, PHOTOS,
};
use super::{Db, StorageError, from_js, to_js, write_all};

/// The device's document-number counters (`documents::DocumentCounter`).
pub(super) const DOC_COUNTER_KEY: &str = "doc_counter";

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
pub(super) struct ItemResultRow {
    key: String,
    inspection_id: InspectionId,
    result: ItemResult,
}

impl Db {
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

    pub(super) async fn write_finding(
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

    /// The documents issued for an inspection.
    pub async fn documents_of(
        &self,
        id: InspectionId,
    ) -> Result<Vec<DocumentRecord>, StorageError> {
        self.by_index(DOCUMENTS, BY_INSPECTION, key(id)).await
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
}
