use super::*;
use crate::ids::FindingId;
use crate::model::{FindingStatus, IssuedDocument, Level};
use crate::protocol::tests::{enterprise, finding, inspection, t0};
use chrono::{Duration, TimeZone, Utc};
use std::collections::HashSet;

fn finding_of(i: &Inspection, measure: Measure) -> Finding {
    let mut f = finding();
    f.inspection_id = i.id;
    f.measure = measure;
    f
}

#[test]
fn inspection_record_is_always_required() {
    let i = inspection();
    assert_eq!(
        required_documents(&i, &[]),
        vec![DocumentKind::InspectionRecord]
    );
}

#[test]
fn a_deadline_finding_requires_a_rectification_order() {
    let i = inspection();
    let f = finding_of(&i, Measure::Deadline);
    assert_eq!(
        required_documents(&i, &[f]),
        vec![
            DocumentKind::InspectionRecord,
            DocumentKind::RectificationOrder
        ]
    );
}

#[test]
fn suspension_or_stop_work_requires_an_on_site_measures_decision() {
    let i = inspection();
    for m in [Measure::SuspendOperations, Measure::StopWork] {
        let docs = required_documents(&i, &[finding_of(&i, m)]);
        assert_eq!(
            docs,
            vec![DocumentKind::InspectionRecord, DocumentKind::OnSiteMeasures]
        );
    }
    for m in [Measure::Immediate, Measure::FileCase] {
        assert_eq!(
            required_documents(&i, &[finding_of(&i, m)]),
            vec![DocumentKind::InspectionRecord]
        );
    }
}

#[test]
fn reinspection_requires_a_reinspection_opinion() {
    let mut i = inspection();
    i.kind = InspectionKind::Reinspection;
    assert!(required_documents(&i, &[]).contains(&DocumentKind::ReinspectionOpinion));
    let mut j = inspection();
    j.reinspected_findings = vec![FindingId::new()];
    assert!(required_documents(&j, &[]).contains(&DocumentKind::ReinspectionOpinion));
}

#[test]
fn findings_of_other_inspections_do_not_require_documents() {
    let i = inspection();
    let other = finding(); // different inspection_id
    assert_eq!(
        required_documents(&i, &[other]),
        vec![DocumentKind::InspectionRecord]
    );
}

#[test]
fn missing_documents_excludes_those_already_numbered() {
    let mut i = inspection();
    let f = finding_of(&i, Measure::Deadline);
    i.documents.push(IssuedDocument {
        kind: DocumentKind::InspectionRecord,
        number: "达旗应急检记〔2026〕A0-0001号".into(),
        issued_at: t0(),
        service: None,
    });
    assert_eq!(
        missing_documents(&i, &[f]),
        vec![DocumentKind::RectificationOrder]
    );
}

#[test]
fn document_number_formats_and_parses_back() {
    let n = DocumentNumber {
        org_code: "达旗应急".into(),
        kind: DocumentKind::RectificationOrder,
        year: 2026,
        device: DeviceCode::parse("A7").unwrap(),
        seq: 3,
    };
    assert_eq!(n.to_string(), "达旗应急责改〔2026〕A7-0003号");
    assert_eq!(n.to_string().parse::<DocumentNumber>().unwrap(), n);
    assert!(
        "达旗应急责改〔2026〕A7-0003"
            .parse::<DocumentNumber>()
            .is_err()
    );
    assert!(
        "达旗应急其他〔2026〕A7-0003号"
            .parse::<DocumentNumber>()
            .is_err()
    );
    assert!("责改〔2026〕A7-0003号".parse::<DocumentNumber>().is_err());
}

