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

mod groups;
pub use groups::{ItemGroup, group_key, group_not_applicable, item_groups, outcome_of};

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
mod tests;
