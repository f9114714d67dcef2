//! Photo space: confirmed photos lose their full image (never an unconfirmed one) and keep a
//! thumbnail, a removed image is fetched again on demand, the storage card's forecast, and a
//! colleague's before-photos downloaded by a sync shown at a re-inspection offline.
//!
//! There is no server in these tests: `fetch` is replaced by a stand-in that either serves one
//! photo for `GET /api/v1/photos/…` or fails every request as a stopped server does.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Blob, HtmlElement};
use zhicha::components::photos::{PRUNED_OFFLINE, PhotoThumb};
use zhicha::components::storage_guardian::StorageFigures;
use zhicha::pages::Page;
use zhicha::pwa::StorageStatus;
use zhicha::state;
use zhicha::storage::{NewPhoto, PhotoView};
use zhicha_core::ids::{PhotoHash, UserId};
use zhicha_core::model::FindingStatus;
use zhicha_core::protocol::{Change, EntityKind};
use zhicha_core::storage_budget::DEFAULT_PHOTO_BYTES;

use crate::fixtures::{self, drop_db, fresh_db};
use crate::screens::{document, find, open_app, sleep, wait_text};

/// Replaces `fetch`: with `photo`, `GET /api/v1/photos/…` answers it and everything else fails
/// as offline; without, every request fails (the server stopped). The browser's own `fetch` is
/// kept once, for `restore_fetch`.
fn server_serves(photo: Option<&Blob>) {
    let stub = js_sys::Function::new_with_args(
        "photo",
        "if (!window.__realFetch) { window.__realFetch = window.fetch; }
         window.fetch = (input) => {
           const url = typeof input === 'string' ? input : input.url;
           if (photo && url.includes('/api/v1/photos/')) {
             return Promise.resolve(new Response(photo, {
               status: 200, headers: { 'Content-Type': 'image/jpeg' } }));
           }
           return Promise.reject(new TypeError('Failed to fetch'));
         };",
    );
    let photo = photo.map_or(JsValue::NULL, |b| b.clone().into());
    stub.call1(&JsValue::NULL, &photo).expect("stub fetch");
}

fn restore_fetch() {
    js_sys::Function::new_no_args("if (window.__realFetch) { window.fetch = window.__realFetch; }")
        .call0(&JsValue::NULL)
        .expect("restore fetch");
}

/// A real JPEG as a stored photo of `finding`, hashed as the pipeline would.
async fn jpeg_photo(finding: &zhicha_core::model::Finding, width: u32) -> NewPhoto {
    let blob = fixtures::jpeg(width, width * 3 / 4).await;
    let bytes = zhicha::photo::blob_bytes(&blob).await.expect("bytes");
    let mut photo = fixtures::photo_of(finding, "unused");
    photo.meta.hash = PhotoHash::of_bytes(&bytes);
    photo.meta.bytes = bytes.len() as u64;
    photo.blob = blob;
    photo
}

