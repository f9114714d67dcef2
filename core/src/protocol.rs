//! The wire contract of the sync protocol (protocol.md): requests, responses, mutations and
//! their typed payloads, pull changes, receipts, error bodies and the protocol limits.
//!
//! Every request/response pair is `XxxRequest` / `XxxResponse` with a doc line naming its
//! endpoint. With the `openapi` feature every type here derives `utoipa::ToSchema`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::ids::{DeviceId, FindingId, InspectionId, MutationId, PackId, PhotoHash};
use crate::model::{
    Enterprise, Finding, Inspection, OrgUnit, PhotoMeta, PhotoOwner, Sector, Subsector, User,
};

/// At most this many mutations in one push.
pub const MAX_BATCH_MUTATIONS: usize = 100;
/// At most this many bytes of serialized mutations in one push (a lone larger mutation is still
/// sent alone, see `outbox`).
pub const MAX_BATCH_BYTES: usize = 256 * 1024;
/// Largest accepted photo upload.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// Largest accepted JSON request body.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;
/// Default and largest page size of a pull.
pub const DEFAULT_PULL_LIMIT: u32 = 200;
pub const MAX_PULL_LIMIT: u32 = 1000;

/// `POST /api/v1/auth/login`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    pub device_id: DeviceId,
    /// The seq the device's next new mutation will get. The server refuses a login as another
    /// user while the device still holds mutations (seqs) the server has not applied: they
    /// belong to the user who made them and would otherwise be lost or pushed under the wrong
    /// name. Absent from older apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_seq: Option<u64>,
}

/// `POST /api/v1/auth/login` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer …`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
    /// Short code of this device within the user's org, used in offline document numbers
    /// (see `documents::DeviceCode`); stable for a (org, device) pair.
    pub device_code: String,
}

/// `POST /api/v1/auth/password`: a user changes their own password. Every other session of the
/// user ends; the one that asked stays. → 204.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Fewest characters of a password.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most bytes of a password the server hashes.
pub const MAX_PASSWORD_BYTES: usize = 1000;

/// Why a new password is not taken, in Chinese, or None when it is fine.
pub fn new_password_problem(password: &str, current: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Some("新密码至少 8 个字符")
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some("新密码过长")
    } else if password == current {
        Some("新密码不能与原密码相同")
    } else if password == crate::protocol::DEMO_PASSWORD {
        Some("不能使用公开的演示密码")
    } else {
        None
    }
}

/// The demo accounts' password, published in the README: never a real one.
pub const DEMO_PASSWORD: &str = "zhicha-demo";

/// One checklist pack version the device should hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PackSummary {
    pub id: PackId,
    pub version: u32,
    pub title: String,
    pub sector: Sector,
    #[serde(default)]
    pub subsectors: Vec<Subsector>,
    #[serde(default)]
    pub item_count: u32,
}

/// `GET /api/v1/bootstrap` → what a device needs to work a whole day offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BootstrapResponse {
    pub user: User,
    /// The user's team (and, for leaders, their org subtree), for choosing co-inspectors.
    pub roster: Vec<User>,
    pub packs: Vec<PackSummary>,
    pub enterprises: Vec<Enterprise>,
    /// The user's open findings, for re-inspection offline.
    pub open_findings: Vec<Finding>,
    /// The org units visible to the user (for names and document codes).
    #[serde(default)]
    pub orgs: Vec<OrgUnit>,
    /// Server time, so the device can show how far its own clock is off.
    #[serde(default)]
    pub server_time: Option<DateTime<Utc>>,
}

/// What a mutation does. The wire names are those of protocol.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MutationKind {
    #[serde(rename = "inspection.save")]
    InspectionSave,
    #[serde(rename = "finding.save")]
    FindingSave,
    #[serde(rename = "finding.submit")]
    FindingSubmit,
    #[serde(rename = "finding.reinspect")]
    FindingReinspect,
    #[serde(rename = "finding.confirm")]
    FindingConfirm,
    #[serde(rename = "finding.return")]
    FindingReturn,
    #[serde(rename = "finding.supervise")]
    FindingSupervise,
    #[serde(rename = "finding.close")]
    FindingClose,
    #[serde(rename = "photo.attach")]
    PhotoAttach,
    #[serde(rename = "enterprise.save")]
    EnterpriseSave,
}