#[test]
fn two_devices_offline_on_the_same_day_never_collide() {
    let mut a = DocumentCounter::new(DeviceCode::from_index(0));
    let mut b = DocumentCounter::new(DeviceCode::from_index(1));
    let day = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
    let mut seen = HashSet::new();
    for n in 0..50 {
        for kind in DocumentKind::ALL {
            let at = day + Duration::minutes(n);
            assert!(seen.insert(a.allocate("达旗应急", kind, at).to_string()));
            assert!(seen.insert(b.allocate("达旗应急", kind, at).to_string()));
        }
    }
    assert_eq!(seen.len(), 400);
}

#[test]
fn one_sequence_serves_every_type_and_restarts_each_year_in_china_time() {
    let mut c = DocumentCounter::new(DeviceCode::parse("B3").unwrap());
    let t = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    assert_eq!(c.allocate("X", DocumentKind::InspectionRecord, t).seq, 1);
    assert_eq!(c.allocate("X", DocumentKind::InspectionRecord, t).seq, 2);
    assert_eq!(c.allocate("X", DocumentKind::RectificationOrder, t).seq, 3);
    // 2026-12-31 17:00 UTC is already 2027-01-01 in China.
    let new_year = Utc.with_ymd_and_hms(2026, 12, 31, 17, 0, 0).unwrap();
    let n = c.allocate("X", DocumentKind::InspectionRecord, new_year);
    assert_eq!((n.year, n.seq), (2027, 1));
}

#[test]
fn the_documents_of_one_inspection_share_its_number() {
    let mut c = DocumentCounter::new(DeviceCode::parse("A7").unwrap());
    let t = Utc.with_ymd_and_hms(2026, 7, 5, 2, 0, 0).unwrap();
    c.allocate("达旗应急", DocumentKind::InspectionRecord, t); // an earlier inspection
    let mut issued = Vec::new();
    for kind in [
        DocumentKind::InspectionRecord,
        DocumentKind::OnSiteMeasures,
        DocumentKind::RectificationOrder,
    ] {
        let n = c.number_for("达旗应急", &issued, kind, t);
        issued.push(IssuedDocument {
            kind,
            number: n.to_string(),
            issued_at: t,
            service: None,
        });
    }
    let numbers: Vec<&str> = issued.iter().map(|d| d.number.as_str()).collect();
    assert_eq!(
        numbers,
        [
            "达旗应急检记〔2026〕A7-0002号",
            "达旗应急现决〔2026〕A7-0002号",
            "达旗应急责改〔2026〕A7-0002号"
        ]
    );
    // The 复查 of that order takes its N.
    let order: DocumentNumber = numbers[2].parse().unwrap();
    assert_eq!(
        order
            .with_kind(DocumentKind::ReinspectionOpinion)
            .to_string(),
        "达旗应急复查〔2026〕A7-0002号"
    );
    // The next inspection gets the next N.
    assert_eq!(
        c.number_for("达旗应急", &[], DocumentKind::InspectionRecord, t)
            .seq,
        3
    );
}

#[test]
fn the_shared_sequence_continues_past_the_old_per_type_counters() {
    let stored = r#"{"device":"C1","entries":[
        {"kind":"inspection_record","year":2026,"last":4},
        {"kind":"rectification_order","year":2026,"last":9}]}"#;
    let mut c: DocumentCounter = serde_json::from_str(stored).unwrap();
    let t = Utc.with_ymd_and_hms(2026, 7, 5, 2, 0, 0).unwrap();
    assert_eq!(c.allocate("X", DocumentKind::InspectionRecord, t).seq, 10);
    assert_eq!(c.entries.len(), 1);
}

#[test]
fn counter_survives_persistence_without_reusing_numbers() {
    let mut c = DocumentCounter::new(DeviceCode::parse("C1").unwrap());
    let first = c.allocate("X", DocumentKind::InspectionRecord, t0());
    let stored = serde_json::to_string(&c).unwrap();
    let mut restored: DocumentCounter = serde_json::from_str(&stored).unwrap();
    assert_ne!(
        restored.allocate("X", DocumentKind::InspectionRecord, t0()),
        first
    );
}

