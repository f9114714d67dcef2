//! 企业档案: one enterprise's past inspections and open findings, from what this device holds
//! (the directory and the records of the user's region), so it opens offline at the gate.

use leptos::prelude::*;
use zhicha_core::ids::EnterpriseId;
use zhicha_core::lifecycle::{days_overdue, is_overdue};
use zhicha_core::model::{Enterprise, Finding, FindingStatus, Inspection, Role};

use super::{Names, cst, date, level_class};
use crate::pages::Page;
use crate::state;

#[derive(Clone)]
struct Dossier {
    enterprise: Enterprise,
    inspections: Vec<Inspection>,
    open: Vec<Finding>,
    closed: usize,
    role: Role,
    names: Names,
}

async fn load(id: Option<EnterpriseId>) -> Result<Dossier, String> {
    let id = id.ok_or_else(|| "链接有误：找不到这家单位。".to_owned())?;
    let db = state::db().await.map_err(|e| e.to_string())?;
    let session = db
        .session()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| super::NOT_SIGNED_IN.to_owned())?;
    let enterprise = db
        .enterprise(&id.to_string())
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "本机企业名录中没有这家单位。请联网同步后再试。".to_owned())?;
    let mut inspections: Vec<Inspection> = db
        .inspections()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|i| i.enterprise_id == id)
        .collect();
    inspections.sort_by_key(|i| std::cmp::Reverse(i.started_at));
    let findings = db
        .findings_of_enterprise(&id.to_string())
        .await
        .map_err(|e| e.to_string())?;
    let closed = findings
        .iter()
        .filter(|f| f.status == FindingStatus::Closed)
        .count();
    let mut open: Vec<Finding> = findings
        .into_iter()
        .filter(|f| f.status.is_open() && f.status != FindingStatus::Draft)
        .collect();
    open.sort_by_key(|f| (f.level != zhicha_core::model::Level::Major, f.deadline));
    Ok(Dossier {
        enterprise,
        inspections,
        open,
        closed,
        role: session.user.role,
        names: Names::load().await?,
    })
}

#[component]
pub fn DossierPage(id: Option<EnterpriseId>) -> impl IntoView {
    let dossier = LocalResource::new(move || load(id));
    view! {
        <section class="page page--leader page--dossier">
            <h1 class="page__title">"企业档案"</h1>
            <Suspense fallback=|| view! { <p class="muted">"正在读取本机数据…"</p> }>
                {move || dossier.get().map(|result| match result {
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                    Ok(d) => {
                        let e = d.enterprise.clone();
                        let sectors = e.sectors.iter().map(|s| s.label_zh()).collect::<Vec<_>>().join("、");
                        let now = chrono::Utc::now();
                        let leader = matches!(d.role, Role::Leader | Role::Admin);
                        // Newest first: the first is the last visit this phone knows of.
                        let last_visit = d.inspections.first().map_or_else(
                            || "本机无记录".to_owned(),
                            |i| {
                                let people = i.inspectors.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join("、");
                                format!("{} · {} · {people}", cst(i.started_at), i.kind.label_zh())
                            },
                        );
                        view! {
                            <article class="card">
                                <h2 class="card__title">{e.name.clone()}</h2>
                                <dl class="facts">
                                    <dt>"统一社会信用代码"</dt><dd>{e.credit_code.clone().unwrap_or_else(|| "—".to_owned())}</dd>
                                    <dt>"地址"</dt><dd>{e.address.clone()}</dd>
                                    <dt>"所在地区"</dt><dd>{format!("{} {}", e.county, e.township)}</dd>
                                    <dt>"行业领域"</dt><dd>{sectors}</dd>
                                    <dt>"法定代表人/负责人"</dt><dd>{e.legal_representative.clone()}</dd>
                                    <dt>"联系电话"</dt><dd>{e.contact_phone.clone()}</dd>
                                    <dt>"上次检查"</dt><dd data-testid="dossier-last-visit">{last_visit}</dd>
                                </dl>
                            </article>
                            <h2 class="section__title">{format!("未销号隐患（{} 条）", d.open.len())}</h2>
                            <p class="muted">{format!("已销号 {} 条。", d.closed)}</p>
                            {if d.open.is_empty() {
                                view! { <p class="empty">"本机没有这家单位的未销号隐患。"</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="list">
                                        {d.open.into_iter().map(|f| {
                                            let overdue = is_overdue(&f, now);
                                            let link = if leader {
                                                Some(Page::LeaderFinding(f.id).path())
                                            } else if f.status == FindingStatus::Rectifying {
                                                Some(Page::Reinspect(f.id).path())
                                            } else {
                                                None
                                            };
                                            view! {
                                                <li class="list__item" class:overdue=overdue>
                                                    <span><span class=level_class(&f)>{f.level.label_zh()}</span> " " {f.description.clone()}</span>
                                                    <span class="muted">
                                                        {f.status.label_zh()}
                                                        {f.deadline.map(|d| format!(" · 整改期限 {}", date(d)))}
                                                        {overdue.then(|| format!(" · 逾期 {} 天", days_overdue(&f, now)))}
                                                        {f.supervised.then_some(" · 挂牌督办")}
                                                    </span>
                                                    {link.map(|href| view! { <a class="button button--small" href=href>"打开"</a> })}
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                            <h2 class="section__title">{format!("检查记录（{} 次）", d.inspections.len())}</h2>
                            {if d.inspections.is_empty() {
                                view! { <p class="empty">"本机没有这家单位的检查记录。"</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="list">
                                        {d.inspections.into_iter().map(|i| {
                                            let people = i.inspectors.iter().map(|p| p.name.clone()).collect::<Vec<_>>().join("、");
                                            let people = if people.is_empty() { d.names.user(i.created_by) } else { people };
                                            view! {
                                                <li class="list__item">
                                                    <span>{cst(i.started_at)} " · " {i.kind.label_zh()}</span>
                                                    <span class="muted">
                                                        "检查人员：" {people}
                                                        {if i.finished_at.is_some() { " · 已完成" } else { " · 进行中" }}
                                                    </span>
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}
