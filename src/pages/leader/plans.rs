//! 年度检查计划 (online): the bureau's plans with the 150号 arithmetic worked out as the leader
//! types, a new plan with its approval, the yearly caps per sector × class, and 回避
//! declarations. One plan's draws, tasks and coverage are on `plan::PlanPage`.

use chrono::Utc;
use leptos::prelude::*;
use zhicha_core::ids::{EnterpriseId, UserId};
use zhicha_core::model::{Enterprise, Role, Sector, User};
use zhicha_core::plan::api::{CapTable, NewPlan, PlanSummary};
use zhicha_core::plan::{
    self as rules, Approval, CapRule, Conflict, Grade, Staffing, WORKDAYS_PER_OFFICER,
};

use super::ledger::{campaign_list, choices, server_error};
use super::{LeaderNav, leader_session};
use crate::pages::Page;
use crate::sync::plans as api;

fn number(text: String) -> u32 {
    text.trim().parse().unwrap_or(0)
}

/// The arithmetic as a short table, shared with the plan page.
pub(crate) fn figures_view(f: &rules::PlanFigures) -> impl IntoView + use<> {
    let warnings = f.warnings.clone();
    view! {
        <dl class="facts plan-figures">
            <dt>"总工作日"</dt><dd data-figure="total_days">{f.total_days}</dd>
            <dt>"执法检查工作日"</dt><dd data-figure="inspection_days">{f.inspection_days}</dd>
            <dt>"可检查企业数"</dt><dd data-figure="capacity">{f.capacity}</dd>
            <dt>"重点企业"</dt><dd data-figure="key">{f.key_enterprises}</dd>
            <dt>"双随机名额"</dt><dd data-figure="random">{f.random_places}</dd>
        </dl>
        {warnings.into_iter().map(|w| view! { <p class="warning" role="status">{w}</p> }).collect_view()}
    }
}

/// The plan's title, with its year when the title does not already say it.
pub(crate) fn plan_title(plan: &rules::Plan) -> String {
    if plan.title.contains(&plan.year.to_string()) {
        plan.title.clone()
    } else {
        format!("{}（{}年度）", plan.title, plan.year)
    }
}

fn plan_card(s: PlanSummary) -> impl IntoView {
    let href = Page::Plan(s.plan.id).path();
    view! {
        <li class="card plan-card">
            <a class="plan-card__title" href=href>{plan_title(&s.plan)}</a>
            {(!s.plan.campaign.is_empty()).then(|| view! { " " <span class="badge">{s.plan.campaign.clone()}</span> })}
            <p class="muted">
                {format!(
                    "可检查企业 {} 家 · 已下发任务 {} 项 · 已完成 {} · 逾期 {}",
                    s.figures.capacity, s.tasks, s.done, s.overdue
                )}
            </p>
        </li>
    }
}

#[component]
pub fn PlansPage() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let plans = LocalResource::new(move || {
        reload.track();
        async move {
            let session = leader_session().await?;
            api::plans(&session.token).await.map_err(server_error)
        }
    });
    view! {
        <section class="page page--leader page--plans">
            <h1 class="page__title">"年度检查计划"</h1>
            <LeaderNav current=Some(Page::Plans) />
            <Transition fallback=|| view! { <p class="muted">"正在读取计划…"</p> }>
                {move || plans.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(list) if list.plans.is_empty() => view! {
                        <p class="muted">"尚无年度计划。在下方按执法力量测算并新建。"</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="plan-list">{list.plans.into_iter().map(plan_card).collect_view()}</ul>
                    }.into_any(),
                })}
            </Transition>
            <NewPlanForm on_saved=move || reload.update(|n| *n += 1) />
            <CapsEditor />
            <Conflicts />
        </section>
    }
}

