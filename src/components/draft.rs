//! Drafts on screen: a keeper that writes a form's draft to the device as it changes, and the
//! note that a draft was restored, with 放弃草稿.

use leptos::prelude::*;

use crate::state;
use crate::storage::{Draft, DraftKey};

/// Quiet time after the last change before a draft is written; closing the screen writes at once.
const DRAFT_MS: u32 = 300;

/// Writes one form's draft under its key. A form back at its blank state has no draft.
pub struct DraftKeeper<D: 'static> {
    key: StoredValue<DraftKey, LocalStorage>,
    blank: StoredValue<D, LocalStorage>,
    /// The value not yet written, and the timer that will write it.
    pending: StoredValue<Option<(D, gloo::timers::callback::Timeout)>, LocalStorage>,
    /// Set once the real record is saved: nothing may write the draft again.
    done: StoredValue<bool, LocalStorage>,
}

impl<D: 'static> Clone for DraftKeeper<D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D: 'static> Copy for DraftKeeper<D> {}

impl<D: Draft + Clone + PartialEq + 'static> DraftKeeper<D> {
    /// A keeper for `key`; `blank` is the form as it opens with nothing typed. A change still
    /// waiting to be written when the screen closes is written then.
    pub fn new(key: DraftKey, blank: D) -> Self {
        let keeper = Self {
            key: StoredValue::new_local(key),
            blank: StoredValue::new_local(blank),
            pending: StoredValue::new_local(None),
            done: StoredValue::new_local(false),
        };
        // Leaving the app (another app, the tab closed, a reload) runs no cleanup: the change
        // still waiting is written as the page is hidden.
        let listeners = web_sys::window().map(|window| {
            let hidden = move |_: &web_sys::Event| keeper.write_now();
            (
                gloo::events::EventListener::new(&window, "pagehide", hidden),
                window.document().map(|document| {
                    gloo::events::EventListener::new(&document, "visibilitychange", hidden)
                }),
            )
        });
        let listeners = StoredValue::new_local(listeners);
        on_cleanup(move || {
            keeper.write_now();
            // Dropping the listeners removes them.
            listeners.try_set_value(None);
        });
        keeper
    }

    /// Keeps the draft `current` computes, each time the signals it reads change (not for the
    /// value it has when called: that one is the form as opened).
    pub fn track(self, current: impl Fn() -> D + 'static) {
        Effect::new(move |first_run_done: Option<()>| {
            let value = current();
            if first_run_done.is_some() {
                self.set(value);
            }
        });
    }

    /// Keeps `value` as the draft, after a short pause.
    pub fn set(self, value: D) {
        if self.done.try_get_value().unwrap_or(true) {
            return;
        }
        let timer = gloo::timers::callback::Timeout::new(DRAFT_MS, move || self.write_now());
        // Replacing the timer drops, and so cancels, the one before.
        self.pending.try_set_value(Some((value, timer)));
    }

    /// Writes the waiting change now.
    pub fn write_now(self) {
        let Some(Some((value, timer))) = self.pending.try_update_value(Option::take) else {
            return;
        };
        drop(timer);
        let (Some(key), Some(blank)) = (self.key.try_get_value(), self.blank.try_get_value())
        else {
            return;
        };
        leptos::task::spawn_local(async move {
            let Ok(db) = state::db().await else { return };
            // A draft is a convenience copy: failing to write one must not stop the inspector.
            let _ = if value == blank {
                db.discard_draft(&key).await
            } else {
                db.keep_draft(&key, &value).await
            };
        });
    }

    /// Deletes the draft (放弃草稿); later changes make a new one.
    pub fn discard(self) {
        self.pending.try_set_value(None);
        if let Some(key) = self.key.try_get_value() {
            leptos::task::spawn_local(async move { forget(&key).await });
        }
    }

    /// The real record is saved: no change writes the draft again (the caller then `forget`s it;
    /// the screen may be gone by then, so the caller keeps the key).
    pub fn stop(self) {
        self.done.try_set_value(true);
        self.pending.try_set_value(None);
    }
}

/// Deletes the draft of `key`, once the record it was for is saved.
pub async fn forget(key: &DraftKey) {
    if let Ok(db) = state::db().await {
        // A draft left behind only shows once more, with 放弃草稿 beside it.
        let _ = db.discard_draft(key).await;
    }
}

/// Reads the draft of `key`; a draft that cannot be read counts as none.
pub async fn restore<D: Draft>(key: &DraftKey) -> Option<D> {
    let db = state::db().await.ok()?;
    db.draft(key).await.ok().flatten()
}

/// "已恢复未保存的草稿" while `shown`, with 放弃草稿 running `on_discard`.
#[component]
pub fn DraftNote(#[prop(into)] shown: Signal<bool>, on_discard: Callback<()>) -> impl IntoView {
    view! {
        <Show when=move || shown.get()>
            <p class="notice" role="status" data-testid="draft-restored">
                "已恢复未保存的草稿 "
                <button class="button button--small button--secondary" type="button"
                    data-testid="discard-draft" on:click=move |_| on_discard.run(())>"放弃草稿"</button>
            </p>
        </Show>
    }
    .into_any()
}
