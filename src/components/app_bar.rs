//! The app bar on every screen: back, the title and 首页 leading home, and a small indicator of
//! the network and of what this phone has not uploaded; and the hint shown inside another app's
//! built-in browser.
//!
//! An installed app has no browser back button, so the bar brings its own. It goes back through
//! the browser's history only while that history stays inside the app (as far as this tab has
//! seen); otherwise it goes home, never out of the app to whatever page came before it.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};

use crate::pwa;
use crate::routes::Page;
use crate::state::use_unsynced;
use crate::storage::UnsyncedCounts;
use crate::sync::SyncError;
use crate::sync::engine::use_sync_engine;

/// Where the tab's in-app history is kept, so a reload does not forget it.
const HISTORY_KEY: &str = "zhicha:history";

/// The addresses this tab has shown, oldest first, ending with the current one.
///
/// A page seen again (back, or a link to it) cuts the list to it, so the list never claims more
/// history than the browser holds: back from the first page the tab opened goes home.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InAppHistory {
    paths: Vec<String>,
}

impl InAppHistory {
    /// The app now shows `path` (a path with its query).
    pub fn visit(&mut self, path: &str) {
        match self.paths.iter().rposition(|p| p == path) {
            Some(at) => self.paths.truncate(at + 1),
            None => self.paths.push(path.to_owned()),
        }
    }

    /// The browser's back stays inside the app.
    pub fn can_go_back(&self) -> bool {
        self.paths.len() > 1
    }

    /// The tab's history as last saved, when this document continues the tab's visit (a reload,
    /// or back/forward into the app); a fresh start otherwise (the app opened from its icon, a
    /// link or a typed address), whose "back" would leave the app.
    fn restored() -> Self {
        let continued = web_sys::window()
            .and_then(|w| w.performance())
            .map(|p| p.get_entries_by_type("navigation").get(0))
            .and_then(|entry| js_sys::Reflect::get(&entry, &"type".into()).ok())
            .and_then(|kind| kind.as_string())
            .is_some_and(|kind| kind == "reload" || kind == "back_forward");
        let saved = continued
            .then(session_storage)
            .flatten()
            .and_then(|s| s.get_item(HISTORY_KEY).ok().flatten());
        Self {
            paths: saved
                .map(|s| s.lines().map(str::to_owned).collect())
                .unwrap_or_default(),
        }
    }

    fn save(&self) {
        if let Some(storage) = session_storage() {
            let _ = storage.set_item(HISTORY_KEY, &self.paths.join("\n"));
        }
    }
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// What the phone knows of its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// The browser reports no network.
    Offline,
    /// A network, but the last sync round could not reach the server.
    ServerUnreachable,
    Online,
}

/// The indicator's words: the connection, then what this phone has not uploaded (its own
/// queued records and photos; records pulled from colleagues are never in that queue) and what
/// the server sent back. Nothing is claimed about counts not yet read.
pub fn status_text(network: Network, counts: Option<UnsyncedCounts>) -> String {
    let mut text = match network {
        Network::Offline => "离线",
        Network::ServerUnreachable => "连不上服务器",
        Network::Online => "在线",
    }
    .to_owned();
    if let Some(c) = counts {
        let waiting = c.mutations + c.photos;
        if waiting > 0 {
            text.push_str(&format!(" · 未上传 {waiting}"));
        }
        if c.errors > 0 {
            text.push_str(&format!(" · 退回 {}", c.errors));
        }
    }
    text
}

/// The bar's indicator in full, for its tooltip and screen readers.
fn status_detail(counts: Option<UnsyncedCounts>) -> String {
    match counts {
        None => "正在读取本机未上传的数据…".to_owned(),
        Some(c) => format!(
            "本机未上传：{} 条记录、{} 张照片；被服务器退回 {} 条",
            c.mutations, c.photos, c.errors
        ),
    }
}

fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

#[component]
pub fn AppBar() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let history = StoredValue::new_local(InAppHistory::restored());
    let current_path = move || {
        let pathname = location.pathname.get();
        let search = location.search.get();
        if search.is_empty() {
            pathname
        } else {
            format!("{pathname}?{search}")
        }
    };
    // Follows every address the router shows. Read by the back button's own attributes, so it
    // runs as the bar is drawn for each address (an `Effect` would run later, after a quick
    // tap could already have asked where back leads).
    let can_go_back = move || {
        let path = current_path();
        history.update_value(|h| {
            h.visit(&path);
            h.save();
        });
        history.with_value(InAppHistory::can_go_back)
    };
    let at_home = move || location.pathname.get() == Page::Home.path();
    let back = move |_| {
        let path = untrack(current_path);
        let inside = history.try_update_value(|h| {
            h.visit(&path);
            h.can_go_back()
        });
        if inside == Some(true)
            && let Some(Ok(browser)) = web_sys::window().map(|w| w.history())
            && browser.back().is_ok()
        {
            return;
        }
        navigate(&Page::Home.path(), Default::default());
    };

    let engine = use_sync_engine();
    let unsynced = use_unsynced();
    let (online, set_online) = signal(browser_online());
    let on = window_event_listener(leptos::ev::online, move |_| set_online.set(true));
    let off = window_event_listener(leptos::ev::offline, move |_| set_online.set(false));
    on_cleanup(move || {
        on.remove();
        off.remove();
    });
    let unreachable = SyncError::Offline.to_string();
    let network = Memo::new(move |_| {
        if !online.get() {
            Network::Offline
        } else if engine
            .status
            .with(|s| s.error.as_deref() == Some(unreachable.as_str()))
        {
            Network::ServerUnreachable
        } else {
            Network::Online
        }
    });
    let network_name = move || match network.get() {
        Network::Offline => "offline",
        Network::ServerUnreachable => "unreachable",
        Network::Online => "online",
    };

    view! {
        <header class="app-bar">
            <button class="app-bar__button" type="button" data-testid="app-back"
                data-in-app-history=move || can_go_back().to_string()
                disabled=move || at_home() && !can_go_back()
                on:click=back>
                <span aria-hidden="true">"‹"</span>" 返回"
            </button>
            <a class="app-bar__title" href=Page::Home.path() data-testid="app-title">{zhicha_core::APP_NAME}</a>
            <span class="app-bar__subtitle">"安全生产现场检查"</span>
            <span class="app-bar__status" data-testid="app-status" role="status"
                data-network=network_name
                title=move || status_detail(unsynced.counts.get())>
                {move || status_text(network.get(), unsynced.counts.get())}
            </span>
            <a class="app-bar__button" href=Page::Home.path() data-testid="app-home"
                aria-current=move || at_home().then_some("page")>"首页"</a>
        </header>
    }
    .into_any()
}

/// The hint inside another app's built-in browser: open the page in the system browser to
/// install it. None in a browser that can install.
pub fn install_hint(user_agent: &str) -> Option<String> {
    pwa::in_app_browser(user_agent).map(|host| {
        format!(
            "您正在{host}内置的浏览器中使用直查：这里无法安装到手机桌面，{host}清理缓存时本机数据也可能丢失。\
             请点右上角「…」，选择「在浏览器中打开」，再在浏览器中添加到主屏幕。"
        )
    })
}

#[component]
pub fn InAppBrowserHint() -> impl IntoView {
    install_hint(&pwa::user_agent())
        .map(|hint| {
            view! {
                <div class="banner banner--in-app" role="note" data-testid="in-app-browser">
                    <span class="banner__note">{hint}</span>
                </div>
            }
        })
        .into_any()
}