impl MutationKind {
    pub const ALL: [MutationKind; 10] = [
        MutationKind::InspectionSave,
        MutationKind::FindingSave,
        MutationKind::FindingSubmit,
        MutationKind::FindingReinspect,
        MutationKind::FindingConfirm,
        MutationKind::FindingReturn,
        MutationKind::FindingSupervise,
        MutationKind::FindingClose,
        MutationKind::PhotoAttach,
        MutationKind::EnterpriseSave,
    ];

    /// The wire name, e.g. `finding.submit`.
    pub fn as_str(self) -> &'static str {
        match self {
            MutationKind::InspectionSave => "inspection.save",
            MutationKind::FindingSave => "finding.save",
            MutationKind::FindingSubmit => "finding.submit",
            MutationKind::FindingReinspect => "finding.reinspect",
            MutationKind::FindingConfirm => "finding.confirm",
            MutationKind::FindingReturn => "finding.return",
            MutationKind::FindingSupervise => "finding.supervise",
            MutationKind::FindingClose => "finding.close",
            MutationKind::PhotoAttach => "photo.attach",
            MutationKind::EnterpriseSave => "enterprise.save",
        }
    }

    /// The kind of entity `entity_id` names.
    pub fn entity(self) -> EntityKind {
        match self {
            MutationKind::InspectionSave => EntityKind::Inspection,
            MutationKind::EnterpriseSave => EntityKind::Enterprise,
            MutationKind::PhotoAttach => EntityKind::Photo,
            _ => EntityKind::Finding,
        }
    }

    /// Full-record saves: a later save of the same entity supersedes an unsent earlier one.
    pub fn is_save(self) -> bool {
        matches!(
            self,
            MutationKind::InspectionSave | MutationKind::FindingSave | MutationKind::EnterpriseSave
        )
    }
}

impl std::fmt::Display for MutationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Payload of `finding.submit`, `finding.confirm` and `finding.close`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommentPayload {
    #[serde(default)]
    pub comment: String,
}

/// Payload of `finding.return`: the leader must say why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReturnPayload {
    pub comment: String,
}

/// Payload of `finding.supervise`: set or clear 挂牌督办.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupervisePayload {
    pub supervised: bool,
    #[serde(default)]
    pub comment: String,
}

/// Payload of `finding.reinspect`: the result of a re-inspection (复查).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReinspectPayload {
    pub passed: bool,
    /// Required when not passed: the new 整改期限.
    #[serde(default)]
    pub new_deadline: Option<NaiveDate>,
    /// The 复查 inspection during which it was re-inspected, if one was recorded.
    #[serde(default)]
    pub inspection_id: Option<InspectionId>,
    #[serde(default)]
    pub after_photos: Vec<PhotoHash>,
    #[serde(default)]
    pub comment: String,
}

/// A mutation's payload, decoded for its kind.
///
/// Wire shapes: `inspection.save` → `Inspection`; `finding.save` → `Finding`;
/// `enterprise.save` → `Enterprise`; `photo.attach` → `PhotoMeta`;
/// `finding.submit|confirm|close` → `CommentPayload`; `finding.return` → `ReturnPayload`;
/// `finding.supervise` → `SupervisePayload`; `finding.reinspect` → `ReinspectPayload`.
#[derive(Debug, Clone, PartialEq)]
pub enum MutationPayload {
    InspectionSave(Box<Inspection>),
    FindingSave(Box<Finding>),
    FindingSubmit(CommentPayload),
    FindingReinspect(ReinspectPayload),
    FindingConfirm(CommentPayload),
    FindingReturn(ReturnPayload),
    FindingSupervise(SupervisePayload),
    FindingClose(CommentPayload),
    PhotoAttach(Box<PhotoMeta>),
    EnterpriseSave(Box<Enterprise>),
}

/// Why a mutation's payload does not fit its kind.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("payload does not match kind {kind}: {source}")]
    Shape {
        kind: MutationKind,
        #[source]
        source: serde_json::Error,
    },
    #[error("entity_id {entity_id} does not match the id in the payload ({payload_id})")]
    EntityMismatch { entity_id: Uuid, payload_id: Uuid },
}

impl PayloadError {
    /// The protocol error body for a rejected ack.
    pub fn to_error_body(&self) -> ErrorBody {
        ErrorBody {
            code: match self {
                PayloadError::Shape { .. } => "invalid_payload".to_owned(),
                PayloadError::EntityMismatch { .. } => "entity_mismatch".to_owned(),
            },
            message: self.to_string(),
            field: Some("payload".to_owned()),
        }
    }
}

