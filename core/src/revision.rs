//! A finding's history as a leader reviews it: which fields a write changed (a pure diff of two
//! versions), and the wire types of `GET /api/v1/findings/{id}/revisions` and of the ledger rows
//! that carry the conflict flag.
//!
//! The server keeps every version a write replaced (protocol.md: nothing is silently
//! overwritten), with who wrote the replacement, from which device, when and why — an edit, a
//! conflict (a write based on an older rev than the one it replaced) or a lifecycle action.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, FindingId, UserId};
use crate::ledger::LedgerRow;
use crate::model::Finding;

/// A field of a finding, named as in its JSON (`description`, `after_photos`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FindingField {
    InspectionId,
    EnterpriseId,
    OrgId,
    ItemId,
    Description,
    Place,
    Level,
    LegalBasis,
    BasisUnverified,
    Measure,
    Deadline,
    Photos,
    AfterPhotos,
    Status,
    Supervised,
    CreatedBy,
    CreatedAt,
    History,
}

impl FindingField {
    /// Every field a write can change (all but the id), in the finding's field order.
    pub const ALL: [FindingField; 18] = [
        FindingField::InspectionId,
        FindingField::EnterpriseId,
        FindingField::OrgId,
        FindingField::ItemId,
        FindingField::Description,
        FindingField::Place,
        FindingField::Level,
        FindingField::LegalBasis,
        FindingField::BasisUnverified,
        FindingField::Measure,
        FindingField::Deadline,
        FindingField::Photos,
        FindingField::AfterPhotos,
        FindingField::Status,
        FindingField::Supervised,
        FindingField::CreatedBy,
        FindingField::CreatedAt,
        FindingField::History,
    ];

    pub fn label_zh(self) -> &'static str {
        match self {
            FindingField::InspectionId => "所属检查",
            FindingField::EnterpriseId => "被检查单位",
            FindingField::OrgId => "所属检查组",
            FindingField::ItemId => "检查项",
            FindingField::Description => "隐患描述",
            FindingField::Place => "隐患部位",
            FindingField::Level => "隐患等级",
            FindingField::LegalBasis => "判定依据",
            FindingField::BasisUnverified => "条文待核",
            FindingField::Measure => "处理措施",
            FindingField::Deadline => "整改期限",
            FindingField::Photos => "隐患照片",
            FindingField::AfterPhotos => "整改后照片",
            FindingField::Status => "状态",
            FindingField::Supervised => "挂牌督办",
            FindingField::CreatedBy => "记录人",
            FindingField::CreatedAt => "发现时间",
            FindingField::History => "处理记录",
        }
    }

    /// True when `older` and `newer` differ in this field.
    fn differs(self, older: &Finding, newer: &Finding) -> bool {
        match self {
            FindingField::InspectionId => older.inspection_id != newer.inspection_id,
            FindingField::EnterpriseId => older.enterprise_id != newer.enterprise_id,
            FindingField::OrgId => older.org_id != newer.org_id,
            FindingField::ItemId => older.item_id != newer.item_id,
            FindingField::Description => older.description != newer.description,
            FindingField::Place => older.place != newer.place,
            FindingField::Level => older.level != newer.level,
            FindingField::LegalBasis => older.legal_basis != newer.legal_basis,
            FindingField::BasisUnverified => older.basis_unverified != newer.basis_unverified,
            FindingField::Measure => older.measure != newer.measure,
            FindingField::Deadline => older.deadline != newer.deadline,
            FindingField::Photos => older.photos != newer.photos,
            FindingField::AfterPhotos => older.after_photos != newer.after_photos,
            FindingField::Status => older.status != newer.status,
            FindingField::Supervised => older.supervised != newer.supervised,
            FindingField::CreatedBy => older.created_by != newer.created_by,
            FindingField::CreatedAt => older.created_at != newer.created_at,
            FindingField::History => older.history != newer.history,
        }
    }
}

/// The fields in which `newer` differs from `older`, in the finding's field order.
pub fn changed_fields(older: &Finding, newer: &Finding) -> Vec<FindingField> {
    FindingField::ALL
        .into_iter()
        .filter(|field| field.differs(older, newer))
        .collect()
}

/// Who made a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevisionAuthor {
    pub user_id: UserId,
    /// The display name (empty when the account is gone).
    pub name: String,
}

