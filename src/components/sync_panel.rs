//! Sync state at a glance: what is waiting, when the last round succeeded, and 立即同步.

use leptos::prelude::*;

use crate::routes::Page;
use crate::state::use_unsynced;
use crate::sync::engine::use_sync_engine;

#[component]
pub fn SyncPanel() -> impl IntoView {
    let engine = use_sync_engine();
    let unsynced = use_unsynced();
    let state_line = move || {
        let status = engine.status.get();
        let counts = unsynced.counts.get().unwrap_or_default();
        if status.running {
            "同步中…".to_owned()
        } else if status.login_required {
            "需要重新登录才能同步（本机数据不受影响）".to_owned()
        } else if let Some(error) = status.error {
            error
        } else if counts.errors > 0 {
            "部分记录被退回，待处理".to_owned()
        } else if counts.mutations == 0 && counts.photos == 0 && status.last_success.is_some() {
            "已同步".to_owned()
        } else if counts.mutations > 0 || counts.photos > 0 {
            "待同步".to_owned()
        } else {
            "尚未同步".to_owned()
        }
    };
    let last = move || {
        engine
            .status
            .get()
            .last_success
            .map(|at| format!("上次同步：{}", zhicha_core::time::short(at)))
    };
    view! {
        <section class="card sync" aria-label="同步">
            <div class="sync__row">
                <span class="sync__state" data-testid="sync-state">{state_line}</span>
                <button class="button button--small" on:click=move |_| engine.sync_now()
                    disabled=move || engine.status.get().running>"立即同步"</button>
            </div>
            <p class="muted sync__last">{last}</p>
            <Show when=move || engine.status.get().login_required>
                <a class="button button--secondary" href=Page::Login.path()>"重新登录"</a>
            </Show>
            <Show when=move || unsynced.counts.get().is_some_and(|c| c.errors > 0)>
                <a class="sync__errors-link" href=Page::SyncErrors.path()>
                    {move || format!("{} 条记录被服务器退回，点此处理", unsynced.counts.get().unwrap_or_default().errors)}
                </a>
            </Show>
        </section>
    }
    .into_any()
}
