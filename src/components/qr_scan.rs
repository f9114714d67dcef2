//! 扫码入企 with the phone's rear camera: frames from `getUserMedia` are drawn to a canvas a few
//! times a second and decoded in the app itself (`rqrr`, pure Rust), since `BarcodeDetector` is
//! not on every browser. The camera stops as soon as a code is read, on 取消, and when the card
//! leaves the screen.

use gloo::timers::callback::Interval;
use leptos::html::Video;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream,
    MediaStreamConstraints,
};

/// How often a frame is decoded.
const FRAME_MS: u32 = 300;
/// Frames are scaled down to at most this many pixels on their longer side before decoding: a
/// code held up to the camera stays readable, and a frame decodes within the interval.
const MAX_SIDE: u32 = 800;

/// The text of the first QR code found in an RGBA image (`width` × `height`, 4 bytes a pixel,
/// as a canvas's `ImageData` holds it); `None` when there is none or it cannot be read.
pub fn decode_qr(width: u32, height: u32, rgba: &[u8]) -> Option<String> {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || rgba.len() < w.checked_mul(h)?.checked_mul(4)? {
        return None;
    }
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let at = (y * w + x) * 4;
        let luma = 299 * u32::from(rgba[at])
            + 587 * u32::from(rgba[at + 1])
            + 114 * u32::from(rgba[at + 2]);
        u8::try_from(luma / 1000).unwrap_or(u8::MAX)
    });
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

/// The camera while it is open: its stream and the timer that reads its frames.
struct Live {
    stream: MediaStream,
    _timer: Interval,
}

/// A camera error in the inspector's words.
fn camera_error(error: &JsValue) -> String {
    let name = js_sys::Reflect::get(error, &JsValue::from_str("name"))
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    let reason = match name.as_str() {
        "NotAllowedError" | "SecurityError" => "未获准使用相机".to_owned(),
        "NotFoundError" | "OverconstrainedError" => "本机没有可用的相机".to_owned(),
        "NotReadableError" | "AbortError" => "相机被其他应用占用".to_owned(),
        _ => js_sys::Reflect::get(error, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "相机不可用".to_owned()),
    };
    format!("无法打开相机：{reason}。请在下方选择无法扫码的原因。")
}

/// Opens the rear camera.
async fn open_camera() -> Result<MediaStream, String> {
    let devices = web_sys::window()
        .and_then(|w| w.navigator().media_devices().ok())
        .ok_or_else(|| {
            "无法打开相机：此浏览器不能使用相机（需 HTTPS）。请在下方选择无法扫码的原因。"
                .to_owned()
        })?;
    let video = js_sys::Object::new();
    let _ = js_sys::Reflect::set(
        &video,
        &JsValue::from_str("facingMode"),
        &JsValue::from_str("environment"),
    );
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::FALSE);
    constraints.set_video(&video);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| camera_error(&e))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| camera_error(&e))?
        .dyn_into()
        .map_err(|_| "无法打开相机：相机未返回画面。".to_owned())
}

