//! One photo by its hash: the device's own copy if it has one, else the server's (with the
//! session's token), else a plain "照片未同步" — a leader reviewing offline sees what is there.

use std::rc::Rc;

use leptos::prelude::*;
use zhicha_core::ids::PhotoHash;

use crate::state;
use crate::sync::leader::{self as api, ObjectUrl};

async fn load(hash: PhotoHash) -> Option<Rc<ObjectUrl>> {
    let db = state::db().await.ok()?;
    if let Ok(Some(photo)) = db.photo(&hash).await {
        return ObjectUrl::new(&photo.blob).map(Rc::new);
    }
    let session = db.session().await.ok().flatten()?;
    let blob = api::photo(&session.token, &hash).await.ok()?;
    ObjectUrl::new(&blob).map(Rc::new)
}

/// A photo thumbnail that opens full size in a new tab.
#[component]
pub fn PhotoThumb(hash: PhotoHash, #[prop(into)] alt: String) -> impl IntoView {
    let url = LocalResource::new(move || load(hash.clone()));
    view! {
        <Suspense fallback=|| view! { <span class="photo photo--loading">"照片读取中…"</span> }>
            {move || url.get().map(|url| match url {
                Some(url) => {
                    let src = url.as_str().to_owned();
                    let href = src.clone();
                    view! {
                        <a class="photo" href=href target="_blank" rel="noopener">
                            <img class="photo__img" src=src alt=alt.clone() loading="lazy" />
                        </a>
                    }.into_any()
                }
                None => view! { <span class="photo photo--missing">"照片未同步"</span> }.into_any(),
            })}
        </Suspense>
    }
    .into_any()
}

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
