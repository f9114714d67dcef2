//! The inspector's day as pure rules: which packs an enterprise gets, how a new inspection and
//! a finding raised from a checklist item start out, progress through the checklist, and what
//! stands between an inspection and its signatures.
//!
//! The PWA's screens only wire inputs to these functions, so the rules are tested here natively.

use chrono::{DateTime, NaiveDate, Utc};

use crate::ids::{FindingId, InspectionId, UserId};
use crate::model::{
    CheckIn, Enterprise, Finding, FindingStatus, FireVenue, Inspection, InspectionKind,
    InspectorRef, ItemResult, Level, Measure, Outcome, PackRef, Subsector, User,
};
use crate::packs::{self, ChecklistItem, ChecklistPack};
use crate::plan::Entry;
use crate::validation::{self, FieldError};

/// The packs pre-selected for an enterprise on `day`: the version in force that day of every pack
/// of its sectors,
/// narrowed to its mine subtypes when it has any (a coal mine that is only 井工 does not get
/// the 露天 pack).
pub fn suggested_packs<'a>(
    enterprise: &Enterprise,
    registry: &'a [ChecklistPack],
    day: NaiveDate,
) -> Vec<&'a ChecklistPack> {
    let latest = crate::packs::in_force_all_in(registry, day);
    latest
        .into_iter()
        .filter(|pack| enterprise.sectors.contains(&pack.sector))
        .filter(|pack| {
            let own: Vec<Subsector> = enterprise
                .subsectors
                .iter()
                .copied()
                .filter(|s| s.sector() == pack.sector)
                .collect();
            own.is_empty()
                || pack.subsectors.is_empty()
                || pack.subsectors.iter().any(|s| own.contains(s))
        })
        .collect()
}

