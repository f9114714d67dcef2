//! 检查项目: the checklist runner. Groups, progress, 符合 / 不符合 / 不涉及 per item with the
//! clause, the evidence hint and 条文待核 where the clause is not verified (or the edition in force
//! on the day could not be checked: the pack's notice says so above the list). Each answer is one
//! transaction on the device the moment it is tapped; 不符合 opens the finding editor pre-filled.
//! A long list is walked group by group: an index with each group's count, 只看未检查, and a
//! whole group marked 不涉及 after one confirmation (`place` keeps where the inspector is).

mod groups;
mod place;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use zhicha_core::fieldwork;
use zhicha_core::ids::InspectionId;
use zhicha_core::model::{Enterprise, Finding, Inspection, ItemResult, Level, Outcome};
use zhicha_core::packs::{ChecklistItem, ChecklistPack};

use super::{autosave, enterprise, local_time, open_db, registry, stored_inspection};
use crate::pages::Page;
use crate::state::use_unsynced;
use crate::storage::RunnerPlace;
use groups::{GroupContext, group_section};
use place::{IndexEntry, Place, RunnerBar};

/// One item as the runner shows it.
#[derive(Clone)]
struct Row {
    item: ChecklistItem,
    /// Cited with 条文待核: the clause, or the edition in force on the day, was not checked.
    pending: bool,
}

/// One group of items (`fieldwork::item_groups`).
#[derive(Clone)]
struct Group {
    key: String,
    /// `pack · group`, heading the group in the list.
    title: String,
    pack_title: String,
    group_title: String,
    rows: Vec<Row>,
}

/// What a pack's standard tells the inspector on the day of the inspection.
#[derive(Clone)]
struct Notice {
    pack: String,
    edition: String,
    text: Option<String>,
}

#[derive(Clone)]
struct RunnerData {
    inspection: Inspection,
    enterprise: Enterprise,
    groups: Vec<Group>,
    notices: Vec<Notice>,
    /// The packs of this inspection with GB 35181 composite rules.
    composite: Vec<ChecklistPack>,
    findings: Vec<Finding>,
    /// Where the inspector was in this checklist.
    place: RunnerPlace,
}

async fn load(id: Option<InspectionId>) -> Result<RunnerData, String> {
    let db = open_db().await?;
    let inspection = stored_inspection(&db, id).await?;
    let enterprise = enterprise(&db, &inspection.enterprise_id.to_string()).await?;
    let packs = registry(&db).await;
    let day = zhicha_core::time::china_date(inspection.started_at);
    let walked = fieldwork::items_of(&inspection, &packs, &enterprise.subsectors);
    let mut notices: Vec<Notice> = Vec::new();
    for (pack, _) in &walked {
        if !notices.iter().any(|n| n.pack == pack.title) {
            let edition = pack.standard.edition_on(day);
            notices.push(Notice {
                pack: pack.title.clone(),
                edition: format!("《{}》（{}）", edition.name, edition.doc_number),
                text: pack.standard.notice_on(day),
            });
        }
    }
    let groups = fieldwork::item_groups(&walked)
        .into_iter()
        .map(|group| {
            let text_found = group.pack.standard.edition_on(day).text_found;
            Group {
                rows: group
                    .items
                    .iter()
                    .map(|item| Row {
                        item: (*item).clone(),
                        pending: item.needs_text_check() || !text_found,
                    })
                    .collect(),
                key: group.key,
                title: group.title,
                pack_title: group.pack.title.clone(),
                group_title: group.group_title,
            }
        })
        .collect();
    let findings = db
        .findings_of_inspection(inspection.id)
        .await
        .map_err(|e| e.to_string())?;
    let composite = zhicha_core::fire::composite_packs(&inspection, &packs)
        .into_iter()
        .cloned()
        .collect();
    // Not worth an error: without it the list opens at the top.
    let place = db.runner_place(inspection.id).await.unwrap_or_default();
    Ok(RunnerData {
        inspection,
        enterprise,
        groups,
        notices,
        composite,
        findings,
        place,
    })
}

/// Stores answers on the device in one transaction (`only_open`: answered items keep theirs)
/// and gives the inspection as saved.
async fn store_answers(
    id: InspectionId,
    results: &[ItemResult],
    only_open: bool,
) -> Result<Inspection, String> {
    open_db()
        .await?
        .save_item_results(id, results, only_open)
        .await
        .map_err(|e| e.to_string())
}

