//! GB 35181 composite judgement (综合判定) during an inspection: the venue categories a fire
//! pack distinguishes, the composite elements counted as they are answered 不符合, and the
//! 重大火灾隐患 finding proposed once a rule's threshold is reached. The proposal names the
//! elements and the rule; the verdict itself stays with collective discussion (≥ 3 people), as
//! the standard requires, so the finding says so.

use chrono::{DateTime, Utc};

use crate::fieldwork::{default_measure, free_finding};
use crate::ids::UserId;
use crate::model::{Enterprise, Finding, FireVenue, Inspection, Level, Outcome};
use crate::packs::{self, ChecklistPack, CompositeHit, CompositeRule, ItemKind};

/// Why a start form with a fire pack cannot go ahead.
pub const VENUE_REQUIRED: &str = "使用消防检查表须选择场所类别：综合判定要素按场所类别计数";

/// The venue categories the composite rules of a pack distinguish, in the order of its rules.
pub fn venues_of(pack: &ChecklistPack) -> Vec<FireVenue> {
    let mut venues = Vec::new();
    for rule in &pack.composite_rules {
        for venue in &rule.venues {
            if !venues.contains(venue) {
                venues.push(*venue);
            }
        }
    }
    venues
}

/// The packs an inspection uses that carry composite rules.
pub fn composite_packs<'a>(
    inspection: &Inspection,
    registry: &'a [ChecklistPack],
) -> Vec<&'a ChecklistPack> {
    inspection
        .packs
        .iter()
        .filter_map(|r| packs::get_in(registry, r.id.as_str(), r.version))
        .filter(|p| !p.composite_rules.is_empty())
        .collect()
}

/// One rule as it stands in an inspection: the count so far, and whether a finding for it was
/// already recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeState {
    pub hit: CompositeHit,
    /// The elements answered 不符合 that count for this rule: (clause, statement).
    pub elements: Vec<(String, String)>,
    /// A finding made from this rule exists (its `item_id` is the rule's id).
    pub recorded: bool,
}

impl CompositeState {
    /// The threshold is met and no finding records it yet: propose one.
    pub fn proposes(&self) -> bool {
        self.hit.reached && !self.recorded
    }
}

/// The composite rules that apply to the inspection's venues, counted from its answers.
pub fn composite_states(
    inspection: &Inspection,
    registry: &[ChecklistPack],
    findings: &[Finding],
) -> Vec<CompositeState> {
    let present: Vec<&str> = inspection
        .item_results
        .iter()
        .filter(|r| r.outcome == Outcome::NonCompliant)
        .map(|r| r.item_id.as_str())
        .collect();
    let mut states = Vec::new();
    for pack in composite_packs(inspection, registry) {
        for hit in pack.evaluate_composite(&inspection.fire_venues, &present) {
            let Some(rule) = pack.composite_rules.iter().find(|r| r.id == hit.rule_id) else {
                continue;
            };
            let elements = counted(pack, rule, &present);
            let recorded = findings
                .iter()
                .any(|f| f.item_id.as_deref() == Some(rule.id.as_str()));
            states.push(CompositeState {
                hit,
                elements,
                recorded,
            });
        }
    }
    states
}

fn counted(pack: &ChecklistPack, rule: &CompositeRule, present: &[&str]) -> Vec<(String, String)> {
    rule.items
        .iter()
        .filter(|id| present.contains(&id.as_str()))
        .filter_map(|id| pack.item(id))
        .filter(|item| item.kind == ItemKind::Composite)
        .map(|item| {
            (
                item.clause
                    .as_deref()
                    .unwrap_or_default()
                    .trim_end_matches('?')
                    .to_owned(),
                item.statement.clone(),
            )
        })
        .collect()
}

/// Whether `item_id` (a finding's) names a composite rule of the registry rather than an item.
pub fn is_rule(registry: &[ChecklistPack], item_id: &str) -> bool {
    registry
        .iter()
        .any(|p| p.composite_rules.iter().any(|r| r.id == item_id))
}

/// The 重大火灾隐患 finding a reached rule proposes: the elements and the rule named, the
/// standard's composite judgement cited (the edition in force on the day), major, with a
/// rectification period. None when the rule is not in the inspection's packs or not reached.
pub fn composite_finding(
    inspection: &Inspection,
    enterprise: &Enterprise,
    registry: &[ChecklistPack],
    rule_id: &str,
    by: UserId,
    now: DateTime<Utc>,
) -> Option<Finding> {
    let pack = composite_packs(inspection, registry)
        .into_iter()
        .find(|p| p.composite_rules.iter().any(|r| r.id == rule_id))?;
    let rule = pack.composite_rules.iter().find(|r| r.id == rule_id)?;
    let state = composite_states(inspection, registry, &[])
        .into_iter()
        .find(|s| s.hit.rule_id == rule_id)?;
    if !state.hit.reached {
        return None;
    }
    let venues: Vec<&str> = inspection
        .fire_venues
        .iter()
        .filter(|v| rule.venues.contains(v))
        .map(|v| v.label_zh())
        .collect();
    let elements: Vec<String> = state
        .elements
        .iter()
        .map(|(clause, statement)| format!("{statement}（{clause}）"))
        .collect();
    let day = crate::time::china_date(now);
    let edition = pack.standard.edition_on(day);
    let mut finding = free_finding(inspection, enterprise, by, now);
    finding.item_id = Some(rule.id.clone());
    finding.level = Level::Major;
    finding.measure = default_measure(Level::Major);
    finding.description = format!(
        "{}存在综合判定要素{}项：{}；达到“{}”，经综合判定构成重大火灾隐患（须经集体讨论确定）",
        venues.join("、"),
        state.elements.len(),
        elements.join("；"),
        rule.description
    );
    let mut basis = format!(
        "《{}》（{}）综合判定：{}",
        edition.name, edition.doc_number, rule.description
    );
    finding.basis_unverified = rule.check != packs::CheckStatus::Verified || !edition.text_found;
    if finding.basis_unverified {
        basis.push('（');
        basis.push_str(packs::PENDING_CHECK_MARK);
        basis.push('）');
    }
    finding.legal_basis = basis;
    Some(finding)
}