/// What an enterprise added on site needs: a name, and a well-formed 统一社会信用代码 if one is
/// given (the server applies the same shape rule).
pub fn validate_enterprise(e: &Enterprise) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if e.name.trim().is_empty() {
        errors.push(FieldError::new("name", "请填写单位名称"));
    }
    if let Err(error) = crate::validation::check_credit_code(e.credit_code.as_deref()) {
        errors.push(error);
    }
    if e.sectors.is_empty() {
        errors.push(FieldError::new("sectors", "请选择行业领域"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// What the start screen collects.
#[derive(Debug, Clone)]
pub struct StartForm {
    pub kind: InspectionKind,
    /// The signed-in inspector first, then the co-inspectors chosen from the roster.
    pub team: Vec<User>,
    pub packs: Vec<PackRef>,
    pub check_in: Option<CheckIn>,
    pub places: String,
    /// The venue categories, asked when a fire pack is chosen (its composite elements count
    /// per category).
    pub fire_venues: Vec<FireVenue>,
    /// Task, 扫码入企, approval, notice, campaign and cap reason (see `plan::Entry`).
    pub entry: Entry,
    /// The enterprise's inspections this year and its cap, as the phone knows them.
    pub visits_this_year: u32,
    pub cap: Option<u32>,
}

/// The fire pack's id: choosing it asks for the venue categories.
pub const FIRE_PACK: &str = "fire";

/// Builds a new inspection from the start screen and checks it with the core rules, so an
/// inspection that the server would refuse is never started.
pub fn start_inspection(
    form: &StartForm,
    enterprise: &Enterprise,
    by: &User,
    now: DateTime<Utc>,
) -> Result<Inspection, Vec<FieldError>> {
    let mut errors = Vec::new();
    let inspectors: Vec<InspectorRef> = form
        .team
        .iter()
        .map(|u| InspectorRef {
            user_id: u.id,
            name: u.display_name.clone(),
            certificate_no: u.certificate_no.clone().unwrap_or_default(),
        })
        .collect();
    if form.packs.iter().any(|p| p.id.as_str() == FIRE_PACK) && form.fire_venues.is_empty() {
        errors.push(FieldError::new("fire_venues", crate::fire::VENUE_REQUIRED));
    }
    errors.extend(crate::plan::entry_blockers(
        &form.entry,
        form.kind == InspectionKind::Unannounced,
        form.visits_this_year,
        form.cap,
    ));
    if form.check_in.is_none() && form.kind == InspectionKind::Unannounced {
        errors.push(FieldError::new(
            "check_in",
            "四不两直暗访须在现场签到（时间与位置）",
        ));
    }
    let inspection = Inspection {
        entry: form.entry.clone(),
        id: InspectionId::new(),
        org_id: by.org_id,
        enterprise_id: enterprise.id,
        kind: form.kind,
        packs: form.packs.clone(),
        inspectors,
        created_by: by.id,
        started_at: now,
        check_in: form.check_in.clone(),
        places: form.places.trim().to_owned(),
        item_results: Vec::new(),
        summary: String::new(),
        finished_at: None,
        enterprise_signature: None,
        documents: Vec::new(),
        reinspected_findings: Vec::new(),
        fire_venues: form.fire_venues.clone(),
        inspector_signatures: Vec::new(),
        recording: None,
        corrections: vec![],
    };
    if let Err(more) = validation::validate_inspection(&inspection) {
        errors.extend(more);
    }
    if errors.is_empty() {
        Ok(inspection)
    } else {
        Err(errors)
    }
}

/// A finding raised from a 不符合 answer, pre-filled: the item's statement as 隐患描述 (never its
/// question), 重大 for a major item, the clause of the edition in force on the day as legal
/// basis (with 条文待核 when the clause is not verified), and a measure the level allows.
pub fn finding_from_item(
    inspection: &Inspection,
    enterprise: &Enterprise,
    pack: &ChecklistPack,
    item: &ChecklistItem,
    by: UserId,
    now: DateTime<Utc>,
) -> Finding {
    let mut finding = free_finding(inspection, enterprise, by, now);
    finding.item_id = Some(item.id.clone());
    finding.description = pack.statement(item);
    finding.level = item.default_level();
    let basis = pack.legal_basis_on(item, crate::time::china_date(now));
    finding.basis_unverified = basis.as_ref().is_some_and(|b| b.unverified);
    finding.legal_basis = basis.map(|b| b.text).unwrap_or_default();
    finding.measure = default_measure(finding.level);
    finding
}

/// The record of a re-inspection visit (复查) of `findings` (one enterprise's): the officers,
/// the check-in, finished at once. Its 整改复查意见书 is issued on it and served like an order.
pub fn reinspection_record(
    findings: &[&Finding],
    team: &[User],
    by: &User,
    check_in: CheckIn,
    now: DateTime<Utc>,
) -> Result<Inspection, Vec<FieldError>> {
    let Some(first) = findings.first() else {
        return Err(vec![FieldError::new(
            "reinspected_findings",
            "请选择复查的隐患",
        )]);
    };
    if findings
        .iter()
        .any(|f| f.enterprise_id != first.enterprise_id)
    {
        return Err(vec![FieldError::new(
            "reinspected_findings",
            "一份整改复查意见书只对应一个被检查单位",
        )]);
    }
    let mut places: Vec<&str> = Vec::new();
    for f in findings {
        if !f.place.trim().is_empty() && !places.contains(&f.place.trim()) {
            places.push(f.place.trim());
        }
    }
    let inspection = Inspection {
        entry: Default::default(),
        id: InspectionId::new(),
        org_id: first.org_id,
        enterprise_id: first.enterprise_id,
        kind: InspectionKind::Reinspection,
        packs: Vec::new(),
        inspectors: team
            .iter()
            .map(|u| InspectorRef {
                user_id: u.id,
                name: u.display_name.clone(),
                certificate_no: u.certificate_no.clone().unwrap_or_default(),
            })
            .collect(),
        created_by: by.id,
        started_at: check_in.at.min(now),
        check_in: Some(check_in),
        places: places.join("、"),
        item_results: Vec::new(),
        summary: format!("复查隐患 {} 项。", findings.len()),
        finished_at: Some(now),
        enterprise_signature: None,
        documents: Vec::new(),
        reinspected_findings: findings.iter().map(|f| f.id).collect(),
        fire_venues: Vec::new(),
        inspector_signatures: Vec::new(),
        recording: None,
        corrections: vec![],
    };
    validation::validate_inspection(&inspection)?;
    Ok(inspection)
}

/// Why a 隐患描述 cannot go on a document as it stands: it is a question (a checklist prompt
/// copied rather than the problem stated). None when it states something.
pub fn description_issue(text: &str) -> Option<&'static str> {
    let t = text.trim();
    (t.contains('？') || t.contains('?') || t.contains("是否"))
        .then_some("隐患描述须写明存在的问题（陈述句），不能照抄检查问句：请去掉“是否”和问号")
}

/// The finding editor's rules: `validation::validate_finding` plus a 隐患描述 that states the
/// problem. Only the editor applies the second: a record written before statements existed must
/// still sync.
pub fn validate_finding_edit(f: &Finding) -> Result<(), Vec<FieldError>> {
    let mut errors = validation::validate_finding(f).err().unwrap_or_default();
    if let Some(message) = description_issue(&f.description) {
        errors.push(FieldError::new("description", message));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A finding not tied to a checklist item (自由记录).
pub fn free_finding(
    inspection: &Inspection,
    enterprise: &Enterprise,
    by: UserId,
    now: DateTime<Utc>,
) -> Finding {
    Finding {
        id: FindingId::new(),
        inspection_id: inspection.id,
        enterprise_id: enterprise.id,
        org_id: inspection.org_id,
        item_id: None,
        description: String::new(),
        place: String::new(),
        level: Level::General,
        legal_basis: String::new(),
        basis_unverified: false,
        measure: Measure::Immediate,
        deadline: None,
        photos: Vec::new(),
        after_photos: Vec::new(),
        status: FindingStatus::Draft,
        supervised: false,
        created_by: by,
        created_at: now,
        history: Vec::new(),
        corrections: vec![],
    }
}

/// The measure a finding of `level` starts with: a major hazard cannot be 立即整改.
pub fn default_measure(level: Level) -> Measure {
    match level {
        Level::Major => Measure::Deadline,
        Level::General => Measure::Immediate,
    }
}

/// Changes a finding's level and keeps the measure one the level allows.
pub fn set_level(finding: &mut Finding, level: Level) {
    finding.level = level;
    if level == Level::Major && finding.measure == Measure::Immediate {
        finding.measure = Measure::Deadline;
    }
}

/// Changes the measure; a measure without a rectification period drops the deadline.
pub fn set_measure(finding: &mut Finding, measure: Measure) {
    finding.measure = measure;
    if !measure.needs_deadline() {
        finding.deadline = None;
    }
}

/// The answer to an item, keeping the finding ids already linked to it.
pub fn answer(inspection: &Inspection, item_id: &str, outcome: Outcome) -> ItemResult {
    let previous = inspection
        .item_results
        .iter()
        .find(|r| r.item_id == item_id);
    ItemResult {
        item_id: item_id.to_owned(),
        outcome,
        finding_ids: previous.map(|r| r.finding_ids.clone()).unwrap_or_default(),
        note: previous.map(|r| r.note.clone()).unwrap_or_default(),
    }
}

/// Links a finding to the item it was raised from (marking the item 不符合).
pub fn link_finding(inspection: &Inspection, item_id: &str, finding: FindingId) -> ItemResult {
    let mut result = answer(inspection, item_id, Outcome::NonCompliant);
    if !result.finding_ids.contains(&finding) {
        result.finding_ids.push(finding);
    }
    result
}

/// How far the checklist is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub total: usize,
    pub answered: usize,
    pub non_compliant: usize,
}

impl Progress {
    /// Whole percent answered (0 when the checklist is empty).
    pub fn percent(&self) -> u32 {
        (self.answered * 100)
            .checked_div(self.total)
            .map_or(0, |p| p as u32)
    }
}

/// The items an inspection asks, in pack and group order, for the enterprise's subtypes.
pub fn items_of<'a>(
    inspection: &Inspection,
    registry: &'a [ChecklistPack],
    subsectors: &'a [Subsector],
) -> Vec<(&'a ChecklistPack, &'a ChecklistItem)> {
    let mut items = Vec::new();
    for used in &inspection.packs {
        let Some(pack) = packs::get_in(registry, used.id.as_str(), used.version) else {
            continue;
        };
        for group in pack.groups_for(subsectors) {
            items.extend(pack.items_in(&group.id).map(|item| (pack, item)));
        }
    }
    items
}

/// Progress over `items` given the inspection's answers (answers to other items don't count).
pub fn progress<'a>(
    inspection: &Inspection,
    items: impl IntoIterator<Item = &'a ChecklistItem>,
) -> Progress {
    let mut p = Progress::default();
    for item in items {
        p.total += 1;
        match inspection
            .item_results
            .iter()
            .find(|r| r.item_id == item.id)
            .map(|r| r.outcome)
        {
            Some(Outcome::NonCompliant) => {
                p.answered += 1;
                p.non_compliant += 1;
            }
            Some(_) => p.answered += 1,
            None => {}
        }
    }
    p
}

/// Findings counted by level for the finish screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LevelSummary {
    pub general: usize,
    pub major: usize,
}

