//! The phone's photo space as rules: which full images may be removed when space runs low, how
//! many more photos fit, and how far downloading colleagues' photos may fill the phone.
//!
//! The storage guardian and the sync only read figures and call these; nothing here does I/O.

use chrono::{DateTime, Utc};

use std::collections::HashSet;

use crate::ids::PhotoHash;
use crate::model::{Finding, FindingStatus, PhotoRole};

/// Above this share of the quota the phone removes confirmed full images (the guardian warns
/// from the same point).
pub const PRUNE_ABOVE_SHARE: f64 = 0.8;
/// Pruning frees space until usage is back under this share, so it does not run again at the
/// very next photo.
pub const PRUNE_TO_SHARE: f64 = 0.7;
/// Photos downloaded for offline re-inspections stop before usage would pass this share: the
/// inspector's own photos keep the rest.
pub const CACHE_UP_TO_SHARE: f64 = 0.7;
/// At most this many photos are downloaded for offline re-inspections in one sync.
pub const MAX_CACHED_PER_SYNC: usize = 200;
/// The size assumed for a photo when the phone holds none yet (a 1600 px JPEG at quality 0.8).
pub const DEFAULT_PHOTO_BYTES: f64 = 300.0 * 1024.0;

/// One photo with its full image on the phone, as the pruning rule sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PruneCandidate {
    pub hash: PhotoHash,
    /// Bytes of the full image, freed when it is removed.
    pub bytes: u64,
    /// The server has confirmed it holds these bytes. Nothing else may ever be removed.
    pub confirmed: bool,
    /// Signatures and the recorded announcement stay whole: documents print them offline, and
    /// they are small.
    pub role: PhotoRole,
    /// Downloaded from the server for offline viewing, not taken on this phone.
    pub cached: bool,
    /// When it was taken (or, for a downloaded copy, when its finding was made).
    pub taken_at: DateTime<Utc>,
}

/// The full images to remove to free `need` bytes: confirmed photos only (never a signature or
/// the recorded announcement), downloaded copies
/// before the phone's own, oldest first within each, stopping as soon as `need` is reached.
/// Fewer may be chosen than `need` asks for when not enough is confirmed.
pub fn choose_prunable(candidates: &[PruneCandidate], need: u64) -> Vec<PhotoHash> {
    let mut eligible: Vec<&PruneCandidate> = candidates
        .iter()
        .filter(|c| {
            c.confirmed
                && matches!(
                    c.role,
                    PhotoRole::Evidence | PhotoRole::AfterRectification | PhotoRole::Gate
                )
        })
        .collect();
    eligible.sort_by_key(|c| (!c.cached, c.taken_at));
    let mut freed = 0u64;
    let mut chosen = Vec::new();
    for candidate in eligible {
        if freed >= need {
            break;
        }
        freed = freed.saturating_add(candidate.bytes);
        chosen.push(candidate.hash.clone());
    }
    chosen
}

/// Bytes to free now: none below `PRUNE_ABOVE_SHARE` of the quota (or when the quota is
/// unknown), else enough to come back to `PRUNE_TO_SHARE`.
pub fn bytes_to_free(usage: f64, quota: f64) -> u64 {
    if !known(quota) || usage <= quota * PRUNE_ABOVE_SHARE {
        return 0;
    }
    (usage - quota * PRUNE_TO_SHARE).max(0.0).ceil() as u64
}

/// The average size of the photos on this phone, or `DEFAULT_PHOTO_BYTES` when there are none.
pub fn average_photo_bytes(sizes: &[u64]) -> f64 {
    let sizes: Vec<u64> = sizes.iter().copied().filter(|b| *b > 0).collect();
    if sizes.is_empty() {
        return DEFAULT_PHOTO_BYTES;
    }
    sizes.iter().map(|b| *b as f64).sum::<f64>() / sizes.len() as f64
}

