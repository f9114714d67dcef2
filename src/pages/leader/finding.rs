//! 隐患详情 for a leader: the record, photos before and after side by side, its history, the
//! decisions its status allows (确认、退回、挂牌督办、销号) and, once re-inspected, the
//! 整改复查意见书. Corrections made after the inspection's documents were issued are listed
//! with who made them, when, which fields and why.

use leptos::prelude::*;
use zhicha_core::documents::{DocumentSource, FilledDocument, fill};
use zhicha_core::ids::FindingId;
use zhicha_core::lifecycle::{FindingAction, days_overdue, is_overdue};
use zhicha_core::model::{
    DocumentKind, Enterprise, Finding, FindingStatus, Inspection, InspectionKind, InspectorRef,
    Level,
};

use super::photo::PhotoStrip;
use super::{LeaderNav, Names, cst, date, decide, history_label, leader_session, level_class};
use crate::components::corrections::CorrectionList;
use crate::pages::Page;
use crate::state::{self, use_unsynced};
use crate::sync::engine::use_sync_engine;

#[derive(Clone)]
struct Detail {
    finding: Finding,
    names: Names,
    enterprise: Option<Enterprise>,
    inspection: Option<Inspection>,
    roster: Vec<zhicha_core::model::User>,
}

async fn load(id: Option<FindingId>) -> Result<Detail, String> {
    leader_session().await?;
    let id = id.ok_or_else(|| "链接有误：找不到这条隐患。".to_owned())?;
    let db = state::db().await.map_err(|e| e.to_string())?;
    let finding = db
        .finding(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "本机没有这条隐患。请联网同步后再试。".to_owned())?;
    let enterprise = db
        .enterprise(&finding.enterprise_id.to_string())
        .await
        .ok()
        .flatten();
    let inspection = db.inspection(finding.inspection_id).await.ok().flatten();
    Ok(Detail {
        names: Names::load().await?,
        roster: db.roster().await.unwrap_or_default(),
        finding,
        enterprise,
        inspection,
    })
}

/// The 整改复查意见书 of a re-inspected finding: the re-inspection (who, when) from the history,
/// the original order from the inspection's issued documents.
fn opinion(detail: &Detail) -> Option<FilledDocument> {
    let finding = &detail.finding;
    let enterprise = detail.enterprise.as_ref()?;
    let original = detail.inspection.as_ref()?;
    let reinspection = finding
        .history
        .iter()
        .rev()
        .find(|h| h.action.starts_with("reinspect"))?;
    let mut inspection = original.clone();
    inspection.kind = InspectionKind::Reinspection;
    inspection.started_at = reinspection.at;
    inspection.finished_at = Some(reinspection.at);
    if let Some(user) = detail.roster.iter().find(|u| u.id == reinspection.by) {
        let me = InspectorRef {
            user_id: user.id,
            name: user.display_name.clone(),
            certificate_no: user.certificate_no.clone().unwrap_or_default(),
        };
        inspection.inspectors.retain(|i| i.user_id != user.id);
        inspection.inspectors.insert(0, me);
    }
    let order = original
        .documents
        .iter()
        .find(|d| d.kind == DocumentKind::RectificationOrder)
        .map(|d| format!("{}（{}）", d.number, cst(d.issued_at)))
        .unwrap_or_else(|| format!("{} 检查时责令整改", cst(original.started_at)));
    let findings = [finding.clone()];
    Some(fill(
        DocumentKind::ReinspectionOpinion,
        &DocumentSource {
            inspection: &inspection,
            enterprise,
            findings: &findings,
            number: None,
            original_order: &order,
            // An opinion carries no rights notice and lists no packs.
            packs: &[],
            rights: &zhicha_core::documents::Rights::default(),
        },
    ))
}

fn print() {
    if let Some(window) = web_sys::window() {
        let _ = window.print();
    }
}