impl MutationPayload {
    pub fn kind(&self) -> MutationKind {
        match self {
            MutationPayload::InspectionSave(_) => MutationKind::InspectionSave,
            MutationPayload::FindingSave(_) => MutationKind::FindingSave,
            MutationPayload::FindingSubmit(_) => MutationKind::FindingSubmit,
            MutationPayload::FindingReinspect(_) => MutationKind::FindingReinspect,
            MutationPayload::FindingConfirm(_) => MutationKind::FindingConfirm,
            MutationPayload::FindingReturn(_) => MutationKind::FindingReturn,
            MutationPayload::FindingSupervise(_) => MutationKind::FindingSupervise,
            MutationPayload::FindingClose(_) => MutationKind::FindingClose,
            MutationPayload::PhotoAttach(_) => MutationKind::PhotoAttach,
            MutationPayload::EnterpriseSave(_) => MutationKind::EnterpriseSave,
        }
    }

    /// The id the payload itself carries, for the kinds whose payload is a whole record.
    /// For `photo.attach` the entity is the photo's owner (finding or inspection).
    pub fn own_id(&self) -> Option<Uuid> {
        match self {
            MutationPayload::InspectionSave(i) => Some(i.id.0),
            MutationPayload::FindingSave(f) => Some(f.id.0),
            MutationPayload::EnterpriseSave(e) => Some(e.id.0),
            MutationPayload::PhotoAttach(p) => Some(match p.owner {
                PhotoOwner::Finding(FindingId(id)) => id,
                PhotoOwner::Inspection(InspectionId(id)) => id,
            }),
            _ => None,
        }
    }

    pub fn to_value(&self) -> Value {
        // Serializing these plain structs cannot fail (no maps with non-string keys).
        let v = match self {
            MutationPayload::InspectionSave(x) => serde_json::to_value(x),
            MutationPayload::FindingSave(x) => serde_json::to_value(x),
            MutationPayload::FindingSubmit(x)
            | MutationPayload::FindingConfirm(x)
            | MutationPayload::FindingClose(x) => serde_json::to_value(x),
            MutationPayload::FindingReinspect(x) => serde_json::to_value(x),
            MutationPayload::FindingReturn(x) => serde_json::to_value(x),
            MutationPayload::FindingSupervise(x) => serde_json::to_value(x),
            MutationPayload::PhotoAttach(x) => serde_json::to_value(x),
            MutationPayload::EnterpriseSave(x) => serde_json::to_value(x),
        };
        v.unwrap_or(Value::Null)
    }

    /// Decodes a wire payload for `kind`.
    pub fn decode(kind: MutationKind, payload: &Value) -> Result<Self, PayloadError> {
        fn de<T: serde::de::DeserializeOwned>(
            kind: MutationKind,
            v: &Value,
        ) -> Result<T, PayloadError> {
            T::deserialize(v).map_err(|source| PayloadError::Shape { kind, source })
        }
        Ok(match kind {
            MutationKind::InspectionSave => Self::InspectionSave(Box::new(de(kind, payload)?)),
            MutationKind::FindingSave => Self::FindingSave(Box::new(de(kind, payload)?)),
            MutationKind::FindingSubmit => Self::FindingSubmit(de(kind, payload)?),
            MutationKind::FindingReinspect => Self::FindingReinspect(de(kind, payload)?),
            MutationKind::FindingConfirm => Self::FindingConfirm(de(kind, payload)?),
            MutationKind::FindingReturn => Self::FindingReturn(de(kind, payload)?),
            MutationKind::FindingSupervise => Self::FindingSupervise(de(kind, payload)?),
            MutationKind::FindingClose => Self::FindingClose(de(kind, payload)?),
            MutationKind::PhotoAttach => Self::PhotoAttach(Box::new(de(kind, payload)?)),
            MutationKind::EnterpriseSave => Self::EnterpriseSave(Box::new(de(kind, payload)?)),
        })
    }
}

