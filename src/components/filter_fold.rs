//! The leaders' filter forms folded behind one button: on a phone the data comes first and the
//! nine fields open only when asked for; on a wide screen they start open. The button says how
//! many filters narrow what is shown, so a folded filter is never forgotten.

use leptos::prelude::*;

/// Narrower than this, the filters start folded (the tables turn into cards there too).
pub const WIDE_SCREEN_PX: f64 = 768.0;

/// Whether this window is as wide as a tablet in landscape or a desktop.
pub fn wide_screen() -> bool {
    web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|w| w.as_f64())
        .is_some_and(|w| w >= WIDE_SCREEN_PX)
}

/// The text of the fold's button with `active` filters applied.
pub fn fold_label(active: usize) -> String {
    match active {
        0 => "筛选条件（全部）".to_owned(),
        n => format!("筛选条件（已选 {n} 项）"),
    }
}

/// Folds `children` (a filter form) behind one button; `active` counts the applied filters.
#[component]
pub fn FilterFold(#[prop(into)] active: Signal<usize>, children: Children) -> impl IntoView {
    view! {
        <details class="filter-fold card" open=wide_screen() data-testid="filter-fold">
            <summary class="filter-fold__toggle" data-testid="filter-toggle">
                {move || fold_label(active.get())}
            </summary>
            {children()}
        </details>
    }
}
