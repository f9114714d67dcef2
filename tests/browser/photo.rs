//! The photo pipeline in a real browser: decode, orientation, scaling, JPEG, SHA-256.

use sha2::{Digest, Sha256};
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::Blob;
use zhicha::photo::{MAX_SIDE, PhotoError, blob_bytes, process, target_size};
use zhicha_core::ids::PhotoHash;

use crate::fixtures::jpeg;

#[wasm_bindgen_test]
fn large_photos_are_scaled_to_the_long_side_and_small_ones_kept() {
    assert_eq!(target_size(4000, 3000), (1600, 1200));
    assert_eq!(target_size(3000, 4000), (1200, 1600));
    assert_eq!(target_size(4032, 1816), (1600, 721));
    assert_eq!(target_size(1600, 900), (1600, 900));
    assert_eq!(target_size(640, 480), (640, 480));
}

#[wasm_bindgen_test]
async fn a_4000x3000_jpeg_becomes_a_1600px_jpeg_whose_hash_matches_its_bytes() {
    let original = jpeg(4000, 3000).await;
    let photo = process(&original).await.expect("processed");
    assert_eq!((photo.width, photo.height), (MAX_SIDE, 1200));
    assert_eq!(photo.blob.type_(), "image/jpeg");
    let bytes = blob_bytes(&photo.blob).await.unwrap();
    assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF], "a JPEG stream");
    assert_eq!(photo.bytes, bytes.len() as u64);
    let digest: [u8; 32] = Sha256::digest(&bytes).into();
    assert_eq!(
        photo.hash,
        PhotoHash::from_digest(digest),
        "the hash is that of the stored bytes"
    );
    // And the stored photo decodes at the size it claims.
    let again = process(&photo.blob).await.unwrap();
    assert_eq!((again.width, again.height), (MAX_SIDE, 1200));
}

#[wasm_bindgen_test]
async fn the_exif_orientation_is_applied_before_scaling() {
    // A landscape 400×300 picture whose EXIF says "rotate 90° clockwise to view" (orientation 6),
    // as phones write when held upright: it must come out portrait.
    let plain = blob_bytes(&jpeg(400, 300).await).await.unwrap();
    let rotated = with_exif_orientation(&plain, 6);
    let photo = process(&bytes_blob(&rotated)).await.expect("processed");
    assert_eq!((photo.width, photo.height), (300, 400));
}

#[wasm_bindgen_test]
async fn a_file_that_is_not_an_image_is_refused_with_a_clear_error() {
    let error = process(&bytes_blob(b"not a picture at all"))
        .await
        .err()
        .expect("refused");
    assert!(matches!(error, PhotoError::Decode(_)), "{error:?}");
    assert!(error.to_string().contains("无法读取这张照片"));
}

fn bytes_blob(bytes: &[u8]) -> Blob {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    Blob::new_with_u8_array_sequence(&parts).unwrap()
}

/// Inserts an APP1 Exif segment with one Orientation tag right after the JPEG's SOI marker.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2A\0\0\0\x08"); // big-endian TIFF header, IFD at offset 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

#[wasm_bindgen_test]
async fn asking_for_a_position_never_blocks_recording() {
    // Headless Chromium has no location source and no permission: the answer is None, in time.
    let start = js_sys::Date::now();
    let fix = zhicha::geo::current_position(2_000).await;
    assert!(js_sys::Date::now() - start < 10_000.0);
    if let Some(point) = fix {
        assert!(point.is_valid());
    }
}

/// Every evidence photo carries where it was taken, or why the phone could not say: a headless
/// browser that was not granted location answers with a reason, never a silent blank.
#[wasm_bindgen_test]
async fn an_evidence_photo_records_its_place_or_why_there_is_none() {
    use zhicha_core::ids::FindingId;
    use zhicha_core::model::{GeoPoint, PhotoOwner, PhotoRole};
    let fix = zhicha::geo::position_or_reason(2_000).await;
    let photo = process(&jpeg(640, 480).await).await.unwrap();
    let stored = photo.into_new_photo(
        PhotoOwner::Finding(FindingId::new()),
        PhotoRole::Evidence,
        chrono::Utc::now(),
        None,
        fix.clone(),
    );
    match fix {
        Ok(point) => {
            assert_eq!(stored.meta.location, Some(point));
            assert_eq!(stored.meta.no_fix, None);
        }
        Err(reason) => {
            assert_eq!(stored.meta.location, None);
            assert!(
                ["定位", "设备不支持"].iter().any(|w| reason.contains(w)),
                "{reason}"
            );
            assert_eq!(stored.meta.no_fix.as_deref(), Some(reason.as_str()));
        }
    }
    // With a fix, its accuracy travels with it.
    let point = GeoPoint {
        lat: 39.6,
        lon: 109.8,
        accuracy_m: Some(12.0),
    };
    let photo = process(&jpeg(640, 480).await).await.unwrap();
    let stored = photo.into_new_photo(
        PhotoOwner::Finding(FindingId::new()),
        PhotoRole::Evidence,
        chrono::Utc::now(),
        None,
        Ok(point),
    );
    assert_eq!(stored.meta.location.and_then(|p| p.accuracy_m), Some(12.0));
    assert_eq!(stored.meta.no_fix, None);
}