#[component]
pub fn InspectionPage(id: Option<InspectionId>) -> impl IntoView {
    let data = LocalResource::new(move || load(id));
    view! {
        <section class="page page--runner">
            <Suspense fallback=|| view! { <p class="muted">"正在读取检查记录…"</p> }>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(data) => view! { <Runner data /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

#[component]
fn Runner(data: RunnerData) -> impl IntoView {
    let RunnerData {
        inspection,
        enterprise,
        groups,
        notices,
        composite,
        findings,
        place,
    } = data;
    let id = inspection.id;
    let finished = inspection.finished_at.is_some();
    let state = RwSignal::new(inspection);
    let (error, set_error) = signal(None::<String>);
    let unsynced = use_unsynced();
    let navigate = use_navigate();
    let place = Place::new(id, place);
    let items: Vec<ChecklistItem> = groups
        .iter()
        .flat_map(|g| g.rows.iter().map(|r| r.item.clone()))
        .collect();
    let progress = Memo::new(move |_| state.with(|i| fieldwork::progress(i, items.iter())));
    // Each group's count, shared by the index and the group's heading.
    let group_progress: Vec<Memo<fieldwork::Progress>> = groups
        .iter()
        .map(|g| {
            let items: Vec<ChecklistItem> = g.rows.iter().map(|r| r.item.clone()).collect();
            Memo::new(move |_| state.with(|i| fieldwork::progress(i, items.iter())))
        })
        .collect();
    let entries: Vec<IndexEntry> = groups
        .iter()
        .zip(&group_progress)
        .map(|(g, progress)| IndexEntry {
            key: g.key.clone(),
            pack: g.pack_title.clone(),
            title: g.group_title.clone(),
            progress: *progress,
        })
        .collect();
    // The group whose 本组全部不涉及 waits for its confirmation.
    let confirming = RwSignal::new(None::<String>);

    let answer = move |item_id: String, outcome: Outcome| {
        let current = state.get_untracked();
        let result = fieldwork::answer(&current, &item_id, outcome);
        let open_editor = outcome == Outcome::NonCompliant && result.finding_ids.is_empty();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match store_answers(id, std::slice::from_ref(&result), false).await {
                Ok(updated) => {
                    set_error.set(None);
                    state.set(updated);
                    unsynced.refresh();
                    if open_editor {
                        navigate(
                            &Page::NewFinding(id, Some(item_id)).path(),
                            Default::default(),
                        );
                    }
                }
                Err(e) => set_error.set(Some(format!("答案未保存：{e}"))),
            }
        });
    };

    // 本组全部不涉及, confirmed: the group's open items saved in one transaction, all or none;
    // an item answered meanwhile keeps its answer.
    let mark_group_na = move |key: String, items: Vec<ChecklistItem>| {
        confirming.set(None);
        place.worked_in(&key);
        let results = state.with_untracked(|i| fieldwork::group_not_applicable(i, items.iter()));
        if results.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            match store_answers(id, &results, true).await {
                Ok(updated) => {
                    set_error.set(None);
                    state.set(updated);
                    unsynced.refresh();
                }
                Err(e) => set_error.set(Some(format!("本组未标为不涉及（未作任何更改）：{e}"))),
            }
        });
    };

    let save_places = move |value: String| {
        let mut current = state.get_untracked();
        if current.places == value {
            return;
        }
        current.places = value;
        state.set(current.clone());
        leptos::task::spawn_local(async move {
            let saved = match open_db().await {
                Ok(db) => db
                    .save_inspection(&current)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match saved {
                Ok(()) => unsynced.refresh(),
                Err(e) => set_error.set(Some(format!("检查场所未保存：{e}"))),
            }
        });
    };

    let (places_input, places_change) = autosave(save_places);
    let started = local_time(state.get_untracked().started_at);
    let kind = state.get_untracked().kind.label_zh();
    let findings_by_item = findings.clone();
    let any_notice = notices.iter().any(|n| n.text.is_some());
    // GB 35181 composite judgement: counted as the elements are answered 不符合.
    let has_composite = !composite.is_empty();
    let composite_findings = findings.clone();
    let composite_states = Memo::new(move |_| {
        state.with(|i| zhicha_core::fire::composite_states(i, &composite, &composite_findings))
    });
    let venue_names = state.with_untracked(|i| {
        i.fire_venues
            .iter()
            .map(|v| v.label_zh())
            .collect::<Vec<_>>()
            .join("、")
    });
    view! {
        <header class="runner__head">
            <h1 class="page__title" data-testid="runner-enterprise">{enterprise.name.clone()}</h1>
            <p class="inspection__meta">{kind} " · " {started} "开始"</p>
        </header>
        <RunnerBar progress entries place error />
        <details class="card basis-notes" data-testid="basis-notes" open=any_notice>
            <summary>"判定依据版本"</summary>
            <ul class="list">
                {notices.into_iter().map(|n| view! {
                    <li>
                        <strong>{n.pack}</strong>"：" {n.edition}
                        {n.text.map(|t| view! { <p class="warn" data-testid="basis-notice">{t}</p> })}
                    </li>
                }).collect_view()}
            </ul>
        </details>
        {has_composite.then(|| view! {
            <section class="card composite" data-testid="composite">
                <h2 class="card__title">"消防综合判定要素计数"</h2>
                <p class="muted">{if venue_names.is_empty() { "未选择场所类别：综合判定无法计数。".to_owned() } else { format!("场所类别：{venue_names}") }}</p>
                <ul class="list">
                    {move || composite_states.get().into_iter().map(|c| {
                        let rule = c.hit.rule_id.clone();
                        let proposes = c.proposes();
                        view! {
                            <li class="composite__rule" class:composite__rule--reached=c.hit.reached>
                                <p data-testid="composite-count">{format!("{}：已发现 {} 项，阈值 {} 项", c.hit.description, c.hit.count, c.hit.threshold)}</p>
                                {c.recorded.then(|| view! { <p class="muted">"已记录重大火灾隐患。"</p> })}
                                {(proposes && !finished).then(|| view! {
                                    <div class="card card--warn" data-testid="composite-proposal">
                                        <p>"已达到综合判定阈值，建议记录一条重大火灾隐患（结论须经集体讨论，不少于3人）。计入的要素："</p>
                                        <ul>{c.elements.iter().map(|(clause, statement)| view! { <li>{format!("{clause} {statement}")}</li> }).collect_view()}</ul>
                                        <a class="button" data-testid="composite-record" href=Page::NewFinding(id, Some(rule.clone())).path()>"记录重大火灾隐患"</a>
                                    </div>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })}
        {finished.then(|| view! {
            <p class="card">"本次检查已结束，结果不可再改。"
                <a class="button button--secondary" href=Page::Documents(id).path()>"查看执法文书"</a></p>
        })}
        <label class="field">
            <span class="field__label">"检查场所"</span>
            <input class="field__input" data-testid="runner-places" disabled=finished
                prop:value=move || state.with(|i| i.places.clone())
                placeholder="例如：主井、1201 综采工作面、变电所"
                on:input=places_input on:change=places_change />
        </label>
        <section class="findings-summary card">
            <h2 class="card__title">{format!("本次发现隐患 {} 项", findings.len())}</h2>
            <ul class="list">
                {findings.iter().map(|f| {
                    let badge = if f.level == Level::Major { "badge badge--major" } else { "badge" };
                    view! {
                        <li>
                            <a class="list__item list__link" href=Page::Finding(f.id).path() data-testid="finding-link">
                                <span class=badge>{f.level.label_zh()}</span>
                                <span>{if f.description.is_empty() { "（未填写描述）".to_owned() } else { f.description.clone() }}</span>
                                <span class="inspection__meta">{format!("{} · 照片 {} 张 · {}", f.measure.label_zh(), f.photos.len(), f.status.label_zh())}</span>
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {(!finished).then(|| view! {
                <a class="button button--secondary button--wide" href=Page::NewFinding(id, None).path()>"记录其他隐患（不对应检查项）"</a>
            })}
        </section>
        <crate::pages::cases::InspectionCases id=id />
        <div class="runner__groups">
            {
                let cx = GroupContext {
                    state, place, finished, id,
                    findings: &findings_by_item,
                    answer,
                    confirming,
                    mark_group_na,
                };
                groups.into_iter().zip(group_progress)
                    .map(|(group, progress)| group_section(group, progress, &cx))
                    .collect_view()
            }
        </div>
        {(!finished).then(|| view! {
            <a class="button button--wide runner__finish" href=Page::Finish(id).path() data-testid="to-finish">"结束检查：签字并出具文书"</a>
        })}
    }
    .into_any()
}
