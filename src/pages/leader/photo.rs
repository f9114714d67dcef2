//! A row of photos by their hashes, each through the shared `PhotoThumb`: the device's copy or
//! its kept thumbnail, else the server's (with the session's token), else a plain note.

use leptos::prelude::*;
use zhicha_core::ids::PhotoHash;

use crate::components::photos::PhotoThumb;

/// A row of photos, or a note that there are none.
#[component]
pub fn PhotoStrip(photos: Vec<PhotoHash>, #[prop(into)] empty: String) -> impl IntoView {
    if photos.is_empty() {
        return view! { <p class="muted">{empty}</p> }.into_any();
    }
    view! {
        <div class="photo-strip">
            {photos.into_iter().enumerate().map(|(n, hash)| view! {
                <PhotoThumb hash alt=format!("照片 {}", n + 1) />
            }).collect_view()}
        </div>
    }
    .into_any()
}
