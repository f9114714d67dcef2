//! Sector checklist packs: their types, the embedded pack files (`checklists/*.json`) and the
//! registry the app and the server read them from, plus GB 35181 composite counting.
//!
//! Packs are versioned and the registry is append-only: an inspection records the pack id and
//! version it used, and that version stays in the registry after a newer one is added, so old
//! records stay readable and valid.

use std::collections::HashSet;
#[cfg(feature = "embedded-packs")]
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::PackId;
use crate::model::{FireVenue, Level, PackRef, Sector, Subsector};
use crate::protocol::PackSummary;

/// The mark shown next to, and printed with, every clause not checked against the official
/// text (reference README).
pub const PENDING_CHECK_MARK: &str = "条文待核";

/// The pack files, embedded so the server needs no data directory (feature `embedded-packs`,
/// on by default; the app leaves it off and downloads the packs at login, which keeps them out
/// of its first load). Append here (never replace) when a pack gets a new version: old versions
/// must stay.
#[cfg(feature = "embedded-packs")]
const PACK_FILES: &[(&str, &str)] = &[
    (
        "coal-underground",
        include_str!("../../checklists/coal-underground.json"),
    ),
    (
        "coal-open-pit",
        include_str!("../../checklists/coal-open-pit.json"),
    ),
    (
        "non-coal-mine",
        include_str!("../../checklists/non-coal-mine.json"),
    ),
    (
        "hazardous-chemicals",
        include_str!("../../checklists/hazardous-chemicals.json"),
    ),
    ("fire", include_str!("../../checklists/fire.json")),
    ("urban-gas", include_str!("../../checklists/urban-gas.json")),
    (
        "construction",
        include_str!("../../checklists/construction.json"),
    ),
    (
        "industry-trade",
        include_str!("../../checklists/industry-trade.json"),
    ),
];

/// How well a clause was checked against a public copy of the official text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CheckStatus {
    /// Clause number and substance matched.
    Verified,
    /// Text cut off or clause number inferred from order.
    Partial,
    /// Listed from general knowledge only.
    Unverified,
}

/// What answering "不符合" to an item means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ItemKind {
    /// A 重大事故隐患 per se under the standard.
    Major,
    /// A GB 35181 composite element (综合判定要素): counted per venue type, not major alone.
    Composite,
    /// 通用要点: a common 一般隐患 point, not tied to a clause.
    Common,
}

/// The standard a pack implements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StandardInfo {
    /// Without book-title marks, e.g. `煤矿重大事故隐患判定标准`.
    pub name: String,
    /// 文号 / standard number, e.g. `应急管理部令第4号`, `GB 35181-2017`.
    pub doc_number: String,
    pub edition: String,
    #[serde(default)]
    pub effective: Option<NaiveDate>,
    /// Set when a newer edition is in force or announced, so inspectors know the basis.
    #[serde(default)]
    pub newer_edition_note: Option<String>,
    /// The standard as cited in the reference data (`criteria.json` `standard`).
    #[serde(default)]
    pub citation: String,
    #[serde(default)]
    pub scope_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistGroup {
    pub id: String,
    pub title: String,
    /// The mine subtype the group applies to (None: the whole pack).
    #[serde(default)]
    pub subsector: Option<Subsector>,
    /// The 通用要点 group.
    #[serde(default)]
    pub common: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistItem {
    /// Stable across pack versions, e.g. `coal-ug-8-03`.
    pub id: String,
    pub group: String,
    /// e.g. `第八条（三）`; a `?` in it means the number is not fully verified. None for 通用要点.
    #[serde(default)]
    pub clause: Option<String>,
    /// The question answered on site.
    pub prompt: String,
    /// The situation is a 重大事故隐患 per se.
    pub major: bool,
    pub kind: ItemKind,
    /// What to photograph.
    #[serde(default)]
    pub evidence_hint: String,
    /// None for 通用要点 (no clause to check).
    #[serde(default)]
    pub check: Option<CheckStatus>,
    /// For an item re-listed from another pack (same criterion): the origin item's id.
    #[serde(default)]
    pub same_as: Option<String>,
}

impl ChecklistItem {
    /// Clause text checked against the official text.
    pub fn verified(&self) -> bool {
        self.check == Some(CheckStatus::Verified)
    }

    /// Shown and printed with 条文待核.
    pub fn needs_text_check(&self) -> bool {
        matches!(
            self.check,
            Some(CheckStatus::Partial | CheckStatus::Unverified)
        )
    }

    /// The level a finding made from this item starts at.
    pub fn default_level(&self) -> Level {
        if self.major {
            Level::Major
        } else {
            Level::General
        }
    }

    /// The id counted for statistics by criterion (the origin item).
    pub fn criterion_id(&self) -> &str {
        self.same_as.as_deref().unwrap_or(&self.id)
    }
}

/// A GB 35181 composite judgement rule: at a venue of one of `venues`, `threshold` or more of
/// `items` present make a major fire hazard (subject to collective discussion).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompositeRule {
    pub id: String,
    pub venues: Vec<FireVenue>,
    pub threshold: u32,
    pub items: Vec<String>,
    pub description: String,
    pub check: CheckStatus,
}