/// About how many more photos of `average_bytes` fit in the browser's free space
/// (`quota − usage`); None when the browser gave no figures.
pub fn photos_left(usage: f64, quota: f64, average_bytes: f64) -> Option<u64> {
    if !known(quota) || !usage.is_finite() {
        return None;
    }
    let average = if average_bytes > 0.0 {
        average_bytes
    } else {
        DEFAULT_PHOTO_BYTES
    };
    Some(((quota - usage).max(0.0) / average).floor() as u64)
}

/// The forecast line of the storage card.
pub fn photos_left_line(left: Option<u64>) -> String {
    match left {
        Some(n) => format!("约可再拍 {n} 张"),
        None => "约可再拍 未知 张".to_owned(),
    }
}

/// Whether one more downloaded photo of `bytes` may be kept: usage after it stays within
/// `CACHE_UP_TO_SHARE` of a known quota.
pub fn may_cache(usage: f64, quota: f64, bytes: u64) -> bool {
    known(quota) && usage + bytes as f64 <= quota * CACHE_UP_TO_SHARE
}

/// The before-photos to download for re-inspections offline: those of open findings (submitted
/// up to verified; drafts are the phone's own) that the device does not `held`, newest findings
/// first, each photo once, at most `MAX_CACHED_PER_SYNC`. Each comes with its finding.
pub fn before_photos_to_fetch<'a>(
    findings: &'a [Finding],
    held: &HashSet<PhotoHash>,
) -> Vec<(&'a Finding, PhotoHash)> {
    let mut open: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status.is_open() && f.status != FindingStatus::Draft)
        .collect();
    open.sort_by_key(|f| std::cmp::Reverse(f.created_at));
    let mut seen = HashSet::new();
    open.into_iter()
        .flat_map(|f| f.photos.iter().map(move |hash| (f, hash)))
        .filter(|(_, hash)| !held.contains(*hash) && seen.insert((*hash).clone()))
        .map(|(f, hash)| (f, hash.clone()))
        .take(MAX_CACHED_PER_SYNC)
        .collect()
}

