//! Photos kept on the device: thumbnails drawn from their stored Blobs (or the thumbnail kept
//! when a confirmed photo's full image was removed, the full one fetched on demand), an optional
//! delete per photo, and the camera / file input that feeds the photo pipeline.

use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlInputElement, Url};
use zhicha_core::ids::PhotoHash;

use crate::state;
use crate::storage::PhotoView;
use crate::sync::leader::ObjectUrl;
use crate::sync::{SyncError, photos as fetch};

/// Said where a removed full image would be, when it cannot be fetched now.
pub const PRUNED_OFFLINE: &str = "原图已清理，联网后可查看";

/// One thumbnail: an object URL of the local full image or of its kept thumbnail, or None when
/// neither is on this device.
#[derive(Clone)]
struct Thumb {
    hash: PhotoHash,
    url: Option<String>,
    /// Only the metadata is left of a photo whose full image was removed.
    pruned: bool,
}

async fn thumbs(hashes: Vec<PhotoHash>) -> Vec<Thumb> {
    let Ok(db) = state::db().await else {
        return hashes
            .into_iter()
            .map(|hash| Thumb {
                hash,
                url: None,
                pruned: false,
            })
            .collect();
    };
    let mut out = Vec::with_capacity(hashes.len());
    for hash in hashes {
        let (url, pruned) = match db.photo_view(&hash).await {
            Ok(PhotoView::Full(blob) | PhotoView::Thumbnail(blob)) => {
                (Url::create_object_url_with_blob(&blob).ok(), false)
            }
            Ok(PhotoView::Pruned) => (None, true),
            _ => (None, false),
        };
        out.push(Thumb { hash, url, pruned });
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
                                    {match (thumb.url, thumb.pruned) {
                                        (Some(url), _) => view! { <img class="photos__img" src=url alt=alt /> }.into_any(),
                                        (None, true) => view! { <span class="photos__missing">{PRUNED_OFFLINE}</span> }.into_any(),
                                        (None, false) => view! { <span class="photos__missing">"照片不在本机"</span> }.into_any(),
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

/// What a photo thumbnail can show.
#[derive(Clone)]
enum Shown {
    /// The full image (the device's copy or the server's).
    Full(Rc<ObjectUrl>),
    /// The kept thumbnail of a removed full image; the full one is fetched when opened.
    Thumbnail(Rc<ObjectUrl>),
    /// The full image was removed and cannot be fetched now.
    Pruned,
    /// Neither on the device nor reachable.
    Missing,
}

/// The device's full image, else its thumbnail, else the server's copy.
async fn load(hash: PhotoHash) -> Shown {
    let Ok(db) = state::db().await else {
        return Shown::Missing;
    };
    let view = db.photo_view(&hash).await.unwrap_or(PhotoView::Absent);
    let url = |blob: &web_sys::Blob| ObjectUrl::new(blob).map(Rc::new);
    match view {
        PhotoView::Full(blob) => url(&blob).map_or(Shown::Missing, Shown::Full),
        PhotoView::Thumbnail(blob) => url(&blob).map_or(Shown::Missing, Shown::Thumbnail),
        PhotoView::Pruned | PhotoView::Absent => match fetch::fetch_full(&db, &hash).await {
            Ok(blob) => url(&blob).map_or(Shown::Missing, Shown::Full),
            Err(_) if matches!(view, PhotoView::Pruned) => Shown::Pruned,
            Err(_) => Shown::Missing,
        },
    }
}

/// Fetches the full image of a photo whose thumbnail is shown.
async fn open_full(hash: PhotoHash) -> Result<Rc<ObjectUrl>, String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    match fetch::fetch_full(&db, &hash).await {
        Ok(blob) => ObjectUrl::new(&blob)
            .map(Rc::new)
            .ok_or_else(|| "照片无法显示".to_owned()),
        Err(SyncError::Offline | SyncError::NotLoggedIn) => Err(PRUNED_OFFLINE.to_owned()),
        Err(e) => Err(format!("{PRUNED_OFFLINE}（{e}）")),
    }
}

/// One photo by its hash: the device's full image (opens full size in a new tab), the kept
/// thumbnail of a removed one (tapped, the full image is fetched from the server), the server's
/// copy, or a plain note when there is nothing to show — a re-inspection at the gate offline
/// sees what is there.
#[component]
pub fn PhotoThumb(hash: PhotoHash, #[prop(into)] alt: String) -> impl IntoView {
    let loaded = LocalResource::new({
        let hash = hash.clone();
        move || load(hash.clone())
    });
    // A full image fetched after a tap on the thumbnail replaces what was loaded.
    let opened = RwSignal::new_local(None::<Rc<ObjectUrl>>);
    let (message, set_message) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    let open = move |_| {
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        let hash = hash.clone();
        leptos::task::spawn_local(async move {
            match open_full(hash).await {
                Ok(url) => {
                    set_message.set(None);
                    opened.set(Some(url));
                }
                Err(e) => set_message.set(Some(e)),
            }
            set_busy.set(false);
        });
    };
    view! {
        <Suspense fallback=|| view! { <span class="photo photo--loading">"照片读取中…"</span> }>
            {move || loaded.get().map(|shown| {
                let shown = opened.get().map(Shown::Full).unwrap_or(shown);
                let alt = alt.clone();
                match shown {
                    Shown::Full(url) => {
                        let src = url.as_str().to_owned();
                        let href = src.clone();
                        view! {
                            <a class="photo" href=href target="_blank" rel="noopener" data-testid="photo-full">
                                <img class="photo__img" src=src alt=alt loading="lazy" />
                            </a>
                        }.into_any()
                    }
                    Shown::Thumbnail(url) => view! {
                        <span class="photo photo--thumbnail">
                            <button class="photo__open" type="button" data-testid="photo-thumbnail"
                                title="查看原图" on:click=open.clone()>
                                <img class="photo__img" src=url.as_str().to_owned() alt=alt loading="lazy" />
                            </button>
                            {move || message.get().map(|m| view! { <span class="photo__note" role="status">{m}</span> })}
                        </span>
                    }.into_any(),
                    Shown::Pruned => view! { <span class="photo photo--missing">{PRUNED_OFFLINE}</span> }.into_any(),
                    Shown::Missing => view! { <span class="photo photo--missing">"照片未同步"</span> }.into_any(),
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