#[wasm_bindgen_test]
async fn pruning_removes_only_confirmed_full_images_and_keeps_their_thumbnails() {
    let t = fresh_db("prune-confirmed").await;
    let enterprise = fixtures::enterprise();
    let inspection = fixtures::inspection(&enterprise);
    let mut finding = fixtures::finding(&inspection, FindingStatus::Draft);
    let confirmed = jpeg_photo(&finding, 1600).await;
    let unconfirmed = jpeg_photo(&finding, 1200).await;
    finding.photos = vec![confirmed.meta.hash.clone(), unconfirmed.meta.hash.clone()];
    let (confirmed_hash, unconfirmed_hash) =
        (confirmed.meta.hash.clone(), unconfirmed.meta.hash.clone());
    let full_size = confirmed.blob.size();
    t.db.save_finding(&finding, &[confirmed, unconfirmed])
        .await
        .unwrap();
    t.db.mark_photo_uploaded(&confirmed_hash).await.unwrap();

    let report = t.db.prune_photos(u64::MAX).await.unwrap();
    assert_eq!(report.photos, 1, "only the confirmed photo is pruned");

    assert!(t.db.photo(&confirmed_hash).await.unwrap().is_none());
    match t.db.photo_view(&confirmed_hash).await.unwrap() {
        PhotoView::Thumbnail(thumb) => {
            assert!(
                thumb.size() > 0.0 && thumb.size() < full_size,
                "a small thumbnail"
            )
        }
        _ => panic!("the confirmed photo keeps a thumbnail"),
    }
    // Its metadata stays: hash, size, time.
    let space = t.db.photo_space().await.unwrap();
    let kept = space
        .iter()
        .find(|p| p.hash == confirmed_hash)
        .expect("row kept");
    assert!(!kept.full && kept.thumbnail && kept.confirmed && kept.bytes > 0);

    let still = t.db.photo(&unconfirmed_hash).await.unwrap().expect("full");
    assert!(!still.uploaded);
    assert_eq!(t.db.pending_photos().await.unwrap(), vec![unconfirmed_hash]);
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn an_unconfirmed_photo_is_never_pruned_however_short_space_is() {
    let t = fresh_db("prune-unconfirmed").await;
    let enterprise = fixtures::enterprise();
    let inspection = fixtures::inspection(&enterprise);
    let mut finding = fixtures::finding(&inspection, FindingStatus::Draft);
    let photo = jpeg_photo(&finding, 800).await;
    let hash = photo.meta.hash.clone();
    finding.photos = vec![hash.clone()];
    t.db.save_finding(&finding, &[photo]).await.unwrap();

    assert_eq!(t.db.prune_photos(u64::MAX).await.unwrap().photos, 0);
    assert!(
        !t.db.remove_full_image(&hash).await.unwrap(),
        "storage itself refuses to remove an unconfirmed image"
    );
    assert!(t.db.photo(&hash).await.unwrap().is_some());
    assert_eq!(t.db.pending_photos().await.unwrap(), vec![hash]);
    drop_db(t).await;
}

#[wasm_bindgen_test]
async fn a_pruned_photo_shows_its_thumbnail_says_so_offline_and_is_fetched_again_online() {
    let db = state::db().await.expect("database");
    let user = fixtures::inspector("prune-viewer", "李明", "15001", None);
    fixtures::sign_in(&user).await;
    let enterprise = fixtures::enterprise();
    let inspection = fixtures::inspection(&enterprise);
    let mut finding = fixtures::finding(&inspection, FindingStatus::Draft);
    let photo = jpeg_photo(&finding, 1000).await;
    let hash = photo.meta.hash.clone();
    let full = photo.blob.clone();
    finding.photos = vec![hash.clone()];
    db.save_finding(&finding, &[photo]).await.unwrap();
    db.mark_photo_uploaded(&hash).await.unwrap();
    // Pruned as `prune_photos` does it, for this one photo only (the app's database is shared
    // by the tests).
    let thumb = zhicha::photo::thumbnail(&full).await.expect("thumbnail");
    db.put_thumbnail(&hash, &thumb).await.unwrap();
    assert!(db.remove_full_image(&hash).await.unwrap());

    server_serves(None);
    let host: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    let shown = hash.clone();
    let mounted = leptos::mount::mount_to(host.clone(), move || {
        leptos::prelude::view! { <PhotoThumb hash=shown.clone() alt="照片 1" /> }
    });
    let thumbnail = find("[data-testid=photo-thumbnail]").await;
    assert!(
        host.query_selector("img").unwrap().is_some(),
        "the thumbnail is shown"
    );
    thumbnail.click();
    wait_text(PRUNED_OFFLINE, true).await;
    assert!(db.photo(&hash).await.unwrap().is_none());

    server_serves(Some(&full));
    find("[data-testid=photo-thumbnail]").await.click();
    find("[data-testid=photo-full]").await;
    wait_text(PRUNED_OFFLINE, false).await;
    // Fetched on demand, and kept again while space allows.
    let again = db
        .photo(&hash)
        .await
        .unwrap()
        .expect("full image kept again");
    assert_eq!(again.blob.size(), full.size());
    restore_fetch();
    drop(mounted);
    host.remove();
}

#[wasm_bindgen_test]
async fn the_storage_card_forecasts_how_many_more_photos_fit() {
    let status = StorageStatus {
        persisted: true,
        usage: 100.0 * 1024.0,
        quota: 100.0 * 1024.0 + 3.0 * DEFAULT_PHOTO_BYTES,
    };
    let host: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&host).unwrap();
    let figures = leptos::mount::mount_to(host.clone(), move || {
        leptos::prelude::view! { <StorageFigures status=status /> }
    });
    assert!(
        host.inner_text().contains("约可再拍 3 张"),
        "{}",
        host.inner_text()
    );
    drop(figures);
    let unknown = leptos::mount::mount_to(host.clone(), move || {
        leptos::prelude::view! { <StorageFigures status=StorageStatus::default() average_photo=1000.0 /> }
    });
    assert!(
        host.inner_text().contains("约可再拍 未知 张"),
        "{}",
        host.inner_text()
    );
    drop(unknown);
    host.remove();

    // The card itself, on the browser's real figures.
    let app = open_app(&Page::Storage.path());
    let line = find("[data-testid=photos-left]").await;
    let mut text = String::new();
    for _ in 0..100 {
        text = line.inner_text();
        if text.chars().any(|c| c.is_ascii_digit()) {
            break;
        }
        sleep(50).await;
    }
    let n: u64 = text
        .trim_start_matches("约可再拍 ")
        .trim_end_matches(" 张")
        .parse()
        .unwrap_or_else(|_| panic!("not a number of photos: {text}"));
    assert!(n > 0, "{text}");
    drop(app);
}

