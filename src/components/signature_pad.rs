//! A signature drawn with a finger on a canvas, handed over as a PNG Blob. Until it is
//! confirmed, its strokes are kept as a draft, so a reload draws them again.

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, CanvasRenderingContext2d, HtmlCanvasElement, PointerEvent};

use crate::components::draft::{DraftKeeper, DraftNote, restore};
use crate::storage::{DraftKey, SignatureDraft};

/// Canvas size in pixels; CSS stretches it to the width of the screen.
const WIDTH: u32 = 600;
const HEIGHT: u32 = 220;

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
}

/// White paper, so the JPEG the photo pipeline makes of it is not black.
fn clear(canvas: &HtmlCanvasElement) {
    if let Some(ctx) = context(canvas) {
        ctx.set_fill_style_str("#ffffff");
        ctx.fill_rect(0.0, 0.0, f64::from(WIDTH), f64::from(HEIGHT));
        ctx.set_stroke_style_str("#111111");
        ctx.set_line_width(4.0);
        ctx.set_line_cap("round");
        ctx.set_line_join("round");
    }
}

/// The point of a pointer event in canvas pixels.
fn point(canvas: &HtmlCanvasElement, ev: &PointerEvent) -> (f64, f64) {
    let rect = canvas.get_bounding_client_rect();
    let sx = f64::from(WIDTH) / rect.width().max(1.0);
    let sy = f64::from(HEIGHT) / rect.height().max(1.0);
    (
        (f64::from(ev.client_x()) - rect.left()) * sx,
        (f64::from(ev.client_y()) - rect.top()) * sy,
    )
}

/// Draws `strokes` again as the pointer drew them: a dot where each began, then its segments.
fn replay(canvas: &HtmlCanvasElement, strokes: &[Vec<(f32, f32)>]) {
    let Some(ctx) = context(canvas) else { return };
    for stroke in strokes {
        let Some(&(x, y)) = stroke.first() else {
            continue;
        };
        let (x, y) = (f64::from(x), f64::from(y));
        ctx.begin_path();
        ctx.move_to(x, y);
        ctx.line_to(x + 0.1, y + 0.1);
        ctx.stroke();
        for &(x, y) in &stroke[1..] {
            ctx.line_to(f64::from(x), f64::from(y));
            ctx.stroke();
        }
    }
}

/// The canvas as a PNG Blob.
fn png(canvas: &HtmlCanvasElement) -> Option<Blob> {
    let url = canvas.to_data_url_with_type("image/png").ok()?;
    let encoded = url.split_once(',')?.1;
    let binary = web_sys::window()?.atob(encoded).ok()?;
    // atob yields one char per byte.
    let bytes: Vec<u8> = binary.chars().map(|c| c as u32 as u8).collect();
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&array);
    let options = BlobPropertyBag::new();
    options.set_type("image/png");
    Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()
}

/// `who` signs here; 确认签名 hands the drawing to `on_signed` (refused while the pad is empty).
/// With `draft`, the strokes are kept under that key until the caller, having stored the
/// signature, deletes the draft.
#[component]
pub fn SignaturePad(
    who: String,
    on_signed: Callback<Blob>,
    #[prop(into, optional)] busy: Signal<bool>,
    #[prop(optional)] draft: Option<DraftKey>,
) -> impl IntoView {
    let canvas_ref = NodeRef::<Canvas>::new();
    let (drawing, set_drawing) = signal(false);
    let (inked, set_inked) = signal(false);
    let (message, set_message) = signal(None::<&'static str>);
    let strokes = StoredValue::new(Vec::<Vec<(f32, f32)>>::new());
    let restored = RwSignal::new(false);
    let keeper = draft
        .clone()
        .map(|key| DraftKeeper::new(key, SignatureDraft::default()));
    let keep = move || {
        if let Some(keeper) = keeper {
            keeper.set(SignatureDraft {
                strokes: strokes.get_value(),
            });
        }
    };
    canvas_ref.on_load(move |canvas| {
        clear(&canvas);
        let Some(key) = draft else { return };
        leptos::task::spawn_local(async move {
            let Some(kept) = restore::<SignatureDraft>(&key).await else {
                return;
            };
            if kept.strokes.is_empty() || inked.try_get_untracked() != Some(false) {
                return;
            }
            replay(&canvas, &kept.strokes);
            strokes.set_value(kept.strokes);
            set_inked.set(true);
            restored.set(true);
        });
    });
    let down = move |ev: PointerEvent| {
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        ev.prevent_default();
        let _ = canvas.set_pointer_capture(ev.pointer_id());
        let (x, y) = point(&canvas, &ev);
        strokes.update_value(|s| s.push(vec![(x as f32, y as f32)]));
        if let Some(ctx) = context(&canvas) {
            ctx.begin_path();
            ctx.move_to(x, y);
            ctx.line_to(x + 0.1, y + 0.1);
            ctx.stroke();
        }
        set_drawing.set(true);
        set_inked.set(true);
        set_message.set(None);
    };
    let moved = move |ev: PointerEvent| {
        if !drawing.get_untracked() {
            return;
        }
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        let (x, y) = point(&canvas, &ev);
        strokes.update_value(|s| {
            if let Some(stroke) = s.last_mut() {
                stroke.push((x as f32, y as f32));
            }
        });
        if let Some(ctx) = context(&canvas) {
            ctx.line_to(x, y);
            ctx.stroke();
        }
    };
    let up = move |_: PointerEvent| {
        if drawing.get_untracked() {
            set_drawing.set(false);
            keep();
        }
    };
    let wipe = move || {
        if let Some(canvas) = canvas_ref.get() {
            clear(&canvas);
        }
        strokes.set_value(Vec::new());
        set_inked.set(false);
        restored.set(false);
    };
    let reset = move |_| {
        wipe();
        // A blank pad has no draft.
        keep();
    };
    let discard = move |()| {
        wipe();
        if let Some(keeper) = keeper {
            keeper.discard();
        }
    };
    let confirm = move |_| {
        if !inked.get_untracked() {
            set_message.set(Some("请先在框内签名"));
            return;
        }
        // Written before the caller stores the signature, so its deleting the draft comes last.
        if let Some(keeper) = keeper {
            keeper.write_now();
        }
        match canvas_ref.get().as_ref().and_then(png) {
            Some(blob) => on_signed.run(blob),
            None => set_message.set(Some("签名未能保存，请重试")),
        }
    };
    let label = format!("{who}签名区");
    view! {
        <div class="signature">
            <DraftNote shown=restored on_discard=Callback::new(discard) />
            <canvas class="signature__pad" node_ref=canvas_ref width=WIDTH height=HEIGHT
                aria-label=label data-testid="signature-pad"
                on:pointerdown=down on:pointermove=moved on:pointerup=up on:pointercancel=up></canvas>
            <div class="actions">
                <button class="button button--small button--secondary" type="button" on:click=reset>"清除重签"</button>
                <button class="button button--small" type="button" data-testid="confirm-signature"
                    on:click=confirm disabled=busy>"确认签名"</button>
            </div>
            {move || message.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        </div>
    }
    .into_any()
}
