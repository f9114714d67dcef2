//! 开始检查: kind (四不两直暗访 by default; 日常检查 for a task), co-inspectors from the roster
//! (a task's officers ticked), the packs of the enterprise's sectors, the entry cards (扫码入企,
//! 审批, 通知, 专项行动, the yearly cap; see `entry`), and the check-in — time, position with its
//! accuracy, optional gate photo. One screen for both ways in: an enterprise picked from the
//! directory, or a task of 我的任务. What is filled in is kept as a draft until the inspection
//! starts (the entry cards' answers and the gate photo are not kept).

use chrono::Utc;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use web_sys::File;
use zhicha_core::fieldwork::{self, StartForm};
use zhicha_core::model::{CheckIn, GeoPoint, InspectionKind, PhotoOwner, PhotoRole, User};

use super::entry::{ApprovalCard, CapCard, EntryForm, ScanCard};
use super::picker::toggle;
use super::start_data::{StartData, StartFrom, load};
use super::{messages, open_db};
use crate::components::draft::{DraftKeeper, DraftNote, forget, restore};
use crate::components::photos::PhotoInput;
use crate::pages::Page;
use crate::state::use_unsynced;
use crate::storage::{DraftKey, StartDraft};
use crate::{geo, photo};

/// How long to wait for a position fix before letting the inspector go on without one.
const FIX_TIMEOUT_MS: u32 = 15_000;

/// The test id of a kind's button.
fn kind_testid(kind: InspectionKind) -> &'static str {
    match kind {
        InspectionKind::Unannounced => "kind-unannounced",
        InspectionKind::Routine => "kind-routine",
        InspectionKind::Special => "kind-special",
        InspectionKind::Reinspection => "kind-reinspection",
    }
}

/// Where the position fix stands.
#[derive(Clone, Copy, PartialEq)]
enum Fix {
    Locating,
    Found(GeoPoint),
    Unavailable,
}

fn fix_line(fix: Fix) -> String {
    match fix {
        Fix::Locating => "正在定位…".to_owned(),
        Fix::Found(p) => match p.accuracy_m {
            Some(a) => format!("已定位：{:.5}, {:.5}（精度约 ±{a:.0} 米）", p.lat, p.lon),
            None => format!("已定位：{:.5}, {:.5}", p.lat, p.lon),
        },
        Fix::Unavailable => "未取得定位（井下、室内或未授权）。请在下方说明原因。".to_owned(),
    }
}

#[component]
pub fn StartInspectionPage(id: String) -> impl IntoView {
    view! { <StartPage from=StartFrom::Enterprise(id) /> }
}