#[test]
fn device_codes_from_distinct_indexes_are_distinct_and_valid() {
    let mut seen = HashSet::new();
    for n in 0..26_640 {
        let code = DeviceCode::from_index(n);
        assert!(DeviceCode::parse(code.as_str()).is_ok(), "{code}");
        assert!(seen.insert(code), "index {n} repeats a code");
    }
    assert_eq!(DeviceCode::from_index(0).as_str(), "A0");
    assert_eq!(DeviceCode::from_index(239).as_str(), "Z9");
    assert_eq!(DeviceCode::from_index(240).as_str(), "A00");
}

#[test]
fn device_code_rejects_ambiguous_or_malformed_codes() {
    for bad in ["", "7A", "a7", "O1", "I2", "ABCDE", "A-1"] {
        assert!(DeviceCode::parse(bad).is_err(), "{bad}");
    }
    assert!(serde_json::from_str::<DeviceCode>("\"a1\"").is_err());
}

#[test]
fn every_document_has_a_number_and_inspectors_field() {
    for kind in DocumentKind::ALL {
        let keys: Vec<_> = kind.fields().iter().map(|f| f.key).collect();
        assert!(
            keys.contains(&"number") && keys.contains(&"inspectors"),
            "{kind:?}"
        );
        assert!(keys.contains(&"enterprise"), "{kind:?}");
    }
    let record: Vec<_> = DocumentKind::InspectionRecord
        .fields()
        .iter()
        .map(|f| f.label)
        .collect();
    for label in [
        "被检查单位",
        "地址",
        "法定代表人（负责人）",
        "检查时间",
        "检查场所",
        "检查人员及执法证号",
        "检查情况",
    ] {
        assert!(record.contains(&label), "{label}");
    }
}

#[test]
fn filled_rectification_order_lists_problems_basis_and_deadline() {
    let mut i = inspection();
    i.finished_at = Some(t0() + Duration::hours(2));
    let e = enterprise();
    let mut f = finding_of(&i, Measure::Deadline);
    f.basis_unverified = true;
    let immediate = {
        let mut g = finding_of(&i, Measure::Immediate);
        g.level = Level::General;
        g.description = "灭火器过期".into();
        g
    };
    let mut counter = DocumentCounter::new(DeviceCode::parse("A7").unwrap());
    let number = counter.allocate("达旗应急", DocumentKind::RectificationOrder, t0());
    let findings = [f, immediate];
    let doc = fill(
        DocumentKind::RectificationOrder,
        &DocumentSource {
            inspection: &i,
            enterprise: &e,
            findings: &findings,
            number: Some(&number),
            original_order: "",
            packs: crate::packs::all(),
            rights: &Rights::default(),
        },
    );
    assert_eq!(doc.value("number"), Some("达旗应急责改〔2026〕A7-0001号"));
    assert!(
        doc.value("problems")
            .unwrap()
            .contains("1. 1302工作面存在串联通风")
    );
    assert!(
        !doc.value("problems").unwrap().contains("灭火器过期"),
        "only 限期整改 items"
    );
    assert!(
        doc.value("basis")
            .unwrap()
            .ends_with("第八条（三）（条文待核）")
    );
    assert!(
        doc.value("requirement")
            .unwrap()
            .contains("2026年3月20日前整改完毕")
    );
    assert_eq!(doc.value("rights"), Some(RIGHTS_NOTICE));
    assert!(
        doc.value("inspectors")
            .unwrap()
            .contains("张三（执法证号：15060001）")
    );
    assert!(doc.missing().is_empty(), "{:?}", doc.missing());
}

#[test]
fn filled_inspection_record_shows_times_in_china_time_and_reports_missing_fields() {
    let mut i = inspection();
    i.finished_at = Some(t0() + Duration::hours(2));
    let e = enterprise();
    let doc = fill(
        DocumentKind::InspectionRecord,
        &DocumentSource {
            inspection: &i,
            enterprise: &e,
            findings: &[],
            number: None,
            original_order: "",
            packs: crate::packs::all(),
            rights: &Rights::default(),
        },
    );
    assert_eq!(
        doc.value("time"),
        Some("2026年3月2日9时30分 至 2026年3月2日11时30分")
    );
    assert_eq!(doc.value("situation"), Some("未发现问题。"));
    let missing = doc.missing();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].field, "number");
    assert_eq!(missing[0].message, "现场检查记录：请填写文书编号");
}

