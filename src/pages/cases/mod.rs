//! Cases (案件), offline: 预立案 from an inspection's findings with its 询问笔录 (`prefile`), the
//! cases on this device, and one case with its clocks, documents and next act (`case`).
//!
//! The phone keeps its own 预立案 and the cases its user may see, pulled like findings. An act
//! is a `case.act` in the outbox: the server applies it under core's rules (and gives the number
//! at 立案审批), and the case comes back with the next pull.

mod case;
mod documents;
mod prefile;

pub use case::CasePage;
pub use documents::CaseDocumentsPage;
pub use prefile::PreFilePage;

use chrono::Utc;
use leptos::prelude::*;
use zhicha_core::case::{Calendar, Case, Clock, Stage, clocks};
use zhicha_core::ids::{CaseId, EnterpriseId, InspectionId};
use zhicha_core::time::china_date;

use super::Page;
use crate::state;
use crate::storage::Db;
use crate::sync::engine::use_sync_engine;

/// An enterprise's name from the offline directory (empty when it is not there).
pub(crate) async fn enterprise_name(db: &Db, id: EnterpriseId) -> String {
    db.enterprise(&id.to_string())
        .await
        .ok()
        .flatten()
        .map(|e| e.name)
        .unwrap_or_default()
}

/// The case a link names, as stored on this device, or why it cannot be shown.
pub(crate) async fn stored_case(db: &Db, id: Option<CaseId>) -> Result<Case, String> {
    let id = id.ok_or("链接中的案件编号无效。")?;
    db.case(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "本机没有这个案件。请联网同步后再试。".to_owned())
}

/// The law's clocks running on a case today. The bureau's statutory holidays are not on the
/// device: working-day clocks leave out weekends only and say so.
pub(crate) fn running_clocks(case: &Case) -> Vec<Clock> {
    clocks(&case.state, china_date(Utc::now()), &Calendar::default())
}

/// The case's number, or where it stands without one.
pub(crate) fn number_text(case: &Case) -> String {
    match (&case.state.number, case.state.stage()) {
        (Some(number), _) => number.clone(),
        (None, Stage::PreFiled) => "预立案（待立案审批）".to_owned(),
        (None, _) => "未立案编号".to_owned(),
    }
}

fn stage_class(case: &Case) -> &'static str {
    match case.state.stage() {
        Stage::Closed => "badge badge--ok",
        Stage::Dropped => "badge",
        _ if running_clocks(case).iter().any(|c| c.overdue) => "badge badge--error",
        _ => "badge badge--warning",
    }
}

/// One line of a case in a list.
fn case_item(case: Case, enterprise: String) -> impl IntoView {
    let overdue: Vec<String> = running_clocks(&case)
        .into_iter()
        .filter(|c| c.overdue)
        .map(|c| format!("已超期：{}", c.kind.label_zh()))
        .collect();
    view! {
        <li>
            <a class="list__item list__link" href=Page::Case(case.id).path() data-testid="case-link">
                <span class=stage_class(&case) data-testid="case-stage">{case.state.stage().label_zh()}</span>
                <span>{format!("{} · {}", number_text(&case), case.party_name)}</span>
                <span class="inspection__meta">{enterprise}</span>
                {(!overdue.is_empty()).then(|| view! { <span class="error">{overdue.join("；")}</span> })}
            </a>
        </li>
    }
}

async fn load_list() -> Result<Vec<(Case, String)>, String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    let cases = db.cases().await.map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        let name = enterprise_name(&db, case.enterprise_id).await;
        out.push((case, name));
    }
    Ok(out)
}

/// 案件办理: the cases on this device, open ones first.
#[component]
pub fn CasesPage() -> impl IntoView {
    let engine = use_sync_engine();
    let synced = engine.last_success();
    let list = LocalResource::new(move || {
        synced.track();
        load_list()
    });
    view! {
        <section class="page page--cases">
            <h1 class="page__title">"案件办理"</h1>
            <p class="muted">"本机保存的案件（含本队及管辖范围内同步下来的案件）。离线可查看和办理，联网后自动同步。"</p>
            <Suspense fallback=|| view! { <p class="muted">"正在读取本机数据…"</p> }>
                {move || list.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(cases) if cases.is_empty() => view! {
                        <p class="muted">"本机暂无案件。在检查中对隐患点击“预立案”即可发起。"</p>
                    }.into_any(),
                    Ok(mut cases) => {
                        let done = |c: &Case| matches!(c.state.stage(), Stage::Closed | Stage::Dropped);
                        cases.sort_by_key(|(c, _)| done(c));
                        view! {
                            <ul class="list" data-testid="case-list">
                                {cases.into_iter().map(|(c, name)| case_item(c, name)).collect_view()}
                            </ul>
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

/// The cases of an inspection, on its checklist screen, with 预立案.
#[component]
pub fn InspectionCases(id: InspectionId) -> impl IntoView {
    let cases = LocalResource::new(move || async move {
        let db = state::db().await.map_err(|e| e.to_string())?;
        db.cases_of_inspection(id).await.map_err(|e| e.to_string())
    });
    view! {
        <section class="card inspection-cases" data-testid="inspection-cases">
            <h2 class="card__title">"立案查处"</h2>
            {move || cases.get().map(|result| match result {
                Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                Ok(list) => view! {
                    <ul class="list">
                        {list.into_iter().map(|c| case_item(c, String::new())).collect_view()}
                    </ul>
                }.into_any(),
            })}
            <a class="button button--secondary button--wide" href=Page::PreFile(id).path() data-testid="pre-file">
                "预立案（对本次检查发现的违法行为立案查处）"</a>
        </section>
    }
}
