//! Push, pull and receipts.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::ids::{DeviceId, InspectionId, MutationId, PhotoHash};

use super::*;

/// `POST /api/v1/sync/push`: a batch of mutations in outbox order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    pub device_id: DeviceId,
    pub mutations: Vec<Mutation>,
    /// The seq the device's next new mutation will get. With no mutations the push is a probe:
    /// the server answers a gap when it expects another seq, so a device with nothing queued
    /// still learns that a restored server lost what it had acknowledged. Absent from older
    /// apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_seq: Option<u64>,
    /// On a probe: the ids of the device's latest acknowledged mutations (at most
    /// `MAX_PROBE_ACKED`, oldest first). The server answers with its stored ack of each one it
    /// holds as rejected: a server restored from an older copy that judged a duplicate of an old
    /// push again may have refused what it once applied, and the device must not believe it
    /// applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acked: Vec<MutationId>,
    /// The phone's clock when it sent the push: the server records the difference to its own
    /// on every event of the push, and flags it past `evidence::MAX_CLOCK_SKEW_MS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_time: Option<chrono::DateTime<chrono::Utc>>,
}

/// At most this many acknowledged ids in a probe.
pub const MAX_PROBE_ACKED: usize = 100;

/// The server's verdict on one mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AckStatus {
    Applied,
    /// Applied before; this is the stored result.
    Duplicate,
    /// Invalid; the seq still advanced. The device keeps it in its sync-errors list.
    Rejected,
}

/// The result of one mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ack {
    pub mutation_id: MutationId,
    pub status: AckStatus,
    /// The entity's revision after applying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// The batch stopped at a seq that was not the next expected one; resend from `expected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Gap {
    pub expected: u64,
}

/// `POST /api/v1/sync/push` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub acks: Vec<Ack>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<Gap>,
}

/// The kinds of entity in the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EntityKind {
    Inspection,
    Finding,
    Enterprise,
    Photo,
    User,
    Org,
    /// A case (案件): its 预立案 saved on a phone, then its acts.
    Case,
}

/// One entry of the change log as pulled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub entity: EntityKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: Uuid,
    pub rev: i64,
    /// The entity's current state (absent when deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub data: Option<Value>,
    #[serde(default)]
    pub deleted: bool,
}

/// Query of `GET /api/v1/sync/pull`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullQuery {
    /// Absent on the first pull.
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

impl PullQuery {
    /// The page size the server should use: the default when absent, clamped to 1..=max.
    pub fn effective_limit(&self) -> u32 {
        self.limit
            .unwrap_or(DEFAULT_PULL_LIMIT)
            .clamp(1, MAX_PULL_LIMIT)
    }
}

/// `GET /api/v1/sync/pull?cursor=C&limit=N` → one page of changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    pub changes: Vec<Change>,
    /// Opaque to the device; store it with the applied page.
    pub cursor: String,
    pub has_more: bool,
}

/// Query of `GET /api/v1/sync/receipt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptQuery {
    pub inspection: InspectionId,
}

/// `GET /api/v1/sync/receipt?inspection=ID` → what the server holds of an inspection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptResponse {
    pub inspection_id: InspectionId,
    pub rev: i64,
    pub photos_expected: Vec<PhotoHash>,
    pub photos_present: Vec<PhotoHash>,
    /// True when every expected photo is present: "evidence complete on server".
    pub complete: bool,
}

impl ReceiptResponse {
    /// Builds a receipt, deriving `complete` so the two sides cannot disagree.
    pub fn new(
        inspection_id: InspectionId,
        rev: i64,
        photos_expected: Vec<PhotoHash>,
        photos_present: Vec<PhotoHash>,
    ) -> Self {
        let complete = photos_expected.iter().all(|h| photos_present.contains(h));
        Self {
            inspection_id,
            rev,
            photos_expected,
            photos_present,
            complete,
        }
    }

    /// Hashes the server still lacks.
    pub fn missing(&self) -> Vec<&PhotoHash> {
        self.photos_expected
            .iter()
            .filter(|h| !self.photos_present.contains(h))
            .collect()
    }
}
