//! Re-inspection (复查) of open findings kept on the device: the list of the team's findings in
//! rectification, and the result of one — after-photos, 已整改 / 未整改, a new deadline if not.
//! Works offline: the result, its photos and their mutations are stored in one transaction.
//! With a second officer chosen, the visit is recorded as a re-inspection of its own and its
//! 整改复查意见书 is issued (numbered with the order's N when the order is on the device) and
//! opened for service (签收 / 留置送达). The form is kept as a draft while it is filled in (the
//! picked photos are not: they are stored only with the result).

use std::rc::Rc;

use chrono::{NaiveDate, Utc};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use zhicha_core::documents::DeviceCode;
use zhicha_core::fieldwork;
use zhicha_core::ids::{FindingId, InspectionId};
use zhicha_core::lifecycle::{FindingAction, days_overdue, is_overdue};
use zhicha_core::model::{
    CheckIn, DocumentKind, Finding, FindingStatus, PhotoMeta, PhotoOwner, PhotoRole, Role, User,
};

use super::Page;
use super::leader::photo::PhotoStrip;
use crate::components::draft::{DraftKeeper, DraftNote, forget, restore};
use crate::components::photos::take_files;
use crate::state::{self, use_unsynced};
use crate::storage::{DraftKey, NewPhoto, ReinspectDraft, Session};
use crate::sync::engine::use_sync_engine;
use crate::sync::leader::ObjectUrl;

/// The team's findings awaiting re-inspection: overdue first, then by deadline.
async fn load_list() -> Result<(Session, Vec<Finding>), String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    let session = db
        .session()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "尚未登录。请先联网登录，下载待复查隐患。".to_owned())?;
    let mut list: Vec<Finding> = db
        .findings_with_status(FindingStatus::Rectifying)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|f| session.user.role == Role::Admin || f.org_id == session.user.org_id)
        .collect();
    let now = Utc::now();
    list.sort_by_key(|f| {
        (
            std::cmp::Reverse(days_overdue(f, now)),
            f.deadline.is_none(),
            f.deadline,
        )
    });
    Ok((session, list))
}

fn enterprise_names() -> LocalResource<std::collections::HashMap<String, String>> {
    LocalResource::new(|| async {
        let Ok(db) = state::db().await else {
            return Default::default();
        };
        db.search_enterprises(&Default::default())
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.id.to_string(), e.name))
            .collect()
    })
}

