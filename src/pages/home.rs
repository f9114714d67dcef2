//! Home: where an inspector's day starts — sync state, the inspections on this device in
//! `core::home` order (today, unfinished, recently finished) a page at a time with their sync
//! state, and the device's storage.

use leptos::prelude::*;
use zhicha_core::home::{self, HomeSection};
use zhicha_core::model::{Inspection, Role};

use super::Page;
use crate::components::storage_guardian::StorageGuardian;
use crate::components::sync_panel::SyncPanel;
use crate::state::{self, use_unsynced};
use crate::storage::{PlanData, RecordSync};
use crate::sync::engine::use_sync_engine;

#[derive(Clone)]
struct Row {
    section: HomeSection,
    enterprise: String,
    inspection: Inspection,
    sync: RecordSync,
}

#[derive(Clone)]
struct HomeData {
    signed_in_as: Option<String>,
    role: Option<Role>,
    /// The rows of the pages asked for, in home order.
    rows: Vec<Row>,
    /// Inspections on this device in all.
    total: usize,
    /// Tasks of 我的任务 not yet started on this phone.
    open_tasks: usize,
}

async fn load(running: bool, pages: usize) -> Result<HomeData, String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    let session = db.session().await.map_err(|e| e.to_string())?;
    let unsynced = db.unsynced_entities().await.map_err(|e| e.to_string())?;
    let inspections = db.inspections().await.map_err(|e| e.to_string())?;
    let open_tasks = db.plan_data().await.map_or(0, |plans| {
        plans
            .tasks
            .iter()
            .filter(|t| PlanData::progress(t, &inspections).is_open())
            .count()
    });
    let today = zhicha_core::time::china_date(chrono::Utc::now());
    let ordered = home::home_order(inspections, today);
    let total = ordered.len();
    let mut rows = Vec::with_capacity(home::shown(pages, total));
    // Only the rows shown are read further: a phone may hold a team's year of visits.
    for (section, inspection) in ordered.into_iter().take(home::shown(pages, total)) {
        let enterprise = db
            .enterprise(&inspection.enterprise_id.to_string())
            .await
            .ok()
            .flatten()
            .map_or_else(|| "（未知单位）".to_owned(), |e| e.name);
        let findings = db
            .findings_of_inspection(inspection.id)
            .await
            .map_err(|e| e.to_string())?;
        let ids: Vec<uuid::Uuid> = std::iter::once(inspection.id.0)
            .chain(findings.iter().map(|f| f.id.0))
            .collect();
        let complete = db.evidence_complete(inspection.id).await.unwrap_or(false);
        let own = session
            .as_ref()
            .is_some_and(|s| s.user.id == inspection.created_by);
        let sync = RecordSync::of(&ids, &unsynced, running, complete, own);
        rows.push(Row {
            section,
            enterprise,
            inspection,
            sync,
        });
    }
    Ok(HomeData {
        role: session.as_ref().map(|s| s.user.role),
        signed_in_as: session.map(|s| s.user.display_name),
        rows,
        total,
        open_tasks,
    })
}

fn badge_class(sync: RecordSync) -> &'static str {
    match sync {
        RecordSync::Synced => "badge badge--ok",
        RecordSync::Error => "badge badge--error",
        // A colleague's record: nothing of it is this phone's to send.
        RecordSync::FromServer => "badge",
        _ => "badge badge--pending",
    }
}