#[cfg(all(test, feature = "embedded-packs"))]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::ids::{EnterpriseId, InspectionId, OrgId};
    use crate::model::{InspectionKind, ItemResult, Sector};

    fn fire_inspection(venues: Vec<FireVenue>, bad: &[&str]) -> Inspection {
        let pack = packs::in_force_in(
            packs::all(),
            "fire",
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        )
        .unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
        Inspection {
            entry: Default::default(),
            id: InspectionId::new(),
            org_id: OrgId::new(),
            enterprise_id: EnterpriseId::new(),
            kind: InspectionKind::Unannounced,
            packs: vec![pack.pack_ref()],
            inspectors: vec![],
            created_by: UserId::new(),
            started_at: at,
            check_in: None,
            places: String::new(),
            item_results: bad
                .iter()
                .map(|id| ItemResult {
                    item_id: (*id).to_owned(),
                    outcome: Outcome::NonCompliant,
                    note: String::new(),
                    finding_ids: vec![],
                })
                .collect(),
            summary: String::new(),
            finished_at: None,
            enterprise_signature: None,
            documents: vec![],
            reinspected_findings: vec![],
            fire_venues: venues,
            inspector_signatures: vec![],
            recording: None,
            corrections: vec![],
        }
    }

    fn enterprise() -> Enterprise {
        Enterprise {
            key: false,
            grade: None,
            id: EnterpriseId::new(),
            org_id: OrgId::new(),
            name: "某商场".to_owned(),
            credit_code: None,
            address: "达拉特旗".to_owned(),
            county: "达拉特旗".to_owned(),
            township: "树林召镇".to_owned(),
            sectors: vec![Sector::Fire],
            subsectors: vec![],
            legal_representative: "王某".to_owned(),
            contact_phone: String::new(),
            location: None,
            ad_hoc: false,
            merged_into: None,
        }
    }

    #[test]
    fn the_venues_come_from_the_packs_rules() {
        let fire = packs::latest("fire").unwrap();
        let venues = venues_of(fire);
        assert!(venues.contains(&FireVenue::Crowded) && venues.contains(&FireVenue::Other));
        assert!(venues_of(packs::latest("coal-underground").unwrap()).is_empty());
    }

    #[test]
    fn a_crowded_venue_is_proposed_a_major_finding_at_three_elements() {
        let two = fire_inspection(vec![FireVenue::Crowded], &["fire-7-3-1", "fire-7-5"]);
        let states = composite_states(&two, packs::all(), &[]);
        let crowded = states
            .iter()
            .find(|s| s.hit.rule_id == "fire-crowded-3")
            .unwrap();
        assert_eq!(crowded.hit.count, 2);
        assert!(!crowded.proposes());
        let e = enterprise();
        let now = two.started_at;
        assert!(
            composite_finding(
                &two,
                &e,
                packs::all(),
                "fire-crowded-3",
                two.created_by,
                now
            )
            .is_none()
        );

        let three = fire_inspection(
            vec![FireVenue::Crowded],
            &["fire-7-3-1", "fire-7-5", "fire-7-9-3", "fire-6-1"],
        );
        let states = composite_states(&three, packs::all(), &[]);
        let crowded = states
            .iter()
            .find(|s| s.hit.rule_id == "fire-crowded-3")
            .unwrap();
        assert!(crowded.proposes());
        assert_eq!(
            crowded.elements.len(),
            3,
            "the direct element 6.1 does not count"
        );
        let f = composite_finding(
            &three,
            &e,
            packs::all(),
            "fire-crowded-3",
            three.created_by,
            now,
        )
        .unwrap();
        assert_eq!(f.level, Level::Major);
        assert_eq!(f.item_id.as_deref(), Some("fire-crowded-3"));
        assert!(
            f.description.starts_with("人员密集场所存在综合判定要素3项"),
            "{}",
            f.description
        );
        assert!(f.description.contains("7.3.1") && f.description.contains("7.9.3"));
        assert!(f.description.contains("集体讨论"));
        assert!(!f.description.contains('？'));
        // Cited by the edition in force that day (2025's text was not checked).
        assert!(f.legal_basis.contains("GB 35181-2025"), "{}", f.legal_basis);
        assert!(f.legal_basis.ends_with("（条文待核）"));
        // Once recorded, it is no longer proposed.
        let states = composite_states(&three, packs::all(), &[f]);
        assert!(
            states
                .iter()
                .all(|s| !s.proposes() || s.hit.rule_id != "fire-crowded-3")
        );
        assert!(is_rule(packs::all(), "fire-crowded-3"));
        assert!(!is_rule(packs::all(), "fire-7-3-1"));
    }

    #[test]
    fn rules_of_other_venues_do_not_apply() {
        let i = fire_inspection(
            vec![FireVenue::Other],
            &["fire-7-3-1", "fire-7-5", "fire-7-9-3"],
        );
        let states = composite_states(&i, packs::all(), &[]);
        assert!(states.iter().all(|s| s.hit.rule_id == "fire-other-6"));
        assert!(!states[0].hit.reached, "other venues need six elements");
    }
}