pub fn summary_by_level(findings: &[Finding]) -> LevelSummary {
    findings.iter().fold(LevelSummary::default(), |mut s, f| {
        match f.level {
            Level::General => s.general += 1,
            Level::Major => s.major += 1,
        }
        s
    })
}

/// What still stands between an inspection and being finished: each finding complete per the
/// core rules, the places filled, every inspector signed, the enterprise signed or refused.
/// Field names of finding errors are prefixed with the finding's position (`findings[0].place`).
pub fn finish_blockers(inspection: &Inspection, findings: &[Finding]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (n, f) in findings.iter().enumerate() {
        if let Err(list) = validation::validate_finding(f) {
            errors.extend(list.into_iter().map(|e| {
                FieldError::new(
                    format!("findings[{n}].{}", e.field),
                    format!("隐患{}：{}", n + 1, e.message),
                )
            }));
        }
    }
    for who in &inspection.inspectors {
        if !inspection
            .inspector_signatures
            .iter()
            .any(|s| s.user_id == who.user_id)
        {
            errors.push(FieldError::new(
                "inspector_signatures",
                format!("请{}签名", who.name),
            ));
        }
    }
    let mut finished = inspection.clone();
    finished.finished_at = Some(finished.finished_at.unwrap_or(inspection.started_at));
    if let Err(list) = validation::validate_inspection(&finished) {
        errors.extend(list);
    }
    errors
}

#[cfg(test)]
mod tests {
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
                .all(|p| p.subsectors.is_empty()
                    || p.subsectors.contains(&Subsector::CoalUnderground))
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
        let alone =
            reinspection_record(&[&f], std::slice::from_ref(&a), &a, check_in(), Utc::now());
        assert!(alone.unwrap_err().iter().any(|e| e.field == "inspectors"));
        let record =
            reinspection_record(&[&f], &[a.clone(), b], &a, check_in(), Utc::now()).unwrap();
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
}
