//! 隐患记录: the finding editor. Description, place, level, legal basis, measure with deadline,
//! photos from the camera with preview and delete, and the core's validation in Chinese. Every
//! change is saved on the device when it is made; there is no save button to forget.
//!
//! Once the inspection's documents are issued, a change to the finding's content is a
//! correction (`zhicha_core::finality`): the editor holds the change, asks for 更正理由 and
//! saves it with the correction appended (`steps::save_correction`); lifecycle changes (after-
//! photos) are still saved at once. The corrections made so far are listed under the form.

use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use web_sys::File;
use zhicha_core::fieldwork;
use zhicha_core::finality;
use zhicha_core::ids::{FindingId, InspectionId, PhotoHash, UserId};
use zhicha_core::lifecycle::{self, Actor, FindingAction};
use zhicha_core::model::{Finding, FindingStatus, Level, Measure, PhotoOwner, PhotoRole, User};
use zhicha_core::packs::{self, PENDING_CHECK_MARK};
use zhicha_core::protocol::MutationPayload;
use zhicha_core::validation;

use super::{autosave, enterprise, open_db, registry, signed_in, stored_inspection};
use crate::components::corrections::CorrectionList;
use crate::components::photos::{PhotoInput, PhotoStrip};
use crate::pages::Page;
use crate::photo;
use crate::state::use_unsynced;
use crate::storage::NewPhoto;

/// What the editor needs besides the finding.
#[derive(Clone)]
struct EditorData {
    finding: Finding,
    /// False for a finding not yet written to the device (written on the first change).
    persisted: bool,
    inspection_started: DateTime<Utc>,
    user: User,
    /// The inspection's documents are issued: content changes only by a correction.
    issued: bool,
    /// Names of the team, for the corrections' authors.
    roster: Vec<User>,
}

async fn load_new(
    inspection: Option<InspectionId>,
    item: Option<String>,
) -> Result<EditorData, String> {
    let db = open_db().await?;
    let session = signed_in(&db).await?;
    let inspection = stored_inspection(&db, inspection).await?;
    if finality::issued(&inspection) {
        // The documents list the findings as they were issued.
        return Err("本检查已出具执法文书，不能再新增隐患。".to_owned());
    }
    let enterprise = enterprise(&db, &inspection.enterprise_id.to_string()).await?;
    let now = Utc::now();
    let finding = match item {
        Some(item_id) => {
            let registry = registry(&db).await;
            match packs::resolve_item(&registry, &inspection.packs, &item_id) {
                Some((pack, item)) => fieldwork::finding_from_item(
                    &inspection,
                    &enterprise,
                    pack,
                    item,
                    session.user.id,
                    now,
                ),
                // A GB 35181 composite rule whose threshold was reached.
                None if zhicha_core::fire::is_rule(&registry, &item_id) => {
                    zhicha_core::fire::composite_finding(
                        &inspection,
                        &enterprise,
                        &registry,
                        &item_id,
                        session.user.id,
                        now,
                    )
                    .ok_or_else(|| {
                        "综合判定要素未达到阈值，不能按综合判定记录重大火灾隐患。".to_owned()
                    })?
                }
                None => return Err("检查项不属于本次检查所用的检查表。".to_owned()),
            }
        }
        None => fieldwork::free_finding(&inspection, &enterprise, session.user.id, now),
    };
    Ok(EditorData {
        finding,
        persisted: false,
        inspection_started: inspection.started_at,
        user: session.user,
        issued: false,
        roster: Vec::new(),
    })
}

async fn load_existing(id: Option<FindingId>) -> Result<EditorData, String> {
    let id = id.ok_or_else(|| "链接不完整：缺少隐患编号。".to_owned())?;
    let db = open_db().await?;
    let session = signed_in(&db).await?;
    let finding = db
        .finding(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "本机没有这条隐患记录。".to_owned())?;
    let inspection = db.inspection(finding.inspection_id).await.ok().flatten();
    let started = inspection
        .as_ref()
        .map_or(finding.created_at, |i| i.started_at);
    Ok(EditorData {
        persisted: true,
        inspection_started: started,
        user: session.user,
        issued: inspection.as_ref().is_some_and(finality::issued),
        roster: db.roster().await.unwrap_or_default(),
        finding,
    })
}

