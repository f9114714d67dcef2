//! 举报 for everyone, without login: a worker or a citizen describes a hazard, names the place,
//! adds photos, answers a simple question and receives a tracking code (查询码); with the code
//! anyone follows the report to the bureau's answer. Both need the network and say so.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;
use zhicha_core::complaint::{
    self, LIMITS_UNCHECKED, MAX_PHOTOS, NewReport, ReportState, ReportStatus, ReportUnit,
};
use zhicha_core::ids::OrgId;

use super::Page;
use crate::photo;
use crate::sync::reports as api;

/// The photo's bytes as base64, through the browser's own `btoa`.
fn base64(bytes: &[u8]) -> Result<String, String> {
    let binary: String = bytes.iter().map(|b| char::from(*b)).collect();
    web_sys::window()
        .ok_or("浏览器不可用")?
        .btoa(&binary)
        .map_err(|_| "照片编码失败".to_owned())
}

/// The chosen files, compressed as the app's own photos are, as base64 JPEGs.
async fn encode_photos(files: Vec<web_sys::File>) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let processed = photo::process(&file).await.map_err(|e| e.to_string())?;
        let bytes = photo::blob_bytes(&processed.blob)
            .await
            .map_err(|_| "照片读取失败".to_owned())?;
        out.push(base64(&bytes)?);
    }
    Ok(out)
}

#[component]
pub fn ReportPage() -> impl IntoView {
    let units = LocalResource::new(api::units);
    let question = LocalResource::new(api::challenge);
    let unit = RwSignal::new(None::<OrgId>);
    let text = RwSignal::new(String::new());
    let place = RwSignal::new(String::new());
    let contact = RwSignal::new(String::new());
    let answer = RwSignal::new(String::new());
    let files = RwSignal::new_local(Vec::<web_sys::File>::new());
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let navigate = use_navigate();

    let choose = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let mut chosen = Vec::new();
        if let Some(list) = input.files() {
            for i in 0..list.length().min(MAX_PHOTOS as u32) {
                if let Some(file) = list.get(i) {
                    chosen.push(file);
                }
            }
        }
        if input
            .files()
            .is_some_and(|l| l.length() > MAX_PHOTOS as u32)
        {
            set_error.set(Some(format!(
                "照片最多 {MAX_PHOTOS} 张，只取前 {MAX_PHOTOS} 张"
            )));
        }
        files.set(chosen);
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(Ok(challenge)) = question.get_untracked() else {
            set_error.set(Some("验证问题尚未取得，请联网后刷新页面".to_owned()));
            return;
        };
        let chosen_unit = unit.get_untracked().or_else(|| {
            units
                .get_untracked()
                .and_then(|r| r.ok())
                .and_then(|u: Vec<ReportUnit>| u.first().map(|u| u.id))
        });
        let Some(chosen_unit) = chosen_unit else {
            set_error.set(Some("请选择受理单位".to_owned()));
            return;
        };
        let mut report = NewReport {
            unit: chosen_unit,
            text: text.get_untracked(),
            place: place.get_untracked(),
            contact: contact.get_untracked(),
            photos: Vec::new(),
            challenge_id: challenge.id,
            challenge_answer: answer.get_untracked(),
        };
        if let Err((_, message)) = complaint::validate(&report) {
            set_error.set(Some(message));
            return;
        }
        set_busy.set(true);
        set_error.set(None);
        let navigate = navigate.clone();
        let chosen = files.get_untracked();
        leptos::task::spawn_local(async move {
            let result = async {
                report.photos = encode_photos(chosen).await?;
                api::send_report(&report).await.map_err(|e| e.to_string())
            }
            .await;
            set_busy.set(false);
            match result {
                Ok(status) => navigate(&Page::ReportStatus(status.code).path(), Default::default()),
                Err(e) => {
                    set_error.set(Some(e));
                    // A question is good for one try.
                    answer.set(String::new());
                    question.refetch();
                }
            }
        });
    };

    view! {
        <section class="page page--report">
            <h1 class="page__title">"安全生产隐患举报"</h1>
            <p class="muted">"发现重大事故隐患或安全生产违法行为，可在此向应急管理部门举报。无需登录；可匿名，留下联系方式便于核实和答复。提交后请保存查询码，凭码查看受理和答复情况。"</p>
            <form class="card report-form" on:submit=submit>
                {move || units.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{format!("无法取得受理单位：{e}")}</p> }.into_any(),
                    Ok(list) if list.len() > 1 => view! {
                        <label class="field"><span class="field__label">"受理单位"</span>
                            <select class="field__input" data-testid="report-unit" on:change=move |ev| {
                                unit.set(uuid::Uuid::parse_str(&event_target_value(&ev)).ok().map(OrgId));
                            }>
                                <option value="">"请选择"</option>
                                {list.into_iter().map(|u| view! { <option value=u.id.to_string()>{u.name}</option> }).collect_view()}
                            </select></label>
                    }.into_any(),
                    Ok(list) => view! {
                        <p>{format!("受理单位：{}", list.first().map(|u| u.name.clone()).unwrap_or_default())}</p>
                    }.into_any(),
                })}
                <label class="field"><span class="field__label">"隐患情况"</span>
                    <textarea class="field__input" rows="5" data-testid="report-text" prop:value=text
                        placeholder="什么问题、在哪个部位、持续多久、有无人员作业"
                        on:input=move |ev| text.set(event_target_value(&ev))></textarea></label>
                <label class="field"><span class="field__label">"单位名称或地点"</span>
                    <input class="field__input" data-testid="report-place" prop:value=place
                        on:input=move |ev| place.set(event_target_value(&ev)) /></label>
                <label class="field"><span class="field__label">"联系方式（选填）"</span>
                    <input class="field__input" data-testid="report-contact" prop:value=contact
                        on:input=move |ev| contact.set(event_target_value(&ev)) /></label>
                <label class="field"><span class="field__label">{format!("现场照片（选填，最多 {MAX_PHOTOS} 张）")}</span>
                    <input class="field__input" type="file" accept="image/*" multiple data-testid="report-photos"
                        on:change=choose /></label>
                {move || (!files.with(Vec::is_empty)).then(|| view! { <p class="muted">{format!("已选 {} 张照片", files.with(Vec::len))}</p> })}
                {move || question.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{format!("无法取得验证问题：{e}")}</p> }.into_any(),
                    Ok(q) => view! {
                        <label class="field"><span class="field__label" data-testid="report-question">{q.question}</span>
                            <input class="field__input" inputmode="numeric" data-testid="report-answer" prop:value=answer
                                on:input=move |ev| answer.set(event_target_value(&ev)) /></label>
                    }.into_any(),
                })}
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button class="button button--wide" type="submit" data-testid="report-send" disabled=busy>
                    {move || if busy.get() { "正在提交…" } else { "提交举报" }}</button>
            </form>
            <FollowForm />
        </section>
    }
    .into_any()
}