/// A 4000×3000 picture of 1-px black and white stripes, as a lossless PNG: the finest detail a
/// camera can hand over (a nameplate's lettering, a gauge's scale).
async fn stripes(width: u32, height: u32) -> Blob {
    use wasm_bindgen::JsCast;
    let canvas = web_sys::OffscreenCanvas::new(width, height).unwrap();
    let context: web_sys::OffscreenCanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    context.set_fill_style_str("#ffffff");
    context.fill_rect(0.0, 0.0, f64::from(width), f64::from(height));
    context.set_fill_style_str("#000000");
    for x in (0..width).step_by(2) {
        context.fill_rect(f64::from(x), 0.0, 1.0, f64::from(height));
    }
    let options = web_sys::ImageEncodeOptions::new();
    options.set_type("image/png");
    let promise = canvas.convert_to_blob_with_options(&options).unwrap();
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .unwrap()
        .dyn_into()
        .unwrap()
}

/// The grey levels (red channel) of a decoded image, pixel by pixel.
async fn grey_levels(blob: &Blob) -> (u32, u32, Vec<u8>) {
    use wasm_bindgen::JsCast;
    let promise = web_sys::window()
        .unwrap()
        .create_image_bitmap_with_blob(blob)
        .unwrap();
    let bitmap: web_sys::ImageBitmap = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    let (width, height) = (bitmap.width(), bitmap.height());
    let canvas = web_sys::OffscreenCanvas::new(width, height).unwrap();
    let context: web_sys::OffscreenCanvasRenderingContext2d = canvas
        .get_context("2d")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    context
        .draw_image_with_image_bitmap(&bitmap, 0.0, 0.0)
        .unwrap();
    let data = context
        .get_image_data(0.0, 0.0, f64::from(width), f64::from(height))
        .unwrap()
        .data();
    (width, height, data.iter().step_by(4).copied().collect())
}

/// Regression: a single 2.5× draw sampled the stripes instead of averaging them, so fine detail
/// came out as coarse false bands (aliasing). Averaged, 1-px black/white stripes are mid grey.
#[wasm_bindgen_test]
async fn fine_stripes_are_averaged_to_grey_not_aliased_when_scaled_down() {
    let photo = process(&stripes(4000, 3000).await)
        .await
        .expect("processed");
    assert_eq!((photo.width, photo.height), (MAX_SIDE, 1200));
    let (width, height, grey) = grey_levels(&photo.blob).await;
    assert_eq!((width, height), (MAX_SIDE, 1200));
    // The middle of the picture, away from any edge effect.
    let mut levels = Vec::new();
    for y in 100..height - 100 {
        for x in 100..width - 100 {
            levels.push(f64::from(grey[(y * width + x) as usize]));
        }
    }
    let n = levels.len() as f64;
    let mean = levels.iter().sum::<f64>() / n;
    let deviation = (levels.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    assert!((100.0..=156.0).contains(&mean), "mean grey {mean}");
    assert!(
        deviation < 12.0,
        "stripes must average out to an even grey; standard deviation {deviation}"
    );
}

#[wasm_bindgen_test]
fn scaling_down_halves_at_most_per_step_and_ends_at_the_target() {
    use zhicha::photo::resample_steps;
    assert_eq!(
        resample_steps((4000, 3000), (1600, 1200)),
        vec![(2000, 1500), (1600, 1200)]
    );
    assert_eq!(
        resample_steps((8000, 6000), (1600, 1200)),
        vec![(4000, 3000), (2000, 1500), (1600, 1200)]
    );
    assert_eq!(
        resample_steps((3000, 4000), (1200, 1600)).last(),
        Some(&(1200, 1600))
    );
    assert_eq!(resample_steps((640, 480), (640, 480)), vec![(640, 480)]);
}