/// One sector checklist, versioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChecklistPack {
    pub id: PackId,
    pub version: u32,
    pub sector: Sector,
    #[serde(default)]
    pub subsectors: Vec<Subsector>,
    pub title: String,
    pub standard: StandardInfo,
    pub groups: Vec<ChecklistGroup>,
    pub items: Vec<ChecklistItem>,
    #[serde(default)]
    pub composite_rules: Vec<CompositeRule>,
}

impl ChecklistPack {
    pub fn pack_ref(&self) -> PackRef {
        PackRef {
            id: self.id.clone(),
            version: self.version,
        }
    }

    pub fn summary(&self) -> PackSummary {
        PackSummary {
            id: self.id.clone(),
            version: self.version,
            title: self.title.clone(),
            sector: self.sector,
            subsectors: self.subsectors.clone(),
            item_count: u32::try_from(self.items.len()).unwrap_or(u32::MAX),
        }
    }

    pub fn item(&self, id: &str) -> Option<&ChecklistItem> {
        self.items.iter().find(|i| i.id == id)
    }

    pub fn group(&self, id: &str) -> Option<&ChecklistGroup> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// Items of a group, in walking order.
    pub fn items_in<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a ChecklistItem> + 'a {
        self.items.iter().filter(move |i| i.group == group)
    }

    /// Groups that apply to a site of the given subtypes (groups without a subtype always do;
    /// with no subtypes given, every group does).
    pub fn groups_for<'a>(
        &'a self,
        subsectors: &'a [Subsector],
    ) -> impl Iterator<Item = &'a ChecklistGroup> + 'a {
        self.groups.iter().filter(move |g| {
            subsectors.is_empty() || g.subsector.is_none_or(|s| subsectors.contains(&s))
        })
    }

    /// The legal basis a finding made from `item` cites: `《标准》第八条（三）`, with the
    /// 条文待核 mark when the clause is not verified. None for 通用要点.
    pub fn legal_basis(&self, item: &ChecklistItem) -> Option<String> {
        let clause = item.clause.as_deref()?;
        let clause = clause.trim_end_matches('?');
        let mut s = format!(
            "《{}》（{}）{}",
            self.standard.name, self.standard.doc_number, clause
        );
        if item.needs_text_check() {
            s.push('（');
            s.push_str(PENDING_CHECK_MARK);
            s.push('）');
        }
        Some(s)
    }

    /// Evaluates the composite rules that apply to the venue types, given the ids of the
    /// composite items found present (不符合). The result is a prompt for collective
    /// discussion, not a verdict.
    pub fn evaluate_composite(&self, venues: &[FireVenue], present: &[&str]) -> Vec<CompositeHit> {
        let present: HashSet<&str> = present.iter().copied().collect();
        self.composite_rules
            .iter()
            .filter(|r| r.venues.iter().any(|v| venues.contains(v)))
            .map(|r| {
                let count = r
                    .items
                    .iter()
                    .filter(|i| present.contains(i.as_str()))
                    .count();
                let count = u32::try_from(count).unwrap_or(u32::MAX);
                CompositeHit {
                    rule_id: r.id.clone(),
                    description: r.description.clone(),
                    count,
                    threshold: r.threshold,
                    reached: count >= r.threshold,
                }
            })
            .collect()
    }
}

