//! Photos kept on the device: thumbnails drawn from their stored Blobs, an optional delete per
//! photo, and the camera / file input that feeds the photo pipeline.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement, Url};
use zhicha_core::ids::PhotoHash;

use crate::state;

/// One thumbnail: an object URL of the local Blob, or None when the bytes are not on this device.
#[derive(Clone)]
struct Thumb {
    hash: PhotoHash,
    url: Option<String>,
}

async fn thumbs(hashes: Vec<PhotoHash>) -> Vec<Thumb> {
    let Ok(db) = state::db().await else {
        return hashes
            .into_iter()
            .map(|hash| Thumb { hash, url: None })
            .collect();
    };
    let mut out = Vec::with_capacity(hashes.len());
    for hash in hashes {
        let url = match db.photo(&hash).await {
            Ok(Some(photo)) => Url::create_object_url_with_blob(&photo.blob).ok(),
            _ => None,
        };
        out.push(Thumb { hash, url });
    }
    out
}

/// Thumbnails of `hashes`. With `on_delete`, each has a 删除 button (the caller confirms).
#[component]
pub fn PhotoStrip(
    #[prop(into)] hashes: Signal<Vec<PhotoHash>>,
    #[prop(optional)] on_delete: Option<Callback<PhotoHash>>,
    #[prop(default = "照片")] label: &'static str,
) -> impl IntoView {
    let loaded = LocalResource::new(move || thumbs(hashes.get()));
    // Object URLs hold the Blob in memory until revoked.
    let shown = StoredValue::new(Vec::<String>::new());
    let revoke = move || {
        shown.update_value(|urls| {
            for url in urls.drain(..) {
                let _ = Url::revoke_object_url(&url);
            }
        });
    };
    on_cleanup(revoke);
    view! {
        <Suspense fallback=|| ()>
            {move || loaded.get().map(|list| {
                revoke();
                shown.set_value(list.iter().filter_map(|t| t.url.clone()).collect());
                view! {
                    <ul class="photos" data-testid="photos">
                        {list.into_iter().enumerate().map(|(n, thumb)| {
                            let alt = format!("{label}{}", n + 1);
                            let hash = thumb.hash.clone();
                            view! {
                                <li class="photos__item">
                                    {match thumb.url {
                                        Some(url) => view! { <img class="photos__img" src=url alt=alt /> }.into_any(),
                                        None => view! { <span class="photos__missing">"照片不在本机"</span> }.into_any(),
                                    }}
                                    {on_delete.map(|delete| view! {
                                        <button class="button button--small button--secondary photos__delete" type="button"
                                            on:click=move |_| delete.run(hash.clone())>"删除"</button>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
            })}
        </Suspense>
    }
    .into_any()
}

/// Two ways to add photos: 拍照 opens the camera (`capture`), 从相册选择 the phone's album (no
/// `capture`: some photos are taken before the visit, or with another camera). Both hand the
/// chosen files to `on_files` and clear themselves, so the same photo can be chosen again after a
/// delete. The camera input carries `testid`, the gallery one `testid` + `-gallery`.
#[component]
pub fn PhotoInput(
    on_files: Callback<Vec<File>>,
    #[prop(default = "拍照取证")] label: &'static str,
    #[prop(into, optional)] disabled: Signal<bool>,
    #[prop(default = "photo-input")] testid: &'static str,
) -> impl IntoView {
    let changed = move |ev: leptos::ev::Event| {
        let files = take_files(&ev);
        if !files.is_empty() {
            on_files.run(files);
        }
    };
    let gallery_testid = format!("{testid}-gallery");
    view! {
        <span>
            <label class="button button--secondary photo-input" class:photo-input--disabled=disabled>
                {label}
                <input class="photo-input__file" type="file" accept="image/*" capture="environment" multiple
                    data-testid=testid disabled=disabled on:change=changed />
            </label>
            <label class="button button--secondary photo-input" class:photo-input--disabled=disabled>
                "从相册选择"
                <input class="photo-input__file" type="file" accept="image/*" multiple
                    data-testid=gallery_testid disabled=disabled on:change=changed />
            </label>
        </span>
    }
    .into_any()
}

/// The files a file input's `change` carries; the input is cleared for the next pick.
pub fn take_files(ev: &leptos::ev::Event) -> Vec<File> {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
    else {
        return Vec::new();
    };
    let mut files = Vec::new();
    if let Some(list) = input.files() {
        for n in 0..list.length() {
            if let Some(file) = list.get(n) {
                files.push(file);
            }
        }
    }
    input.set_value("");
    files
}
