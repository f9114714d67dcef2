//! 待审核隐患: the findings submitted for review, 重大 first and the longest-waiting first, with
//! photos, clause, inspector and enterprise; confirm, supervise, or open one to return it; confirm
//! several at once.

use std::collections::HashSet;

use leptos::prelude::*;
use zhicha_core::ids::FindingId;
use zhicha_core::lifecycle::FindingAction;
use zhicha_core::model::{Finding, FindingStatus, Level};

use super::photo::PhotoStrip;
use super::{LeaderNav, Names, cst, decide, leader_session, level_class, submitted_at};
use crate::pages::Page;
use crate::state::{self, use_unsynced};
use crate::sync::engine::use_sync_engine;

#[derive(Clone)]
struct Queue {
    names: Names,
    findings: Vec<Finding>,
}

/// 重大 before 一般, then the one waiting longest.
pub(crate) fn review_order(findings: &mut [Finding]) {
    findings.sort_by_key(|f| (f.level != Level::Major, submitted_at(f)));
}

async fn load() -> Result<Queue, String> {
    leader_session().await?;
    let db = state::db().await.map_err(|e| e.to_string())?;
    let mut findings = db
        .findings_with_status(FindingStatus::Submitted)
        .await
        .map_err(|e| e.to_string())?;
    review_order(&mut findings);
    Ok(Queue {
        names: Names::load().await?,
        findings,
    })
}

#[component]
pub fn ReviewPage() -> impl IntoView {
    let unsynced = use_unsynced();
    let engine = use_sync_engine();
    let synced = engine.last_success();
    // Re-read after each sync round (new submissions arrive by pull).
    let queue = LocalResource::new(move || {
        synced.track();
        load()
    });
    // Conflict flags live on the server: read them when online, and show none otherwise.
    let flagged = LocalResource::new(move || {
        synced.track();
        async move {
            let Ok(session) = leader_session().await else {
                return HashSet::new();
            };
            crate::sync::leader::flagged_submitted(&session.token)
                .await
                .map(|ids| ids.into_iter().collect::<HashSet<FindingId>>())
                .unwrap_or_default()
        }
    });
    let (selected, set_selected) = signal(HashSet::<FindingId>::new());
    let (busy, set_busy) = signal(false);
    let (message, set_message) = signal(None::<Result<String, String>>);

    // Applies `actions` to each finding in turn; stops at the first refusal and says why.
    let run = move |targets: Vec<Finding>, actions: Vec<FindingAction>| {
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_message.set(None);
        leptos::task::spawn_local(async move {
            let mut done = 0;
            let mut failure = None;
            'outer: for finding in targets {
                let mut current = finding;
                for action in &actions {
                    match decide(&current, action.clone(), "").await {
                        Ok(updated) => current = updated,
                        Err(e) => {
                            failure = Some(format!("{}：{e}", current.description));
                            break 'outer;
                        }
                    }
                }
                done += 1;
            }
            set_message.set(Some(match failure {
                Some(e) => Err(e),
                None => Ok(format!("已处理 {done} 条隐患，将自动同步到服务器。")),
            }));
            set_selected.set(HashSet::new());
            set_busy.set(false);
            unsynced.refresh();
            engine.sync_now();
            queue.refetch();
        });
    };

    view! {
        <section class="page page--leader page--review">
            <h1 class="page__title">"待审核隐患"</h1>
            <LeaderNav current=Some(Page::Review) />
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="notice" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="error" role="alert">{text}</p> }.into_any(),
            })}
            <Suspense fallback=|| view! { <p class="muted">"正在读取本机数据…"</p> }>
                {move || queue.get().map(|result| match result {
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                    Ok(queue) if queue.findings.is_empty() => view! {
                        <p class="empty">"没有待审核的隐患。"</p>
                    }.into_any(),
                    Ok(queue) => {
                        let all: Vec<Finding> = queue.findings.clone();
                        let batch = all.clone();
                        view! {
                            <div class="toolbar">
                                <span class="muted">{format!("共 {} 条待审核", all.len())}</span>
                                <button class="button button--secondary"
                                    on:click=move |_| set_selected.set(batch.iter().map(|f| f.id).collect())>
                                    "全选"
                                </button>
                                <button class="button" data-testid="confirm-selected"
                                    disabled=move || busy.get() || selected.with(HashSet::is_empty)
                                    on:click={
                                        let all = all.clone();
                                        move |_| {
                                            let chosen = selected.get_untracked();
                                            let targets = all.iter().filter(|f| chosen.contains(&f.id)).cloned().collect();
                                            run(targets, vec![FindingAction::Confirm]);
                                        }
                                    }>
                                    {move || format!("确认所选（{}）", selected.with(HashSet::len))}
                                </button>
                            </div>
                            <ul class="list review-list">
                                {queue.findings.into_iter().map(|finding| {
                                    let id = finding.id;
                                    let major = finding.level == Level::Major;
                                    let one = finding.clone();
                                    let both = finding.clone();
                                    view! {
                                        <li class="card finding-card" class:finding-card--major=major data-testid="review-item">
                                            <label class="check">
                                                <input type="checkbox"
                                                    prop:checked=move || selected.with(|s| s.contains(&id))
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        set_selected.update(|s| { if on { s.insert(id); } else { s.remove(&id); } });
                                                    } />
                                                "选择"
                                            </label>
                                            <h2 class="card__title">
                                                {move || flagged.get().is_some_and(|f| f.contains(&id)).then(|| view! {
                                                    <a class="badge badge--warning" data-testid="conflict-badge"
                                                        title="两台设备曾基于同一版本修改，点开查看修改记录"
                                                        href=Page::LeaderFinding(id).path()>"冲突"</a>
                                                    " "
                                                })}
                                                <span class=level_class(&finding)>{finding.level.label_zh()}</span>
                                                " " {finding.description.clone()}
                                            </h2>
                                            <p class="meta">
                                                {queue.names.enterprise(&finding)} " · 检查人："
                                                {queue.names.user(finding.created_by)} " · 提交于 "
                                                {cst(submitted_at(&finding))}
                                            </p>
                                            <p>"部位：" {finding.place.clone()} " · 措施：" {finding.measure.label_zh()}
                                                {finding.deadline.map(|d| format!(" · 整改期限：{}", super::date(d)))}</p>
                                            <p class="basis">"依据：" {if finding.legal_basis.is_empty() { "（未填写）".to_owned() } else { finding.legal_basis.clone() }}</p>
                                            <PhotoStrip photos=finding.photos.clone() empty="无现场照片" />
                                            <div class="actions">
                                                <button class="button" disabled=busy
                                                    on:click=move |_| run(vec![one.clone()], vec![FindingAction::Confirm])>"确认"</button>
                                                {major.then(|| view! {
                                                    <button class="button button--danger" disabled=busy
                                                        on:click=move |_| run(vec![both.clone()], vec![FindingAction::Confirm, FindingAction::Supervise { on: true }])>
                                                        "确认并挂牌督办"
                                                    </button>
                                                })}
                                                <a class="button button--secondary" href=Page::LeaderFinding(id).path()>"详情 / 退回"</a>
                                            </div>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}
