//! Leader: annual plans (150号 arithmetic), 双随机 draws, coverage, caps and 回避.

use leptos::prelude::*;
use zhicha_core::ids::PlanId;

#[component]
pub fn PlansPage() -> impl IntoView {
    view! { <main class="page"><h1>"年度检查计划"</h1></main> }
}

#[component]
pub fn PlanPage(id: Option<PlanId>) -> impl IntoView {
    let _ = id;
    view! { <main class="page"><h1>"检查计划"</h1></main> }
}
