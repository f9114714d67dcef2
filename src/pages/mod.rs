//! Routed pages, one per file. `Page` owns every path so no other code spells one out.

pub mod admin;
pub mod cases;
pub mod home;
pub mod inspect;
pub mod leader;
pub mod login;
pub mod not_found;
pub mod reinspect;
pub mod report;
pub mod storage;
pub mod sync_errors;
pub mod tasks;

use leptos::prelude::*;
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

/// Reads a uuid path segment into an id type; `None` for a malformed link.
fn parse_id<T>(raw: &str, wrap: impl FnOnce(uuid::Uuid) -> T) -> Option<T> {
    uuid::Uuid::parse_str(raw).ok().map(wrap)
}

/// The page for a path: the app's one route table, the inverse of [`Page::path`].
///
/// A flat match on the path's segments, each page erased to `AnyView`, instead of a
/// `<Routes>` tree: the router's nested generic matcher was the largest single piece of the
/// wasm. A page whose id segment is not a uuid still opens and says that the link is wrong.
/// The query (`?item=` of a new finding) is read by the page itself.
pub fn view_for_path(path: &str) -> AnyView {
    use admin::{AdminDirectoryPage, AdminOrgsPage, AdminUsersPage};
    use inspect::{
        DocumentsPage, FindingPage, FinishPage, InspectionPage, NewFindingPage, PickEnterprisePage,
        StartInspectionPage,
    };
    use leader::{
        DossierPage, LeaderFindingPage, LedgerPage, RectificationPage, ReviewPage, StatsPage,
    };
    use leader::{PlanPage, PlansPage};
    use reinspect::{ReinspectPage, ReinspectionsPage};
    use tasks::{StartTaskPage, TasksPage};
    use {
        home::HomePage, login::LoginPage, not_found::NotFoundPage, storage::StoragePage,
        sync_errors::SyncErrorsPage,
    };

    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => view! { <HomePage /> }.into_any(),
        ["login"] => view! { <LoginPage /> }.into_any(),
        ["storage"] => view! { <StoragePage /> }.into_any(),
        ["sync-errors"] => view! { <SyncErrorsPage /> }.into_any(),
        ["inspections", "new"] => view! { <PickEnterprisePage /> }.into_any(),
        ["inspections", "new", enterprise] => view! {
            <StartInspectionPage id=(*enterprise).to_owned() />
        }
        .into_any(),
        ["inspections", id] => {
            view! { <InspectionPage id=parse_id(id, InspectionId) /> }.into_any()
        }
        ["inspections", id, "findings", "new"] => {
            view! { <NewFindingPage inspection=parse_id(id, InspectionId) /> }.into_any()
        }
        ["inspections", id, "finish"] => {
            view! { <FinishPage id=parse_id(id, InspectionId) /> }.into_any()
        }
        ["inspections", id, "documents"] => {
            view! { <DocumentsPage id=parse_id(id, InspectionId) /> }.into_any()
        }
        ["findings", id] => view! { <FindingPage id=parse_id(id, FindingId) /> }.into_any(),
        ["findings", id, "reinspect"] => {
            view! { <ReinspectPage id=parse_id(id, FindingId) /> }.into_any()
        }
        ["reinspections"] => view! { <ReinspectionsPage /> }.into_any(),
        ["leader", "review"] => view! { <ReviewPage /> }.into_any(),
        ["leader", "findings", id] => {
            view! { <LeaderFindingPage id=parse_id(id, FindingId) /> }.into_any()
        }
        ["leader", "rectification"] => view! { <RectificationPage /> }.into_any(),
        ["leader", "ledger"] => view! { <LedgerPage /> }.into_any(),
        ["leader", "stats"] => view! { <StatsPage /> }.into_any(),
        ["enterprises", id] => view! { <DossierPage id=parse_id(id, EnterpriseId) /> }.into_any(),
        ["admin"] | ["admin", "users"] => view! { <AdminUsersPage /> }.into_any(),
        ["admin", "orgs"] => view! { <AdminOrgsPage /> }.into_any(),
        ["admin", "enterprises"] => view! { <AdminDirectoryPage /> }.into_any(),
        ["tasks"] => view! { <TasksPage /> }.into_any(),
        ["tasks", id, "start"] => view! { <StartTaskPage id=parse_id(id, TaskId) /> }.into_any(),
        ["leader", "plans"] => view! { <PlansPage /> }.into_any(),
        ["leader", "plans", id] => view! { <PlanPage id=parse_id(id, PlanId) /> }.into_any(),
        ["inspections", id, "case"] => {
            view! { <cases::PreFilePage inspection=parse_id(id, InspectionId) /> }.into_any()
        }
        ["cases"] => view! { <cases::CasesPage /> }.into_any(),
        ["cases", id] => view! { <cases::CasePage id=parse_id(id, CaseId) /> }.into_any(),
        ["cases", id, "documents"] => {
            view! { <cases::CaseDocumentsPage id=parse_id(id, CaseId) /> }.into_any()
        }
        ["report"] => view! { <report::ReportPage /> }.into_any(),
        ["report", code] => {
            view! { <report::ReportStatusPage code=(*code).to_owned() /> }.into_any()
        }
        ["leader", "reports"] => view! { <leader::ReportsPage /> }.into_any(),
        _ => view! { <NotFoundPage /> }.into_any(),
    }
}
