//! The photo pipeline: a camera file becomes a small, upright, hashed JPEG ready to store.
//!
//! Decode with the EXIF orientation applied, scale the long side to at most 1600 px (in steps of
//! at most 2×, smoothed, so fine detail is averaged rather than aliased), encode as
//! JPEG at quality 0.8 and hash the resulting bytes with SHA-256 (WebCrypto). All of it happens
//! before any IndexedDB transaction opens: awaiting anything else inside one would end it.

use chrono::{DateTime, Utc};
use js_sys::{ArrayBuffer, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, ImageBitmap, ImageBitmapOptions, ImageEncodeOptions, ImageOrientation, OffscreenCanvas,
    OffscreenCanvasRenderingContext2d,
};
use zhicha_core::ids::PhotoHash;
use zhicha_core::model::{GeoPoint, PhotoMeta, PhotoOwner, PhotoRole};

use crate::storage::NewPhoto;

/// Longest side of a stored photo, in pixels: enough to read a gauge or a nameplate.
pub const MAX_SIDE: u32 = 1600;
/// JPEG quality of stored photos.
pub const JPEG_QUALITY: f64 = 0.8;
/// Longest side of the thumbnail kept when a confirmed photo's full image is removed.
pub const THUMB_SIDE: u32 = 320;

/// Why a photo could not be prepared; the original stays with the inspector (nothing is lost).
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("无法读取这张照片（格式不支持或文件已损坏）")]
    Decode(String),
    #[error("照片处理失败：{0}")]
    Encode(String),
    #[error("照片校验值计算失败：{0}")]
    Hash(String),
}