/// One write made on a device, as queued in its outbox and pushed to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mutation {
    pub mutation_id: MutationId,
    /// Per-device counter, strictly increasing by 1.
    pub seq: u64,
    pub kind: MutationKind,
    /// The entity written: an inspection, finding or enterprise id; for `photo.attach` the id
    /// of the photo's owner (finding or inspection).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub entity_id: Uuid,
    /// The server revision the device last saw of this entity; absent for new entities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_rev: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: Value,
}

impl Mutation {
    /// Builds a mutation from a typed payload.
    pub fn new(
        mutation_id: MutationId,
        seq: u64,
        entity_id: Uuid,
        base_rev: Option<i64>,
        payload: &MutationPayload,
    ) -> Self {
        Self {
            mutation_id,
            seq,
            kind: payload.kind(),
            entity_id,
            base_rev,
            payload: payload.to_value(),
        }
    }

    /// Decodes the payload for `kind` and checks it names the same entity as `entity_id`.
    pub fn decode(&self) -> Result<MutationPayload, PayloadError> {
        let p = MutationPayload::decode(self.kind, &self.payload)?;
        if let Some(payload_id) = p.own_id()
            && payload_id != self.entity_id
        {
            return Err(PayloadError::EntityMismatch {
                entity_id: self.entity_id,
                payload_id,
            });
        }
        Ok(p)
    }

    /// Serialized size in bytes, as counted against `MAX_BATCH_BYTES`.
    pub fn wire_size(&self) -> usize {
        serde_json::to_vec(self)
            .map(|v| v.len())
            .unwrap_or(usize::MAX)
    }
}

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

/// The one error shape: `{ "error": { "code", "message", "field"? } }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable English identifier, e.g. `validation`, `forbidden`, `invalid_transition`.
    pub code: String,
    /// Readable by a person (Chinese for validation messages).
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// Every 4xx/5xx body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

