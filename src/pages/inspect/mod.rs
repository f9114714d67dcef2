//! The inspector's day: enterprise picker, start, checklist runner, finding editor, finish, documents.

use leptos::prelude::*;

#[component]
pub fn PickEnterprisePage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"选择被检查单位"</h1></section> }
}

#[component]
pub fn StartInspectionPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"开始检查"</h1></section> }
}

#[component]
pub fn InspectionPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"检查项目"</h1></section> }
}

#[component]
pub fn FindingPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"隐患记录"</h1></section> }
}

#[component]
pub fn FinishPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"结束检查"</h1></section> }
}

#[component]
pub fn DocumentsPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"执法文书"</h1></section> }
}