/// A compressed photo and what the pipeline learned about it.
pub struct ProcessedPhoto {
    pub blob: Blob,
    pub hash: PhotoHash,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

impl ProcessedPhoto {
    /// Turns the processed photo into a record to store, with its capture metadata.
    pub fn into_new_photo(
        self,
        owner: PhotoOwner,
        role: PhotoRole,
        captured_at: DateTime<Utc>,
        inspection_started_at: Option<DateTime<Utc>>,
        location: Result<GeoPoint, String>,
    ) -> NewPhoto {
        NewPhoto {
            meta: PhotoMeta {
                hash: self.hash,
                owner,
                role,
                bytes: self.bytes,
                width: self.width,
                height: self.height,
                mime: "image/jpeg".to_owned(),
                captured_at,
                offset_from_start_s: inspection_started_at
                    .map(|start| (captured_at - start).num_seconds()),
                no_fix: location.as_ref().err().cloned(),
                clock_offset_ms: crate::state::clock_offset_ms(),
                location: location.ok(),
            },
            blob: self.blob,
        }
    }
}

/// The size a `width`×`height` image is stored at: the long side at most `MAX_SIDE`.
pub fn target_size(width: u32, height: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= MAX_SIDE || long == 0 {
        return (width, height);
    }
    let scale = f64::from(MAX_SIDE) / f64::from(long);
    let fit = |side: u32| ((f64::from(side) * scale).round() as u32).clamp(1, MAX_SIDE);
    (fit(width), fit(height))
}

/// Runs the whole pipeline on a picked or captured file.
pub async fn process(input: &Blob) -> Result<ProcessedPhoto, PhotoError> {
    let bitmap = decode_upright(input).await?;
    let (width, height) = target_size(bitmap.width(), bitmap.height());
    let encoded = encode_jpeg(&bitmap, width, height).await;
    bitmap.close();
    let blob = encoded?;
    let bytes = blob_bytes(&blob)
        .await
        .map_err(|e| PhotoError::Encode(describe(&e)))?;
    let hash = sha256(&bytes).await?;
    Ok(ProcessedPhoto {
        bytes: bytes.len() as u64,
        blob,
        hash,
        width,
        height,
    })
}

/// A small JPEG of a stored photo (long side `THUMB_SIDE`), kept when its full image goes.
pub async fn thumbnail(stored: &Blob) -> Result<Blob, PhotoError> {
    let bitmap = decode_upright(stored).await?;
    let (width, height) = (bitmap.width(), bitmap.height());
    let long = width.max(height).max(1);
    let scale = (f64::from(THUMB_SIDE) / f64::from(long)).min(1.0);
    let fit = |side: u32| ((f64::from(side) * scale).round() as u32).max(1);
    let encoded = encode_jpeg(&bitmap, fit(width), fit(height)).await;
    bitmap.close();
    encoded
}

async fn decode_upright(input: &Blob) -> Result<ImageBitmap, PhotoError> {
    let window = web_sys::window().ok_or_else(|| PhotoError::Decode("no window".to_owned()))?;
    let options = ImageBitmapOptions::new();
    options.set_image_orientation(ImageOrientation::FromImage);
    let promise = window
        .create_image_bitmap_with_blob_and_image_bitmap_options(input, &options)
        .map_err(|e| PhotoError::Decode(describe(&e)))?;
    resolve::<ImageBitmap>(promise)
        .await
        .map_err(|e| PhotoError::Decode(describe(&e)))
}

/// The sizes an image of `from` goes through on its way down to `to`: each step at most halves a
/// side, so every pixel of the result averages its share of the original. One large step lets an
/// engine sample only some source pixels (fine stripes turn into false bands), and some engines
/// ignore `imageSmoothingQuality`. The last size is `to`; an image already at `to` is one step.
pub fn resample_steps(from: (u32, u32), to: (u32, u32)) -> Vec<(u32, u32)> {
    let mut steps = Vec::new();
    let mut at = from;
    // A side never goes below its target, so the loop ends exactly at `to`.
    loop {
        at = (at.0.div_ceil(2).max(to.0), at.1.div_ceil(2).max(to.1));
        steps.push(at);
        if at.0 <= to.0 && at.1 <= to.1 {
            return steps;
        }
    }
}

/// A 2D context on `canvas` that interpolates as well as the engine can.
fn smooth_context(
    canvas: &OffscreenCanvas,
) -> Result<OffscreenCanvasRenderingContext2d, PhotoError> {
    let context = canvas
        .get_context("2d")
        .map_err(|e| PhotoError::Encode(describe(&e)))?
        .and_then(|c| c.dyn_into::<OffscreenCanvasRenderingContext2d>().ok())
        .ok_or_else(|| PhotoError::Encode("no 2d context".to_owned()))?;
    context.set_image_smoothing_enabled(true);
    // web-sys has no setter for this on the offscreen context; an engine without it keeps
    // the default, and the halving steps still average.
    let _ = js_sys::Reflect::set(
        &context,
        &JsValue::from_str("imageSmoothingQuality"),
        &JsValue::from_str("high"),
    );
    Ok(context)
}

/// Draws `bitmap` at `width`×`height`, halving at most per step (see `resample_steps`).
fn resample(bitmap: &ImageBitmap, width: u32, height: u32) -> Result<OffscreenCanvas, PhotoError> {
    let fail = |e: JsValue| PhotoError::Encode(describe(&e));
    let mut current: Option<OffscreenCanvas> = None;
    for (w, h) in resample_steps((bitmap.width(), bitmap.height()), (width, height)) {
        let canvas = OffscreenCanvas::new(w, h).map_err(fail)?;
        let context = smooth_context(&canvas)?;
        let (dw, dh) = (f64::from(w), f64::from(h));
        match &current {
            None => context.draw_image_with_image_bitmap_and_dw_and_dh(bitmap, 0.0, 0.0, dw, dh),
            Some(previous) => {
                context.draw_image_with_offscreen_canvas_and_dw_and_dh(previous, 0.0, 0.0, dw, dh)
            }
        }
        .map_err(fail)?;
        current = Some(canvas);
    }
    current.ok_or_else(|| PhotoError::Encode("nothing to draw".to_owned()))
}

async fn encode_jpeg(bitmap: &ImageBitmap, width: u32, height: u32) -> Result<Blob, PhotoError> {
    let fail = |e: JsValue| PhotoError::Encode(describe(&e));
    let canvas = resample(bitmap, width, height)?;
    let options = ImageEncodeOptions::new();
    options.set_type("image/jpeg");
    options.set_quality(JPEG_QUALITY);
    let promise = canvas
        .convert_to_blob_with_options(&options)
        .map_err(fail)?;
    resolve::<Blob>(promise).await.map_err(fail)
}

/// The bytes of a Blob.
pub async fn blob_bytes(blob: &Blob) -> Result<Vec<u8>, JsValue> {
    let buffer = resolve::<ArrayBuffer>(blob.array_buffer()).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// SHA-256 through WebCrypto.
pub async fn sha256(bytes: &[u8]) -> Result<PhotoHash, PhotoError> {
    let fail = |e: JsValue| PhotoError::Hash(describe(&e));
    let crypto = web_sys::window()
        .ok_or_else(|| PhotoError::Hash("no window".to_owned()))?
        .crypto()
        .map_err(fail)?;
    let data = Uint8Array::from(bytes);
    let promise = crypto
        .subtle()
        .digest_with_str_and_js_u8_array("SHA-256", &data)
        .map_err(fail)?;
    let buffer = resolve::<ArrayBuffer>(promise).await.map_err(fail)?;
    let digest = Uint8Array::new(&buffer).to_vec();
    let digest: [u8; 32] = digest
        .try_into()
        .map_err(|_| PhotoError::Hash("digest is not 32 bytes".to_owned()))?;
    Ok(PhotoHash::from_digest(digest))
}

async fn resolve<T: JsCast>(promise: Promise) -> Result<T, JsValue> {
    JsFuture::from(promise).await?.dyn_into::<T>()
}

fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}
