//! 选择被检查单位: search the offline directory by name, 统一社会信用代码 or region, or add an
//! enterprise on the spot (unlicensed operations are in no directory).

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use zhicha_core::fieldwork;
use zhicha_core::ids::EnterpriseId;
use zhicha_core::model::{Enterprise, Sector, Subsector};

use super::{messages, open_db, signed_in};
use crate::pages::Page;
use crate::state::use_unsynced;
use crate::storage::EnterpriseSearch;

/// At most this many matches are listed; the inspector narrows the search instead of scrolling.
const SHOWN: usize = 50;

async fn search(text: String) -> Result<(Vec<Enterprise>, usize), String> {
    let db = open_db().await?;
    let list = db
        .search_enterprises(&EnterpriseSearch { text })
        .await
        .map_err(|e| e.to_string())?;
    // An on-site entry an admin merged into the directory is offered as the directory entry.
    let list: Vec<_> = list
        .into_iter()
        .filter(|e| e.merged_into.is_none())
        .collect();
    let total = list.len();
    Ok((list.into_iter().take(SHOWN).collect(), total))
}

fn sectors_line(e: &Enterprise) -> String {
    let mut parts: Vec<&str> = e.sectors.iter().map(|s| s.label_zh()).collect();
    parts.extend(e.subsectors.iter().map(|s| s.label_zh()));
    parts.join("、")
}

