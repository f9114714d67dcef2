//! Forms begun but not yet saved as records — the start screen, a re-inspection, a drawn but
//! unconfirmed signature — kept in `meta` as they are typed, so a reload, a closed tab or a dead
//! battery gives the inspector back what was on the screen. A draft is only a convenience copy:
//! it never syncs, and it is deleted once the real record is saved.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use zhicha_core::ids::{FindingId, InspectionId, TaskId, UserId};
use zhicha_core::model::{FireVenue, InspectionKind, PackRef};
use zhicha_core::plan::{EntryScan, OverCapReason};

use super::{Db, META, StorageError, finish};

/// Which form a draft belongs to; each form has at most one draft.
#[derive(Debug, Clone, PartialEq)]
pub enum DraftKey {
    /// The start screen for an enterprise picked from the directory (its id as the address has it).
    StartEnterprise(String),
    /// The start screen for a task of 我的任务.
    StartTask(TaskId),
    /// The re-inspection of one finding.
    Reinspect(FindingId),
    /// A signature of an inspection; `who` is the signer (an inspector's id, or `enterprise`).
    Signature(InspectionId, String),
    /// The enterprise's side of 结束检查: who signs, or the refusal and its witness.
    Finish(InspectionId),
}

impl DraftKey {
    /// The key in `meta`.
    fn meta_key(&self) -> String {
        match self {
            Self::StartEnterprise(id) => format!("draft:start:enterprise:{id}"),
            Self::StartTask(id) => format!("draft:start:task:{id}"),
            Self::Reinspect(id) => format!("draft:reinspect:{id}"),
            Self::Signature(inspection, who) => format!("draft:signature:{inspection}:{who}"),
            Self::Finish(inspection) => format!("draft:finish:{inspection}"),
        }
    }

    /// The signature of inspector `user` on `inspection`.
    pub fn inspector_signature(inspection: InspectionId, user: UserId) -> Self {
        Self::Signature(inspection, user.to_string())
    }

    /// The signature of the enterprise's person in charge on `inspection`.
    pub fn enterprise_signature(inspection: InspectionId) -> Self {
        Self::Signature(inspection, "enterprise".to_owned())
    }
}

/// The start screen as filled in so far (the entry cards are not kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartDraft {
    pub kind: InspectionKind,
    /// Co-inspectors ticked (the signed-in inspector is always one of the team).
    pub officers: Vec<UserId>,
    pub packs: Vec<PackRef>,
    #[serde(default)]
    pub fire_venues: Vec<FireVenue>,
    #[serde(default)]
    pub places: String,
    /// Why there is no position fix.
    #[serde(default)]
    pub note: String,
    /// The entry cards: 扫码入企 or the reason for none, the approval or the notice, the
    /// campaign and the reason for a visit over the cap.
    #[serde(default)]
    pub entry: EntryDraft,
}

/// The start screen's entry cards as answered so far (the fields as typed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EntryDraft {
    pub scan: Option<EntryScan>,
    pub no_scan: String,
    pub no_scan_note: String,
    pub approval_by: String,
    pub approval_on: String,
    pub approval_ref: String,
    pub notice_on: String,
    pub notice_method: String,
    pub campaign: String,
    pub campaign_other: String,
    pub over_cap: Option<OverCapReason>,
}

/// A re-inspection as filled in so far. Picked after-photos are not kept: they are stored only
/// with the result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReinspectDraft {
    /// 已整改 (true) / 未整改 (false), or not chosen yet.
    pub passed: Option<bool>,
    /// The new deadline as typed (`YYYY-MM-DD`).
    #[serde(default)]
    pub deadline: String,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub officers: Vec<UserId>,
}

/// A signature drawn but not confirmed: its strokes, each a run of points in canvas pixels.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignatureDraft {
    pub strokes: Vec<Vec<(f32, f32)>>,
}

/// The enterprise's side of 结束检查 before it is recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FinishDraft {
    /// 签字人姓名 as typed.
    pub signer: String,
    /// 拒绝签字 is chosen.
    #[serde(default)]
    pub refusing: bool,
    #[serde(default)]
    pub witness: String,
    #[serde(default)]
    pub refusal_note: String,
}

/// The forms whose drafts are kept.
pub trait Draft: Serialize + serde::de::DeserializeOwned {}
impl Draft for StartDraft {}
impl Draft for ReinspectDraft {}
impl Draft for SignatureDraft {}
impl Draft for FinishDraft {}

impl Db {
    /// The draft kept for `key`, if any.
    pub async fn draft<D: Draft>(&self, key: &DraftKey) -> Result<Option<D>, StorageError> {
        self.get_meta(&key.meta_key()).await
    }

    /// Keeps `draft` as the one draft of `key`, replacing the one before.
    pub async fn keep_draft<D: Draft>(
        &self,
        key: &DraftKey,
        draft: &D,
    ) -> Result<(), StorageError> {
        self.put_meta(&key.meta_key(), draft).await
    }

    /// Deletes the draft of `key` (nothing happens when there is none).
    pub async fn discard_draft(&self, key: &DraftKey) -> Result<(), StorageError> {
        let tx = self.write(&[META])?;
        tx.store(META)?
            .delete(JsValue::from_str(&key.meta_key()))
            .await?;
        finish(tx).await
    }
}