/// The outcome of one composite rule for one inspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompositeHit {
    pub rule_id: String,
    pub description: String,
    pub count: u32,
    pub threshold: u32,
    /// The threshold is met: refer to collective discussion (≥3 people) for a 重大 verdict.
    pub reached: bool,
}

#[cfg(feature = "embedded-packs")]
fn parse_all() -> Vec<ChecklistPack> {
    PACK_FILES
        .iter()
        .map(|(name, json)| {
            // The files are embedded at build time and checked by the tests below, so a
            // parse failure is a build defect, not a runtime condition.
            serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("embedded checklist pack {name} is invalid: {e}"))
        })
        .collect()
}

/// Every embedded pack version, parsed once.
#[cfg(feature = "embedded-packs")]
pub fn all() -> &'static [ChecklistPack] {
    static PACKS: OnceLock<Vec<ChecklistPack>> = OnceLock::new();
    PACKS.get_or_init(parse_all)
}

/// One pack version from the embedded registry.
#[cfg(feature = "embedded-packs")]
pub fn get(id: &str, version: u32) -> Option<&'static ChecklistPack> {
    get_in(all(), id, version)
}

/// The newest version of a pack in the embedded registry.
#[cfg(feature = "embedded-packs")]
pub fn latest(id: &str) -> Option<&'static ChecklistPack> {
    latest_in(all(), id)
}

/// The newest version of every pack: what a new inspection should use.
#[cfg(feature = "embedded-packs")]
pub fn latest_all() -> Vec<&'static ChecklistPack> {
    let mut ids: Vec<&str> = all().iter().map(|p| p.id.as_str()).collect();
    ids.dedup();
    ids.into_iter().filter_map(latest).collect()
}

/// Packs for a sector (newest versions).
#[cfg(feature = "embedded-packs")]
pub fn for_sector(sector: Sector) -> Vec<&'static ChecklistPack> {
    latest_all()
        .into_iter()
        .filter(|p| p.sector == sector)
        .collect()
}

/// `get` over any registry (e.g. packs a device downloaded).
pub fn get_in<'a>(packs: &'a [ChecklistPack], id: &str, version: u32) -> Option<&'a ChecklistPack> {
    packs
        .iter()
        .find(|p| p.id.as_str() == id && p.version == version)
}

/// `latest` over any registry.
pub fn latest_in<'a>(packs: &'a [ChecklistPack], id: &str) -> Option<&'a ChecklistPack> {
    packs
        .iter()
        .filter(|p| p.id.as_str() == id)
        .max_by_key(|p| p.version)
}

/// Finds the item an inspection answered, in the pack versions it recorded.
pub fn resolve_item<'a>(
    packs: &'a [ChecklistPack],
    used: &[PackRef],
    item_id: &str,
) -> Option<(&'a ChecklistPack, &'a ChecklistItem)> {
    used.iter().find_map(|r| {
        let pack = get_in(packs, r.id.as_str(), r.version)?;
        pack.item(item_id).map(|item| (pack, item))
    })
}

