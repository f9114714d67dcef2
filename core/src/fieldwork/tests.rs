use super::*;
use crate::ids::{EnterpriseId, OrgId};
use crate::model::{EnterpriseSignature, GeoPoint, InspectorSignature, Role, Sector};

/// A fixed day the packs in force are chosen for (the tests must not change with the date).
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

fn user(name: &str, cert: Option<&str>) -> User {
    User {
        id: UserId::new(),
        username: name.to_owned(),
        display_name: name.to_owned(),
        role: Role::Inspector,
        org_id: OrgId::new(),
        certificate_no: cert.map(str::to_owned),
    }
}

fn coal_mine(subsectors: Vec<Subsector>) -> Enterprise {
    Enterprise {
        key: false,
        grade: None,
        id: EnterpriseId::new(),
        org_id: OrgId::new(),
        name: "某煤矿".to_owned(),
        credit_code: None,
        address: "达拉特旗".to_owned(),
        county: "达拉特旗".to_owned(),
        township: "树林召镇".to_owned(),
        sectors: vec![Sector::Coal],
        subsectors,
        legal_representative: "王某".to_owned(),
        contact_phone: String::new(),
        location: None,
        ad_hoc: false,
        merged_into: None,
    }
}

fn check_in() -> CheckIn {
    CheckIn {
        at: Utc::now(),
        location: Some(GeoPoint {
            lat: 40.3,
            lon: 110.0,
            accuracy_m: Some(15.0),
        }),
        gate_photo: None,
        note: String::new(),
    }
}

/// A 四不两直 visit's entry: approved, no code at the gate (with the reason).
fn approved_entry() -> Entry {
    Entry {
        no_scan_reason: crate::plan::NO_SCAN_REASONS[0].to_owned(),
        approval: Some(crate::plan::Approval {
            by: "王队长".to_owned(),
            on: today(),
            reference: String::new(),
        }),
        ..Entry::default()
    }
}

fn started(enterprise: &Enterprise) -> Inspection {
    let a = user("张三", Some("15010001"));
    let b = user("李四", Some("15010002"));
    let packs = suggested_packs(enterprise, packs::all(), today())
        .into_iter()
        .map(ChecklistPack::pack_ref)
        .collect();
    let form = StartForm {
        kind: InspectionKind::Unannounced,
        team: vec![a.clone(), b],
        packs,
        check_in: Some(check_in()),
        places: String::new(),
        fire_venues: vec![],
        entry: approved_entry(),
        visits_this_year: 0,
        cap: None,
    };
    start_inspection(&form, enterprise, &a, Utc::now()).expect("valid start")
}

#[test]
fn an_enterprise_added_on_site_needs_a_name_a_sector_and_a_well_formed_code() {
    let mut e = coal_mine(vec![]);
    assert_eq!(validate_enterprise(&e), Ok(()));
    e.credit_code = Some("91150621MA0N00000".to_owned());
    e.name = " ".to_owned();
    e.sectors.clear();
    let fields: Vec<String> = validate_enterprise(&e)
        .unwrap_err()
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["name", "credit_code", "sectors"]);
}

#[test]
fn a_coal_mine_gets_only_the_pack_of_its_subtype() {
    let underground = coal_mine(vec![Subsector::CoalUnderground]);
    let packs = suggested_packs(&underground, packs::all(), today());
    assert!(!packs.is_empty());
    assert!(packs.iter().all(|p| p.sector == Sector::Coal));
    assert!(
        packs
            .iter()
            .all(|p| p.subsectors.is_empty() || p.subsectors.contains(&Subsector::CoalUnderground))
    );
    let any_coal = suggested_packs(&coal_mine(vec![]), packs::all(), today());
    assert!(any_coal.len() > packs.len(), "no subtype: every coal pack");
}