/// 新建年度计划: staffing → the arithmetic live, approval, campaign.
#[component]
fn NewPlanForm(on_saved: impl Fn() + Copy + 'static) -> impl IntoView {
    let today = zhicha_core::time::china_date(Utc::now());
    let year = RwSignal::new(today.format("%Y").to_string());
    let title = RwSignal::new(String::new());
    let campaign = RwSignal::new(String::new());
    let officers = RwSignal::new(String::new());
    let workdays = RwSignal::new(WORKDAYS_PER_OFFICER.to_string());
    let other = RwSignal::new("0".to_owned());
    let non = RwSignal::new("0".to_owned());
    let per = RwSignal::new("2".to_owned());
    let min_random = RwSignal::new("70".to_owned());
    let approver = RwSignal::new(String::new());
    let approved_on = RwSignal::new(today.to_string());
    let reference = RwSignal::new(String::new());
    let (message, set_message) = signal(None::<Result<String, String>>);
    // 重点 entries of the directory this device holds, for the arithmetic before saving.
    let key_count = LocalResource::new(|| async {
        choices()
            .await
            .enterprises
            .iter()
            .filter(|e| e.key && e.merged_into.is_none())
            .count() as u32
    });
    let staffing = move || Staffing {
        officers: number(officers.get()),
        workdays_per_officer: number(workdays.get()),
        other_enforcement_days: number(other.get()),
        non_enforcement_days: number(non.get()),
        days_per_inspection: number(per.get()),
    };
    let field = |label: &'static str,
                 name: &'static str,
                 value: RwSignal<String>,
                 kind: &'static str| {
        view! {
            <label class="field field--compact">
                <span class="field__label">{label}</span>
                <input class="field__input" name=name type=kind inputmode=(kind == "number").then_some("numeric")
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
            </label>
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let approval = (!approver.get_untracked().trim().is_empty()).then(|| Approval {
            by: approver.get_untracked().trim().to_owned(),
            on: approved_on.get_untracked().parse().unwrap_or(today),
            reference: reference.get_untracked().trim().to_owned(),
        });
        let plan = NewPlan {
            year: year.get_untracked().trim().parse().unwrap_or(0),
            title: title.get_untracked().trim().to_owned(),
            campaign: campaign.get_untracked().trim().to_owned(),
            staffing: staffing(),
            min_random_pct: number(min_random.get_untracked()),
            approval,
        };
        leptos::task::spawn_local(async move {
            let result = async {
                let session = leader_session().await?;
                api::create_plan(&session.token, &plan)
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            match result {
                Ok(plan) => {
                    set_message.set(Some(Ok(format!("已新建：{}", plan.title))));
                    title.set(String::new());
                    on_saved();
                }
                Err(e) => set_message.set(Some(Err(e))),
            }
        });
    };
    view! {
        <form class="card plan-form" on:submit=submit>
            <h2 class="section__title">"新建年度计划"</h2>
            <div class="filters">
                {field("年度", "year", year, "number")}
                {field("计划名称", "title", title, "text")}
                <label class="field field--compact">
                    <span class="field__label">"专项行动"</span>
                    <input class="field__input" name="campaign" list="campaigns"
                        prop:value=move || campaign.get() on:input=move |ev| campaign.set(event_target_value(&ev)) />
                    {campaign_list()}
                </label>
            </div>
            <h3>"执法力量测算（安监总政法〔2017〕150号）"</h3>
            <div class="filters">
                {field("执法人员数", "officers", officers, "number")}
                {field("每人年工作日", "workdays", workdays, "number")}
                {field("其他执法工作日", "other_days", other, "number")}
                {field("非执法工作日", "non_enforcement_days", non, "number")}
                {field("每家企业检查所需工作日", "days_per_inspection", per, "number")}
                {field("双随机占比不低于（%）", "min_random_pct", min_random, "number")}
            </div>
            {move || {
                let key = key_count.get().unwrap_or(0);
                figures_view(&rules::figures(&staffing(), key, number(min_random.get())))
            }}
            <h3>"计划审批"</h3>
            <div class="filters">
                {field("审批人", "approver", approver, "text")}
                {field("审批日期", "approved_on", approved_on, "date")}
                {field("审批文号", "approval_reference", reference, "text")}
            </div>
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="notice" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="error" role="alert">{text}</p> }.into_any(),
            })}
            <div class="actions"><button class="button" type="submit">"新建计划"</button></div>
        </form>
    }
}

