//! 结束检查: the summary by level, what still blocks finishing, signatures drawn by every
//! inspector and by the enterprise's person in charge (or 拒绝签字 with a witness or note), then
//! the findings are submitted, the inspection is closed and the documents are numbered offline.
//! A signature drawn but not yet confirmed, and the signer's name or the refusal typed, are kept
//! as drafts until they are recorded.

use chrono::Utc;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use web_sys::Blob;
use zhicha_core::documents::{self, DeviceCode};
use zhicha_core::fieldwork;
use zhicha_core::ids::{InspectionId, PhotoHash};
use zhicha_core::lifecycle::FindingAction;
use zhicha_core::model::{
    Enterprise, EnterpriseSignature, Finding, FindingStatus, Inspection, InspectorSignature, Level,
    PhotoOwner, PhotoRole,
};

use super::{autosave, enterprise, messages, open_db, signed_in, stored_inspection};
use crate::components::draft::{DraftKeeper, DraftNote, forget, restore};
use crate::components::photos::PhotoStrip;
use crate::components::recording::RecordingCard;
use crate::components::signature_pad::SignaturePad;
use crate::pages::Page;
use crate::photo;
use crate::state::use_unsynced;
use crate::storage::{Db, DraftKey, FinishDraft, Session};
use crate::sync::engine::use_sync_engine;

#[derive(Clone)]
struct FinishData {
    session: Session,
    inspection: Inspection,
    enterprise: Enterprise,
    findings: Vec<Finding>,
}

async fn load(id: Option<InspectionId>) -> Result<FinishData, String> {
    let db = open_db().await?;
    let session = signed_in(&db).await?;
    let inspection = stored_inspection(&db, id).await?;
    let enterprise = enterprise(&db, &inspection.enterprise_id.to_string()).await?;
    let findings = db
        .findings_of_inspection(inspection.id)
        .await
        .map_err(|e| e.to_string())?;
    Ok(FinishData {
        session,
        inspection,
        enterprise,
        findings,
    })
}

