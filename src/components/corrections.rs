//! A record's corrections after its documents were issued (`core::finality`), oldest first:
//! when, who, which fields, why. Shown to the inspector in the editor and to the leader.

use leptos::prelude::*;
use zhicha_core::finality;
use zhicha_core::ids::UserId;
use zhicha_core::model::Correction;

/// The list; `name` gives a user's name.
#[component]
pub fn CorrectionList(
    corrections: Vec<Correction>,
    name: impl Fn(UserId) -> String + 'static,
) -> impl IntoView {
    view! {
        <ol class="history__list" data-testid="correction-list">
            {corrections.into_iter().map(|c| view! {
                <li class="correction__entry">
                    {zhicha_core::time::minute(c.at)} " " {name(c.by)} " "
                    <strong>{format!("更正了{}", finality::labels_zh(&c.fields))}</strong>
                    {format!("，理由：{}", c.reason)}
                </li>
            }).collect_view()}
        </ol>
    }
}