#[test]
fn starting_needs_two_certified_inspectors_and_an_unannounced_check_in() {
    let e = coal_mine(vec![Subsector::CoalUnderground]);
    let a = user("张三", Some("15010001"));
    let form = StartForm {
        kind: InspectionKind::Unannounced,
        team: vec![a.clone()],
        packs: vec![],
        check_in: None,
        places: String::new(),
        fire_venues: vec![],
        entry: approved_entry(),
        visits_this_year: 0,
        cap: None,
    };
    let errors = start_inspection(&form, &e, &a, Utc::now()).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert!(fields.contains(&"check_in"));
    assert!(fields.contains(&"inspectors"));
    assert!(fields.contains(&"packs"));
    let fire = packs::in_force_in(packs::all(), FIRE_PACK, today()).unwrap();
    let no_venue = StartForm {
        team: vec![a.clone(), user("李四", Some("15062102"))],
        check_in: Some(check_in()),
        packs: vec![fire.pack_ref()],
        ..form.clone()
    };
    let errors = start_inspection(&no_venue, &e, &a, Utc::now()).unwrap_err();
    assert!(
        errors.iter().any(|e| e.field == "fire_venues"),
        "{errors:?}"
    );
    let with_venue = StartForm {
        fire_venues: vec![FireVenue::Crowded],
        ..no_venue
    };
    let started = start_inspection(&with_venue, &e, &a, Utc::now()).unwrap();
    assert_eq!(started.fire_venues, vec![FireVenue::Crowded]);
    let no_cert = StartForm {
        team: vec![a.clone(), user("李四", None)],
        check_in: Some(check_in()),
        packs: vec![suggested_packs(&e, packs::all(), today())[0].pack_ref()],
        ..form
    };
    let errors = start_inspection(&no_cert, &e, &a, Utc::now()).unwrap_err();
    assert!(errors.iter().any(|e| e.message.contains("执法证号")));
}

#[test]
fn a_finding_from_a_major_item_is_major_with_its_clause_and_not_immediate() {
    let e = coal_mine(vec![Subsector::CoalUnderground]);
    let i = started(&e);
    let (pack, item) = items_of(&i, packs::all(), &e.subsectors)
        .into_iter()
        .find(|(_, item)| item.major && item.clause.is_some())
        .expect("a major item");
    let f = finding_from_item(&i, &e, pack, item, i.created_by, Utc::now());
    assert_eq!(f.level, Level::Major);
    assert_eq!(f.measure, Measure::Deadline);
    assert!(f.legal_basis.contains(&pack.standard.name));
    assert_eq!(f.item_id.as_deref(), Some(item.id.as_str()));
    assert_eq!(f.status, FindingStatus::Draft);
}

#[test]
fn a_finding_states_the_violation_and_cites_the_edition_of_its_day() {
    use chrono::TimeZone;
    let e = coal_mine(vec![Subsector::CoalUnderground]);
    let i = started(&e);
    let at = |y, m, d| {
        crate::time::china_offset()
            .with_ymd_and_hms(y, m, d, 10, 0, 0)
            .unwrap()
    };
    let on = |when: DateTime<chrono::FixedOffset>| {
        let day = when.date_naive();
        let pack = packs::in_force_in(packs::all(), "coal-underground", day).unwrap();
        let item = pack.item("coal-ug-8-03").unwrap();
        finding_from_item(&i, &e, pack, item, i.created_by, when.with_timezone(&Utc))
    };
    let june = on(at(2026, 6, 30));
    assert!(
        june.legal_basis.contains("应急管理部令第4号"),
        "{}",
        june.legal_basis
    );
    assert!(!june.basis_unverified);
    let july = on(at(2026, 7, 1));
    assert!(
        july.legal_basis.contains("应急管理部令第21号"),
        "{}",
        july.legal_basis
    );
    assert!(july.basis_unverified, "order 21's text was not checked");
    // The description is the item's statement, never its question.
    assert!(!june.description.is_empty());
    assert!(!june.description.contains('？') && !june.description.contains("是否"));

    let fire = |y, m, d| {
        let when = at(y, m, d);
        let pack = packs::in_force_in(packs::all(), "fire", when.date_naive()).unwrap();
        let item = pack.item("fire-6-1").unwrap();
        finding_from_item(&i, &e, pack, item, i.created_by, when.with_timezone(&Utc))
    };
    assert!(fire(2025, 10, 31).legal_basis.contains("GB 35181-2017"));
    assert!(fire(2025, 11, 1).legal_basis.contains("GB 35181-2025"));
}

#[test]
fn a_reinspection_record_needs_two_officers_and_requires_its_opinion() {
    let e = coal_mine(vec![]);
    let i = started(&e);
    let mut f = free_finding(&i, &e, i.created_by, Utc::now());
    f.place = "主斜井".into();
    let a = user("张三", Some("15060001"));
    let b = user("李四", Some("15060002"));
    let alone = reinspection_record(&[&f], std::slice::from_ref(&a), &a, check_in(), Utc::now());
    assert!(alone.unwrap_err().iter().any(|e| e.field == "inspectors"));
    let record = reinspection_record(&[&f], &[a.clone(), b], &a, check_in(), Utc::now()).unwrap();
    assert_eq!(record.kind, InspectionKind::Reinspection);
    assert_eq!(record.reinspected_findings, vec![f.id]);
    assert_eq!(record.places, "主斜井");
    assert!(record.finished_at.is_some() && record.enterprise_signature.is_none());
    assert_eq!(
        crate::documents::required_documents(&record, &[]),
        vec![crate::model::DocumentKind::ReinspectionOpinion],
        "a re-inspection visit issues its opinion, not a 现场检查记录"
    );
}

