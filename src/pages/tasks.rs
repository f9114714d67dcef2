//! 我的任务: the tasks of plans' draws for this phone's team, kept from the last bootstrap for
//! offline days — the signed-in officer's own first, each with its enterprise, 重点 or 随机, due
//! day, officers and campaign; and starting the inspection of one (the start screen, filled from
//! the task).

use chrono::{NaiveDate, Utc};
use leptos::prelude::*;
use zhicha_core::ids::{TaskId, UserId};
use zhicha_core::model::{Enterprise, Inspection, User};
use zhicha_core::plan::Task;

use super::Page;
use super::inspect::{StartFrom, StartPage};
use crate::state;
use crate::storage::{PlanData, TaskProgress};

/// One card of the list.
#[derive(Clone)]
struct TaskRow {
    task: Task,
    enterprise: Option<Enterprise>,
    officers: Vec<String>,
    mine: bool,
    progress: TaskProgress,
}

/// The tasks as the list shows them: open ones before those started or done, the signed-in
/// officer's own first, then by due day.
fn rows(
    plans: &PlanData,
    me: Option<UserId>,
    roster: &[User],
    directory: &[Enterprise],
    inspections: &[Inspection],
) -> Vec<TaskRow> {
    let mut rows: Vec<TaskRow> = plans
        .tasks
        .iter()
        .map(|task| TaskRow {
            enterprise: directory
                .iter()
                .find(|e| e.id == task.enterprise_id)
                .cloned(),
            officers: task
                .officers
                .iter()
                .map(|id| {
                    roster
                        .iter()
                        .find(|u| u.id == *id)
                        .map_or_else(|| "（名单外人员）".to_owned(), |u| u.display_name.clone())
                })
                .collect(),
            mine: me.is_some_and(|me| task.officers.contains(&me)),
            progress: PlanData::progress(task, inspections),
            task: task.clone(),
        })
        .collect();
    rows.sort_by_key(|r| (!r.progress.is_open(), !r.mine, r.task.due));
    rows
}

#[derive(Clone)]
struct TasksData {
    rows: Vec<TaskRow>,
    today: NaiveDate,
}

async fn load() -> Result<TasksData, String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    let me = db
        .session()
        .await
        .map_err(|e| e.to_string())?
        .map(|s| s.user.id);
    let plans = db.plan_data().await.map_err(|e| e.to_string())?;
    let roster = db.roster().await.map_err(|e| e.to_string())?;
    let mut directory = Vec::new();
    for task in &plans.tasks {
        if let Some(e) = db
            .enterprise(&task.enterprise_id.to_string())
            .await
            .map_err(|e| e.to_string())?
        {
            directory.push(e);
        }
    }
    let inspections = db.inspections().await.map_err(|e| e.to_string())?;
    Ok(TasksData {
        rows: rows(&plans, me, &roster, &directory, &inspections),
        today: zhicha_core::time::china_date(Utc::now()),
    })
}

fn progress_class(progress: TaskProgress) -> &'static str {
    match progress {
        TaskProgress::Open => "badge",
        TaskProgress::Started(_) => "badge badge--pending",
        TaskProgress::Finished(_) | TaskProgress::Done(_) => "badge badge--ok",
    }
}

#[component]
fn TaskCard(row: TaskRow, today: NaiveDate) -> impl IntoView {
    let TaskRow {
        task,
        enterprise,
        officers,
        mine,
        progress,
    } = row;
    let name = enterprise.as_ref().map_or_else(
        || "（本机没有该单位资料，请联网同步）".to_owned(),
        |e| e.name.clone(),
    );
    let region = enterprise
        .as_ref()
        .map(|e| format!("{}{}", e.county, e.township))
        .unwrap_or_default();
    let overdue = task.is_overdue(today) && progress.is_open();
    let action = match progress {
        TaskProgress::Open => Some((Page::StartTask(task.id).path(), "开始检查", "task-start")),
        TaskProgress::Started(id) => {
            Some((Page::Inspection(id).path(), "继续检查", "task-continue"))
        }
        TaskProgress::Finished(id) | TaskProgress::Done(Some(id)) => {
            Some((Page::Documents(id).path(), "查看文书", "task-documents"))
        }
        TaskProgress::Done(None) => None,
    };
    view! {
        <li class="list__item task" data-testid="task" data-task=task.id.to_string()>
            <p class="task__head">
                <span class="inspection__enterprise" data-testid="task-enterprise">{name}</span>
                <span class=if task.key { "badge badge--key" } else { "badge" }>
                    {if task.key { "重点" } else { "随机" }}
                </span>
                {mine.then(|| view! { <span class="badge badge--mine">"本人"</span> })}
                <span class=progress_class(progress) data-testid="task-progress">{progress.label_zh()}</span>
            </p>
            {(!region.is_empty()).then(|| view! { <p class="inspection__meta">{region}</p> })}
            <p class="inspection__meta" data-testid="task-due">
                {format!("截止：{}", task.due.format("%Y-%m-%d"))}
                {overdue.then(|| view! { " " <span class="badge badge--error">"逾期"</span> })}
            </p>
            <p class="inspection__meta" data-testid="task-officers">{if officers.is_empty() {
                "执法人员：未抽到（回避或上次检查人员除外后人数不足），请队长另行指派".to_owned()
            } else {
                format!("执法人员：{}", officers.join("、"))
            }}</p>
            {(!task.campaign.is_empty()).then(|| view! {
                <p class="inspection__meta">{format!("专项行动：{}", task.campaign)}</p>
            })}
            {action.map(|(href, label, testid)| view! {
                <a class="button button--small" href=href data-testid=testid>{label}</a>
            })}
        </li>
    }
}

#[component]
pub fn TasksPage() -> impl IntoView {
    let data = LocalResource::new(load);
    view! {
        <section class="page page--tasks">
            <h1 class="page__title">"我的任务"</h1>
            <Suspense fallback=|| view! { <p class="muted">"正在读取…"</p> }>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(data) if data.rows.is_empty() => view! {
                        <p class="empty" data-testid="tasks-empty">
                            "暂无任务：任务由队长在年度计划中抽取后下发，联网登录或同步后显示。"
                        </p>
                    }.into_any(),
                    Ok(data) => {
                        let today = data.today;
                        view! {
                            <ul class="list tasks" data-testid="tasks">
                                {data.rows.into_iter().map(|row| view! { <TaskCard row today /> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                })}
            </Suspense>
            <p class="muted">"任务随登录下载，离线可用；按任务开始的检查在同步前即显示为已开始。"</p>
        </section>
    }
    .into_any()
}

#[component]
pub fn StartTaskPage(id: Option<TaskId>) -> impl IntoView {
    view! { <StartPage from=StartFrom::Task(id) /> }
}
