//! 执法文书: the documents of an inspection, filled from the records with their offline numbers,
//! shown on screen for signature and printed on A4 (see the print rules in style/inspect.css).

use std::str::FromStr;

use leptos::prelude::*;
use zhicha_core::documents::{self, DocumentNumber, DocumentSource, FilledDocument, Rights};
use zhicha_core::ids::{InspectionId, PhotoHash};
use zhicha_core::model::{DocumentKind, EnterpriseSignature, Finding, Inspection, OrgUnit};

use super::{enterprise, open_db, registry, stored_inspection};
use crate::components::photos::PhotoStrip;
use crate::pages::Page;

#[derive(Clone)]
struct Sheet {
    kind: DocumentKind,
    authority: String,
    filled: FilledDocument,
}

#[derive(Clone)]
struct DocumentsData {
    inspection: Inspection,
    sheets: Vec<Sheet>,
}

/// The authority printed above the title: the bureau (the top of the user's org chain).
fn authority(orgs: &[OrgUnit], inspection: &Inspection) -> String {
    let mut at = orgs.iter().find(|o| o.id == inspection.org_id);
    while let Some(org) = at {
        match org.parent_id.and_then(|p| orgs.iter().find(|o| o.id == p)) {
            Some(parent) => at = Some(parent),
            None => return org.name.clone(),
        }
    }
    String::new()
}

async fn load(id: Option<InspectionId>) -> Result<DocumentsData, String> {
    let db = open_db().await?;
    let inspection = stored_inspection(&db, id).await?;
    let enterprise = enterprise(&db, &inspection.enterprise_id.to_string()).await?;
    let findings: Vec<Finding> = db
        .findings_of_inspection(inspection.id)
        .await
        .map_err(|e| e.to_string())?;
    let orgs = db.orgs().await.unwrap_or_default();
    let authority = authority(&orgs, &inspection);
    let packs = registry(&db).await;
    let rights = Rights::for_org(inspection.org_id, &orgs);
    let sheets = inspection
        .documents
        .iter()
        .map(|issued| {
            let number = DocumentNumber::from_str(&issued.number).ok();
            let source = DocumentSource {
                inspection: &inspection,
                enterprise: &enterprise,
                findings: &findings,
                number: number.as_ref(),
                original_order: "",
                packs: &packs,
                rights: &rights,
            };
            let mut filled = documents::fill(issued.kind, &source);
            // A number that does not parse is still the one on paper: show it as issued.
            if number.is_none()
                && let Some(field) = filled.fields.iter_mut().find(|f| f.key == "number")
            {
                field.value = issued.number.clone();
            }
            Sheet {
                kind: issued.kind,
                authority: authority.clone(),
                filled,
            }
        })
        .collect();
    Ok(DocumentsData { inspection, sheets })
}

#[component]
pub fn DocumentsPage(id: Option<InspectionId>) -> impl IntoView {
    let data = LocalResource::new(move || load(id));
    let print = |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    view! {
        <section class="page page--documents">
            <div class="no-print">
                <h1 class="page__title">"执法文书"</h1>
                <div class="actions">
                    <button class="button" type="button" on:click=print>"打印（A4）"</button>
                    <a class="button button--secondary" href=Page::Home.path()>"返回首页"</a>
                </div>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"正在生成文书…"</p> }>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(data) if data.sheets.is_empty() => view! {
                        <p class="empty">"本次检查尚未出具文书。结束检查后生成。"</p>
                        <a class="button" href=Page::Finish(data.inspection.id).path()>"去结束检查"</a>
                    }.into_any(),
                    Ok(data) => {
                        let inspection = data.inspection;
                        data.sheets.into_iter().map(|sheet| view! { <DocumentSheet sheet inspection=inspection.clone() /> }).collect_view().into_any()
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

/// The drawn signatures a field of a document shows.
fn signatures_for(key: &str, inspection: &Inspection) -> Vec<PhotoHash> {
    match key {
        "inspector_signatures" => inspection
            .inspector_signatures
            .iter()
            .map(|s| s.image.clone())
            .collect(),
        "enterprise_signature" | "receipt" => match &inspection.enterprise_signature {
            Some(EnterpriseSignature::Signed {
                image: Some(hash), ..
            }) => vec![hash.clone()],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

#[component]
fn DocumentSheet(sheet: Sheet, inspection: Inspection) -> impl IntoView {
    let number = sheet.filled.value("number").unwrap_or_default().to_owned();
    let code = sheet.kind.code();
    view! {
        <article class="doc-sheet" data-testid="document" data-kind=code>
            <header class="doc-sheet__head">
                <p class="doc-sheet__authority">{sheet.authority}</p>
                <h2 class="doc-sheet__title">{sheet.filled.title.clone()}</h2>
                <p class="doc-sheet__number" data-testid="document-number">{number}</p>
            </header>
            {(!sheet.filled.notes.is_empty()).then(|| view! {
                <ul class="card card--warn no-print" data-testid="document-notes">
                    {sheet.filled.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                </ul>
            })}
            <table class="doc-table">
                <tbody>
                    {sheet.filled.fields.into_iter().filter(|f| f.key != "number").map(|field| {
                        let images = signatures_for(&field.key, &inspection);
                        let empty = field.value.trim().is_empty() && images.is_empty();
                        view! {
                            <tr data-field=field.key.clone()>
                                <th scope="row">{field.label}</th>
                                <td class:doc-table__blank=empty>
                                    <span class="doc-table__value">{field.value}</span>
                                    {(!images.is_empty()).then(|| view! { <PhotoStrip hashes=images label="签名" /> })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </article>
    }
    .into_any()
}