/// One kept version of a finding and the write that replaced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FindingRevision {
    /// The version kept: the finding was `finding` at this rev, and the write below made
    /// `rev + 1`.
    pub rev: u64,
    /// Who wrote `rev + 1`.
    pub author: RevisionAuthor,
    /// The device it came from (None for versions kept before devices were recorded).
    #[serde(default)]
    pub device_id: Option<DeviceId>,
    /// When the server applied that write (server clock).
    pub at: DateTime<Utc>,
    /// Why: `edit`, `conflict`, or the lifecycle action (`submit`, `confirm`, `return`, …).
    pub reason: String,
    /// The write was based on an older rev than the one it replaced: two versions met, and
    /// this one is kept so nothing is lost.
    pub conflict: bool,
    /// What the write changed: the fields in which `rev + 1` differs from this version.
    pub changed_fields: Vec<FindingField>,
    /// The version as it was.
    pub finding: Finding,
}

/// `GET /api/v1/findings/{id}/revisions` → the finding's kept versions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevisionsResponse {
    pub finding_id: FindingId,
    /// The current rev (the finding as it is now is not among `revisions`).
    pub rev: u64,
    /// Some write to it was a conflict; set once, never cleared.
    pub flagged: bool,
    pub revisions: Vec<FindingRevision>,
    /// Writes of this finding from a phone whose clock was off by more than
    /// `evidence::MAX_CLOCK_SKEW_MS`, oldest first: the times it shows come from that clock.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clock_warnings: Vec<ClockWarning>,
}

/// One write made from a phone with a wrong clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClockWarning {
    /// The revision the write made.
    pub rev: u64,
    /// Server time of the write.
    pub at: DateTime<Utc>,
    /// Server time minus the phone's clock, in ms (positive: the phone was behind).
    pub skew_ms: i64,
}

impl ClockWarning {
    /// "手机时钟慢 12 分钟" / "快 3 小时 5 分钟", for the leader.
    pub fn text_zh(&self) -> String {
        let minutes = self.skew_ms.unsigned_abs() / 60_000;
        let span = if minutes >= 60 {
            format!("{} 小时 {} 分钟", minutes / 60, minutes % 60)
        } else {
            format!("{minutes} 分钟")
        };
        let way = if self.skew_ms > 0 { "慢" } else { "快" };
        format!(
            "第 {} 版由时钟{way} {span}的手机写入，其中的时间以手机时钟为准",
            self.rev
        )
    }
}

/// A ledger row with the finding's conflict flag, as `GET /api/v1/findings` answers it: the
/// JSON of a `LedgerRow` plus `flagged`, so a reader of plain `LedgerRow`s is unaffected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlaggedLedgerRow {
    #[serde(flatten)]
    pub row: LedgerRow,
    /// A conflicting write was kept as a revision (see `RevisionsResponse`).
    #[serde(default)]
    pub flagged: bool,
}

/// `GET /api/v1/findings` → one page of the ledger whose rows carry the conflict flag (the JSON
/// of a `ledger::FindingsPage`, each row with `flagged`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlaggedFindingsPage {
    pub rows: Vec<FlaggedLedgerRow>,
    /// All rows matching the filters (not just this page).
    pub total: u64,
    /// Pass as `cursor` for the next page; None on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PhotoHash;
    use crate::model::{FindingStatus, HistoryEntry, Level};
    use crate::protocol::tests::{finding, t0};

    #[test]
    fn identical_versions_differ_in_nothing() {
        let f = finding();
        assert_eq!(changed_fields(&f, &f.clone()), []);
    }

    #[test]
    fn an_edit_names_exactly_the_fields_it_changed() {
        let older = finding();
        let mut newer = older.clone();
        newer.description = "安全出口堵塞（已补充）".into();
        newer.level = Level::General;
        newer.after_photos = vec![PhotoHash::of_bytes(b"after")];
        assert_eq!(
            changed_fields(&older, &newer),
            [
                FindingField::Description,
                FindingField::Level,
                FindingField::AfterPhotos
            ]
        );
    }

    #[test]
    fn a_lifecycle_action_changes_status_and_history() {
        let older = finding();
        let mut newer = older.clone();
        newer.status = FindingStatus::Submitted;
        newer.history.push(HistoryEntry {
            at: t0(),
            by: older.created_by,
            action: "submit".into(),
            from: older.status,
            to: FindingStatus::Submitted,
            comment: String::new(),
        });
        assert_eq!(
            changed_fields(&older, &newer),
            [FindingField::Status, FindingField::History]
        );
    }

    /// A field added to `Finding` must be added here too, or its changes would go unreported.
    #[test]
    fn every_field_of_a_finding_is_compared_under_its_json_name() {
        let json = serde_json::to_value(finding()).unwrap();
        let mut keys: Vec<String> = json
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "id")
            .cloned()
            .collect();
        let mut names: Vec<String> = FindingField::ALL
            .iter()
            .map(|f| {
                serde_json::to_value(f)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        keys.sort();
        names.sort();
        assert_eq!(keys, names);
        for field in FindingField::ALL {
            assert!(!field.label_zh().is_empty());
        }
    }
}
