//! Re-inspection (复查) of open findings kept on the device.

use leptos::prelude::*;

#[component]
pub fn ReinspectionsPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"待复查隐患"</h1></section> }
}

#[component]
pub fn ReinspectPage() -> impl IntoView {
    view! { <section class="page"><h1 class="page__title">"复查"</h1></section> }
}