#[wasm_bindgen_test]
async fn before_photos_of_a_colleagues_open_finding_show_at_the_reinspection_offline() {
    let db = state::db().await.expect("database");
    let user = fixtures::inspector("gate-reinspector", "王强", "15002", None);
    fixtures::sign_in(&user).await;
    let before = state::read_unsynced().await.unwrap();

    // A colleague's finding under rectification, pulled from the server without its photo.
    let mut enterprise = fixtures::enterprise();
    enterprise.org_id = user.org_id;
    let inspection = fixtures::inspection(&enterprise);
    let mut finding = fixtures::finding(&inspection, FindingStatus::Rectifying);
    finding.created_by = UserId::new();
    let jpeg = fixtures::jpeg(1200, 900).await;
    let hash = PhotoHash::of_bytes(&zhicha::photo::blob_bytes(&jpeg).await.unwrap());
    finding.photos = vec![hash.clone()];
    let change = Change {
        entity: EntityKind::Finding,
        id: finding.id.0,
        rev: 1,
        data: Some(serde_json::to_value(&finding).unwrap()),
        deleted: false,
    };
    let cursor = db.pull_cursor().await.unwrap().unwrap_or_default();
    db.apply_pulled(&[change], &cursor).await.unwrap();
    assert!(matches!(
        db.photo_view(&hash).await.unwrap(),
        PhotoView::Absent
    ));

    // One sync with the server up: the before-photo is downloaded as a cached copy.
    server_serves(Some(&jpeg));
    let stored = zhicha::sync::photos::cache_before_photos(&db, "test-token").await;
    assert!(stored >= 1, "the colleague's photo was downloaded");
    assert!(db.photo(&hash).await.unwrap().is_some());
    assert!(
        !db.pending_photos().await.unwrap().contains(&hash),
        "never uploaded"
    );
    let after = state::read_unsynced().await.unwrap();
    assert_eq!(
        after.photos, before.photos,
        "not this phone's unsynced work"
    );

    // The server stops; the re-inspection at the gate still shows the photo.
    server_serves(None);
    let app = open_app(&Page::Reinspect(finding.id).path());
    wait_text(&finding.description, true).await;
    let img = find(".page--reinspect img[alt='照片 1']").await;
    assert!(
        img.get_attribute("src")
            .unwrap_or_default()
            .starts_with("blob:"),
        "shown from the device"
    );
    assert!(
        !document()
            .body()
            .unwrap()
            .inner_text()
            .contains("照片未同步")
    );
    restore_fetch();
    drop(app);
}