/// The browser reported a quota (0 or NaN when it gave no figures).
fn known(quota: f64) -> bool {
    quota.is_finite() && quota > 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn candidate(n: u8, bytes: u64, confirmed: bool, cached: bool, day: u32) -> PruneCandidate {
        PruneCandidate {
            hash: PhotoHash::of_bytes(&[n]),
            bytes,
            confirmed,
            role: PhotoRole::Evidence,
            cached,
            taken_at: Utc.with_ymd_and_hms(2026, 11, day, 8, 0, 0).unwrap(),
        }
    }

    #[test]
    fn an_unconfirmed_photo_is_never_chosen_however_much_is_needed() {
        let list = [
            candidate(1, 500, false, false, 1),
            candidate(2, 300, true, false, 2),
        ];
        assert_eq!(choose_prunable(&list, u64::MAX), vec![list[1].hash.clone()]);
        assert!(choose_prunable(&list[..1], 1).is_empty());
    }

    #[test]
    fn signatures_and_the_announcement_stay_whole() {
        let mut signature = candidate(1, 500, true, false, 1);
        signature.role = PhotoRole::Signature;
        let mut announcement = candidate(2, 500, true, false, 1);
        announcement.role = PhotoRole::Announcement;
        assert!(choose_prunable(&[signature, announcement], u64::MAX).is_empty());
    }

    #[test]
    fn downloaded_copies_go_first_then_the_oldest_until_enough_is_freed() {
        let list = [
            candidate(1, 100, true, false, 3),
            candidate(2, 100, true, false, 1),
            candidate(3, 100, true, true, 5),
            candidate(4, 100, true, false, 2),
        ];
        let chosen = choose_prunable(&list, 250);
        assert_eq!(
            chosen,
            vec![
                list[2].hash.clone(),
                list[1].hash.clone(),
                list[3].hash.clone()
            ]
        );
        assert!(choose_prunable(&list, 0).is_empty());
    }

    #[test]
    fn pruning_starts_above_eighty_percent_and_frees_down_to_seventy() {
        assert_eq!(bytes_to_free(80.0, 100.0), 0);
        assert_eq!(bytes_to_free(90.0, 100.0), 20);
        assert_eq!(bytes_to_free(90.0, 0.0), 0);
    }

    #[test]
    fn the_forecast_divides_free_space_by_the_average_photo() {
        assert_eq!(average_photo_bytes(&[]), DEFAULT_PHOTO_BYTES);
        assert_eq!(average_photo_bytes(&[100, 300, 0]), 200.0);
        assert_eq!(photos_left(400.0, 1_000.0, 200.0), Some(3));
        assert_eq!(photos_left(1_200.0, 1_000.0, 200.0), Some(0));
        assert_eq!(photos_left(0.0, 0.0, 200.0), None);
        assert_eq!(
            photos_left(0.0, 3.0 * DEFAULT_PHOTO_BYTES, 0.0),
            Some(3),
            "no average: the default size"
        );
        assert_eq!(photos_left_line(Some(12)), "约可再拍 12 张");
        assert!(photos_left_line(None).contains("未知"));
    }

    fn finding(status: FindingStatus, day: u32, photos: &[u8]) -> Finding {
        use crate::ids::{EnterpriseId, FindingId, InspectionId, OrgId, UserId};
        use crate::model::{Level, Measure};
        Finding {
            id: FindingId::new(),
            inspection_id: InspectionId::new(),
            enterprise_id: EnterpriseId::new(),
            org_id: OrgId::new(),
            item_id: None,
            description: "瓦斯检查记录不全".to_owned(),
            place: "1201 工作面".to_owned(),
            level: Level::General,
            legal_basis: String::new(),
            basis_unverified: false,
            measure: Measure::Deadline,
            deadline: None,
            photos: photos.iter().map(|n| PhotoHash::of_bytes(&[*n])).collect(),
            after_photos: vec![],
            status,
            supervised: false,
            created_by: UserId::new(),
            created_at: Utc.with_ymd_and_hms(2026, 11, day, 8, 0, 0).unwrap(),
            history: vec![],
            corrections: vec![],
        }
    }

    #[test]
    fn before_photos_of_open_findings_not_held_come_newest_first_once_each() {
        let findings = [
            finding(FindingStatus::Rectifying, 1, &[1, 2]),
            finding(FindingStatus::Submitted, 3, &[3, 1]),
            finding(FindingStatus::Closed, 5, &[4]),
            finding(FindingStatus::Draft, 6, &[5]),
        ];
        let held: HashSet<PhotoHash> = [PhotoHash::of_bytes(&[2])].into();
        let chosen: Vec<(crate::ids::FindingId, PhotoHash)> =
            before_photos_to_fetch(&findings, &held)
                .into_iter()
                .map(|(f, h)| (f.id, h))
                .collect();
        assert_eq!(
            chosen,
            vec![
                (findings[1].id, PhotoHash::of_bytes(&[3])),
                (findings[1].id, PhotoHash::of_bytes(&[1])),
            ]
        );
        let no_photos = [finding(FindingStatus::Rectifying, 1, &[])];
        assert!(before_photos_to_fetch(&no_photos, &held).is_empty());
        let lots: Vec<Finding> = (0..=255u8)
            .map(|n| finding(FindingStatus::Rectifying, 1, &[n]))
            .collect();
        assert_eq!(
            before_photos_to_fetch(&lots, &HashSet::new()).len(),
            MAX_CACHED_PER_SYNC
        );
    }

    #[test]
    fn downloads_stop_before_seventy_percent_and_when_the_quota_is_unknown() {
        assert!(may_cache(60.0, 100.0, 10));
        assert!(!may_cache(65.0, 100.0, 10));
        assert!(!may_cache(0.0, 0.0, 1));
    }
}
