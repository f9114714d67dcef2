//! The only code that talks HTTP: pushes the outbox, uploads photos, pulls changes, reads
//! receipts. One round is `sync_once`; `engine` decides when rounds run.

pub mod api;
pub mod engine;
pub mod leader;

pub use api::SyncError;

use chrono::Utc;
use zhicha_core::ids::InspectionId;
use zhicha_core::outbox::batch_len;
use zhicha_core::protocol::{AckStatus, ErrorBody, MAX_BATCH_MUTATIONS, PushRequest};

use crate::storage::{Db, Session, SyncErrorRecord};

/// Changes pulled per request.
const PULL_PAGE: u32 = 200;

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: usize,
    pub rejected: usize,
    pub photos_uploaded: usize,
    pub pulled: usize,
}

/// The signed-in session, if it is still valid.
pub async fn live_session(db: &Db) -> Result<Session, SyncError> {
    let session = db.session().await?.ok_or(SyncError::NotLoggedIn)?;
    if session.expires_at <= Utc::now() {
        return Err(SyncError::Unauthorized);
    }
    Ok(session)
}

/// One full round: records first, then their photos, then what changed on the server, then
/// the receipts that tell the inspector the evidence is complete.
pub async fn sync_once(db: &Db) -> Result<SyncReport, SyncError> {
    let session = live_session(db).await?;
    let token = session.token.as_str();
    let mut report = SyncReport::default();
    push_outbox(db, token, &mut report).await?;
    upload_photos(db, token, &mut report).await?;
    pull_changes(db, token, &mut report).await?;
    check_receipts(db, token).await?;
    Ok(report)
}

async fn push_outbox(db: &Db, token: &str, report: &mut SyncReport) -> Result<(), SyncError> {
    let device_id = db.device_id().await?;
    loop {
        let queued = db.outbox(MAX_BATCH_MUTATIONS as u32).await?;
        if queued.is_empty() {
            return Ok(());
        }
        let mutations: Vec<_> = queued.iter().map(|r| &r.mutation).collect();
        let batch = &queued[..batch_len(&mutations).max(1)];
        let request = PushRequest {
            device_id,
            mutations: batch.iter().map(|r| r.mutation.clone()).collect(),
        };
        let response = api::push(token, &request).await?;
        let mut acked = Vec::new();
        let mut rejected = Vec::new();
        let mut revs = Vec::new();
        for ack in &response.acks {
            let Some(record) = batch
                .iter()
                .find(|r| r.mutation.mutation_id == ack.mutation_id)
            else {
                continue;
            };
            acked.push(record.seq);
            if let Some(rev) = ack.rev {
                revs.push((record.mutation.entity_id, rev));
            }
            if ack.status == AckStatus::Rejected {
                rejected.push(SyncErrorRecord {
                    mutation_id: ack.mutation_id,
                    mutation: record.mutation.clone(),
                    error: ack
                        .error
                        .clone()
                        .unwrap_or_else(|| ErrorBody::new("rejected", "服务器拒绝了这条记录")),
                    at: Utc::now(),
                });
            }
        }
        // Acked rows leave the outbox (rejected ones move to the visible error list) at once.
        db.settle_outbox(&acked, &rejected, &revs).await?;
        report.pushed += acked.len();
        report.rejected += rejected.len();
        if acked.is_empty() {
            let expected = response.gap.map(|g| g.expected);
            return Err(SyncError::Protocol(format!(
                "服务器未接受本机第 {} 条起的记录（期望序号 {:?}）",
                batch[0].seq, expected
            )));
        }
    }
}

async fn upload_photos(db: &Db, token: &str, report: &mut SyncReport) -> Result<(), SyncError> {
    for hash in db.pending_photos().await? {
        let Some(photo) = db.photo(&hash).await? else {
            continue;
        };
        if !api::photo_held(token, &hash).await? {
            api::put_photo(token, &hash, &photo.blob).await?;
            report.photos_uploaded += 1;
        }
        db.mark_photo_uploaded(&hash).await?;
    }
    Ok(())
}

async fn pull_changes(db: &Db, token: &str, report: &mut SyncReport) -> Result<(), SyncError> {
    let mut cursor = db.pull_cursor().await?;
    loop {
        let page = api::pull(token, cursor.as_deref(), PULL_PAGE).await?;
        report.pulled += db.apply_pulled(&page.changes, &page.cursor).await?;
        if !page.has_more || page.changes.is_empty() {
            return Ok(());
        }
        cursor = Some(page.cursor);
    }
}

async fn check_receipts(db: &Db, token: &str) -> Result<(), SyncError> {
    for inspection in db.inspections().await? {
        if db.evidence_complete(inspection.id).await? || has_pending(db, inspection.id).await? {
            continue;
        }
        match api::receipt(token, inspection.id).await {
            Ok(receipt) => {
                db.put_evidence_complete(inspection.id, receipt.complete)
                    .await?
            }
            // Not on the server yet, or not this user's to see: nothing to record.
            Err(SyncError::Refused {
                status: 403 | 404, ..
            }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

async fn has_pending(db: &Db, id: InspectionId) -> Result<bool, SyncError> {
    let findings = db.findings_of_inspection(id).await?;
    let ids: Vec<uuid::Uuid> = std::iter::once(id.0)
        .chain(findings.iter().map(|f| f.id.0))
        .collect();
    Ok(db
        .outbox(u32::MAX)
        .await?
        .iter()
        .any(|r| ids.contains(&r.mutation.entity_id)))
}
