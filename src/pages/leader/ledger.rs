//! 隐患台账: the server's ledger with filters, keyset paging (a stack of cursors for 上一页), and
//! export to .xlsx and CSV. It needs the network; offline it says so instead of failing.

use leptos::prelude::*;
use zhicha_core::ids::{EnterpriseId, OrgId, UserId};
use zhicha_core::ledger::{FindingsPage, FindingsQuery};
use zhicha_core::model::{Enterprise, FindingStatus, Level, OrgUnit, Sector, User};

use super::export::Export;
use super::{LeaderNav, cst, date, leader_session};
use crate::components::filter_fold::FilterFold;
use crate::pages::Page;
use crate::state;
use crate::sync::SyncError;
use crate::sync::leader::{self as api, LedgerFormat};

/// Rows per page on screen.
const PAGE_ROWS: u32 = 50;

/// Why the server's data is not shown, in words a leader can act on.
pub(crate) fn server_error(error: SyncError) -> String {
    match error {
        SyncError::Offline | SyncError::Server(_) => {
            "无法连接服务器。隐患台账和统计数据在服务器上，联网后可查看。".to_owned()
        }
        other => other.to_string(),
    }
}

/// What the filter form can offer, from the device's reference data.
#[derive(Clone, Default)]
pub(crate) struct Choices {
    pub orgs: Vec<OrgUnit>,
    pub users: Vec<User>,
    pub enterprises: Vec<Enterprise>,
    /// 旗县 and 苏木镇/街道/园区 names of the directory, offered as the region filters' suggestions.
    pub counties: Vec<String>,
    pub townships: Vec<String>,
}

impl Choices {
    /// `<datalist>`s of the region names, referenced by the region inputs.
    pub(crate) fn region_lists(&self) -> impl IntoView + use<> {
        let options = |names: &[String]| {
            names
                .iter()
                .map(|n| view! { <option value=n.clone()></option> })
                .collect_view()
        };
        view! {
            <datalist id="region-counties">{options(&self.counties)}</datalist>
            <datalist id="region-townships">{options(&self.townships)}</datalist>
        }
    }
}

fn distinct(names: impl Iterator<Item = String>) -> Vec<String> {
    let set: std::collections::BTreeSet<String> = names.filter(|n| !n.is_empty()).collect();
    set.into_iter().collect()
}

pub(crate) async fn choices() -> Choices {
    let Ok(db) = state::db().await else {
        return Choices::default();
    };
    let orgs: Vec<OrgUnit> = db.get_meta("orgs").await.ok().flatten().unwrap_or_default();
    let mut users = db.roster().await.unwrap_or_default();
    users.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    let enterprises = db
        .search_enterprises(&Default::default())
        .await
        .unwrap_or_default();
    Choices {
        counties: distinct(enterprises.iter().map(|e| e.county.clone())),
        townships: distinct(enterprises.iter().map(|e| e.township.clone())),
        orgs,
        users,
        enterprises,
    }
}

