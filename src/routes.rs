//! Every path of the app: `Page` owns them so no other code spells one out. It imports no
//! page, so components and pages alike can link without a module cycle.

use zhicha_core::ids::{CaseId, EnterpriseId, FindingId, InspectionId, PlanId, TaskId};

/// Every routed page of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Home,
    Login,
    Storage,
    SyncErrors,
    /// Enterprise picker: the first step of a new inspection.
    PickEnterprise,
    /// Kind, co-inspectors, packs and check-in for a new inspection of an enterprise.
    StartInspection(EnterpriseId),
    /// The checklist runner of an inspection.
    Inspection(InspectionId),
    /// A new finding of an inspection, optionally raised from a checklist item.
    NewFinding(InspectionId, Option<String>),
    /// Editing a finding.
    Finding(FindingId),
    /// Summary, signatures and documents of an inspection.
    Finish(InspectionId),
    /// The documents of an inspection, on screen and for printing.
    Documents(InspectionId),
    /// Open findings on this device awaiting re-inspection.
    Reinspections,
    /// Re-inspection of one finding.
    Reinspect(FindingId),
    /// Leader: findings awaiting review.
    Review,
    /// Leader: one finding with its photos, history and the review actions.
    LeaderFinding(FindingId),
    /// Leader: rectification board by status and deadline.
    Rectification,
    /// Leader: the hazard ledger (隐患台账).
    Ledger,
    /// Leader: statistics by region, sector and level.
    Stats,
    /// An enterprise's dossier: past inspections and open findings.
    Dossier(EnterpriseId),
    /// Admin (online): the bureau's accounts.
    AdminUsers,
    /// Admin (online): the bureau's org units.
    AdminOrgs,
    /// Admin (online): the enterprise directory, its import and merges.
    AdminDirectory,
    /// 我的任务: the tasks of plans' draws on this phone, offline.
    Tasks,
    /// Starting the inspection of a task (its enterprise, officers, plan and approval).
    StartTask(TaskId),
    /// Leader (online): the annual plans, caps and 回避 declarations.
    Plans,
    /// Leader (online): one plan: its arithmetic, draws, tasks and coverage.
    Plan(PlanId),
    /// 预立案 from an inspection's findings, offline, with its 询问笔录.
    PreFile(InspectionId),
    /// The cases on this device (the user's own and, for leaders, their scope's), offline.
    Cases,
    /// One case: its facts, clocks, documents and the next act.
    Case(CaseId),
    /// A case's documents, for print.
    CaseDocuments(CaseId),
    /// 举报, public (no login).
    Report,
    /// A 举报 followed by its tracking code, public.
    ReportStatus(String),
    /// Leader (online): the 举报 to handle.
    Reports,
}

impl Page {
    /// The path a link to this page uses.
    pub fn path(&self) -> String {
        match self {
            Self::Home => "/".to_owned(),
            Self::Login => "/login".to_owned(),
            Self::Storage => "/storage".to_owned(),
            Self::SyncErrors => "/sync-errors".to_owned(),
            Self::PickEnterprise => "/inspections/new".to_owned(),
            Self::StartInspection(id) => format!("/inspections/new/{}", id.0),
            Self::Inspection(id) => format!("/inspections/{}", id.0),
            Self::NewFinding(id, None) => format!("/inspections/{}/findings/new", id.0),
            Self::NewFinding(id, Some(item)) => {
                format!(
                    "/inspections/{}/findings/new?item={}",
                    id.0,
                    urlencode(item)
                )
            }
            Self::Finding(id) => format!("/findings/{}", id.0),
            Self::Finish(id) => format!("/inspections/{}/finish", id.0),
            Self::Documents(id) => format!("/inspections/{}/documents", id.0),
            Self::Reinspections => "/reinspections".to_owned(),
            Self::Reinspect(id) => format!("/findings/{}/reinspect", id.0),
            Self::Review => "/leader/review".to_owned(),
            Self::LeaderFinding(id) => format!("/leader/findings/{}", id.0),
            Self::Rectification => "/leader/rectification".to_owned(),
            Self::Ledger => "/leader/ledger".to_owned(),
            Self::Stats => "/leader/stats".to_owned(),
            Self::Dossier(id) => format!("/enterprises/{}", id.0),
            Self::AdminUsers => "/admin/users".to_owned(),
            Self::AdminOrgs => "/admin/orgs".to_owned(),
            Self::AdminDirectory => "/admin/enterprises".to_owned(),
            Self::Tasks => "/tasks".to_owned(),
            Self::StartTask(id) => format!("/tasks/{}/start", id.0),
            Self::Plans => "/leader/plans".to_owned(),
            Self::Plan(id) => format!("/leader/plans/{}", id.0),
            Self::PreFile(id) => format!("/inspections/{}/case", id.0),
            Self::Cases => "/cases".to_owned(),
            Self::Case(id) => format!("/cases/{}", id.0),
            Self::CaseDocuments(id) => format!("/cases/{}/documents", id.0),
            Self::Report => "/report".to_owned(),
            Self::ReportStatus(code) => format!("/report/{}", urlencode(code)),
            Self::Reports => "/leader/reports".to_owned(),
        }
    }
}

/// Percent-encodes a query value (item ids are ASCII, but nothing here relies on it).
fn urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
