//! Home: where an inspector's day starts.

use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <section class="page page--home">
            <h1 class="page__title">"今日检查"</h1>
            <p class="muted">"四不两直：不发通知、不打招呼、不听汇报、不用陪同接待、直奔基层、直插现场。"</p>
        </section>
    }
}
