//! The app shell and its one route table.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::update_banner::UpdateBanner;
use crate::pages::inspect::{
    DocumentsPage, FindingPage, FinishPage, InspectionPage, NewFindingPage, PickEnterprisePage,
    StartInspectionPage,
};
use crate::pages::leader::{
    DossierPage, LeaderFindingPage, LedgerPage, RectificationPage, ReviewPage, StatsPage,
};
use crate::pages::reinspect::{ReinspectPage, ReinspectionsPage};
use crate::pages::{
    home::HomePage, login::LoginPage, not_found::NotFoundPage, storage::StoragePage,
    sync_errors::SyncErrorsPage,
};
use crate::{pwa, state, sync};

/// How often an open app asks the server for a new version.
const UPDATE_CHECK_MS: u32 = 30 * 60 * 1000;

/// The whole app: header, update offer, then the routed page.
#[component]
pub fn App() -> impl IntoView {
    let unsynced = state::provide_unsynced();
    sync::engine::provide_sync_engine(unsynced);
    let (update_ready, set_update_ready) = signal(false);
    leptos::task::spawn_local(async move {
        if let Err(error) = pwa::register_service_worker(move || set_update_ready.set(true)).await {
            leptos::logging::warn!("{error}");
        }
    });
    gloo::timers::callback::Interval::new(UPDATE_CHECK_MS, || {
        leptos::task::spawn_local(pwa::check_for_update());
    })
    .forget();
    view! {
        <Router>
            <header class="app-bar">
                <span class="app-bar__title">{zhicha_core::APP_NAME}</span>
                <span class="app-bar__subtitle">"安全生产现场检查"</span>
            </header>
            <UpdateBanner ready=update_ready />
            <main class="app-main">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/storage") view=StoragePage />
                    <Route path=path!("/sync-errors") view=SyncErrorsPage />
                    <Route path=path!("/inspections/new") view=PickEnterprisePage />
                    <Route path=path!("/inspections/new/:enterprise") view=StartInspectionPage />
                    <Route path=path!("/inspections/:id") view=InspectionPage />
                    <Route path=path!("/inspections/:id/findings/new") view=NewFindingPage />
                    <Route path=path!("/inspections/:id/finish") view=FinishPage />
                    <Route path=path!("/inspections/:id/documents") view=DocumentsPage />
                    <Route path=path!("/findings/:id") view=FindingPage />
                    <Route path=path!("/findings/:id/reinspect") view=ReinspectPage />
                    <Route path=path!("/reinspections") view=ReinspectionsPage />
                    <Route path=path!("/leader/review") view=ReviewPage />
                    <Route path=path!("/leader/findings/:id") view=LeaderFindingPage />
                    <Route path=path!("/leader/rectification") view=RectificationPage />
                    <Route path=path!("/leader/ledger") view=LedgerPage />
                    <Route path=path!("/leader/stats") view=StatsPage />
                    <Route path=path!("/enterprises/:id") view=DossierPage />
                </Routes>
            </main>
        </Router>
    }
}
