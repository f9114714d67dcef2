//! Photo uploads, whole or in parts that resume after a cut.

use serde::{Deserialize, Serialize};

use crate::ids::PhotoHash;

use super::*;

/// `PUT /api/v1/photos/{sha256}` → 200/201.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhotoUploadResponse {
    pub hash: PhotoHash,
    pub bytes: u64,
    /// False when the server already held it.
    pub created: bool,
}

/// Bytes per part of a resumable photo upload (`PUT /api/v1/photos/{sha256}` with
/// `Content-Range`): about 3 s each on a 750 kbit/s uplink, so a cut loses little.
pub const PHOTO_PART_BYTES: usize = 256 * 1024;
/// The response header telling how many bytes of the caller's unfinished upload of a photo the
/// server holds (`HEAD` 404, a part's 202, and the 409 of a part at the wrong offset).
pub const UPLOAD_OFFSET_HEADER: &str = "upload-offset";

/// A part of a resumable photo upload: `Content-Range: bytes START-END/TOTAL`, `END`
/// inclusive (RFC 9110 § 14.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    pub start: u64,
    /// The last byte of the part (inclusive).
    pub end: u64,
    /// The size of the whole photo.
    pub total: u64,
}

impl ContentRange {
    /// The part `[start, end)` (end exclusive) of a photo of `total` bytes; None when empty or
    /// past the end.
    pub fn of(start: u64, end: u64, total: u64) -> Option<Self> {
        (start < end && end <= total).then_some(Self {
            start,
            end: end - 1,
            total,
        })
    }

    /// Parses `bytes START-END/TOTAL` with `START <= END < TOTAL`.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.trim().strip_prefix("bytes ")?;
        let (range, total) = rest.split_once('/')?;
        let (start, end) = range.split_once('-')?;
        let number = |s: &str| {
            let s = s.trim();
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u64>().ok())
                .flatten()
        };
        let (start, end, total) = (number(start)?, number(end)?, number(total)?);
        (start <= end && end < total).then_some(Self { start, end, total })
    }

    /// How many bytes the part holds (at least one).
    pub fn bytes(&self) -> u64 {
        self.end - self.start + 1
    }
}

impl std::fmt::Display for ContentRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bytes {}-{}/{}", self.start, self.end, self.total)
    }
}

/// `PUT /api/v1/photos/{sha256}` with `Content-Range` → 202 while the photo is incomplete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhotoPartResponse {
    pub hash: PhotoHash,
    /// Bytes of the photo the server now holds for this uploader: the next part starts here.
    pub offset: u64,
    pub total: u64,
}

/// The 409 (`upload_offset`) of a part that does not start at the server's offset: the error,
/// and where the next part must start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhotoOffsetError {
    pub error: ErrorBody,
    pub offset: u64,
}
