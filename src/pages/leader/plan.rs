//! One plan (online): its arithmetic, the 双随机 draw with filters and a published seed, every
//! draw kept with its publication (一公开) and its record for re-running, the tasks, and
//! coverage by region × sector × team with overdue tasks and enterprises at their cap.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use leptos::html;
use leptos::prelude::*;
use zhicha_core::ids::{DrawId, EnterpriseId, PlanId, UserId};
use zhicha_core::model::Sector;
use zhicha_core::plan::Grade;
use zhicha_core::plan::api::{Coverage, DrawFilter, DrawRecord, DrawRequest, PlanDetail};

use super::ledger::{choices, server_error, wire, wire_name};
use super::plans::{figures_view, plan_title};
use super::{LeaderNav, cst, date, leader_session};
use crate::pages::Page;
use crate::sync::leader::ObjectUrl;
use crate::sync::plans as api;

/// Names of the enterprises and officers every draw of the plan carries.
#[derive(Default)]
struct DrawNames {
    enterprises: HashMap<EnterpriseId, String>,
    officers: HashMap<UserId, String>,
}

impl DrawNames {
    fn of(draws: &[DrawRecord]) -> Self {
        let mut names = DrawNames::default();
        for d in draws {
            for e in &d.enterprises {
                names.enterprises.insert(e.id, e.name.clone());
            }
            for o in &d.officers {
                names.officers.insert(o.id, o.name.clone());
            }
        }
        names
    }

    fn enterprise(&self, id: EnterpriseId) -> String {
        self.enterprises.get(&id).cloned().unwrap_or_default()
    }

