//! Photo space on the device: thumbnails, removing the full image of photos the server has
//! confirmed, keeping a full image again once fetched, and copies of colleagues' photos
//! downloaded for offline re-inspections.
//!
//! A photo row keeps its metadata for ever; beside it `blob` (the full image, removed only when
//! the row has no `pending` mark: the server has confirmed it holds the bytes), `thumb` (a small
//! JPEG, made before the full image goes) and `cached` (1 for a copy downloaded from the
//! server, which is never queued for upload and is the first to go when space runs low).

use chrono::{DateTime, Utc};
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Blob;
use zhicha_core::ids::PhotoHash;
use zhicha_core::model::{PhotoMeta, PhotoRole};
use zhicha_core::storage_budget::{self, PruneCandidate};

use super::access::key;
use super::photos::{PhotoRow, has_full, owner_id};
use super::schema::PHOTOS;
use super::{Db, StorageError, from_js, to_js, write_all};

const BLOB: &str = "blob";
const THUMB: &str = "thumb";
const CACHED: &str = "cached";

/// What the device holds of one photo.
pub enum PhotoView {
    /// The full image.
    Full(Blob),
    /// Only the thumbnail: the full image was removed after the server confirmed it.
    Thumbnail(Blob),
    /// The full image was removed and no thumbnail could be made (not an image the browser
    /// decodes): the metadata alone is kept.
    Pruned,
    /// Nothing: a photo this device never held.
    Absent,
}

/// One photo row as the space rules see it.
#[derive(Debug, Clone)]
pub struct PhotoSpace {
    pub hash: PhotoHash,
    pub bytes: u64,
    pub role: PhotoRole,
    pub confirmed: bool,
    pub cached: bool,
    pub full: bool,
    pub thumbnail: bool,
    pub taken_at: DateTime<Utc>,
}

impl PhotoSpace {
    fn candidate(&self) -> PruneCandidate {
        PruneCandidate {
            hash: self.hash.clone(),
            bytes: self.bytes,
            confirmed: self.confirmed,
            role: self.role,
            cached: self.cached,
            taken_at: self.taken_at,
        }
    }
}

/// What one pruning did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub photos: usize,
    pub bytes: u64,
}

