//! The demo's photos: stand-in JPEGs labelled 演示照片 · 非现场实拍 (so nobody mistakes them for
//! evidence), each finding's made unique and stored as a phone's upload would store them.

use zhicha_core::ids::PhotoHash;
use zhicha_core::model::User;

use crate::Store;
use crate::photos::PhotoStore;

/// The demo's stand-in evidence photos (each says 演示照片 · 非现场实拍 on the image).
pub(super) const DEMO_BEFORE: [&[u8]; 3] = [
    include_bytes!("../../demo/before-1.jpg"),
    include_bytes!("../../demo/before-2.jpg"),
    include_bytes!("../../demo/before-3.jpg"),
];
pub(super) const DEMO_AFTER: &[u8] = include_bytes!("../../demo/after-1.jpg");

/// `base` with a JPEG comment segment holding `label` right after its start marker: the same
/// picture, but bytes (and so a hash) of its own, as every finding's evidence has.
fn labelled_jpeg(base: &[u8], label: &str) -> Vec<u8> {
    let text = &label.as_bytes()[..label.len().min(1000)];
    let mut out = Vec::with_capacity(base.len() + text.len() + 4);
    out.extend_from_slice(&base[..2]);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&((text.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(text);
    out.extend_from_slice(&base[2..]);
    out
}

/// Stores a demo photo as an upload by `by` would: the bytes in photo storage, then its row.
pub(super) async fn demo_photo(
    store: &Store,
    photos: &PhotoStore,
    base: &[u8],
    label: &str,
    by: &User,
) -> anyhow::Result<PhotoHash> {
    let bytes = labelled_jpeg(base, label);
    let hash = PhotoHash::of_bytes(&bytes);
    let size = bytes.len() as u64;
    photos
        .put(&hash, bytes.into(), false)
        .await
        .map_err(|e| anyhow::anyhow!("storing a demo photo: {e}"))?;
    store.record_photo(&hash, size, by).await?;
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_labelled_demo_photo_is_still_a_jpeg_with_bytes_of_its_own() {
        let a = labelled_jpeg(DEMO_BEFORE[0], "zhicha demo finding 1");
        let b = labelled_jpeg(DEMO_BEFORE[0], "zhicha demo finding 2");
        assert_eq!(crate::photos::image_type(&a), Some("image/jpeg"));
        assert_eq!(&a[2..4], &[0xFF, 0xFE]);
        assert_eq!(
            a.len(),
            DEMO_BEFORE[0].len() + 4 + "zhicha demo finding 1".len()
        );
        assert_ne!(PhotoHash::of_bytes(&a), PhotoHash::of_bytes(&b));
        assert!(
            a.ends_with(&[0xFF, 0xD9]),
            "the image still ends with its end marker"
        );
    }
}
