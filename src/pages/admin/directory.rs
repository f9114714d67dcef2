//! 企业名录: the bureau's enterprise directory — import its own list (Excel `.xlsx` with Chinese
//! headers, or CSV saved in UTF-8 or GBK) with a preview and the rows that cannot be taken, and
//! merge an enterprise an inspector added on site into its directory entry.

use leptos::prelude::*;
use wasm_bindgen::JsCast as _;
use web_sys::{File, HtmlInputElement};
use zhicha_core::admin::{EnterpriseList, ImportReport};
use zhicha_core::ids::{EnterpriseId, OrgId};
use zhicha_core::model::{Enterprise, OrgUnit};

use super::{AdminNav, call, notice, org_name, org_options, write};
use crate::pages::Page;
use crate::sync::admin as api;

/// Rows of a preview shown on screen (all are counted; the file may hold thousands).
const PREVIEW_ROWS: usize = 50;

fn sectors(enterprise: &Enterprise) -> String {
    enterprise
        .sectors
        .iter()
        .map(|s| s.label_zh())
        .collect::<Vec<_>>()
        .join("、")
}

#[component]
pub fn AdminDirectoryPage() -> impl IntoView {
    let orgs = LocalResource::new(|| async { call(|t| async move { api::orgs(&t).await }).await });
    let query = RwSignal::new(String::new());
    let applied = RwSignal::new((String::new(), false));
    let reload = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        reload.track();
        let (q, ad_hoc) = applied.get();
        async move { call(|t| async move { api::enterprises(&t, &q, ad_hoc).await }).await }
    });
    let ad_hoc_only = RwSignal::new(false);
    let message = RwSignal::new(None::<(bool, String)>);
    let merging = RwSignal::new(None::<Enterprise>);
    let done = Callback::new(move |result: (bool, String)| {
        message.set(Some(result));
        merging.set(None);
        reload.update(|n| *n += 1);
    });
    view! {
        <section class="page page--admin">
            <h1 class="page__title">"系统管理 · 企业名录"</h1>
            <AdminNav current=Page::AdminDirectory />
            {move || notice(message.get())}
            {move || orgs.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok(orgs) => view! { <ImportCard orgs=orgs done=done /> }.into_any(),
            })}
            {move || merging.get().map(|source| view! {
                <MergeCard source=source done=done cancel=Callback::new(move |()| merging.set(None)) />
            })}
            <form class="filters card" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                applied.set((query.get_untracked(), ad_hoc_only.get_untracked()));
            }>
                <label class="field field--compact">
                    <span class="field__label">"单位名称或统一社会信用代码"</span>
                    <input class="field__input" name="directory-q"
                        prop:value=query on:input=move |ev| query.set(event_target_value(&ev)) />
                </label>
                <label class="check">
                    <input type="checkbox" name="directory-ad-hoc"
                        on:change=move |ev| ad_hoc_only.set(event_target_checked(&ev)) />
                    "只看现场新建、尚未并入名录的企业"
                </label>
                <button class="button" type="submit">"查询"</button>
            </form>
            <Transition fallback=|| view! { <p class="muted">"正在读取…"</p> }>
                {move || list.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(list) => {
                        let orgs = orgs.get().and_then(Result::ok).unwrap_or_default();
                        directory_table(list, &orgs, merging).into_any()
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

fn directory_table(
    list: EnterpriseList,
    orgs: &[OrgUnit],
    merging: RwSignal<Option<Enterprise>>,
) -> impl IntoView + use<> {
    if list.enterprises.is_empty() {
        return view! { <p class="empty">"没有符合条件的企业。"</p> }.into_any();
    }
    let shown = list.enterprises.len();
    let rows = list
        .enterprises
        .into_iter()
        .map(|e| {
            let kind = if e.ad_hoc {
                view! { <span class="badge badge--pending">"现场新建"</span> }.into_any()
            } else {
                view! { <span class="badge">"名录"</span> }.into_any()
            };
            let merge = e.ad_hoc.then(|| {
                let source = e.clone();
                view! {
                    <button class="button button--small button--secondary" type="button"
                        aria-label=format!("合并 {}", e.name)
                        on:click=move |_| merging.set(Some(source.clone()))>"并入名录企业"</button>
                }
            });
            let class = match (e.key, e.grade) {
                (true, Some(g)) => format!("重点 · {}", g.label_zh()),
                (true, None) => "重点".to_owned(),
                (false, Some(g)) => g.label_zh().to_owned(),
                (false, None) => "—".to_owned(),
            };
            let (id, name) = (e.id, e.name.clone());
            let code = (!e.ad_hoc || e.merged_into.is_none()).then(|| view! {
                <button class="button button--small button--secondary" type="button"
                    aria-label=format!("下载 {} 的入企码", e.name)
                    on:click=move |_| download_code(id, name.clone())>"入企码"</button>
            });
            view! {
                <tr data-enterprise=e.name.clone()>
                    <td data-label="单位名称">{e.name.clone()}</td>
                    <td data-label="信用代码">{e.credit_code.clone().unwrap_or_else(|| "（无）".to_owned())}</td>
                    <td data-label="地区">{format!("{} {}", e.county, e.township)}</td>
                    <td data-label="行业">{sectors(&e)}</td>
                    <td data-label="名录">{org_name(orgs, e.org_id)}</td>
                    <td data-label="类别">{class}</td>
                    <td data-label="来源">{kind}{merge}{code}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="muted">{format!("共 {} 家，显示 {shown} 家", list.total)}</p>
        <div class="table-wrap">
            <table class="grid directory">
                <thead><tr>
                    <th>"单位名称"</th><th>"信用代码"</th><th>"地区"</th><th>"行业"</th>
                    <th>"名录"</th><th>"类别"</th><th>"来源"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Downloads the enterprise's 扫码入企 code (an SVG to print and post at its gate).
fn download_code(id: EnterpriseId, name: String) {
    leptos::task::spawn_local(async move {
        let Ok(blob) =
            call(|t| async move { crate::sync::plans::enterprise_code(&t, id).await }).await
        else {
            return;
        };
        let Some(url) = crate::sync::leader::ObjectUrl::new(&blob) else {
            return;
        };
        let anchor = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("a").ok())
            .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok());
        if let Some(anchor) = anchor {
            anchor.set_href(url.as_str());
            anchor.set_download(&format!("入企码-{name}.svg"));
            anchor.click();
        }
        // The download has read the blob once the click returns a tick later.
        gloo::timers::future::TimeoutFuture::new(10_000).await;
        drop(url);
    });
}

/// The file chosen in an `<input type=file>`.
fn chosen_file(ev: &leptos::ev::Event) -> Option<File> {
    ev.target()?
        .dyn_into::<HtmlInputElement>()
        .ok()?
        .files()?
        .get(0)
}

#[component]
fn ImportCard(orgs: Vec<OrgUnit>, done: Callback<(bool, String)>) -> impl IntoView {
    let org = RwSignal::new(orgs.first().map(|o| o.id));
    let file = RwSignal::new_local(None::<File>);
    let preview = RwSignal::new(None::<ImportReport>);
    let error = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let send = move |commit: bool| {
        if busy.get_untracked() {
            return;
        }
        let (Some(org_id), Some(blob)) = (org.get_untracked(), file.get_untracked()) else {
            error.set(Some((false, "请选择名录所属单位和要导入的文件".to_owned())));
            return;
        };
        let work = call(move |t| async move { api::import(&t, org_id, &blob, commit).await });
        write(busy, error, work, move |report| {
            if report.committed {
                preview.set(None);
                done.run((
                    true,
                    format!(
                        "已导入 {} 家企业；{} 行有误未导入",
                        report.imported,
                        report.errors.len()
                    ),
                ));
            } else {
                preview.set(Some(report));
            }
        });
    };
    view! {
        <section class="card" aria-label="导入企业名录">
            <h2 class="card__title">"导入企业名录"</h2>
            <p class="muted">"Excel（.xlsx，取第一个工作表）或 CSV（UTF-8 或 GBK）。第一行为表头：单位名称、苏木镇（街道/园区）、行业领域为必填列，另可有统一社会信用代码、旗县、地址、行业细分、法定代表人、联系电话、纬度、经度。信用代码已在名录中的行更新该企业。"</p>
            <label class="field">
                <span class="field__label">"名录所属单位"</span>
                <select class="field__input" name="import-org"
                    on:change=move |ev| org.set(event_target_value(&ev).parse::<OrgId>().ok())>
                    {org_options(&orgs, orgs.first().map(|o| o.id))}
                </select>
            </label>
            <label class="field">
                <span class="field__label">"文件"</span>
                <input class="field__input" type="file" name="import-file"
                    accept=".xlsx,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/csv"
                    on:change=move |ev| {
                        file.set(chosen_file(&ev));
                        preview.set(None);
                    } />
            </label>
            <button class="button button--secondary" type="button" disabled=busy
                on:click=move |_| send(false)>"预览"</button>
            {move || notice(error.get())}
            {move || preview.get().map(|report| import_preview(report, busy, send))}
        </section>
    }
}

fn import_preview(
    report: ImportReport,
    busy: RwSignal<bool>,
    send: impl Fn(bool) + Copy + 'static,
) -> impl IntoView {
    let updates = report.rows.iter().filter(|r| r.updates).count();
    let good = report.rows.len();
    let rows = report
        .rows
        .iter()
        .take(PREVIEW_ROWS)
        .map(|row| {
            view! {
                <tr>
                    <td data-label="行">{row.line}</td>
                    <td data-label="单位名称">{row.enterprise.name.clone()}</td>
                    <td data-label="信用代码">{row.enterprise.credit_code.clone().unwrap_or_default()}</td>
                    <td data-label="苏木镇">{row.enterprise.township.clone()}</td>
                    <td data-label="行业">{sectors(&row.enterprise)}</td>
                    <td data-label="处理">{if row.updates { "更新" } else { "新增" }}</td>
                </tr>
            }
        })
        .collect_view();
    let errors = report
        .errors
        .iter()
        .map(|e| view! { <li>{format!("第 {} 行：{}", e.line, e.message)}</li> })
        .collect_view();
    let error_count = report.errors.len();
    view! {
        <div class="import-preview" role="region" aria-label="导入预览">
            <p class="import-preview__summary">
                {format!("可导入 {good} 行（新增 {}，更新 {updates}）；有误 {error_count} 行，将跳过。", good - updates)}
            </p>
            {(error_count > 0).then(|| view! {
                <h3 class="card__subtitle">"有误的行（不导入）"</h3>
                <ul class="errors import-errors">{errors}</ul>
            })}
            {(good > PREVIEW_ROWS).then(|| view! {
                <p class="muted">{format!("以下仅列出前 {PREVIEW_ROWS} 行。")}</p>
            })}
            <div class="table-wrap">
                <table class="grid">
                    <thead><tr>
                        <th>"行"</th><th>"单位名称"</th><th>"信用代码"</th><th>"苏木镇"</th>
                        <th>"行业"</th><th>"处理"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <button class="button" type="button" disabled=move || busy.get() || good == 0
                on:click=move |_| send(true)>{format!("确认导入 {good} 行")}</button>
        </div>
    }
}

/// Picks the directory entry an on-site enterprise is, then merges it.
#[component]
fn MergeCard(
    source: Enterprise,
    done: Callback<(bool, String)>,
    cancel: Callback<()>,
) -> impl IntoView {
    let query = RwSignal::new(
        source
            .credit_code
            .clone()
            .unwrap_or_else(|| source.name.chars().take(4).collect()),
    );
    let applied = RwSignal::new(query.get_untracked());
    let candidates = LocalResource::new(move || {
        let q = applied.get();
        async move { call(|t| async move { api::enterprises(&t, &q, false).await }).await }
    });
    let target = RwSignal::new(None::<EnterpriseId>);
    let error = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let source_id = source.id;
    let source_name = source.name.clone();
    let merge = move |_| {
        let Some(into) = target.get_untracked() else {
            error.set(Some((false, "请选择要并入的名录企业".to_owned())));
            return;
        };
        let name = source_name.clone();
        let work = call(move |t| async move { api::merge(&t, source_id, into).await });
        write(busy, error, work, move |moved| {
            done.run((
                true,
                format!(
                    "“{name}”已并入名录企业：{} 次检查、{} 条隐患随之转入",
                    moved.inspections, moved.findings
                ),
            ));
        });
    };
    view! {
        <section class="card card--warn" aria-label="并入名录企业">
            <h2 class="card__title">{format!("将现场新建的“{}”并入名录企业", source.name)}</h2>
            <p class="muted">"并入后，该企业的检查记录和隐患都归到所选的名录企业名下，现场新建的条目不再供选择。此操作不能撤销。"</p>
            <form class="form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                applied.set(query.get_untracked());
            }>
                <label class="field">
                    <span class="field__label">"查找名录企业（名称或信用代码）"</span>
                    <input class="field__input" name="merge-q"
                        prop:value=query on:input=move |ev| query.set(event_target_value(&ev)) />
                </label>
                <button class="button button--secondary" type="submit">"查找"</button>
            </form>
            <Transition fallback=|| view! { <p class="muted">"正在查找…"</p> }>
                {move || candidates.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(list) => {
                        let options: Vec<Enterprise> = list
                            .enterprises
                            .into_iter()
                            .filter(|e| !e.ad_hoc && e.id != source_id)
                            .collect();
                        if options.is_empty() {
                            return view! { <p class="empty">"没有找到名录企业，请换个关键词。"</p> }.into_any();
                        }
                        view! {
                            <fieldset class="merge-targets">
                                <legend>"选择名录企业"</legend>
                                {options.into_iter().map(|e| {
                                    let id = e.id;
                                    view! {
                                        <label class="check">
                                            <input type="radio" name="merge-target" value=id.to_string()
                                                on:change=move |_| target.set(Some(id)) />
                                            {format!("{}（{}）", e.name, e.credit_code.clone().unwrap_or_else(|| "无信用代码".to_owned()))}
                                        </label>
                                    }
                                }).collect_view()}
                            </fieldset>
                        }
                        .into_any()
                    }
                })}
            </Transition>
            <div class="actions">
                <button class="button" type="button" disabled=busy on:click=merge>"确认并入"</button>
                <button class="button button--secondary" type="button"
                    on:click=move |_| cancel.run(())>"取消"</button>
            </div>
            {move || notice(error.get())}
        </section>
    }
}