#[cfg(all(test, feature = "embedded-packs"))]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A copy of the reference criteria, kept in the repo so this test can run anywhere.
    const CRITERIA: &str = include_str!("../../checklists/reference/criteria.json");

    #[derive(Deserialize)]
    struct Criterion {
        standard: String,
        clause: String,
        prompt_zh: String,
        major: bool,
        evidence_hint_zh: String,
        check: CheckStatus,
    }

    fn criteria() -> Vec<Criterion> {
        serde_json::from_str(CRITERIA).unwrap()
    }

    fn all_items() -> impl Iterator<Item = (&'static ChecklistPack, &'static ChecklistItem)> {
        all()
            .iter()
            .flat_map(|p| p.items.iter().map(move |i| (p, i)))
    }

    #[test]
    fn every_sector_pack_is_embedded_and_parses() {
        let ids: Vec<&str> = all().iter().map(|p| p.id.as_str()).collect();
        for id in [
            "coal-underground",
            "coal-open-pit",
            "non-coal-mine",
            "hazardous-chemicals",
            "fire",
            "urban-gas",
            "construction",
            "industry-trade",
        ] {
            assert!(ids.contains(&id), "missing pack {id}");
        }
        for sector in Sector::ALL {
            assert!(!for_sector(sector).is_empty(), "no pack for {sector:?}");
        }
        for sub in [
            Subsector::CoalUnderground,
            Subsector::CoalOpenPit,
            Subsector::MineUnderground,
            Subsector::MineOpenPit,
            Subsector::TailingsPond,
        ] {
            assert!(
                all().iter().any(|p| p.subsectors.contains(&sub)),
                "no pack covers {sub:?}"
            );
        }
    }

    #[test]
    fn item_and_group_ids_are_unique_across_all_packs() {
        let mut seen = HashSet::new();
        for (_, item) in all_items() {
            assert!(
                seen.insert(item.id.as_str()),
                "duplicate item id {}",
                item.id
            );
            assert!(
                item.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "id {} is not a stable slug",
                item.id
            );
        }
        let mut groups = HashSet::new();
        for p in all() {
            for g in &p.groups {
                assert!(groups.insert(g.id.as_str()), "duplicate group id {}", g.id);
            }
        }
    }

    #[test]
    fn published_item_ids_keep_their_clauses() {
        // Ids are stored in inspections; these must never move to another clause.
        for (id, clause) in [
            ("coal-ug-4-01", "第四条（一）"),
            ("coal-ug-8-03", "第八条（三）"),
            ("coal-op-18-10", "第十八条（十）"),
            ("ncm-ug-1-1", "一（一）1"),
            ("ncm-op-7-3", "二（七）3"),
            ("hc-20", "二十"),
            ("fire-6-10", "6.10"),
            ("fire-7-3-8", "7.3.8?"),
            ("gas-9-04", "第九条（四）"),
            ("con-10", "第十条"),
            ("it-13-01", "第十三条（一）"),
        ] {
            let item = all_items()
                .map(|(_, i)| i)
                .find(|i| i.id == id)
                .unwrap_or_else(|| panic!("{id}"));
            assert_eq!(item.clause.as_deref(), Some(clause), "{id}");
        }
    }

    #[test]
    fn every_criterion_appears_exactly_once_with_its_clause_and_check_status() {
        let crits = criteria();
        assert_eq!(crits.len(), 282);
        let mut matched: HashMap<&str, usize> = HashMap::new();
        for c in &crits {
            let hits: Vec<_> = all_items()
                .filter(|(p, i)| {
                    i.same_as.is_none()
                        && p.standard.citation == c.standard
                        && i.clause.as_deref() == Some(c.clause.as_str())
                        && i.prompt == c.prompt_zh
                })
                .collect();
            assert_eq!(
                hits.len(),
                1,
                "{} {} found {} times",
                c.standard,
                c.clause,
                hits.len()
            );
            let (_, item) = hits[0];
            assert_eq!(item.major, c.major, "{}", item.id);
            assert_eq!(item.check, Some(c.check), "{}", item.id);
            assert_eq!(item.evidence_hint, c.evidence_hint_zh, "{}", item.id);
            *matched.entry(item.id.as_str()).or_default() += 1;
        }
        // And nothing with a clause exists that is not a criterion (or a re-listing of one).
        let origin_with_clause = all_items()
            .filter(|(_, i)| i.clause.is_some() && i.same_as.is_none())
            .count();
        assert_eq!(origin_with_clause, crits.len());
        assert!(matched.values().all(|&n| n == 1));
    }

    #[test]
    fn relisted_items_point_at_an_identical_origin_item() {
        let mut relisted = 0;
        for (p, item) in all_items() {
            let Some(origin_id) = &item.same_as else {
                continue;
            };
            relisted += 1;
            let (op, origin) = all_items()
                .find(|(_, i)| &i.id == origin_id)
                .expect("origin exists");
            assert!(origin.same_as.is_none(), "{} points at a copy", item.id);
            assert_ne!(op.id, p.id, "a pack re-lists its own item {}", item.id);
            assert_eq!(item.clause, origin.clause);
            assert_eq!(item.prompt, origin.prompt);
            assert_eq!(item.check, origin.check);
            assert_eq!(item.major, origin.major);
            assert_eq!(op.standard.citation, p.standard.citation);
        }
        assert!(
            relisted > 0,
            "open-pit coal re-lists the shared management clauses"
        );
    }

    #[test]
    fn no_item_has_an_empty_prompt_or_a_dangling_group() {
        for p in all() {
            for item in &p.items {
                assert!(!item.prompt.trim().is_empty(), "{} empty prompt", item.id);
                assert!(
                    !item.evidence_hint.trim().is_empty(),
                    "{} empty evidence hint",
                    item.id
                );
                assert!(
                    p.group(&item.group).is_some(),
                    "{} in unknown group",
                    item.id
                );
            }
            for g in &p.groups {
                assert!(p.items_in(&g.id).next().is_some(), "empty group {}", g.id);
                assert!(!g.title.trim().is_empty());
            }
        }
    }

    #[test]
    fn every_pack_has_a_common_points_group_without_clauses() {
        for p in all() {
            let common: Vec<_> = p.groups.iter().filter(|g| g.common).collect();
            assert_eq!(common.len(), 1, "{}", p.id);
            assert!(common[0].title.contains("通用要点"), "{}", p.id);
            let items: Vec<_> = p.items_in(&common[0].id).collect();
            assert!(items.len() >= 5, "{} has too few common points", p.id);
            for i in items {
                assert_eq!(i.kind, ItemKind::Common);
                assert!(
                    i.clause.is_none() && i.check.is_none() && !i.major,
                    "{}",
                    i.id
                );
                assert_eq!(p.legal_basis(i), None);
            }
            // And only common items lack a clause.
            for i in p.items.iter().filter(|i| i.kind != ItemKind::Common) {
                assert!(i.clause.is_some() && i.check.is_some(), "{}", i.id);
            }
        }
    }

    #[test]
    fn packs_record_their_standard_and_newer_edition_notes() {
        for p in all() {
            assert!(
                !p.standard.name.is_empty() && !p.standard.doc_number.is_empty(),
                "{}",
                p.id
            );
            assert!(
                !p.standard.edition.is_empty() && !p.standard.citation.is_empty(),
                "{}",
                p.id
            );
            assert!(p.standard.citation.contains(&p.standard.name), "{}", p.id);
        }
        for id in [
            "coal-underground",
            "coal-open-pit",
            "fire",
            "construction",
            "non-coal-mine",
        ] {
            let note = latest(id).unwrap().standard.newer_edition_note.as_deref();
            assert!(
                note.is_some_and(|n| !n.is_empty()),
                "{id} lacks its newer-edition note"
            );
        }
        assert!(
            latest("fire")
                .unwrap()
                .standard
                .newer_edition_note
                .as_deref()
                .unwrap()
                .contains("GB 35181-2025")
        );
    }

    #[test]
    fn fire_chapter_7_items_are_composite_elements_not_major() {
        let fire = latest("fire").unwrap();
        for item in fire.items.iter().filter(|i| i.kind != ItemKind::Common) {
            let ch7 = item.clause.as_deref().unwrap().starts_with('7');
            assert_eq!(item.kind == ItemKind::Composite, ch7, "{}", item.id);
            assert_eq!(item.major, !ch7, "{}", item.id);
            assert_eq!(
                item.default_level(),
                if ch7 { Level::General } else { Level::Major }
            );
        }
        // Outside fire, every criterion is a major hazard per se.
        for p in all().iter().filter(|p| p.id.as_str() != "fire") {
            for i in p.items.iter().filter(|i| i.kind != ItemKind::Common) {
                assert_eq!(i.kind, ItemKind::Major, "{}", i.id);
            }
        }
    }

    #[test]
    fn composite_rules_reference_composite_items_only() {
        let fire = latest("fire").unwrap();
        assert_eq!(fire.composite_rules.len(), 4);
        for r in &fire.composite_rules {
            assert!(!r.items.is_empty());
            for id in &r.items {
                assert_eq!(
                    fire.item(id).map(|i| i.kind),
                    Some(ItemKind::Composite),
                    "{} in {}",
                    id,
                    r.id
                );
            }
        }
        let crowded = fire
            .composite_rules
            .iter()
            .find(|r| r.id == "fire-crowded-3")
            .unwrap();
        assert_eq!(crowded.items.len(), 11); // 7.3.1–7.3.9, 7.5, 7.9.3
    }

    #[test]
    fn composite_count_reaches_the_crowded_venue_threshold_at_three() {
        let fire = latest("fire").unwrap();
        let two = fire.evaluate_composite(&[FireVenue::Crowded], &["fire-7-3-1", "fire-7-5"]);
        let crowded = |hits: &[CompositeHit]| {
            hits.iter()
                .find(|h| h.rule_id == "fire-crowded-3")
                .cloned()
                .unwrap()
        };
        assert!(!crowded(&two).reached);
        let three = fire.evaluate_composite(
            &[FireVenue::Crowded],
            &["fire-7-3-1", "fire-7-5", "fire-7-9-3"],
        );
        assert!(crowded(&three).reached);
        assert_eq!(crowded(&three).count, 3);
        // An element outside the crowded list does not count towards that rule.
        let other = fire.evaluate_composite(
            &[FireVenue::Crowded],
            &["fire-7-3-1", "fire-7-5", "fire-7-1-1"],
        );
        assert!(!crowded(&other).reached);
        // "Other" venues need six of any chapter-7 element.
        let five: Vec<&str> = fire.composite_rules[3]
            .items
            .iter()
            .take(5)
            .map(String::as_str)
            .collect();
        assert!(!fire.evaluate_composite(&[FireVenue::Other], &five)[0].reached);
    }

    #[test]
    fn legal_basis_marks_unverified_clauses() {
        let coal = latest("coal-underground").unwrap();
        let verified = coal.item("coal-ug-8-03").unwrap();
        assert_eq!(
            coal.legal_basis(verified).unwrap(),
            "《煤矿重大事故隐患判定标准》（应急管理部令第4号）第八条（三）"
        );
        let fire = latest("fire").unwrap();
        let pending = fire.item("fire-7-3-8").unwrap();
        assert!(pending.needs_text_check() && !pending.verified());
        let basis = fire.legal_basis(pending).unwrap();
        assert!(basis.ends_with("7.3.8（条文待核）"), "{basis}");
    }

    #[test]
    fn subsector_groups_filter_the_non_coal_pack() {
        let ncm = latest("non-coal-mine").unwrap();
        let tailings: Vec<_> = ncm.groups_for(&[Subsector::TailingsPond]).collect();
        assert!(
            tailings
                .iter()
                .all(|g| g.subsector.is_none_or(|s| s == Subsector::TailingsPond))
        );
        assert!(tailings.iter().any(|g| g.common));
        assert!(tailings.len() < ncm.groups.len());
        assert_eq!(ncm.groups_for(&[]).count(), ncm.groups.len());
    }

    #[test]
    fn registry_lookup_by_version_and_latest() {
        let v1 = get("fire", 1).unwrap();
        assert_eq!(latest("fire").unwrap().version, v1.version);
        assert!(get("fire", 999).is_none());
        assert!(latest("nope").is_none());
        assert_eq!(v1.summary().item_count as usize, v1.items.len());
    }

    #[test]
    fn packs_serialize_back_to_an_equal_pack() {
        for p in all() {
            let json = serde_json::to_string(p).unwrap();
            let back: ChecklistPack = serde_json::from_str(&json).unwrap();
            assert_eq!(&back, p);
        }
    }
}
