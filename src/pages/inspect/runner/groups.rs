//! One group of the runner's list: its heading with the count, 本组全部不涉及 with its one
//! confirmation step (inline, so a gloved tap cannot skip it and tests can press it), and the
//! item cards with their three answers.

use leptos::prelude::*;
use zhicha_core::fieldwork::{self, Progress};
use zhicha_core::ids::InspectionId;
use zhicha_core::model::{Finding, Inspection, Outcome};
use zhicha_core::packs::{ChecklistItem, PENDING_CHECK_MARK};

use super::place::Place;
use super::{Group, Row};
use crate::pages::Page;

/// What a group's section needs from the runner.
pub(super) struct GroupContext<'a, A, M> {
    pub state: RwSignal<Inspection>,
    pub place: Place,
    pub finished: bool,
    pub id: InspectionId,
    pub findings: &'a [Finding],
    /// Saves one answer.
    pub answer: A,
    /// The group whose 本组全部不涉及 waits for its confirmation.
    pub confirming: RwSignal<Option<String>>,
    /// Marks the group's open items 不涉及 (confirmed).
    pub mark_group_na: M,
}

/// A group's section; answered items hide under 只看未检查 and a finished group says so.
pub(super) fn group_section<A, M>(
    group: Group,
    progress: Memo<Progress>,
    cx: &GroupContext<'_, A, M>,
) -> impl IntoView + use<A, M>
where
    A: Fn(String, Outcome) + Clone + 'static,
    M: Fn(String, Vec<ChecklistItem>) + Copy + Send + Sync + 'static,
{
    let Group {
        key, title, rows, ..
    } = group;
    let place = cx.place;
    let done = move || progress.get().is_complete();
    let na = (!cx.finished).then(|| {
        let items = rows.iter().map(|r| r.item.clone()).collect();
        not_applicable_view(
            key.clone(),
            items,
            progress,
            cx.confirming,
            cx.mark_group_na,
        )
    });
    view! {
        <section class="group" class:group--done=done data-group=key.clone() data-testid="group">
            <div class="group__head">
                <h2 class="group__title">{title}</h2>
                <span class="group__count" data-testid="group-count">
                    {move || {
                        let p = progress.get();
                        if p.is_complete() { format!("✓ {}/{}", p.answered, p.total) } else { format!("{}/{}", p.answered, p.total) }
                    }}
                </span>
            </div>
            {move || (done() && place.only_unanswered.get()).then(|| view! {
                <p class="muted group__all-done" data-testid="group-done">"已全部检查"</p>
            })}
            {na}
            <ol class="items">
                {rows.into_iter().map(|row| item_view(row, &key, cx)).collect_view()}
            </ol>
        </section>
    }
}

/// 本组全部不涉及, then its confirmation in place of the button.
fn not_applicable_view<M>(
    key: String,
    items: Vec<ChecklistItem>,
    progress: Memo<Progress>,
    confirming: RwSignal<Option<String>>,
    mark_group_na: M,
) -> impl IntoView
where
    M: Fn(String, Vec<ChecklistItem>) + Copy + Send + Sync + 'static,
{
    let asking = {
        let key = key.clone();
        move || confirming.with(|c| c.as_deref() == Some(key.as_str()))
    };
    let ask = {
        let key = key.clone();
        let asking = asking.clone();
        move || {
            // A group with nothing left open has nothing to mark.
            (!asking() && !progress.get().is_complete()).then(|| {
                let key = key.clone();
                view! {
                    <button type="button" class="button button--secondary button--small"
                        data-testid="group-na"
                        on:click=move |_| confirming.set(Some(key.clone()))>"本组全部不涉及"</button>
                }
            })
        }
    };
    let confirm = move || {
        asking().then(|| {
            let key = key.clone();
            let items = items.clone();
            view! {
                <div class="card card--warn group__confirm" data-testid="group-na-confirm" role="alertdialog">
                    <p>{format!("将本组 {} 个未检查项标为“不涉及”？已检查的项保持不变。", progress.get_untracked().open())}</p>
                    <div class="actions">
                        <button type="button" class="button button--small" data-testid="group-na-yes"
                            on:click=move |_| mark_group_na(key.clone(), items.clone())>"确认，全部不涉及"</button>
                        <button type="button" class="button button--secondary button--small" data-testid="group-na-no"
                            on:click=move |_| confirming.set(None)>"取消"</button>
                    </div>
                </div>
            }
        })
    };
    view! { <div class="group__na">{ask}{confirm}</div> }
}

