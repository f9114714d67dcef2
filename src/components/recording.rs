//! 全过程记录 on the phone: the body-worn recorder's serial and its clip's start and end (typed,
//! or stamped with one tap), and the entry announcement (告知) recorded with the microphone. The
//! audio is stored and synced like a photo of the inspection (role `announcement`), with its
//! SHA-256; everything works offline.

use std::cell::RefCell;
use std::rc::Rc;

use chrono::Utc;
use js_sys::Array;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobEvent, BlobPropertyBag, MediaRecorder, MediaStream, MediaStreamConstraints,
};
use zhicha_core::model::{Inspection, PhotoMeta, PhotoOwner, PhotoRole, Recording};
use zhicha_core::time;
use zhicha_core::validation::recording_errors;

use crate::storage::{Db, NewPhoto};
use crate::sync::leader::ObjectUrl;

/// A recording in progress: the recorder, its stream (stopped with it), and the chunks so far.
#[derive(Clone)]
struct Live {
    recorder: MediaRecorder,
    stream: MediaStream,
    chunks: Rc<RefCell<Vec<Blob>>>,
    started: chrono::DateTime<Utc>,
}

fn error_text(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// Asks for the microphone and starts recording.
async fn start() -> Result<Live, String> {
    let devices = web_sys::window()
        .and_then(|w| w.navigator().media_devices().ok())
        .ok_or("此浏览器不能录音（无麦克风接口）")?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| error_text(&e))?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(|e| format!("未获准使用麦克风：{}", error_text(&e)))?
        .dyn_into()
        .map_err(|_| "麦克风未返回音频".to_owned())?;
    let recorder = MediaRecorder::new_with_media_stream(&stream).map_err(|e| error_text(&e))?;
    let chunks = Rc::new(RefCell::new(Vec::new()));
    let sink = chunks.clone();
    let on_data = Closure::<dyn FnMut(BlobEvent)>::new(move |event: BlobEvent| {
        if let Some(blob) = event.data()
            && blob.size() > 0.0
        {
            sink.borrow_mut().push(blob);
        }
    });
    recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
    on_data.forget();
    recorder.start().map_err(|e| error_text(&e))?;
    Ok(Live {
        recorder,
        stream,
        chunks,
        started: Utc::now(),
    })
}

/// Stops recording; the whole clip as one blob of the recorder's type.
async fn stop(live: &Live) -> Result<Blob, String> {
    let (tx, rx) = futures_channel::oneshot::channel::<()>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let on_stop = Closure::<dyn FnMut()>::new(move || {
        if let Some(tx) = tx.borrow_mut().take() {
            let _ = tx.send(());
        }
    });
    live.recorder
        .set_onstop(Some(on_stop.as_ref().unchecked_ref()));
    live.recorder.stop().map_err(|e| error_text(&e))?;
    let _ = rx.await;
    drop(on_stop);
    for track in live.stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
    let parts = Array::new();
    for chunk in live.chunks.borrow().iter() {
        parts.push(chunk);
    }
    let options = BlobPropertyBag::new();
    let mime = live.recorder.mime_type();
    options.set_type(if mime.is_empty() { "audio/webm" } else { &mime });
    let blob =
        Blob::new_with_blob_sequence_and_options(&parts, &options).map_err(|e| error_text(&e))?;
    if blob.size() == 0.0 {
        return Err("录音为空，请重新录制".to_owned());
    }
    Ok(blob)
}

/// Stores the clip as an evidence file of `inspection`; its hash.
async fn store(
    db: &Db,
    inspection: &Inspection,
    blob: Blob,
    started: chrono::DateTime<Utc>,
) -> Result<zhicha_core::ids::PhotoHash, String> {
    let bytes = crate::photo::blob_bytes(&blob)
        .await
        .map_err(|e| format!("录音读取失败：{e:?}"))?;
    let hash = crate::photo::sha256(&bytes)
        .await
        .map_err(|e| e.to_string())?;
    let fix = crate::geo::position_or_reason(3_000).await;
    let mime = blob.type_();
    let photo = NewPhoto {
        meta: PhotoMeta {
            hash: hash.clone(),
            owner: PhotoOwner::Inspection(inspection.id),
            role: PhotoRole::Announcement,
            bytes: bytes.len() as u64,
            width: 0,
            height: 0,
            mime: mime.split(';').next().unwrap_or("audio/webm").to_owned(),
            captured_at: started,
            offset_from_start_s: Some((started - inspection.started_at).num_seconds()),
            no_fix: fix.as_ref().err().cloned(),
            clock_offset_ms: crate::state::clock_offset_ms(),
            location: fix.ok(),
        },
        blob,
    };
    db.attach_inspection_photo(&photo)
        .await
        .map_err(|e| e.to_string())?;
    Ok(hash)
}

