//! 本机存储: the storage guardian on a page of its own, reachable from the home screen.

use leptos::prelude::*;

use super::Page;
use crate::components::storage_guardian::StorageGuardian;

#[component]
pub fn StoragePage() -> impl IntoView {
    view! {
        <section class="page page--storage">
            <h1 class="page__title">"本机存储与同步状态"</h1>
            <StorageGuardian />
            <a class="button button--secondary" href=Page::Home.path()>"返回首页"</a>
        </section>
    }
    .into_any()
}
