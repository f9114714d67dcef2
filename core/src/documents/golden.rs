//! Golden-file tests: each document of one realistic inspection rendered as text and compared
//! with `core/tests/golden/<kind>.txt`, so any change in what a document says (numbers,
//! statements, clauses, photo index, rights notice, dates) shows up in review. Run with
//! `ZHICHA_UPDATE_GOLDEN=1` to rewrite the files after an intended change.

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::ids::{OrgId, PackId, PhotoHash};
use crate::model::{
    Enterprise, EnterpriseSignature, FindingStatus, IssuedDocument, ItemResult, Level, Measure,
    OrgUnit, Outcome, PackRef,
};
use crate::protocol::tests::{enterprise, finding, inspection};

fn hash(n: u8) -> PhotoHash {
    PhotoHash::parse(&format!("{n:02x}").repeat(32)).unwrap()
}

/// A 四不两直 visit to an underground coal mine on 2026-07-05 with two findings made from
/// items (a major one with a deadline, one to stop work), answers and signatures.
fn visit() -> (Inspection, Enterprise, Vec<Finding>, Vec<OrgUnit>) {
    let e = enterprise();
    let mut i = inspection();
    let day = |h, m| {
        crate::time::china_offset()
            .with_ymd_and_hms(2026, 7, 5, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    i.started_at = day(9, 5);
    i.finished_at = Some(day(11, 40));
    i.recording = Some(crate::model::Recording {
        recorder: "DSJ-150621-07".into(),
        started_at: Some(day(9, 3)),
        ended_at: Some(day(11, 42)),
        announcement: Some(crate::ids::PhotoHash::of_bytes(b"announcement")),
    });
    i.entry = crate::plan::Entry {
        scan: Some(crate::plan::EntryScan {
            at: day(9, 2),
            text: crate::plan::scan::bureau_code(e.id),
            location: None,
            matches: true,
        }),
        approval: Some(crate::plan::Approval {
            by: "赵志刚".into(),
            on: chrono::NaiveDate::from_ymd_opt(2026, 7, 4).unwrap(),
            reference: "达旗应急审〔2026〕31号".into(),
        }),
        campaign: "治本攻坚三年行动".into(),
        ..Default::default()
    };
    i.enterprise_id = e.id;
    i.packs = vec![PackRef {
        id: PackId::new("coal-underground"),
        version: 2,
    }];
    i.places = "主斜井、1302综采工作面、井底车场".into();
    i.summary = "现场检查了主斜井、1302综采工作面和井底车场。".into();
    i.item_results = [
        ("coal-ug-8-03", Outcome::NonCompliant),
        ("coal-ug-5-01", Outcome::NonCompliant),
        ("coal-ug-4-01", Outcome::Compliant),
        ("coal-ug-9-01", Outcome::NotApplicable),
    ]
    .into_iter()
    .map(|(id, outcome)| ItemResult {
        item_id: id.into(),
        outcome,
        finding_ids: vec![],
        note: String::new(),
    })
    .collect();
    i.enterprise_signature = Some(EnterpriseSignature::Signed {
        signer_name: "李四".into(),
        at: day(11, 40),
        image: None,
    });
    let pack = crate::packs::get("coal-underground", 2).unwrap();
    let from = |item: &str, measure: Measure, photos: Vec<PhotoHash>, place: &str| {
        let item = pack.item(item).unwrap();
        let mut f =
            crate::fieldwork::finding_from_item(&i, &e, pack, item, i.created_by, day(10, 0));
        f.place = place.into();
        f.measure = measure;
        f.deadline =
            (measure == Measure::Deadline).then(|| NaiveDate::from_ymd_opt(2026, 7, 20).unwrap());
        f.photos = photos;
        f.status = FindingStatus::Submitted;
        f
    };
    let findings = vec![
        from(
            "coal-ug-8-03",
            Measure::Deadline,
            vec![hash(0xa1), hash(0xa2)],
            "1302综采工作面",
        ),
        from(
            "coal-ug-5-01",
            Measure::StopWork,
            vec![hash(0xb3)],
            "1302综采工作面回风巷",
        ),
    ];
    assert!(findings.iter().all(|f| f.level == Level::Major));
    let bureau = OrgUnit {
        id: OrgId::new(),
        parent_id: None,
        name: "达拉特旗应急管理局".into(),
        doc_code: "达旗应急".into(),
        region: "达拉特旗".into(),
        review_authority: "达拉特旗人民政府".into(),
        court: "达拉特旗人民法院".into(),
    };
    let team = OrgUnit {
        id: i.org_id,
        parent_id: Some(bureau.id),
        name: "执法一队".into(),
        doc_code: String::new(),
        region: "达拉特旗".into(),
        review_authority: String::new(),
        court: String::new(),
    };
    let _ = finding; // the shared fixture's finding is not part of this visit
    (i, e, findings, vec![bureau, team])
}

fn render(doc: &FilledDocument) -> String {
    let mut out = format!("【{}】\n", doc.title);
    for field in &doc.fields {
        out.push_str(&format!("{}：{}\n", field.label, field.value));
    }
    for note in &doc.notes {
        out.push_str(&format!("［提示］{note}\n"));
    }
    out
}

fn check(name: &str, text: &str) {
    let path = format!("{}/tests/golden/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("ZHICHA_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (ZHICHA_UPDATE_GOLDEN=1 writes it)"));
    assert_eq!(text, want, "{name} differs from {path}");
}

/// Issues every document the visit requires, numbered on device A7 (after `earlier` other
/// visits of the year).
fn issue_all(i: &mut Inspection, findings: &[Finding], earlier: u32) {
    let mut counter = DocumentCounter::new(DeviceCode::parse("A7").unwrap());
    let at = i.finished_at.unwrap();
    for _ in 0..earlier {
        counter.allocate("达旗应急", DocumentKind::InspectionRecord, at);
    }
    for kind in required_documents(i, findings) {
        let n = counter.number_for("达旗应急", &i.documents, kind, at);
        i.documents.push(IssuedDocument {
            kind,
            number: n.to_string(),
            issued_at: at,
            service: None,
        });
    }
}

/// The issued document as filled from the visit's records.
fn filled(
    issued: &IssuedDocument,
    i: &Inspection,
    e: &Enterprise,
    findings: &[Finding],
    rights: &Rights,
) -> FilledDocument {
    let number: DocumentNumber = issued.number.parse().unwrap();
    fill(
        issued.kind,
        &DocumentSource {
            inspection: i,
            enterprise: e,
            findings,
            number: Some(&number),
            original_order: "",
            packs: crate::packs::all(),
            rights,
        },
    )
}

#[test]
fn every_document_of_a_visit_reads_as_its_golden_file() {
    let (mut i, e, findings, orgs) = visit();
    let rights = Rights::for_org(i.org_id, &orgs);
    assert_eq!(
        rights.review_authority, "达拉特旗人民政府",
        "inherited from the bureau"
    );
    issue_all(&mut i, &findings, 1);
    let at = i.finished_at.unwrap();
    assert_eq!(i.documents.len(), 3, "record, order and on-site measures");
    for issued in &i.documents {
        let doc = filled(issued, &i, &e, &findings, &rights);
        let text = render(&doc);
        assert!(
            !text.contains('？') && !text.contains("是否"),
            "a question printed:\n{text}"
        );
        assert!(
            !text.contains("年0") && !text.contains("月0"),
            "a leading zero:\n{text}"
        );
        check(&format!("{:?}", issued.kind), &text);
    }

    // Served on site: the order signed for, the decision refused and left before a witness.
    let served_at = at + chrono::Duration::minutes(10);
    for d in &mut i.documents {
        d.service = match d.kind {
            DocumentKind::RectificationOrder => Some(crate::model::Service::Signed {
                recipient: "李四".into(),
                at: served_at,
                image: Some(hash(0xc4)),
            }),
            DocumentKind::OnSiteMeasures => Some(crate::model::Service::Left {
                recipient: "李四".into(),
                witness: "周六（村委会主任）".into(),
                note: "文书已张贴于调度室门口并拍照。".into(),
                at: served_at,
            }),
            _ => None,
        };
    }
    crate::validation::validate_inspection(&i).expect("a valid served record");
    let source = DocumentSource {
        inspection: &i,
        enterprise: &e,
        findings: &findings,
        number: None,
        original_order: "",
        packs: crate::packs::all(),
        rights: &rights,
    };
    check(
        "ServiceReceipt",
        &render(&service_receipt(&source).unwrap()),
    );
    let order_number: DocumentNumber = i
        .documents
        .iter()
        .find(|d| d.kind == DocumentKind::RectificationOrder)
        .unwrap()
        .number
        .parse()
        .unwrap();
    let order = fill(
        DocumentKind::RectificationOrder,
        &DocumentSource {
            number: Some(&order_number),
            ..source
        },
    );
    assert_eq!(
        order.value("receipt"),
        Some("李四（2026年7月5日11时50分签收）")
    );

    // The 复查 of the order: its N, the verdicts, the order it follows up.
    let order = i
        .documents
        .iter()
        .find(|d| d.kind == DocumentKind::RectificationOrder)
        .unwrap();
    let number = order
        .number
        .parse::<DocumentNumber>()
        .unwrap()
        .with_kind(DocumentKind::ReinspectionOpinion);
    let mut done = findings[0].clone();
    done.status = FindingStatus::Verified;
    let mut re = i.clone();
    re.kind = crate::model::InspectionKind::Reinspection;
    re.started_at = crate::time::china_offset()
        .with_ymd_and_hms(2026, 7, 21, 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    re.finished_at = Some(re.started_at + chrono::Duration::minutes(50));
    let original = format!(
        "{} {}",
        crate::time::document_date(order.issued_at),
        order.number
    );
    let doc = fill(
        DocumentKind::ReinspectionOpinion,
        &DocumentSource {
            inspection: &re,
            enterprise: &e,
            findings: std::slice::from_ref(&done),
            number: Some(&number),
            original_order: &original,
            packs: crate::packs::all(),
            rights: &rights,
        },
    );
    check("ReinspectionOpinion", &render(&doc));
}

#[test]
fn a_bureau_without_its_review_authority_gets_a_note_not_a_silent_default() {
    let (i, e, findings, mut orgs) = visit();
    for o in &mut orgs {
        o.review_authority.clear();
    }
    let rights = Rights::for_org(i.org_id, &orgs);
    let doc = fill(
        DocumentKind::RectificationOrder,
        &DocumentSource {
            inspection: &i,
            enterprise: &e,
            findings: &findings,
            number: None,
            original_order: "",
            packs: crate::packs::all(),
            rights: &rights,
        },
    );
    assert_eq!(doc.value("rights"), Some(RIGHTS_NOTICE));
    assert!(
        doc.notes.iter().any(|n| n.contains("行政复议机关")),
        "{:?}",
        doc.notes
    );
}

#[test]
fn the_visits_documents_make_one_pdf() {
    let (mut i, e, findings, orgs) = visit();
    let rights = Rights::for_org(i.org_id, &orgs);
    issue_all(&mut i, &findings, 0);
    let documents: Vec<FilledDocument> = i
        .documents
        .iter()
        .map(|d| filled(d, &i, &e, &findings, &rights))
        .collect();
    let sheets: Vec<pdf::PdfSheet> = documents
        .iter()
        .map(|document| pdf::PdfSheet {
            authority: "达拉特旗应急管理局",
            document,
        })
        .collect();
    let bytes = pdf::pdf(&sheets);
    let text = pdf::text_of(&bytes);
    assert!(text.contains("达旗应急责改〔2026〕A7-0001号"), "{text}");
    assert!(text.contains(&findings[0].description));
    if let Some(path) = std::env::var_os("ZHICHA_PDF_OUT") {
        std::fs::write(path, &bytes).unwrap();
    }
}
