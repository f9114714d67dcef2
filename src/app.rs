//! The app shell and its one route table.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::pages::{home::HomePage, not_found::NotFoundPage};

/// The whole app: header, then the routed page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="app-bar">
                <span class="app-bar__title">{zhicha_core::APP_NAME}</span>
                <span class="app-bar__subtitle">"安全生产现场检查"</span>
            </header>
            <main class="app-main">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=HomePage />
                </Routes>
            </main>
        </Router>
    }
}