fn blank(text: String) -> Option<String> {
    let text = text.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

pub(crate) fn wire<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

pub(crate) fn wire_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A `<datalist id="campaigns">` of the campaigns the forms offer.
pub(crate) fn campaign_list() -> impl IntoView {
    view! {
        <datalist id="campaigns">
            {zhicha_core::plan::CAMPAIGNS.iter().map(|c| view! { <option value=*c></option> }).collect_view()}
        </datalist>
    }
}

#[component]
pub fn LedgerPage() -> impl IntoView {
    let allowed = LocalResource::new(|| async { leader_session().await.map(|_| ()) });
    let choices = LocalResource::new(choices);
    let form = RwSignal::new(FindingsQuery::default());
    let applied = RwSignal::new(FindingsQuery::default());
    // Cursors of the pages before the current one, and the current one (None: first page).
    let cursors = RwSignal::new(vec![None::<String>]);
    let page = LocalResource::new(move || {
        let mut query = applied.get();
        query.cursor = cursors.with(|c| c.last().cloned().flatten());
        query.limit = Some(PAGE_ROWS);
        async move {
            let session = leader_session().await?;
            api::findings(&session.token, &query)
                .await
                .map_err(server_error)
        }
    });
    let files = Export::new();
    let export = move |format: LedgerFormat| {
        let query = applied.get_untracked();
        let today = zhicha_core::time::compact_date(chrono::Utc::now());
        files.run(format.file_name(&today), async move {
            let session = leader_session().await?;
            api::ledger_file(&session.token, &query, format)
                .await
                .map_err(server_error)
        });
    };

    let text_field = move |label: &'static str,
                           name: &'static str,
                           list: Option<&'static str>,
                           get: fn(&FindingsQuery) -> Option<String>,
                           set: fn(&mut FindingsQuery, Option<String>)| {
        view! {
            <label class="field field--compact">
                <span class="field__label">{label}</span>
                <input class="field__input" name=name list=list
                    prop:value=move || form.with(|q| get(q).unwrap_or_default())
                    on:input=move |ev| form.update(|q| set(q, blank(event_target_value(&ev)))) />
            </label>
        }
    };

    view! {
        <section class="page page--leader page--ledger">
            <h1 class="page__title">"隐患台账"</h1>
            <LeaderNav current=Some(Page::Ledger) />
            {move || allowed.get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <Show when=move || matches!(allowed.get(), Some(Ok(())))>
            <FilterFold active=Signal::derive(move || applied.with(FindingsQuery::active_filters))>
            <form class="filters" on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                applied.set(form.get_untracked());
                cursors.set(vec![None]);
            }>
                {text_field("旗县", "county", Some("region-counties"), |q| q.county.clone(), |q, v| q.county = v)}
                {text_field("苏木镇/街道/园区", "township", Some("region-townships"), |q| q.township.clone(), |q, v| q.township = v)}
                <label class="field field--compact">
                    <span class="field__label">"行业领域"</span>
                    <select class="field__input" name="sector" on:change=move |ev| form.update(|q| q.sector = wire(&event_target_value(&ev)))>
                        <option value="">"全部"</option>
                        {Sector::ALL.iter().map(|s| view! { <option value=wire_name(s)>{s.label_zh()}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field field--compact">
                    <span class="field__label">"隐患等级"</span>
                    <select class="field__input" name="level" on:change=move |ev| form.update(|q| q.level = wire::<Level>(&event_target_value(&ev)))>
                        <option value="">"全部"</option>
                        <option value="major">"重大隐患"</option>
                        <option value="general">"一般隐患"</option>
                    </select>
                </label>
                <label class="field field--compact">
                    <span class="field__label">"状态"</span>
                    <select class="field__input" name="status" on:change=move |ev| form.update(|q| q.status = wire::<FindingStatus>(&event_target_value(&ev)))>
                        <option value="">"全部"</option>
                        {FindingStatus::ALL.iter().map(|s| view! { <option value=wire_name(s)>{s.label_zh()}</option> }).collect_view()}
                    </select>
                </label>
                {move || choices.get().map(|c| view! {
                    {c.region_lists()}
                    <label class="field field--compact">
                        <span class="field__label">"执法队"</span>
                        <select class="field__input" name="team" on:change=move |ev| form.update(|q| q.team = wire::<OrgId>(&event_target_value(&ev)))>
                            <option value="">"全部"</option>
                            {c.orgs.iter().map(|o| view! { <option value=o.id.to_string()>{o.name.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="field field--compact">
                        <span class="field__label">"检查人员"</span>
                        <select class="field__input" name="inspector" on:change=move |ev| form.update(|q| q.inspector = wire::<UserId>(&event_target_value(&ev)))>
                            <option value="">"全部"</option>
                            {c.users.iter().map(|u| view! { <option value=u.id.to_string()>{u.display_name.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="field field--compact">
                        <span class="field__label">"被检查单位"</span>
                        <select class="field__input" name="enterprise" on:change=move |ev| form.update(|q| q.enterprise = wire::<EnterpriseId>(&event_target_value(&ev)))>
                            <option value="">"全部"</option>
                            {c.enterprises.iter().map(|e| view! { <option value=e.id.to_string()>{e.name.clone()}</option> }).collect_view()}
                        </select>
                    </label>
                })}
                <label class="field field--compact">
                    <span class="field__label">"发现日期自"</span>
                    <input class="field__input" type="date" name="from"
                        on:input=move |ev| form.update(|q| q.from = event_target_value(&ev).parse().ok()) />
                </label>
                <label class="field field--compact">
                    <span class="field__label">"至"</span>
                    <input class="field__input" type="date" name="to"
                        on:input=move |ev| form.update(|q| q.to = event_target_value(&ev).parse().ok()) />
                </label>
                <label class="check">
                    <input type="checkbox" name="overdue"
                        on:change=move |ev| form.update(|q| q.overdue = event_target_checked(&ev).then_some(true)) />
                    "仅逾期"
                </label>
                <label class="check">
                    <input type="checkbox" name="supervised"
                        on:change=move |ev| form.update(|q| q.supervised = event_target_checked(&ev).then_some(true)) />
                    "仅挂牌督办"
                </label>
                {text_field("关键词", "q", None, |q| q.q.clone(), |q, v| q.q = v)}
                {text_field("专项行动", "campaign", Some("campaigns"), |q| q.campaign.clone(), |q, v| q.campaign = v)}
                {campaign_list()}
                <div class="actions">
                    <button class="button" type="submit">"查询"</button>
                </div>
            </form>
            </FilterFold>
            <div class="actions export-actions">
                <button class="button button--secondary" type="button" disabled=files.busy()
                    on:click=move |_| export(LedgerFormat::Xlsx)>"导出 Excel"</button>
                <button class="button button--secondary" type="button" disabled=files.busy()
                    on:click=move |_| export(LedgerFormat::Csv)>"导出 CSV"</button>
            </div>
            {files.view()}
            <Transition fallback=|| view! { <p class="muted">"正在查询…"</p> }>
                {move || page.get().map(|result| match result {
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                    Ok(page) => ledger_table(page, cursors).into_any(),
                })}
            </Transition>
            </Show>
        </section>
    }
    .into_any()
}

fn ledger_table(page: FindingsPage, cursors: RwSignal<Vec<Option<String>>>) -> impl IntoView {
    let number = cursors.with_untracked(Vec::len);
    let next = page.next_cursor.clone();
    view! {
        <p class="summary">{format!("共 {} 条，第 {} 页", page.total, number)}</p>
        {if page.rows.is_empty() {
            view! { <p class="empty">"没有符合条件的隐患。"</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="grid ledger">
                        <thead><tr>
                            <th>"发现时间"</th><th>"被检查单位"</th><th>"地区"</th><th>"行业"</th>
                            <th>"隐患描述"</th><th>"等级"</th><th>"状态"</th><th>"整改期限"</th>
                            <th>"检查人员"</th><th>"执法队"</th>
                        </tr></thead>
                        <tbody>
                            {page.rows.into_iter().map(|row| {
                                let overdue = row.overdue_days.is_some();
                                let people = row.inspectors.iter().map(|p| p.name.clone()).collect::<Vec<_>>().join("、");
                                view! {
                                    <tr class:overdue=overdue data-testid="ledger-row">
                                        <td data-label="发现时间">{cst(row.found_at)}</td>
                                        <td data-label="被检查单位">{row.enterprise_name.clone()}</td>
                                        <td data-label="地区">{format!("{} {}", row.county, row.township)}</td>
                                        <td data-label="行业">{row.sector.map(|s| s.label_zh()).unwrap_or("—")}</td>
                                        <td data-label="隐患描述">
                                            <a href=Page::LeaderFinding(row.id).path()>{row.description.clone()}</a>
                                        </td>
                                        <td data-label="等级">{row.level.label_zh()}{row.supervised.then_some("（挂牌督办）")}</td>
                                        <td data-label="状态">{row.status.label_zh()}
                                            {row.overdue_days.map(|d| format!("（逾期 {d} 天）"))}</td>
                                        <td data-label="整改期限">{row.deadline.map(date).unwrap_or_else(|| "—".to_owned())}</td>
                                        <td data-label="检查人员">{people}</td>
                                        <td data-label="执法队">{row.team_name.clone()}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <div class="pager">
            <button class="button button--secondary" disabled=number <= 1
                on:click=move |_| cursors.update(|c| { if c.len() > 1 { c.pop(); } })>"上一页"</button>
            <button class="button button--secondary" disabled=next.is_none()
                on:click=move |_| if let Some(cursor) = next.clone() { cursors.update(|c| c.push(Some(cursor))) }>"下一页"</button>
        </div>
    }
}
