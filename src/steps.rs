//! A step on a finding from any screen — a submit, a re-inspection, a leader's decision: the
//! signed-in user as core's `Actor`, core's `lifecycle::act` (the same function the server
//! applies), and one storage write of the updated finding with its mutation and any photos.
//! The screens only say which step.

use chrono::Utc;
use zhicha_core::lifecycle::{self, Actor, FindingAction};
use zhicha_core::model::Finding;

use crate::state;
use crate::storage::{NewPhoto, Session};

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