/// The 全过程记录 card of an inspection being finished. `save` stores an edited inspection.
#[component]
pub fn RecordingCard(state: RwSignal<Inspection>, save: Callback<Inspection>) -> impl IntoView {
    let (error, set_error) = signal(None::<String>);
    let live = RwSignal::new_local(None::<Live>);
    let clip = RwSignal::new_local(None::<Rc<ObjectUrl>>);
    let (working, set_working) = signal(false);
    // What the card shows. It reaches the inspection (and the outbox) only while it is valid: a
    // time stamped before the serial is typed waits here, named, instead of going to the server
    // as a record it would refuse.
    let draft = RwSignal::new(state.with_untracked(|i| i.recording.clone().unwrap_or_default()));
    let recording = move || draft.get();
    let edit = move |change: &dyn Fn(&mut Recording)| {
        draft.update(|r| change(r));
        let r = draft.get_untracked();
        if !recording_errors(&r).is_empty() {
            return;
        }
        let mut updated = state.get_untracked();
        updated.recording = (r != Recording::default()).then_some(r);
        save.run(updated);
    };
    let problems = move || {
        let list: Vec<_> = recording_errors(&recording())
            .into_iter()
            .map(|e| e.message)
            .collect();
        if list.is_empty() {
            list
        } else {
            std::iter::once("以下问题改正前，全过程记录不会保存：".to_owned())
                .chain(list)
                .collect()
        }
    };
    let stamp = move || Some(Utc::now());
    let shown = |at: Option<chrono::DateTime<Utc>>| {
        at.map(time::minute).unwrap_or_else(|| "未记录".to_owned())
    };

    let toggle = move |_| {
        if working.get_untracked() {
            return;
        }
        set_error.set(None);
        set_working.set(true);
        leptos::task::spawn_local(async move {
            let result = match live.get_untracked() {
                None => start().await.map(|l| live.set(Some(l))),
                Some(l) => {
                    async {
                        live.set(None);
                        let blob = stop(&l).await?;
                        let preview = ObjectUrl::new(&blob).map(Rc::new);
                        let db = crate::state::db().await.map_err(|e| e.to_string())?;
                        let inspection = state.get_untracked();
                        let hash = store(&db, &inspection, blob, l.started).await?;
                        clip.set(preview);
                        edit(&|r: &mut Recording| r.announcement = Some(hash.clone()));
                        Ok(())
                    }
                    .await
                }
            };
            set_working.set(false);
            if let Err(e) = result {
                set_error.set(Some(e));
            }
        });
    };

    view! {
        <section class="card" data-testid="recording" aria-label="全过程记录">
            <h2 class="card__title">"全过程记录"</h2>
            <label class="field">
                <span class="field__label">"执法记录仪编号"</span>
                <input class="field__input" data-testid="recorder-serial"
                    prop:value=move || recording().recorder
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        edit(&|r: &mut Recording| value.trim().clone_into(&mut r.recorder));
                    } />
            </label>
            <p class="field">
                <button type="button" class="button button--secondary" data-testid="recorder-start"
                    on:click=move |_| edit(&|r: &mut Recording| r.started_at = stamp())>"录像开始"</button>
                " "<span data-testid="recorder-started">{move || shown(recording().started_at)}</span>
            </p>
            <p class="field">
                <button type="button" class="button button--secondary" data-testid="recorder-end"
                    on:click=move |_| edit(&|r: &mut Recording| r.ended_at = stamp())>"录像结束"</button>
                " "<span data-testid="recorder-ended">{move || shown(recording().ended_at)}</span>
            </p>
            <p class="muted">"告知录音（可选）：进门告知时用手机录音，作为证据随检查同步。"</p>
            <button type="button" class="button" data-testid="announcement-record"
                disabled=move || working.get() on:click=toggle>
                {move || if live.with(Option::is_some) { "停止并保存录音" } else { "录制告知" }}
            </button>
            {move || live.with(Option::is_some).then(|| view! {
                <p class="warn" role="status" data-testid="announcement-live">"正在录音…"</p>
            })}
            {move || recording().announcement.map(|hash| view! {
                <p data-testid="announcement-saved">{format!("已保存告知录音（校验值 {}…）", &hash.to_string()[..8])}</p>
            })}
            {move || clip.get().map(|url| view! {
                <audio controls data-testid="announcement-audio" src=url.as_str().to_owned()></audio>
            })}
            {move || {
                let list = problems();
                (!list.is_empty()).then(|| view! {
                    <ul class="errors">{list.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                })
            }}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}