#[test]
fn the_editor_refuses_a_question_as_the_description() {
    let e = coal_mine(vec![]);
    let i = started(&e);
    let mut f = free_finding(&i, &e, i.created_by, Utc::now());
    f.place = "主斜井".into();
    f.description = "主要通风机是否连续运转？".into();
    let errors = validate_finding_edit(&f).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.field == "description" && e.message.contains("陈述句"))
    );
    assert!(
        validation::validate_finding(&f).is_ok(),
        "records already made still sync"
    );
    f.description = "主要通风机未连续运转".into();
    assert!(validate_finding_edit(&f).is_ok());
}

#[test]
fn raising_the_level_to_major_leaves_immediate_rectification() {
    let e = coal_mine(vec![]);
    let i = started(&e);
    let mut f = free_finding(&i, &e, i.created_by, Utc::now());
    assert_eq!(f.measure, Measure::Immediate);
    set_level(&mut f, Level::Major);
    assert_eq!(f.measure, Measure::Deadline);
    f.deadline = Some(Utc::now().date_naive());
    set_measure(&mut f, Measure::FileCase);
    assert_eq!(
        f.deadline, None,
        "a measure without a period drops the deadline"
    );
}

#[test]
fn progress_counts_answers_of_the_asked_items_only() {
    let e = coal_mine(vec![Subsector::CoalUnderground]);
    let mut i = started(&e);
    let items = items_of(&i, packs::all(), &e.subsectors);
    assert!(items.len() > 10);
    i.item_results
        .push(answer(&i, &items[0].1.id, Outcome::Compliant));
    i.item_results
        .push(answer(&i, &items[1].1.id, Outcome::NonCompliant));
    i.item_results.push(answer(
        &i,
        "not-an-item-of-this-inspection",
        Outcome::Compliant,
    ));
    let p = progress(&i, items.iter().map(|(_, item)| *item));
    assert_eq!(p.total, items.len());
    assert_eq!(p.answered, 2);
    assert_eq!(p.non_compliant, 1);
    assert_eq!(p.percent(), (200 / items.len()) as u32);
}

#[test]
fn linking_a_finding_keeps_earlier_links_and_marks_non_compliant() {
    let e = coal_mine(vec![]);
    let mut i = started(&e);
    let first = FindingId::new();
    i.item_results.push(link_finding(&i, "x", first));
    let second = FindingId::new();
    let r = link_finding(&i, "x", second);
    assert_eq!(r.outcome, Outcome::NonCompliant);
    assert_eq!(r.finding_ids, vec![first, second]);
    i.item_results[0] = r;
    assert_eq!(
        answer(&i, "x", Outcome::Compliant).finding_ids.len(),
        2,
        "changing the answer keeps the findings visible"
    );
}

#[test]
fn finishing_is_blocked_until_findings_places_and_signatures_are_complete() {
    let e = coal_mine(vec![]);
    let mut i = started(&e);
    let mut f = free_finding(&i, &e, i.created_by, Utc::now());
    let blockers = finish_blockers(&i, std::slice::from_ref(&f));
    let fields: Vec<String> = blockers.iter().map(|b| b.field.clone()).collect();
    assert!(fields.contains(&"findings[0].description".to_owned()));
    assert!(fields.contains(&"places".to_owned()));
    assert!(fields.contains(&"enterprise_signature".to_owned()));
    assert_eq!(
        fields
            .iter()
            .filter(|f| *f == "inspector_signatures")
            .count(),
        2
    );
    f.description = "瓦斯检查空班".to_owned();
    f.place = "1201 工作面".to_owned();
    i.places = "1201 工作面、主井".to_owned();
    i.enterprise_signature = Some(EnterpriseSignature::Refused {
        witness_name: "赵某".to_owned(),
        note: String::new(),
        at: Utc::now(),
    });
    for who in i.inspectors.clone() {
        i.inspector_signatures.push(InspectorSignature {
            user_id: who.user_id,
            name: who.name,
            image: crate::ids::PhotoHash::of_bytes(b"sig"),
            at: Utc::now(),
        });
    }
    assert_eq!(finish_blockers(&i, &[f]), vec![]);
    assert_eq!(
        summary_by_level(&[]),
        LevelSummary {
            general: 0,
            major: 0
        }
    );
}

