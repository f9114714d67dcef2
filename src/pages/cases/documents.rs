//! A case's documents on screen and for print (A4), filled by core (`case::documents`) from the
//! case on this device: offline, as the inspector serves them on site.

use leptos::prelude::*;
use zhicha_core::case::documents::{CaseSheet, SheetContext, WORDING_UNCHECKED, sheets};
use zhicha_core::documents::Rights;
use zhicha_core::ids::CaseId;

use super::{enterprise_name, stored_case};
use crate::state;

#[derive(Clone)]
struct Loaded {
    authority: String,
    sheets: Vec<CaseSheet>,
}

async fn load(id: Option<CaseId>) -> Result<Loaded, String> {
    let db = state::db().await.map_err(|e| e.to_string())?;
    let case = stored_case(&db, id).await?;
    let enterprise = enterprise_name(&db, case.enterprise_id).await;
    let orgs = db.orgs().await.unwrap_or_default();
    let roster = db.roster().await.unwrap_or_default();
    let officers: Vec<String> = case
        .officers
        .iter()
        .map(|id| match roster.iter().find(|u| u.id == *id) {
            Some(u) => match &u.certificate_no {
                Some(cert) => format!("{}（执法证号 {cert}）", u.display_name),
                None => u.display_name.clone(),
            },
            None => "（未知人员）".to_owned(),
        })
        .collect();
    let authority = zhicha_core::org::numbering_authority(case.org_id, &orgs)
        .map(|o| o.name.clone())
        .unwrap_or_default();
    let rights = Rights::for_org(case.org_id, &orgs);
    let cx = SheetContext {
        authority: &authority,
        enterprise: &enterprise,
        officers: &officers,
        rights: &rights,
    };
    let sheets = sheets(&case, &cx);
    Ok(Loaded { authority, sheets })
}

fn print() {
    if let Some(window) = web_sys::window() {
        let _ = window.print();
    }
}

#[component]
pub fn CaseDocumentsPage(id: Option<CaseId>) -> impl IntoView {
    let loaded = LocalResource::new(move || load(id));
    view! {
        <section class="page page--documents">
            <h1 class="page__title no-print">"案件文书"</h1>
            <Suspense fallback=|| view! { <p class="muted">"正在读取本机数据…"</p> }>
                {move || loaded.get().map(|result| match result {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(data) if data.sheets.is_empty() => view! {
                        <p class="muted">"立案审批或当场处罚后方有案件文书。"</p>
                    }.into_any(),
                    Ok(data) => view! {
                        <p class="card card--warn no-print">{WORDING_UNCHECKED}</p>
                        <button class="button no-print" type="button" on:click=move |_| print()>"打印（A4）"</button>
                        {data.sheets.into_iter().map(|sheet| {
                            let authority = data.authority.clone();
                            view! {
                                <article class="doc-sheet" data-testid="case-document" data-title=sheet.title.clone()>
                                    <header class="doc-sheet__head">
                                        <p class="doc-sheet__authority">{authority}</p>
                                        <h2 class="doc-sheet__title">{sheet.title.clone()}</h2>
                                        <p class="doc-sheet__number" data-testid="document-number">
                                            {sheet.number.clone().unwrap_or_default()}</p>
                                    </header>
                                    <table class="doc-table">
                                        <tbody>
                                            {sheet.fields.into_iter().map(|(label, value)| {
                                                let blank = value.trim().is_empty();
                                                let key = label.clone();
                                                view! {
                                                    <tr data-field=key>
                                                        <th scope="row">{label}</th>
                                                        <td class:doc-table__blank=blank>{value}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </article>
                            }
                        }).collect_view()}
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
    .into_any()
}
