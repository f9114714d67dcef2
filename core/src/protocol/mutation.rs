//! Mutations: what a device changes, with their typed payloads.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::case::{Case, CaseAct};
use crate::ids::{FindingId, InspectionId, MutationId, PhotoHash};
use crate::model::{Enterprise, Finding, Inspection, PhotoMeta, PhotoOwner};

use super::*;

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
    #[serde(rename = "case.save")]
    CaseSave,
    #[serde(rename = "case.act")]
    CaseAct,
}

impl MutationKind {
    pub const ALL: [MutationKind; 12] = [
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
        MutationKind::CaseSave,
        MutationKind::CaseAct,
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
            MutationKind::CaseSave => "case.save",
            MutationKind::CaseAct => "case.act",
        }
    }

    /// The kind of entity `entity_id` names.
    pub fn entity(self) -> EntityKind {
        match self {
            MutationKind::InspectionSave => EntityKind::Inspection,
            MutationKind::EnterpriseSave => EntityKind::Enterprise,
            MutationKind::PhotoAttach => EntityKind::Photo,
            MutationKind::CaseSave | MutationKind::CaseAct => EntityKind::Case,
            _ => EntityKind::Finding,
        }
    }

    /// Full-record saves: a later save of the same entity supersedes an unsent earlier one.
    pub fn is_save(self) -> bool {
        matches!(
            self,
            MutationKind::InspectionSave
                | MutationKind::FindingSave
                | MutationKind::EnterpriseSave
                | MutationKind::CaseSave
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
/// `finding.supervise` → `SupervisePayload`; `finding.reinspect` → `ReinspectPayload`;
/// `case.save` → `case::Case`; `case.act` → `case::CaseAct`.
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
    CaseSave(Box<Case>),
    CaseAct(Box<CaseAct>),
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
            MutationPayload::CaseSave(_) => MutationKind::CaseSave,
            MutationPayload::CaseAct(_) => MutationKind::CaseAct,
        }
    }

    /// The id the payload itself carries, for the kinds whose payload is a whole record.
    /// For `photo.attach` the entity is the photo's owner (finding or inspection).
    pub fn own_id(&self) -> Option<Uuid> {
        match self {
            MutationPayload::InspectionSave(i) => Some(i.id.0),
            MutationPayload::FindingSave(f) => Some(f.id.0),
            MutationPayload::EnterpriseSave(e) => Some(e.id.0),
            MutationPayload::CaseSave(c) => Some(c.id.0),
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
            MutationPayload::CaseSave(x) => serde_json::to_value(x),
            MutationPayload::CaseAct(x) => serde_json::to_value(x),
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
            MutationKind::CaseSave => Self::CaseSave(Box::new(de(kind, payload)?)),
            MutationKind::CaseAct => Self::CaseAct(Box::new(de(kind, payload)?)),
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
    /// The device key's signature (`evidence`), added just before the push; absent from
    /// older apps and from mutations queued before the device had a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::evidence::MutationSignature>,
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
            signature: None,
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
