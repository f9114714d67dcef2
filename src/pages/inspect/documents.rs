//! 执法文书: the documents of an inspection, filled from the records with their offline numbers,
//! shown on screen for signature and printed on A4 (see the print rules in style/inspect.css).
//! Orders and decisions are served here, offline: the person in charge signs receipt (签收) on
//! the device, or a refusal is recorded with a witness (留置送达); either makes the 文书送达回执.

use std::str::FromStr;

use leptos::prelude::*;
use zhicha_core::documents::pdf::{self, PdfSheet};
use zhicha_core::documents::{self, DocumentNumber, DocumentSource, FilledDocument, Rights};
use zhicha_core::ids::{InspectionId, PhotoHash};
use zhicha_core::model::{DocumentKind, EnterpriseSignature, Finding, Inspection, OrgUnit};

use chrono::Utc;
use web_sys::Blob;
use zhicha_core::model::Service;
use zhicha_core::validation;

use super::finish::store_signature;
use super::{enterprise, messages, open_db, registry, stored_inspection};
use crate::components::photos::PhotoStrip;
use crate::components::signature_pad::SignaturePad;
use crate::pages::Page;
use crate::state::use_unsynced;

#[derive(Clone)]
struct Sheet {
    kind: DocumentKind,
    authority: String,
    filled: FilledDocument,
}

#[derive(Clone)]
struct DocumentsData {
    inspection: Inspection,
    /// The PDF's file name: enterprise and day.
    file_name: String,
    /// Who signs receipt by default: the enterprise's person in charge.
    recipient: String,
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
    let mut findings: Vec<Finding> = db
        .findings_of_inspection(inspection.id)
        .await
        .map_err(|e| e.to_string())?;
    // A re-inspection's opinion speaks of the findings it followed up, and of their order.
    let mut original_order = String::new();
    for id in &inspection.reinspected_findings {
        let Some(f) = db.finding(*id).await.map_err(|e| e.to_string())? else {
            continue;
        };
        if original_order.is_empty() {
            let first = db.inspection(f.inspection_id).await.ok().flatten();
            original_order =
                documents::original_order(first.as_ref(), &f, documents::FilledOn::Device);
        }
        findings.push(f);
    }
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
                original_order: &original_order,
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
        .collect::<Vec<Sheet>>();
    let mut sheets = sheets;
    let receipt = documents::service_receipt(&DocumentSource {
        inspection: &inspection,
        enterprise: &enterprise,
        findings: &findings,
        number: None,
        original_order: "",
        packs: &packs,
        rights: &rights,
    });
    if let Some(filled) = receipt {
        sheets.push(Sheet {
            kind: DocumentKind::ServiceReceipt,
            authority: authority.clone(),
            filled,
        });
    }
    let file_name = format!(
        "{}-{}-执法文书.pdf",
        enterprise.name,
        zhicha_core::time::compact_date(inspection.finished_at.unwrap_or(inspection.started_at))
    );
    Ok(DocumentsData {
        inspection,
        file_name,
        recipient: enterprise.legal_representative.clone(),
        sheets,
    })
}

/// The documents of an inspection as one PDF (A4, selectable text), made from the records on
/// the device with no network, and its file name.
pub async fn documents_pdf(id: InspectionId) -> Result<(Vec<u8>, String), String> {
    let data = load(Some(id)).await?;
    if data.sheets.is_empty() {
        return Err("本次检查尚未出具文书。".to_owned());
    }
    let sheets: Vec<PdfSheet> = data
        .sheets
        .iter()
        .map(|s| PdfSheet {
            authority: &s.authority,
            document: &s.filled,
        })
        .collect();
    Ok((pdf::pdf(&sheets), data.file_name))
}