#[test]
fn item_groups_keep_walking_order_and_name_pack_and_group() {
    let e = coal_mine(vec![Subsector::CoalUnderground]);
    let i = started(&e);
    let items = items_of(&i, packs::all(), &e.subsectors);
    let groups = item_groups(&items);
    assert!(groups.len() > 3, "the coal checklist has several groups");
    let flat: Vec<&str> = groups
        .iter()
        .flat_map(|g| g.items.iter().map(|item| item.id.as_str()))
        .collect();
    let walked: Vec<&str> = items.iter().map(|(_, item)| item.id.as_str()).collect();
    assert_eq!(flat, walked, "every item once, in the runner's order");
    let mut keys: Vec<&str> = groups.iter().map(|g| g.key.as_str()).collect();
    keys.dedup();
    assert_eq!(keys.len(), groups.len(), "a group is one run of items");
    let first = &groups[0];
    let pack = first.pack;
    let title = &pack.group(&first.items[0].group).unwrap().title;
    assert_eq!(first.title, format!("{} · {title}", pack.title));
    assert_eq!(&first.group_title, title);
    assert_eq!(first.key, group_key(pack, first.items[0]));
}

#[test]
fn a_group_counts_its_own_answers_and_is_complete_when_all_are_answered() {
    let e = coal_mine(vec![Subsector::CoalUnderground]);
    let mut i = started(&e);
    let items = items_of(&i, packs::all(), &e.subsectors);
    let groups = item_groups(&items);
    let (first, second) = (&groups[0], &groups[1]);
    i.item_results
        .push(answer(&i, &second.items[0].id, Outcome::Compliant));
    assert_eq!(first.progress(&i).answered, 0);
    assert_eq!(second.progress(&i).answered, 1);
    assert_eq!(second.progress(&i).open(), second.items.len() - 1);
    for item in &first.items {
        i.item_results
            .push(answer(&i, &item.id, Outcome::NonCompliant));
    }
    let p = first.progress(&i);
    assert!(p.is_complete());
    assert_eq!(p.non_compliant, first.items.len());
    assert!(!second.progress(&i).is_complete() || second.items.len() == 1);
}

#[test]
fn a_group_marked_not_applicable_touches_only_its_unanswered_items() {
    let e = coal_mine(vec![Subsector::CoalUnderground]);
    let mut i = started(&e);
    let items = items_of(&i, packs::all(), &e.subsectors);
    let groups = item_groups(&items);
    let group = groups
        .iter()
        .find(|g| g.items.len() >= 3)
        .expect("a group of three items or more");
    let finding = FindingId::new();
    i.item_results
        .push(link_finding(&i, &group.items[0].id, finding));
    i.item_results
        .push(answer(&i, &group.items[1].id, Outcome::Compliant));
    let results = group_not_applicable(&i, group.items.iter().copied());
    let touched: Vec<&str> = results.iter().map(|r| r.item_id.as_str()).collect();
    let open: Vec<&str> = group.items[2..]
        .iter()
        .map(|item| item.id.as_str())
        .collect();
    assert_eq!(touched, open, "answered items are never overwritten");
    assert!(
        results
            .iter()
            .all(|r| r.outcome == Outcome::NotApplicable && r.finding_ids.is_empty())
    );
    assert!(
        results.iter().all(|r| groups
            .iter()
            .all(|g| g.key == group.key || g.items.iter().all(|item| item.id != r.item_id))),
        "no item of another group"
    );

    i.item_results.extend(results);
    assert!(group.progress(&i).is_complete());
    assert_eq!(
        outcome_of(&i, &group.items[0].id),
        Some(Outcome::NonCompliant)
    );
    assert!(
        group_not_applicable(&i, group.items.iter().copied()).is_empty(),
        "nothing left to mark"
    );
}

#[test]
fn a_finished_inspection_gets_no_group_not_applicable() {
    let e = coal_mine(vec![Subsector::CoalUnderground]);
    let mut i = started(&e);
    let items = items_of(&i, packs::all(), &e.subsectors);
    let groups = item_groups(&items);
    i.finished_at = Some(i.started_at);
    assert!(group_not_applicable(&i, groups[0].items.iter().copied()).is_empty());
}