#[component]
pub fn LeaderFindingPage(id: Option<FindingId>) -> impl IntoView {
    let unsynced = use_unsynced();
    let engine = use_sync_engine();
    let synced = engine.last_success();
    let detail = LocalResource::new(move || {
        synced.track();
        load(id)
    });
    let (comment, set_comment) = signal(String::new());
    let (busy, set_busy) = signal(false);
    let (message, set_message) = signal(None::<Result<String, String>>);

    let act = move |finding: Finding, action: FindingAction| {
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        set_message.set(None);
        leptos::task::spawn_local(async move {
            let label = action.label_zh();
            match decide(&finding, action, &comment.get_untracked()).await {
                Ok(_) => {
                    set_comment.set(String::new());
                    set_message.set(Some(Ok(format!("已{label}，将自动同步到服务器。"))));
                    unsynced.refresh();
                    engine.sync_now();
                    detail.refetch();
                }
                Err(e) => set_message.set(Some(Err(e))),
            }
            set_busy.set(false);
        });
    };

    view! {
        <section class="page page--leader page--leader-finding">
            <h1 class="page__title">"隐患详情"</h1>
            <LeaderNav current=None />
            <Suspense fallback=|| view! { <p class="muted">"正在读取本机数据…"</p> }>
                {move || detail.get().map(|result| match result {
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                    Ok(detail) => {
                        let f = detail.finding.clone();
                        let now = chrono::Utc::now();
                        let overdue = is_overdue(&f, now);
                        let document = matches!(f.status, FindingStatus::Verified | FindingStatus::Closed)
                            .then(|| opinion(&detail)).flatten();
                        let (confirm, ret, sup, unsup, close) =
                            (f.clone(), f.clone(), f.clone(), f.clone(), f.clone());
                        let status = f.status;
                        let can_supervise = f.level == Level::Major && !f.supervised
                            && matches!(status, FindingStatus::Submitted | FindingStatus::Rectifying | FindingStatus::Verified);
                        let can_unsupervise = f.supervised
                            && matches!(status, FindingStatus::Submitted | FindingStatus::Rectifying | FindingStatus::Verified);
                        view! {
                            <article class="card finding-detail" class:finding-card--major=f.level == Level::Major>
                                <h2 class="card__title">
                                    <span class=level_class(&f)>{f.level.label_zh()}</span>
                                    " " {f.description.clone()}
                                </h2>
                                <p>
                                    <span class="badge" data-testid="finding-status">{status.label_zh()}</span>
                                    {f.supervised.then(|| view! { " " <span class="badge badge--major" data-testid="supervised">"挂牌督办"</span> })}
                                    {overdue.then(|| view! { " " <span class="badge badge--error">{format!("逾期 {} 天", days_overdue(&f, now))}</span> })}
                                </p>
                                <dl class="facts">
                                    <dt>"被检查单位"</dt><dd>{detail.names.enterprise(&f)}</dd>
                                    <dt>"检查人"</dt><dd>{detail.names.user(f.created_by)}</dd>
                                    <dt>"发现时间"</dt><dd>{cst(f.created_at)}</dd>
                                    <dt>"隐患部位"</dt><dd>{f.place.clone()}</dd>
                                    <dt>"判定依据"</dt><dd>{if f.legal_basis.is_empty() { "（未填写）".to_owned() } else { f.legal_basis.clone() }}
                                        {f.basis_unverified.then_some("（条文待核）")}</dd>
                                    <dt>"处理措施"</dt><dd>{f.measure.label_zh()}</dd>
                                    <dt>"整改期限"</dt><dd>{f.deadline.map(date).unwrap_or_else(|| "—".to_owned())}</dd>
                                </dl>
                                <div class="compare">
                                    <figure class="compare__side">
                                        <figcaption>"整改前"</figcaption>
                                        <PhotoStrip photos=f.photos.clone() empty="无现场照片" />
                                    </figure>
                                    <figure class="compare__side">
                                        <figcaption>"整改后"</figcaption>
                                        <PhotoStrip photos=f.after_photos.clone() empty="尚无整改后照片" />
                                    </figure>
                                </div>
                            </article>

                            <section class="card decisions">
                                <h2 class="card__title">"审核与督办"</h2>
                                {(status == FindingStatus::Submitted).then(|| view! {
                                    <label class="field">
                                        <span class="field__label">"意见（退回时必填）"</span>
                                        <textarea class="field__input" name="comment" rows="3"
                                            prop:value=comment on:input=move |ev| set_comment.set(event_target_value(&ev))></textarea>
                                    </label>
                                })}
                                <div class="actions">
                                    {(status == FindingStatus::Submitted).then(|| view! {
                                        <button class="button" disabled=busy
                                            on:click=move |_| act(confirm.clone(), FindingAction::Confirm)>"确认"</button>
                                        <button class="button button--secondary" disabled=busy
                                            on:click=move |_| act(ret.clone(), FindingAction::Return { comment: comment.get_untracked() })>"退回"</button>
                                    })}
                                    {can_supervise.then(|| view! {
                                        <button class="button button--danger" disabled=busy
                                            on:click=move |_| act(sup.clone(), FindingAction::Supervise { on: true })>"挂牌督办"</button>
                                    })}
                                    {can_unsupervise.then(|| view! {
                                        <button class="button button--secondary" disabled=busy
                                            on:click=move |_| act(unsup.clone(), FindingAction::Supervise { on: false })>"撤销挂牌督办"</button>
                                    })}
                                    {(status == FindingStatus::Verified).then(|| view! {
                                        <button class="button" disabled=busy
                                            on:click=move |_| act(close.clone(), FindingAction::Close)>"销号"</button>
                                    })}
                                </div>
                                {match status {
                                    FindingStatus::Rectifying => Some("整改中：等待执法人员复查。"),
                                    FindingStatus::Returned => Some("已退回：等待执法人员修改后重新提交。"),
                                    FindingStatus::Closed => Some("已销号。"),
                                    FindingStatus::Draft => Some("草稿：尚未提交审核。"),
                                    _ => None,
                                }.map(|text| view! { <p class="muted">{text}</p> })}
                                {move || message.get().map(|m| match m {
                                    Ok(text) => view! { <p class="notice" role="status">{text}</p> }.into_any(),
                                    Err(text) => view! { <p class="error" role="alert">{text}</p> }.into_any(),
                                })}
                            </section>

                            {document.map(|doc| view! {
                                <section class="card document" data-testid="reinspection-opinion">
                                    <h2 class="document__title">{doc.title.clone()}</h2>
                                    <dl class="facts">
                                        {doc.fields.into_iter().map(|field| view! {
                                            <dt>{field.label}</dt>
                                            <dd class="document__value">{field.value}</dd>
                                        }).collect_view()}
                                    </dl>
                                    <button class="button button--secondary no-print" on:click=move |_| print()>"打印"</button>
                                </section>
                            })}

                            <section class="card history">
                                <h2 class="card__title">"处理记录"</h2>
                                {if f.history.is_empty() {
                                    view! { <p class="muted">"暂无记录。"</p> }.into_any()
                                } else {
                                    view! {
                                        <ol class="history__list">
                                            {f.history.iter().map(|h| view! {
                                                <li>
                                                    {cst(h.at)} " " {detail.names.user(h.by)} " "
                                                    <strong>{history_label(&h.action).to_owned()}</strong>
                                                    " （" {h.from.label_zh()} " → " {h.to.label_zh()} "）"
                                                    {(!h.comment.is_empty()).then(|| format!("：{}", h.comment))}
                                                </li>
                                            }).collect_view()}
                                        </ol>
                                    }.into_any()
                                }}
                            </section>
                            {(!f.corrections.is_empty()).then(|| view! {
                                <section class="card corrections" data-testid="corrections">
                                    <h2 class="card__title">"更正记录（文书出具后）"</h2>
                                    {
                                        let names = detail.names.clone();
                                        view! { <CorrectionList corrections=f.corrections.clone() name=move |id| names.user(id) /> }
                                    }
                                </section>
                            })}
                            <Revisions id=f.id />
                            <a class="button button--secondary" href=Page::Dossier(f.enterprise_id).path()>"企业档案"</a>
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

/// Writes made from a phone whose clock was off: the times they carry are the phone's.
fn clock_warnings(list: &zhicha_core::revision::RevisionsResponse) -> impl IntoView + use<> {
    (!list.clock_warnings.is_empty()).then(|| {
        let lines = list
            .clock_warnings
            .iter()
            .map(|w| view! { <li>{format!("{}（服务器时间 {}）", w.text_zh(), cst(w.at))}</li> })
            .collect_view();
        view! {
            <div class="notice notice--warning" data-testid="clock-warnings">
                <p>"手机时钟偏差超过 5 分钟："</p>
                <ul>{lines}</ul>
            </div>
        }
    })
}

/// 修改记录: every kept version of the finding from the server — who, when, from which device,
/// which fields changed, and whether the write was a conflict (two devices editing from the same
/// version; both versions are kept). Read online: the device holds only the current version.
#[component]
fn Revisions(id: FindingId) -> impl IntoView {
    let revisions = LocalResource::new(move || async move {
        let session = leader_session().await?;
        crate::sync::leader::revisions(&session.token, id)
            .await
            .map_err(|e| e.to_string())
    });
    view! {
        <section class="card revisions" data-testid="revisions">
            <h2 class="card__title">"修改记录"</h2>
            <Suspense fallback=|| view! { <p class="muted">"正在读取修改记录…"</p> }>
                {move || revisions.get().map(|result| match result {
                    Err(e) => view! {
                        <p class="muted">"修改记录需联网查看：" {e}</p>
                    }.into_any(),
                    Ok(list) if list.revisions.is_empty() => view! {
                        {clock_warnings(&list)}
                        <p class="muted">"暂无修改记录。"</p>
                    }.into_any(),
                    Ok(list) => view! {
                        {clock_warnings(&list)}
                        {list.flagged.then(|| view! {
                            <p class="notice notice--warning" data-testid="conflict-notice">
                                "存在冲突修改：两台设备曾基于同一版本修改此隐患，各版本均已保留，请核对。"
                            </p>
                        })}
                        <ol class="history__list">
                            {list.revisions.into_iter().map(|r| {
                                let fields = r
                                    .changed_fields
                                    .iter()
                                    .map(|f| f.label_zh())
                                    .collect::<Vec<_>>()
                                    .join("、");
                                let device = r
                                    .device_id
                                    .map(|d| d.to_string().chars().take(8).collect::<String>())
                                    .unwrap_or_else(|| "未知设备".to_owned());
                                view! {
                                    <li class=if r.conflict { "revision revision--conflict" } else { "revision" }>
                                        "第 " {r.rev} " 版 · " {cst(r.at)} " · " {r.author.name} " · 设备 " {device}
                                        {r.conflict.then(|| view! { " " <strong class="badge badge--warning">"冲突"</strong> })}
                                        {(!fields.is_empty()).then(|| format!("：修改了{fields}"))}
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
    .into_any()
}
