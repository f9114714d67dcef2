//! The app shell and its one route table (`view_for_path`); the paths are `routes::Page`'s.

use leptos::prelude::*;
use leptos_router::components::Router;
use leptos_router::hooks::use_location;
use leptos_router::location::{BrowserUrl, LocationProvider};

use crate::components::app_bar::{AppBar, InAppBrowserHint};
use crate::components::secure_context::SecureContextNotice;
use crate::components::update_banner::UpdateBanner;
use crate::{pwa, state, sync};
use zhicha_core::ids::{CaseId, EnterpriseId, FindingId, InspectionId, PlanId, TaskId};

/// How often an open app asks the server for a new version.
const UPDATE_CHECK_MS: u32 = 30 * 60 * 1000;

/// The id of the loading splash in `index.html`, shown while the wasm loads.
pub const SPLASH_ID: &str = "app-splash";

/// Takes the loading splash away: the app now draws the page itself.
fn remove_splash() {
    if let Some(splash) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(SPLASH_ID))
    {
        splash.remove();
    }
}

/// The whole app: app bar, notices, update offer, then the routed page.
#[component]
pub fn App() -> impl IntoView {
    remove_splash();
    let unsynced = state::provide_unsynced();
    sync::engine::provide_sync_engine(unsynced);
    let (update_ready, set_update_ready) = signal(false);
    // On plain HTTP there is no service worker to register: SecureContextNotice says why.
    if pwa::is_secure_context() {
        leptos::task::spawn_local(async move {
            if let Err(error) =
                pwa::register_service_worker(move || set_update_ready.set(true)).await
            {
                leptos::logging::warn!("{error}");
            }
        });
    }
    gloo::timers::callback::Interval::new(UPDATE_CHECK_MS, || {
        leptos::task::spawn_local(pwa::check_for_update());
    })
    .forget();
    view! {
        <Router>
            <AppBar />
            <InAppBrowserHint />
            <SecureContextNotice />
            <UpdateBanner ready=update_ready />
            <main class="app-main">
                <CurrentPage />
            </main>
        </Router>
    }
    .into_any()
}

/// The page of the current address; rebuilt when the path changes (back/forward, links,
/// `navigate`), not when only the query does.
#[component]
fn CurrentPage() -> impl IntoView {
    let pathname = use_location().pathname;
    let browser = use_context::<BrowserUrl>();
    move || {
        let page = view_for_path(&pathname.get());
        // The router puts a new path in the address bar (and history) only once the routed
        // view says it is ready, as `<Routes>` does after building the matched route.
        if let Some(browser) = &browser {
            browser.ready_to_complete();
        }
        page
    }
}

/// Reads a uuid path segment into an id type; `None` for a malformed link.
fn parse_id<T>(raw: &str, wrap: impl FnOnce(uuid::Uuid) -> T) -> Option<T> {
    uuid::Uuid::parse_str(raw).ok().map(wrap)
}

/// The page for a path: the app's one route table, the inverse of [`crate::routes::Page::path`].
///
/// A flat match on the path's segments, each page erased to `AnyView`, instead of a
/// `<Routes>` tree: the router's nested generic matcher was the largest single piece of the
/// wasm. A page whose id segment is not a uuid still opens and says that the link is wrong.
/// The query (`?item=` of a new finding) is read by the page itself.
pub fn view_for_path(path: &str) -> AnyView {
    use crate::pages::admin::{AdminDirectoryPage, AdminOrgsPage, AdminUsersPage};
    use crate::pages::inspect::{
        DocumentsPage, FindingPage, FinishPage, InspectionPage, NewFindingPage, PickEnterprisePage,
        StartInspectionPage,
    };
    use crate::pages::leader::{
        DossierPage, LeaderFindingPage, LedgerPage, RectificationPage, ReviewPage, StatsPage,
    };
    use crate::pages::leader::{PlanPage, PlansPage};
    use crate::pages::reinspect::{ReinspectPage, ReinspectionsPage};
    use crate::pages::tasks::{StartTaskPage, TasksPage};
    use crate::pages::{
        cases, home::HomePage, leader, login::LoginPage, not_found::NotFoundPage, report,
        storage::StoragePage, sync_errors::SyncErrorsPage,
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