/// Hands the PDF to the phone's share sheet (WeChat, mail, files) where the browser can share
/// files, else saves it as a download. Returns what happened, for the inspector.
async fn share_or_save(bytes: &[u8], name: &str) -> Result<&'static str, String> {
    use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
    use wasm_bindgen::{JsCast, JsValue};
    let fail = |what: &str| format!("PDF 未能{what}：请改用打印");
    let window = web_sys::window().ok_or_else(|| fail("生成"))?;
    let options = web_sys::FilePropertyBag::new();
    options.set_type("application/pdf");
    let parts = Array::of1(&Uint8Array::from(bytes));
    let file = web_sys::File::new_with_u8_array_sequence_and_options(&parts, name, &options)
        .map_err(|_| fail("生成"))?;
    let navigator = window.navigator();
    let data = js_sys::Object::new();
    let _ = Reflect::set(&data, &"files".into(), &Array::of1(&file));
    let _ = Reflect::set(&data, &"title".into(), &JsValue::from_str(name));
    let method = |name: &str| {
        Reflect::get(&navigator, &name.into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
    };
    if let (Some(can_share), Some(share)) = (method("canShare"), method("share"))
        && can_share
            .call1(&navigator, &data)
            .ok()
            .and_then(|v| v.as_bool())
            == Some(true)
    {
        let promise: Promise = share
            .call1(&navigator, &data)
            .map_err(|_| fail("分享"))?
            .dyn_into()
            .map_err(|_| fail("分享"))?;
        return match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(_) => Ok("已分享 PDF。"),
            Err(_) => Ok("已取消分享。"),
        };
    }
    let url = web_sys::Url::create_object_url_with_blob(&file).map_err(|_| fail("保存"))?;
    let document = window.document().ok_or_else(|| fail("保存"))?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| fail("保存"))?
        .dyn_into()
        .map_err(|_| fail("保存"))?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // Let the download start before the address is released.
    leptos::task::spawn_local(async move {
        gloo::timers::future::sleep(std::time::Duration::from_secs(30)).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    Ok("PDF 已保存到手机的下载目录。")
}

#[component]
pub fn DocumentsPage(id: Option<InspectionId>) -> impl IntoView {
    // Bumped after a document is served, to show its receipt.
    let version = RwSignal::new(0_u32);
    let data = LocalResource::new(move || {
        version.track();
        load(id)
    });
    let saved = Callback::new(move |()| version.update(|v| *v += 1));
    let (making, set_making) = signal(false);
    let (pdf_status, set_pdf_status) = signal(None::<String>);
    let make_pdf = move |_| {
        let Some(id) = id else { return };
        set_making.set(true);
        leptos::task::spawn_local(async move {
            let outcome = match documents_pdf(id).await {
                Ok((bytes, name)) => share_or_save(&bytes, &name).await.map(str::to_owned),
                Err(e) => Err(e),
            };
            set_pdf_status.set(Some(outcome.unwrap_or_else(|e| e)));
            set_making.set(false);
        });
    };
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
                    <button class="button" type="button" data-testid="make-pdf" disabled=making on:click=make_pdf>
                        {move || if making.get() { "正在生成 PDF…" } else { "生成 PDF（分享或保存）" }}
                    </button>
                    <button class="button button--secondary" type="button" on:click=print>"打印（A4）"</button>
                    <a class="button button--secondary" href=Page::Home.path()>"返回首页"</a>
                </div>
                {move || pdf_status.get().map(|m| view! { <p class="muted" role="status" data-testid="pdf-status">{m}</p> })}
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
                        let recipient = data.recipient;
                        data.sheets.into_iter().map(|sheet| {
                            let serve = (documents::served_kinds().contains(&sheet.kind)
                                && !inspection.documents.iter().any(|d| d.kind == sheet.kind && d.service.is_some()))
                                .then(|| view! { <ServicePanel kind=sheet.kind inspection=inspection.clone() recipient=recipient.clone() saved /> });
                            view! { <DocumentSheet sheet inspection=inspection.clone() /> {serve} }
                        }).collect_view().into_any()
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

/// The drawn signatures a field of a document of `kind` shows: a 签收 is the one drawn when
/// that document was served (the receipt lists every one).
fn signatures_for(key: &str, kind: DocumentKind, inspection: &Inspection) -> Vec<PhotoHash> {
    match key {
        "inspector_signatures" => inspection
            .inspector_signatures
            .iter()
            .map(|s| s.image.clone())
            .collect(),
        "enterprise_signature" => match &inspection.enterprise_signature {
            Some(EnterpriseSignature::Signed {
                image: Some(hash), ..
            }) => vec![hash.clone()],
            _ => Vec::new(),
        },
        "receipt" => inspection
            .documents
            .iter()
            .filter(|d| kind == DocumentKind::ServiceReceipt || d.kind == kind)
            .filter_map(|d| match &d.service {
                Some(Service::Signed {
                    image: Some(hash), ..
                }) => Some(hash.clone()),
                _ => None,
            })
            .collect(),
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
                        let images = signatures_for(&field.key, sheet.kind, &inspection);
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

/// 送达 of one order or decision: 签收 drawn on the device, or 留置送达 with a witness. Saved to
/// the inspection on the device (and queued for sync) at once.
#[component]
fn ServicePanel(
    kind: DocumentKind,
    inspection: Inspection,
    recipient: String,
    saved: Callback<()>,
) -> impl IntoView {
    let name = RwSignal::new(recipient);
    let witness = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let refusing = RwSignal::new(false);
    let (busy, set_busy) = signal(false);
    let (error, set_error) = signal(None::<String>);
    let unsynced = use_unsynced();
    let id = inspection.id;
    let record = move |service: Box<dyn FnOnce(Option<PhotoHash>) -> Service>,
                       png: Option<Blob>| {
        set_busy.set(true);
        set_error.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                let db = open_db().await?;
                let mut current = stored_inspection(&db, Some(id)).await?;
                let image = match png {
                    Some(png) => Some(store_signature(&db, &current, &png).await?),
                    None => None,
                };
                let service = service(image);
                validation::validate_service(&service).map_err(|e| messages(&e).join("；"))?;
                let Some(document) = current.documents.iter_mut().find(|d| d.kind == kind) else {
                    return Err("本次检查没有这份文书。".to_owned());
                };
                document.service = Some(service);
                db.save_inspection(&current)
                    .await
                    .map_err(|e| e.to_string())
            }
            .await;
            set_busy.set(false);
            unsynced.refresh();
            match result {
                Ok(()) => saved.run(()),
                Err(e) => set_error.set(Some(format!("送达记录未保存：{e}"))),
            }
        });
    };
    let sign = move |png: Blob| {
        let recipient = name.get_untracked().trim().to_owned();
        if recipient.is_empty() {
            set_error.set(Some("请先填写签收人姓名".to_owned()));
            return;
        }
        record(
            Box::new(move |image| Service::Signed {
                recipient,
                at: Utc::now(),
                image,
            }),
            Some(png),
        );
    };
    let leave = move |_| {
        let recipient = name.get_untracked().trim().to_owned();
        let witness = witness.get_untracked().trim().to_owned();
        let note = note.get_untracked().trim().to_owned();
        record(
            Box::new(move |_| Service::Left {
                recipient,
                witness,
                note,
                at: Utc::now(),
            }),
            None,
        );
    };
    view! {
        <section class="card no-print service" data-testid="service" data-kind=kind.code()>
            <h2 class="card__title">{format!("送达：{}", kind.title_zh())}</h2>
            <label class="field">
                <span class="field__label">"受送达人（被检查单位负责人）"</span>
                <input class="field__input" data-testid="service-recipient" prop:value=name
                    on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <Show when=move || !refusing.get()
                fallback=move || view! {
                    <label class="field">
                        <span class="field__label">"见证人（姓名及身份）"</span>
                        <input class="field__input" data-testid="service-witness" prop:value=witness
                            placeholder="例如：周六（村委会主任）"
                            on:input=move |ev| witness.set(event_target_value(&ev)) />
                    </label>
                    <label class="field">
                        <span class="field__label">"拒收情况（留置地点、拍照等）"</span>
                        <input class="field__input" data-testid="service-note" prop:value=note
                            on:input=move |ev| note.set(event_target_value(&ev)) />
                    </label>
                    <div class="actions">
                        <button class="button" type="button" data-testid="service-leave" disabled=busy on:click=leave>"记录留置送达"</button>
                        <button class="button button--secondary" type="button" on:click=move |_| refusing.set(false)>"返回签收"</button>
                    </div>
                }>
                <SignaturePad who="受送达人".to_owned() busy=busy on_signed=Callback::new(sign) />
                <button class="button button--secondary" type="button" data-testid="service-refuse"
                    on:click=move |_| refusing.set(true)>"拒绝签收（留置送达）"</button>
            </Show>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
    .into_any()
}