#[test]
fn reinspection_opinion_states_each_finding_result() {
    let mut i = inspection();
    i.kind = InspectionKind::Reinspection;
    let e = enterprise();
    let mut done = finding();
    done.status = FindingStatus::Verified;
    let mut open = finding();
    open.status = FindingStatus::Rectifying;
    open.description = "水仓容量不足".into();
    let doc = fill(
        DocumentKind::ReinspectionOpinion,
        &DocumentSource {
            inspection: &i,
            enterprise: &e,
            findings: &[done, open],
            number: None,
            original_order: "2026年3月2日 达旗应急责改〔2026〕A7-0001号",
            packs: crate::packs::all(),
            rights: &Rights::default(),
        },
    );
    let opinion = doc.value("opinion").unwrap();
    assert!(opinion.contains("1302工作面存在串联通风：已整改"));
    assert!(opinion.contains("水仓容量不足：未整改完毕"));
}

#[test]
fn a_fireworks_sites_record_names_the_fireworks_standard_with_the_chemicals_one() {
    use crate::model::{Sector, Subsector};
    let mut i = inspection();
    let pack = crate::packs::latest("hazardous-chemicals").unwrap();
    i.packs = vec![pack.pack_ref()];
    let mut e = enterprise();
    e.sectors = vec![Sector::HazardousChemicals];
    let source = |e: &crate::model::Enterprise| {
        fill(
            DocumentKind::InspectionRecord,
            &DocumentSource {
                inspection: &i,
                enterprise: e,
                findings: &[],
                number: None,
                original_order: "",
                packs: crate::packs::all(),
                rights: &Rights::default(),
            },
        )
        .value("packs")
        .unwrap()
        .to_owned()
    };
    // A chemical plant: only the chemicals standard.
    let plant = source(&e);
    assert!(plant.contains("化工和危险化学品"), "{plant}");
    assert!(!plant.contains("烟花爆竹"), "{plant}");
    // A fireworks wholesaler: both, the fireworks one by its own name.
    e.subsectors = vec![Subsector::Fireworks];
    let fireworks = source(&e);
    assert!(
        fireworks.contains("及《烟花爆竹生产经营单位重大生产安全事故隐患判定标准"),
        "{fireworks}"
    );
}

#[test]
fn a_reinspection_names_the_order_it_follows_or_what_is_known_of_it() {
    let mut first = inspection();
    let f = finding_of(&first, Measure::Deadline);
    // Not held: only the finding's date, and on the phone that the record is elsewhere.
    assert_eq!(
        original_order(None, &f, FilledOn::Device),
        format!(
            "{}发现的隐患（原检查记录不在本机）",
            crate::time::document_date(f.created_at)
        )
    );
    assert!(original_order(None, &f, FilledOn::Server).ends_with("发现的隐患"));
    // Held without an order: the day it was ordered on site.
    assert!(
        original_order(Some(&first), &f, FilledOn::Server)
            .ends_with("检查时责令整改（无指令书编号）")
    );
    // With its order: the order's date and number.
    let mut counter = DocumentCounter::new(DeviceCode::parse("A7").unwrap());
    let number = counter.allocate("达旗应急", DocumentKind::RectificationOrder, t0());
    first.documents.push(crate::model::IssuedDocument {
        kind: DocumentKind::RectificationOrder,
        number: number.to_string(),
        issued_at: t0(),
        service: None,
    });
    assert_eq!(
        original_order(Some(&first), &f, FilledOn::Device),
        format!("2026年3月2日 {number}")
    );
}
