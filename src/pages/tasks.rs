//! 我的任务: the tasks of plans' draws assigned to this phone's team, kept for offline days.

use leptos::prelude::*;
use zhicha_core::ids::TaskId;

#[component]
pub fn TasksPage() -> impl IntoView {
    view! { <main class="page"><h1>"我的任务"</h1></main> }
}

#[component]
pub fn StartTaskPage(id: Option<TaskId>) -> impl IntoView {
    let _ = id;
    view! { <main class="page"><h1>"按任务开始检查"</h1></main> }
}
