//! 同步错误: mutations the server rejected, with its message — fix and resend, or discard (asks first).

use leptos::prelude::*;
use zhicha_core::ids::MutationId;

use super::Page;
use crate::state::{self, use_unsynced};
use crate::storage::SyncErrorRecord;
use crate::sync::engine::use_sync_engine;

fn kind_label(record: &SyncErrorRecord) -> &'static str {
    use zhicha_core::protocol::MutationKind::*;
    match record.mutation.kind {
        InspectionSave => "检查记录",
        FindingSave => "隐患记录",
        FindingSubmit => "提交隐患",
        FindingReinspect => "复查结果",
        FindingConfirm => "确认隐患",
        FindingReturn => "退回隐患",
        FindingSupervise => "挂牌督办",
        FindingClose => "隐患销号",
        PhotoAttach => "照片",
        EnterpriseSave => "企业信息",
        CaseSave => "预立案",
        CaseAct => "案件办理",
    }
}

/// The form field a server error names, in the inspector's words (None: not worth showing).
fn field_label(field: &str) -> Option<&'static str> {
    let head = field.split(['.', '[']).next().unwrap_or(field);
    Some(match head {
        "inspectors" => "检查人员",
        "packs" => "检查表",
        "check_in" => "现场签到",
        "places" => "检查场所",
        "party_name" => "当事人",
        "facts" => "涉嫌违法事实",
        "officers" => "办案人员",
        "interviews" => "询问笔录",
        "finding_ids" => "隐患",
        "item_results" => "检查项",
        "description" => "隐患描述",
        "place" => "隐患部位",
        "level" => "隐患等级",
        "measure" => "处理措施",
        "deadline" => "整改期限",
        "photos" | "after_photos" => "照片",
        "legal_basis" => "判定依据",
        "supervised" => "挂牌督办",
        "name" => "名称",
        "credit_code" => "统一社会信用代码",
        "address" => "地址",
        "enterprise_signature" => "被检查单位签字",
        _ => return None,
    })
}

#[component]
pub fn SyncErrorsPage() -> impl IntoView {
    let unsynced = use_unsynced();
    let engine = use_sync_engine();
    let errors = LocalResource::new(|| async {
        state::db()
            .await
            .map_err(|e| e.to_string())?
            .sync_errors()
            .await
            .map_err(|e| e.to_string())
    });
    let (confirming, set_confirming) = signal(None::<MutationId>);
    let act = move |id: MutationId, resend: bool| {
        leptos::task::spawn_local(async move {
            if let Ok(db) = state::db().await {
                let _ = if resend {
                    db.resend_sync_error(id).await
                } else {
                    db.discard_sync_error(id).await
                };
            }
            set_confirming.set(None);
            errors.refetch();
            unsynced.refresh();
            if resend {
                engine.sync_now();
            }
        });
    };
    view! {
        <section class="page page--sync-errors">
            <h1 class="page__title">"同步错误"</h1>
            <p class="muted">"以下记录被服务器退回，仍保存在本机。修改后可重新发送，或确认放弃。"</p>
            <Suspense fallback=|| view! { <p class="muted">"正在读取…"</p> }>
                {move || errors.get().map(|result| match result {
                    Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"没有同步错误。"</p> }.into_any(),
                    Ok(list) => list.into_iter().map(|record| {
                        let id = record.mutation_id;
                        view! {
                            <article class="card sync-error">
                                <h2 class="card__title">{kind_label(&record)}</h2>
                                <p class="error">{record.error.message.clone()}</p>
                                <p class="muted">{record.error.field.as_deref().and_then(field_label).map(|f| format!("需修改：{f}"))}</p>
                                <div class="actions">
                                    <button class="button button--small" on:click=move |_| act(id, true)>"重新发送"</button>
                                    <Show
                                        when=move || confirming.get() == Some(id)
                                        fallback=move || view! {
                                            <button class="button button--small button--secondary"
                                                on:click=move |_| set_confirming.set(Some(id))>"放弃"</button>
                                        }
                                    >
                                        <span class="warn">"确认放弃？放弃后这条记录不会上传。"</span>
                                        <button class="button button--small button--danger" on:click=move |_| act(id, false)>"确认放弃"</button>
                                        <button class="button button--small button--secondary" on:click=move |_| set_confirming.set(None)>"取消"</button>
                                    </Show>
                                </div>
                            </article>
                        }
                    }).collect_view().into_any(),
                })}
            </Suspense>
            <a class="button button--secondary" href=Page::Home.path()>"返回首页"</a>
        </section>
    }
    .into_any()
}
