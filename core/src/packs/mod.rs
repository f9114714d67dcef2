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
    // Version 1 (before statements and editions): kept for the inspections that used it.
    (
        "coal-underground.v1",
        include_str!("../../../checklists/coal-underground.v1.json"),
    ),
    (
        "coal-open-pit.v1",
        include_str!("../../../checklists/coal-open-pit.v1.json"),
    ),
    (
        "non-coal-mine.v1",
        include_str!("../../../checklists/non-coal-mine.v1.json"),
    ),
    (
        "hazardous-chemicals.v1",
        include_str!("../../../checklists/hazardous-chemicals.v1.json"),
    ),
    ("fire.v1", include_str!("../../../checklists/fire.v1.json")),
    (
        "urban-gas.v1",
        include_str!("../../../checklists/urban-gas.v1.json"),
    ),
    (
        "construction.v1",
        include_str!("../../../checklists/construction.v1.json"),
    ),
    (
        "industry-trade.v1",
        include_str!("../../../checklists/industry-trade.v1.json"),
    ),
    // The current versions.
    (
        "coal-underground",
        include_str!("../../../checklists/coal-underground.json"),
    ),
    (
        "coal-open-pit",
        include_str!("../../../checklists/coal-open-pit.json"),
    ),
    (
        "non-coal-mine",
        include_str!("../../../checklists/non-coal-mine.json"),
    ),
    (
        "hazardous-chemicals",
        include_str!("../../../checklists/hazardous-chemicals.json"),
    ),
    ("fire", include_str!("../../../checklists/fire.json")),
    (
        "urban-gas",
        include_str!("../../../checklists/urban-gas.json"),
    ),
    (
        "construction",
        include_str!("../../../checklists/construction.json"),
    ),
    (
        "industry-trade",
        include_str!("../../../checklists/industry-trade.json"),
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
    /// The editions this pack version cites, oldest first, each from the day it came into force.
    /// Empty in packs made before editions were recorded: then the one edition above
    /// (`doc_number`, `name`, `effective`) is the only one.
    #[serde(default)]
    pub editions: Vec<Edition>,
}

/// One edition of a standard and the day it came into force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Edition {
    /// Without book-title marks; an edition may rename the standard (GB 35181-2025 did).
    pub name: String,
    pub doc_number: String,
    pub effective: NaiveDate,
    /// The pack's clauses were checked against this edition's text. False for an edition in
    /// force whose text could not be found: findings then cite it with the clause numbers of
    /// the edition before it, marked 条文待核, and the notice says so.
    pub text_found: bool,
}

/// The clause a finding cites, as printed, and whether it carries 条文待核.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basis {
    pub text: String,
    pub unverified: bool,
}

impl StandardInfo {
    /// The editions, oldest first (see `editions`).
    pub fn all_editions(&self) -> Vec<Edition> {
        if self.editions.is_empty() {
            vec![Edition {
                name: self.name.clone(),
                doc_number: self.doc_number.clone(),
                effective: self.effective.unwrap_or(NaiveDate::MIN),
                text_found: true,
            }]
        } else {
            let mut editions = self.editions.clone();
            editions.sort_by_key(|e| e.effective);
            editions
        }
    }

    /// The edition in force on `day`: the latest that came into force on or before it (before
    /// the first edition, the first).
    pub fn edition_on(&self, day: NaiveDate) -> Edition {
        let editions = self.all_editions();
        let first = editions[0].clone();
        editions
            .into_iter()
            .rev()
            .find(|e| e.effective <= day)
            .unwrap_or(first)
    }

    /// The day this pack version starts to apply: its first edition's.
    pub fn applies_from(&self) -> NaiveDate {
        self.all_editions()[0].effective
    }

