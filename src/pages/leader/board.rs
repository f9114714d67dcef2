//! 整改跟踪: confirmed findings by status and deadline — overdue first and highlighted, the
//! re-inspection each one is due for, and those re-inspected and waiting for close-out (销号).

use leptos::prelude::*;
use zhicha_core::lifecycle::{days_overdue, is_overdue};
use zhicha_core::model::{Finding, FindingStatus};

use super::{LeaderNav, Names, date, leader_session, level_class};
use crate::pages::Page;
use crate::state;
use crate::sync::engine::use_sync_engine;

#[derive(Clone)]
struct Board {
    names: Names,
    rectifying: Vec<Finding>,
    verified: Vec<Finding>,
}

/// Overdue first (most days first), then by deadline, those without one last.
pub(crate) fn board_order(findings: &mut [Finding], now: chrono::DateTime<chrono::Utc>) {
    findings.sort_by_key(|f| {
        (
            std::cmp::Reverse(days_overdue(f, now)),
            f.deadline.is_none(),
            f.deadline,
        )
    });
}

async fn load() -> Result<Board, String> {
    leader_session().await?;
    let db = state::db().await.map_err(|e| e.to_string())?;
    let mut rectifying = db
        .findings_with_status(FindingStatus::Rectifying)
        .await
        .map_err(|e| e.to_string())?;
    board_order(&mut rectifying, chrono::Utc::now());
    let mut verified = db
        .findings_with_status(FindingStatus::Verified)
        .await
        .map_err(|e| e.to_string())?;
    verified.sort_by_key(|f| f.history.last().map(|h| h.at));
    Ok(Board {
        names: Names::load().await?,
        rectifying,
        verified,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Filter {
    All,
    Overdue,
    Supervised,
}

fn rows(names: &Names, findings: Vec<Finding>, verified: bool) -> impl IntoView {
    let now = chrono::Utc::now();
    findings
        .into_iter()
        .map(|f| {
            let overdue = is_overdue(&f, now);
            let due = match (verified, overdue, f.deadline) {
                (true, _, _) => "复查合格，待销号".to_owned(),
                (false, true, _) => format!("逾期 {} 天，应立即复查", days_overdue(&f, now)),
                (false, false, Some(d)) => format!("期限届满后复查（{}）", date(d)),
                (false, false, None) => "待复查".to_owned(),
            };
            view! {
                <tr class:overdue=overdue data-testid="board-row">
                    <td data-label="隐患">
                        <span class=level_class(&f)>{f.level.label_zh()}</span> " "
                        {f.description.clone()}
                        {f.supervised.then(|| view! { " " <span class="badge badge--major">"挂牌督办"</span> })}
                    </td>
                    <td data-label="单位">{names.enterprise(&f)}</td>
                    <td data-label="状态">{f.status.label_zh()}</td>
                    <td data-label="整改期限">{f.deadline.map(date).unwrap_or_else(|| "—".to_owned())}</td>
                    <td data-label="复查安排">{due}</td>
                    <td data-label="操作">
                        <a class="button button--small" href=Page::LeaderFinding(f.id).path()>
                            {if verified { "查看并销号" } else { "详情" }}
                        </a>
                    </td>
                </tr>
            }
        })
        .collect_view()
}

fn table(names: &Names, findings: Vec<Finding>, verified: bool) -> AnyView {
    if findings.is_empty() {
        return view! { <p class="empty">"无。"</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table class="grid">
                <thead><tr>
                    <th>"隐患"</th><th>"单位"</th><th>"状态"</th><th>"整改期限"</th><th>"复查安排"</th><th>"操作"</th>
                </tr></thead>
                <tbody>{rows(names, findings, verified)}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn RectificationPage() -> impl IntoView {
    let engine = use_sync_engine();
    let synced = engine.last_success();
    let board = LocalResource::new(move || {
        synced.track();
        load()
    });
    let (filter, set_filter) = signal(Filter::All);
    let tab = move |value: Filter, label: &'static str| {
        view! {
            <button class="tab" class:tab--active=move || filter.get() == value
                on:click=move |_| set_filter.set(value)>{label}</button>
        }
    };
    view! {
        <section class="page page--leader page--board">
            <h1 class="page__title">"整改跟踪"</h1>
            <LeaderNav current=Some(Page::Rectification) />
            <div class="tabs">
                {tab(Filter::All, "全部")}
                {tab(Filter::Overdue, "逾期")}
                {tab(Filter::Supervised, "挂牌督办")}
            </div>
            <Suspense fallback=|| view! { <p class="muted">"正在读取本机数据…"</p> }>
                {move || board.get().map(|result| match result {
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                    Ok(board) => {
                        let now = chrono::Utc::now();
                        let keep = |f: &Finding| match filter.get() {
                            Filter::All => true,
                            Filter::Overdue => is_overdue(f, now),
                            Filter::Supervised => f.supervised,
                        };
                        let overdue = board.rectifying.iter().filter(|f| is_overdue(f, now)).count();
                        let rectifying: Vec<Finding> = board.rectifying.iter().filter(|f| keep(f)).cloned().collect();
                        let verified: Vec<Finding> = board.verified.iter().filter(|f| keep(f)).cloned().collect();
                        view! {
                            <p class="summary">
                                {format!("整改中 {} 条，其中逾期 ", board.rectifying.len())}
                                <strong class="overdue-count">{overdue}</strong>
                                {format!(" 条；复查合格待销号 {} 条。", board.verified.len())}
                            </p>
                            <h2 class="section__title">"待销号（复查合格）"</h2>
                            {table(&board.names, verified, true)}
                            <h2 class="section__title">"整改中"</h2>
                            {table(&board.names, rectifying, false)}
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}