/// 查询: enter a tracking code.
#[component]
fn FollowForm() -> impl IntoView {
    let code = RwSignal::new(String::new());
    let navigate = use_navigate();
    view! {
        <form class="card" on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let value = code.get_untracked().trim().to_uppercase();
            if !value.is_empty() {
                navigate(&Page::ReportStatus(value).path(), Default::default());
            }
        }>
            <label class="field"><span class="field__label">"已举报？输入查询码查看进展"</span>
                <input class="field__input" data-testid="report-code" prop:value=code
                    on:input=move |ev| code.set(event_target_value(&ev)) /></label>
            <button class="button button--secondary" type="submit">"查询"</button>
        </form>
    }
}

fn status_view(status: ReportStatus) -> impl IntoView {
    let date = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    view! {
        <article class="card report-status" data-testid="report-status">
            <p>"查询码：" <strong data-testid="report-code-value" data-latin-ok="">{status.code.clone()}</strong>" （请保存，凭码查询）"</p>
            <p>"受理单位：" {status.unit_name.clone()}</p>
            <p>"提交时间：" {zhicha_core::time::minute(status.received_at)}</p>
            <p>"状态：" <span class="badge" data-testid="report-state">{status.state.label_zh()}</span></p>
            {(status.state == ReportState::Received).then(|| view! {
                <p>{format!("应于 {} 前受理", date(status.accept_due))}</p>
            })}
            {status.accepted_on.map(|d| view! { <p>{format!("受理日期：{}", date(d))}</p> })}
            {(status.state == ReportState::Accepted).then(|| status.answer_due.map(|d| view! {
                <p>{format!("应于 {} 前答复", date(d))}</p>
            })).flatten()}
            {(!status.answer.is_empty()).then(|| view! {
                <p>{if status.state == ReportState::Declined { "不予受理的理由：" } else { "答复：" }}
                    <span data-testid="report-answer-text">{status.answer.clone()}</span></p>
            })}
            <p class="muted">{LIMITS_UNCHECKED}</p>
        </article>
    }
}

#[component]
pub fn ReportStatusPage(code: String) -> impl IntoView {
    let status = LocalResource::new(move || {
        let code = code.clone();
        async move { api::follow(&code).await.map_err(|e| e.to_string()) }
    });
    view! {
        <section class="page page--report">
            <h1 class="page__title">"举报查询"</h1>
            <Suspense fallback=|| view! { <p class="muted">"正在查询…"</p> }>
                {move || status.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{format!("查询失败：{e}（查询码是否正确？）")}</p> }.into_any(),
                    Ok(status) => status_view(status).into_any(),
                })}
            </Suspense>
            <a class="button button--secondary" href=Page::Report.path()>"我要举报"</a>
        </section>
    }
    .into_any()
}

/// The file input of an event, for the photo picker.
fn event_target<T: JsCast>(ev: &leptos::ev::Event) -> T {
    ev.target().expect("event target").unchecked_into()
}