/// One item's card: the question, its clause and hint, the three answers and its findings.
/// Hidden once answered while 只看未检查 is on.
fn item_view<A, M>(
    row: Row,
    group_key: &str,
    cx: &GroupContext<'_, A, M>,
) -> impl IntoView + use<A, M>
where
    A: Fn(String, Outcome) + Clone + 'static,
    M: Fn(String, Vec<ChecklistItem>) + Copy + Send + Sync + 'static,
{
    let GroupContext {
        state,
        place,
        finished,
        id,
        ..
    } = *cx;
    let item = row.item;
    let item_id = item.id.clone();
    let linked: Vec<Finding> = cx
        .findings
        .iter()
        .filter(|f| f.item_id.as_deref() == Some(item_id.as_str()))
        .cloned()
        .collect();
    let outcome = {
        let item_id = item_id.clone();
        Memo::new(move |_| state.with(|i| fieldwork::outcome_of(i, &item_id)))
    };
    let button = {
        let answer = cx.answer.clone();
        let item_id = item_id.clone();
        let group_key = group_key.to_owned();
        move |o: Outcome, testid: &'static str| {
            let answer = answer.clone();
            let item_id = item_id.clone();
            let group_key = group_key.clone();
            view! {
                <button type="button" class="segmented__option" data-testid=testid disabled=finished
                    class:segmented__option--bad=o == Outcome::NonCompliant
                    aria-pressed=move || (outcome.get() == Some(o)).to_string()
                    on:click=move |_| {
                        place.worked_in(&group_key);
                        answer(item_id.clone(), o);
                    }>{o.label_zh()}</button>
            }
        }
    };
    let clause = item
        .clause
        .clone()
        .map(|c| c.trim_end_matches('?').to_owned());
    let pending = row.pending;
    let add_for = item_id.clone();
    view! {
        <li class="item card" data-item=item_id.clone() data-testid="item"
            prop:hidden=move || place.only_unanswered.get() && outcome.get().is_some()>
            <p class="item__prompt">{item.prompt.clone()}</p>
            <p class="item__meta">
                {item.major.then(|| view! { <span class="badge badge--major">"重大隐患判定项"</span> })}
                {clause.map(|c| view! { <span class="item__clause">{c}</span> })}
                {pending.then(|| view! { <span class="badge badge--pending">{PENDING_CHECK_MARK}</span> })}
            </p>
            {(!item.evidence_hint.is_empty()).then(|| view! {
                <p class="item__hint">"取证：" {item.evidence_hint.clone()}</p>
            })}
            <div class="segmented" role="group" aria-label="检查结果">
                {button(Outcome::Compliant, "answer-ok")}
                {button(Outcome::NonCompliant, "answer-bad")}
                {button(Outcome::NotApplicable, "answer-na")}
            </div>
            {linked.into_iter().map(|f| view! {
                <a class="item__finding" href=Page::Finding(f.id).path()>
                    {format!("隐患：{}（{}）", f.description, f.level.label_zh())}
                </a>
            }).collect_view()}
            {move || (outcome.get() == Some(Outcome::NonCompliant) && !finished).then(|| view! {
                <a class="item__add" href=Page::NewFinding(id, Some(add_for.clone())).path()>"+ 就此项再记一条隐患"</a>
            })}
        </li>
    }
}
