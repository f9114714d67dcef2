//! Photos kept on the device: stored with their record, read back as Blobs, marked once the server
//! holds them.

use js_sys::Reflect;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Blob;
use zhicha_core::ids::PhotoHash;
use zhicha_core::model::{PhotoMeta, PhotoOwner};
use zhicha_core::protocol::MutationPayload;

use super::access::{key, range};
use super::outbox::enqueue;
use super::schema::{BY_OWNER, BY_PENDING, META, OUTBOX, PHOTOS};
use super::{Db, StorageError, from_js, to_js, write_all};

/// A compressed, hashed photo ready to store (the pipeline has already run).
pub struct NewPhoto {
    pub meta: PhotoMeta,
    pub blob: Blob,
}

/// A photo as kept on the device.
pub struct StoredPhoto {
    pub meta: PhotoMeta,
    pub blob: Blob,
    /// The server has confirmed it holds the bytes.
    pub uploaded: bool,
}

#[derive(Serialize, Deserialize)]
pub(super) struct PhotoRow {
    pub(super) hash: PhotoHash,
    pub(super) owner_id: String,
    pub(super) meta: PhotoMeta,
    /// Present (1) only while the server does not hold the bytes: a sparse index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pending: Option<u8>,
}

pub(super) fn owner_id(owner: &PhotoOwner) -> String {
    match owner {
        PhotoOwner::Finding(id) => id.to_string(),
        PhotoOwner::Inspection(id) => id.to_string(),
    }
}

pub(super) fn uuid_of(owner: &PhotoOwner) -> uuid::Uuid {
    match owner {
        PhotoOwner::Finding(id) => id.0,
        PhotoOwner::Inspection(id) => id.0,
    }
}

pub(super) fn photo_row(photo: &NewPhoto) -> Result<JsValue, StorageError> {
    let row = to_js(&PhotoRow {
        hash: photo.meta.hash.clone(),
        owner_id: owner_id(&photo.meta.owner),
        meta: photo.meta.clone(),
        pending: Some(1),
    })?;
    Reflect::set(&row, &JsValue::from_str("blob"), &photo.blob)
        .map_err(|e| StorageError::Format(format!("{e:?}")))?;
    Ok(row)
}

/// The row still holds its full image (a confirmed photo's may have been pruned).
pub(super) fn has_full(value: &JsValue) -> bool {
    Reflect::get(value, &JsValue::from_str("blob")).is_ok_and(|b| b.is_instance_of::<Blob>())
}

pub(super) fn stored_photo(value: JsValue) -> Result<StoredPhoto, StorageError> {
    let blob = Reflect::get(&value, &JsValue::from_str("blob"))
        .ok()
        .and_then(|b| b.dyn_into::<Blob>().ok())
        .ok_or_else(|| StorageError::Format("照片数据缺失".to_owned()))?;
    let row: PhotoRow = from_js(value)?;
    Ok(StoredPhoto {
        meta: row.meta,
        blob,
        uploaded: row.pending.is_none(),
    })
}

impl Db {
    /// Stores a photo that belongs to an inspection (gate photo, signature) and queues it.
    pub async fn attach_inspection_photo(&self, photo: &NewPhoto) -> Result<(), StorageError> {
        let row = photo_row(photo)?;
        let attach = MutationPayload::PhotoAttach(Box::new(photo.meta.clone()));
        let tx = self.write(&[PHOTOS, OUTBOX, META])?;
        write_all(tx, async |tx| {
            tx.store(PHOTOS)?.put(&row, None).await?;
            enqueue(tx, uuid_of(&photo.meta.owner), &attach).await
        })
        .await
    }

    /// A photo with its full image on the device; None when absent, or when only its
    /// thumbnail is kept (`photo_cache`).
    pub async fn photo(&self, hash: &PhotoHash) -> Result<Option<StoredPhoto>, StorageError> {
        let tx = self.read(&[PHOTOS])?;
        let value = tx.store(PHOTOS)?.get(key(hash)).await?;
        value.filter(has_full).map(stored_photo).transpose()
    }

    /// Photos of a finding or an inspection, in capture order.
    pub async fn photos_of(&self, owner: &PhotoOwner) -> Result<Vec<StoredPhoto>, StorageError> {
        let tx = self.read(&[PHOTOS])?;
        let values = tx
            .store(PHOTOS)?
            .index(BY_OWNER)?
            .get_all(Some(range(key(owner_id(owner)))?), None)
            .await?;
        let mut photos = values
            .into_iter()
            .filter(has_full)
            .map(stored_photo)
            .collect::<Result<Vec<_>, _>>()?;
        photos.sort_by_key(|p| p.meta.captured_at);
        Ok(photos)
    }

    /// Hashes of the photos the server does not hold yet.
    pub async fn pending_photos(&self) -> Result<Vec<PhotoHash>, StorageError> {
        let tx = self.read(&[PHOTOS])?;
        let keys = tx
            .store(PHOTOS)?
            .index(BY_PENDING)?
            .get_all_keys(None, None)
            .await?;
        keys.into_iter().map(from_js).collect()
    }

    /// The server confirmed it holds this photo.
    pub async fn mark_photo_uploaded(&self, hash: &PhotoHash) -> Result<(), StorageError> {
        let tx = self.write(&[PHOTOS])?;
        write_all(tx, async |tx| {
            let store = tx.store(PHOTOS)?;
            let Some(value) = store.get(key(hash)).await? else {
                return Err(StorageError::NotFound(format!("照片 {hash}")));
            };
            Reflect::delete_property(
                value.unchecked_ref::<js_sys::Object>(),
                &JsValue::from_str("pending"),
            )
            .map_err(|e| StorageError::Format(format!("{e:?}")))?;
            store.put(&value, None).await?;
            Ok(())
        })
        .await
    }
}