fn field(value: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(value, &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn blob_field(value: &JsValue, name: &str) -> Option<Blob> {
    field(value, name).and_then(|v| v.dyn_into::<Blob>().ok())
}

fn set(value: &JsValue, name: &str, to: &JsValue) -> Result<(), StorageError> {
    Reflect::set(value, &JsValue::from_str(name), to)
        .map(|_| ())
        .map_err(|e| StorageError::Format(format!("{e:?}")))
}

fn space_of(value: JsValue) -> Result<PhotoSpace, StorageError> {
    let full = has_full(&value);
    let thumbnail = blob_field(&value, THUMB).is_some();
    let cached = field(&value, CACHED).is_some();
    let row: PhotoRow = from_js(value)?;
    Ok(PhotoSpace {
        hash: row.hash,
        bytes: row.meta.bytes,
        role: row.meta.role,
        confirmed: row.pending.is_none(),
        cached,
        full,
        thumbnail,
        taken_at: row.meta.captured_at,
    })
}

impl Db {
    /// What the device holds of `hash`: full image, thumbnail only, metadata only, or nothing.
    pub async fn photo_view(&self, hash: &PhotoHash) -> Result<PhotoView, StorageError> {
        let tx = self.read(&[PHOTOS])?;
        let Some(value) = tx.store(PHOTOS)?.get(key(hash)).await? else {
            return Ok(PhotoView::Absent);
        };
        Ok(
            match (blob_field(&value, BLOB), blob_field(&value, THUMB)) {
                (Some(full), _) => PhotoView::Full(full),
                (None, Some(thumb)) => PhotoView::Thumbnail(thumb),
                (None, None) => PhotoView::Pruned,
            },
        )
    }

    /// Every photo row, without reading any image.
    pub async fn photo_space(&self) -> Result<Vec<PhotoSpace>, StorageError> {
        let tx = self.read(&[PHOTOS])?;
        let values = tx.store(PHOTOS)?.get_all(None, None).await?;
        values.into_iter().map(space_of).collect()
    }

    /// The sizes of the photos taken on this phone (not downloaded copies), for the forecast.
    pub async fn own_photo_sizes(&self) -> Result<Vec<u64>, StorageError> {
        Ok(self
            .photo_space()
            .await?
            .into_iter()
            .filter(|p| {
                !p.cached
                    && matches!(
                        p.role,
                        PhotoRole::Evidence | PhotoRole::AfterRectification | PhotoRole::Gate
                    )
            })
            .map(|p| p.bytes)
            .collect())
    }

    /// Keeps `thumb` as the thumbnail of `hash`.
    pub async fn put_thumbnail(&self, hash: &PhotoHash, thumb: &Blob) -> Result<(), StorageError> {
        let tx = self.write(&[PHOTOS])?;
        write_all(tx, async |tx| {
            let store = tx.store(PHOTOS)?;
            let Some(value) = store.get(key(hash)).await? else {
                return Err(StorageError::NotFound(format!("照片 {hash}")));
            };
            set(&value, THUMB, thumb)?;
            store.put(&value, None).await?;
            Ok(())
        })
        .await
    }

    /// Removes the full image of `hash`, keeping its metadata and thumbnail. Refused (false)
    /// unless the server has confirmed the photo: checked here, in the same transaction as the
    /// removal, whatever the caller believed.
    pub async fn remove_full_image(&self, hash: &PhotoHash) -> Result<bool, StorageError> {
        let tx = self.write(&[PHOTOS])?;
        let mut removed = false;
        write_all(tx, async |tx| {
            let store = tx.store(PHOTOS)?;
            let Some(value) = store.get(key(hash)).await? else {
                return Ok(());
            };
            if field(&value, "pending").is_some() || !has_full(&value) {
                return Ok(());
            }
            Reflect::delete_property(
                value.unchecked_ref::<js_sys::Object>(),
                &JsValue::from_str(BLOB),
            )
            .map_err(|e| StorageError::Format(format!("{e:?}")))?;
            store.put(&value, None).await?;
            removed = true;
            Ok(())
        })
        .await?;
        Ok(removed)
    }

    /// Keeps a full image fetched from the server again for a photo the device knows.
    pub async fn keep_full_image(&self, hash: &PhotoHash, blob: &Blob) -> Result<(), StorageError> {
        let tx = self.write(&[PHOTOS])?;
        write_all(tx, async |tx| {
            let store = tx.store(PHOTOS)?;
            let Some(value) = store.get(key(hash)).await? else {
                return Ok(());
            };
            set(&value, BLOB, blob)?;
            store.put(&value, None).await?;
            Ok(())
        })
        .await
    }

    /// Stores a photo downloaded from the server (a colleague's evidence) as a cached copy: no
    /// `pending` mark, so it is never uploaded nor counted as this phone's unsynced work. A
    /// photo the device already holds is left as it is (false).
    pub async fn put_cached_photo(
        &self,
        meta: &PhotoMeta,
        blob: &Blob,
    ) -> Result<bool, StorageError> {
        let row = to_js(&PhotoRow {
            hash: meta.hash.clone(),
            owner_id: owner_id(&meta.owner),
            meta: meta.clone(),
            pending: None,
        })?;
        set(&row, BLOB, blob)?;
        set(&row, CACHED, &JsValue::from_f64(1.0))?;
        let tx = self.write(&[PHOTOS])?;
        let mut added = false;
        write_all(tx, async |tx| {
            let store = tx.store(PHOTOS)?;
            if store.get(key(&meta.hash)).await?.is_some() {
                return Ok(());
            }
            store.add(&row, None).await?;
            added = true;
            Ok(())
        })
        .await?;
        Ok(added)
    }

    /// Frees at least `need` bytes, if that much is confirmed, by removing full images as
    /// `storage_budget::choose_prunable` orders them; each keeps a thumbnail made first.
    pub async fn prune_photos(&self, need: u64) -> Result<PruneReport, StorageError> {
        let rows: Vec<PhotoSpace> = self
            .photo_space()
            .await?
            .into_iter()
            .filter(|p| p.full)
            .collect();
        let candidates: Vec<PruneCandidate> = rows.iter().map(PhotoSpace::candidate).collect();
        let mut report = PruneReport::default();
        for hash in storage_budget::choose_prunable(&candidates, need) {
            let Some(row) = rows.iter().find(|r| r.hash == hash) else {
                continue;
            };
            if !row.thumbnail
                && let PhotoView::Full(full) = self.photo_view(&hash).await?
                // A file the browser cannot decode keeps no thumbnail; its metadata stays.
                && let Ok(thumb) = crate::photo::thumbnail(&full).await
            {
                self.put_thumbnail(&hash, &thumb).await?;
            }
            if self.remove_full_image(&hash).await? {
                report.photos += 1;
                report.bytes += row.bytes;
            }
        }
        Ok(report)
    }
}
