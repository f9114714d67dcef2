//! Offers a new app version; never switches while unsynced data is on the device.

use leptos::prelude::*;

use crate::pwa;
use crate::state::{self, use_unsynced};

#[component]
pub fn UpdateBanner(ready: ReadSignal<bool>) -> impl IntoView {
    let unsynced = use_unsynced();
    let (error, set_error) = signal(None::<String>);
    let update = move |_| {
        leptos::task::spawn_local(async move {
            // Check the database itself, not the last displayed counts, right before switching.
            match state::read_unsynced().await {
                Ok(counts) if state::is_clear(counts) => {
                    if let Err(e) = pwa::apply_update().await {
                        set_error.set(Some(e));
                    }
                }
                Ok(_) => {
                    unsynced.refresh();
                    set_error.set(Some("有未同步的数据，同步完成后再更新。".to_owned()));
                }
                Err(e) => set_error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <Show when=move || ready.get()>
            <div class="banner banner--update" role="status">
                <span>"直查有新版本可用。"</span>
                <Show
                    when=move || unsynced.is_clear()
                    fallback=|| view! { <span class="banner__note">"有未同步的数据，同步完成后再更新。"</span> }
                >
                    <button class="button button--small" on:click=update>"立即更新"</button>
                </Show>
                {move || error.get().map(|e| view! { <span class="banner__note">{e}</span> })}
            </div>
        </Show>
    }
    .into_any()
}