fn stop_stream(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// Reads one frame of `video` through `canvas`.
fn read_frame(video: &HtmlVideoElement, canvas: &HtmlCanvasElement) -> Option<String> {
    // HAVE_CURRENT_DATA: a frame can be drawn.
    if video.ready_state() < 2 || video.video_width() == 0 {
        return None;
    }
    let (w, h) = (video.video_width(), video.video_height());
    let scale = (f64::from(MAX_SIDE) / f64::from(w.max(h))).min(1.0);
    let (cw, ch) = (
        (f64::from(w) * scale).round() as u32,
        (f64::from(h) * scale).round() as u32,
    );
    if canvas.width() != cw || canvas.height() != ch {
        canvas.set_width(cw);
        canvas.set_height(ch);
    }
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(
        &options,
        &JsValue::from_str("willReadFrequently"),
        &JsValue::TRUE,
    );
    let context: CanvasRenderingContext2d = canvas
        .get_context_with_context_options("2d", &options)
        .ok()??
        .dyn_into()
        .ok()?;
    context
        .draw_image_with_html_video_element_and_dw_and_dh(
            video,
            0.0,
            0.0,
            f64::from(cw),
            f64::from(ch),
        )
        .ok()?;
    let data = context
        .get_image_data(0.0, 0.0, f64::from(cw), f64::from(ch))
        .ok()?
        .data();
    decode_qr(cw, ch, &data)
}

/// The 扫码 button and, while scanning, the camera's picture and 取消. `on_read` gets the text
/// of the code read.
#[component]
pub fn QrScanner(on_read: Callback<String>) -> impl IntoView {
    let video = NodeRef::<Video>::new();
    let live = StoredValue::new_local(None::<Live>);
    let (scanning, set_scanning) = signal(false);
    let (error, set_error) = signal(None::<String>);

    let close_camera = move || {
        if let Some(Some(open)) = live.try_update_value(Option::take) {
            stop_stream(&open.stream);
        }
        if let Some(v) = video.try_get_untracked().flatten() {
            v.set_src_object(None);
        }
    };
    let stop = move || {
        close_camera();
        let _ = set_scanning.try_set(false);
    };
    // Leaving the screen closes the camera; the card's signals are going away with it.
    on_cleanup(close_camera);

    let start = move |_| {
        if scanning.get_untracked() {
            return;
        }
        set_error.set(None);
        set_scanning.set(true);
        leptos::task::spawn_local(async move {
            let stream = match open_camera().await {
                Ok(stream) => stream,
                Err(e) => {
                    let _ = set_error.try_set(Some(e));
                    let _ = set_scanning.try_set(false);
                    return;
                }
            };
            // Cancelled (or the card closed) while the browser was asking for the camera.
            let still_scanning = scanning.try_get_untracked().unwrap_or(false);
            let Some(element) = video
                .try_get_untracked()
                .flatten()
                .filter(|_| still_scanning)
            else {
                stop_stream(&stream);
                return;
            };
            // Muted as a property: browsers let only a muted video play without a gesture, and
            // the attribute alone counts only on a video made with it.
            element.set_muted(true);
            element.set_src_object(Some(&stream));
            let _ = element.play();
            let Some(canvas) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.create_element("canvas").ok())
                .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())
            else {
                stop_stream(&stream);
                let _ = set_error.try_set(Some("无法打开相机：无法读取画面。".to_owned()));
                let _ = set_scanning.try_set(false);
                return;
            };
            let timer = Interval::new(FRAME_MS, move || {
                if let Some(text) = read_frame(&element, &canvas) {
                    // Stopped after this tick returns: dropping the timer inside its own
                    // callback would free the closure that is running.
                    leptos::task::spawn_local(async move {
                        stop();
                        on_read.run(text);
                    });
                }
            });
            let mut open = Some(Live {
                stream: stream.clone(),
                _timer: timer,
            });
            if live.try_update_value(|v| *v = open.take()).is_none() {
                stop_stream(&stream);
            }
        });
    };

    view! {
        <div class="qr-scan">
            <Show when=move || !scanning.get()>
                <button class="button button--secondary" type="button" data-testid="scan-start"
                    on:click=start>"扫码"</button>
            </Show>
            <div class="qr-scan__camera" hidden=move || !scanning.get()>
                <video class="qr-scan__video" node_ref=video data-testid="scan-video"
                    autoplay muted playsinline></video>
                <p class="muted" role="status">"将执法监督码或营业执照二维码对准取景框…"</p>
                <button class="button button--small button--secondary" type="button"
                    data-testid="scan-cancel" on:click=move |_| stop()>"取消"</button>
            </div>
            {move || error.get().map(|e| view! {
                <p class="warn" role="alert" data-testid="scan-error">{e}</p>
            })}
        </div>
    }
    .into_any()
}