/// A new finding of an inspection (`?item=` raises it from a checklist item).
#[component]
pub fn NewFindingPage(inspection: Option<InspectionId>) -> impl IntoView {
    let query = use_query_map();
    let data = LocalResource::new(move || load_new(inspection, query.read().get("item")));
    view! {
        <section class="page page--finding">
            <h1 class="page__title">"记录隐患"</h1>
            <Suspense fallback=|| view! { <p class="muted">"正在读取…"</p> }>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(data) => view! { <Editor data /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

/// An existing finding.
#[component]
pub fn FindingPage(id: Option<FindingId>) -> impl IntoView {
    let data = LocalResource::new(move || load_existing(id));
    view! {
        <section class="page page--finding">
            <h1 class="page__title">"隐患记录"</h1>
            <Suspense fallback=|| view! { <p class="muted">"正在读取…"</p> }>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(data) => view! { <Editor data /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

/// The leader's reason, while the finding is back with the inspector after a return.
fn returned_because(f: &Finding) -> Option<String> {
    if f.status != FindingStatus::Returned {
        return None;
    }
    f.history
        .iter()
        .rev()
        .find(|h| {
            h.action
                == FindingAction::Return {
                    comment: String::new(),
                }
                .name()
        })
        .map(|h| h.comment.clone())
        .filter(|c| !c.trim().is_empty())
}

/// The first error the core reports for `field`, if any.
fn error_of(errors: &[validation::FieldError], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.clone())
}

#[component]
fn Editor(data: EditorData) -> impl IntoView {
    let EditorData {
        finding,
        persisted,
        inspection_started,
        user,
        issued,
        roster,
    } = data;
    let id = finding.id;
    let inspection_id = finding.inspection_id;
    let locked = finding.status == FindingStatus::Closed;
    let state = RwSignal::new(finding.clone());
    // The finding as last written to the device: what a correction corrects.
    let saved = RwSignal::new(finding);
    let persisted = StoredValue::new(persisted);
    // A content change held for its 更正理由, with the photos it brings.
    let reason = RwSignal::new(String::new());
    let held_photos = StoredValue::new(Vec::<NewPhoto>::new());
    let (correcting, set_correcting) = signal(false);
    let correction_fields = Memo::new(move |_| {
        if !issued || !persisted.get_value() {
            return Vec::new();
        }
        saved.with(|stored| state.with(|f| finality::finding_changes(stored, f)))
    });
    let (saved_at, set_saved_at) = signal(None::<String>);
    let (error, set_error) = signal(None::<String>);
    let (working, set_working) = signal(None::<String>);
    let unsynced = use_unsynced();
    let errors = Memo::new(move |_| {
        state.with(|f| {
            fieldwork::validate_finding_edit(f)
                .err()
                .unwrap_or_default()
        })
    });
    let actor = Actor {
        user_id: user.id,
        role: user.role,
        same_team: true,
        in_scope: true,
    };

    // Writes the finding (and new photos) to the device: the first write creates it and links it
    // to its checklist item; later ones replace it. IndexedDB runs them in the order issued.
    let commit = move |mut updated: Finding, photos: Vec<NewPhoto>| {
        // After issue, a content change waits for its reason (see `save_correction` below).
        if issued && persisted.get_value() {
            let stored = saved.get_untracked();
            if !finality::finding_changes(&stored, &updated).is_empty() {
                state.set(updated);
                held_photos.update_value(|held| held.extend(photos));
                return;
            }
            held_photos.set_value(Vec::new());
        }
        // The same step the server applies to this save: a draft stays a draft, an edit after
        // review goes back to review with a history entry. A save core refuses (an incomplete
        // finding under review) is still kept on the device; the messages above say what is
        // missing, and the server answers with the same rule.
        let stored = persisted.get_value().then(|| saved.get_untracked());
        let save = MutationPayload::FindingSave(Box::new(updated.clone()));
        if let Ok(next) = lifecycle::act(stored.as_ref(), &save, &actor, Utc::now()) {
            updated = next;
        }
        state.set(updated.clone());
        saved.set(updated.clone());
        let create = !persisted.get_value();
        persisted.set_value(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let db = open_db().await?;
                if create {
                    db.create_finding(&updated, &photos)
                        .await
                        .map_err(|e| e.to_string())?;
                    // A finding from an item marks the item 不符合; one from a composite rule
                    // (its item_id is the rule's) has no item to mark.
                    if let Some(item_id) = &updated.item_id
                        && !zhicha_core::fire::is_rule(&registry(&db).await, item_id)
                        && let Some(inspection) = db
                            .inspection(inspection_id)
                            .await
                            .map_err(|e| e.to_string())?
                    {
                        let link = fieldwork::link_finding(&inspection, item_id, updated.id);
                        db.save_item_result(inspection_id, &link)
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                } else {
                    db.save_finding(&updated, &photos)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok::<_, String>(())
            }
            .await;
            unsynced.refresh();
            match result {
                Ok(()) => {
                    set_error.set(None);
                    set_saved_at.set(Some(zhicha_core::time::clock(Utc::now())));
                    if create {
                        // The address now names the stored finding, so a reload edits it rather
                        // than starting another. Not a route change: the editor stays as it is.
                        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                            let _ = history.replace_state_with_url(
                                &wasm_bindgen::JsValue::NULL,
                                "",
                                Some(&Page::Finding(id).path()),
                            );
                        }
                    }
                }
                Err(e) => {
                    if create {
                        persisted.set_value(false);
                    }
                    set_error.set(Some(format!(
                        "未能保存到本机：{e}。请重试，已填写的内容仍在页面上。"
                    )));
                }
            }
        });
    };

    let edit = {
        move |change: &dyn Fn(&mut Finding)| {
            let mut updated = state.get_untracked();
            let before = updated.clone();
            change(&mut updated);
            if updated != before {
                commit(updated, Vec::new());
            }
        }
    };

    let add_photos = {
        move |files: Vec<File>, role: PhotoRole| {
            set_working.set(Some(format!("正在处理 {} 张照片…", files.len())));
            leptos::task::spawn_local(async move {
                let mut photos = Vec::new();
                let mut failures = Vec::new();
                // Where the evidence was taken, or why the phone could not say.
                let fix = crate::geo::position_or_reason(PHOTO_FIX_MS).await;
                for file in files {
                    match photo::process(&file).await {
                        Ok(p) => photos.push(p.into_new_photo(
                            PhotoOwner::Finding(id),
                            role,
                            Utc::now(),
                            Some(inspection_started),
                            fix.clone(),
                        )),
                        Err(e) => failures.push(format!("{}：{e}", file.name())),
                    }
                }
                set_working.set(None);
                if !failures.is_empty() {
                    set_error.set(Some(format!("有照片未能处理：{}", failures.join("；"))));
                }
                if photos.is_empty() {
                    return;
                }
                let mut updated = state.get_untracked();
                let list = match role {
                    PhotoRole::AfterRectification => &mut updated.after_photos,
                    _ => &mut updated.photos,
                };
                let mut fresh = Vec::new();
                for p in photos {
                    if !list.contains(&p.meta.hash) {
                        list.push(p.meta.hash.clone());
                        fresh.push(p);
                    }
                }
                commit(updated, fresh);
            });
        }
    };

    let delete_photo = {
        Callback::new(move |hash: PhotoHash| {
            let sure = web_sys::window()
                .and_then(|w| w.confirm_with_message("删除这张照片？").ok())
                .unwrap_or(false);
            if sure {
                edit(&|f: &mut Finding| {
                    f.photos.retain(|h| *h != hash);
                    f.after_photos.retain(|h| *h != hash);
                });
            }
        })
    };

    // Saves the held content change as a correction with its reason; without a reason nothing
    // is saved and core's message says why.
    let save_correction = move |_| {
        if correcting.get_untracked() {
            return;
        }
        set_correcting.set(true);
        let stored = saved.get_untracked();
        let edited = state.get_untracked();
        let photos = held_photos
            .try_update_value(std::mem::take)
            .unwrap_or_default();
        let why = reason.get_untracked();
        leptos::task::spawn_local(async move {
            let result = crate::steps::save_correction(&stored, edited, &why, &photos).await;
            set_correcting.set(false);
            match result {
                Ok(stored) => {
                    reason.set(String::new());
                    saved.set(stored.clone());
                    state.set(stored);
                    set_error.set(None);
                    set_saved_at.set(Some(zhicha_core::time::clock(Utc::now())));
                    unsynced.refresh();
                }
                Err(e) => {
                    // Still held, with the change, for another try.
                    held_photos.update_value(|held| held.splice(0..0, photos).for_each(drop));
                    set_error.set(Some(format!("更正未保存：{e}")));
                }
            }
        });
    };
    let discard_correction = move |_| {
        held_photos.set_value(Vec::new());
        reason.set(String::new());
        state.set(saved.get_untracked());
        set_error.set(None);
    };

    let resubmit = move |_| {
        if !correction_fields.get_untracked().is_empty() {
            set_error.set(Some("请先填写更正理由并保存更正，再提交审核。".to_owned()));
            return;
        }
        let current = state.get_untracked();
        if let Err(list) = fieldwork::validate_finding_edit(&current) {
            set_error.set(Some(
                list.into_iter()
                    .map(|e| e.message)
                    .collect::<Vec<_>>()
                    .join("；"),
            ));
            return;
        }
        leptos::task::spawn_local(async move {
            let result = crate::steps::take(&current, FindingAction::Submit, "", Vec::new()).await;
            match result {
                Ok(updated) => {
                    state.set(updated);
                    unsynced.refresh();
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    };

    let text_field = {
        move |label: &'static str,
              field: &'static str,
              multiline: bool,
              get: fn(&Finding) -> String,
              set: fn(&mut Finding, String)| {
            let (on_input, on_change) = autosave(move |value: String| {
                edit(&|f: &mut Finding| set(f, value.clone()));
            });
            let value = move || state.with(get);
            let message = move || error_of(&errors.get(), field);
            view! {
                <label class="field">
                    <span class="field__label">{label}</span>
                    {if multiline {
                        view! { <textarea class="field__input field__input--area" data-testid=format!("finding-{field}") disabled=locked
                            prop:value=value on:input=on_input on:change=on_change></textarea> }.into_any()
                    } else {
                        view! { <input class="field__input" data-testid=format!("finding-{field}") disabled=locked
                            prop:value=value on:input=on_input on:change=on_change /> }.into_any()
                    }}
                    {move || message().map(|m| view! { <span class="field__error">{m}</span> })}
                </label>
            }
        }
    };

    let levels = [Level::General, Level::Major];
    let measures = [
        Measure::Immediate,
        Measure::Deadline,
        Measure::SuspendOperations,
        Measure::StopWork,
        Measure::FileCase,
    ];
    let edit_level = edit;
    let edit_measure = edit;
    let edit_deadline = edit;
    let add_evidence = add_photos;
    let add_after = add_photos;
    let today = zhicha_core::time::china_date(Utc::now());
    view! {
        <p class="muted finding__status">
            {move || state.with(|f| format!("状态：{}", f.status.label_zh()))}
            {move || saved_at.get().map(|t| view! { <span class="badge badge--ok" data-testid="saved">{format!("已自动保存 {t}")}</span> })}
        </p>
        {move || state.with(returned_because).map(|why| view! {
            <p class="card card--warn" data-testid="return-reason">"审核退回意见：" {why}</p>
        })}
        {issued.then(|| view! {
            <p class="card card--warn" data-testid="issued-notice">"本检查已出具执法文书，修改将作为更正记录保存。"</p>
        })}
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {text_field("隐患描述", "description", true, |f| f.description.clone(), |f, v| f.description = v)}
        {text_field("隐患部位 / 场所", "place", false, |f| f.place.clone(), |f, v| f.place = v)}
        <fieldset class="field choices">
            <legend class="field__label">"隐患等级"</legend>
            <div class="segmented">
                {levels.into_iter().map(|level| {
                    let edit = edit_level;
                    view! {
                        <button type="button" class="segmented__option" disabled=locked
                            class:segmented__option--bad=level == Level::Major
                            data-testid=if level == Level::Major { "level-major" } else { "level-general" }
                            aria-pressed=move || state.with(|f| f.level == level).to_string()
                            on:click=move |_| edit(&|f: &mut Finding| fieldwork::set_level(f, level))>{level.label_zh()}</button>
                    }
                }).collect_view()}
            </div>
        </fieldset>
        {text_field("判定依据", "legal_basis", true, |f| f.legal_basis.clone(), |f, v| f.legal_basis = v)}
        {move || state.with(|f| f.basis_unverified).then(|| view! {
            <p class="warn">{format!("依据条文未与正式文本核对（{PENDING_CHECK_MARK}），文书中将注明。")}</p>
        })}
        <label class="field">
            <span class="field__label">"处理措施"</span>
            <select class="field__input" data-testid="finding-measure" disabled=locked
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    if let Some(m) = measures.into_iter().find(|m| m.label_zh() == value) {
                        edit_measure(&|f: &mut Finding| fieldwork::set_measure(f, m));
                    }
                }>
                {measures.into_iter().map(|m| view! {
                    <option value=m.label_zh() selected=move || state.with(|f| f.measure == m)>{m.label_zh()}</option>
                }).collect_view()}
            </select>
            {move || error_of(&errors.get(), "measure").map(|m| view! { <span class="field__error">{m}</span> })}
        </label>
        <Show when=move || state.with(|f| f.measure.needs_deadline())>
            <label class="field">
                <span class="field__label">"整改期限"</span>
                <input class="field__input" type="date" data-testid="finding-deadline" disabled=locked
                    min=today.format("%Y-%m-%d").to_string()
                    prop:value=move || state.with(|f| f.deadline.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default())
                    on:change={
                        let edit = edit_deadline;
                        move |ev| {
                            let value = event_target_value(&ev);
                            let date = NaiveDate::parse_from_str(&value, "%Y-%m-%d").ok();
                            edit(&|f: &mut Finding| f.deadline = date);
                        }
                    } />
                {move || error_of(&errors.get(), "deadline").map(|m| view! { <span class="field__error">{m}</span> })}
            </label>
        </Show>
        <div class="field">
            <span class="field__label">"现场照片"</span>
            <PhotoStrip hashes=Signal::derive(move || state.with(|f| f.photos.clone())) label="隐患照片"
                on_delete=delete_photo />
            {move || error_of(&errors.get(), "photos").map(|m| view! { <span class="field__error">{m}</span> })}
            {(!locked).then(|| view! {
                <PhotoInput label="拍照取证" testid="finding-photo-input" disabled=Signal::derive(move || working.get().is_some())
                    on_files=Callback::new(move |files| add_evidence(files, PhotoRole::Evidence)) />
            })}
        </div>
        <Show when=move || state.with(|f| f.measure == Measure::Immediate)>
            <div class="field">
                <span class="field__label">"整改后照片（当场整改完毕的）"</span>
                <PhotoStrip hashes=Signal::derive(move || state.with(|f| f.after_photos.clone())) label="整改后照片"
                    on_delete=delete_photo />
                {
                    (!locked).then(|| view! {
                        <PhotoInput label="拍摄整改后照片" testid="finding-after-input" disabled=Signal::derive(move || working.get().is_some())
                            on_files=Callback::new(move |files| add_after(files, PhotoRole::AfterRectification)) />
                    })
                }
            </div>
        </Show>
        {move || working.get().map(|w| view! { <p class="progress" role="status">{w}</p> })}
        {move || {
            let list = errors.get();
            (!list.is_empty()).then(|| view! {
                <div class="card card--warn" data-testid="finding-errors">
                    <p class="card__title">"提交审核前还需完善："</p>
                    <ul class="errors">{list.into_iter().map(|e| view! { <li>{e.message}</li> }).collect_view()}</ul>
                </div>
            })
        }}
        {move || {
            let fields = correction_fields.get();
            (!fields.is_empty()).then(|| view! {
                <section class="card card--warn correction" data-testid="correction">
                    <p class="card__title">{format!("更正：{}", finality::labels_zh(&fields))}</p>
                    <label class="field">
                        <span class="field__label">"更正理由（必填）"</span>
                        <textarea class="field__input field__input--area" data-testid="correction-reason"
                            maxlength=finality::REASON_MAX_CHARS.to_string()
                            prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                    </label>
                    <div class="actions">
                        <button class="button" type="button" data-testid="correction-save"
                            disabled=correcting on:click=save_correction>"保存更正"</button>
                        <button class="button button--secondary" type="button" data-testid="correction-discard"
                            on:click=discard_correction>"放弃修改"</button>
                    </div>
                </section>
            })
        }}
        {move || {
            let list = saved.with(|f| f.corrections.clone());
            let roster = roster.clone();
            let me = user.clone();
            (!list.is_empty()).then(|| view! {
                <section class="card">
                    <h2 class="card__title">"更正记录"</h2>
                    <CorrectionList corrections=list
                        name=move |id| name_of(id, &me, &roster) />
                </section>
            })
        }}
        <div class="actions actions--stack">
            <Show when=move || state.with(|f| f.status == FindingStatus::Returned)>
                <button class="button button--wide" type="button" data-testid="resubmit" on:click=resubmit>"修改完毕，重新提交审核"</button>
            </Show>
            <a class="button button--wide" href=Page::Inspection(inspection_id).path() data-testid="finding-done">"完成，返回检查"</a>
        </div>
    }
    .into_any()
}

/// A user's name from the signed-in user and the team roster.
fn name_of(id: UserId, me: &User, roster: &[User]) -> String {
    std::iter::once(me)
        .chain(roster)
        .find(|u| u.id == id)
        .map_or_else(|| "（未知人员）".to_owned(), |u| u.display_name.clone())
}

/// How long a photo waits for a position fix (a recent fix is reused at once).
const PHOTO_FIX_MS: u32 = 6_000;
