//! Leader screens: review queue, one finding, rectification board, ledger, statistics, dossier.

use leptos::prelude::*;

#[component]
pub fn ReviewPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"待审核隐患"</h1></section> }
}

#[component]
pub fn LeaderFindingPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"隐患详情"</h1></section> }
}

#[component]
pub fn RectificationPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"整改跟踪"</h1></section> }
}

#[component]
pub fn LedgerPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"隐患台账"</h1></section> }
}

#[component]
pub fn StatsPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"统计分析"</h1></section> }
}

#[component]
pub fn DossierPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"企业档案"</h1></section> }
}