impl From<ErrorBody> for ErrorResponse {
    fn from(error: ErrorBody) -> Self {
        Self { error }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ids::{EnterpriseId, OrgId, UserId};
    use crate::model::*;
    use chrono::TimeZone;

    pub(crate) fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 1, 30, 0).unwrap()
    }

    pub(crate) fn hash(n: u8) -> PhotoHash {
        PhotoHash::parse(&format!("{n:02x}").repeat(32)).unwrap()
    }

    pub(crate) fn user(role: Role) -> User {
        User {
            id: UserId::new(),
            username: "zhangsan".into(),
            display_name: "张三".into(),
            role,
            org_id: OrgId::new(),
            certificate_no: Some("15060001".into()),
        }
    }

    pub(crate) fn enterprise() -> Enterprise {
        Enterprise {
            id: EnterpriseId::new(),
            org_id: OrgId::new(),
            name: "某某煤业有限公司".into(),
            credit_code: Some("91150621MA0N000000".into()),
            address: "达拉特旗树林召镇".into(),
            county: "达拉特旗".into(),
            township: "树林召镇".into(),
            sectors: vec![Sector::Coal],
            subsectors: vec![Subsector::CoalUnderground],
            legal_representative: "李四".into(),
            contact_phone: "13800000000".into(),
            location: Some(GeoPoint {
                lat: 40.4,
                lon: 110.0,
                accuracy_m: Some(8.0),
            }),
            ad_hoc: false,
            merged_into: None,
        }
    }

    pub(crate) fn inspection() -> Inspection {
        let a = user(Role::Inspector);
        let b = user(Role::Inspector);
        Inspection {
            id: InspectionId::new(),
            org_id: a.org_id,
            enterprise_id: EnterpriseId::new(),
            kind: InspectionKind::Unannounced,
            packs: vec![PackRef {
                id: PackId::new("coal-underground"),
                version: 1,
            }],
            inspectors: vec![
                InspectorRef {
                    user_id: a.id,
                    name: "张三".into(),
                    certificate_no: "15060001".into(),
                },
                InspectorRef {
                    user_id: b.id,
                    name: "王五".into(),
                    certificate_no: "15060002".into(),
                },
            ],
            created_by: a.id,
            started_at: t0(),
            check_in: Some(CheckIn {
                at: t0(),
                location: Some(GeoPoint {
                    lat: 40.4,
                    lon: 110.0,
                    accuracy_m: Some(15.0),
                }),
                gate_photo: Some(hash(1)),
                note: String::new(),
            }),
            places: "1302综采工作面".into(),
            item_results: vec![],
            summary: String::new(),
            finished_at: None,
            enterprise_signature: None,
            documents: vec![],
            reinspected_findings: vec![],
            fire_venues: vec![],
            inspector_signatures: vec![],
        }
    }

    pub(crate) fn finding() -> Finding {
        Finding {
            id: FindingId::new(),
            inspection_id: InspectionId::new(),
            enterprise_id: EnterpriseId::new(),
            org_id: OrgId::new(),
            item_id: Some("coal-ug-8-03".into()),
            description: "1302工作面存在串联通风".into(),
            place: "1302综采工作面".into(),
            level: Level::Major,
            legal_basis: "《煤矿重大事故隐患判定标准》第八条（三）".into(),
            basis_unverified: false,
            measure: Measure::Deadline,
            deadline: Some(NaiveDate::from_ymd_opt(2026, 3, 20).unwrap()),
            photos: vec![hash(2)],
            after_photos: vec![],
            status: FindingStatus::Draft,
            supervised: false,
            created_by: UserId::new(),
            created_at: t0(),
            history: vec![],
        }
    }

    fn round_trip<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) {
        let json = serde_json::to_string(v).unwrap();
        let back: T = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, v, "round trip changed {json}");
    }

    fn all_payloads() -> Vec<(Uuid, MutationPayload)> {
        let i = inspection();
        let f = finding();
        let e = enterprise();
        let photo = PhotoMeta {
            hash: hash(3),
            owner: PhotoOwner::Finding(f.id),
            role: PhotoRole::Evidence,
            bytes: 234_567,
            width: 1600,
            height: 1200,
            mime: "image/jpeg".into(),
            captured_at: t0(),
            offset_from_start_s: Some(125),
            location: None,
        };
        vec![
            (i.id.0, MutationPayload::InspectionSave(Box::new(i))),
            (f.id.0, MutationPayload::FindingSave(Box::new(f.clone()))),
            (
                f.id.0,
                MutationPayload::FindingSubmit(CommentPayload::default()),
            ),
            (
                f.id.0,
                MutationPayload::FindingReinspect(ReinspectPayload {
                    passed: false,
                    new_deadline: NaiveDate::from_ymd_opt(2026, 4, 1),
                    inspection_id: Some(InspectionId::new()),
                    after_photos: vec![hash(4)],
                    comment: "未整改完毕".into(),
                }),
            ),
            (
                f.id.0,
                MutationPayload::FindingConfirm(CommentPayload {
                    comment: "同意".into(),
                }),
            ),
            (
                f.id.0,
                MutationPayload::FindingReturn(ReturnPayload {
                    comment: "依据不准确".into(),
                }),
            ),
            (
                f.id.0,
                MutationPayload::FindingSupervise(SupervisePayload {
                    supervised: true,
                    comment: String::new(),
                }),
            ),
            (
                f.id.0,
                MutationPayload::FindingClose(CommentPayload::default()),
            ),
            (f.id.0, MutationPayload::PhotoAttach(Box::new(photo))),
            (e.id.0, MutationPayload::EnterpriseSave(Box::new(e))),
        ]
    }

    #[test]
    fn mutation_kinds_use_the_wire_names_of_protocol_md() {
        for kind in MutationKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<MutationKind>(&json).unwrap(), kind);
        }
        assert_eq!(MutationKind::FindingReinspect.as_str(), "finding.reinspect");
    }

    #[test]
    fn every_payload_kind_survives_encode_and_decode() {
        let payloads = all_payloads();
        let kinds: Vec<_> = payloads.iter().map(|(_, p)| p.kind()).collect();
        for kind in MutationKind::ALL {
            assert!(kinds.contains(&kind), "no sample payload for {kind}");
        }
        for (seq, (entity, p)) in payloads.into_iter().enumerate() {
            let m = Mutation::new(MutationId::new(), seq as u64 + 1, entity, Some(3), &p);
            round_trip(&m);
            let wire: Mutation = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            assert_eq!(wire.decode().unwrap(), p);
        }
    }

    #[test]
    fn decode_rejects_a_payload_of_the_wrong_shape() {
        let m = Mutation {
            mutation_id: MutationId::new(),
            seq: 1,
            kind: MutationKind::FindingReturn,
            entity_id: Uuid::now_v7(),
            base_rev: None,
            payload: serde_json::json!({ "supervised": true }),
        };
        let err = m.decode().unwrap_err();
        assert!(matches!(
            err,
            PayloadError::Shape {
                kind: MutationKind::FindingReturn,
                ..
            }
        ));
        assert_eq!(err.to_error_body().code, "invalid_payload");
    }

    #[test]
    fn decode_rejects_a_save_whose_entity_id_differs_from_the_record_id() {
        let f = finding();
        let m = Mutation::new(
            MutationId::new(),
            1,
            Uuid::now_v7(),
            None,
            &MutationPayload::FindingSave(Box::new(f)),
        );
        assert!(matches!(
            m.decode(),
            Err(PayloadError::EntityMismatch { .. })
        ));
    }

    #[test]
    fn base_rev_is_omitted_for_new_entities_and_accepted_when_absent() {
        let f = finding();
        let m = Mutation::new(
            MutationId::new(),
            1,
            f.id.0,
            None,
            &MutationPayload::FindingSave(Box::new(f)),
        );
        let v = serde_json::to_value(&m).unwrap();
        assert!(v.get("base_rev").is_none());
        let back: Mutation = serde_json::from_value(v).unwrap();
        assert_eq!(back.base_rev, None);
    }

    #[test]
    fn push_pull_and_receipt_types_round_trip() {
        let f = finding();
        let m = Mutation::new(
            MutationId::new(),
            7,
            f.id.0,
            Some(2),
            &MutationPayload::FindingSubmit(CommentPayload::default()),
        );
        round_trip(&PushRequest {
            next_seq: Some(3),
            acked: vec![MutationId::new()],
            device_id: DeviceId::new(),
            mutations: vec![m.clone()],
        });
        let push = PushResponse {
            acks: vec![
                Ack {
                    mutation_id: m.mutation_id,
                    status: AckStatus::Applied,
                    rev: Some(3),
                    error: None,
                },
                Ack {
                    mutation_id: MutationId::new(),
                    status: AckStatus::Rejected,
                    rev: None,
                    error: Some(
                        ErrorBody::new("validation", "限期整改须填写整改期限")
                            .with_field("deadline"),
                    ),
                },
                Ack {
                    mutation_id: MutationId::new(),
                    status: AckStatus::Duplicate,
                    rev: Some(1),
                    error: None,
                },
            ],
            gap: Some(Gap { expected: 9 }),
        };
        round_trip(&push);
        let json = serde_json::to_value(&push).unwrap();
        assert_eq!(json["acks"][1]["status"], "rejected");
        assert_eq!(json["gap"]["expected"], 9);

        round_trip(&PullResponse {
            changes: vec![
                Change {
                    entity: EntityKind::Finding,
                    id: f.id.0,
                    rev: 4,
                    data: Some(serde_json::to_value(&f).unwrap()),
                    deleted: false,
                },
                Change {
                    entity: EntityKind::Photo,
                    id: Uuid::now_v7(),
                    rev: 1,
                    data: None,
                    deleted: true,
                },
            ],
            cursor: "c:1042".into(),
            has_more: true,
        });
        round_trip(&ReceiptResponse::new(
            InspectionId::new(),
            5,
            vec![hash(1), hash(2)],
            vec![hash(1)],
        ));
        round_trip(&ErrorResponse::from(ErrorBody::new(
            "forbidden",
            "无权操作",
        )));
        round_trip(&PullQuery {
            cursor: Some("c:1".into()),
            limit: Some(50),
        });
        round_trip(&PhotoUploadResponse {
            hash: hash(9),
            bytes: 10,
            created: true,
        });
        round_trip(&PhotoPartResponse {
            hash: hash(9),
            offset: 262_144,
            total: 3_000_000,
        });
        round_trip(&PhotoOffsetError {
            error: ErrorBody::new("upload_offset", "续传位置不符"),
            offset: 5,
        });
        round_trip(&ReceiptQuery {
            inspection: InspectionId::new(),
        });
    }

    #[test]
    fn auth_and_bootstrap_types_round_trip() {
        let u = user(Role::Leader);
        round_trip(&LoginRequest {
            next_seq: Some(12),
            username: "zhangsan".into(),
            password: "secret".into(),
            device_id: DeviceId::new(),
        });
        round_trip(&LoginResponse {
            token: "tok".into(),
            expires_at: t0(),
            user: u.clone(),
            device_code: "A7".into(),
        });
        let mut closed = finding();
        closed.status = FindingStatus::Rectifying;
        round_trip(&BootstrapResponse {
            user: u.clone(),
            roster: vec![u.clone(), user(Role::Inspector)],
            packs: vec![PackSummary {
                id: PackId::new("fire"),
                version: 1,
                title: "消防".into(),
                sector: Sector::Fire,
                subsectors: vec![],
                item_count: 48,
            }],
            enterprises: vec![enterprise()],
            open_findings: vec![closed],
            orgs: vec![OrgUnit {
                id: u.org_id,
                parent_id: None,
                name: "达拉特旗应急管理局".into(),
                doc_code: "达旗应急".into(),
                region: "达拉特旗".into(),
            }],
            server_time: Some(t0()),
        });
    }

    #[cfg(feature = "openapi")]
    #[test]
    fn openapi_schemas_exist_for_the_wire_types() {
        use utoipa::PartialSchema;
        for schema in [
            PushRequest::schema(),
            PushResponse::schema(),
            PullResponse::schema(),
            BootstrapResponse::schema(),
            LoginResponse::schema(),
            ReceiptResponse::schema(),
            ErrorResponse::schema(),
        ] {
            let json = serde_json::to_string(&schema).unwrap();
            assert!(json.len() > 2, "{json}");
        }
    }

    #[test]
    fn error_body_omits_absent_field() {
        let v = serde_json::to_value(ErrorResponse::from(ErrorBody::new("not_found", "不存在")))
            .unwrap();
        assert_eq!(
            v,
            serde_json::json!({ "error": { "code": "not_found", "message": "不存在" } })
        );
    }

    #[test]
    fn receipt_is_complete_only_when_every_expected_photo_is_present() {
        let partial = ReceiptResponse::new(
            InspectionId::new(),
            1,
            vec![hash(1), hash(2)],
            vec![hash(2)],
        );
        assert!(!partial.complete);
        assert_eq!(partial.missing(), vec![&hash(1)]);
        let full = ReceiptResponse::new(
            InspectionId::new(),
            1,
            vec![hash(1)],
            vec![hash(1), hash(2)],
        );
        assert!(full.complete);
    }

    #[test]
    fn pull_limit_defaults_and_clamps() {
        assert_eq!(PullQuery::default().effective_limit(), DEFAULT_PULL_LIMIT);
        assert_eq!(
            PullQuery {
                cursor: None,
                limit: Some(0)
            }
            .effective_limit(),
            1
        );
        assert_eq!(
            PullQuery {
                cursor: None,
                limit: Some(1_000_000)
            }
            .effective_limit(),
            MAX_PULL_LIMIT
        );
    }

    #[test]
    fn model_records_written_before_optional_fields_existed_still_parse() {
        // A v1 finding without any of the defaulted fields.
        let f = finding();
        let v = serde_json::json!({
            "id": f.id, "inspection_id": f.inspection_id, "enterprise_id": f.enterprise_id,
            "org_id": f.org_id, "description": "d", "level": "general", "measure": "immediate",
            "status": "draft", "created_by": f.created_by, "created_at": t0(),
        });
        let parsed: Finding = serde_json::from_value(v).unwrap();
        assert!(parsed.photos.is_empty());
        assert!(!parsed.supervised);
    }

    #[test]
    fn content_ranges_parse_and_print() {
        let part = ContentRange::parse("bytes 0-262143/3000000").unwrap();
        assert_eq!(
            part,
            ContentRange {
                start: 0,
                end: 262_143,
                total: 3_000_000
            }
        );
        assert_eq!(part.bytes(), PHOTO_PART_BYTES as u64);
        assert_eq!(part.to_string(), "bytes 0-262143/3000000");
        assert_eq!(ContentRange::of(0, 262_144, 3_000_000), Some(part));
        assert_eq!(
            ContentRange::parse(&ContentRange::of(5, 6, 6).unwrap().to_string()),
            ContentRange::of(5, 6, 6)
        );
        for bad in [
            "bytes 5-4/10",
            "bytes 0-10/10",
            "bytes */10",
            "bytes -1-3/10",
            "bytes 0-3/",
            "0-3/10",
            "bytes 0-3/+10",
            "bytes 0-3/99999999999999999999",
        ] {
            assert_eq!(ContentRange::parse(bad), None, "{bad}");
        }
        assert_eq!(ContentRange::of(3, 3, 10), None);
        assert_eq!(ContentRange::of(3, 11, 10), None);
    }
}