#[component]
pub fn ReinspectionsPage() -> impl IntoView {
    let engine = use_sync_engine();
    let synced = engine.last_success();
    let list = LocalResource::new(move || {
        synced.track();
        load_list()
    });
    let names = enterprise_names();
    view! {
        <section class="page page--reinspections">
            <h1 class="page__title">"待复查隐患"</h1>
            <Suspense fallback=|| view! { <p class="muted">"正在读取本机数据…"</p> }>
                {move || list.get().map(|result| match result {
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                    Ok((_, findings)) if findings.is_empty() => view! {
                        <p class="empty">"本机没有待复查的隐患。"</p>
                    }.into_any(),
                    Ok((_, findings)) => {
                        let names = names.get().unwrap_or_default();
                        let now = Utc::now();
                        view! {
                            <ul class="list">
                                {findings.into_iter().map(|f| {
                                    let overdue = is_overdue(&f, now);
                                    let enterprise = names.get(&f.enterprise_id.to_string()).cloned()
                                        .unwrap_or_else(|| "（单位信息未下载）".to_owned());
                                    view! {
                                        <li class="list__item" class:overdue=overdue data-testid="reinspection-item">
                                            <span>{f.description.clone()}</span>
                                            <span class="muted">
                                                {enterprise} " · " {f.level.label_zh()}
                                                {f.deadline.map(|d| format!(" · 整改期限 {}", d.format("%Y-%m-%d")))}
                                                {overdue.then(|| format!(" · 逾期 {} 天", days_overdue(&f, now)))}
                                                {f.supervised.then_some(" · 挂牌督办")}
                                            </span>
                                            <a class="button button--small" href=Page::Reinspect(f.id).path()>"复查"</a>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                })}
            </Suspense>
            <a class="button button--secondary" href=Page::Home.path()>"返回首页"</a>
        </section>
    }
    .into_any()
}

/// A photo picked for the re-inspection, already compressed and hashed.
#[derive(Clone)]
struct Picked {
    preview: Rc<ObjectUrl>,
    meta: PhotoMeta,
    blob: web_sys::Blob,
}

async fn pick(files: Vec<web_sys::File>, owner: FindingId) -> Result<Vec<Picked>, String> {
    let mut picked = Vec::with_capacity(files.len());
    // Where the after-photos were taken, or why the phone could not say.
    let fix = crate::geo::position_or_reason(FIX_TIMEOUT_MS).await;
    for file in files {
        let processed = crate::photo::process(&file)
            .await
            .map_err(|e| e.to_string())?;
        let photo = processed.into_new_photo(
            PhotoOwner::Finding(owner),
            PhotoRole::AfterRectification,
            Utc::now(),
            None,
            fix.clone(),
        );
        let preview = ObjectUrl::new(&photo.blob)
            .map(Rc::new)
            .ok_or_else(|| "照片预览失败".to_owned())?;
        picked.push(Picked {
            preview,
            meta: photo.meta,
            blob: photo.blob,
        });
    }
    Ok(picked)
}

/// Records the re-inspection: the core's rules decide (their message is returned if refused).
/// With colleagues in `team`, also the re-inspection record and its 整改复查意见书, whose id
/// is returned.
async fn save(
    id: FindingId,
    passed: bool,
    new_deadline: Option<NaiveDate>,
    comment: String,
    photos: Vec<Picked>,
    team: Vec<User>,
) -> Result<Option<InspectionId>, String> {
    if passed && photos.is_empty() {
        return Err("复查合格须拍摄整改后照片。".to_owned());
    }
    let db = state::db().await.map_err(|e| e.to_string())?;
    let finding = db
        .finding(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "本机没有这条隐患".to_owned())?;
    let action = FindingAction::Reinspect {
        passed,
        new_deadline: if passed { None } else { new_deadline },
    };
    let photos: Vec<NewPhoto> = photos
        .into_iter()
        .map(|p| NewPhoto {
            meta: p.meta,
            blob: p.blob,
        })
        .collect();
    crate::steps::take(&finding, action, &comment, photos).await?;
    if team.is_empty() {
        return Ok(None);
    }
    let session = db
        .session()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "尚未登录。".to_owned())?;
    let finding = db
        .finding(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "本机没有这条隐患".to_owned())?;
    let now = Utc::now();
    let location = crate::geo::current_position(FIX_TIMEOUT_MS).await;
    let check_in = CheckIn {
        at: now,
        location,
        gate_photo: None,
        note: if location.is_some() {
            String::new()
        } else {
            "复查时设备未返回位置".to_owned()
        },
    };
    let officers: Vec<User> = std::iter::once(session.user.clone()).chain(team).collect();
    let record =
        fieldwork::reinspection_record(&[&finding], &officers, &session.user, check_in, now)
            .map_err(|e| crate::pages::inspect::messages(&e).join("；"))?;
    db.save_inspection(&record)
        .await
        .map_err(|e| format!("复查结果已保存，但复查记录未保存：{e}"))?;
    // The order this re-inspection follows up, when its inspection is on the device.
    let order = db
        .inspection(finding.inspection_id)
        .await
        .ok()
        .flatten()
        .and_then(|i| {
            i.documents
                .into_iter()
                .find(|d| d.kind == DocumentKind::RectificationOrder)
        })
        .map(|d| d.number);
    let device = DeviceCode::parse(&session.device_code)
        .map_err(|e| format!("设备编码无效，请重新登录：{e}"))?;
    let code = crate::pages::inspect::org_code(&db, &session).await;
    db.issue_documents(
        &record,
        &[DocumentKind::ReinspectionOpinion],
        &code,
        &device,
        now,
        order.as_deref(),
    )
    .await
    .map_err(|e| format!("复查结果已保存，但整改复查意见书未编号：{e}"))?;
    Ok(Some(record.id))
}

/// How long the re-inspection waits for a position fix.
const FIX_TIMEOUT_MS: u32 = 8_000;

#[component]
pub fn ReinspectPage(id: Option<FindingId>) -> impl IntoView {
    let unsynced = use_unsynced();
    let engine = use_sync_engine();
    let navigate = use_navigate();
    let finding = LocalResource::new(move || async move {
        let id = id.ok_or_else(|| "链接有误：找不到这条隐患。".to_owned())?;
        let db = state::db().await.map_err(|e| e.to_string())?;
        db.finding(id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "本机没有这条隐患。请联网同步后再试。".to_owned())
    });
    let colleagues = LocalResource::new(|| async {
        let Ok(db) = state::db().await else {
            return Vec::new();
        };
        let me = db.session().await.ok().flatten().map(|s| s.user);
        db.roster()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|u| {
                me.as_ref()
                    .is_some_and(|m| u.id != m.id && u.org_id == m.org_id)
                    && u.role != Role::Admin
            })
            .collect::<Vec<User>>()
    });
    let team = RwSignal::new(Vec::<User>::new());
    let photos = RwSignal::new_local(Vec::<Picked>::new());
    let (passed, set_passed) = signal(None::<bool>);
    let (deadline, set_deadline) = signal(String::new());
    let (comment, set_comment) = signal(String::new());
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);

    // The form as typed is kept on the device until the result is recorded.
    let restored = RwSignal::new(false);
    let keeper = id.map(|id| DraftKeeper::new(DraftKey::Reinspect(id), ReinspectDraft::default()));
    if let Some(keeper) = keeper {
        keeper.track(move || ReinspectDraft {
            passed: passed.get(),
            deadline: deadline.get(),
            comment: comment.get(),
            officers: team.with(|t| t.iter().map(|u| u.id).collect()),
        });
    }
    if let Some(id) = id {
        leptos::task::spawn_local(async move {
            let Some(draft) = restore::<ReinspectDraft>(&DraftKey::Reinspect(id)).await else {
                return;
            };
            let roster = match state::db().await {
                Ok(db) => db.roster().await.unwrap_or_default(),
                Err(_) => Vec::new(),
            };
            set_passed.try_set(draft.passed);
            set_deadline.try_set(draft.deadline);
            set_comment.try_set(draft.comment);
            team.try_set(
                roster
                    .into_iter()
                    .filter(|u| draft.officers.contains(&u.id))
                    .collect(),
            );
            restored.try_set(true);
        });
    }
    let discard = move |()| {
        if let Some(keeper) = keeper {
            keeper.discard();
        }
        set_passed.set(None);
        set_deadline.set(String::new());
        set_comment.set(String::new());
        team.set(Vec::new());
        restored.set(false);
    };

    let on_files = move |ev: leptos::ev::Event| {
        let Some(id) = id else { return };
        let files = take_files(&ev);
        if files.is_empty() {
            return;
        }
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            match pick(files, id).await {
                Ok(more) => photos.update(|p| p.extend(more)),
                Err(e) => set_error.set(Some(e)),
            }
            set_busy.set(false);
        });
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Some(id) = id else { return };
        let Some(passed) = passed.get_untracked() else {
            set_error.set(Some("请选择复查结果：已整改或未整改。".to_owned()));
            return;
        };
        let new_deadline = NaiveDate::parse_from_str(&deadline.get_untracked(), "%Y-%m-%d").ok();
        set_busy.set(true);
        set_error.set(None);
        let navigate = navigate.clone();
        let picked = photos.get_untracked();
        let chosen = team.get_untracked();
        leptos::task::spawn_local(async move {
            match save(
                id,
                passed,
                new_deadline,
                comment.get_untracked(),
                picked,
                chosen,
            )
            .await
            {
                Ok(record) => {
                    if let Some(keeper) = keeper {
                        keeper.stop();
                    }
                    forget(&DraftKey::Reinspect(id)).await;
                    unsynced.refresh();
                    engine.sync_now();
                    let next = record.map_or(Page::Reinspections, Page::Documents);
                    navigate(&next.path(), Default::default());
                }
                Err(e) => set_error.set(Some(e)),
            }
            set_busy.set(false);
        });
    };

    view! {
        <section class="page page--reinspect">
            <h1 class="page__title">"复查"</h1>
            <Suspense fallback=|| view! { <p class="muted">"正在读取本机数据…"</p> }>
                {move || finding.get().map(|result| match result {
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                    Ok(f) if f.status != FindingStatus::Rectifying => view! {
                        <p class="card">{format!("这条隐患当前为“{}”，不在整改中，无需复查。", f.status.label_zh())}</p>
                    }.into_any(),
                    Ok(f) => view! {
                        <article class="card">
                            <h2 class="card__title">{f.level.label_zh()} " " {f.description.clone()}</h2>
                            <p class="muted">"部位：" {f.place.clone()}
                                {f.deadline.map(|d| format!(" · 整改期限 {}", d.format("%Y-%m-%d")))}</p>
                            <p class="muted">"整改前"</p>
                            <PhotoStrip photos=f.photos.clone() empty="无现场照片" />
                            <a class="button button--secondary button--small" href=Page::Dossier(f.enterprise_id).path()
                                data-testid="reinspect-dossier">"企业档案"</a>
                        </article>
                    }.into_any(),
                })}
            </Suspense>
            <form class="form card" on:submit=submit>
                <DraftNote shown=restored on_discard=Callback::new(discard) />
                <fieldset class="field choice">
                    <legend class="field__label">"复查结果"</legend>
                    <label class="choice__option">
                        <input type="radio" name="result" value="passed"
                            prop:checked=move || passed.get() == Some(true) on:change=move |_| set_passed.set(Some(true)) />
                        "已整改"
                    </label>
                    <label class="choice__option">
                        <input type="radio" name="result" value="failed"
                            prop:checked=move || passed.get() == Some(false) on:change=move |_| set_passed.set(Some(false)) />
                        "未整改"
                    </label>
                </fieldset>
                <Show when=move || passed.get() == Some(false)>
                    <label class="field">
                        <span class="field__label">"新的整改期限"</span>
                        <input class="field__input" type="date" name="new_deadline"
                            prop:value=deadline on:input=move |ev| set_deadline.set(event_target_value(&ev)) />
                    </label>
                </Show>
                <div class="field">
                    <span class="field__label">"整改后照片"</span>
                    <label class="button button--secondary photo-input">
                        "拍摄整改后照片"
                        <input class="photo-input__file" type="file" name="after_photos" accept="image/*"
                            capture="environment" multiple data-testid="after-photos" on:change=on_files />
                    </label>
                    <label class="button button--secondary photo-input">
                        "从相册选择"
                        <input class="photo-input__file" type="file" name="after_photos_gallery" accept="image/*"
                            multiple data-testid="after-photos-gallery" on:change=on_files />
                    </label>
                </div>
                <div class="photo-strip">
                    {move || photos.get().into_iter().map(|p| view! {
                        <span class="photo"><img class="photo__img" src=p.preview.as_str().to_owned() alt="整改后照片" /></span>
                    }).collect_view()}
                </div>
                <fieldset class="field choices" data-testid="reinspect-officers">
                    <legend class="field__label">"同行执法人员（选定后出具整改复查意见书）"</legend>
                    {move || colleagues.get().map(|list| {
                        if list.is_empty() {
                            return view! { <p class="muted">"本机没有同队人员名单：只记录复查结果，不出具意见书。"</p> }.into_any();
                        }
                        list.into_iter().map(|u| {
                            let id = u.id;
                            let label = format!("{}（{}）", u.display_name,
                                u.certificate_no.clone().unwrap_or_else(|| "未登记执法证号".to_owned()));
                            view! {
                                <label class="tick">
                                    <input type="checkbox"
                                        prop:checked=move || team.with(|t| t.iter().any(|x| x.id == id))
                                        on:change=move |_| team.update(|t| {
                                            if let Some(at) = t.iter().position(|x| x.id == id) { t.remove(at); } else { t.push(u.clone()); }
                                        }) />
                                    {label}
                                </label>
                            }
                        }).collect_view().into_any()
                    })}
                </fieldset>
                <label class="field">
                    <span class="field__label">"复查意见"</span>
                    <textarea class="field__input" name="comment" rows="3"
                        prop:value=comment on:input=move |ev| set_comment.set(event_target_value(&ev))></textarea>
                </label>
                <button class="button button--wide" type="submit" disabled=busy>
                    {move || if busy.get() { "请稍候…" } else { "保存复查结果" }}
                </button>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </form>
        </section>
    }
    .into_any()
}
