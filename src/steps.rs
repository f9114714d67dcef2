//! A step on a finding from any screen — a submit, a re-inspection, a leader's decision: the
//! signed-in user as core's `Actor`, core's `lifecycle::act` (the same function the server
//! applies), and one storage write of the updated finding with its mutation and any photos.
//! The screens only say which step.
//!
//! Also the save of a finding whose inspection's documents are issued (`save_correction`):
//! core's `finality` decides whether it needs a correction and appends it.

use chrono::Utc;
use zhicha_core::finality;
use zhicha_core::lifecycle::{self, Actor, FindingAction};
use zhicha_core::model::Finding;
use zhicha_core::protocol::MutationPayload;

use crate::state;
use crate::storage::{Db, NewPhoto, Session};

/// The signed-in user acting on `finding`. A finding on the device came from the user's own
/// work or from a pull, which the server scopes to what the user may see, so it is in scope;
/// the server checks both again against the stored finding when the step arrives.
pub fn actor(session: &Session, finding: &Finding) -> Actor {
    Actor {
        user_id: session.user.id,
        role: session.user.role,
        same_team: session.user.org_id == finding.org_id,
        in_scope: true,
    }
}

/// Takes `action` on `finding` with `comment` and any after-photos (compressed and hashed):
/// refused with core's Chinese message, or stored — the finding, its mutation and the photos
/// in one transaction — and the updated finding returned. The caller refreshes the unsynced
/// count and starts a sync.
pub async fn take(
    finding: &Finding,
    action: FindingAction,
    comment: &str,
    photos: Vec<NewPhoto>,
) -> Result<Finding, String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    let session = db
        .session()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "尚未登录".to_owned())?;
    let hashes = photos.iter().map(|p| p.meta.hash.clone()).collect();
    let payload = action
        .to_payload(comment, hashes)
        .ok_or_else(|| "不支持的操作".to_owned())?;
    let updated = lifecycle::act(
        Some(finding),
        &payload,
        &actor(&session, finding),
        Utc::now(),
    )
    .map_err(|e| e.to_string())?;
    if photos.is_empty() {
        db.record_finding_action(&updated, &payload).await
    } else {
        db.record_finding_action_with_photos(&updated, &payload, &photos)
            .await
    }
    .map_err(|e| e.to_string())?;
    Ok(updated)
}

/// True when the inspection `finding` belongs to has issued documents on this device: its
/// content then changes only by a correction.
pub async fn documents_issued(db: &Db, finding: &Finding) -> bool {
    db.inspection(finding.inspection_id)
        .await
        .ok()
        .flatten()
        .is_some_and(|i| finality::issued(&i))
}

/// Saves `edited` over `stored` (the finding as stored on the device) with any new photos, in
/// the app's database; see `save_correction_in`.
pub async fn save_correction(
    stored: &Finding,
    edited: Finding,
    reason: &str,
    photos: &[NewPhoto],
) -> Result<Finding, String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    save_correction_in(&db, stored, edited, reason, photos).await
}

/// Saves `edited` over `stored`: core's step for a save (as the server applies it), then, when
/// the finding's inspection has issued documents and content changed, a `Correction` by the
/// signed-in user with `reason`, naming the changed fields as core computes them. Without a
/// usable reason nothing is stored and core's Chinese message is returned. The finding, its
/// mutation and the photos are written in one transaction; the stored finding is returned.
pub async fn save_correction_in(
    db: &Db,
    stored: &Finding,
    edited: Finding,
    reason: &str,
    photos: &[NewPhoto],
) -> Result<Finding, String> {
    let session = db
        .session()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "尚未登录".to_owned())?;
    let now = Utc::now();
    // As the editor's autosave: a save core refuses (incomplete under review) is still kept.
    let save = MutationPayload::FindingSave(Box::new(edited.clone()));
    let merged =
        lifecycle::act(Some(stored), &save, &actor(&session, stored), now).unwrap_or(edited);
    let issued = documents_issued(db, stored).await;
    let corrected = finality::correct_finding(stored, merged, issued, session.user.id, reason, now)
        .map_err(|e| e.to_string())?;
    db.save_finding(&corrected, photos)
        .await
        .map_err(|e| e.to_string())?;
    Ok(corrected)
}