/// The start screen for an enterprise or a task.
#[component]
pub fn StartPage(from: StartFrom) -> impl IntoView {
    let title = match from {
        StartFrom::Enterprise(_) => "开始检查",
        StartFrom::Task(_) => "按任务开始检查",
    };
    let key = match &from {
        StartFrom::Enterprise(id) => Some(DraftKey::StartEnterprise(id.clone())),
        StartFrom::Task(id) => id.map(DraftKey::StartTask),
    };
    let data = LocalResource::new(move || {
        let (from, key) = (from.clone(), key.clone());
        async move {
            let data = load(from).await?;
            let draft = match &key {
                Some(key) => restore::<StartDraft>(key).await,
                None => None,
            };
            Ok::<_, String>((data, key, draft))
        }
    });
    view! {
        <section class="page page--start">
            <h1 class="page__title">{title}</h1>
            <Suspense fallback=|| view! { <p class="muted">"正在读取…"</p> }>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok((data, key, draft)) => view! { <StartScreen data key draft /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

/// The start screen for `data`, filled in from `draft` when one was kept under `key`.
#[component]
fn StartScreen(data: StartData, key: Option<DraftKey>, draft: Option<StartDraft>) -> impl IntoView {
    let StartData {
        session,
        enterprise,
        colleagues,
        packs,
        suggested,
        task,
        started,
        base,
    } = data;
    // The form as it opens: a task is planned work (日常检查) with its officers ticked; a visit
    // picked from the directory is 四不两直 by default.
    let blank = StartDraft {
        kind: if task.is_some() {
            InspectionKind::Routine
        } else {
            InspectionKind::Unannounced
        },
        officers: task.as_ref().map_or_else(Vec::new, |t| {
            colleagues
                .iter()
                .filter(|u| t.officers.contains(&u.id))
                .map(|u| u.id)
                .collect()
        }),
        packs: suggested,
        fire_venues: Vec::new(),
        places: String::new(),
        note: String::new(),
        entry: EntryForm::blank(),
    };
    let restored = RwSignal::new(draft.is_some());
    let opened = draft.unwrap_or_else(|| blank.clone());
    let (kind, set_kind) = signal(opened.kind);
    let members = move |ids: &[zhicha_core::ids::UserId], all: &[User]| -> Vec<User> {
        all.iter()
            .filter(|u| ids.contains(&u.id))
            .cloned()
            .collect()
    };
    let team = RwSignal::new(members(&opened.officers, &colleagues));
    let entry_form = EntryForm::from_draft(&opened.entry);
    let base_entry = base.entry.clone();
    let chosen = RwSignal::new(opened.packs);
    let venues = RwSignal::new(opened.fire_venues);
    // The venue categories of the fire pack offered (its composite rules name them).
    let fire_pack = packs
        .iter()
        .find(|p| p.id.as_str() == fieldwork::FIRE_PACK)
        .map(|p| (p.pack_ref(), zhicha_core::fire::venues_of(p)));
    let places = RwSignal::new(opened.places);
    let note = RwSignal::new(opened.note);
    let keeper = key.clone().map(|key| DraftKeeper::new(key, blank.clone()));
    if let Some(keeper) = keeper {
        keeper.track(move || StartDraft {
            kind: kind.get(),
            officers: team.with(|t| t.iter().map(|u| u.id).collect()),
            packs: chosen.get(),
            fire_venues: venues.get(),
            places: places.get(),
            note: note.get(),
            entry: entry_form.draft(),
        });
    }
    let roster = StoredValue::new(colleagues.clone());
    let discard = move |()| {
        if let Some(keeper) = keeper {
            keeper.discard();
        }
        set_kind.set(blank.kind);
        team.set(roster.with_value(|all| members(&blank.officers, all)));
        chosen.set(blank.packs.clone());
        venues.set(blank.fire_venues.clone());
        places.set(blank.places.clone());
        note.set(blank.note.clone());
        entry_form.restore(&blank.entry);
        restored.set(false);
    };
    let fix = RwSignal::new(Fix::Locating);
    let gate = RwSignal::new(None::<File>);
    let (errors, set_errors) = signal(Vec::<String>::new());
    let (busy, set_busy) = signal(false);
    let unsynced = use_unsynced();
    let navigate = use_navigate();

    let locate = move || {
        fix.set(Fix::Locating);
        leptos::task::spawn_local(async move {
            let found = geo::current_position(FIX_TIMEOUT_MS).await;
            fix.set(found.map_or(Fix::Unavailable, Fix::Found));
        });
    };
    locate();

    let position = Signal::derive(move || match fix.get() {
        Fix::Found(p) => Some(p),
        _ => None,
    });
    let (visits, cap) = (base.visits, base.cap);
    let me = session.user.clone();
    let enterprise_for_submit = enterprise.clone();
    let start = move |_| {
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_errors.set(Vec::new());
        let navigate = navigate.clone();
        let me = me.clone();
        let enterprise = enterprise_for_submit.clone();
        let entry = entry_form.entry(&base, kind.get_untracked());
        let draft_key = key.clone();
        leptos::task::spawn_local(async move {
            let result = async {
                let now = Utc::now();
                let location = match fix.get_untracked() {
                    Fix::Found(p) => Some(p),
                    _ => None,
                };
                let mut form = StartForm {
                    kind: kind.get_untracked(),
                    team: std::iter::once(me.clone())
                        .chain(team.get_untracked())
                        .collect(),
                    packs: chosen.get_untracked(),
                    check_in: Some(CheckIn {
                        at: now,
                        location,
                        gate_photo: None,
                        note: note.get_untracked().trim().to_owned(),
                    }),
                    places: places.get_untracked(),
                    fire_venues: venues.get_untracked(),
                    entry,
                    visits_this_year: visits,
                    cap,
                };
                // Validate before the photo pipeline runs, so a bad form costs nothing.
                fieldwork::start_inspection(&form, &enterprise, &me, now)
                    .map_err(|e| messages(&e))?;
                let gate_photo = match gate.get_untracked() {
                    Some(file) => Some(
                        photo::process(&file)
                            .await
                            .map_err(|e| vec![e.to_string()])?,
                    ),
                    None => None,
                };
                if let (Some(check_in), Some(p)) = (form.check_in.as_mut(), gate_photo.as_ref()) {
                    check_in.gate_photo = Some(p.hash.clone());
                }
                let inspection = fieldwork::start_inspection(&form, &enterprise, &me, now)
                    .map_err(|e| messages(&e))?;
                let db = open_db().await.map_err(|e| vec![e])?;
                db.save_inspection(&inspection)
                    .await
                    .map_err(|e| vec![e.to_string()])?;
                if let Some(p) = gate_photo {
                    let stored = p.into_new_photo(
                        PhotoOwner::Inspection(inspection.id),
                        PhotoRole::Gate,
                        now,
                        Some(now),
                        location.ok_or_else(|| "签到时设备未返回位置".to_owned()),
                    );
                    db.attach_inspection_photo(&stored)
                        .await
                        .map_err(|e| vec![format!("检查已开始，但大门照片未保存：{e}")])?;
                }
                Ok::<_, Vec<String>>(inspection.id)
            }
            .await;
            set_busy.set(false);
            unsynced.refresh();
            match result {
                Ok(id) => {
                    if let Some(keeper) = keeper {
                        keeper.stop();
                    }
                    if let Some(key) = &draft_key {
                        forget(key).await;
                    }
                    navigate(&Page::Inspection(id).path(), Default::default());
                }
                Err(list) => set_errors.set(list),
            }
        });
    };

    let kinds = [
        InspectionKind::Unannounced,
        InspectionKind::Routine,
        InspectionKind::Special,
        InspectionKind::Reinspection,
    ];
    let no_colleagues = colleagues.is_empty();
    let task_line = task.as_ref().map(|t| {
        format!(
            "{}任务 · 截止 {}",
            if t.key { "重点" } else { "随机抽查" },
            t.due.format("%Y-%m-%d")
        )
    });
    view! {
        <div class="card">
            <p class="inspection__enterprise" data-testid="start-enterprise">{enterprise.name.clone()}</p>
            <p class="inspection__meta">{enterprise.address.clone()}</p>
            // History, open hazards and the last visit before going in, offline.
            <a class="button button--secondary button--small" href=Page::Dossier(enterprise.id).path()
                data-testid="start-dossier">"查看企业档案"</a>
            {task_line.map(|line| view! { <p class="inspection__meta" data-testid="start-task">{line}</p> })}
            {started.map(|id| view! {
                <p class="warn" data-testid="task-started">"本机已按此任务开始过检查。"
                    <a href=Page::Inspection(id).path()>"查看该检查"</a></p>
            })}
        </div>
        <DraftNote shown=restored on_discard=Callback::new(discard) />
        <fieldset class="field choices">
            <legend class="field__label">"检查类型"</legend>
            <div class="segmented segmented--grid">
                {kinds.into_iter().map(|k| view! {
                    <button type="button" class="segmented__option" data-testid=kind_testid(k) aria-pressed=move || (kind.get() == k).to_string()
                        on:click=move |_| set_kind.set(k)>{k.label_zh()}</button>
                }).collect_view()}
            </div>
        </fieldset>
        <fieldset class="field choices" data-testid="co-inspectors">
            <legend class="field__label">"检查人员（不少于两名执法人员）"</legend>
            <label class="tick tick--fixed">
                <input type="checkbox" checked disabled />
                {format!("{}（本人，执法证号：{}）", session.user.display_name,
                    session.user.certificate_no.clone().unwrap_or_else(|| "未登记".to_owned()))}
            </label>
            {colleagues.into_iter().map(|u| {
                let cert = u.certificate_no.clone().unwrap_or_else(|| "未登记执法证号".to_owned());
                let label = format!("{}（{cert}）", u.display_name);
                let id = u.id;
                view! {
                    <label class="tick" data-user=id.to_string()>
                        <input type="checkbox" prop:checked=move || team.with(|t| t.iter().any(|x| x.id == id))
                            on:change=move |_| team.update(|t| {
                                if let Some(at) = t.iter().position(|x| x.id == id) { t.remove(at); } else { t.push(u.clone()); }
                            }) />
                        {label}
                    </label>
                }
            }).collect_view()}
            {no_colleagues.then(|| view! { <p class="warn">"本机没有同队人员名单。请联网登录后再试。"</p> })}
        </fieldset>
        <fieldset class="field choices" data-testid="packs">
            <legend class="field__label">"检查表（已按单位行业预选）"</legend>
            {packs.into_iter().map(|p| {
                let r = p.pack_ref();
                let r2 = r.clone();
                view! {
                    <label class="tick">
                        <input type="checkbox" prop:checked=move || chosen.with(|c| c.contains(&r))
                            on:change=move |_| chosen.update(|c| toggle(c, r2.clone())) />
                        {format!("{}（{} 项）", p.title, p.items.len())}
                    </label>
                }
            }).collect_view()}
        </fieldset>
        {fire_pack.map(|(fire, offered)| view! {
            <fieldset class="field choices" data-testid="fire-venues"
                hidden=move || !chosen.try_with(|c| c.contains(&fire)).unwrap_or(false)>
                <legend class="field__label">"场所类别（消防综合判定按类别计数，可多选）"</legend>
                {offered.into_iter().map(|v| view! {
                    <label class="tick">
                        <input type="checkbox"
                            prop:checked=move || venues.try_with(|c| c.contains(&v)).unwrap_or(false)
                            on:change=move |_| venues.update(|c| toggle(c, v)) />
                        {v.label_zh()}
                    </label>
                }).collect_view()}
            </fieldset>
        })}
        <ScanCard form=entry_form enterprise=enterprise.clone() fix=position />
        <ApprovalCard form=entry_form base=base_entry kind />
        <CapCard form=entry_form visits cap />
        <label class="field">
            <span class="field__label">"检查场所（可稍后填写）"</span>
            <input class="field__input" data-testid="places" prop:value=places
                placeholder="例如：主井、1201 综采工作面、变电所"
                on:input=move |ev| places.set(event_target_value(&ev)) />
        </label>
        <div class="card checkin">
            <h2 class="card__title">"现场签到"</h2>
            <p data-testid="fix" role="status">{move || fix_line(fix.get())}</p>
            <button class="button button--small button--secondary" type="button" on:click=move |_| locate()>"重新定位"</button>
            <Show when=move || fix.get() == Fix::Unavailable>
                <label class="field">
                    <span class="field__label">"未取得定位的原因"</span>
                    <input class="field__input" data-testid="fix-note" prop:value=note
                        placeholder="例如：井下无信号"
                        on:input=move |ev| note.set(event_target_value(&ev)) />
                </label>
            </Show>
            <p class="muted">"大门照片（可选）：证明直插现场。"</p>
            <PhotoInput label="拍摄大门照片" testid="gate-photo"
                on_files=Callback::new(move |files: Vec<File>| gate.set(files.into_iter().next())) />
            {move || gate.get().map(|f| view! { <p class="muted">"已选择：" {f.name()}</p> })}
        </div>
        <button class="button button--wide" type="button" data-testid="start" on:click=start disabled=busy>
            {move || if busy.get() { "正在保存…" } else { "签到并开始检查" }}
        </button>
        {move || (!errors.get().is_empty()).then(|| view! {
            <ul class="errors" role="alert">
                {errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
            </ul>
        })}
    }
    .into_any()
}
