//! 举报受理 (online): the reports sent to the leader's bureau from the public page, with their
//! photos and time limits; 受理, 不予受理 with the reason, and the answer the reporter reads.

use leptos::prelude::*;
use zhicha_core::complaint::{LIMITS_UNCHECKED, Report, ReportDecision, ReportState};

use super::ledger::server_error;
use super::{LeaderNav, date, leader_session};
use crate::pages::Page;
use crate::sync::leader::ObjectUrl;
use crate::sync::reports as api;

#[component]
fn ReportPhoto(id: uuid::Uuid, n: u32) -> impl IntoView {
    let url = LocalResource::new(move || async move {
        let session = leader_session().await.ok()?;
        let blob = api::photo(&session.token, id, n).await.ok()?;
        ObjectUrl::new(&blob).map(std::rc::Rc::new)
    });
    let src = move || {
        url.get()
            .flatten()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_default()
    };
    view! { <img class="photo-thumb" alt=format!("举报照片 {}", n + 1) src=src /> }
}

#[component]
fn ReportCard(report: Report, changed: Callback<()>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let id = report.id;
    let act = move |decision: ReportDecision| {
        set_busy.set(true);
        set_error.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                let session = leader_session().await?;
                api::decide(&session.token, id, &decision)
                    .await
                    .map_err(server_error)
            }
            .await;
            set_busy.set(false);
            match result {
                Ok(_) => changed.run(()),
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    let state = report.status.state;
    let due = match state {
        ReportState::Received => Some(format!("受理期限：{}", date(report.status.accept_due))),
        ReportState::Accepted => report
            .status
            .answer_due
            .map(|d| format!("答复期限：{}", date(d))),
        _ => None,
    };
    view! {
        <article class="card report" data-testid="report" data-code=report.status.code.clone()>
            <h2 class="card__title">
                <span class="badge" class:badge--error=report.overdue data-testid="report-state">{state.label_zh()}</span>
                " " {report.place.clone()}
            </h2>
            <p>{report.text.clone()}</p>
            <p class="muted">{format!("收到：{}　查询码：", zhicha_core::time::minute(report.status.received_at))}
                <span data-latin-ok="">{report.status.code.clone()}</span>
                {format!("　联系方式：{}", if report.contact.is_empty() { "（匿名）".to_owned() } else { report.contact.clone() })}</p>
            {due.map(|d| view! { <p class:error=report.overdue>{d}{report.overdue.then_some("（已超期）")}</p> })}
            <div class="photo-strip">
                {(0..report.photos).map(|n| view! { <ReportPhoto id=id n=n /> }).collect_view()}
            </div>
            {(!report.status.answer.is_empty()).then(|| view! { <p>"答复：" {report.status.answer.clone()}</p> })}
            {matches!(state, ReportState::Received | ReportState::Accepted).then(|| view! {
                <label class="field"><span class="field__label">
                    {if state == ReportState::Received { "不予受理的理由（举报人可见）" } else { "答复内容（举报人可见）" }}</span>
                    <textarea class="field__input" rows="3" data-testid="report-reply" prop:value=text
                        on:input=move |ev| text.set(event_target_value(&ev))></textarea></label>
            })}
            <div class="actions">
                {(state == ReportState::Received).then(|| view! {
                    <button class="button" type="button" data-testid="report-accept" disabled=busy
                        on:click=move |_| act(ReportDecision::Accept)>"受理"</button>
                    <button class="button button--secondary" type="button" data-testid="report-decline" disabled=busy
                        on:click=move |_| act(ReportDecision::Decline { reason: text.get_untracked() })>"不予受理"</button>
                })}
                {(state == ReportState::Accepted).then(|| view! {
                    <button class="button" type="button" data-testid="report-reply-send" disabled=busy
                        on:click=move |_| act(ReportDecision::Answer { answer: text.get_untracked() })>"答复举报人"</button>
                })}
            </div>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </article>
    }
}

#[component]
pub fn ReportsPage() -> impl IntoView {
    let reports = LocalResource::new(|| async {
        let session = leader_session().await?;
        api::list(&session.token).await.map_err(server_error)
    });
    view! {
        <section class="page page--leader page--reports">
            <h1 class="page__title">"举报受理"</h1>
            <LeaderNav current=Some(Page::Reports) />
            <p class="muted">{format!("举报人在公开的举报页面提交，无需登录；受理后须在期限内答复。{LIMITS_UNCHECKED}。")}
                " " <a href=Page::Report.path()>"打开举报页面"</a></p>
            <Suspense fallback=|| view! { <p class="muted">"正在读取…"</p> }>
                {move || reports.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(list) if list.reports.is_empty() => view! { <p class="muted">"暂无举报。"</p> }.into_any(),
                    Ok(list) => view! {
                        <div data-testid="report-list">
                            {list.reports.into_iter().map(|r| view! {
                                <ReportCard report=r changed=Callback::new(move |_| reports.refetch()) />
                            }).collect_view()}
                        </div>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
    .into_any()
}