    fn team(&self, ids: &[UserId]) -> String {
        if ids.is_empty() {
            return "（人员不足，须另行指派）".to_owned();
        }
        ids.iter()
            .map(|id| self.officers.get(id).cloned().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("、")
    }
}

#[derive(Clone, Copy)]
enum DrawFile {
    Publication,
    Record,
}

fn coverage_view(c: &Coverage) -> impl IntoView + use<> {
    let rows = c.rows.clone();
    let over_cap = c.over_cap.clone();
    view! {
        <h2 class="section__title">"计划完成情况"</h2>
        <p class="coverage__totals" data-planned=c.planned data-done=c.done>
            {format!("已下发 {} 项，已完成 {} 项，逾期 {} 项", c.planned, c.done, c.overdue)}
        </p>
        <div class="table-wrap">
            <table class="grid coverage">
                <thead><tr><th>"旗县"</th><th>"行业"</th><th>"执法队"</th><th>"计划"</th><th>"完成"</th><th>"逾期"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| view! {
                        <tr class:overdue={r.overdue > 0}>
                            <td data-label="旗县">{r.county}</td>
                            <td data-label="行业">{r.sector.map(|s| s.label_zh()).unwrap_or("—")}</td>
                            <td data-label="执法队">{r.team_name}</td>
                            <td data-label="计划">{r.planned}</td>
                            <td data-label="完成">{r.done}</td>
                            <td data-label="逾期">{r.overdue}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(!over_cap.is_empty()).then(|| view! {
            <h3>"已达年度检查上限的企业"</h3>
            <ul class="over-cap">
                {over_cap.into_iter().map(|w| view! {
                    <li class="warning">{format!("{}：本年度已检查 {} 次，上限 {} 次", w.name, w.visits, w.cap)}</li>
                }).collect_view()}
            </ul>
        })}
    }
}

fn detail_view(
    detail: PlanDetail,
    on_file: impl Fn(DrawId, u32, DrawFile) + Copy + 'static,
) -> impl IntoView {
    let names = DrawNames::of(&detail.draws);
    let today = zhicha_core::time::china_date(Utc::now());
    let plan = detail.plan.clone();
    let approval = plan.approval.clone().map(|a| {
        format!(
            "审批：{} {}{}",
            a.by,
            date(a.on),
            if a.reference.is_empty() {
                String::new()
            } else {
                format!("（{}）", a.reference)
            }
        )
    });
    let tasks = detail
        .tasks
        .iter()
        .map(|t| {
            let status = if t.is_done() {
                ("已完成", "badge")
            } else if t.is_overdue(today) {
                ("逾期", "badge badge--major")
            } else {
                ("待检查", "badge badge--muted")
            };
            view! {
                <tr>
                    <td data-label="企业">{names.enterprise(t.enterprise_id)}</td>
                    <td data-label="类别">{if t.key { "重点" } else { "随机" }}</td>
                    <td data-label="执法人员">{names.team(&t.officers)}</td>
                    <td data-label="完成期限">{date(t.due)}</td>
                    <td data-label="状态"><span class=status.1>{status.0}</span></td>
                </tr>
            }
        })
        .collect_view();
    let draws = detail
        .draws
        .iter()
        .map(|d| {
            let (id, no) = (d.id, d.no);
            view! {
                <li class="card draw" data-draw=d.id.to_string()>
                    <p><strong>{format!("第 {} 次抽取", d.no)}</strong>{format!(" · {} · {}", cst(d.made_at), d.made_by)}</p>
                    <p class="muted">{format!("范围：{}；随机抽取 {} 家，共 {} 家", d.filter, d.input.count, d.result.picks.len())}</p>
                    <p class="muted draw__seed" data-latin-ok="">{format!("随机种子：{}", d.input.seed)}</p>
                    <p class="muted draw__hash" data-latin-ok="">{format!("输入摘要（SHA-256）：{}", d.input_hash)}</p>
                    {(!d.result.short_staffed.is_empty()).then(|| view! {
                        <p class="warning">{format!("{} 家企业可派执法人员不足两人（回避或上次检查）", d.result.short_staffed.len())}</p>
                    })}
                    <ol class="draw__picks">
                        {d.result.picks.iter().map(|p| view! {
                            <li>{format!("{}{} — {}", names.enterprise(p.enterprise_id), if p.key { "（重点）" } else { "" }, names.team(&p.officers))}</li>
                        }).collect_view()}
                    </ol>
                    <div class="actions">
                        <button class="button button--secondary" type="button" on:click=move |_| on_file(id, no, DrawFile::Publication)>"下载公示名单"</button>
                        <button class="button button--secondary" type="button" on:click=move |_| on_file(id, no, DrawFile::Record)>"下载抽取记录（可复核）"</button>
                    </div>
                </li>
            }
        })
        .collect_view();
    view! {
        <h1 class="page__title">{plan_title(&plan)}</h1>
        <LeaderNav current=None />
        <p><a href=Page::Plans.path()>"← 全部计划"</a></p>
        {(!plan.campaign.is_empty()).then(|| view! { <p><span class="badge">{plan.campaign.clone()}</span></p> })}
        {approval.map(|a| view! { <p class="muted">{a}</p> })}
        {figures_view(&detail.figures)}
        {coverage_view(&detail.coverage)}
        <h2 class="section__title">"抽取记录"</h2>
        <ul class="draws">{draws}</ul>
        <h2 class="section__title">"检查任务"</h2>
        <div class="table-wrap">
            <table class="grid tasks">
                <thead><tr><th>"企业"</th><th>"类别"</th><th>"执法人员"</th><th>"完成期限"</th><th>"状态"</th></tr></thead>
                <tbody>{tasks}</tbody>
            </table>
        </div>
    }
}

#[component]
pub fn PlanPage(id: Option<PlanId>) -> impl IntoView {
    let Some(id) = id else {
        return view! { <section class="page"><p class="error">"链接有误：计划编号无效。"</p></section> }.into_any();
    };
    let reload = RwSignal::new(0u32);
    let detail = LocalResource::new(move || {
        reload.track();
        async move {
            let session = leader_session().await?;
            api::plan(&session.token, id).await.map_err(server_error)
        }
    });
    let link = NodeRef::<html::A>::new();
    let last_file = StoredValue::new_local(None::<ObjectUrl>);
    let (file_error, set_file_error) = signal(None::<String>);
    let on_file = move |draw: DrawId, no: u32, kind: DrawFile| {
        leptos::task::spawn_local(async move {
            let result = async {
                let session = leader_session().await?;
                let blob = match kind {
                    DrawFile::Publication => api::publication(&session.token, draw).await,
                    DrawFile::Record => api::record_file(&session.token, draw).await,
                }
                .map_err(server_error)?;
                ObjectUrl::new(&blob).ok_or_else(|| "无法保存文件".to_owned())
            }
            .await;
            match result {
                Ok(url) => {
                    let name = match kind {
                        DrawFile::Publication => format!("双随机抽查公示-第{no}次.csv"),
                        DrawFile::Record => format!("双随机抽取记录-第{no}次.json"),
                    };
                    if let Some(a) = link.get_untracked() {
                        a.set_href(url.as_str());
                        a.set_download(&name);
                        a.click();
                    }
                    last_file.set_value(Some(url));
                }
                Err(e) => set_file_error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="page page--leader page--plan">
            <Transition fallback=|| view! { <p class="muted">"正在读取计划…"</p> }>
                {move || detail.get().map(|result| match result {
                    Err(e) => view! { <LeaderNav current=None /><p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(d) => detail_view(d, on_file).into_any(),
                })}
            </Transition>
            {move || file_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <a class="hidden" node_ref=link aria-hidden="true"></a>
            <DrawForm plan=id on_drawn=move || reload.update(|n| *n += 1) />
        </section>
    }
    .into_any()
}

/// 双随机抽取: filters, how many, the 重点 list, a published seed, the due day.
#[component]
fn DrawForm(plan: PlanId, on_drawn: impl Fn() + Copy + 'static) -> impl IntoView {
    let choices = LocalResource::new(choices);
    let filter = RwSignal::new(DrawFilter::default());
    let count = RwSignal::new("5".to_owned());
    let include_key = RwSignal::new(true);
    let seed = RwSignal::new(String::new());
    let due =
        RwSignal::new((zhicha_core::time::china_date(Utc::now()) + Duration::days(30)).to_string());
    let (busy, set_busy) = signal(false);
    let (message, set_message) = signal(None::<Result<String, String>>);
    let blank = |t: String| {
        let t = t.trim().to_owned();
        (!t.is_empty()).then_some(t)
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Ok(due_day) = due.get_untracked().parse() else {
            set_message.set(Some(Err("请填写完成期限".to_owned())));
            return;
        };
        let request = DrawRequest {
            filter: filter.get_untracked(),
            count: count.get_untracked().trim().parse().unwrap_or(0),
            include_key: include_key.get_untracked(),
            seed: seed.get_untracked().trim().to_owned(),
            due: due_day,
        };
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let session = leader_session().await?;
                api::draw(&session.token, plan, &request)
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            set_busy.set(false);
            match result {
                Ok(record) => {
                    set_message.set(Some(Ok(format!(
                        "第 {} 次抽取完成：{} 家企业，任务已下发",
                        record.no,
                        record.result.picks.len()
                    ))));
                    on_drawn();
                }
                Err(e) => set_message.set(Some(Err(e))),
            }
        });
    };
    view! {
        <form class="card draw-form" on:submit=submit>
            <h2 class="section__title">"双随机抽取"</h2>
            <p class="muted">"从企业名录中随机抽取企业、从执法人员库中随机匹配两名执法人员（已登记回避和上次检查该企业的人员除外）。同一种子和名录重新运行，结果相同。"</p>
            <div class="filters">
                {move || choices.get().map(|c| c.region_lists())}
                <label class="field field--compact">
                    <span class="field__label">"旗县"</span>
                    <input class="field__input" name="draw_county" list="region-counties" on:input=move |ev| filter.update(|f| f.county = blank(event_target_value(&ev))) />
                </label>
                <label class="field field--compact">
                    <span class="field__label">"苏木镇/街道/园区"</span>
                    <input class="field__input" name="draw_township" list="region-townships" on:input=move |ev| filter.update(|f| f.township = blank(event_target_value(&ev))) />
                </label>
                <label class="field field--compact">
                    <span class="field__label">"行业领域"</span>
                    <select class="field__input" name="draw_sector" on:change=move |ev| filter.update(|f| f.sector = wire(&event_target_value(&ev)))>
                        <option value="">"全部"</option>
                        {Sector::ALL.iter().map(|s| view! { <option value=wire_name(s)>{s.label_zh()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field field--compact">
                    <span class="field__label">"类别"</span>
                    <select class="field__input" name="draw_grade" on:change=move |ev| filter.update(|f| f.grade = wire::<Grade>(&event_target_value(&ev)))>
                        <option value="">"全部"</option>
                        {Grade::ALL.iter().map(|g| view! { <option value=g.wire_name()>{g.label_zh()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field field--compact">
                    <span class="field__label">"随机抽取企业数"</span>
                    <input class="field__input" name="draw_count" inputmode="numeric" prop:value=move || count.get() on:input=move |ev| count.set(event_target_value(&ev)) />
                </label>
                <label class="field field--compact">
                    <span class="field__label">"完成期限"</span>
                    <input class="field__input" type="date" name="draw_due" prop:value=move || due.get() on:input=move |ev| due.set(event_target_value(&ev)) />
                </label>
                <label class="field field--compact">
                    <span class="field__label">"随机种子（可留空）"</span>
                    <input class="field__input" name="draw_seed" placeholder="如：当日福彩3D开奖号码" prop:value=move || seed.get() on:input=move |ev| seed.set(event_target_value(&ev)) />
                </label>
                <label class="check">
                    <input type="checkbox" name="draw_include_key" prop:checked=move || include_key.get() on:change=move |ev| include_key.set(event_target_checked(&ev)) />
                    "同时列入范围内全部重点企业（每年必查）"
                </label>
            </div>
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="notice" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="error" role="alert">{text}</p> }.into_any(),
            })}
            <div class="actions">
                <button class="button" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "正在抽取…" } else { "抽取并下发任务" }}
                </button>
            </div>
        </form>
    }
}