/// The yearly caps per sector × class in force for the bureau, edited in place.
#[component]
fn CapsEditor() -> impl IntoView {
    let table = RwSignal::new(None::<CapTable>);
    let (message, set_message) = signal(None::<Result<String, String>>);
    leptos::task::spawn_local(async move {
        let result = async {
            let session = leader_session().await?;
            api::caps(&session.token).await.map_err(server_error)
        }
        .await;
        match result {
            Ok(t) => table.set(Some(t)),
            Err(e) => set_message.set(Some(Err(e))),
        }
    });
    let set_rule = move |sector: Sector, grade: Grade, value: String| {
        table.update(|t| {
            let Some(t) = t else { return };
            let value = value.trim().parse::<u32>().ok();
            t.rules
                .retain(|r| !(r.sector == sector && r.grade == grade));
            if let Some(per_year) = value {
                t.rules.push(CapRule {
                    sector,
                    grade,
                    per_year,
                });
            }
        });
    };
    let save = move |_| {
        let Some(t) = table.get_untracked() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let result = async {
                let session = leader_session().await?;
                api::save_caps(&session.token, &t)
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            match result {
                Ok(saved) => {
                    table.set(Some(saved));
                    set_message.set(Some(Ok("年度检查频次上限已保存".to_owned())));
                }
                Err(e) => set_message.set(Some(Err(e))),
            }
        });
    };
    view! {
        <section class="card caps">
            <h2 class="section__title">"年度检查频次上限（每家企业，按行业与类别）"</h2>
            <p class="muted">"默认值取自已公布的省级标准（国办发〔2024〕54号要求各省公布），请按本省标准修改；空白表示不设上限。"</p>
            {move || table.get().map(|t| view! {
                <p class="muted">{if t.edited { "当前为本局修改后的上限。" } else { "当前为默认上限，尚未修改。" }}</p>
                <div class="table-wrap">
                    <table class="grid caps__table">
                        <thead><tr><th>"行业"</th>{Grade::ALL.iter().map(|g| view! { <th>{g.label_zh()}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {Sector::ALL.iter().map(|&sector| view! {
                                <tr>
                                    <th scope="row">{sector.label_zh()}</th>
                                    {Grade::ALL.iter().map(|&grade| {
                                        let value = t.rules.iter().find(|r| r.sector == sector && r.grade == grade).map(|r| r.per_year.to_string()).unwrap_or_default();
                                        view! {
                                            <td data-label=grade.label_zh()>
                                                <input class="field__input caps__input" inputmode="numeric" size="3"
                                                    aria-label=format!("{} {}", sector.label_zh(), grade.label_zh())
                                                    value=value on:change=move |ev| set_rule(sector, grade, event_target_value(&ev)) />
                                            </td>
                                        }
                                    }).collect_view()}
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <div class="actions"><button class="button" type="button" on:click=save>"保存上限"</button></div>
            })}
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="notice" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="error" role="alert">{text}</p> }.into_any(),
            })}
        </section>
    }
}

/// 回避 declarations: an officer who may not be drawn for an enterprise.
#[component]
fn Conflicts() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let choices = LocalResource::new(choices);
    let list = LocalResource::new(move || {
        reload.track();
        async move {
            let session = leader_session().await?;
            api::conflicts(&session.token).await.map_err(server_error)
        }
    });
    let user = RwSignal::new(String::new());
    let enterprise = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let (message, set_message) = signal(None::<Result<String, String>>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Ok(u), Ok(e)) = (
            uuid::Uuid::parse_str(&user.get_untracked()),
            uuid::Uuid::parse_str(&enterprise.get_untracked()),
        ) else {
            set_message.set(Some(Err("请选择执法人员和企业".to_owned())));
            return;
        };
        let conflict = Conflict {
            user_id: UserId(u),
            enterprise_id: EnterpriseId(e),
            reason: reason.get_untracked().trim().to_owned(),
        };
        leptos::task::spawn_local(async move {
            let result = async {
                let session = leader_session().await?;
                api::declare_conflict(&session.token, &conflict)
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            match result {
                Ok(_) => {
                    set_message.set(Some(Ok("已登记回避".to_owned())));
                    reason.set(String::new());
                    reload.update(|n| *n += 1);
                }
                Err(e) => set_message.set(Some(Err(e))),
            }
        });
    };
    let name_of_user = move |id: UserId, users: &[User]| {
        users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.display_name.clone())
            .unwrap_or_else(|| "（不在本机名册）".to_owned())
    };
    let name_of_enterprise = move |id: EnterpriseId, list: &[Enterprise]| {
        list.iter()
            .find(|e| e.id == id)
            .map(|e| e.name.clone())
            .unwrap_or_else(|| "（不在本机名录）".to_owned())
    };
    view! {
        <section class="card conflicts">
            <h2 class="section__title">"回避登记"</h2>
            <p class="muted">"登记后，双随机抽取不会将该执法人员派往该企业。"</p>
            {move || {
                let c = choices.get().unwrap_or_default();
                let rows = list.get().map(|r| r.map(|l| l.conflicts));
                view! {
                    {match rows {
                        Some(Ok(rows)) if !rows.is_empty() => view! {
                            <ul class="conflicts__list">
                                {rows.into_iter().map(|x| view! {
                                    <li>{format!("{} — {}：{}", name_of_user(x.user_id, &c.users), name_of_enterprise(x.enterprise_id, &c.enterprises), x.reason)}</li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Some(Err(e)) => view! { <p class="error">{e}</p> }.into_any(),
                        _ => view! { <p class="muted">"暂无回避登记。"</p> }.into_any(),
                    }}
                    <form class="filters" on:submit=submit>
                        <label class="field field--compact">
                            <span class="field__label">"执法人员"</span>
                            <select class="field__input" name="conflict_user" on:change=move |ev| user.set(event_target_value(&ev))>
                                <option value="">"请选择"</option>
                                {c.users.iter().filter(|u| u.role == Role::Inspector).map(|u| view! { <option value=u.id.to_string()>{u.display_name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="field field--compact">
                            <span class="field__label">"企业"</span>
                            <select class="field__input" name="conflict_enterprise" on:change=move |ev| enterprise.set(event_target_value(&ev))>
                                <option value="">"请选择"</option>
                                {c.enterprises.iter().filter(|e| e.merged_into.is_none()).map(|e| view! { <option value=e.id.to_string()>{e.name.clone()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="field field--compact">
                            <span class="field__label">"回避事由"</span>
                            <input class="field__input" name="conflict_reason" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev)) />
                        </label>
                        <div class="actions"><button class="button button--secondary" type="submit">"登记回避"</button></div>
                    </form>
                }
            }}
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="notice" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="error" role="alert">{text}</p> }.into_any(),
            })}
        </section>
    }
}