#[component]
pub fn FinishPage(id: Option<InspectionId>) -> impl IntoView {
    let data = LocalResource::new(move || load(id));
    view! {
        <section class="page page--finish">
            <h1 class="page__title">"结束检查"</h1>
            <Suspense fallback=|| view! { <p class="muted">"正在读取…"</p> }>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(data) => view! { <Finish data /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

/// Records a stored signature's photo on the inspection (an inspector's, or the enterprise's).
type PlaceSignature = Box<dyn FnOnce(&mut Inspection, PhotoHash)>;

/// Compresses a drawn signature and stores it as a photo of the inspection.
pub(crate) async fn store_signature(
    db: &Db,
    inspection: &Inspection,
    png: &Blob,
) -> Result<PhotoHash, String> {
    let processed = photo::process(png).await.map_err(|e| e.to_string())?;
    let hash = processed.hash.clone();
    let stored = processed.into_new_photo(
        PhotoOwner::Inspection(inspection.id),
        PhotoRole::Signature,
        Utc::now(),
        Some(inspection.started_at),
        Err("签名图像不记录位置".to_owned()),
    );
    db.attach_inspection_photo(&stored)
        .await
        .map_err(|e| e.to_string())?;
    Ok(hash)
}

/// The org's short name for document numbers, from the org list the server sent at login.
pub(crate) async fn org_code(db: &Db, session: &Session) -> String {
    let orgs = db.orgs().await.unwrap_or_default();
    zhicha_core::org::numbering_authority(session.user.org_id, &orgs)
        .map_or_else(|| "应急".to_owned(), |org| org.doc_code.clone())
}

#[component]
fn Finish(data: FinishData) -> impl IntoView {
    let FinishData {
        session,
        inspection,
        enterprise,
        findings,
    } = data;
    let id = inspection.id;
    if inspection.finished_at.is_some() {
        return view! {
            <p class="card">"本次检查已结束。"
                <a class="button button--secondary" href=Page::Documents(id).path()>"查看执法文书"</a></p>
        }
        .into_any();
    }
    let state = RwSignal::new(inspection);
    let findings = StoredValue::new(findings);
    let (error, set_error) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    let signer = RwSignal::new(enterprise.legal_representative.clone());
    let refusing = RwSignal::new(false);
    let witness = RwSignal::new(String::new());
    let refusal_note = RwSignal::new(String::new());
    // The enterprise's side as typed, kept until a signature or a refusal is recorded.
    let blank = FinishDraft {
        signer: enterprise.legal_representative.clone(),
        ..FinishDraft::default()
    };
    let restored = RwSignal::new(false);
    let keeper = DraftKeeper::new(DraftKey::Finish(id), blank.clone());
    keeper.track(move || FinishDraft {
        signer: signer.get(),
        refusing: refusing.get(),
        witness: witness.get(),
        refusal_note: refusal_note.get(),
    });
    leptos::task::spawn_local(async move {
        let Some(kept) = restore::<FinishDraft>(&DraftKey::Finish(id)).await else {
            return;
        };
        signer.try_set(kept.signer);
        refusing.try_set(kept.refusing);
        witness.try_set(kept.witness);
        refusal_note.try_set(kept.refusal_note);
        restored.try_set(true);
    });
    let discard = move |()| {
        keeper.discard();
        signer.set(blank.signer.clone());
        refusing.set(false);
        witness.set(String::new());
        refusal_note.set(String::new());
        restored.set(false);
    };
    let unsynced = use_unsynced();
    let engine = use_sync_engine();
    let navigate = use_navigate();
    let summary = findings.with_value(|f| fieldwork::summary_by_level(f));
    let blockers = Memo::new(move |_| {
        state.with(|i| findings.with_value(|f| messages(&fieldwork::finish_blockers(i, f))))
    });

    // Saves the inspection header (places, summary, the refusal) as one edit. The page shows the
    // new value at once, so typing is never overwritten by a slower write.
    let save = move |updated: Inspection| {
        if state.with_untracked(|current| *current == updated) {
            return;
        }
        state.set(updated.clone());
        leptos::task::spawn_local(async move {
            let result = match open_db().await {
                Ok(db) => db
                    .save_inspection(&updated)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => unsynced.refresh(),
                Err(e) => set_error.set(Some(format!("未能保存到本机：{e}"))),
            }
        });
    };
    let text_handlers = move |set: fn(&mut Inspection, String)| {
        autosave(move |value: String| {
            let mut updated = state.get_untracked();
            set(&mut updated, value);
            save(updated);
        })
    };
    let (places_input, places_change) = text_handlers(|i, v| i.places = v);
    let (summary_input, summary_change) = text_handlers(|i, v| i.summary = v);

    // Stores a drawn signature as a photo of the inspection, then records it on the inspection
    // with `place`; the drafts of what was signed (`drafts`) go once it is stored.
    let sign = move |png: Blob, place: PlaceSignature, drafts: Vec<DraftKey>| {
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let db = open_db().await?;
                let mut updated = state.get_untracked();
                let hash = store_signature(&db, &updated, &png).await?;
                place(&mut updated, hash);
                db.save_inspection(&updated)
                    .await
                    .map_err(|e| e.to_string())?;
                // The signature is stored: a draft left behind would only be a stale copy.
                for draft in &drafts {
                    forget(draft).await;
                }
                Ok::<_, String>(updated)
            }
            .await;
            set_busy.set(false);
            unsynced.refresh();
            match result {
                Ok(updated) => state.set(updated),
                Err(e) => set_error.set(Some(format!("签名未保存：{e}"))),
            }
        });
    };

    let sign_inspector = move |who: zhicha_core::model::InspectorRef, png: Blob| {
        let draft = DraftKey::inspector_signature(id, who.user_id);
        sign(
            png,
            Box::new(move |inspection, image| {
                let signatures = &mut inspection.inspector_signatures;
                signatures.retain(|s| s.user_id != who.user_id);
                signatures.push(InspectorSignature {
                    user_id: who.user_id,
                    name: who.name,
                    image,
                    at: Utc::now(),
                });
            }),
            vec![draft],
        );
    };

    let sign_enterprise = move |png: Blob| {
        let name = signer.get_untracked().trim().to_owned();
        if name.is_empty() {
            set_error.set(Some("请先填写签字人姓名".to_owned()));
            return;
        }
        keeper.write_now();
        sign(
            png,
            Box::new(move |inspection, image| {
                inspection.enterprise_signature = Some(EnterpriseSignature::Signed {
                    signer_name: name,
                    at: Utc::now(),
                    image: Some(image),
                });
            }),
            vec![DraftKey::enterprise_signature(id), DraftKey::Finish(id)],
        );
    };

    let record_refusal = move |_| {
        let mut updated = state.get_untracked();
        updated.enterprise_signature = Some(EnterpriseSignature::Refused {
            witness_name: witness.get_untracked().trim().to_owned(),
            note: refusal_note.get_untracked().trim().to_owned(),
            at: Utc::now(),
        });
        // Written before the refusal is saved, so deleting the draft comes last.
        keeper.write_now();
        save(updated);
        leptos::task::spawn_local(async move { forget(&DraftKey::Finish(id)).await });
    };

    let session_for_finish = session.clone();
    let finish = move |_| {
        if busy.get_untracked() || !blockers.get_untracked().is_empty() {
            return;
        }
        set_busy.set(true);
        let navigate = navigate.clone();
        let session = session_for_finish.clone();
        leptos::task::spawn_local(async move {
            let result = async {
                let db = open_db().await?;
                let now = Utc::now();
                // Findings first: the inspection record lists them as submitted.
                for f in findings.get_value() {
                    if matches!(f.status, FindingStatus::Draft | FindingStatus::Returned) {
                        crate::steps::take(&f, FindingAction::Submit, "", Vec::new()).await?;
                    }
                }
                let mut done = state.get_untracked();
                done.finished_at = Some(now);
                zhicha_core::validation::validate_inspection(&done)
                    .map_err(|e| messages(&e).join("；"))?;
                let kinds = documents::missing_documents(&done, &findings.get_value());
                let device = DeviceCode::parse(&session.device_code)
                    .map_err(|e| format!("设备编码无效，请重新登录：{e}"))?;
                let code = org_code(&db, &session).await;
                db.issue_documents(&done, &kinds, &code, &device, now, None)
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            set_busy.set(false);
            unsynced.refresh();
            match result {
                Ok(done) => {
                    engine.sync_now();
                    navigate(&Page::Documents(done.id).path(), Default::default());
                }
                Err(e) => set_error.set(Some(format!("未能结束检查：{e}"))),
            }
        });
    };

    let inspectors = state.get_untracked().inspectors;
    view! {
        <div class="card">
            <p class="inspection__enterprise">{enterprise.name.clone()}</p>
            <p data-testid="finish-summary">{format!(
                "共发现隐患 {} 项：重大隐患 {} 项，一般隐患 {} 项。",
                summary.general + summary.major, summary.major, summary.general
            )}</p>
            <ul class="list">
                {findings.get_value().into_iter().map(|f| view! {
                    <li>
                        <a class="list__item list__link" href=Page::Finding(f.id).path()>
                            <span class=if f.level == Level::Major { "badge badge--major" } else { "badge" }>{f.level.label_zh()}</span>
                            <span>{f.description.clone()}</span>
                        </a>
                    </li>
                }).collect_view()}
            </ul>
        </div>
        <label class="field">
            <span class="field__label">"检查场所"</span>
            <input class="field__input" data-testid="finish-places"
                prop:value=move || state.with(|i| i.places.clone())
                on:input=places_input on:change=places_change />
        </label>
        <label class="field">
            <span class="field__label">"检查情况（补充说明，可不填）"</span>
            <textarea class="field__input field__input--area" data-testid="finish-summary-text"
                prop:value=move || state.with(|i| i.summary.clone())
                on:input=summary_input on:change=summary_change></textarea>
        </label>
        <RecordingCard state save=Callback::new(save) />
        <section class="card">
            <h2 class="card__title">"检查人员签名"</h2>
            {inspectors.into_iter().map(|who| {
                let user_id = who.user_id;
                let name = who.name.clone();
                let signed = Memo::new(move |_| state.with(|i| i.inspector_signatures.iter()
                    .find(|s| s.user_id == user_id).map(|s| s.image.clone())));
                let who_for_pad = who.clone();
                view! {
                    <div class="signer" data-testid="inspector-signer">
                        <p class="field__label">{format!("{}（执法证号：{}）", who.name, who.certificate_no)}</p>
                        {move || match signed.get() {
                            Some(hash) => view! {
                                <p class="badge badge--ok">"已签名"</p>
                                <PhotoStrip hashes=vec![hash] label="签名" />
                            }.into_any(),
                            None => {
                                let who = who_for_pad.clone();
                                view! {
                                    <SignaturePad who=name.clone() busy=busy
                                        draft=DraftKey::inspector_signature(id, user_id)
                                        on_signed=Callback::new(move |png| sign_inspector(who.clone(), png)) />
                                }.into_any()
                            }
                        }}
                    </div>
                }
            }).collect_view()}
        </section>
        <section class="card" data-testid="enterprise-signer">
            <h2 class="card__title">"被检查单位负责人签名"</h2>
            <DraftNote shown=Signal::derive(move || {
                restored.get() && state.with(|i| i.enterprise_signature.is_none())
            }) on_discard=Callback::new(discard) />
            {move || match state.with(|i| i.enterprise_signature.clone()) {
                Some(EnterpriseSignature::Signed { signer_name, image, .. }) => {
                    let drawn: Vec<_> = image.into_iter().collect();
                    view! {
                        <p class="badge badge--ok">{format!("{signer_name} 已签名")}</p>
                        <PhotoStrip hashes=drawn label="签名" />
                    }.into_any()
                }
                Some(EnterpriseSignature::Refused { witness_name, note, .. }) => view! {
                    <p class="warn">{format!("已记录拒绝签字。见证人：{witness_name}。{note}")}</p>
                }.into_any(),
                None => view! {
                    <div class="segmented">
                        <button type="button" class="segmented__option" aria-pressed=move || (!refusing.get()).to_string()
                            on:click=move |_| refusing.set(false)>"签字"</button>
                        <button type="button" class="segmented__option" aria-pressed=move || refusing.get().to_string()
                            data-testid="refuse" on:click=move |_| refusing.set(true)>"拒绝签字"</button>
                    </div>
                    <Show when=move || !refusing.get() fallback=move || view! {
                        <label class="field">
                            <span class="field__label">"见证人"</span>
                            <input class="field__input" data-testid="witness" prop:value=witness
                                on:input=move |ev| witness.set(event_target_value(&ev)) />
                        </label>
                        <label class="field">
                            <span class="field__label">"情况说明"</span>
                            <input class="field__input" data-testid="refusal-note" prop:value=refusal_note
                                on:input=move |ev| refusal_note.set(event_target_value(&ev)) />
                        </label>
                        <button class="button" type="button" data-testid="record-refusal" on:click=record_refusal>"记录拒绝签字"</button>
                    }>
                        <label class="field">
                            <span class="field__label">"签字人姓名"</span>
                            <input class="field__input" data-testid="signer-name" prop:value=signer
                                on:input=move |ev| signer.set(event_target_value(&ev)) />
                        </label>
                        <SignaturePad who="被检查单位负责人".to_owned() busy=busy
                            draft=DraftKey::enterprise_signature(id)
                            on_signed=Callback::new(sign_enterprise) />
                    </Show>
                }.into_any(),
            }}
        </section>
        {move || {
            let list = blockers.get();
            (!list.is_empty()).then(|| view! {
                <div class="card card--warn" data-testid="blockers">
                    <p class="card__title">"结束检查前还需完成："</p>
                    <ul class="errors">{list.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                </div>
            })
        }}
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <button class="button button--wide" type="button" data-testid="finish"
            disabled=move || busy.get() || !blockers.get().is_empty() on:click=finish>
            "完成检查，出具执法文书"
        </button>
    }
    .into_any()
}
