//! Serving an order on site, offline: a refusal recorded as 留置送达 with its witness, which the
//! 文书送达回执 then shows; without a witness nothing is saved and the inspector is told why.
//! And the documents as a PDF made on the phone.

use chrono::Utc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlInputElement;
use zhicha::pages::Page;
use zhicha::state;
use zhicha_core::ids::OrgId;
use zhicha_core::model::{DocumentKind, FindingStatus, IssuedDocument, Service};

use crate::fixtures;
use crate::screens::{document, find, open_app, wait_text};

fn fill(el: web_sys::HtmlElement, value: &str) {
    let input: HtmlInputElement = el.dyn_into().unwrap();
    input.set_value(value);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

#[wasm_bindgen_test]
async fn a_refused_order_is_left_before_a_witness_and_the_receipt_says_so() {
    let db = state::db().await.unwrap();
    let user = fixtures::inspector("service-inspector", "李明", "15001", None);
    fixtures::sign_in(&user).await;
    let mut enterprise = fixtures::enterprise();
    enterprise.org_id = user.org_id;
    db.put_enterprises(std::slice::from_ref(&enterprise))
        .await
        .unwrap();
    let mut inspection = fixtures::inspection(&enterprise);
    inspection.created_by = user.id;
    inspection.finished_at = Some(Utc::now());
    let finding = fixtures::finding(&inspection, FindingStatus::Submitted);
    for (kind, number) in [
        (
            DocumentKind::InspectionRecord,
            "达旗应急检记〔2026〕A1-0007号",
        ),
        (
            DocumentKind::RectificationOrder,
            "达旗应急责改〔2026〕A1-0007号",
        ),
    ] {
        inspection.documents.push(IssuedDocument {
            kind,
            number: number.to_owned(),
            issued_at: Utc::now(),
            service: None,
        });
    }
    db.save_inspection(&inspection).await.unwrap();
    db.create_finding(&finding, &[]).await.unwrap();

    let app = open_app(&Page::Documents(inspection.id).path());
    let panel = find("[data-testid=service]").await;
    assert_eq!(panel.get_attribute("data-kind").as_deref(), Some("责改"));
    find("[data-testid=service-refuse]").await.click();
    // No witness: refused, nothing stored.
    find("[data-testid=service-leave]").await.click();
    wait_text("留置送达须有见证人", true).await;
    let stored = db.inspection(inspection.id).await.unwrap().unwrap();
    assert!(stored.documents.iter().all(|d| d.service.is_none()));

    fill(
        find("[data-testid=service-witness]").await,
        "周六（村委会主任）",
    );
    fill(
        find("[data-testid=service-note]").await,
        "文书已留置于调度室并拍照",
    );
    find("[data-testid=service-leave]").await.click();
    let receipt = find("[data-testid=document][data-kind=送达]").await;
    let text = receipt.inner_text();
    assert!(text.contains("达旗应急责改〔2026〕A1-0007号"), "{text}");
    assert!(text.contains("留置送达"), "{text}");
    assert!(text.contains("见证人：周六（村委会主任）"), "{text}");
    assert!(
        document()
            .query_selector("[data-testid=service]")
            .unwrap()
            .is_none(),
        "served once"
    );
    drop(app);

    let stored = db.inspection(inspection.id).await.unwrap().unwrap();
    let order = stored
        .documents
        .iter()
        .find(|d| d.kind == DocumentKind::RectificationOrder)
        .unwrap();
    match &order.service {
        Some(Service::Left { witness, note, .. }) => {
            assert_eq!(witness, "周六（村委会主任）");
            assert_eq!(note, "文书已留置于调度室并拍照");
        }
        other => panic!("not recorded as left: {other:?}"),
    }
    // Queued for sync with the record.
    let queued = db.outbox(1000).await.unwrap();
    assert!(
        queued
            .iter()
            .any(|r| r.mutation.entity_id == inspection.id.0)
    );
}

#[wasm_bindgen_test]
async fn the_documents_become_a_pdf_on_the_phone_with_the_number_and_the_statement() {
    let db = state::db().await.unwrap();
    let mut enterprise = fixtures::enterprise();
    enterprise.org_id = OrgId::new();
    db.put_enterprises(std::slice::from_ref(&enterprise))
        .await
        .unwrap();
    let mut inspection = fixtures::inspection(&enterprise);
    inspection.finished_at = Some(Utc::now());
    let mut finding = fixtures::finding(&inspection, FindingStatus::Submitted);
    finding.description = "主要通风机未保持连续运转".to_owned();
    inspection.documents.push(IssuedDocument {
        kind: DocumentKind::RectificationOrder,
        number: "达旗应急责改〔2026〕A1-0031号".to_owned(),
        issued_at: Utc::now(),
        service: None,
    });
    db.save_inspection(&inspection).await.unwrap();
    db.create_finding(&finding, &[]).await.unwrap();

    // Everything comes from the phone's database: no server is involved.
    let (bytes, name) = zhicha::pages::inspect::documents_pdf(inspection.id)
        .await
        .unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(
        name.ends_with("-执法文书.pdf") && name.starts_with(&enterprise.name),
        "{name}"
    );
    let text = zhicha_core::documents::pdf::text_of(&bytes);
    assert!(text.contains("达旗应急责改〔2026〕A1-0031号"), "{text}");
    assert!(text.contains("主要通风机未保持连续运转"), "{text}");
    assert!(text.contains("责令限期整改指令书"), "{text}");
    // The button on the documents screen makes it too (here it is saved as a download).
    let app = open_app(&Page::Documents(inspection.id).path());
    find("[data-testid=make-pdf]").await.click();
    let status = find("[data-testid=pdf-status]").await;
    assert!(
        status.inner_text().contains("PDF"),
        "{}",
        status.inner_text()
    );
    drop(app);
}