#[component]
pub fn PickEnterprisePage() -> impl IntoView {
    let (query, set_query) = signal(String::new());
    let results = LocalResource::new(move || search(query.get()));
    let (adding, set_adding) = signal(false);
    view! {
        <section class="page page--picker">
            <h1 class="page__title">"选择被检查单位"</h1>
            <label class="field">
                <span class="field__label">"搜索：单位名称、统一社会信用代码或地区"</span>
                <input class="field__input" type="search" data-testid="enterprise-search"
                    placeholder="例如：煤矿、9115…、树林召镇"
                    prop:value=query on:input=move |ev| set_query.set(event_target_value(&ev)) />
            </label>
            <Suspense fallback=|| view! { <p class="muted">"正在查找…"</p> }>
                {move || results.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok((list, total)) if list.is_empty() => view! {
                        <p class="empty">{if total == 0 && query.get_untracked().trim().is_empty() {
                            "本机没有单位名录。请联网登录以下载名录，或在下方现场新增单位。"
                        } else {
                            "没有找到匹配的单位。可在下方现场新增。"
                        }}</p>
                    }.into_any(),
                    Ok((list, total)) => view! {
                        {(total > list.len()).then(|| view! {
                            <p class="muted">{format!("共 {total} 家，显示前 {}，请输入更多文字缩小范围。", list.len())}</p>
                        })}
                        <ul class="list">
                            {list.into_iter().map(|e| {
                                let code = e.credit_code.clone().unwrap_or_else(|| "无统一社会信用代码".to_owned());
                                let region = format!("{}{}", e.county, e.township);
                                let sectors = sectors_line(&e);
                                let dossier = Page::Dossier(e.id).path();
                                view! {
                                    <li class="picker__row">
                                        <a class="list__item list__link" href=Page::StartInspection(e.id).path() data-testid="enterprise-option">
                                            <span class="inspection__enterprise">{e.name}</span>
                                            {e.key.then(|| view! { <span class="badge badge--key">"重点"</span> })}
                                            {e.grade.map(|g| view! { <span class="badge">{g.label_zh()}</span> })}
                                            <span class="inspection__meta">{region} " · " {sectors}</span>
                                            <span class="inspection__meta">{code}</span>
                                        </a>
                                        // The history and open hazards before going in, offline.
                                        <a class="button button--secondary picker__dossier" href=dossier
                                            data-testid="enterprise-dossier">"档案"</a>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
            <button class="button button--secondary button--wide" type="button"
                on:click=move |_| set_adding.update(|a| *a = !*a)>
                {move || if adding.get() { "收起" } else { "现场新增单位（名录中没有的）" }}
            </button>
            <Show when=move || adding.get()>
                <AdHocEnterprise />
            </Show>
        </section>
    }
    .into_any()
}

/// A form for an enterprise found on site; it syncs like any record.
#[component]
fn AdHocEnterprise() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let credit_code = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let township = RwSignal::new(String::new());
    let legal = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let sectors = RwSignal::new(Vec::<Sector>::new());
    let subsectors = RwSignal::new(Vec::<Subsector>::new());
    let (errors, set_errors) = signal(Vec::<String>::new());
    let (busy, set_busy) = signal(false);
    let unsynced = use_unsynced();
    let navigate = use_navigate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        set_busy.set(true);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let result = async {
                let db = open_db().await.map_err(|e| vec![e])?;
                let session = signed_in(&db).await.map_err(|e| vec![e])?;
                let code = credit_code.get_untracked().trim().to_uppercase();
                let enterprise = Enterprise {
                    key: false,
                    grade: None,
                    id: EnterpriseId::new(),
                    org_id: session.user.org_id,
                    name: name.get_untracked().trim().to_owned(),
                    credit_code: (!code.is_empty()).then_some(code),
                    address: address.get_untracked().trim().to_owned(),
                    county: String::new(),
                    township: township.get_untracked().trim().to_owned(),
                    sectors: sectors.get_untracked(),
                    subsectors: subsectors.get_untracked(),
                    legal_representative: legal.get_untracked().trim().to_owned(),
                    contact_phone: phone.get_untracked().trim().to_owned(),
                    location: None,
                    ad_hoc: true,
                    merged_into: None,
                };
                fieldwork::validate_enterprise(&enterprise).map_err(|e| messages(&e))?;
                db.save_enterprise(&enterprise)
                    .await
                    .map_err(|e| vec![e.to_string()])?;
                Ok::<_, Vec<String>>(enterprise.id)
            }
            .await;
            set_busy.set(false);
            match result {
                Ok(id) => {
                    unsynced.refresh();
                    navigate(&Page::StartInspection(id).path(), Default::default());
                }
                Err(list) => set_errors.set(list),
            }
        });
    };
    let text = |label: &'static str, value: RwSignal<String>, testid: &'static str| {
        view! {
            <label class="field">
                <span class="field__label">{label}</span>
                <input class="field__input" data-testid=testid prop:value=value
                    on:input=move |ev| value.set(event_target_value(&ev)) />
            </label>
        }
    };
    view! {
        <form class="form card" on:submit=submit>
            <h2 class="card__title">"现场新增单位"</h2>
            {text("单位名称（必填）", name, "adhoc-name")}
            {text("统一社会信用代码（无证经营可不填）", credit_code, "adhoc-code")}
            {text("地址", address, "adhoc-address")}
            {text("苏木镇 / 街道 / 园区", township, "adhoc-township")}
            {text("法定代表人（负责人）", legal, "adhoc-legal")}
            {text("联系电话", phone, "adhoc-phone")}
            <fieldset class="field choices">
                <legend class="field__label">"行业领域"</legend>
                {Sector::ALL.into_iter().map(|sector| view! {
                    <label class="tick">
                        <input type="checkbox" prop:checked=move || sectors.with(|s| s.contains(&sector))
                            on:change=move |_| sectors.update(|s| toggle(s, sector)) />
                        {sector.label_zh()}
                    </label>
                    {sector.subsectors().iter().copied().map(|sub| view! {
                        <Show when=move || sectors.with(|s| s.contains(&sector))>
                            <label class="tick tick--sub">
                                <input type="checkbox" prop:checked=move || subsectors.with(|s| s.contains(&sub))
                                    on:change=move |_| subsectors.update(|s| toggle(s, sub)) />
                                {sub.label_zh()}
                            </label>
                        </Show>
                    }).collect_view()}
                }).collect_view()}
            </fieldset>
            <button class="button button--wide" type="submit" disabled=busy>"保存并开始检查"</button>
            {move || (!errors.get().is_empty()).then(|| view! {
                <ul class="errors" role="alert">
                    {errors.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                </ul>
            })}
        </form>
    }
    .into_any()
}

/// Adds `value` if absent, removes it if present.
pub(super) fn toggle<T: PartialEq>(list: &mut Vec<T>, value: T) {
    if let Some(at) = list.iter().position(|v| *v == value) {
        list.remove(at);
    } else {
        list.push(value);
    }
}