#[component]
pub fn HomePage() -> impl IntoView {
    let engine = use_sync_engine();
    let unsynced = use_unsynced();
    let pages = RwSignal::new(1usize);
    // Re-read whenever a sync round starts or ends, local counts change or a page is added.
    let data = LocalResource::new(move || {
        let running = engine.status.get().running;
        let _ = unsynced.counts.get();
        load(running, pages.get())
    });
    view! {
        <section class="page page--home">
            <Transition fallback=|| view! { <p class="muted">"正在读取本机数据…"</p> }>
                {move || data.get().map(|result| match result {
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                    Ok(data) => view! {
                        {match data.signed_in_as {
                            Some(name) => view! { <p class="muted">"当前用户：" {name}</p> }.into_any(),
                            None => view! {
                                <p class="card">"尚未登录。联网后请先登录，下载离线资料。"
                                    <a class="button button--wide" href=Page::Login.path()>"登录"</a></p>
                            }.into_any(),
                        }}
                        {data.role.map(|role| view! {
                            <nav class="home-actions" aria-label="常用功能">
                                <a class="button button--wide home-actions__start" href=Page::PickEnterprise.path() data-testid="new-inspection">"开始检查"</a>
                                {(role != Role::Admin).then(|| view! {
                                    <a class="button button--secondary" href=Page::Tasks.path() data-testid="my-tasks">
                                        {format!("我的任务（{}）", data.open_tasks)}</a>
                                })}
                                <a class="button button--secondary" href=Page::Reinspections.path()>"待复查隐患"</a>
                                <a class="button button--secondary" href=Page::Cases.path() data-testid="cases">"案件办理"</a>
                                {(role != Role::Inspector).then(|| view! {
                                    <a class="button button--secondary" href=Page::Review.path()>"待审核隐患"</a>
                                    <a class="button button--secondary" href=Page::Rectification.path()>"整改跟踪"</a>
                                    <a class="button button--secondary" href=Page::Ledger.path()>"隐患台账"</a>
                                    <a class="button button--secondary" href=Page::Stats.path()>"统计分析"</a>
                                })}
                                {(role == Role::Admin).then(|| view! {
                                    <a class="button button--secondary" href=Page::AdminUsers.path()>"系统管理"</a>
                                })}
                            </nav>
                        })}
                        <h1 class="page__title">"检查记录"</h1>
                        {let shown = data.rows.len();
                        let sections: Vec<HomeSection> = data.rows.iter().map(|r| r.section).collect();
                        if data.rows.is_empty() {
                            view! { <p class="empty">"本机尚无检查记录。"</p> }.into_any()
                        } else {
                            view! {
                                <ul class="list inspections" data-testid="home-list">
                                    {data.rows.into_iter().enumerate().map(|(n, row)| {
                                        let heading = (previous_section(n, &sections) != Some(row.section))
                                            .then(|| view! { <li class="inspections__section" data-testid="home-section">{row.section.label_zh()}</li> });
                                        view! { {heading} <HomeRow row /> }
                                    }).collect_view()}
                                </ul>
                                {(data.total > shown).then(|| view! {
                                    <button type="button" class="button button--secondary button--wide" data-testid="home-more"
                                        on:click=move |_| pages.update(|p| *p += 1)>
                                        {format!("显示更多（已显示 {shown} / {} 条）", data.total)}
                                    </button>
                                })}
                            }.into_any()
                        }}
                    }.into_any(),
                })}
            </Transition>
            <SyncPanel />
            <p class="muted">"四不两直：不发通知、不打招呼、不听汇报、不用陪同接待、直奔基层、直插现场。"</p>
            <StorageGuardian />
        </section>
    }
    .into_any()
}

/// The section of the row before the `n`th, to head each section once.
fn previous_section(n: usize, sections: &[HomeSection]) -> Option<HomeSection> {
    n.checked_sub(1).and_then(|p| sections.get(p).copied())
}

#[component]
fn HomeRow(row: Row) -> impl IntoView {
    let started = zhicha_core::time::minute(row.inspection.started_at);
    let finished = row.inspection.finished_at.is_some();
    let state = if finished { "已完成" } else { "进行中" };
    let href = if finished {
        Page::Documents(row.inspection.id).path()
    } else {
        Page::Inspection(row.inspection.id).path()
    };
    view! {
        <li class="list__item inspection" data-testid="home-row">
            <a class="inspection__enterprise inspection__link" href=href>{row.enterprise}</a>
            <span class="inspection__meta">
                {row.inspection.kind.label_zh()} " · " {started} " · " {state}
            </span>
            <span class=badge_class(row.sync) data-testid="record-sync">{row.sync.label_zh()}</span>
        </li>
    }
}
