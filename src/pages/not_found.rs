//! Shown for a path the app does not know.

use leptos::prelude::*;

use super::Page;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1 class="page__title">"页面不存在"</h1>
            <a class="button" href=Page::Home.path()>"返回首页"</a>
        </section>
    }
    .into_any()
}
