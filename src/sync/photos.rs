//! Photos from the server: a full image fetched on demand (when this device removed its copy or
//! never had one), colleagues' before-photos downloaded after a sync so a re-inspection at the
//! gate shows them offline, and the pruning a sync runs when space runs low.

use std::cell::Cell;
use std::collections::HashSet;
use std::rc::Rc;

use web_sys::Blob;
use zhicha_core::ids::PhotoHash;
use zhicha_core::model::{FindingStatus, PhotoMeta, PhotoOwner, PhotoRole};
use zhicha_core::storage_budget;

use super::{SyncError, leader};
use crate::pwa;
use crate::storage::{Db, PruneReport};

/// Fetches the full image of `hash` from the server with the signed-in session and, when the
/// device knows the photo and space allows, keeps it again.
pub async fn fetch_full(db: &Db, hash: &PhotoHash) -> Result<Blob, SyncError> {
    let session = super::live_session(db).await?;
    let blob = leader::photo(&session.token, hash).await?;
    let status = pwa::storage_status().await;
    if !status.is_known()
        || storage_budget::may_cache(status.usage, status.quota, blob.size() as u64)
    {
        // Not keeping it costs only a later fetch; the image is shown either way.
        let _ = db.keep_full_image(hash, &blob).await;
    }
    Ok(blob)
}

/// How long one round's downloads of colleagues' before-photos may go on; the next round goes on.
const CACHE_BUDGET_MS: f64 = 30_000.0;

thread_local! {
    /// Set while `tend_after_round` runs: rounds that end meanwhile do not start another.
    static TENDING: Cell<bool> = const { Cell::new(false) };
}

/// After a good round, in the background: frees space when it runs low, then downloads
/// colleagues' before-photos. The round (and its 同步中) never waits for this; one runs at a
/// time.
pub fn tend_after_round(db: Rc<Db>) {
    if TENDING.with(|t| t.replace(true)) {
        return;
    }
    leptos::task::spawn_local(async move {
        prune_when_low(&db).await;
        if let Ok(session) = super::live_session(&db).await {
            cache_before_photos(&db, &session.token).await;
        }
        TENDING.with(|t| t.set(false));
    });
}

/// Removes confirmed full images when usage is above `PRUNE_ABOVE_SHARE` of the quota, until
/// it is back under `PRUNE_TO_SHARE`.
pub async fn prune_when_low(db: &Db) -> PruneReport {
    let status = pwa::storage_status().await;
    let need = storage_budget::bytes_to_free(status.usage, status.quota);
    if need == 0 {
        return PruneReport::default();
    }
    db.prune_photos(need).await.unwrap_or_default()
}

/// Downloads the before-photos of open findings that are not on this device (a colleague's,
/// pulled from the server), in the order and number `storage_budget::before_photos_to_fetch`
/// gives, and only while usage stays within `CACHE_UP_TO_SHARE` of the quota. Returns how many were stored.
/// Stops quietly at the first connection failure: the next sync goes on.
pub async fn cache_before_photos(db: &Db, token: &str) -> usize {
    let mut findings = Vec::new();
    for status in FindingStatus::ALL {
        if let Ok(mut some) = db.findings_with_status(status).await {
            findings.append(&mut some);
        }
    }
    let Ok(space) = db.photo_space().await else {
        return 0;
    };
    let held: HashSet<PhotoHash> = space.into_iter().map(|p| p.hash).collect();
    let mut stored = 0;
    let started = js_sys::Date::now();
    for (finding, hash) in storage_budget::before_photos_to_fetch(&findings, &held) {
        if js_sys::Date::now() - started > CACHE_BUDGET_MS {
            return stored;
        }
        let status = pwa::storage_status().await;
        if !storage_budget::may_cache(
            status.usage,
            status.quota,
            storage_budget::average_photo_bytes(&[]) as u64,
        ) {
            return stored;
        }
        let blob = match leader::photo(token, &hash).await {
            Ok(blob) => blob,
            // Not this user's to see, or not uploaded yet by its taker: the next one.
            Err(SyncError::Refused { .. }) => continue,
            Err(_) => return stored,
        };
        let meta = PhotoMeta {
            hash,
            owner: PhotoOwner::Finding(finding.id),
            role: PhotoRole::Evidence,
            bytes: blob.size() as u64,
            width: 0,
            height: 0,
            mime: blob.type_(),
            captured_at: finding.created_at,
            offset_from_start_s: None,
            location: None,
            no_fix: None,
            clock_offset_ms: None,
        };
        if db.put_cached_photo(&meta, &blob).await.unwrap_or(false) {
            stored += 1;
        }
    }
    stored
}
