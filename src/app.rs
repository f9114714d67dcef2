//! The app shell; the route table is `pages::view_for_path`.

use leptos::prelude::*;
use leptos_router::components::Router;
use leptos_router::hooks::use_location;
use leptos_router::location::{BrowserUrl, LocationProvider};

use crate::components::app_bar::{AppBar, InAppBrowserHint};
use crate::components::secure_context::SecureContextNotice;
use crate::components::update_banner::UpdateBanner;
use crate::pages::view_for_path;
use crate::{pwa, state, sync};

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
