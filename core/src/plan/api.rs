//! Wire types of the plan routes (protocol.md § Plans, draws and tasks).
//!
//! - `GET  /api/v1/plans` → `PlanList`; `POST /api/v1/plans` (`NewPlan`) → `Plan`.
//! - `GET  /api/v1/plans/{id}` → `PlanDetail` (figures, draws, tasks, coverage).
//! - `POST /api/v1/plans/{id}/draws` (`DrawRequest`) → `DrawRecord`.
//! - `GET  /api/v1/draws/{id}` → `DrawRecord` (the JSON `zhicha-server verify-draw` re-runs);
//!   `GET /api/v1/draws/{id}/publication.csv` → the list for publication (一公开).
//! - `GET /api/v1/caps` → `CapTable`; `PUT /api/v1/caps` (`CapTable`) replaces the bureau's.
//! - `GET /api/v1/conflicts` → `ConflictList`; `POST /api/v1/conflicts` (`Conflict`).
//! - `GET /api/v1/enterprises/{id}/code.svg`: the bureau's 扫码入企 code to print.
//! - The bootstrap carries the phone's tasks, the caps and this year's visit counts.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::draw::{DrawInput, DrawResult};
use super::{Approval, CapRule, Conflict, Grade, Plan, PlanFigures, Staffing, Task};
use crate::ids::{DrawId, EnterpriseId, OrgId, PlanId, UserId};
use crate::model::Sector;

/// `POST /api/v1/plans`: the plan's org is the leader's own unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewPlan {
    pub year: i32,
    pub title: String,
    #[serde(default)]
    pub campaign: String,
    pub staffing: Staffing,
    #[serde(default)]
    pub min_random_pct: u32,
    #[serde(default)]
    pub approval: Option<Approval>,
}

/// One row of `GET /api/v1/plans`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanSummary {
    pub plan: Plan,
    pub figures: PlanFigures,
    pub tasks: u32,
    pub done: u32,
    pub overdue: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanList {
    pub plans: Vec<PlanSummary>,
}

/// Which directory entries a draw picks from; every filter optional, combined with AND. Merged
/// entries never take part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub township: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<Sector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
}

impl DrawFilter {
    /// The filter in words, for the record and the publication.
    pub fn describe_zh(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = &self.county {
            parts.push(format!("旗县：{c}"));
        }
        if let Some(t) = &self.township {
            parts.push(format!("苏木镇：{t}"));
        }
        if let Some(s) = self.sector {
            parts.push(format!("行业：{}", s.label_zh()));
        }
        if let Some(g) = self.grade {
            parts.push(format!("类别：{}", g.label_zh()));
        }
        if parts.is_empty() {
            "全部名录".to_owned()
        } else {
            parts.join("；")
        }
    }
}

/// `POST /api/v1/plans/{id}/draws`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawRequest {
    #[serde(default)]
    pub filter: DrawFilter,
    /// Random (non-key) enterprises to draw.
    pub count: u32,
    /// Take every 重点 enterprise of the filter as well (officers drawn for them).
    #[serde(default)]
    pub include_key: bool,
    /// A published seed; empty: the server makes one from its random source.
    #[serde(default)]
    pub seed: String,
    /// The tasks' due day.
    pub due: NaiveDate,
}

/// A name for an id of a draw, so a publication is readable without the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawnEnterprise {
    pub id: EnterpriseId,
    pub name: String,
    #[serde(default)]
    pub credit_code: Option<String>,
    #[serde(default)]
    pub county: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawnOfficer {
    pub id: UserId,
    pub name: String,
    #[serde(default)]
    pub certificate_no: Option<String>,
}

/// One draw, kept for good: its number within the bureau, who made it when, the filter in
/// words, the full input and result, and the names of every id in them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawRecord {
    pub id: DrawId,
    pub plan_id: PlanId,
    pub org_id: OrgId,
    /// 1, 2, … per bureau.
    pub no: u32,
    pub made_at: DateTime<Utc>,
    pub made_by: String,
    pub filter: String,
    pub input: DrawInput,
    pub result: DrawResult,
    /// SHA-256 of the input's JSON (`draw::input_hash`).
    pub input_hash: String,
    pub enterprises: Vec<DrawnEnterprise>,
    pub officers: Vec<DrawnOfficer>,
}

/// Planned against done for one region × sector × team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoverageRow {
    pub county: String,
    pub sector: Option<Sector>,
    pub team: OrgId,
    pub team_name: String,
    pub planned: u32,
    pub done: u32,
    pub overdue: u32,
}

/// An enterprise at or past its yearly cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CapWarning {
    pub enterprise_id: EnterpriseId,
    pub name: String,
    pub visits: u32,
    pub cap: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Coverage {
    pub rows: Vec<CoverageRow>,
    pub planned: u32,
    pub done: u32,
    pub overdue: u32,
    /// Enterprises of the plan's directory at or past their cap this year.
    pub over_cap: Vec<CapWarning>,
}

/// `GET /api/v1/plans/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanDetail {
    pub plan: Plan,
    pub figures: PlanFigures,
    pub draws: Vec<DrawRecord>,
    pub tasks: Vec<Task>,
    pub coverage: Coverage,
}

/// `GET/PUT /api/v1/caps`: the caps in force for the caller's bureau (the defaults until
/// edited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CapTable {
    pub rules: Vec<CapRule>,
    /// False while the defaults are in force.
    #[serde(default)]
    pub edited: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConflictList {
    pub conflicts: Vec<Conflict>,
}

/// An enterprise's inspections this year, for the cap warning offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Visits {
    pub enterprise_id: EnterpriseId,
    pub visits: u32,
}
