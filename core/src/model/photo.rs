//! Photos and other evidence files: what they are attached to, why they were taken, and their
//! metadata (the bytes travel separately, addressed by their hash).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::GeoPoint;
use crate::ids::{FindingId, InspectionId, PhotoHash};

/// What a photo is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PhotoOwner {
    Finding(FindingId),
    /// The gate photo of a check-in, or a signature page.
    Inspection(InspectionId),
}

/// Why the photo was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PhotoRole {
    Evidence,
    AfterRectification,
    Gate,
    Signature,
    /// The entry announcement (告知) recorded with the phone's microphone: audio, not a photo,
    /// stored and synced the same way.
    Announcement,
}

/// Metadata of a stored photo; the bytes travel separately, addressed by `hash`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhotoMeta {
    pub hash: PhotoHash,
    pub owner: PhotoOwner,
    #[serde(default = "default_photo_role")]
    pub role: PhotoRole,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    #[serde(default = "default_mime")]
    pub mime: String,
    /// Device clock at capture; not trusted for ordering, kept as the device said.
    pub captured_at: DateTime<Utc>,
    /// Seconds since the inspection started (device clock, so immune to a wrong date setting).
    #[serde(default)]
    pub offset_from_start_s: Option<i64>,
    #[serde(default)]
    pub location: Option<GeoPoint>,
    /// Why there is no `location`, when the phone gave none (denied, no fix underground, timed
    /// out): recorded rather than left silent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_fix: Option<String>,
    /// The phone's clock against the server's (server minus phone, ms) as last measured when it
    /// talked to the server before the capture: the capture's server time is about
    /// `captured_at + clock_offset_ms`. None when the phone had not measured it yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_offset_ms: Option<i64>,
}

impl PhotoMeta {
    /// The capture time on the server's clock, when the phone knew its offset.
    pub fn server_captured_at(&self) -> Option<DateTime<Utc>> {
        self.clock_offset_ms
            .map(|ms| self.captured_at + chrono::Duration::milliseconds(ms))
    }
}

fn default_photo_role() -> PhotoRole {
    PhotoRole::Evidence
}

fn default_mime() -> String {
    "image/jpeg".to_owned()
}