    /// What an inspector and a document must be told about the edition in force on `day`:
    /// that its text was not found and the clauses follow the older edition, or that a newer
    /// edition is in force than the one this pack holds. None when the pack is current.
    pub fn notice_on(&self, day: NaiveDate) -> Option<String> {
        let editions = self.all_editions();
        let current = self.edition_on(day);
        if !current.text_found {
            let basis = editions
                .iter()
                .rev()
                .find(|e| e.text_found && e.effective <= current.effective)
                .map(|e| e.doc_number.clone())
                .unwrap_or_default();
            return Some(format!(
                "{}已于{}施行，其条文尚未核对：条款序号沿用{}，引用时标注{}。",
                current.doc_number,
                crate::time::document_day(current.effective),
                basis,
                PENDING_CHECK_MARK
            ));
        }
        self.newer_edition_note.clone()
    }
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
    /// Shown only to a site that declares `subsector`, never by default: an enterprise that
    /// declared no subtype sees every other group but not this one (烟花爆竹 in the
    /// hazardous-chemicals pack: a chemical plant is not asked about fireworks).
    #[serde(default)]
    pub only_if_declared: bool,
    /// The standard this group's items cite when it is not the pack's (the fireworks standard
    /// issued with 安监总管三〔2017〕121号 in the hazardous-chemicals pack). None: the pack's.
    #[serde(default)]
    pub standard: Option<StandardInfo>,
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
    /// The 隐患描述 a finding made from this item starts with: the violation stated, never a
    /// question. Empty only in packs made before statements existed.
    #[serde(default)]
    pub statement: String,
    /// Where the clause's text was checked (a public copy), if it was.
    #[serde(default)]
    pub source: Option<String>,
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
    /// with no subtypes given, every group does except those `only_if_declared`).
    pub fn groups_for<'a>(
        &'a self,
        subsectors: &'a [Subsector],
    ) -> impl Iterator<Item = &'a ChecklistGroup> + 'a {
        self.groups.iter().filter(move |g| match g.subsector {
            None => true,
            Some(s) if g.only_if_declared => subsectors.contains(&s),
            Some(s) => subsectors.is_empty() || subsectors.contains(&s),
        })
    }

    /// The standard `item` cites: its group's own, else the pack's.
    pub fn standard_for(&self, item: &ChecklistItem) -> &StandardInfo {
        self.group(&item.group)
            .and_then(|g| g.standard.as_ref())
            .unwrap_or(&self.standard)
    }

    /// The legal basis a finding made from `item` on `day` cites: `《标准》（文号）第八条（三）`
    /// of the edition in force that day of the item's standard (`standard_for`), with 条文待核
    /// when the clause is not verified or that edition's text was not found (then the clause
    /// number is the older edition's, and the mark says so). None for 通用要点.
    pub fn legal_basis_on(&self, item: &ChecklistItem, day: NaiveDate) -> Option<Basis> {
        let clause = item.clause.as_deref()?;
        let clause = clause.trim_end_matches('?');
        let standard = self.standard_for(item);
        let edition = standard.edition_on(day);
        let mut text = format!("《{}》（{}）{}", edition.name, edition.doc_number, clause);
        let unverified = item.needs_text_check() || !edition.text_found;
        if !edition.text_found {
            let older = standard
                .all_editions()
                .into_iter()
                .rev()
                .find(|e| e.text_found && e.effective <= edition.effective)
                .map(|e| e.doc_number)
                .unwrap_or_default();
            text.push_str(&format!(
                "（{PENDING_CHECK_MARK}：{}条文未核对，条款序号沿用{older}）",
                edition.doc_number
            ));
        } else if item.needs_text_check() {
            text.push('（');
            text.push_str(PENDING_CHECK_MARK);
            text.push('）');
        }
        Some(Basis { text, unverified })
    }

    /// The legal basis as the item's standard first cites it (the first edition the pack holds).
    pub fn legal_basis(&self, item: &ChecklistItem) -> Option<String> {
        self.legal_basis_on(item, self.standard_for(item).applies_from())
            .map(|b| b.text)
    }

    /// The 隐患描述 a finding made from `item` starts with (empty for an old pack without
    /// statements: the inspector writes it, rather than a question being printed).
    pub fn statement(&self, item: &ChecklistItem) -> String {
        item.statement.clone()
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
    let mut seen = HashSet::new();
    all()
        .iter()
        .filter(|p| seen.insert(p.id.as_str()))
        .filter_map(|p| latest(p.id.as_str()))
        .collect()
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

/// The version of pack `id` a new inspection on `day` uses: the newest version that applies on
/// that day (its first edition in force), else the oldest version.
pub fn in_force_in<'a>(
    packs: &'a [ChecklistPack],
    id: &str,
    day: NaiveDate,
) -> Option<&'a ChecklistPack> {
    let versions = || packs.iter().filter(move |p| p.id.as_str() == id);
    versions()
        .filter(|p| p.standard.applies_from() <= day)
        .max_by_key(|p| p.version)
        .or_else(|| versions().min_by_key(|p| p.version))
}

/// Every pack id of a registry, each at the version in force on `day`.
pub fn in_force_all_in(packs: &[ChecklistPack], day: NaiveDate) -> Vec<&ChecklistPack> {
    let mut seen = HashSet::new();
    packs
        .iter()
        .filter(|p| seen.insert(p.id.as_str()))
        .filter_map(|p| in_force_in(packs, p.id.as_str(), day))
        .collect()
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
mod tests;
