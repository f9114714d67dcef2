//! The only code that talks HTTP: pushes the outbox, uploads photos, pulls changes, reads
//! receipts. One round is `sync_once`; `engine` decides when rounds run.

pub mod admin;
pub mod api;
pub mod engine;
pub mod keys;
pub mod leader;
pub mod photos;
pub mod plans;
pub mod reports;

pub use api::SyncError;

use chrono::Utc;
use zhicha_core::ids::InspectionId;
use zhicha_core::outbox::{self, Refusal};
use zhicha_core::protocol::{MAX_BATCH_MUTATIONS, PushRequest};

use crate::storage::{Db, Session};

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
    revoke_pending(db).await;
    let session = live_session(db).await?;
    let token = session.token.as_str();
    let mut report = SyncReport::default();
    db.prune_sent_log(Utc::now()).await?;
    push_outbox(db, &session, &mut report).await?;
    // A photo the server will take later (its quota for the day spent, too busy now) must not
    // keep the phone from hearing what changed: pull anyway, then report it.
    let photos = upload_photos(db, token, &mut report).await;
    if let Err(error) = &photos
        && !error.is_transient()
    {
        return Err(error.clone());
    }
    pull_changes(db, token, &mut report).await?;
    check_receipts(db, &session).await?;
    photos?;
    Ok(report)
}

/// Tells the server of sessions logged out on this device while it was offline. What fails
/// stays pending for the next round; it never holds up the sync itself. True when none is left.
pub async fn revoke_pending(db: &Db) -> bool {
    let Ok(pending) = db.pending_revocations().await else {
        return false;
    };
    let mut left = pending.len();
    for token in pending {
        if api::logout(&token).await.is_ok() && db.revocation_done(&token).await.is_ok() {
            left -= 1;
        }
    }
    left == 0
}

/// Pushes the queue in batches, each step decided by core: what goes out (`cut_batch`), what
/// an answer means (`settle`), where to go on after a gap (`GapPlan`), and how a push refused
/// outright is narrowed down to the one entry at fault (`on_refused`), which then moves to the
/// visible sync-errors list instead of being resent for ever.
async fn push_outbox(db: &Db, session: &Session, report: &mut SyncReport) -> Result<(), SyncError> {
    let device_id = db.device_id().await?;
    let mut limit = MAX_BATCH_MUTATIONS;
    // Gaps answered in a row without progress: a server that keeps moving its expected seq
    // would otherwise keep this loop busy.
    let mut gaps = 0;
    // With nothing queued, one probe a round tells whether the server still holds what it
    // acknowledged (a server restored from an older copy answers with a gap).
    let mut probed = false;
    let key = keys::load(db).await;
    loop {
        let queued = db.outbox(MAX_BATCH_MUTATIONS as u32).await?;
        let batch = outbox::cut_batch(&queued, session.user.id, limit)
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        let next_seq = db.next_seq().await?;
        let request = if !batch.is_empty() {
            db.mark_sent(batch).await?;
            let mut mutations = Vec::with_capacity(batch.len());
            for entry in batch {
                let mut mutation = entry.mutation.clone();
                // Signed as it leaves the phone; a phone without a key (no WebCrypto) pushes
                // unsigned, which the server takes only from a device that never registered one.
                if let Some(key) = &key {
                    mutation.signature = Some(
                        keys::sign(key, device_id, &mutation)
                            .await
                            .map_err(|e| SyncError::Protocol(format!("签名失败：{e}")))?,
                    );
                }
                mutations.push(mutation);
            }
            PushRequest {
                device_id,
                mutations,
                next_seq: Some(next_seq),
                acked: Vec::new(),
                device_time: Some(Utc::now()),
            }
        } else if !probed && db.has_sent_log().await? {
            probed = true;
            outbox::probe(device_id, next_seq, &db.sent_log().await?)
        } else {
            return Ok(());
        };
        let response = match api::push(&session.token, &request).await {
            Ok(response) => response,
            Err(error) => match error
                .refusal()
                .and_then(|body| outbox::on_refused(batch, body))
            {
                Some(Refusal::Narrow { len }) => {
                    limit = len;
                    continue;
                }
                Some(Refusal::Reject { seq, error }) => {
                    if let Some(entry) = batch.iter().find(|e| e.seq == seq) {
                        db.reject_queued(entry, &error).await?;
                    }
                    report.rejected += 1;
                    limit = MAX_BATCH_MUTATIONS;
                    continue;
                }
                None => return Err(error),
            },
        };
        if batch.is_empty() {
            // A probe's answer: acknowledged entries a restored server now holds as rejected.
            let refused = outbox::settle_probe(&db.sent_log().await?, &response);
            report.rejected += refused.len();
            db.reject_sent(&refused).await?;
        }
        let settled = outbox::settle(batch, &response, next_seq);
        db.settle_push(batch, &settled).await?;
        report.pushed += settled.acked.len();
        report.rejected += settled.rejected.len();
        match settled.gap {
            Some(plan) => {
                gaps += 1;
                if gaps > 3 {
                    return Err(SyncError::Protocol(format!(
                        "服务器多次要求从第 {} 条重新发送，稍后重试",
                        plan.from()
                    )));
                }
                db.recover_gap(plan).await?;
            }
            None => gaps = 0,
        }
    }
}

/// Uploads the photos the server does not hold yet, in parts of `PHOTO_PART_BYTES`, each
/// starting where the server's copy of this user's upload stands (`HEAD`): a photo cut off in
/// one round goes on in the next from the bytes the server kept, not from the start.
async fn upload_photos(db: &Db, token: &str, report: &mut SyncReport) -> Result<(), SyncError> {
    for hash in db.pending_photos().await? {
        let Some(photo) = db.photo(&hash).await? else {
            continue;
        };
        if let Some(offset) = api::photo_offset(token, &hash).await? {
            api::upload_photo_from(token, &hash, &photo.blob, offset).await?;
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

/// Asks for the receipts of this user's own inspections (a colleague's pulled inspection is not
/// this phone's to complete).
async fn check_receipts(db: &Db, session: &Session) -> Result<(), SyncError> {
    let token = session.token.as_str();
    for inspection in db.inspections().await? {
        if inspection.created_by != session.user.id
            || db.evidence_complete(inspection.id).await?
            || has_pending(db, inspection.id).await?
        {
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
